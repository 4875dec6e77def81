//! Exports and copies of rows and ranges.

use super::*;

#[test]
fn tab_in_the_export_path_is_completed_by_the_worker() {
    let (mut s, _) = with_result(5);
    update(&mut s, ctrl('e'));
    let path = |s: &State| match &s.popup {
        Some(Popup::Export(form)) => form.path.clone(),
        other => panic!("the export form closed: {other:?}"),
    };
    let typed = path(&s);
    // The app reads no directory: it asks the worker.
    let fx = update(&mut s, key(KeyCode::Tab, KeyModifiers::NONE));
    assert!(
        matches!(&fx[..], [Effect::Worker(WorkerCmd::CompletePath { typed: t })] if *t == typed),
        "{fx:?}"
    );
    let answer = |typed: &str, completed: &str| {
        Msg::Worker(WorkerEvent::PathCompleted {
            typed: typed.into(),
            completed: completed.into(),
        })
    };
    update(&mut s, answer(&typed, "reports/"));
    assert_eq!(path(&s), "reports/");
    // An answer for text the user has typed past is dropped.
    update(&mut s, key(KeyCode::Char('x'), KeyModifiers::NONE));
    update(&mut s, answer("reports/", "reports/2024/"));
    assert_eq!(path(&s), "reports/x");
}

#[test]
fn ctrl_e_exports_in_the_background_and_asks_before_replacing_a_file() {
    let (mut s, _) = with_result(5);
    update(&mut s, ctrl('e'));
    assert!(matches!(s.popup, Some(Popup::Export(_))));
    // Format: Parquet (two steps left from CSV wraps to Arrow, then Parquet).
    update(&mut s, key(KeyCode::Up, KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Up, KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Up, KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Left, KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Left, KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let (id, format, pick, target, rest) = export_cmd(&fx).expect("an export");
    assert_eq!(format, crate::export::Format::Parquet);
    assert_eq!(pick, RowPick::default(), "the whole result");
    assert!(!rest, "everything is loaded");
    let ExportTarget::File { path, overwrite } = target else {
        panic!("a file");
    };
    assert!(path.to_string_lossy().ends_with(".parquet"), "{path:?}");
    assert_eq!(overwrite, crate::export::Overwrite::Refuse);

    update(
        &mut s,
        Msg::Worker(WorkerEvent::ExportProgress {
            id,
            rows: 3,
            bytes: 100,
        }),
    );
    assert_eq!(s.export.as_ref().map(|e| e.rows), Some(3));
    // Ctrl-E while it runs offers to cancel it.
    update(&mut s, ctrl('e'));
    assert!(matches!(s.popup, Some(Popup::ConfirmCancelExport)));
    update(&mut s, key(KeyCode::Char('n'), KeyModifiers::NONE));
    update(
        &mut s,
        Msg::Worker(WorkerEvent::ExportDone {
            id,
            outcome: Err(crate::protocol::ExportFailure::Exists(path.clone())),
        }),
    );
    assert!(matches!(s.popup, Some(Popup::ConfirmOverwrite(_))));
    let fx = update(&mut s, key(KeyCode::Char('y'), KeyModifiers::NONE));
    let (id, _, _, target, _) = export_cmd(&fx).expect("again, replacing");
    assert!(matches!(
        target,
        ExportTarget::File {
            overwrite: crate::export::Overwrite::Replace,
            ..
        }
    ));
    update(&mut s, ctrl('e'));
    let fx = update(&mut s, key(KeyCode::Char('y'), KeyModifiers::NONE));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { job }) if *job == id))
    );
    update(
        &mut s,
        Msg::Worker(WorkerEvent::ExportDone {
            id,
            outcome: Err(crate::protocol::ExportFailure::Cancelled),
        }),
    );
    assert!(s.export.is_none());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("cancelled"))
    );
}

#[test]
fn v_selects_a_range_and_y_copies_it_as_tsv_with_its_header() {
    let (mut s, _) = with_result(10);
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Char('v'), KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Char('l'), KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Char('y'), KeyModifiers::NONE));
    let (id, format, pick, target, _) = export_cmd(&fx).expect("a copy through the export");
    assert_eq!(format, crate::export::Format::Tsv);
    assert_eq!(target, ExportTarget::Clipboard);
    assert_eq!(pick.rows, Some(vec![1, 2, 3]));
    assert_eq!(pick.columns, Some(vec![0, 1]));
    assert!(s.tab().active_result().unwrap().grid.anchor.is_none());
    let fx = update(
        &mut s,
        Msg::Worker(WorkerEvent::ExportDone {
            id,
            outcome: Ok(crate::protocol::ExportOutcome {
                rows: 3,
                bytes: 20,
                clipboard: Some("id\tname\n".into()),
            }),
        }),
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CopyToClipboard(t) if t == "id\tname\n"))
    );
    // Y: the current row, every column.
    let fx = update(&mut s, key(KeyCode::Char('Y'), KeyModifiers::SHIFT));
    let (_, _, pick, _, _) = export_cmd(&fx).expect("a row copy");
    assert_eq!(pick.rows, Some(vec![3]));
    assert_eq!(pick.columns, None);
}

#[test]
fn a_whole_export_of_a_paused_dynamodb_result_fetches_the_rest() {
    let mut s = dynamo_state();
    type_text(&mut s, "SELECT * FROM \"t\"");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    deliver(&mut s, job, batch(3));
    finish(
        &mut s,
        job,
        JobOutcome::Succeeded(JobSummary {
            rows: 3,
            resume: Some("token-1".into()),
            ..JobSummary::default()
        }),
    );
    update(&mut s, ctrl('e'));
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let rest = fx.iter().find_map(|e| match e {
        Effect::Worker(WorkerCmd::Export { rest, .. }) => rest.clone(),
        _ => None,
    });
    let (connection, request) = rest.expect("the rest is fetched");
    assert_eq!(connection, "ddb");
    assert_eq!(request.resume.as_deref(), Some("token-1"));
    assert_eq!(request.limit, None, "to the end");
}

#[test]
fn a_result_stops_loading_at_the_row_cap_and_the_whole_export_fetches_it_again() {
    let mut init = StateInit::first_start(Rect::new(0, 0, 120, 40), Instant::now());
    init.max_loaded_rows = 5;
    let mut s = State::new(init);
    type_text(&mut s, "SELECT * FROM t");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Schema(batch(1).schema()))),
    );
    let fx = update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Batch(batch(8)))),
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { job: j }) if *j == job))
    );
    assert_eq!(s.tab().active_result().unwrap().loaded_rows(), 5);
    finish(&mut s, job, JobOutcome::Cancelled);
    let r = s.tab().active_result().unwrap();
    assert!(
        matches!(&r.state, RunState::Succeeded { message: Some(m) } if m.contains("max_loaded_rows")),
        "{:?}",
        r.state
    );
    update(&mut s, ctrl('e'));
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let (pick, rest) = fx
        .iter()
        .find_map(|e| match e {
            Effect::Worker(WorkerCmd::Export { pick, rest, .. }) => {
                Some((pick.clone(), rest.clone()))
            }
            _ => None,
        })
        .expect("an export");
    assert_eq!(pick.rows, Some(Vec::new()), "none of the loaded rows");
    let (connection, request) = rest.expect("the whole result again");
    assert_eq!(connection, "local");
    assert_eq!(request.sql, "SELECT * FROM t");
    assert_eq!(request.reopen, None, "the embedded engine runs it again");
}
