//! Popup keys go through the keymap's popup layers: rebindable per layer, and closed to the
//! global bindings underneath.

use crossterm::event::{KeyCode, KeyModifiers};

use super::{ctrl, key, state, type_text};
use crate::app::keymap::Keymap;
use crate::app::{Effect, InputPurpose, Popup, update};
use crate::model::action::Action;
use crate::model::keys::{KeyContext, KeyOverrides};

fn plain(c: char) -> crate::app::Msg {
    key(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn a_question_answers_to_a_rebound_key_and_still_to_its_defaults() {
    let mut overrides = KeyOverrides::new();
    overrides
        .entry(KeyContext::Confirm)
        .or_default()
        .insert("o".into(), Action::Yes);
    let mut s = state();
    s.keymap = Keymap::new(&overrides).unwrap();
    update(&mut s, ctrl('n'));
    type_text(&mut s, "SELECT 1");
    update(&mut s, ctrl('w'));
    assert!(matches!(s.popup, Some(Popup::ConfirmCloseTab)));
    // Not an answer: the question stays.
    update(&mut s, plain('x'));
    assert!(matches!(s.popup, Some(Popup::ConfirmCloseTab)));
    update(&mut s, plain('o'));
    assert!(s.popup.is_none());
    assert_eq!(s.tabs.len(), 1);
}

#[test]
fn global_keys_do_not_reach_into_a_text_field() {
    let mut s = state();
    s.popup = Some(Popup::Input {
        purpose: InputPurpose::RunLimit,
        text: String::new(),
    });
    let fx = update(&mut s, ctrl('q'));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Quit)));
    assert!(!s.quitting);
    for c in ['1', '2', '3'] {
        update(&mut s, plain(c));
    }
    update(&mut s, key(KeyCode::Backspace, KeyModifiers::NONE));
    let Some(Popup::Input { text, .. }) = &s.popup else {
        panic!("the input stays open: {:?}", s.popup);
    };
    assert_eq!(text, "12");
    update(&mut s, ctrl('u'));
    assert!(matches!(&s.popup, Some(Popup::Input { text, .. }) if text.is_empty()));
    update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert!(s.popup.is_none());
}

#[test]
fn the_help_lists_every_popup_layer_from_the_live_keymap() {
    let all = Keymap::default().all();
    for ctx in KeyContext::ALL.into_iter().filter(|c| c.is_popup()) {
        assert!(
            all.iter().any(|(c, _, a)| *c == ctx && *a == Action::Close)
                || ctx == KeyContext::Confirm,
            "{ctx:?} has no close key"
        );
    }
    assert!(
        all.iter().any(|(c, k, a)| *c == KeyContext::Confirm
            && k.to_string() == "y"
            && *a == Action::Yes)
    );
    for ctx in KeyContext::ALL {
        assert_eq!(KeyContext::from_name(ctx.name()), Some(ctx));
    }
}
