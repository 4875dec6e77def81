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
use crate::connectors::{CatalogNode, JobEvent, JobSummary, NodeKind};
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
fn quitting_with_running_jobs_asks_and_cancels() {
    let mut s = state();
    type_text(&mut s, "SELECT 1");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    let fx = update(&mut s, ctrl('q'));
    assert!(fx.is_empty());
    assert!(matches!(
        &s.popup,
        Some(Popup::ConfirmQuit(f)) if f.local == 1 && f.items.is_empty()
    ));
    // "n" keeps working.
    update(&mut s, key(KeyCode::Char('n'), KeyModifiers::NONE));
    assert!(s.popup.is_none() && !s.quitting);
    update(&mut s, ctrl('q'));
    let fx = update(&mut s, key(KeyCode::Char('y'), KeyModifiers::NONE));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { job: j }) if *j == job))
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveDrafts(d) if d[0].text == "SELECT 1"))
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
    assert!(s.quitting);
}

#[test]
fn quitting_idle_saves_drafts_and_quits_at_once() {
    let mut s = state();
    let fx = update(&mut s, ctrl('q'));
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
}

#[test]
fn drafts_are_saved_after_a_pause() {
    let mut s = state();
    type_text(&mut s, "SELECT 42");
    let t0 = s.now;
    let fx = update(&mut s, Msg::Tick(t0 + Duration::from_millis(100)));
    assert!(fx.is_empty());
    let fx = update(&mut s, Msg::Tick(t0 + Duration::from_secs(2)));
    assert!(matches!(&fx[..], [Effect::SaveDrafts(d)] if d[0].text == "SELECT 42"));
    assert!(update(&mut s, Msg::Tick(t0 + Duration::from_secs(3))).is_empty());
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
fn grid_moves_and_pages_within_the_result() {
    let (mut s, _) = with_result(1000);
    let plain = |c| key(KeyCode::Char(c), KeyModifiers::NONE);
    update(&mut s, plain('j'));
    update(&mut s, plain('l'));
    let g = &s.tab().results[0].grid;
    assert_eq!((g.row, g.col), (1, 1));
    update(&mut s, plain('G'));
    let g = &s.tab().results[0].grid;
    assert_eq!(g.row, 999);
    assert!(g.top > 900 && g.top <= 999, "the last row is on screen");
    update(&mut s, key(KeyCode::PageUp, KeyModifiers::NONE));
    assert!(s.tab().results[0].grid.row < 999);
    update(&mut s, plain('g'));
    assert_eq!(s.tab().results[0].grid.top, 0);
    update(&mut s, plain('l'));
    update(&mut s, plain('l'));
    assert_eq!(s.tab().results[0].grid.col, 1, "clamped to the last column");
}

#[test]
fn sort_goes_to_the_worker_and_stale_views_are_dropped() {
    let (mut s, _) = with_result(10);
    let fx = update(&mut s, key(KeyCode::Char('s'), KeyModifiers::NONE));
    let (result, gen1) = match &fx[..] {
        [
            Effect::Worker(WorkerCmd::ComputeView {
                result, generation, ..
            }),
        ] => (*result, *generation),
        other => panic!("expected a view computation, got {other:?}"),
    };
    // Pressing again asks for descending: the ascending answer arriving late is stale.
    let fx = update(&mut s, key(KeyCode::Char('s'), KeyModifiers::NONE));
    assert_eq!(fx.len(), 1);
    update(
        &mut s,
        Msg::Worker(WorkerEvent::ViewReady {
            result,
            generation: gen1,
            outcome: Ok(vec![0, 1]),
        }),
    );
    assert!(s.tab().results[0].view.as_ref().unwrap().indices.is_none());
    let desc: Vec<u32> = (0..10).rev().collect();
    update(
        &mut s,
        Msg::Worker(WorkerEvent::ViewReady {
            result,
            generation: gen1 + 1,
            outcome: Ok(desc),
        }),
    );
    let r = &s.tab().results[0];
    assert_eq!(r.data_row(0), 9);
    // Third press: back to the natural order.
    update(&mut s, key(KeyCode::Char('s'), KeyModifiers::NONE));
    assert!(s.tab().results[0].view.is_none());
}

#[test]
fn filter_prompt_and_inspector() {
    let (mut s, _) = with_result(10);
    update(&mut s, key(KeyCode::Char('/'), KeyModifiers::NONE));
    type_text(&mut s, "n1");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(
        matches!(&fx[..], [Effect::Worker(WorkerCmd::ComputeView { spec: crate::protocol::ViewSpec::Filter { needle }, .. })] if needle == "n1")
    );
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(matches!(s.popup, Some(Popup::Inspector { .. })));
    update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert!(s.popup.is_none());
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
fn browser_loads_lazily_and_enter_inserts_a_query() {
    let mut s = state();
    let fx = update::on_start(&mut s);
    assert!(
        matches!(&fx[..], [Effect::Worker(WorkerCmd::LoadChildren { connection, path })] if connection == "local" && path.is_empty())
    );
    assert!(s.is_animating(), "a spinner while loading");
    let table = CatalogNode {
        name: "trips".into(),
        kind: NodeKind::Table,
        detail: None,
        has_children: true,
        query: Some("SELECT * FROM trips LIMIT 100".into()),
        action: None,
    };
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "local".into(),
            path: vec![],
            result: Ok(vec![table]),
        }),
    );
    assert!(!s.is_animating());
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Right, KeyModifiers::NONE));
    assert!(
        matches!(&fx[..], [Effect::Worker(WorkerCmd::LoadChildren { path, .. })] if path == &vec!["trips".to_string()])
    );
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(s.focus, Focus::Editor);
    assert_eq!(s.tab().contents(), "SELECT * FROM trips LIMIT 100;");
    // `r` runs it at once.
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    let fx = update(&mut s, key(KeyCode::Char('r'), KeyModifiers::NONE));
    assert_eq!(runs(&fx).len(), 1);
}

