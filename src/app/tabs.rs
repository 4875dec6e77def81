//! Editor tabs: opening, closing and switching them, switching between a tab's results, and
//! choosing the tab's connection.

use super::editor::EditorTab;
use super::monitor::Subject;
use super::run::cancel_tab_jobs;
use super::{AfterTransactions, Effect, Focus, Popup, State};
use crate::model::action::Action;
use crate::protocol::WorkerCmd;

/// The tab actions: new, close, next/previous tab and result, choose the connection.
pub(super) fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::NewTab => {
            let conn = state.tab().connection.clone();
            new_tab(state, conn, "");
        }
        Action::CloseTab => ask_close_tab(state, fx),
        Action::NextTab => state.active_tab = (state.active_tab + 1) % state.tabs.len(),
        Action::PrevTab => {
            state.active_tab = (state.active_tab + state.tabs.len() - 1) % state.tabs.len()
        }
        Action::NextResultTab | Action::PrevResultTab => {
            let tab = state.tab_mut();
            let n = tab.results.len();
            if n > 0 {
                tab.active_result = if action == Action::NextResultTab {
                    (tab.active_result + 1) % n
                } else {
                    (tab.active_result + n - 1) % n
                };
            }
        }
        Action::ChooseConnection => {
            let current = state.tab().connection.clone();
            let selected = state
                .connections
                .iter()
                .position(|c| c.name == current)
                .unwrap_or(0);
            state.popup = Some(Popup::ConnectionPicker { selected });
        }
        _ => {}
    }
}

/// Closes the active tab, first asking about an open transaction or text that would be lost.
fn ask_close_tab(state: &mut State, fx: &mut Vec<Effect>) {
    let tab = state.tab().id;
    if let Some(popup) = super::popups::transactions_popup(state, AfterTransactions::CloseTab(tab))
    {
        state.popup = Some(popup);
    } else if state.tab().contents().trim().is_empty() {
        close_tab(state, fx);
    } else {
        state.popup = Some(Popup::ConfirmCloseTab);
    }
}

/// Opens a tab on `connection` holding `text`, and makes it the active one.
pub(super) fn new_tab(state: &mut State, connection: String, text: &str) {
    let id = state.next_id();
    let tab = EditorTab::new(id, format!("tab {id}"), connection, text, (0, 0));
    state.tabs.push(tab);
    state.active_tab = state.tabs.len() - 1;
    state.focus = Focus::Editor;
}

/// Closes the active tab: its jobs cancelled, its session ended; the last tab is replaced
/// by an empty one.
pub(super) fn close_tab(state: &mut State, fx: &mut Vec<Effect>) {
    let i = state.active_tab.min(state.tabs.len() - 1);
    state.active_tab = i;
    cancel_tab_jobs(state, fx);
    let tab = state.tabs.remove(i);
    state.jobs.retain(|_, t| t.tab != tab.id);
    state.archive_results(&tab, &tab.results);
    // Its session would idle on the server (holding temp tables) until its keep-alive ends; a
    // direct connection would stay open.
    let direct = state
        .capabilities(&tab.connection)
        .is_some_and(|c| c.direct_connection);
    if tab.session.is_some() || direct {
        fx.push(Effect::Worker(WorkerCmd::EndSession {
            connection: tab.connection.clone(),
            key: tab.session_key(),
        }));
    }
    if state.tabs.is_empty() {
        new_tab(state, tab.connection, "");
    }
    state.active_tab = state.active_tab.min(state.tabs.len() - 1);
    state.mark_edited();
}

/// Makes the tab (and result) of a monitor line the one shown.
pub(crate) fn show_subject(state: &mut State, subject: Subject) {
    let (tab, result) = match subject {
        Subject::Job { tab, result } => (tab, Some(result)),
        Subject::Session { tab } | Subject::Transaction { tab } => (tab, None),
        Subject::Spark { .. } | Subject::Past { .. } => return,
    };
    let Some(i) = state.tab_index(tab) else {
        return;
    };
    state.active_tab = i;
    state.focus = Focus::Editor;
    if let Some(result) = result
        && let Some(j) = state.tabs[i].result_index(result)
    {
        state.tabs[i].active_result = j;
        state.focus = Focus::Results;
    }
}
