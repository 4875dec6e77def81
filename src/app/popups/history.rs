//! The run history (`F8`, the `picker` layer): `confirm` puts the statement into the editor,
//! `open` fetches the results again by their server id where the service keeps them.

use crossterm::event::KeyEvent;

use super::{Effect, Popup, State};
use crate::app::Focus;
use crate::app::editing::insert_into_editor;
use crate::app::pickers::{HistoryPicker, PickerKey};
use crate::app::run::run_with;
use crate::app::tabs::new_tab;
use crate::model::action::Action;

pub fn on_key(
    state: &mut State,
    mut picker: HistoryPicker,
    key: &KeyEvent,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match picker.on_key(key, action) {
        PickerKey::Editing => Some(Popup::History(picker)),
        PickerKey::Close | PickerKey::Run(_) => None,
        PickerKey::Choose(i) => {
            let entry = picker.entries.as_ref().and_then(|e| e.get(i)).cloned()?;
            if state.connection_kind(&entry.connection).is_some()
                && state.tab().connection != entry.connection
            {
                new_tab(state, entry.connection.clone(), "");
            }
            insert_into_editor(state, &entry.sql);
            None
        }
        PickerKey::Open(i) => {
            let entry = picker.entries.as_ref().and_then(|e| e.get(i)).cloned()?;
            let reopenable = state
                .connection_kind(&entry.connection)
                .is_some_and(|k| k.capabilities().reopen);
            match entry.server_id.filter(|_| reopenable) {
                Some(server_id) => {
                    if state.tab().connection != entry.connection {
                        new_tab(state, entry.connection.clone(), "");
                    }
                    state.focus = Focus::Results;
                    run_with(
                        state,
                        vec![entry.sql],
                        vec![Vec::new()],
                        Some(server_id),
                        None,
                        fx,
                    );
                    None
                }
                None => {
                    state.flash(
                        "only Athena and Redshift Data results can be reopened (by their query id)",
                        true,
                    );
                    Some(Popup::History(picker))
                }
            }
        }
    }
}
