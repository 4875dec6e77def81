//! Saved snippets: the picker (`Ctrl-P`, the `picker` layer: `confirm` inserts, `open` opens a
//! tab, `run` runs), the name to save under (`Ctrl-S`, a text field), and the question when that
//! name exists.

use crossterm::event::KeyEvent;

use super::confirm::{Answer, answer};
use super::text_field;
use super::{Effect, Popup, State};
use crate::app::editing::insert_into_editor;
use crate::app::pickers::{PickerKey, SnippetPicker};
use crate::app::snippets::{open_snippet, save_snippet};
use crate::model::action::Action;

pub fn on_key(
    state: &mut State,
    mut picker: SnippetPicker,
    key: &KeyEvent,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    let outcome = picker.on_key(key, action);
    let chosen = |i: usize| picker.snippets.as_ref().and_then(|s| s.get(i)).cloned();
    match outcome {
        PickerKey::Editing => Some(Popup::Snippets(picker)),
        PickerKey::Close => None,
        PickerKey::Choose(i) => {
            insert_into_editor(state, &chosen(i)?.text);
            None
        }
        PickerKey::Open(i) => {
            open_snippet(state, chosen(i)?, false, fx);
            None
        }
        PickerKey::Run(i) => {
            open_snippet(state, chosen(i)?, true, fx);
            // The `${…}` form, when the snippet has placeholders.
            state.popup.take()
        }
    }
}

/// The name to save under: `confirm` saves (a `/` makes a folder).
pub fn save(
    state: &mut State,
    mut name: String,
    body: String,
    key: &KeyEvent,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match action {
        Some(Action::Close) => None,
        Some(Action::Confirm) if !name.trim().is_empty() => {
            save_snippet(state, name.trim().to_string(), body, false, fx);
            None
        }
        _ => {
            text_field::edit(&mut name, key, action);
            Some(Popup::SaveSnippet { name, body })
        }
    }
}

/// "A snippet of that name exists: replace it?"; no goes back to the name.
pub fn overwrite(
    state: &mut State,
    name: String,
    body: String,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match answer(action, false) {
        Answer::Yes => {
            save_snippet(state, name, body, true, fx);
            None
        }
        Answer::No => Some(Popup::SaveSnippet { name, body }),
        Answer::Pending => Some(Popup::ConfirmOverwriteSnippet { name, body }),
    }
}
