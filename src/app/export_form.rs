//! The export dialog (`Ctrl-E`): format, scope and destination chosen with the keyboard.
//!
//! ↑/↓ move between the fields, ←/→ change the focused choice, typing edits the path, `Tab` on
//! the path completes it from the file system, Enter exports, Esc closes. Changing the format
//! changes the path's extension when it still has the previous format's.

use crossterm::event::KeyEvent;

use super::popups::text_field;
use crate::export::Format;
use crate::model::action::Action;

/// The formats the dialog offers, in order.
pub const FORMATS: [Format; 7] = [
    Format::Csv,
    Format::Tsv,
    Format::Json,
    Format::Jsonl,
    Format::Markdown,
    Format::Parquet,
    Format::Arrow,
];

/// Which rows and columns go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every row of the result, fetching what is not loaded yet (a paused result goes on).
    Whole,
    /// The rows of the filtered/sorted view, in its order.
    View,
    /// The range selected with `v` in the grid.
    Selection,
    /// The current column, every row of the view.
    Column,
    /// The current row, every column.
    Row,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Whole,
        Scope::View,
        Scope::Selection,
        Scope::Column,
        Scope::Row,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Scope::Whole => "whole result",
            Scope::View => "filtered/sorted view",
            Scope::Selection => "selection",
            Scope::Column => "current column",
            Scope::Row => "current row",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    File,
    /// OSC 52, plus the system clipboard where a tool for it is installed.
    Clipboard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Format,
    Scope,
    Destination,
    Path,
}

const FIELDS: [Field; 4] = [Field::Format, Field::Scope, Field::Destination, Field::Path];

#[derive(Debug, Clone, PartialEq)]
pub struct ExportForm {
    /// The result tab it exports.
    pub result: u64,
    pub format: Format,
    pub scope: Scope,
    pub destination: Destination,
    pub path: String,
    pub focus: Field,
    /// Whether the grid has a `v` selection (the scope is offered only then).
    pub has_selection: bool,
}

pub enum FormOutcome {
    Editing(ExportForm),
    /// Tab in the path: complete it (the app asks the worker, which reads the directory).
    Complete(ExportForm),
    Submitted(ExportForm),
    Cancelled,
}

impl ExportForm {
    pub fn new(result: u64, has_selection: bool) -> Self {
        ExportForm {
            result,
            format: Format::Csv,
            scope: if has_selection {
                Scope::Selection
            } else {
                Scope::Whole
            },
            destination: Destination::File,
            path: format!("quarry-result-{result}.csv"),
            focus: Field::Path,
            has_selection,
        }
    }

    /// `action` is what the key means in the `form` layer; other keys edit the path.
    pub fn on_key(mut self, key: &KeyEvent, action: Option<Action>) -> FormOutcome {
        match action {
            Some(Action::Close) => return FormOutcome::Cancelled,
            Some(Action::Confirm) => {
                if self.destination == Destination::File && self.path.trim().is_empty() {
                    self.focus = Field::Path;
                } else {
                    return FormOutcome::Submitted(self);
                }
            }
            Some(Action::PrevField) => self.move_focus(-1),
            Some(Action::NextField) => self.move_focus(1),
            // The directory is read by the worker, never on the UI loop.
            Some(Action::Complete) if self.focus == Field::Path => {
                return FormOutcome::Complete(self);
            }
            Some(Action::Complete) => self.move_focus(1),
            Some(Action::PrevChoice) => self.cycle(-1),
            Some(Action::NextChoice) => self.cycle(1),
            _ if self.focus == Field::Path => {
                text_field::edit(&mut self.path, key, action);
            }
            _ => {}
        }
        FormOutcome::Editing(self)
    }

    /// Pasted text goes into the path (on one line).
    pub fn paste(&mut self, text: &str) {
        self.focus = Field::Path;
        text_field::paste(&mut self.path, text, "");
    }

    fn move_focus(&mut self, step: isize) {
        let fields: Vec<Field> = FIELDS
            .into_iter()
            .filter(|f| *f != Field::Path || self.destination == Destination::File)
            .collect();
        let at = fields.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = fields.len() as isize;
        self.focus = fields[((at as isize + step).rem_euclid(n)) as usize];
    }

    fn cycle(&mut self, step: isize) {
        fn next<T: Copy + PartialEq>(all: &[T], now: T, step: isize) -> T {
            let at = all.iter().position(|x| *x == now).unwrap_or(0) as isize;
            all[((at + step).rem_euclid(all.len() as isize)) as usize]
        }
        match self.focus {
            Field::Format => {
                let old = self.format;
                self.format = next(&FORMATS, old, step);
                self.retarget_extension(old);
            }
            Field::Scope => {
                let scopes: Vec<Scope> = Scope::ALL
                    .into_iter()
                    .filter(|s| *s != Scope::Selection || self.has_selection)
                    .collect();
                self.scope = next(&scopes, self.scope, step);
            }
            Field::Destination => {
                self.destination = match self.destination {
                    Destination::File => Destination::Clipboard,
                    Destination::Clipboard => Destination::File,
                }
            }
            Field::Path => {}
        }
    }

    /// `out.csv` becomes `out.parquet` when the format changes from CSV to Parquet.
    fn retarget_extension(&mut self, old: Format) {
        let suffix = format!(".{}", old.extension());
        if let Some(stem) = self.path.strip_suffix(&suffix) {
            self.path = format!("{stem}.{}", self.format.extension());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::Keymap;
    use crate::model::keys::KeyContext;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode) -> (KeyEvent, Option<Action>) {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        let action = Keymap::default().action(KeyContext::Form, &key);
        (key, action)
    }

    fn press(form: ExportForm, code: KeyCode) -> ExportForm {
        let (key, action) = key(code);
        match form.on_key(&key, action) {
            FormOutcome::Editing(f) => f,
            _ => panic!("the form closed"),
        }
    }

    #[test]
    fn choices_cycle_and_the_extension_follows_the_format() {
        let mut f = ExportForm::new(7, false);
        assert_eq!(f.path, "quarry-result-7.csv");
        f = press(f, KeyCode::Up); // destination
        f = press(f, KeyCode::Up); // scope
        assert_eq!(f.focus, Field::Scope);
        f = press(f, KeyCode::Right);
        assert_eq!(f.scope, Scope::View);
        f = press(f, KeyCode::Right);
        assert_eq!(f.scope, Scope::Column, "no selection: the scope is skipped");
        f = press(f, KeyCode::Up);
        f = press(f, KeyCode::Left);
        assert_eq!(f.format, Format::Arrow);
        assert_eq!(f.path, "quarry-result-7.arrow");
        f = press(f, KeyCode::Left);
        assert_eq!(f.format, Format::Parquet);
        assert_eq!(f.path, "quarry-result-7.parquet");
        f = press(f, KeyCode::Down);
        f = press(f, KeyCode::Down);
        f = press(f, KeyCode::Right);
        assert_eq!(f.destination, Destination::Clipboard);
        f = press(f, KeyCode::Down);
        assert_eq!(f.focus, Field::Format, "no path field for the clipboard");
        assert!(matches!(
            f.on_key(&key(KeyCode::Enter).0, key(KeyCode::Enter).1),
            FormOutcome::Submitted(_)
        ));
    }
}
