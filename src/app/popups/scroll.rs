//! Texts to read: the help, a message, the cell inspector (which scrolls itself). The `close`
//! binding of the `scroll` layer closes them.

use super::{Effect, Popup, State};
use crate::app::inspector::Inspector;
use crate::model::action::Action;

pub fn help(state: &State, scroll: usize, action: Option<Action>) -> Option<Popup> {
    let page = (state.area.height as usize).saturating_sub(6).max(1);
    let scroll = match action {
        Some(Action::Close) => return None,
        Some(Action::Up) => scroll.saturating_sub(1),
        Some(Action::Down) => scroll + 1,
        Some(Action::PageUp) => scroll.saturating_sub(page),
        Some(Action::PageDown) => scroll + page,
        Some(Action::Top) => 0,
        _ => scroll,
    };
    Some(Popup::Help { scroll })
}

pub fn message(title: String, text: String, action: Option<Action>) -> Option<Popup> {
    (action != Some(Action::Close)).then_some(Popup::Message { title, text })
}

pub fn inspector(
    state: &State,
    mut ins: Inspector,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    if action == Some(Action::Close) {
        return None;
    }
    ins.on_key(action, state.area, fx);
    Some(Popup::Inspector(ins))
}
