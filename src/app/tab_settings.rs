//! Settings a tab can change for its own runs: DynamoDB's item limit, consistent reads and
//! per-index capacity, Athena's result reuse.

use super::{InputPurpose, Popup, State};
use crate::model::action::Action;

/// The per-tab settings actions.
pub(super) fn on_action(state: &mut State, action: Action) {
    match action {
        Action::SetRunLimit => ask_run_limit(state),
        Action::ToggleConsistentRead | Action::ToggleIndexCapacity => {
            toggle_item_option(state, action)
        }
        Action::ToggleResultReuse => toggle_result_reuse(state),
        _ => {}
    }
}

/// Whether the tab is on a connection that pages through items (DynamoDB); says so when not.
fn on_item_paging(state: &mut State) -> bool {
    let paging = state.tab_capabilities().is_some_and(|c| c.item_paging);
    if !paging {
        state.flash("a DynamoDB setting: this tab is not on DynamoDB", true);
    }
    paging
}

/// DynamoDB: items per run before pausing, for this tab.
fn ask_run_limit(state: &mut State) {
    if !on_item_paging(state) {
        return;
    }
    let text = state.tab().limit.map(|l| l.to_string()).unwrap_or_default();
    state.popup = Some(Popup::Input {
        purpose: InputPurpose::RunLimit,
        text,
    });
}

/// DynamoDB: consistent reads, or consumed capacity per index, on or off for this tab.
fn toggle_item_option(state: &mut State, action: Action) {
    if !on_item_paging(state) {
        return;
    }
    let tab = state.tab_mut();
    let text = if action == Action::ToggleConsistentRead {
        let on = !tab.consistent_read.unwrap_or(false);
        tab.consistent_read = Some(on);
        if on {
            "consistent reads on for this tab (twice the read capacity)"
        } else {
            "consistent reads off for this tab (eventually consistent)"
        }
    } else {
        tab.capacity_by_index = !tab.capacity_by_index;
        if tab.capacity_by_index {
            "consumed capacity per index (INDEXES) for this tab"
        } else {
            "consumed capacity in total for this tab"
        }
    };
    state.flash(text, false);
}

/// Athena: result reuse on or off for this tab (the connection's setting until toggled).
fn toggle_result_reuse(state: &mut State) {
    let connection = state.tab().connection.clone();
    if !state
        .capabilities(&connection)
        .is_some_and(|c| c.result_reuse)
    {
        state.flash(
            "result reuse is an Athena setting: this tab is not on Athena",
            true,
        );
        return;
    }
    let configured = state
        .connection(&connection)
        .is_some_and(|c| c.result_reuse);
    let on = !state.tab().result_reuse.unwrap_or(configured);
    state.tab_mut().result_reuse = Some(on);
    state.flash(
        if on {
            "result reuse on for this tab: a recent result of the same query is shown without scanning again"
        } else {
            "result reuse off for this tab: every run scans again"
        },
        false,
    );
}