#[test]
fn enter_on_a_broken_file_shows_its_whole_error() {
    let mut s = state();
    update::on_start(&mut s);
    let why = "`/data/bad.csv`: is not a readable CSV file: invalid UTF-8 on line 2";
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "local".into(),
            path: vec![],
            result: Ok(vec![
                CatalogNode::new("bad", NodeKind::Broken).with_detail(why),
            ]),
        }),
    );
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(fx.is_empty(), "nothing runs: {fx:?}");
    let flash = s.flash.as_ref().expect("the error is shown");
    assert!(flash.error && flash.text == why, "{:?}", flash.text);
}

#[test]
fn browser_filter_narrows_the_tree() {
    let mut s = state();
    update::on_start(&mut s);
    let node = |n: &str| CatalogNode {
        name: n.into(),
        kind: NodeKind::Table,
        detail: None,
        has_children: false,
        query: None,
        action: None,
    };
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "local".into(),
            path: vec![],
            result: Ok(vec![node("trips"), node("zones")]),
        }),
    );
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    update(&mut s, key(KeyCode::Char('/'), KeyModifiers::NONE));
    type_text(&mut s, "zon");
    assert_eq!(s.browser.rows().len(), 2, "the connection and the match");
    update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(s.browser.rows().len(), 3);
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

pub(crate) fn requests(fx: &[Effect]) -> Vec<crate::connectors::QueryRequest> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Worker(WorkerCmd::Run { request, .. }) => Some(request.clone()),
            _ => None,
        })
        .collect()
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
fn workgroup_and_past_query_nodes_act_on_enter() {
    let mut s = athena_state();
    assert!(
        update::on_start(&mut s).is_empty(),
        "AWS connections are not contacted until opened"
    );
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    let fx = update(&mut s, key(KeyCode::Right, KeyModifiers::NONE));
    assert!(matches!(
        &fx[..],
        [Effect::Worker(WorkerCmd::LoadChildren { .. })]
    ));
    let wg = CatalogNode::new("analysts", NodeKind::Workgroup).with_action(
        crate::connectors::NodeAction::UseWorkgroup("analysts".into()),
    );
    let past = CatalogNode::new("SELECT 1", NodeKind::Query).with_action(
        crate::connectors::NodeAction::OpenResult {
            server_id: "q-123".into(),
            sql: "SELECT 1".into(),
        },
    );
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "ath".into(),
            path: vec![],
            result: Ok(vec![wg, past]),
        }),
    );
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(s.tab().workgroup.as_deref(), Some("analysts"));
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let req = &requests(&fx)[0];
    assert_eq!(req.reopen.as_deref(), Some("q-123"));
    assert_eq!(req.workgroup.as_deref(), Some("analysts"));
    assert_eq!(s.focus, Focus::Results);
}

