//! `update(&mut State, Msg) -> Vec<Effect>`: routes every message to the feature that owns it
//! (keys to the focused pane or the open popup, worker events to `worker_events.rs`).

use std::time::Duration;

use crossterm::event::{KeyEvent, KeyEventKind};

use super::browser_actions::{browser_action, open_embedded_at_start};
use super::editing::{copy_selection, on_editor_key, on_paste};
use super::grid::{grid_action, keep_visible};
use super::keymap::key_combo;
use super::quitting::{quit_now, request_quit};
use super::run::tab_has_active_job;
use super::worker_events::on_worker;
use super::{Effect, Focus, Msg, Popup, State};
use super::{
    completion, export, monitor, run, sessions, snippets, spark, tab_settings, tabs, transactions,
};
use crate::model::action::Action;
use crate::model::keys::KeyContext;

/// Drafts are saved this long after the last edit (and on quit).
const DRAFT_DELAY: Duration = Duration::from_millis(800);

/// What happens once at start (the browser opens the embedded engine's connection).
pub fn on_start(state: &mut State) -> Vec<Effect> {
    let mut fx = Vec::new();
    open_embedded_at_start(state, &mut fx);
    fx
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => {
            state.flash = None;
            on_key(state, key, &mut fx);
        }
        Msg::Key(_) => {}
        Msg::Paste(text) => on_paste(state, &text),
        Msg::Resize(w, h) => {
            state.area = ratatui::layout::Rect::new(0, 0, w, h);
            keep_visible(state);
        }
        Msg::Tick(now) => on_tick(state, now, &mut fx),
        Msg::Worker(ev) => on_worker(state, ev, &mut fx),
        Msg::Terminate => quit_now(state, &mut fx),
    }
    fx
}

/// Time passes: spinners turn, drafts are saved a moment after the last edit, Spark sessions
/// are polled.
fn on_tick(state: &mut State, now: std::time::Instant, fx: &mut Vec<Effect>) {
    state.now = now;
    state.spinner = state.spinner.wrapping_add(1);
    if state.drafts_dirty
        && state
            .last_edit
            .is_some_and(|t| now.duration_since(t) >= DRAFT_DELAY)
    {
        state.drafts_dirty = false;
        fx.push(Effect::SaveDrafts(state.drafts()));
    }
    if !state.quitting {
        spark::tick(state, fx);
    }
    completion::on_tick(state, fx);
}

fn context(focus: Focus) -> KeyContext {
    match focus {
        Focus::Browser => KeyContext::Browser,
        Focus::Editor => KeyContext::Editor,
        Focus::Results => KeyContext::Grid,
    }
}

fn on_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    if state.popup.is_some() {
        super::popups::on_key(state, key, fx);
        return;
    }
    // The completion list takes its keys first; the others go on (typing narrows it).
    if state.focus == Focus::Editor && completion::on_key(state, &key, fx) {
        return;
    }
    let action = key_combo(&key).and_then(|k| state.keymap.lookup(context(state.focus), &k));
    if action.is_some_and(|a| a != Action::CompleteHere) {
        completion::close(state);
    }
    match action {
        // No job to cancel: Ctrl-C keeps its copy meaning in the editor.
        Some(Action::Cancel) if state.focus == Focus::Editor && !tab_has_active_job(state) => {
            copy_selection(state, fx)
        }
        Some(action) => on_action(state, action, fx),
        None if state.focus == Focus::Editor => {
            on_editor_key(state, key);
            completion::after_editor_key(state, &key, fx);
        }
        None => {}
    }
}

/// An action of the keymap, handed to the feature that owns it; the rest go to the focused
/// pane.
fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Quit => request_quit(state, fx),
        Action::Help => state.popup = Some(Popup::Help { scroll: 0 }),
        Action::FocusBrowser => state.focus = Focus::Browser,
        Action::FocusEditor => state.focus = Focus::Editor,
        Action::FocusResults => state.focus = Focus::Results,
        Action::CycleFocus => {
            state.focus = match state.focus {
                Focus::Browser => Focus::Editor,
                Focus::Editor => Focus::Results,
                Focus::Results => Focus::Browser,
            }
        }
        Action::NewTab
        | Action::CloseTab
        | Action::NextTab
        | Action::PrevTab
        | Action::NextResultTab
        | Action::PrevResultTab
        | Action::ChooseConnection => tabs::on_action(state, action, fx),
        Action::RunStatement | Action::RunAll => run::on_action(state, action, fx),
        Action::RunTransaction => transactions::run_transaction(state, fx),
        Action::Cancel => run::cancel_tab_jobs(state, fx),
        Action::Export => export::open_export(state),
        Action::SetRunLimit
        | Action::ToggleConsistentRead
        | Action::ToggleIndexCapacity
        | Action::ToggleResultReuse => tab_settings::on_action(state, action),
        Action::History | Action::Snippets | Action::SaveSnippet => {
            snippets::on_action(state, action, fx)
        }
        Action::ToggleSession => sessions::toggle_session(state),
        Action::EndSession => sessions::end_session(state, fx),
        Action::Monitor => monitor::open(state),
        Action::CompleteHere => completion::open(state, true, fx),
        _ => match state.focus {
            Focus::Results => grid_action(state, action, fx),
            Focus::Browser => browser_action(state, action, fx),
            Focus::Editor => {}
        },
    }
}
