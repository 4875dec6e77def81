//! An editor tab: its text (a ratatui-textarea model: lines, cursor, selection, undo), the
//! connection it is bound to, its scroll position and its result tabs.

use ratatui_textarea::{CursorMove, TextArea};

use super::results::ResultTab;
use crate::sql;

pub struct EditorTab {
    pub id: u64,
    pub title: String,
    pub connection: String,
    pub text: TextArea<'static>,
    /// First line shown; kept so the cursor stays visible (the UI draws the lines itself to
    /// highlight them).
    pub top: usize,
    pub left: usize,
    pub results: Vec<ResultTab>,
    pub active_result: usize,
    /// Athena: the workgroup chosen in the browser for this tab (else the connection's).
    pub workgroup: Option<String>,
    /// Athena: result reuse switched on or off for this tab (else the connection's setting).
    pub result_reuse: Option<bool>,
    /// DynamoDB: consistent reads switched on or off for this tab (else the connection's).
    pub consistent_read: Option<bool>,
    /// DynamoDB: consumed capacity per index (INDEXES) instead of the total.
    pub capacity_by_index: bool,
    /// DynamoDB: items per run before pausing for this tab (else the connection's `limit`).
    pub limit: Option<u32>,
    /// Redshift Data: sessions switched on or off for this tab (else the connection's choice).
    pub use_session: Option<bool>,
    /// Redshift Data: the server-side session this tab's statements run in.
    pub session: Option<TabSession>,
    /// Direct Redshift/PostgreSQL: the transaction open on this tab's connection.
    pub transaction: Option<TabTransaction>,
    /// Athena: the Spark session this tab's code runs in (as one calculation per run).
    pub spark: Option<String>,
}

/// An open transaction on a tab's own connection, as the status bar shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TabTransaction {
    pub since: std::time::Instant,
    /// A statement in it failed: only a rollback is accepted.
    pub failed: bool,
}

/// A Data API session held for a tab, as the status bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TabSession {
    pub id: String,
    pub keep_alive: std::time::Duration,
    /// When the service last reported it (its idle clock starts when a statement ends).
    pub since: std::time::Instant,
}

impl TabSession {
    /// Time left before it idles out, counted from its last statement; zero once gone.
    pub fn time_left(&self, now: std::time::Instant) -> std::time::Duration {
        self.keep_alive
            .saturating_sub(now.saturating_duration_since(self.since))
    }
}

impl EditorTab {
    /// The key the connector keeps this tab's session under.
    pub fn session_key(&self) -> String {
        format!("tab-{}", self.id)
    }
}

/// At most this many result tabs are kept per editor tab; the oldest finished ones go first.
pub const MAX_RESULT_TABS: usize = 12;

impl EditorTab {
    pub fn new(
        id: u64,
        title: String,
        connection: String,
        text: &str,
        cursor: (usize, usize),
    ) -> Self {
        let lines: Vec<String> = if text.is_empty() {
            vec![String::new()]
        } else {
            text.split('\n')
                .map(|l| l.trim_end_matches('\r').to_string())
                .collect()
        };
        let mut ta = TextArea::new(lines);
        ta.set_tab_length(4);
        ta.set_max_histories(1000);
        ta.move_cursor(CursorMove::Jump(
            u16::try_from(cursor.0).unwrap_or(u16::MAX),
            u16::try_from(cursor.1).unwrap_or(u16::MAX),
        ));
        EditorTab {
            id,
            title,
            connection,
            text: ta,
            top: 0,
            left: 0,
            results: Vec::new(),
            active_result: 0,
            workgroup: None,
            result_reuse: None,
            consistent_read: None,
            capacity_by_index: false,
            limit: None,
            use_session: None,
            session: None,
            transaction: None,
            spark: None,
        }
    }

    pub fn contents(&self) -> String {
        self.text.lines().join("\n")
    }

    pub fn cursor(&self) -> (usize, usize) {
        let c = self.text.cursor();
        (c.0, c.1)
    }

    /// The SQL to run for "run statement": the selection if any, else the statement under the
    /// cursor.
    pub fn statement_to_run(&self) -> Option<String> {
        let text = self.contents();
        if let Some(((r0, c0), (r1, c1))) = self.text.selection_range() {
            let a = sql::byte_offset(&text, r0, c0);
            let b = sql::byte_offset(&text, r1, c1);
            let selected = text.get(a.min(b)..a.max(b)).unwrap_or("").trim();
            if !selected.is_empty() {
                return Some(selected.trim_end_matches(';').trim().to_string());
            }
        }
        let (row, col) = self.cursor();
        let at = sql::byte_offset(&text, row, col);
        sql::statement_at(&text, at).map(|s| s.text)
    }

    /// Every statement of the tab, in order.
    pub fn all_statements(&self) -> Vec<String> {
        sql::split_statements(&self.contents())
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    /// Keeps the cursor on screen for an editor of `rows` lines and `cols` text columns.
    pub fn scroll_to_cursor(&mut self, rows: usize, cols: usize) {
        let (row, col) = self.cursor();
        let rows = rows.max(1);
        if row < self.top {
            self.top = row;
        } else if row >= self.top + rows {
            self.top = row + 1 - rows;
        }
        let cols = cols.max(1);
        if col < self.left {
            self.left = col;
        } else if col >= self.left + cols {
            self.left = col + 1 - cols;
        }
    }

    /// Adds a result tab, dropping the oldest finished ones beyond the limit.
    /// Adds a result tab; returns the oldest finished ones dropped to stay within
    /// [`MAX_RESULT_TABS`].
    #[must_use]
    pub fn push_result(&mut self, tab: ResultTab) -> Vec<ResultTab> {
        self.results.push(tab);
        let mut dropped = Vec::new();
        while self.results.len() > MAX_RESULT_TABS {
            match self.results.iter().position(|r| !r.state.is_active()) {
                Some(i) => dropped.push(self.results.remove(i)),
                None => break,
            }
        }
        self.active_result = self.results.len().saturating_sub(1);
        dropped
    }

    pub fn active_result(&self) -> Option<&ResultTab> {
        self.results.get(self.active_result)
    }

    pub fn active_result_mut(&mut self) -> Option<&mut ResultTab> {
        self.results.get_mut(self.active_result)
    }

    pub fn result_by_id(&self, id: u64) -> Option<&ResultTab> {
        self.results.iter().find(|r| r.id == id)
    }

    pub fn result_by_id_mut(&mut self, id: u64) -> Option<&mut ResultTab> {
        self.results.iter_mut().find(|r| r.id == id)
    }

    /// Where the result of that id is among the tab's results.
    pub fn result_index(&self, id: u64) -> Option<usize> {
        self.results.iter().position(|r| r.id == id)
    }
}