#[test]
fn quitting_with_athena_queries_can_stop_them_or_leave_them() {
    let mut s = athena_state();
    type_text(&mut s, "SELECT 1");
    assert_eq!(runs(&update(&mut s, ctrl('j'))).len(), 1);
    update(&mut s, ctrl('q'));
    assert!(matches!(
        &s.popup,
        Some(Popup::ConfirmQuit(f)) if f.items.len() == 1 && f.items[0].stop && f.local == 0
    ));
    // `l` leaves it running on the server: no cancel, and nothing to wait for.
    let fx = update(&mut s, key(KeyCode::Char('l'), KeyModifiers::NONE));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { .. })))
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
    assert!(s.jobs.is_empty() && s.quitting);
}

#[test]
fn result_reuse_toggles_per_tab_on_athena_only() {
    let mut s = athena_state();
    update(&mut s, key(KeyCode::Char('r'), KeyModifiers::ALT));
    assert_eq!(s.tab().result_reuse, Some(true));
    type_text(&mut s, "SELECT 1");
    let fx = update(&mut s, ctrl('j'));
    assert_eq!(requests(&fx)[0].result_reuse, Some(true));
    let mut local = state();
    update(&mut local, key(KeyCode::Char('r'), KeyModifiers::ALT));
    assert_eq!(local.tab().result_reuse, None);
    assert!(local.flash.as_ref().is_some_and(|f| f.error));
}

