//! Open transactions before quitting, closing their tab, or from the monitor: commit, roll back
//! (the only choice for a failed one), or keep working.

use super::{AfterTransactions, Effect, Popup, State};
use crate::app::transactions::end_transactions;
use crate::model::action::Action;

/// Asks what to do with open transactions before `then` (quit: all tabs; closing: that tab).
pub fn transactions_popup(state: &State, then: AfterTransactions) -> Option<Popup> {
    let tabs: Vec<(u64, String, bool)> = state
        .tabs
        .iter()
        .filter(|t| match then {
            AfterTransactions::Quit => true,
            AfterTransactions::CloseTab(id) => t.id == id,
            // The monitor asks about the one it points at.
            AfterTransactions::Stay => t.id == state.tab().id,
        })
        .filter_map(|t| t.transaction.map(|tx| (t.id, t.title.clone(), tx.failed)))
        .collect();
    (!tabs.is_empty()).then_some(Popup::ConfirmTransactions { tabs, then })
}

/// A key in the question: `commit`, `rollback`, or `no` to keep working.
pub fn on_key(
    state: &mut State,
    tabs: Vec<(u64, String, bool)>,
    then: AfterTransactions,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    let any_failed = tabs.iter().any(|t| t.2);
    match action {
        Some(Action::Commit) if !any_failed => {
            end_transactions(state, &tabs, true, then, fx);
            None
        }
        Some(Action::Rollback) => {
            end_transactions(state, &tabs, false, then, fx);
            None
        }
        Some(Action::No) => None,
        _ => Some(Popup::ConfirmTransactions { tabs, then }),
    }
}
