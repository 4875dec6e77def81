//! Transactions of direct connections: a tab's statements run between BEGIN and COMMIT, the
//! server's transaction state shown per tab, and open transactions committed or rolled back
//! (before closing a tab or quitting, or from the monitor).

use super::editor::TabTransaction;
use super::quitting::request_quit;
use super::run::run;
use super::tabs::close_tab;
use super::{AfterTransactions, Effect, EndingTransactions, Popup, State};
use crate::model::connection::Transactions;
use crate::model::job::{GroupMode, TransactionState};
use crate::protocol::WorkerCmd;

/// Runs the tab's statements in one transaction: on its own connection (BEGIN, the statements,
/// COMMIT) or as one group call of the service.
pub(super) fn run_transaction(state: &mut State, fx: &mut Vec<Effect>) {
    let all = state.tab().all_statements();
    let transactions = state
        .tab_capabilities()
        .map_or(Transactions::None, |c| c.transactions);
    if transactions == Transactions::OnConnection && !all.is_empty() {
        // The tab's own connection: BEGIN, the statements in turn (a failure skips the
        // rest, leaving the transaction failed for a rollback), COMMIT.
        let wrapped = std::iter::once("BEGIN".to_string())
            .chain(all)
            .chain(std::iter::once("COMMIT".to_string()))
            .collect();
        run(state, wrapped, None, fx);
    } else if transactions != Transactions::Group {
        state.flash(
            "transactions of a tab's statements run on DynamoDB, Redshift Data and direct Redshift/PostgreSQL connections: this tab is on none of them",
            true,
        );
    } else if all.is_empty() {
        state.flash("nothing to run: the tab has no statements", true);
    } else {
        run(state, all, Some(GroupMode::Transaction), fx);
    }
}

/// The server says where the tab's transaction stands.
pub(super) fn on_state(state: &mut State, tab: u64, tx: TransactionState) {
    let now = state.now;
    if let Some(tab) = state.tab_by_id_mut(tab) {
        let since = tab.transaction.map_or(now, |t| t.since);
        tab.transaction = match tx {
            TransactionState::None => None,
            TransactionState::Open => Some(TabTransaction {
                since,
                failed: false,
            }),
            TransactionState::Failed => Some(TabTransaction {
                since,
                failed: true,
            }),
        };
    }
}

/// Commits or rolls back the transactions of `tabs`; `then` follows when the server answered.
pub(super) fn end_transactions(
    state: &mut State,
    tabs: &[(u64, String, bool)],
    commit: bool,
    then: AfterTransactions,
    fx: &mut Vec<Effect>,
) {
    let mut keys = Vec::new();
    for (id, _, _) in tabs {
        if let Some(tab) = state.tab_by_id(*id) {
            keys.push(tab.session_key());
            fx.push(Effect::Worker(WorkerCmd::EndTransaction {
                connection: tab.connection.clone(),
                key: tab.session_key(),
                commit,
            }));
        }
    }
    let busy = tabs.iter().any(|(id, _, _)| {
        state
            .tab_by_id(*id)
            .is_some_and(|t| t.results.iter().any(|r| r.state.is_active()))
    });
    let verb = if commit { "committing" } else { "rolling back" };
    let wait = if busy {
        " (after the running statement)"
    } else {
        ""
    };
    state.flash(format!("{verb}…{wait}"), false);
    state.ending_transactions = Some(EndingTransactions { keys, then });
}

/// The server answered a commit or rollback: once all have, do what was asked.
pub(super) fn transaction_ended(
    state: &mut State,
    key: &str,
    outcome: Result<String, String>,
    fx: &mut Vec<Effect>,
) {
    if outcome.is_ok()
        && let Some(tab) = state.tab_by_session_key_mut(key)
    {
        tab.transaction = None;
    }
    let Some(mut ending) = state.ending_transactions.take() else {
        return;
    };
    ending.keys.retain(|k| k != key);
    match outcome {
        Err(e) => {
            // Nothing more happens on its own: the user sees why and decides again.
            state.popup = Some(Popup::Message {
                title: "Transaction not ended".into(),
                text: format!(
                    "{e}\n\nThe tab stays open; its transaction state is shown in the status bar."
                ),
            });
            return;
        }
        Ok(what) => state.flash(what, false),
    }
    if !ending.keys.is_empty() {
        state.ending_transactions = Some(ending);
        return;
    }
    match ending.then {
        AfterTransactions::Stay => {}
        AfterTransactions::Quit => request_quit(state, fx),
        AfterTransactions::CloseTab(id) => {
            if let Some(i) = state.tab_index(id) {
                state.active_tab = i;
                close_tab(state, fx);
            }
        }
    }
}
