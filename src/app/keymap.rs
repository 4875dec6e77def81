//! Keys to actions, per focus context, with user overrides from the config.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use super::action::Action;

/// Where a binding applies. `Global` bindings work in every pane; a pane's own bindings win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyContext {
    Global,
    Editor,
    Browser,
    Grid,
}

/// A key with its modifiers, normalised so that `Shift` on characters is folded into the char.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyCombo {
    pub code: KeyCodeName,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

/// The subset of key codes a binding can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeName {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

impl KeyCombo {
    pub fn from_event(ev: &KeyEvent) -> Option<KeyCombo> {
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
        let is_char = matches!(code, KeyCodeName::Char(_));
        Some(KeyCombo {
            code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
            // Shift is already part of a typed character ('G', '?').
            shift: !is_char && ev.modifiers.contains(KeyModifiers::SHIFT),
        })
    }
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

/// Parses a key name as written in the config: `ctrl-j`, `alt-1`, `f5`, `enter`, `G`, `?`,
/// `shift-tab`, `pgdn`. Case of modifier and key names does not matter; single characters keep
/// their case (`g` and `G` differ).
pub fn parse_key(text: &str) -> Result<KeyCombo, String> {
    let mut ctrl = false;
    let mut alt = false;
    let mut shift = false;
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        if rest.len() > 1 && (lower.starts_with("ctrl-") || lower.starts_with("ctrl+")) {
            ctrl = true;
            rest = &rest[5..];
        } else if rest.len() > 1 && (lower.starts_with("alt-") || lower.starts_with("alt+")) {
            alt = true;
            rest = &rest[4..];
        } else if rest.len() > 1 && (lower.starts_with("shift-") || lower.starts_with("shift+")) {
            shift = true;
            rest = &rest[6..];
        } else {
            break;
        }
    }
    let lower = rest.to_ascii_lowercase();
    let code = match lower.as_str() {
        "enter" | "return" => KeyCodeName::Enter,
        "esc" | "escape" => KeyCodeName::Esc,
        "tab" if shift => {
            shift = false;
            KeyCodeName::BackTab
        }
        "tab" => KeyCodeName::Tab,
        "backtab" => KeyCodeName::BackTab,
        "backspace" => KeyCodeName::Backspace,
        "delete" | "del" => KeyCodeName::Delete,
        "insert" | "ins" => KeyCodeName::Insert,
        "up" => KeyCodeName::Up,
        "down" => KeyCodeName::Down,
        "left" => KeyCodeName::Left,
        "right" => KeyCodeName::Right,
        "home" => KeyCodeName::Home,
        "end" => KeyCodeName::End,
        "pageup" | "pgup" => KeyCodeName::PageUp,
        "pagedown" | "pgdn" => KeyCodeName::PageDown,
        "space" => KeyCodeName::Char(' '),
        f if f.len() >= 2 && f.starts_with('f') && f[1..].chars().all(|c| c.is_ascii_digit()) => {
            let n: u8 = f[1..]
                .parse()
                .map_err(|_| format!("unknown key `{text}`"))?;
            if !(1..=24).contains(&n) {
                return Err(format!("unknown key `{text}`: function keys are f1..f24"));
            }
            KeyCodeName::F(n)
        }
        _ => {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_control() => {
                    if ctrl || alt {
                        KeyCodeName::Char(c.to_ascii_lowercase())
                    } else {
                        KeyCodeName::Char(c)
                    }
                }
                _ => {
                    return Err(format!(
                        "unknown key `{text}` (examples: ctrl-j, alt-1, f5, enter, pgdn, G)"
                    ));
                }
            }
        }
    };
    if matches!(code, KeyCodeName::Char(_)) {
        shift = false;
    }
    Ok(KeyCombo {
        code,
        ctrl,
        alt,
        shift,
    })
}

impl fmt::Display for KeyCombo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        if self.shift {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCodeName::Char(' ') => f.write_str("Space"),
            KeyCodeName::Char(c) if self.ctrl || self.alt => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCodeName::Char(c) => write!(f, "{c}"),
            KeyCodeName::F(n) => write!(f, "F{n}"),
            KeyCodeName::Enter => f.write_str("Enter"),
            KeyCodeName::Esc => f.write_str("Esc"),
            KeyCodeName::Tab => f.write_str("Tab"),
            KeyCodeName::BackTab => f.write_str("Shift-Tab"),
            KeyCodeName::Backspace => f.write_str("Backspace"),
            KeyCodeName::Delete => f.write_str("Del"),
            KeyCodeName::Insert => f.write_str("Ins"),
            KeyCodeName::Up => f.write_str("↑"),
            KeyCodeName::Down => f.write_str("↓"),
            KeyCodeName::Left => f.write_str("←"),
            KeyCodeName::Right => f.write_str("→"),
            KeyCodeName::Home => f.write_str("Home"),
            KeyCodeName::End => f.write_str("End"),
            KeyCodeName::PageUp => f.write_str("PgUp"),
            KeyCodeName::PageDown => f.write_str("PgDn"),
        }
    }
}

/// User overrides as they come from the config: context → key name → action.
pub type KeyOverrides = BTreeMap<KeyContext, BTreeMap<String, Action>>;

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
        for (ctx, key, action) in super::action::DEFAULT_KEYS {
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

    /// The action bound to `combo` in `ctx`, falling back to the global bindings.
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
        find(KeyContext::Global)
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
        let cj = KeyCombo::from_event(&ev(KeyCode::Char('j'), KeyModifiers::CONTROL)).unwrap();
        assert_eq!(
            km.lookup(KeyContext::Editor, &cj),
            Some(Action::RunStatement)
        );
        let g = KeyCombo::from_event(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)).unwrap();
        assert_eq!(km.lookup(KeyContext::Grid, &g), Some(Action::Bottom));
        // Plain letters do nothing globally, so the editor receives them as text.
        let j = KeyCombo::from_event(&ev(KeyCode::Char('j'), KeyModifiers::NONE)).unwrap();
        assert_eq!(km.lookup(KeyContext::Editor, &j), None);

        let mut ov = KeyOverrides::new();
        ov.entry(KeyContext::Global)
            .or_default()
            .insert("ctrl-j".into(), Action::RunAll);
        let km = Keymap::new(&ov).unwrap();
        assert_eq!(km.lookup(KeyContext::Editor, &cj), Some(Action::RunAll));
    }
}
