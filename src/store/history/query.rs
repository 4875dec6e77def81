//! Filtering the history: by connection, status and text.

use super::Entry;
#[cfg(doc)]
use super::History;
use super::Status;

/// A filter over [`History::entries`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Only runs on this connection (exact name).
    pub connection: Option<String>,
    /// Only runs whose SQL, tab, server query id or error contains this (case-insensitive).
    pub grep: Option<String>,
    pub status: Option<Status>,
    /// At most this many (the newest, when applied to [`History::entries`]).
    pub limit: Option<usize>,
}

impl Query {
    pub fn matches(&self, e: &Entry) -> bool {
        if let Some(c) = &self.connection
            && &e.connection != c
        {
            return false;
        }
        if let Some(s) = self.status
            && e.status != s
        {
            return false;
        }
        if let Some(needle) = &self.grep {
            let needle = needle.to_lowercase();
            let hit = [
                Some(e.sql.as_str()),
                e.tab.as_deref(),
                e.server_id.as_deref(),
                e.error.as_deref(),
            ]
            .into_iter()
            .flatten()
            .any(|text| text.to_lowercase().contains(&needle));
            if !hit {
                return false;
            }
        }
        true
    }

    /// The entries that match, in their order, up to `limit`.
    pub fn apply(&self, entries: Vec<Entry>) -> Vec<Entry> {
        entries
            .into_iter()
            .filter(|e| self.matches(e))
            .take(self.limit.unwrap_or(usize::MAX))
            .collect()
    }
}
