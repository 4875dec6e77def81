//! The two searchable lists: run history (`F8`) and saved snippets (`Ctrl-P`). Both load on the
//! worker and arrive later (`None` until then); typing narrows them, ↑/↓ choose.

use crossterm::event::KeyEvent;

use super::popups::text_field;
use crate::model::action::Action;

use crate::store::history::Entry;
use crate::store::snippets::{Snippet, rank};

/// What a key did in a picker.
pub enum PickerKey {
    Editing,
    Close,
    /// Enter: insert (snippet) / put into the editor (history).
    Choose(usize),
    /// Ctrl-O: snippet → open in a new tab on its connection; history → reopen the results.
    Open(usize),
    /// Ctrl-R: run the snippet.
    Run(usize),
}

/// Shared text/selection editing; `n` is how many items match. `action` is what the key means
/// in the `picker` layer; other keys edit the query.
fn on_key(
    query: &mut String,
    selected: &mut usize,
    n: usize,
    key: &KeyEvent,
    action: Option<Action>,
    hit: &[usize],
) -> PickerKey {
    let pick = hit.get(*selected).copied();
    match (action, pick) {
        (Some(Action::Close), _) => return PickerKey::Close,
        (Some(Action::Confirm), Some(i)) => return PickerKey::Choose(i),
        (Some(Action::Open), Some(i)) => return PickerKey::Open(i),
        (Some(Action::Run), Some(i)) => return PickerKey::Run(i),
        (Some(Action::Confirm | Action::Open | Action::Run), None) => {}
        (Some(Action::Up), _) => *selected = selected.saturating_sub(1),
        (Some(Action::Down), _) => *selected = (*selected + 1).min(n.saturating_sub(1)),
        _ => {
            if text_field::edit(query, key, action) {
                *selected = 0;
            }
        }
    }
    PickerKey::Editing
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPicker {
    pub entries: Option<Vec<Entry>>,
    pub error: Option<String>,
    /// Words that must all appear (in the SQL, connection, tab, server id or error);
    /// `c:NAME` keeps one connection, `s:failed` (ok, cancelled, running) one status.
    pub query: String,
    pub selected: usize,
    /// [`HistoryPicker::matches`] for the current query and entries, so drawing a frame does not
    /// search the whole history again.
    pub hits: Vec<usize>,
}

impl HistoryPicker {
    pub fn loading() -> Self {
        HistoryPicker {
            entries: None,
            error: None,
            query: String::new(),
            selected: 0,
            hits: Vec::new(),
        }
    }

    /// The entries arrived (or failed to).
    pub fn loaded(&mut self, entries: Result<Vec<Entry>, String>) {
        match entries {
            Ok(entries) => self.entries = Some(entries),
            Err(e) => {
                self.entries = Some(Vec::new());
                self.error = Some(e);
            }
        }
        self.hits = self.matches();
    }

    /// Indices of the entries the query keeps, newest first.
    pub fn matches(&self) -> Vec<usize> {
        let Some(entries) = &self.entries else {
            return Vec::new();
        };
        let mut connection = None;
        let mut status = None;
        let mut words = Vec::new();
        for token in self.query.split_whitespace() {
            if let Some(c) = token.strip_prefix("c:") {
                connection = Some(c.to_lowercase());
            } else if let Some(s) = token.strip_prefix("s:") {
                status = Some(s.to_lowercase());
            } else {
                words.push(token.to_lowercase());
            }
        }
        entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                connection
                    .as_ref()
                    .is_none_or(|c| e.connection.to_lowercase() == *c)
                    && status.as_ref().is_none_or(|s| {
                        e.status.label().to_lowercase().contains(s.as_str())
                            || (s == "ok" && e.status.label() == "succeeded")
                    })
                    && words.iter().all(|w| {
                        let hay = format!(
                            "{} {} {} {} {}",
                            e.sql,
                            e.connection,
                            e.tab.as_deref().unwrap_or(""),
                            e.server_id.as_deref().unwrap_or(""),
                            e.error.as_deref().unwrap_or("")
                        )
                        .to_lowercase();
                        hay.contains(w.as_str())
                    })
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>) -> PickerKey {
        let query = self.query.clone();
        let outcome = on_key(
            &mut self.query,
            &mut self.selected,
            self.hits.len(),
            key,
            action,
            &self.hits,
        );
        if self.query != query {
            self.hits = self.matches();
        }
        outcome
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SnippetPicker {
    pub snippets: Option<Vec<Snippet>>,
    /// Files that could not be read (shown under the list; they stay untouched).
    pub errors: Vec<String>,
    pub query: String,
    pub selected: usize,
    /// [`SnippetPicker::matches`] for the current query and snippets (ranked once, not per
    /// frame).
    pub hits: Vec<usize>,
}

impl SnippetPicker {
    pub fn loading() -> Self {
        SnippetPicker {
            snippets: None,
            errors: Vec::new(),
            query: String::new(),
            selected: 0,
            hits: Vec::new(),
        }
    }

    /// The library arrived.
    pub fn loaded(&mut self, snippets: Vec<Snippet>, errors: Vec<String>) {
        self.snippets = Some(snippets);
        self.errors = errors;
        self.hits = self.matches();
    }

    /// Indices of the matching snippets, best first (name, then tags, then text).
    pub fn matches(&self) -> Vec<usize> {
        match &self.snippets {
            Some(s) => rank(&self.query, s).into_iter().map(|(i, _)| i).collect(),
            None => Vec::new(),
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>) -> PickerKey {
        let query = self.query.clone();
        let outcome = on_key(
            &mut self.query,
            &mut self.selected,
            self.hits.len(),
            key,
            action,
            &self.hits,
        );
        if self.query != query {
            self.hits = self.matches();
        }
        outcome
    }
}
