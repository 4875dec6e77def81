//! Redshift Data sessions of tabs: running a tab in a session or not, the session the server
//! opened, and ending it.

use super::editor::TabSession;
use super::{Effect, State};
use crate::model::job::SessionInfo;
use crate::protocol::WorkerCmd;

/// The server opened a session for the tab (or kept the one it had).
pub(super) fn on_started(state: &mut State, tab: u64, info: SessionInfo) {
    let now = state.now;
    if let Some(tab) = state.tab_by_id_mut(tab) {
        tab.session = Some(TabSession {
            id: info.id,
            keep_alive: info.keep_alive,
            since: now,
        });
    }
}

/// A session ended on the server: when quitting, one stop fewer to wait for.
pub(super) fn on_ended(state: &mut State, outcome: Result<Option<String>, String>) {
    if state.quitting {
        state.stops_pending = state.stops_pending.saturating_sub(1);
    }
    session_ended(state, outcome);
}

/// Switches the tab between running in a Data API session and without one.
pub(super) fn toggle_session(state: &mut State) {
    let connection = state.tab().connection.clone();
    let Some(conn) = state.connection(&connection) else {
        return;
    };
    if !conn.kind.capabilities().session_settings {
        state.flash(
            "sessions are a Redshift Data setting: this tab is not on Redshift Data",
            true,
        );
        return;
    }
    let configured = conn.sessions;
    let on = !state.tab().use_session.unwrap_or(configured);
    state.tab_mut().use_session = Some(on);
    state.flash(
        if on {
            "this tab runs in a session: temp tables and SET last between runs"
        } else {
            "this tab runs without a session: every statement starts afresh"
        },
        false,
    );
}

/// Ends the tab's Data API session on the server (the worker reports back).
pub(super) fn end_session(state: &mut State, fx: &mut Vec<Effect>) {
    let tab = state.tab_mut();
    let Some(session) = tab.session.take() else {
        state.flash("this tab holds no session", false);
        return;
    };
    fx.push(Effect::Worker(WorkerCmd::EndSession {
        connection: tab.connection.clone(),
        key: tab.session_key(),
    }));
    state.flash(
        format!(
            "ending session {}…",
            crate::model::format::short_id(&session.id)
        ),
        false,
    );
}

/// Says that the session ended (and its temp tables with it), or why ending it failed.
fn session_ended(state: &mut State, outcome: Result<Option<String>, String>) {
    match outcome {
        Ok(Some(id)) => state.flash(
            format!(
                "session {} ended: its temp tables are gone",
                crate::model::format::short_id(&id)
            ),
            false,
        ),
        Ok(None) => {}
        Err(e) => state.flash(e, true),
    }
}