#[test]
fn athena_complex_values_are_inspected_as_json() {
    let mut s = state();
    type_text(&mut s, "SELECT m");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    let meta = [(
        crate::connectors::athena::rows::ATHENA_TYPE.to_string(),
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
fn an_empty_parameter_keeps_the_form_open_on_that_field() {
    let mut s = athena_state();
    type_text(&mut s, "SELECT ?, ?");
    update(&mut s, ctrl('j'));
    type_text(&mut s, "1");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(runs(&fx).is_empty());
    assert!(matches!(&s.popup, Some(Popup::Params(f)) if f.focus == 1));
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

fn dynamo_state() -> State {
    state_on("ddb", ConnectionKind::Dynamodb, false)
}

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
    assert_eq!(mode, crate::connectors::GroupMode::Batch);
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
            mode: crate::connectors::GroupMode::Transaction,
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

fn group_run(
    fx: &[Effect],
) -> Option<(
    Vec<u64>,
    crate::connectors::GroupMode,
    Vec<crate::connectors::QueryRequest>,
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

#[test]
fn redshift_data_runs_carry_the_tab_session_and_named_parameters_ask_once() {
    let mut s = state_on("rd", ConnectionKind::RedshiftData, true);
    type_text(&mut s, "SELECT * FROM t WHERE a = :id AND b = :id::int");
    update(&mut s, ctrl('j'));
    let Some(Popup::Params(form)) = &s.popup else {
        panic!("`:id` asks for a value: {:?}", s.popup);
    };
    assert_eq!(form.syntax, params::ValueSyntax::Named);
    assert_eq!(form.fields.len(), 1, "one field per name");
    type_text(&mut s, "42");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let req = requests(&fx).pop().expect("a run");
    assert_eq!(req.params, vec!["42".to_string()]);
    assert_eq!(req.session_key, Some(s.tab().session_key()));
    assert_eq!(req.use_session, None, "the connection decides");
    assert_eq!(req.label.as_deref(), Some(s.tab().title.as_str()));

    // Alt-S: this tab without a session (the connection has them on).
    update(&mut s, key(KeyCode::Char('s'), KeyModifiers::ALT));
    assert_eq!(s.tab().use_session, Some(false));
    let mut local = state();
    update(&mut local, key(KeyCode::Char('s'), KeyModifiers::ALT));
    assert!(
        local.flash.as_ref().is_some_and(|f| f.error),
        "not on Redshift Data"
    );
}

#[test]
fn a_redshift_data_session_shows_in_the_status_and_ends_on_alt_e_or_close() {
    let mut s = state_on("rd", ConnectionKind::RedshiftData, true);
    type_text(&mut s, "CREATE TEMP TABLE x AS SELECT 1");
    let fx = update(&mut s, ctrl('j'));
    let job = runs(&fx)[0].0;
    let info = crate::connectors::SessionInfo {
        key: s.tab().session_key(),
        id: "0123456789abcdef".into(),
        keep_alive: Duration::from_secs(600),
    };
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Session(info))),
    );
    finish(&mut s, job, ok());
    let session = s.tab().session.clone().expect("the tab holds the session");
    assert_eq!(session.time_left(s.now), Duration::from_secs(600));
    assert_eq!(
        session.time_left(s.now + Duration::from_secs(601)),
        Duration::ZERO
    );
    // A notice (an idled-out session was replaced) is shown as a warning.
    let fx = update(&mut s, ctrl('j'));
    let job = runs(&fx)[0].0;
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(
            job,
            JobEvent::Notice("temp tables are gone".into()),
        )),
    );
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.error && f.text.contains("temp tables"))
    );
    finish(&mut s, job, ok());

    let fx = update(&mut s, key(KeyCode::Char('e'), KeyModifiers::ALT));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndSession { key, connection }) if *key == s.tab().session_key() && connection == "rd"
    )));
    assert!(s.tab().session.is_none());
    let key_of_tab = s.tab().session_key();
    update(
        &mut s,
        Msg::Worker(WorkerEvent::SessionEnded {
            key: key_of_tab,
            outcome: Ok(Some("0123456789abcdef".into())),
        }),
    );
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("01234567 ended"))
    );

    // Closing a tab that holds a session ends it too.
    s.tab_mut().session = Some(session);
    s.tab_mut().text = ratatui_textarea::TextArea::default();
    let fx = update(&mut s, ctrl('w'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::EndSession { .. }))),
        "{fx:?}"
    );
}

#[test]
fn f7_on_redshift_data_is_one_batch_transaction_in_the_tab_session() {
    let mut s = state_on("rd", ConnectionKind::RedshiftData, true);
    type_text(&mut s, "INSERT INTO t VALUES (1);\nSELECT count(*) FROM t");
    let fx = update(&mut s, key(KeyCode::F(7), KeyModifiers::NONE));
    let (jobs, mode, requests) = group_run(&fx).expect("one group run");
    assert_eq!(mode, crate::connectors::GroupMode::Transaction);
    assert_eq!(jobs.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.session_key == Some(s.tab().session_key()))
    );
    // Running statements on Redshift Data can be cancelled on the server when quitting.
    let form = super::quit::form(&s).expect("asked at quit");
    assert_eq!((form.items.len(), form.local), (2, 0));
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

#[test]
fn f8_lists_the_history_and_enter_puts_the_sql_into_the_editor() {
    let mut s = athena_state();
    let fx = update(&mut s, key(KeyCode::F(8), KeyModifiers::NONE));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::LoadHistory)))
    );
    let entries = vec![
        history_entry("ath", "SELECT * FROM sales", Some("q-1")),
        history_entry("local", "SELECT 1", None),
    ];
    update(&mut s, Msg::Worker(WorkerEvent::History(Ok(entries))));
    type_text(&mut s, "sales");
    let Some(Popup::History(picker)) = &s.popup else {
        panic!("the history list");
    };
    assert_eq!(picker.matches(), vec![0]);
    // Ctrl-O reopens the Athena query's results by its id, without running it again.
    let fx = update(&mut s, ctrl('o'));
    let reopened = requests(&fx).pop().expect("a reopen");
    assert_eq!(reopened.reopen.as_deref(), Some("q-1"));

    update(&mut s, key(KeyCode::F(8), KeyModifiers::NONE));
    let entries = vec![history_entry("ath", "SELECT * FROM sales", Some("q-1"))];
    update(&mut s, Msg::Worker(WorkerEvent::History(Ok(entries))));
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(s.popup.is_none());
    assert!(s.tab().contents().contains("SELECT * FROM sales"));
}

