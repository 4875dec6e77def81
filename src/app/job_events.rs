//! What a running job reports: its state on the service, schema and row batches into its
//! result tab (up to `max_loaded_rows`), statistics, and how it ended.

use std::time::Duration;

use super::editing::jump_to_error;
use super::grid::{grid_page, set_view};
use super::quitting::refresh_quit_form;
use super::results::{ResultTab, RunState};
use super::run::{CANCELLING, continue_group, summarize_service_group};
use super::{Effect, JobTarget, Popup, State, completion, sessions, transactions};
use crate::model::job::{JobEvent, JobId};
use crate::protocol::{JobOutcome, WorkerCmd};

/// An event of a running job. Events of jobs nobody shows any more (tab closed, result
/// dropped) are stale.
pub(super) fn on_event(state: &mut State, job: JobId, event: JobEvent, fx: &mut Vec<Effect>) {
    let Some(target) = state.jobs.get(&job).copied() else {
        return;
    };
    let max_width = state.max_column_width;
    let max_rows = state.max_loaded_rows;
    let event = match event {
        JobEvent::Session(info) => return sessions::on_started(state, target.tab, info),
        JobEvent::Notice(text) => return state.flash(text, true),
        JobEvent::Transaction(tx) => return transactions::on_state(state, target.tab, tx),
        JobEvent::Schema(schema) => {
            completion::learn_attributes(state, target, &schema, fx);
            JobEvent::Schema(schema)
        }
        event => event,
    };
    let Some(r) = state.result_mut(target) else {
        return;
    };
    match event {
        JobEvent::Status(s) => {
            r.state = RunState::Running {
                service_state: Some(s),
            }
        }
        JobEvent::Schema(schema) => {
            if let Err(error) = r.widen_schema(schema, max_width) {
                r.state = RunState::Failed { error };
            }
        }
        JobEvent::Batch(batch) => {
            // Beyond `max_loaded_rows` the grid stops loading (memory stays bounded):
            // the job is cancelled and the whole result remains for the export.
            let room = max_rows.saturating_sub(r.loaded_rows());
            if r.truncated || room == 0 {
                r.truncated = true;
                fx.push(Effect::Worker(WorkerCmd::Cancel { job }));
                return;
            }
            let full = batch.num_rows() > room;
            let batch = if full { batch.slice(0, room) } else { batch };
            if let Err(error) = r.push_batch(batch, max_width) {
                r.state = RunState::Failed { error };
            } else if full {
                r.truncated = true;
                fx.push(Effect::Worker(WorkerCmd::Cancel { job }));
            }
        }
        JobEvent::Stats(stats) => r.stats = stats,
        // Only scripts ask for JSON text; sessions and notices are handled above.
        JobEvent::Json(_)
        | JobEvent::Session(_)
        | JobEvent::Notice(_)
        | JobEvent::Transaction(_) => {}
    }
}

/// A job ended: its result's final state, the next statement of its run, the cursor on the
/// error, and a quit waiting for it.
pub(super) fn on_finished(
    state: &mut State,
    job: JobId,
    outcome: JobOutcome,
    elapsed: Duration,
    fx: &mut Vec<Effect>,
) {
    let Some(target) = state.jobs.remove(&job) else {
        return;
    };
    let max_width = state.max_column_width;
    let (page, width) = grid_page(state);
    let Some(r) = state.result_mut(target) else {
        return;
    };
    r.elapsed = Some(elapsed);
    r.refresh_widths(max_width);
    let ok = matches!(outcome, JobOutcome::Succeeded(_));
    let cancelled = matches!(outcome, JobOutcome::Cancelled) && !r.truncated;
    let failed_at = settle(r, outcome);
    // A view computed while rows were still arriving is recomputed over all of them.
    if let Some(v) = &r.view
        && v.rows_seen < r.loaded_rows()
    {
        let kind = v.kind.clone();
        set_view(r, kind, fx);
    }
    r.clamp_cursor(page, width);
    let group = r.group;
    continue_group(state, target.tab, group, ok, fx);
    summarize_service_group(state, target.tab, group);
    if let Some((error, sql)) = failed_at {
        jump_to_error(state, target.tab, &error, &sql);
    }
    // The status bar said a cancel was under way: it is done now.
    if cancelled && state.flash.as_ref().is_some_and(|f| f.text == CANCELLING) {
        state.flash("cancelled", false);
    }
    // Asked to quit while it ran: with nothing left running, quit as asked.
    if let Some(Popup::ConfirmQuit(form)) = &state.popup {
        refresh_quit_form(state, form.clone(), fx);
    }
}

/// The result's state once its job ended; the error and statement when it failed.
fn settle(r: &mut ResultTab, outcome: JobOutcome) -> Option<(String, String)> {
    let mut failed_at = None;
    r.state = match outcome {
        // Stopped at the row cap (the cancel was ours): a success with a note.
        JobOutcome::Cancelled | JobOutcome::Succeeded(_) if r.truncated => RunState::Succeeded {
            message: Some(format!(
                "stopped loading at {} rows ([ui] max_loaded_rows): Ctrl-E exports the whole result",
                r.loaded_rows()
            )),
        },
        JobOutcome::Succeeded(summary) => {
            if summary.stats != Default::default() {
                r.stats = summary.stats;
            }
            r.resume = summary.resume;
            RunState::Succeeded {
                message: summary.message,
            }
        }
        JobOutcome::Failed(error) => {
            failed_at = Some((error.clone(), r.sql.clone()));
            RunState::Failed { error }
        }
        JobOutcome::Cancelled => RunState::Cancelled,
    };
    failed_at
}

/// The run failed for want of a password: ask, then run it again.
pub(super) fn on_password_needed(state: &mut State, job: JobId, connection: String) {
    let rerun = state
        .jobs
        .get(&job)
        .copied()
        .and_then(|target: JobTarget| state.result(target).map(|r| r.sql.clone()));
    if state.popup.is_none() {
        state.popup = Some(Popup::Password {
            connection,
            text: String::new(),
            rerun: rerun.into_iter().collect(),
        });
    }
}
