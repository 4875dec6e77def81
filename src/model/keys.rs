//! Keys as the keymap names them: the context a binding applies in, a key with its modifiers,
//! and the parser of the config's key names (`ctrl-j`, `alt-1`, `f5`, `G`). Terminal events are
//! turned into these by `app::keymap`; nothing here knows the terminal library.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::action::Action;

/// Where a binding applies. `Global` bindings work in every pane; a pane's own bindings win.
/// The popup layers (`Input` and after) are closed worlds: while a popup is open only its own
/// layer is looked up, so `Ctrl-Q` does not quit from inside a text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyContext {
    Global,
    Editor,
    Browser,
    Grid,
    /// A one-line text input (filters, run limit, password, snippet name).
    Input,
    /// A question (close tab, overwrite, cancel the export, open transactions, what to stop on
    /// quitting).
    Confirm,
    /// A list to choose from (connections, Spark session details).
    List,
    /// A searchable list: typed keys go to the query (history, snippets).
    Picker,
    /// The jobs and sessions monitor.
    Monitor,
    /// A text to read (help, messages).
    Scroll,
    /// A form of several fields (query parameters, export).
    Form,
    /// The completion list next to the editor's cursor: the keys it does not bind go on to
    /// the editor (typing narrows the list).
    Completion,
}

impl KeyContext {
    /// Every context, in the order the help lists them.
    pub const ALL: [KeyContext; 12] = [
        KeyContext::Global,
        KeyContext::Editor,
        KeyContext::Browser,
        KeyContext::Grid,
        KeyContext::Input,
        KeyContext::Confirm,
        KeyContext::List,
        KeyContext::Picker,
        KeyContext::Monitor,
        KeyContext::Scroll,
        KeyContext::Form,
        KeyContext::Completion,
    ];

    /// The name of its config table: `[keys.<name>]`.
    pub fn name(self) -> &'static str {
        match self {
            KeyContext::Global => "global",
            KeyContext::Editor => "editor",
            KeyContext::Browser => "browser",
            KeyContext::Grid => "grid",
            KeyContext::Input => "input",
            KeyContext::Confirm => "confirm",
            KeyContext::List => "list",
            KeyContext::Picker => "picker",
            KeyContext::Monitor => "monitor",
            KeyContext::Scroll => "scroll",
            KeyContext::Form => "form",
            KeyContext::Completion => "completion",
        }
    }

    /// The context whose config table is `[keys.<name>]`.
    pub fn from_name(name: &str) -> Option<KeyContext> {
        KeyContext::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Its heading in the help popup.
    pub fn title(self) -> &'static str {
        match self {
            KeyContext::Global => "Everywhere",
            KeyContext::Editor => "Editor",
            KeyContext::Browser => "Browser",
            KeyContext::Grid => "Results grid",
            KeyContext::Input => "Text inputs",
            KeyContext::Confirm => "Questions",
            KeyContext::List => "Lists",
            KeyContext::Picker => "History and snippets",
            KeyContext::Monitor => "Jobs and sessions monitor",
            KeyContext::Scroll => "Help and messages",
            KeyContext::Form => "Forms (query parameters, export, Spark session start)",
            KeyContext::Completion => "Completion (the list next to the editor's cursor)",
        }
    }

    /// A popup's layer: looked up alone, without the global bindings under it.
    pub fn is_popup(self) -> bool {
        !matches!(
            self,
            KeyContext::Global | KeyContext::Editor | KeyContext::Browser | KeyContext::Grid
        )
    }

    /// `[keys.global], [keys.editor], …`: the tables a config may have, for error messages.
    pub fn table_list() -> String {
        KeyContext::ALL
            .iter()
            .map(|c| format!("[keys.{}]", c.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
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

/// User overrides as they come from the config: context → key name → action.
pub type KeyOverrides = BTreeMap<KeyContext, BTreeMap<String, Action>>;

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
