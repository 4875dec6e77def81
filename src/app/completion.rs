//! Completion in the editor (issue 18): the list next to the cursor, opened by `Ctrl-Space` or
//! by itself after a short pause while a name is typed. Candidates come from the pure engine
//! (`sql::complete`) over the connection's catalog snapshot, which the worker loads (from its
//! disk cache, then the service's metadata calls) and sends back: the keystroke path never
//! waits for the network or the disk. A table's columns are asked for the first time it is in
//! scope; the list refreshes when they arrive.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::editing::editor_size;
use super::{Effect, JobTarget, State};
use crate::model::action::Action;
use crate::model::completion::{CatalogSnapshot, ColumnEntry, CompletionItem};
use crate::model::keys::KeyContext;
use crate::protocol::WorkerCmd;

/// How long typing pauses before the list opens by itself.
pub const AUTO_DELAY: Duration = Duration::from_millis(150);
/// Candidates kept for the list (the best ones; typing narrows the rest away).
const MAX_ITEMS: usize = 200;
/// Statements longer than this are not completed: tokenizing them would be felt per key.
const MAX_STATEMENT: usize = 64 * 1024;

/// What completion holds between keys.
#[derive(Debug, Clone, Default)]
pub struct CompletionState {
    /// The open list, if any.
    pub list: Option<CompletionList>,
    /// A name is being typed since then: the list opens once typing pauses.
    pub pending: Option<Instant>,
    /// Connections whose catalog was asked for (once each; `R` in the browser refreshes).
    requested: HashSet<String>,
    /// Tables whose columns were asked for: connection, schema path and name.
    requested_columns: HashSet<(String, Vec<String>)>,
    /// A name is being typed but what it needs (the catalog, a table's columns) is still on
    /// its way: the list opens when it arrives (`Some(forced)`: as `open` was asked to).
    waiting: Option<bool>,
}

/// The list next to the cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionList {
    /// The editor tab it belongs to.
    pub tab: u64,
    /// Bytes of the tab's text the chosen item replaces (the name typed so far).
    pub replace: Range<usize>,
    pub items: Vec<CompletionItem>,
    pub selected: usize,
}

/// A key while the list is open: whether the list used it (else the key goes on to the
/// editor, where typing narrows the list and anything else closes it).
pub(super) fn on_key(state: &mut State, key: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    let Some(list) = state.completion.list.as_mut() else {
        return false;
    };
    let action = state.keymap.action(KeyContext::Completion, key);
    let n = list.items.len().max(1);
    match action {
        Some(Action::Up) => list.selected = (list.selected + n - 1) % n,
        Some(Action::Down) => list.selected = (list.selected + 1) % n,
        Some(Action::Confirm | Action::Complete) => accept(state, fx),
        Some(Action::Close) => close(state),
        _ => return false,
    }
    true
}

/// After the editor took a key: typing a name narrows the open list (or arms the pause that
/// opens it); anything else closes it.
pub(super) fn after_editor_key(state: &mut State, key: &KeyEvent, fx: &mut Vec<Effect>) {
    let typing = match key.code {
        KeyCode::Char(c) => {
            !key.modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                && (c.is_alphanumeric() || c == '_' || c == '.' || c == '"')
        }
        KeyCode::Backspace => state.completion.list.is_some(),
        _ => false,
    };
    if !typing || !typing_a_name(state) {
        close(state);
    } else if state.completion.list.is_some() {
        open(state, false, fx);
    } else {
        state.completion.pending = Some(state.now);
    }
}

/// Whether the cursor ends a name (`tr`, `t.`, `"Mix`), not a number (`42`).
fn typing_a_name(state: &State) -> bool {
    let tab = state.tab();
    let (row, col) = tab.cursor();
    let Some(line) = tab.text.lines().get(row) else {
        return false;
    };
    let end = line.char_indices().nth(col).map_or(line.len(), |(i, _)| i);
    let word_start = line[..end]
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| {
            i + line[i..].chars().next().map_or(1, char::len_utf8)
        });
    !line[word_start..end].starts_with(|c: char| c.is_ascii_digit())
}

/// Every tick: opens the list once typing has paused.
pub(super) fn on_tick(state: &mut State, fx: &mut Vec<Effect>) {
    if let Some(since) = state.completion.pending
        && state.now.duration_since(since) >= AUTO_DELAY
    {
        state.completion.pending = None;
        if state.focus == super::Focus::Editor && state.popup.is_none() {
            open(state, false, fx);
        }
    }
}

