//! Keys to actions, per focus context, with user overrides from the config.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::model::action::{Action, DEFAULT_KEYS};
use crate::model::keys::{KeyCodeName, parse_key};
use crate::model::keys::{KeyCombo, KeyContext, KeyOverrides};

/// The key of a terminal event, as the keymap names it (`None` for keys it cannot name).
pub fn key_combo(ev: &KeyEvent) -> Option<KeyCombo> {
    let code = match ev.code {
        KeyCode::Char(c) => KeyCodeName::Char(c.to_ascii_lowercase_if_ctrl(ev.modifiers)),
        KeyCode::F(n) => KeyCodeName::F(n),
        KeyCode::Enter => KeyCodeName::Enter,
        KeyCode::Esc => KeyCodeName::Esc,
        KeyCode::Tab => KeyCodeName::Tab,
        KeyCode::BackTab => KeyCodeName::BackTab,
        KeyCode::Backspace => KeyCodeName::Backspace,
        KeyCode::Delete => KeyCodeName::Delete,
        KeyCode::Insert => KeyCodeName::Insert,
        KeyCode::Up => KeyCodeName::Up,
        KeyCode::Down => KeyCodeName::Down,
        KeyCode::Left => KeyCodeName::Left,
        KeyCode::Right => KeyCodeName::Right,
        KeyCode::Home => KeyCodeName::Home,
        KeyCode::End => KeyCodeName::End,
        KeyCode::PageUp => KeyCodeName::PageUp,
        KeyCode::PageDown => KeyCodeName::PageDown,
        _ => return None,
    };
    // Shift is already part of a typed character ('G', '?') and of BackTab (Shift-Tab).
    let shift_included = matches!(code, KeyCodeName::Char(_) | KeyCodeName::BackTab);
    Some(KeyCombo {
        code,
        ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        alt: ev.modifiers.contains(KeyModifiers::ALT),
        shift: !shift_included && ev.modifiers.contains(KeyModifiers::SHIFT),
    })
}

trait CtrlFold {
    fn to_ascii_lowercase_if_ctrl(self, m: KeyModifiers) -> char;
}
impl CtrlFold for char {
    fn to_ascii_lowercase_if_ctrl(self, m: KeyModifiers) -> char {
        if m.contains(KeyModifiers::CONTROL) || m.contains(KeyModifiers::ALT) {
            self.to_ascii_lowercase()
        } else {
            self
        }
    }
}

/// The live keymap: defaults with the user's overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<KeyContext, Vec<(KeyCombo, Action)>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::new(&KeyOverrides::new()).unwrap_or_else(|_| Keymap {
            bindings: BTreeMap::new(),
        })
    }
}

impl Keymap {
    /// The defaults with `overrides` applied (an override replaces any default on the same key
    /// in the same context).
    pub fn new(overrides: &KeyOverrides) -> Result<Keymap, String> {
        let mut bindings: BTreeMap<KeyContext, Vec<(KeyCombo, Action)>> = BTreeMap::new();
        for (ctx, key, action) in DEFAULT_KEYS {
            let combo = parse_key(key)?;
            bindings.entry(*ctx).or_default().push((combo, *action));
        }
        for (ctx, keys) in overrides {
            for (key, action) in keys {
                let combo = parse_key(key)?;
                let list = bindings.entry(*ctx).or_default();
                list.retain(|(c, _)| *c != combo);
                list.push((combo, *action));
            }
        }
        Ok(Keymap { bindings })
    }

    /// The action bound to `combo` in `ctx`, falling back to the global bindings (not for a
    /// popup's layer, which is looked up alone).
    pub fn lookup(&self, ctx: KeyContext, combo: &KeyCombo) -> Option<Action> {
        let find = |c: KeyContext| {
            self.bindings
                .get(&c)
                .and_then(|list| list.iter().rev().find(|(k, _)| k == combo))
                .map(|(_, a)| *a)
        };
        if ctx != KeyContext::Global
            && let Some(a) = find(ctx)
        {
            return Some(a);
        }
        if ctx.is_popup() {
            return None;
        }
        find(KeyContext::Global)
    }

    /// The action a terminal key means in `ctx` (`None`: unbound, or a key the keymap cannot
    /// name).
    pub fn action(&self, ctx: KeyContext, key: &KeyEvent) -> Option<Action> {
        key_combo(key).and_then(|k| self.lookup(ctx, &k))
    }

    /// Every binding, for the help popup: (context, key, action), in action order.
    pub fn all(&self) -> Vec<(KeyContext, KeyCombo, Action)> {
        let mut out: Vec<(KeyContext, KeyCombo, Action)> = self
            .bindings
            .iter()
            .flat_map(|(ctx, list)| list.iter().map(move |(k, a)| (*ctx, *k, *a)))
            .collect();
        out.sort_by_key(|(ctx, _, a)| (*ctx, Action::ALL.iter().position(|x| x == a)));
        out
    }

    /// The keys bound to `action` in `ctx` (for hints).
    pub fn keys_for(&self, ctx: KeyContext, action: Action) -> Vec<KeyCombo> {
        self.bindings
            .get(&ctx)
            .map(|l| {
                l.iter()
                    .filter(|(_, a)| *a == action)
                    .map(|(k, _)| *k)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: m,
            kind: KeyEventKind::Press,
            state: crossterm::event::KeyEventState::NONE,
        }
    }

    #[test]
    fn parses_names() {
        assert_eq!(parse_key("ctrl-j").unwrap().code, KeyCodeName::Char('j'));
        assert!(parse_key("Ctrl-J").unwrap().ctrl);
        assert_eq!(parse_key("F5").unwrap().code, KeyCodeName::F(5));
        assert_eq!(parse_key("G").unwrap().code, KeyCodeName::Char('G'));
        assert_eq!(parse_key("shift-tab").unwrap().code, KeyCodeName::BackTab);
        assert_eq!(parse_key("-").unwrap().code, KeyCodeName::Char('-'));
        assert!(parse_key("ctrl-").is_err(), "a modifier needs a key");
        let ctrl_minus = parse_key("ctrl--").unwrap();
        assert!(ctrl_minus.ctrl && ctrl_minus.code == KeyCodeName::Char('-'));
        assert!(parse_key("hyper-x").is_err());
        assert!(parse_key("f99").is_err());
    }

    #[test]
    fn defaults_resolve_and_overrides_win() {
        let km = Keymap::default();
        let cj = key_combo(&ev(KeyCode::Char('j'), KeyModifiers::CONTROL)).unwrap();
        assert_eq!(
            km.lookup(KeyContext::Editor, &cj),
            Some(Action::RunStatement)
        );
        // Terminals send Shift-Tab as BackTab with Shift held: the config's `shift-tab`.
        let back_tab = key_combo(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)).unwrap();
        assert_eq!(Some(back_tab), parse_key("shift-tab").ok());
        let g = key_combo(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)).unwrap();
        assert_eq!(km.lookup(KeyContext::Grid, &g), Some(Action::Bottom));
        // Plain letters do nothing globally, so the editor receives them as text.
        let j = key_combo(&ev(KeyCode::Char('j'), KeyModifiers::NONE)).unwrap();
        assert_eq!(km.lookup(KeyContext::Editor, &j), None);

        let mut ov = KeyOverrides::new();
        ov.entry(KeyContext::Global)
            .or_default()
            .insert("ctrl-j".into(), Action::RunAll);
        let km = Keymap::new(&ov).unwrap();
        assert_eq!(km.lookup(KeyContext::Editor, &cj), Some(Action::RunAll));
    }
}
