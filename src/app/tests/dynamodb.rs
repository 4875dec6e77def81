//! DynamoDB runs: batches, transactions, paging with a per-tab limit.

use super::*;

#[test]
fn run_all_on_dynamodb_is_one_batch_and_ends_with_a_summary() {
    let mut s = dynamo_state();
    type_text(
        &mut s,
        "INSERT INTO \"t\" VALUE {'pk': 'a'};\nSELECT * FROM \"t\" WHERE pk = ?",
    );
    update(&mut s, key(KeyCode::F(6), KeyModifiers::NONE));
    // The `?` asks first (JSON values for DynamoDB).
    assert!(matches!(&s.popup, Some(Popup::Params(f)) if f.syntax == params::ValueSyntax::Json));
    type_text(&mut s, "\"a\"");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let (jobs, mode, requests) = fx
        .iter()
        .find_map(|e| match e {
            Effect::Worker(WorkerCmd::RunGroup {
                jobs,
                mode,
                requests,
                ..
            }) => Some((jobs.clone(), *mode, requests.clone())),
            _ => None,
        })
        .expect("one group run");
    assert_eq!(mode, crate::model::job::GroupMode::Batch);
    assert_eq!(requests[1].params, vec!["\"a\"".to_string()]);
    assert_eq!(s.active_jobs(), 2, "both statements run at once");
    finish(&mut s, jobs[0], ok());
    assert!(s.flash.is_none(), "no summary before the last one ends");
    finish(
        &mut s,
        jobs[1],
        JobOutcome::Failed("DuplicateItem: exists".into()),
    );
    let flash = s.flash.clone().expect("a summary");
    assert_eq!(flash.text, "batch: 1 succeeded, 1 failed");
    assert!(flash.error);
}

#[test]
fn f7_runs_a_transaction_on_dynamodb_only() {
    let mut s = dynamo_state();
    type_text(&mut s, "DELETE FROM \"t\" WHERE pk = 'a'");
    let fx = update(&mut s, key(KeyCode::F(7), KeyModifiers::NONE));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::RunGroup {
            mode: crate::model::job::GroupMode::Transaction,
            ..
        })
    )));
    let mut local = state();
    type_text(&mut local, "SELECT 1");
    let fx = update(&mut local, key(KeyCode::F(7), KeyModifiers::NONE));
    assert!(fx.is_empty() && local.flash.as_ref().is_some_and(|f| f.error));
}

#[test]
fn load_more_goes_on_from_where_a_paused_result_stopped() {
    let mut s = dynamo_state();
    update(&mut s, key(KeyCode::Char('c'), KeyModifiers::ALT));
    assert_eq!(s.tab().consistent_read, Some(true));
    type_text(&mut s, "SELECT * FROM \"t\"");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    deliver(&mut s, job, batch(3));
    let paused = JobSummary {
        rows: 3,
        resume: Some("token-1".into()),
        ..JobSummary::default()
    };
    finish(&mut s, job, JobOutcome::Succeeded(paused));
    update(&mut s, key(KeyCode::Char('3'), KeyModifiers::ALT));
    let fx = update(&mut s, key(KeyCode::Char('m'), KeyModifiers::NONE));
    let req = &requests(&fx)[0];
    assert_eq!(req.resume.as_deref(), Some("token-1"));
    assert_eq!(req.consistent_read, Some(true));
    // The rows already loaded stay while the next page comes.
    assert_eq!(s.tab().active_result().unwrap().loaded_rows(), 3);
    // Nothing more once a run ends without a token.
    let job2 = s.tab().active_result().unwrap().job.unwrap();
    finish(&mut s, job2, ok());
    let fx = update(&mut s, key(KeyCode::Char('m'), KeyModifiers::NONE));
    assert!(requests(&fx).is_empty());
}

#[test]
fn a_tab_limit_goes_with_its_dynamodb_runs() {
    let mut s = dynamo_state();
    update(&mut s, key(KeyCode::Char('l'), KeyModifiers::ALT));
    type_text(&mut s, "25");
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(s.tab().limit, Some(25));
    type_text(&mut s, "SELECT * FROM \"t\"");
    let fx = update(&mut s, ctrl('j'));
    assert_eq!(requests(&fx)[0].limit, Some(25));
    update(&mut s, key(KeyCode::Char('l'), KeyModifiers::ALT));
    type_text(&mut s, "x");
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(s.flash.as_ref().is_some_and(|f| f.error));
}

#[test]
fn a_resumed_run_with_other_columns_keeps_every_column_aligned() {
    let mut s = dynamo_state();
    type_text(&mut s, "SELECT * FROM \"t\"");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    deliver(&mut s, job, batch(2)); // id Int64, name Utf8
    let paused = JobSummary {
        rows: 2,
        resume: Some("t1".into()),
        ..JobSummary::default()
    };
    finish(&mut s, job, JobOutcome::Succeeded(paused));
    update(&mut s, key(KeyCode::Char('3'), KeyModifiers::ALT));
    update(&mut s, key(KeyCode::Char('m'), KeyModifiers::NONE));
    let job2 = s.tab().active_result().unwrap().job.unwrap();
    // The next page describes `extra` and `id`, but not `name`, and `id` as text.
    let schema = Arc::new(Schema::new(vec![
        Field::new("extra", DataType::Utf8, true),
        Field::new("id", DataType::Utf8, true),
    ]));
    let b = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["e"])),
            Arc::new(StringArray::from(vec!["x9"])),
        ],
    )
    .unwrap();
    deliver(&mut s, job2, b);
    let r = s.tab().active_result().unwrap();
    assert!(!matches!(r.state, RunState::Failed { .. }), "{:?}", r.state);
    let rows = r.rows.as_ref().unwrap();
    let names: Vec<_> = (0..rows.num_columns())
        .map(|c| rows.column_name(c).to_string())
        .collect();
    assert_eq!(names, vec!["id", "name", "extra"]);
    assert_eq!(rows.cell(1, 0).text, "1");
    assert_eq!(rows.cell(1, 1).text, "n1");
    assert_eq!(rows.cell(2, 0).text, "x9");
    assert_eq!(rows.cell(2, 1).kind, crate::results::CellKind::Null);
    assert_eq!(rows.cell(2, 2).text, "e");
}