/// Opens (or refreshes) the list for the name at the cursor; `forced` (`Ctrl-Space`) opens it
/// with nothing typed yet and says so when there is nothing to offer.
pub(super) fn open(state: &mut State, forced: bool, fx: &mut Vec<Effect>) {
    state.completion.pending = None;
    let tab = state.tab();
    let (tab_id, connection) = (tab.id, tab.connection.clone());
    let text = tab.contents();
    let (row, col) = tab.cursor();
    let cursor = crate::sql::byte_offset(&text, row, col);
    let (start, end) = match crate::sql::statement_at(&text, cursor) {
        Some(s) if s.start <= cursor => (s.start, s.end.max(cursor)),
        _ => (cursor, cursor),
    };
    if end - start > MAX_STATEMENT {
        if forced {
            state.flash("this statement is too long to complete", false);
        }
        close(state);
        return;
    }
    let known = state.catalogs.contains_key(&connection);
    let catalog = catalog_of(state, &connection, fx);
    let kind = state.connection_kind(&connection);
    let snippets = state.snippet_names.clone();
    let Some(kind) = kind else {
        close(state);
        return;
    };
    let found = crate::sql::complete::complete(
        &text[start..end],
        cursor - start,
        kind,
        &catalog,
        &snippets,
    );
    let incomplete = !known || !found.wanted_columns_of.is_empty();
    for (schema, table) in found.wanted_columns_of {
        let key = (
            connection.clone(),
            [schema.clone(), vec![table.clone()]].concat(),
        );
        if state.completion.requested_columns.insert(key.clone()) {
            fx.push(Effect::Worker(WorkerCmd::LoadColumns {
                connection: connection.clone(),
                table: key.1,
            }));
        }
    }
    let typed = found.replace.start < found.replace.end;
    if found.items.is_empty() || (!typed && !forced) {
        if forced && !incomplete {
            state.flash("nothing to complete here", false);
        }
        close(state);
        state.completion.waiting = (incomplete && (typed || forced)).then_some(forced);
        return;
    }
    let mut items = found.items;
    items.truncate(MAX_ITEMS);
    let selected = state
        .completion
        .list
        .as_ref()
        .and_then(|old| old.items.get(old.selected))
        .and_then(|old| items.iter().position(|i| i == old))
        .unwrap_or(0);
    state.completion.list = Some(CompletionList {
        tab: tab_id,
        replace: start + found.replace.start..start + found.replace.end,
        items,
        selected,
    });
}

/// The connection's catalog as known now; the first time, the worker is asked for it.
fn catalog_of(state: &mut State, connection: &str, fx: &mut Vec<Effect>) -> Arc<CatalogSnapshot> {
    if state.completion.requested.is_empty() && state.snippet_names.is_empty() {
        // Snippet names are offered too: the library is read once, on the worker.
        fx.push(Effect::Worker(WorkerCmd::LoadSnippets));
    }
    if state.completion.requested.insert(connection.to_string()) {
        fx.push(Effect::Worker(WorkerCmd::LoadCatalog {
            connection: connection.to_string(),
            refresh: false,
        }));
    }
    state.catalogs.get(connection).cloned().unwrap_or_default()
}

/// The worker's snapshot of `connection`'s catalog (from the disk cache, then the service). A
/// failed listing keeps what was known, and says so once in the status bar.
pub(super) fn on_catalog(
    state: &mut State,
    connection: String,
    snapshot: Result<Arc<CatalogSnapshot>, String>,
    fx: &mut Vec<Effect>,
) {
    match snapshot {
        Ok(mut snapshot) => {
            if let Some(known) = state.catalogs.get(&connection).cloned() {
                let learns = state
                    .capabilities(&connection)
                    .is_some_and(|c| c.schema_grows);
                keep_what_was_known(Arc::make_mut(&mut snapshot), &known, learns);
            }
            state.catalogs.insert(connection, snapshot);
            catalog_changed(state, fx);
        }
        Err(error) => {
            tracing::warn!(%connection, %error, "catalog not listed");
            state.flash(
                format!("completion: the catalog of `{connection}` could not be listed: {error}"),
                true,
            );
        }
    }
}

/// A new snapshot keeps the columns the app already knew for its tables: loaded ones where it
/// has none, and (`learns`: DynamoDB) the attributes seen in results besides its own.
fn keep_what_was_known(snapshot: &mut CatalogSnapshot, known: &CatalogSnapshot, learns: bool) {
    snapshot.keep_columns_of(known);
    if !learns {
        return;
    }
    for table in &known.tables {
        let Some(columns) = &table.columns else {
            continue;
        };
        if snapshot
            .find_tables(&table.schema, &table.name)
            .next()
            .is_some()
        {
            let path = [table.schema.clone(), vec![table.name.clone()]].concat();
            snapshot.learn_columns(&path, columns.iter().map(|c| c.name.clone()).collect());
        }
    }
}

