//! Running statements: results streaming in, runs of several statements, cancelling, errors, parameters.

use super::*;

#[test]
fn ctrl_j_runs_the_statement_under_the_cursor() {
    let mut s = state();
    type_text(&mut s, "SELECT 1;\nSELECT 2");
    let fx = update(&mut s, ctrl('j'));
    let r = runs(&fx);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].1, "SELECT 2");
    assert_eq!(s.tab().results.len(), 1);
    assert!(s.tab().results[0].state.is_active());
    assert_eq!(s.active_jobs(), 1);
}

#[test]
fn nothing_to_run_is_said() {
    let mut s = state();
    let fx = update(&mut s, key(KeyCode::F(5), KeyModifiers::NONE));
    assert!(runs(&fx).is_empty());
    assert!(s.flash.as_ref().is_some_and(|f| f.error));
}

#[test]
fn batches_stream_into_the_result_and_stale_events_are_dropped() {
    let mut s = state();
    type_text(&mut s, "SELECT * FROM t");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    let b = batch(5);
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Schema(b.schema()))),
    );
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Batch(b.clone()))),
    );
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Batch(b.clone()))),
    );
    assert_eq!(s.tab().results[0].loaded_rows(), 10);
    finish(&mut s, job, ok());
    assert!(matches!(
        s.tab().results[0].state,
        RunState::Succeeded { .. }
    ));
    assert_eq!(s.tab().results[0].elapsed, Some(Duration::from_millis(42)));
    // A late event of the finished job, and one of a job that never existed, change nothing.
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Batch(b.clone()))),
    );
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(9999, JobEvent::Batch(b))),
    );
    finish(&mut s, 9999, JobOutcome::Failed("x".into()));
    assert_eq!(s.tab().results[0].loaded_rows(), 10);
    assert!(matches!(
        s.tab().results[0].state,
        RunState::Succeeded { .. }
    ));
}

#[test]
fn events_of_a_closed_tab_are_dropped() {
    let mut s = state();
    update(&mut s, ctrl('n'));
    type_text(&mut s, "SELECT 1");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    let fx = update(&mut s, ctrl('w'));
    // The tab had text: a confirmation first.
    assert!(matches!(s.popup, Some(Popup::ConfirmCloseTab)));
    assert!(fx.is_empty());
    let fx = update(&mut s, key(KeyCode::Char('y'), KeyModifiers::NONE));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { job: j }) if *j == job))
    );
    assert_eq!(s.tabs.len(), 1);
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Batch(batch(3)))),
    );
    finish(&mut s, job, ok());
    assert!(s.tabs.iter().all(|t| t.results.is_empty()));
}

#[test]
fn ctrl_c_cancels_on_the_server_or_copies() {
    let mut s = state();
    type_text(&mut s, "SELECT 1");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    let fx = update(&mut s, ctrl('c'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { job: j }) if *j == job))
    );
    assert_eq!(
        s.flash.as_ref().map(|f| f.text.as_str()),
        Some("cancelling…")
    );
    finish(&mut s, job, JobOutcome::Cancelled);
    assert_eq!(s.tab().results[0].state, RunState::Cancelled);
    // The status bar no longer says a cancel is under way.
    assert_eq!(s.flash.as_ref().map(|f| f.text.as_str()), Some("cancelled"));
    // No job runs now: Ctrl-C in the editor copies instead of cancelling.
    let fx = update(&mut s, ctrl('c'));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { .. })))
    );
}

#[test]
fn run_all_runs_in_order_and_skips_after_a_failure() {
    let mut s = state();
    type_text(&mut s, "SELECT 1; SELECT 2; SELECT 3;");
    let fx = update(&mut s, key(KeyCode::F(6), KeyModifiers::NONE));
    let first = runs(&fx);
    assert_eq!(first.len(), 1, "one at a time");
    assert_eq!(first[0].1, "SELECT 1");
    assert_eq!(s.tab().results.len(), 3);
    let second = runs(&finish(&mut s, first[0].0, ok()));
    assert_eq!(second[0].1, "SELECT 2");
    let fx = finish(
        &mut s,
        second[0].0,
        JobOutcome::Failed("boom: table \x1b[31mnot found".into()),
    );
    assert!(runs(&fx).is_empty());
    let states: Vec<&RunState> = s.tab().results.iter().map(|r| &r.state).collect();
    assert!(matches!(states[1], RunState::Failed { error } if error.contains("boom")));
    assert_eq!(states[2], &RunState::Skipped);
    assert_eq!(s.active_jobs(), 0);
}

#[test]
fn failed_query_shows_its_error_in_the_result() {
    let mut s = state();
    type_text(&mut s, "SELEC 1");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    finish(
        &mut s,
        job,
        JobOutcome::Failed("SQL error: ParserError(\"Expected: an SQL statement\")".into()),
    );
    assert!(
        matches!(&s.tab().results[0].state, RunState::Failed { error } if error.contains("ParserError"))
    );
}

