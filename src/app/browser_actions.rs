//! What the browser's keys do: moving, expanding and collapsing (lists load through the
//! worker), filtering, and Enter on a node (open or run a table's query, use a workgroup, reopen
//! a past result). The tree itself is [`super::browser`].

use super::browser::Children;
use super::editing::editor_size;
use super::run::{run, run_with};
use super::tabs::new_tab;
use super::{Effect, Focus, InputPurpose, Popup, State, layout, spark};
use crate::model::action::Action;
use crate::model::catalog::{CatalogNode, CatalogPath, NodeAction, NodeKind};
use crate::protocol::WorkerCmd;

/// What happens once at start: the browser opens the first tab's connection when it is the
/// embedded engine (cheap, and it shows a newcomer the sample tables at once).
pub(super) fn open_embedded_at_start(state: &mut State, fx: &mut Vec<Effect>) {
    let conn = state.tab().connection.clone();
    let is_local = state.capabilities(&conn).is_some_and(|c| c.embedded);
    if let Some(i) = state
        .browser
        .roots
        .iter()
        .position(|r| r.connection == conn)
        && is_local
        && let Some(row) = state.browser.rows().iter().position(|r| r.at == [i])
    {
        state.browser.selected = row;
        expand_selected(state, false, fx);
    }
}

/// A list of the catalog arrived (or failed) for the node at `path`.
pub(super) fn on_children(
    state: &mut State,
    connection: String,
    path: CatalogPath,
    result: Result<Vec<CatalogNode>, String>,
) {
    if let Ok(nodes) = &result {
        spark::seen_in_browser(state, &connection, nodes);
    }
    if !state
        .browser
        .set_children(&connection, &path, result.clone())
    {
        // A background refresh (Spark sessions) of a list already shown.
        state.browser.replace_loaded(&connection, &path, result);
    }
    let page = layout::browser_rows(state.panes().browser);
    state.browser.clamp(page);
}

/// An action while the browser has the focus.
pub(super) fn browser_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let page = layout::browser_rows(state.panes().browser);
    let n = state.browser.rows().len();
    let b = &mut state.browser;
    match action {
        Action::Up => b.selected = b.selected.saturating_sub(1),
        Action::Down => b.selected = (b.selected + 1).min(n.saturating_sub(1)),
        Action::PageUp => b.selected = b.selected.saturating_sub(page.max(1)),
        Action::PageDown => b.selected = (b.selected + page.max(1)).min(n.saturating_sub(1)),
        Action::Top => b.selected = 0,
        Action::Bottom => b.selected = n.saturating_sub(1),
        Action::Expand => expand_selected(state, false, fx),
        Action::Refresh => {
            refresh_completion(state, fx);
            expand_selected(state, true, fx)
        }
        Action::Collapse => collapse_selected(state),
        Action::Filter => {
            let text = state.browser.filter.clone();
            state.popup = Some(Popup::Input {
                purpose: InputPurpose::BrowserFilter,
                text,
            });
        }
        Action::Activate | Action::RunTable => {
            let Some(row) = state.browser.selected_row() else {
                return;
            };
            let Some(node) = state.browser.node(&row.at) else {
                return;
            };
            if let Some(node_action) = node.action.clone() {
                let conn = node.connection.clone();
                perform_node_action(state, conn, node_action, fx);
                return;
            }
            match node.query.clone() {
                Some(query) => {
                    let conn = node.connection.clone();
                    open_query(state, conn, &query, action == Action::RunTable, fx)
                }
                None => {
                    // Enter on what failed shows the whole error, which the browser cuts.
                    let problem = match (&node.kind, &node.children) {
                        (Some(NodeKind::Broken), _) => node.detail.clone(),
                        (_, Children::Failed(e)) => Some(e.clone()),
                        _ => None,
                    };
                    let expanded = node.expanded;
                    if let Some(problem) = problem {
                        state.flash(problem, true);
                    }
                    if expanded {
                        collapse_selected(state);
                    } else {
                        expand_selected(state, false, fx);
                    }
                }
            }
        }
        _ => {}
    }
    state.browser.clamp(page);
}