/// A table's columns (and key attributes) arrived: merged into the connection's snapshot
/// (copied if the worker still shares it).
pub(super) fn on_columns(
    state: &mut State,
    connection: String,
    table: &[String],
    (columns, keys): (Result<Vec<ColumnEntry>, String>, Vec<String>),
    fx: &mut Vec<Effect>,
) {
    let learns = state
        .capabilities(&connection)
        .is_some_and(|c| c.schema_grows);
    match columns {
        Ok(columns) => {
            let snapshot = Arc::make_mut(state.catalogs.entry(connection).or_default());
            // Attributes seen in results stay (DynamoDB lists only the key schema).
            let seen: Vec<String> = (table.split_last())
                .and_then(|(name, schema)| snapshot.find_tables(schema, name).next())
                .and_then(|t| t.columns.as_ref())
                .map(|cs| cs.iter().map(|c| c.name.clone()).collect())
                .filter(|_| learns)
                .unwrap_or_default();
            snapshot.merge_columns(table, columns, keys);
            snapshot.learn_columns(table, seen);
            catalog_changed(state, fx);
        }
        Err(error) => tracing::warn!(%connection, %error, "columns not listed"),
    }
}

/// A catalog or a table's columns arrived: an open list shows what they add.
fn catalog_changed(state: &mut State, fx: &mut Vec<Effect>) {
    let waiting = state.completion.waiting.take();
    let in_editor = state.focus == super::Focus::Editor && state.popup.is_none();
    if state.completion.list.is_some() || (waiting.is_some() && in_editor) {
        open(state, waiting.unwrap_or(false), fx);
    }
}

/// `R` in the browser: the catalog is fetched again, from the service; the columns already
/// known are asked for again as their tables come into scope.
pub(super) fn forget_catalog(state: &mut State, connection: &str, fx: &mut Vec<Effect>) {
    state.completion.requested.insert(connection.to_string());
    state
        .completion
        .requested_columns
        .retain(|(c, _)| c != connection);
    fx.push(Effect::Worker(WorkerCmd::LoadCatalog {
        connection: connection.to_string(),
        refresh: true,
    }));
}

/// DynamoDB: the attribute names a result shows become its table's columns for completion
/// (items need not share attributes, and no metadata call lists them).
pub(super) fn learn_attributes(
    state: &mut State,
    target: JobTarget,
    schema: &SchemaRef,
    fx: &mut Vec<Effect>,
) {
    let Some(tab) = state.tab_by_id(target.tab) else {
        return;
    };
    let connection = tab.connection.clone();
    let learns = state
        .capabilities(&connection)
        .is_some_and(|c| c.schema_grows);
    let Some(sql) = state
        .result(target)
        .map(|r| r.sql.clone())
        .filter(|_| learns)
    else {
        return;
    };
    let end = sql.len();
    let scope = crate::sql::complete::scope::scope_of(&sql, end, end..end);
    let Some(path) = scope.tables.first().map(|t| t.path.clone()) else {
        return;
    };
    let seen: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let snapshot = Arc::make_mut(state.catalogs.entry(connection.clone()).or_default());
    snapshot.learn_columns(&path, seen);
    // The key schema still comes from the service (it names the keys a filter should use).
    if state
        .completion
        .requested_columns
        .insert((connection.clone(), path.clone()))
    {
        fx.push(Effect::Worker(WorkerCmd::LoadColumns {
            connection,
            table: path,
        }));
    }
}

/// Replaces the typed name with the chosen item.
fn accept(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(list) = state.completion.list.take() else {
        return;
    };
    let Some(item) = list.items.get(list.selected) else {
        return;
    };
    if state.tab().id != list.tab {
        return;
    }
    let (rows, cols) = editor_size(state);
    let tab = state.tab_mut();
    let text = tab.contents();
    let (row, col) = tab.cursor();
    let cursor = crate::sql::byte_offset(&text, row, col);
    let before = text
        .get(list.replace.start.min(cursor)..cursor)
        .map_or(0, |s| s.chars().count());
    let after = text
        .get(cursor..list.replace.end.max(cursor))
        .map_or(0, |s| s.chars().count());
    for _ in 0..before {
        tab.text.delete_char();
    }
    for _ in 0..after {
        tab.text.delete_next_char();
    }
    tab.text.insert_str(&item.insert);
    tab.scroll_to_cursor(rows, cols);
    state.mark_edited();
    // A qualifier (`sales.`) goes on to what it qualifies.
    if item.insert.ends_with('.') {
        open(state, true, fx);
    }
}

/// Closes the list and forgets a pending pause.
pub(super) fn close(state: &mut State) {
    state.completion.list = None;
    state.completion.pending = None;
    state.completion.waiting = None;
}
