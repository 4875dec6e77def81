//! The one-line text field every popup types into (filters, run limit, password, snippet name,
//! picker queries, form fields, the export path): the text grows and shrinks at its end, the
//! `clear-input` binding empties it, pasted text arrives on one line.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::model::action::Action;

/// Applies an editing key to `text`; `action` is what the key means in the popup's layer.
/// Returns whether the key was an edit (the text may be unchanged: Backspace on nothing), so a
/// caller can refresh what depends on the text.
pub fn edit(text: &mut String, key: &KeyEvent, action: Option<Action>) -> bool {
    if action == Some(Action::ClearInput) {
        text.clear();
        return true;
    }
    match key.code {
        KeyCode::Backspace => {
            text.pop();
            true
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) && !c.is_control() => {
            text.push(c);
            true
        }
        _ => false,
    }
}

/// [`edit`] for the forms that read keys themselves: `Ctrl-U` clears, as the `input` layer's
/// default `clear-input` does.
pub fn edit_in_form(text: &mut String, key: &KeyEvent) -> bool {
    let clear = key.code == KeyCode::Char('u') && key.modifiers.contains(KeyModifiers::CONTROL);
    edit(text, key, clear.then_some(Action::ClearInput))
}

/// Pasted text on one line: line breaks become `joiner`.
pub fn paste(text: &mut String, pasted: &str, joiner: &str) {
    text.push_str(&pasted.replace("\r\n", joiner).replace(['\r', '\n'], joiner));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn types_deletes_and_clears_at_the_end() {
        let mut text = String::from("ab");
        assert!(edit(
            &mut text,
            &key(KeyCode::Char('c'), KeyModifiers::NONE),
            None
        ));
        assert!(edit(
            &mut text,
            &key(KeyCode::Char('D'), KeyModifiers::SHIFT),
            None
        ));
        assert_eq!(text, "abcD");
        assert!(edit(
            &mut text,
            &key(KeyCode::Backspace, KeyModifiers::NONE),
            None
        ));
        assert_eq!(text, "abc");
        assert!(!edit(
            &mut text,
            &key(KeyCode::Char('x'), KeyModifiers::CONTROL),
            None
        ));
        assert!(!edit(
            &mut text,
            &key(KeyCode::Left, KeyModifiers::NONE),
            None
        ));
        assert_eq!(text, "abc");
        assert!(edit_in_form(
            &mut text,
            &key(KeyCode::Char('u'), KeyModifiers::CONTROL)
        ));
        assert_eq!(text, "");
        paste(&mut text, "a\r\nb\nc", " ");
        assert_eq!(text, "a b c");
    }
}
