//! Durable query history: every run, recorded before it is sent and completed when it ends.
//!
//! The file (`<data dir>/history.jsonl`) is append-only JSON Lines. A run is two records with
//! the same id: a `start` record written before the query goes to the server (so a crash still
//! leaves it) and an `end` record written when it finishes:
//!
//! ```text
//! {"v":1,"id":"…","event":"start","time":"2026-05-01T12:00:00.123Z","pid":4242,"connection":"athena-prod","sql":"SELECT 1","params":0}
//! {"v":1,"id":"…","event":"end","time":"2026-05-01T12:00:04.321Z","status":"succeeded","duration_ms":4198,"rows":1,"server_id":"q-7f3a"}
//! ```
//!
//! Readers merge the two by id; a start without an end is [`Status::Running`] (still running, or
//! interrupted by a crash). Several Quarry processes may append at once: each record is one
//! `write_all` of a complete line under an exclusive advisory lock ([`std::fs::File::lock`]), and
//! a writer that finds the file not ending in `\n` (a torn line left by a crash) first ends it,
//! so its own record starts on a fresh line. Unreadable lines are skipped on read.
//!
//! Secrets never go here: parameter values are stored only as a count, and the statistics come
//! from [`JobStats`], which holds no credentials.
//!
//! Writing the history must never fail a query: every method returns a `Result` for the caller
//! to log (or show once) and go on.

mod file;
mod query;
mod records;
mod time;

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::model::job::JobStats;

pub use file::History;
pub use query::Query;
pub use time::{format_time, parse_time};

/// The format version written in every record (`"v"`).
pub const FORMAT_VERSION: u32 = 1;

/// The longest SQL text kept (bytes); longer texts are cut at a character boundary and marked
/// `sql_truncated`.
pub const MAX_SQL_BYTES: usize = 1 << 20;

/// How much history to keep (`[history] max_entries`, `max_age_days`). Zero means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_entries: usize,
    pub max_age_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_entries: 10_000,
            max_age_days: 90,
        }
    }
}

/// Errors reading or writing the history file.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot encode a history record: {0}")]
    Encode(#[source] serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HistoryError {
    fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        HistoryError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// How a run ended, or that it has not (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A start record without an end: still running, or its process died.
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl Status {
    /// What lists show: `running/interrupted`, `succeeded`, `failed`, `cancelled`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Running => "running/interrupted",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    /// `ok`/`succeeded`, `failed`, `cancelled`/`canceled`, `running`/`interrupted`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ok" | "succeeded" | "success" => Ok(Status::Succeeded),
            "failed" | "error" => Ok(Status::Failed),
            "cancelled" | "canceled" => Ok(Status::Cancelled),
            "running" | "interrupted" => Ok(Status::Running),
            _ => Err(format!(
                "unknown status `{s}` (expected ok, failed, cancelled or running)"
            )),
        }
    }
}

/// A run about to be sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewRun {
    /// The connection's name.
    pub connection: String,
    /// The editor tab's label, if the run came from one.
    pub tab: Option<String>,
    /// The SQL text as the user ran it.
    pub sql: String,
    /// How many parameter values were bound (the values themselves are never stored).
    pub params: usize,
}

/// A recorded start, to pass to [`History::record_end`]; it also times the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunId {
    id: String,
    started: Instant,
}

impl RunId {
    /// The record id (a UUID).
    pub fn as_str(&self) -> &str {
        &self.id
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnd {
    pub status: Status,
    /// Rows returned (or reported changed), when known.
    pub rows: Option<u64>,
    /// What the service reported: bytes scanned, cost, its query id, other figures.
    pub stats: JobStats,
    pub error: Option<String>,
}

impl RunEnd {
    pub fn succeeded(rows: u64, stats: &JobStats) -> RunEnd {
        RunEnd {
            status: Status::Succeeded,
            rows: Some(rows),
            stats: stats.clone(),
            error: None,
        }
    }

    pub fn failed(error: impl Into<String>, stats: &JobStats) -> RunEnd {
        RunEnd {
            status: Status::Failed,
            rows: None,
            stats: stats.clone(),
            error: Some(error.into()),
        }
    }

    pub fn cancelled(stats: &JobStats) -> RunEnd {
        RunEnd {
            status: Status::Cancelled,
            rows: None,
            stats: stats.clone(),
            error: None,
        }
    }
}

/// One run as read back: its start merged with its end (if any).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub id: String,
    /// When it was sent.
    #[serde(serialize_with = "ser_time")]
    pub time: SystemTime,
    pub connection: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tab: Option<String>,
    pub sql: String,
    #[serde(skip_serializing_if = "is_false")]
    pub sql_truncated: bool,
    pub params: usize,
    pub status: Status,
    #[serde(
        rename = "duration_ms",
        serialize_with = "ser_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_scanned: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// The server's query id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    /// Other service figures, labelled, in display order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Entry {
    /// The first non-blank line of the SQL, trimmed (what one-line lists show).
    pub fn first_line(&self) -> &str {
        self.sql
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn ser_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

fn ser_millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests;
