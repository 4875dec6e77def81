//! The jobs and sessions monitor (the `monitor` layer): move along the lines, show a line's tab,
//! stop what it stands for, copy its server id, run its statement again.

use super::super::monitor::{self, Subject};
use super::transactions::transactions_popup;
use super::{AfterTransactions, Effect, Popup, State};
use crate::app::JobTarget;
use crate::app::results::RunState;
use crate::app::run::{CANCELLING, run};
use crate::app::sessions::end_session;
use crate::app::spark;
use crate::app::tabs::new_tab;
use crate::app::tabs::show_subject;
use crate::model::action::Action;
use crate::protocol::WorkerCmd;

/// A key in the monitor; the popup that stays (if any).
pub fn on_key(
    state: &mut State,
    selected: usize,
    subject: Option<Subject>,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    let entries = monitor::entries(state);
    let last = entries.len().saturating_sub(1);
    let selected = monitor::selected_index(&entries, selected, subject);
    let at = |i: usize| {
        Some(Popup::Monitor {
            selected: i,
            subject: entries.get(i).map(|e| e.subject),
        })
    };
    let stay = at(selected);
    let entry = entries.get(selected);
    match (action, entry) {
        (Some(Action::Close), _) => None,
        (Some(Action::Up), _) => at(selected.saturating_sub(1)),
        (Some(Action::Down), _) => at((selected + 1).min(last)),
        (Some(Action::Confirm), Some(e)) => match e.subject {
            Subject::Spark { index } => {
                spark::details(state, index, fx);
                state.popup.take()
            }
            Subject::Past { .. } => {
                state.flash("its result tab was closed: r runs it again", false);
                stay
            }
            subject => {
                show_subject(state, subject);
                None
            }
        },
        (Some(Action::CopyValue), Some(e)) => {
            match &e.server_id {
                Some(id) => {
                    fx.push(Effect::CopyToClipboard(id.clone()));
                    state.flash(format!("copied {id}"), false);
                }
                None => state.flash("no server id for this line", true),
            }
            stay
        }
        (Some(Action::Stop), Some(e)) => {
            let subject = e.subject;
            stop(state, subject, stay, fx)
        }
        (Some(Action::RunAgain), Some(e)) => {
            let subject = e.subject;
            if run_again(state, subject, fx) {
                None
            } else {
                stay
            }
        }
        _ => stay,
    }
}

/// Stops what a line stands for; the popup that stays (`stay`, or the question about an open
/// transaction instead).
fn stop(
    state: &mut State,
    subject: Subject,
    stay: Option<Popup>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match subject {
        Subject::Job { tab, result } => {
            let job = state
                .result_mut(JobTarget { tab, result })
                .and_then(|r| match r.state {
                    RunState::Queued => {
                        r.state = RunState::Cancelled;
                        None
                    }
                    RunState::Running { .. } => r.job,
                    _ => None,
                });
            if let Some(job) = job {
                fx.push(Effect::Worker(WorkerCmd::Cancel { job }));
                state.flash(CANCELLING, false);
            }
            stay
        }
        Subject::Session { tab } => {
            show_subject(state, Subject::Session { tab });
            end_session(state, fx);
            stay
        }
        Subject::Transaction { tab } => {
            show_subject(state, Subject::Transaction { tab });
            transactions_popup(state, AfterTransactions::Stay)
        }
        Subject::Spark { index } => {
            spark::terminate(state, index, fx);
            stay
        }
        Subject::Past { .. } => {
            state.flash("finished: nothing to stop", false);
            stay
        }
    }
}

/// Runs a job's statement again (a past one in a fresh tab); whether the monitor closes.
fn run_again(state: &mut State, subject: Subject, fx: &mut Vec<Effect>) -> bool {
    match subject {
        Subject::Job { tab, result } => {
            let sql = state
                .result(JobTarget { tab, result })
                .map(|r| r.sql.clone());
            if let Some(sql) = sql {
                show_subject(state, subject);
                run(state, vec![sql], None, fx);
            }
            true
        }
        Subject::Past { serial } => {
            let past = state.past_jobs.iter().find(|p| p.serial == serial);
            if let Some((connection, sql)) =
                past.map(|p| (p.entry.connection.clone(), p.sql.clone()))
            {
                // Its tab is gone: a fresh one on the same connection.
                new_tab(state, connection, &sql);
                run(state, vec![sql], None, fx);
            }
            true
        }
        _ => false,
    }
}
