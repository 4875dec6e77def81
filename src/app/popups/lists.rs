//! Short lists to choose from (the `list` layer): the tab's connection, and a Spark session's
//! details (whose lines can be copied).

use super::{Effect, Popup, State};
use crate::model::action::Action;
use crate::protocol::WorkerCmd;

/// The connection picker: `confirm` puts the tab on the chosen connection.
pub fn connection(
    state: &mut State,
    selected: usize,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    let n = state.connections.len();
    match action {
        Some(Action::Close) => None,
        Some(Action::Up) => Some(Popup::ConnectionPicker {
            selected: selected.saturating_sub(1),
        }),
        Some(Action::Down) => Some(Popup::ConnectionPicker {
            selected: (selected + 1).min(n.saturating_sub(1)),
        }),
        Some(Action::Confirm) => {
            switch_connection(state, selected, fx);
            None
        }
        _ => Some(Popup::ConnectionPicker { selected }),
    }
}

/// Puts the tab on the `selected` connection (refused while a transaction is open).
fn switch_connection(state: &mut State, selected: usize, fx: &mut Vec<Effect>) {
    if state.tab().transaction.is_some() {
        state.flash(
            "this tab has a transaction open: commit or roll back before changing its connection",
            true,
        );
        return;
    }
    let Some(c) = state.connections.get(selected) else {
        return;
    };
    let name = c.name.clone();
    let direct = state
        .connection_kind(&state.tab().connection)
        .is_some_and(|k| k.capabilities().direct_connection);
    let tab = state.tab_mut();
    // The tab's session (or direct connection) belongs to the connection it
    // leaves: ended there, not left to idle out.
    if tab.connection != name && (tab.session.take().is_some() || direct) {
        fx.push(Effect::Worker(WorkerCmd::EndSession {
            connection: tab.connection.clone(),
            key: tab.session_key(),
        }));
    }
    tab.connection = name.clone();
    // A workgroup or reuse choice belonged to the previous connection.
    tab.workgroup = None;
    tab.result_reuse = None;
    tab.spark = None;
    state.mark_edited();
    state.flash(format!("this tab now runs on `{name}`"), false);
}

/// A Spark session's details: `copy-value` copies the selected line's value.
pub fn spark_details(
    state: &mut State,
    id: String,
    lines: Option<Vec<(String, String)>>,
    mut selected: usize,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    let last = lines.as_ref().map_or(0, |l| l.len().saturating_sub(1));
    match action {
        Some(Action::Close) => return None,
        Some(Action::CopyValue) => {
            if let Some((label, value)) = lines.as_ref().and_then(|l| l.get(selected)) {
                fx.push(Effect::CopyToClipboard(value.clone()));
                state.flash(format!("copied {label}"), false);
            }
        }
        Some(Action::Up) => selected = selected.saturating_sub(1),
        Some(Action::Down) => selected = (selected + 1).min(last),
        _ => {}
    }
    Some(Popup::SparkDetails {
        id,
        lines,
        selected,
    })
}