/// Opens the selected node, asking the worker for its children when they are not loaded (or
/// again, when `reload`).
fn expand_selected(state: &mut State, reload: bool, fx: &mut Vec<Effect>) {
    let Some(row) = state.browser.selected_row() else {
        return;
    };
    let Some(node) = state.browser.node_mut(&row.at) else {
        return;
    };
    if !node.expandable {
        return;
    }
    node.expanded = true;
    let load = reload || matches!(node.children, Children::NotLoaded | Children::Failed(_));
    if load && node.children != Children::Loading {
        node.children = Children::Loading;
        fx.push(Effect::Worker(WorkerCmd::LoadChildren {
            connection: node.connection.clone(),
            path: node.path.clone(),
        }));
    }
}

/// `R` also refreshes what completion knows of the selected node's connection: its catalog is
/// fetched again from the service (and its disk cache rewritten).
fn refresh_completion(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(row) = state.browser.selected_row() else {
        return;
    };
    let Some(connection) = state.browser.node(&row.at).map(|n| n.connection.clone()) else {
        return;
    };
    super::completion::forget_catalog(state, &connection, fx);
}

/// Closes the selected node, or goes to its parent when it is closed.
fn collapse_selected(state: &mut State) {
    let Some(row) = state.browser.selected_row() else {
        return;
    };
    let expanded = state.browser.node(&row.at).is_some_and(|n| n.expanded);
    if expanded {
        if let Some(n) = state.browser.node_mut(&row.at) {
            n.expanded = false;
        }
    } else if row.at.len() > 1 {
        // Go to the parent.
        let parent = &row.at[..row.at.len() - 1];
        if let Some(i) = state.browser.rows().iter().position(|r| r.at == parent) {
            state.browser.selected = i;
        }
    }
}

/// Enter on a workgroup or a past query of the browser.
fn perform_node_action(
    state: &mut State,
    connection: String,
    action: NodeAction,
    fx: &mut Vec<Effect>,
) {
    if let NodeAction::SparkWorkgroup(_) | NodeAction::SparkSession(_) = action {
        spark::on_node(state, connection, action, fx);
        return;
    }
    if state.tab().connection != connection {
        new_tab(state, connection.clone(), "");
    }
    match action {
        NodeAction::UseWorkgroup(name) => {
            state.flash(
                format!("this tab now runs in workgroup `{name}` of `{connection}`"),
                false,
            );
            state.tab_mut().workgroup = Some(name);
        }
        NodeAction::OpenResult { server_id, sql } => {
            state.focus = Focus::Results;
            run_with(
                state,
                vec![sql],
                vec![Vec::new()],
                Some(server_id),
                None,
                fx,
            );
        }
        NodeAction::SparkWorkgroup(_) | NodeAction::SparkSession(_) => {}
    }
}

/// Puts a table's query into an editor tab bound to its connection (the active tab when it is
/// bound to that connection, else a new one), and runs it when `run_now`.
fn open_query(
    state: &mut State,
    connection: String,
    query: &str,
    run_now: bool,
    fx: &mut Vec<Effect>,
) {
    if state.tab().connection != connection {
        new_tab(state, connection, "");
    }
    let (rows, cols) = editor_size(state);
    let tab = state.tab_mut();
    let empty = tab.contents().trim().is_empty();
    let ta = &mut tab.text;
    if !empty {
        ta.move_cursor(ratatui_textarea::CursorMove::Bottom);
        ta.move_cursor(ratatui_textarea::CursorMove::End);
        ta.insert_str("\n\n");
    }
    ta.insert_str(format!("{query};"));
    tab.scroll_to_cursor(rows, cols);
    state.mark_edited();
    state.focus = Focus::Editor;
    if run_now {
        run(state, vec![query.to_string()], None, fx);
    }
}
