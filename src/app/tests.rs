//! Reducer tests: feed messages, assert state and effects.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::StringArray;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use super::results::RunState;
use super::*;
use crate::model::catalog::{CatalogNode, NodeKind};
use crate::model::job::{JobEvent, JobSummary};
use crate::protocol::{ExportTarget, RowPick};
use crate::protocol::{JobOutcome, WorkerCmd, WorkerEvent};

pub(crate) fn state() -> State {
    State::new(StateInit::first_start(
        Rect::new(0, 0, 120, 40),
        Instant::now(),
    ))
}

pub(crate) fn key(code: KeyCode, m: KeyModifiers) -> Msg {
    Msg::Key(KeyEvent::new(code, m))
}

pub(crate) fn ctrl(c: char) -> Msg {
    key(KeyCode::Char(c), KeyModifiers::CONTROL)
}

pub(crate) fn type_text(s: &mut State, text: &str) {
    for c in text.chars() {
        let msg = if c == '\n' {
            key(KeyCode::Enter, KeyModifiers::NONE)
        } else {
            key(KeyCode::Char(c), KeyModifiers::NONE)
        };
        update(s, msg);
    }
}

pub(crate) fn runs(fx: &[Effect]) -> Vec<(u64, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Worker(WorkerCmd::Run { job, request, .. }) => {
                Some((*job, request.sql.clone()))
            }
            _ => None,
        })
        .collect()
}

pub(crate) use crate::results::fixtures::batch;

/// Delivers a result's schema and one batch for `job`, as the worker would.
pub(crate) fn deliver(s: &mut State, job: u64, b: RecordBatch) {
    update(
        s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Schema(b.schema()))),
    );
    update(s, Msg::Worker(WorkerEvent::Job(job, JobEvent::Batch(b))));
}

pub(crate) fn finish(s: &mut State, job: u64, outcome: JobOutcome) -> Vec<Effect> {
    update(
        s,
        Msg::Worker(WorkerEvent::JobFinished {
            job,
            outcome,
            elapsed: Duration::from_millis(42),
        }),
    )
}

pub(crate) fn ok() -> JobOutcome {
    JobOutcome::Succeeded(JobSummary::default())
}

fn with_result(rows: i64) -> (State, u64) {
    let mut s = state();
    type_text(&mut s, "SELECT * FROM t");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    deliver(&mut s, job, batch(rows));
    finish(&mut s, job, ok());
    update(&mut s, key(KeyCode::Char('3'), KeyModifiers::ALT));
    assert_eq!(s.focus, Focus::Results);
    (s, job)
}

#[test]
fn help_lists_live_bindings_and_typing_question_mark_in_the_editor_types() {
    let mut s = state();
    type_text(&mut s, "?");
    assert!(s.popup.is_none());
    assert_eq!(s.tab().contents(), "?");
    update(&mut s, key(KeyCode::F(1), KeyModifiers::NONE));
    assert!(matches!(s.popup, Some(Popup::Help { .. })));
}

/// A state whose first tab is on connection `name` of `kind`, with `local` next to it.
pub(crate) fn state_on(name: &str, kind: ConnectionKind, sessions: bool) -> State {
    let mut init = StateInit::first_start(Rect::new(0, 0, 120, 40), Instant::now());
    init.connections.insert(
        0,
        ConnectionInfo {
            name: name.into(),
            kind,
            detail: String::new(),
            result_reuse: false,
            sessions,
            broken: None,
        },
    );
    State::new(init)
}

/// A state whose first tab is on an Athena connection (`ath`), with `local` next to it.
fn athena_state() -> State {
    state_on("ath", ConnectionKind::Athena, false)
}

pub(crate) fn requests(fx: &[Effect]) -> Vec<crate::model::job::QueryRequest> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Worker(WorkerCmd::Run { request, .. }) => Some(request.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn athena_complex_values_are_inspected_as_json() {
    let mut s = state();
    type_text(&mut s, "SELECT m");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    let meta = [(
        crate::model::metadata::ATHENA_TYPE.to_string(),
        "map".to_string(),
    )];
    let field = Field::new("m", DataType::Utf8, true).with_metadata(meta.into());
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(vec![field])),
        vec![Arc::new(StringArray::from(vec!["{k=v, n=1}"]))],
    )
    .unwrap();
    deliver(&mut s, job, b);
    update(&mut s, key(KeyCode::Char('3'), KeyModifiers::ALT));
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let text = inspector::serve(&mut s, &fx).to_text();
    assert!(
        text.contains("\"k\": \"v\"") && text.contains("\"n\": 1"),
        "{text}"
    );
}