#[test]
fn ctrl_s_saves_the_tab_as_a_snippet_and_asks_before_replacing_one() {
    let mut s = state();
    type_text(&mut s, "SELECT 42");
    update(&mut s, ctrl('s'));
    type_text(&mut s, "answer");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let save = fx.iter().find_map(|e| match e {
        Effect::Worker(WorkerCmd::SaveSnippet {
            name,
            text,
            meta,
            overwrite,
        }) => Some((
            name.clone(),
            text.clone(),
            meta.connection.clone(),
            *overwrite,
        )),
        _ => None,
    });
    assert_eq!(
        save,
        Some((
            "answer".into(),
            "SELECT 42".into(),
            Some("local".into()),
            false
        ))
    );
    update(
        &mut s,
        Msg::Worker(WorkerEvent::SnippetSaved {
            name: "answer".into(),
            outcome: Err(crate::protocol::SaveFailure::Exists("/x/answer.sql".into())),
        }),
    );
    assert!(matches!(
        s.popup,
        Some(Popup::ConfirmOverwriteSnippet { .. })
    ));
    let fx = update(&mut s, key(KeyCode::Char('y'), KeyModifiers::NONE));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::SaveSnippet {
            overwrite: true,
            ..
        })
    )));
}

#[test]
fn a_snippet_with_placeholders_asks_for_values_and_runs_them_quoted() {
    let mut s = state();
    update(&mut s, ctrl('p'));
    let snippet = crate::store::snippets::Snippet {
        name: "by vendor".into(),
        rel_path: "by-vendor.sql".into(),
        path: "/x/by-vendor.sql".into(),
        meta: Default::default(),
        text: "SELECT * FROM trips WHERE vendor = ${vendor} LIMIT ${n:10}".into(),
    };
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Snippets {
            snippets: vec![snippet],
            errors: Vec::new(),
        }),
    );
    update(&mut s, ctrl('r'));
    let Some(Popup::Params(form)) = &s.popup else {
        panic!("the placeholder form: {:?}", s.popup);
    };
    assert_eq!(form.syntax, params::ValueSyntax::Template);
    assert_eq!(form.fields[1].value, "10", "the default");
    type_text(&mut s, "O'Brien");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let run = runs(&fx);
    assert_eq!(
        run[0].1, "SELECT * FROM trips WHERE vendor = 'O''Brien' LIMIT 10",
        "text is quoted, numbers go in bare"
    );
    assert_eq!(
        s.tab().title,
        "by vendor",
        "in a new tab named after the snippet"
    );
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

#[test]
fn asked_to_quit_while_a_job_runs_quits_when_it_ends() {
    let mut s = state();
    type_text(&mut s, "SELECT 1");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    update(&mut s, ctrl('q'));
    assert!(matches!(&s.popup, Some(Popup::ConfirmQuit(f)) if f.local == 1));
    let fx = finish(&mut s, job, ok());
    assert!(s.popup.is_none());
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)), "{fx:?}");
}

