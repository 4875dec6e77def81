//! One-line inputs (the `input` layer): the grid and browser filters, the run limit, and the
//! password a server asks for. Each is a [`text_field`](super::text_field) with what `confirm`
//! does with its text.

use crossterm::event::KeyEvent;

use super::text_field;
use super::{Effect, Popup, State};
use crate::app::grid::{clear_view, set_view};
use crate::app::results::ViewKind;
use crate::app::run::run;
use crate::model::action::Action;
use crate::protocol::WorkerCmd;

/// What a one-line text input popup is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputPurpose {
    GridFilter,
    BrowserFilter,
    /// DynamoDB: items per run before pausing, for this tab.
    RunLimit,
}

pub fn on_key(
    state: &mut State,
    purpose: InputPurpose,
    mut text: String,
    key: &KeyEvent,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match action {
        Some(Action::Close) => {
            if purpose == InputPurpose::BrowserFilter {
                state.browser.filter.clear();
            }
            None
        }
        Some(Action::Confirm) => {
            submit_input(state, purpose, text, fx);
            None
        }
        _ => {
            if text_field::edit(&mut text, key, action) {
                live_input(state, purpose, &text);
            }
            Some(Popup::Input { purpose, text })
        }
    }
}

/// Applies input as it is typed where that is cheap (the browser filter).
fn live_input(state: &mut State, purpose: InputPurpose, text: &str) {
    if purpose == InputPurpose::BrowserFilter {
        state.browser.filter = text.to_string();
        state.browser.selected = 0;
        state.browser.top = 0;
    }
}

fn submit_input(state: &mut State, purpose: InputPurpose, text: String, fx: &mut Vec<Effect>) {
    match purpose {
        InputPurpose::BrowserFilter => live_input(state, purpose, &text),
        InputPurpose::GridFilter => {
            let Some(r) = state.tab_mut().active_result_mut() else {
                return;
            };
            r.grid.row = 0;
            r.grid.top = 0;
            if text.is_empty() {
                clear_view(r);
            } else {
                set_view(r, ViewKind::Filter { needle: text }, fx);
            }
        }
        InputPurpose::RunLimit => match text.trim() {
            "" => {
                state.tab_mut().limit = None;
                state.flash("this tab uses the connection's limit again", false);
            }
            t => match t.parse::<u32>() {
                Ok(n) if n > 0 => {
                    state.tab_mut().limit = Some(n);
                    state.flash(format!("this tab pauses after {n} items"), false);
                }
                _ => state.flash(format!("`{t}` is not a number of items (1 or more)"), true),
            },
        },
    }
}

/// The password for `connection`, kept in memory by the worker; the run that wanted it goes
/// again.
pub fn password(
    state: &mut State,
    connection: String,
    mut text: String,
    rerun: Vec<String>,
    key: &KeyEvent,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match action {
        Some(Action::Close) => None,
        Some(Action::Confirm) if !text.is_empty() => {
            fx.push(Effect::Worker(WorkerCmd::SetPassword {
                connection,
                password: text,
            }));
            if !rerun.is_empty() {
                run(state, rerun, None, fx);
            }
            None
        }
        _ => {
            text_field::edit(&mut text, key, action);
            Some(Popup::Password {
                connection,
                text,
                rerun,
            })
        }
    }
}
