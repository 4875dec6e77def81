//! Quitting: asking first (open transactions, work still on the servers), stopping what the
//! user ticked, and leaving with the drafts saved.

use super::monitor::Subject;
use super::run::cancel_all_jobs;
use super::{AfterTransactions, Effect, Popup, State, quit};
use crate::model::spark::SparkOp;
use crate::protocol::WorkerCmd;

/// `q`: asks about open transactions, then about work still on the servers, else quits.
pub(super) fn request_quit(state: &mut State, fx: &mut Vec<Effect>) {
    if let Some(popup) = super::popups::transactions_popup(state, AfterTransactions::Quit) {
        state.popup = Some(popup);
        return;
    }
    match quit::form(state) {
        Some(form) => state.popup = Some(Popup::ConfirmQuit(form)),
        None => quit_now(state, fx),
    }
}

/// Quits, stopping everything still running or held on a server (SIGTERM, or nothing to ask).
pub(super) fn quit_now(state: &mut State, fx: &mut Vec<Effect>) {
    match quit::form(state) {
        Some(form) => quit_stopping(state, &form, fx),
        None => quit_leaving_jobs(state, fx),
    }
}

/// Quits, stopping what `form` has ticked: queries are cancelled on their service, Redshift Data
/// sessions ended, Spark sessions terminated. What is not ticked keeps running there.
pub(super) fn quit_stopping(state: &mut State, form: &quit::QuitForm, fx: &mut Vec<Effect>) {
    let mut queries = 0;
    let mut sessions = 0;
    for item in &form.items {
        match item.entry.subject {
            Subject::Job { tab, result } => {
                let job = state
                    .jobs
                    .iter()
                    .find(|(_, t)| t.tab == tab && t.result == result)
                    .map(|(job, _)| *job);
                if let Some(job) = job {
                    if item.stop {
                        queries += 1;
                    } else {
                        // Left running: the exit does not wait for it.
                        state.jobs.remove(&job);
                    }
                }
            }
            Subject::Session { tab } if item.stop => {
                if let Some(t) = state.tab_by_id_mut(tab)
                    && t.session.take().is_some()
                {
                    fx.push(Effect::Worker(WorkerCmd::EndSession {
                        connection: t.connection.clone(),
                        key: t.session_key(),
                    }));
                    state.stops_pending += 1;
                    sessions += 1;
                }
            }
            Subject::Spark { index } if item.stop => {
                if let Some(known) = state.spark.list.get(index) {
                    fx.push(Effect::Worker(WorkerCmd::Spark {
                        connection: known.connection.clone(),
                        op: SparkOp::Terminate {
                            id: known.session.id.clone(),
                        },
                    }));
                    state.stops_pending += 1;
                    sessions += 1;
                }
            }
            _ => {}
        }
    }
    // The rest (embedded engine, DynamoDB) end with the process; cancelled, they tidy up.
    cancel_all_jobs(state, fx);
    if queries + sessions > 0 {
        state.flash(
            format!("stopping {queries} query(ies) and {sessions} session(s) on the servers…"),
            false,
        );
    }
    quit_leaving_jobs(state, fx);
}

/// Quits without cancelling anything: queries already on a service keep running there.
fn quit_leaving_jobs(state: &mut State, fx: &mut Vec<Effect>) {
    fx.push(Effect::SaveDrafts(state.drafts()));
    state.drafts_dirty = false;
    state.quitting = true;
    fx.push(Effect::Quit);
}

/// A job ended while the quit dialog was open: its line goes (the ticks of the others stay);
/// with nothing left to ask about, Quarry quits as asked.
pub(super) fn refresh_quit_form(state: &mut State, old: quit::QuitForm, fx: &mut Vec<Effect>) {
    match quit::form(state) {
        None => {
            state.popup = None;
            quit_now(state, fx);
        }
        Some(mut form) => {
            for item in &mut form.items {
                if let Some(before) = old
                    .items
                    .iter()
                    .find(|o| o.entry.subject == item.entry.subject)
                {
                    item.stop = before.stop;
                }
            }
            form.selected = old.selected.min(form.items.len().saturating_sub(1));
            state.popup = Some(Popup::ConfirmQuit(form));
        }
    }
}