#[test]
fn columns_widen_for_rows_that_arrive_later() {
    let mut s = state();
    type_text(&mut s, "SELECT * FROM t");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    deliver(&mut s, job, batch(3));
    let before = s.tab().results[0].grid.widths[0];
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Batch(batch(200_000)))),
    );
    finish(&mut s, job, ok());
    let after = s.tab().results[0].grid.widths[0];
    assert!(
        after >= "199999".len() && after > before,
        "{before} -> {after}"
    );
}

#[test]
fn a_wider_schema_mid_stream_keeps_the_rows_loaded_so_far() {
    let mut s = state();
    type_text(&mut s, "SELECT 1");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    deliver(&mut s, job, batch(3));
    // `id` becomes text and a new column appears, as DynamoDB pages can make it.
    let wider = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("extra", DataType::Utf8, true),
    ]));
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Schema(wider))),
    );
    let r = s.tab().active_result().unwrap();
    let rows = r.rows.as_ref().unwrap();
    assert_eq!((rows.num_rows(), rows.num_columns()), (3, 3));
    assert_eq!(rows.cell(2, 0).text, "2");
    assert_eq!(rows.cell(0, 2).kind, crate::results::CellKind::Null);
    assert_eq!(r.grid.widths.len(), 3);
}

#[test]
fn a_failed_statement_puts_the_cursor_where_the_server_placed_the_error() {
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    type_text(&mut s, "SELECT 1;\n\nSELECT id\n  FRM t");
    let fx = update(&mut s, ctrl('j'));
    let job = runs(&fx)[0].0;
    finish(
        &mut s,
        job,
        JobOutcome::Failed(
            "ERROR: syntax error at or near \"FRM\" (SQLSTATE 42601)\nat line 2, column 3:   FRM t"
                .into(),
        ),
    );
    assert_eq!(s.tab().cursor(), (3, 2));
}

#[test]
fn a_password_prompt_sets_the_password_and_runs_the_statement_again() {
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    type_text(&mut s, "SELECT 1");
    let fx = update(&mut s, ctrl('j'));
    let job = runs(&fx)[0].0;
    update(
        &mut s,
        Msg::Worker(WorkerEvent::PasswordNeeded {
            job,
            connection: "pg".into(),
        }),
    );
    finish(&mut s, job, JobOutcome::Failed("needs a password".into()));
    assert!(matches!(s.popup, Some(Popup::Password { .. })));
    type_text(&mut s, "s3");
    update(&mut s, Msg::Paste("cret\n".into()));
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::SetPassword { connection, password }) if connection == "pg" && password == "s3cret"
    )));
    assert_eq!(runs(&fx).len(), 1, "the statement runs again");
    assert_eq!(runs(&fx)[0].1, "SELECT 1");
    assert!(s.popup.is_none());
}

#[test]
fn question_marks_ask_for_values_and_go_as_parameters() {
    let mut s = athena_state();
    type_text(&mut s, "SELECT * FROM t WHERE id = ? AND name = ?");
    let fx = update(&mut s, ctrl('j'));
    assert!(
        runs(&fx).is_empty(),
        "nothing runs before the values are given"
    );
    assert!(matches!(&s.popup, Some(Popup::Params(f)) if f.fields.len() == 2));
    type_text(&mut s, "42");
    update(&mut s, key(KeyCode::Tab, KeyModifiers::NONE));
    type_text(&mut s, "'bob'");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let req = &requests(&fx)[0];
    assert_eq!(req.params, vec!["42".to_string(), "'bob'".into()]);
    assert!(req.sql.contains("id = ?"), "the text is sent unchanged");
    // The next run of the same statement offers the same values; Esc runs nothing.
    update(&mut s, ctrl('j'));
    assert!(
        matches!(&s.popup, Some(Popup::Params(f)) if f.fields[1].value == "'bob'"),
        "{:?}",
        s.popup
    );
    let fx = update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert!(runs(&fx).is_empty() && s.popup.is_none());
}

#[test]
fn the_local_engine_never_asks_for_parameters() {
    let mut s = state();
    type_text(&mut s, "SELECT '?' AS q, 1 WHERE 1 = ?");
    let fx = update(&mut s, ctrl('j'));
    assert_eq!(runs(&fx).len(), 1);
    assert!(s.popup.is_none());
}

#[test]
fn an_empty_parameter_keeps_the_form_open_on_that_field() {
    let mut s = athena_state();
    type_text(&mut s, "SELECT ?, ?");
    update(&mut s, ctrl('j'));
    type_text(&mut s, "1");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(runs(&fx).is_empty());
    assert!(matches!(&s.popup, Some(Popup::Params(f)) if f.focus == 1));
}