/// Runs `sql` in the active tab and reports `tx` for it, as a direct connection would.
fn run_with_transaction(s: &mut State, sql: &str, tx: crate::connectors::TransactionState) {
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
fn quitting_with_an_open_transaction_commits_or_rolls_back_first() {
    use crate::connectors::TransactionState;
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    run_with_transaction(&mut s, "BEGIN", TransactionState::Open);
    assert!(s.tab().transaction.is_some_and(|t| !t.failed));
    let fx = update(&mut s, ctrl('q'));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Quit)), "asks first");
    let Some(Popup::ConfirmTransactions { tabs, then }) = &s.popup else {
        panic!("{:?}", s.popup);
    };
    assert_eq!(tabs.len(), 1);
    assert_eq!(*then, AfterTransactions::Quit);
    // Esc: keep working, nothing sent.
    let fx = update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert!(fx.is_empty() && s.popup.is_none());

    update(&mut s, ctrl('q'));
    let fx = update(&mut s, key(KeyCode::Char('c'), KeyModifiers::NONE));
    let key_of_tab = s.tab().session_key();
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndTransaction { key, commit: true, connection }) if *key == key_of_tab && connection == "pg"
    )));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Quit)),
        "waits for the server"
    );
    let fx = update(
        &mut s,
        Msg::Worker(WorkerEvent::TransactionEnded {
            key: key_of_tab,
            outcome: Ok("committed".into()),
        }),
    );
    assert!(s.tab().transaction.is_none());
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)), "then quits");
}

#[test]
fn a_failed_transaction_can_only_be_rolled_back_and_a_failed_commit_stays() {
    use crate::connectors::TransactionState;
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    run_with_transaction(
        &mut s,
        "INSERT INTO nope VALUES (1)",
        TransactionState::Failed,
    );
    assert!(s.tab().transaction.is_some_and(|t| t.failed));
    update(&mut s, ctrl('w'));
    assert!(matches!(
        s.popup,
        Some(Popup::ConfirmTransactions {
            then: AfterTransactions::CloseTab(_),
            ..
        })
    ));
    let fx = update(&mut s, key(KeyCode::Char('c'), KeyModifiers::NONE));
    assert!(fx.is_empty(), "no commit of a failed transaction");
    let fx = update(&mut s, key(KeyCode::Char('r'), KeyModifiers::NONE));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndTransaction { commit: false, .. })
    )));
    let key_of_tab = s.tab().session_key();
    let tab_id = s.tab().id;
    // The rollback fails (the connection broke): the tab stays, the user is told.
    update(
        &mut s,
        Msg::Worker(WorkerEvent::TransactionEnded {
            key: key_of_tab.clone(),
            outcome: Err("the connection was lost".into()),
        }),
    );
    assert!(matches!(s.popup, Some(Popup::Message { .. })));
    assert_eq!(s.tab().id, tab_id, "the tab is still there");

    // Rolled back this time: the tab closes and its connection is ended.
    s.popup = None;
    update(&mut s, ctrl('w'));
    update(&mut s, key(KeyCode::Char('r'), KeyModifiers::NONE));
    let fx = update(
        &mut s,
        Msg::Worker(WorkerEvent::TransactionEnded {
            key: key_of_tab.clone(),
            outcome: Ok("rolled back".into()),
        }),
    );
    assert_ne!(s.tab().id, tab_id, "closed");
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndSession { key, .. }) if *key == key_of_tab
    )));
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
fn f7_on_a_direct_connection_wraps_the_tab_in_begin_and_commit() {
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    type_text(
        &mut s,
        "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);",
    );
    let fx = update(&mut s, key(KeyCode::F(7), KeyModifiers::NONE));
    let first = runs(&fx);
    assert_eq!(first.len(), 1, "one at a time");
    assert_eq!(first[0].1, "BEGIN");
    finish(&mut s, first[0].0, ok());
    let sqls: Vec<String> = s.tab().results.iter().map(|r| r.sql.clone()).collect();
    assert_eq!(
        sqls,
        [
            "BEGIN",
            "INSERT INTO t VALUES (1)",
            "INSERT INTO t VALUES (2)",
            "COMMIT"
        ]
    );
}

#[test]
fn the_monitor_lists_running_jobs_first_and_acts_on_the_selected_one() {
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    type_text(&mut s, "SELECT 1");
    let fx = update(&mut s, ctrl('j'));
    let first = runs(&fx)[0].0;
    let mut stats = crate::connectors::JobStats {
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
            JobEvent::Transaction(crate::connectors::TransactionState::Open),
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

pub(crate) mod inspector;
mod popups;
mod sessions;