#[test]
fn choosing_another_connection_forgets_the_athena_workgroup() {
    let mut s = athena_state();
    s.tab_mut().workgroup = Some("analysts".into());
    s.tab_mut().result_reuse = Some(true);
    update(&mut s, key(KeyCode::F(4), KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Down, KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(s.tab().connection, "local");
    assert_eq!(s.tab().workgroup, None);
    assert_eq!(s.tab().result_reuse, None);
}

fn dynamo_state() -> State {
    state_on("ddb", ConnectionKind::Dynamodb, false)
}

fn group_run(
    fx: &[Effect],
) -> Option<(
    Vec<u64>,
    crate::model::job::GroupMode,
    Vec<crate::model::job::QueryRequest>,
)> {
    fx.iter().find_map(|e| match e {
        Effect::Worker(WorkerCmd::RunGroup {
            jobs,
            mode,
            requests,
            ..
        }) => Some((jobs.clone(), *mode, requests.clone())),
        _ => None,
    })
}

fn export_cmd(fx: &[Effect]) -> Option<(u64, crate::export::Format, RowPick, ExportTarget, bool)> {
    fx.iter().find_map(|e| match e {
        Effect::Worker(WorkerCmd::Export {
            id,
            format,
            pick,
            target,
            rest,
            ..
        }) => Some((*id, *format, pick.clone(), target.clone(), rest.is_some())),
        _ => None,
    })
}

fn history_entry(
    connection: &str,
    sql: &str,
    server_id: Option<&str>,
) -> crate::store::history::Entry {
    let line = serde_json::json!({
        "v": 1, "id": "x", "event": "start", "time": "2026-11-22T08:00:00.000Z",
        "pid": 1, "connection": connection, "sql": sql, "params": 0
    });
    let end = serde_json::json!({
        "v": 1, "id": "x", "event": "end", "time": "2026-11-22T08:00:01.000Z",
        "status": "succeeded", "server_id": server_id
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.jsonl");
    std::fs::write(&path, format!("{line}\n{end}\n")).unwrap();
    let history = crate::store::history::History::open(&path, Default::default()).unwrap();
    history.entries().unwrap().remove(0)
}

/// Runs `sql` in the active tab and reports `tx` for it, as a direct connection would.
fn run_with_transaction(s: &mut State, sql: &str, tx: crate::model::job::TransactionState) {
    type_text(s, sql);
    let fx = update(s, ctrl('j'));
    let job = runs(&fx)[0].0;
    update(
        s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Transaction(tx))),
    );
    finish(s, job, ok());
}

#[test]
fn the_monitor_lists_running_jobs_first_and_acts_on_the_selected_one() {
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    type_text(&mut s, "SELECT 1");
    let fx = update(&mut s, ctrl('j'));
    let first = runs(&fx)[0].0;
    let mut stats = crate::model::job::JobStats {
        server_id: Some("qid-1".into()),
        ..Default::default()
    };
    stats.bytes_scanned = Some(2_000_000);
    finish(
        &mut s,
        first,
        JobOutcome::Succeeded(JobSummary {
            stats,
            ..JobSummary::default()
        }),
    );
    let fx = update(&mut s, ctrl('j'));
    let second = runs(&fx)[0].0;
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(
            second,
            JobEvent::Transaction(crate::model::job::TransactionState::Open),
        )),
    );

    update(&mut s, key(KeyCode::F(9), KeyModifiers::NONE));
    assert!(matches!(s.popup, Some(Popup::Monitor { selected: 0, .. })));
    let entries = monitor::entries(&s);
    let states: Vec<&str> = entries.iter().map(|e| e.state.as_str()).collect();
    assert_eq!(states, ["RUNNING", "OPEN", "SUCCEEDED"], "{entries:?}");
    assert!(entries[2].figures.contains("2.0 MB scanned"), "{entries:?}");

    // c on the running job cancels it on the worker.
    let fx = update(&mut s, key(KeyCode::Char('c'), KeyModifiers::NONE));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { job }) if *job == second)),
        "{fx:?}"
    );
    // y on the finished one copies its server id; Enter shows it.
    update(&mut s, key(KeyCode::Down, KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Down, KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Char('y'), KeyModifiers::NONE));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CopyToClipboard(t) if t == "qid-1"))
    );
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(s.popup.is_none());
    assert_eq!(s.focus, Focus::Results);
    assert_eq!(
        s.tab().active_result().map(|r| r.sql.as_str()),
        Some("SELECT 1")
    );

    // r runs it again.
    update(&mut s, key(KeyCode::F(9), KeyModifiers::NONE));
    let last = monitor::entries(&s).len() - 1;
    for _ in 0..last {
        update(&mut s, key(KeyCode::Down, KeyModifiers::NONE));
    }
    let fx = update(&mut s, key(KeyCode::Char('r'), KeyModifiers::NONE));
    assert_eq!(
        runs(&fx).iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        ["SELECT 1"]
    );
}

#[test]
fn the_monitor_ends_sessions_and_transactions() {
    let mut s = state_on("rd", ConnectionKind::RedshiftData, true);
    s.tab_mut().session = Some(crate::app::editor::TabSession {
        id: "0123456789abcdef".into(),
        keep_alive: Duration::from_secs(600),
        since: s.now,
    });
    update(&mut s, key(KeyCode::F(9), KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Char('c'), KeyModifiers::NONE));
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Worker(WorkerCmd::EndSession { connection, .. }) if connection == "rd")));
    assert!(s.tab().session.is_none());

    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    s.tab_mut().transaction = Some(crate::app::editor::TabTransaction {
        since: s.now,
        failed: false,
    });
    update(&mut s, key(KeyCode::F(9), KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Char('c'), KeyModifiers::NONE));
    assert!(matches!(
        s.popup,
        Some(Popup::ConfirmTransactions {
            then: AfterTransactions::Stay,
            ..
        })
    ));
    let fx = update(&mut s, key(KeyCode::Char('r'), KeyModifiers::NONE));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndTransaction { commit: false, .. })
    )));
    let key_of_tab = s.tab().session_key();
    let fx = update(
        &mut s,
        Msg::Worker(WorkerEvent::TransactionEnded {
            key: key_of_tab,
            outcome: Ok("rolled back".into()),
        }),
    );
    assert!(s.tab().transaction.is_none());
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Quit)),
        "nothing more happens"
    );
}

mod browser;
mod completion;
mod dynamodb;
mod export;
mod grid;
pub(crate) mod inspector;
mod popups;
mod quitting;
mod redshift_data;
mod run;
mod sessions;
mod snippets;
mod tab_settings;
mod transactions;
