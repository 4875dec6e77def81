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

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{AtomicFile, DataPaths, StoreError};
use crate::model::job::JobStats;

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

/// The history file. Cheap to hold: every call opens the file, so several processes (and
/// threads) can share it.
#[derive(Debug, Clone)]
pub struct History {
    path: PathBuf,
    retention: Retention,
}

impl History {
    /// Opens the history at `path` (which need not exist yet; its directory must) and compacts
    /// it if it has grown past its retention (a failed compaction is only logged).
    pub fn open(path: impl Into<PathBuf>, retention: Retention) -> Result<History, HistoryError> {
        let history = History {
            path: path.into(),
            retention,
        };
        match fs::read(&history.path) {
            Ok(bytes) => {
                if history.needs_compaction(&bytes, SystemTime::now())
                    && let Err(e) = history.compact()
                {
                    tracing::warn!("history not compacted: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(HistoryError::io("read history from", &history.path, e)),
        }
        Ok(history)
    }

    /// [`History::open`] on `<data dir>/history.jsonl`, creating the data directory.
    pub fn open_default(retention: Retention) -> Result<History, HistoryError> {
        let paths = DataPaths::resolve()?;
        paths.ensure()?;
        Self::open(paths.history_file, retention)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that `run` is about to be sent. Call it before sending, so that a crash still
    /// leaves the record; keep the id for [`History::record_end`]. An error here must not stop
    /// the query: log it and run anyway.
    pub fn record_start(&self, run: NewRun) -> Result<RunId, HistoryError> {
        let id = uuid::Uuid::new_v4().to_string();
        let (sql, sql_truncated) = cap_sql(run.sql);
        let record = Record {
            v: FORMAT_VERSION,
            id: id.clone(),
            event: Event::Start(StartRecord {
                time: format_time(SystemTime::now()),
                pid: Some(std::process::id()),
                connection: run.connection,
                tab: run.tab,
                sql,
                sql_truncated,
                params: run.params,
            }),
        };
        self.append(&record)?;
        Ok(RunId {
            id,
            started: Instant::now(),
        })
    }

    /// Records how the run `id` ended (its duration is timed from [`History::record_start`]).
    /// An error here must not fail the query: log it and go on.
    pub fn record_end(&self, id: &RunId, outcome: RunEnd) -> Result<(), HistoryError> {
        let RunEnd {
            status,
            rows,
            stats,
            error,
        } = outcome;
        let record = Record {
            v: FORMAT_VERSION,
            id: id.id.clone(),
            event: Event::End(EndRecord {
                time: format_time(SystemTime::now()),
                status,
                duration_ms: Some(u64::try_from(id.started.elapsed().as_millis()).unwrap_or(0)),
                rows,
                bytes_scanned: stats.bytes_scanned,
                cost_usd: stats.cost_usd,
                server_id: stats.server_id,
                extra: stats.extra,
                error,
            }),
        };
        self.append(&record)
    }

    /// Every recorded run, newest first. Unreadable lines (a torn last line) are skipped.
    pub fn entries(&self) -> Result<Vec<Entry>, HistoryError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(HistoryError::io("read history from", &self.path, e)),
        };
        let mut entries = merge(parse_records(&bytes));
        entries.reverse();
        // Newest first by start time; file order (already reversed) breaks ties.
        entries.sort_by_key(|e| std::cmp::Reverse(e.time));
        Ok(entries)
    }

    /// Rewrites the file (atomically, under the exclusive lock) keeping only the runs within
    /// the retention: not older than `max_age_days`, and the newest `max_entries`. Unreadable
    /// lines and ends without a start are dropped. [`History::open`] calls it when the file has
    /// grown past 1.25 × `max_entries` or holds runs older than `max_age_days`.
    pub fn compact(&self) -> Result<(), HistoryError> {
        self.compact_at(SystemTime::now())
    }

    fn compact_at(&self, now: SystemTime) -> Result<(), HistoryError> {
        let mut file = match self.open_locked(false) {
            Ok(f) => f,
            Err(HistoryError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| HistoryError::io("read history from", &self.path, e))?;
        let records = parse_records(&bytes);
        let keep = self.kept_ids(&records, now);
        let write = || -> Result<(), HistoryError> {
            let mut out = AtomicFile::create(&self.path)
                .map_err(|e| HistoryError::io("compact history in", &self.path, e))?;
            for record in records.iter().filter(|r| keep.contains(r.id.as_str())) {
                let line = encode(record)?;
                out.write_all(&line)
                    .map_err(|e| HistoryError::io("compact history in", &self.path, e))?;
            }
            out.commit()
                .map_err(|e| HistoryError::io("compact history in", &self.path, e))
        };
        let result = write();
        // The lock goes with the replaced file: writers waiting on it notice the new file.
        drop(file);
        result
    }

    /// The ids of the runs to keep.
    fn kept_ids<'a>(&self, records: &'a [Record], now: SystemTime) -> HashSet<&'a str> {
        let oldest = (self.retention.max_age_days > 0).then(|| {
            now.checked_sub(Duration::from_secs(
                u64::from(self.retention.max_age_days) * 86_400,
            ))
            .unwrap_or(UNIX_EPOCH)
        });
        let mut starts: Vec<(SystemTime, usize, &str)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match &r.event {
                Event::Start(s) => parse_time(&s.time).map(|t| (t, i, r.id.as_str())),
                Event::End(_) => None,
            })
            .filter(|(t, _, _)| oldest.is_none_or(|o| *t >= o))
            .collect();
        starts.sort();
        if self.retention.max_entries > 0 && starts.len() > self.retention.max_entries {
            starts.drain(..starts.len() - self.retention.max_entries);
        }
        starts.into_iter().map(|(_, _, id)| id).collect()
    }

    /// Whether the file (its bytes) is past 1.25 × `max_entries` runs or its oldest run is past
    /// `max_age_days`. Cheap: counts lines and parses only the first readable record.
    fn needs_compaction(&self, bytes: &[u8], now: SystemTime) -> bool {
        let Retention {
            max_entries,
            max_age_days,
        } = self.retention;
        // Two lines a run.
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        if max_entries > 0 && lines / 2 > max_entries + max_entries / 4 {
            return true;
        }
        if max_age_days == 0 {
            return false;
        }
        let first = bytes
            .split(|&b| b == b'\n')
            .take(16)
            .filter_map(|line| serde_json::from_slice::<Record>(line).ok())
            .find_map(|r| match r.event {
                Event::Start(s) => parse_time(&s.time),
                Event::End(_) => None,
            });
        first.is_some_and(|t| {
            now.duration_since(t)
                .is_ok_and(|age| age > Duration::from_secs(u64::from(max_age_days) * 86_400))
        })
    }

    /// Appends one record as one complete line, under the exclusive lock.
    fn append(&self, record: &Record) -> Result<(), HistoryError> {
        let line = encode(record)?;
        let mut file = self.open_locked(true)?;
        let len = file
            .metadata()
            .map_err(|e| HistoryError::io("read history from", &self.path, e))?
            .len();
        let mut buf = Vec::with_capacity(line.len() + 1);
        if len > 0 {
            // A torn last line (a crash mid-write): end it so this record starts a fresh line.
            let mut last = [0u8];
            file.seek(SeekFrom::End(-1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| HistoryError::io("read history from", &self.path, e))?;
            if last[0] != b'\n' {
                buf.push(b'\n');
            }
        }
        buf.extend_from_slice(&line);
        file.write_all(&buf)
            .map_err(|e| HistoryError::io("append to history", &self.path, e))
        // Closing the file releases the lock.
    }

    /// Opens the file (for appending, creating it when `create`) and takes the exclusive lock.
    /// If a compaction replaced the file while this waited for the lock, opens the new one.
    fn open_locked(&self, create: bool) -> Result<File, HistoryError> {
        for _ in 0..100 {
            let mut options = OpenOptions::new();
            options.read(true).append(true).create(create);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let file = options
                .open(&self.path)
                .map_err(|e| HistoryError::io("open history", &self.path, e))?;
            file.lock()
                .map_err(|e| HistoryError::io("lock history", &self.path, e))?;
            if still_at_path(&file, &self.path) {
                return Ok(file);
            }
        }
        Err(HistoryError::io(
            "lock history",
            &self.path,
            io::Error::other("the file kept being replaced"),
        ))
    }
}

/// Whether `file` is still the file at `path` (not replaced by a compaction).
#[cfg(unix)]
fn still_at_path(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at_path(_file: &File, path: &Path) -> bool {
    path.exists()
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

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    v: u32,
    id: String,
    #[serde(flatten)]
    event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Event {
    Start(StartRecord),
    End(EndRecord),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StartRecord {
    time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    connection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tab: Option<String>,
    sql: String,
    #[serde(default, skip_serializing_if = "is_false")]
    sql_truncated: bool,
    #[serde(default)]
    params: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EndRecord {
    time: String,
    status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes_scanned: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    server_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    extra: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// A record as one line, `\n` included.
fn encode(record: &Record) -> Result<Vec<u8>, HistoryError> {
    let mut line = serde_json::to_vec(record).map_err(HistoryError::Encode)?;
    line.push(b'\n');
    Ok(line)
}

/// The readable records, in file order.
fn parse_records(bytes: &[u8]) -> Vec<Record> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .filter_map(|line| serde_json::from_slice::<Record>(line).ok())
        .filter(|r| match &r.event {
            Event::Start(s) => parse_time(&s.time).is_some(),
            Event::End(_) => true,
        })
        .collect()
}

/// Starts merged with their ends, in the order of the starts; ends without a start are dropped.
fn merge(records: Vec<Record>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut ends: Vec<(String, EndRecord)> = Vec::new();
    for record in records {
        match record.event {
            Event::Start(s) => {
                let Some(time) = parse_time(&s.time) else {
                    continue;
                };
                if index.contains_key(&record.id) {
                    continue; // a duplicate start: keep the first
                }
                index.insert(record.id.clone(), entries.len());
                entries.push(Entry {
                    id: record.id,
                    time,
                    connection: s.connection,
                    tab: s.tab,
                    sql: s.sql,
                    sql_truncated: s.sql_truncated,
                    params: s.params,
                    status: Status::Running,
                    duration: None,
                    rows: None,
                    bytes_scanned: None,
                    cost_usd: None,
                    server_id: None,
                    extra: Vec::new(),
                    error: None,
                });
            }
            Event::End(e) => ends.push((record.id, e)),
        }
    }
    // Ends are applied after all starts: a compaction or clock never puts an end first, but a
    // reader should not depend on it.
    for (id, end) in ends {
        let Some(&i) = index.get(&id) else { continue };
        let entry = &mut entries[i];
        if entry.status != Status::Running {
            continue; // a duplicate end: keep the first
        }
        entry.status = end.status;
        entry.duration = end.duration_ms.map(Duration::from_millis);
        entry.rows = end.rows;
        entry.bytes_scanned = end.bytes_scanned;
        entry.cost_usd = end.cost_usd;
        entry.server_id = end.server_id;
        entry.extra = end.extra;
        entry.error = end.error;
    }
    entries
}

fn cap_sql(mut sql: String) -> (String, bool) {
    if sql.len() <= MAX_SQL_BYTES {
        return (sql, false);
    }
    let mut cut = MAX_SQL_BYTES;
    while !sql.is_char_boundary(cut) {
        cut -= 1;
    }
    sql.truncate(cut);
    (sql, true)
}

/// `2026-05-01T12:00:00.123Z` (UTC, milliseconds).
pub fn format_time(t: SystemTime) -> String {
    let ms = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    };
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let secs = ms_of_day / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ms_of_day % 1000
    )
}

/// Parses what [`format_time`] writes (also without the fraction, or with 1 to 9 digits of it).
pub fn parse_time(s: &str) -> Option<SystemTime> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut date_parts = date.splitn(3, '-');
    let y: i64 = date_parts.next()?.parse().ok()?;
    let m: i64 = date_parts.next()?.parse().ok()?;
    let d: i64 = date_parts.next()?.parse().ok()?;
    let (hms, frac) = match time.split_once('.') {
        Some((hms, frac)) => (hms, frac),
        None => (time, ""),
    };
    let mut time_parts = hms.splitn(3, ':');
    let hh: i64 = time_parts.next()?.parse().ok()?;
    let mm: i64 = time_parts.next()?.parse().ok()?;
    let ss: i64 = time_parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss;
    let base = if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs as u64))?
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))?
    };
    base.checked_add(Duration::from_nanos(u64::from(nanos)))
}

/// Howard Hinnant's `civil_from_days`: (year, month, day) of a day count from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Howard Hinnant's `days_from_civil`: days from 1970-01-01 of a (year, month, day).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(dir: &Path) -> History {
        History::open(dir.join("history.jsonl"), Retention::default()).unwrap()
    }

    fn run(connection: &str, sql: &str) -> NewRun {
        NewRun {
            connection: connection.into(),
            tab: None,
            sql: sql.into(),
            params: 0,
        }
    }

    fn stats() -> JobStats {
        JobStats {
            bytes_scanned: Some(1_300_000),
            cost_usd: Some(0.0065),
            server_id: Some("q-7f3a".into()),
            extra: vec![("engine".into(), "850 ms".into())],
        }
    }

    /// A start record line at `time` (for files written "in the past").
    fn start_line(id: &str, time: SystemTime, sql: &str) -> String {
        let record = Record {
            v: 1,
            id: id.into(),
            event: Event::Start(StartRecord {
                time: format_time(time),
                pid: None,
                connection: "c".into(),
                tab: None,
                sql: sql.into(),
                sql_truncated: false,
                params: 0,
            }),
        };
        String::from_utf8(encode(&record).unwrap()).unwrap()
    }

    fn end_line(id: &str) -> String {
        let record = Record {
            v: 1,
            id: id.into(),
            event: Event::End(EndRecord {
                time: format_time(SystemTime::now()),
                status: Status::Succeeded,
                duration_ms: Some(5),
                rows: Some(1),
                bytes_scanned: None,
                cost_usd: None,
                server_id: None,
                extra: Vec::new(),
                error: None,
            }),
        };
        String::from_utf8(encode(&record).unwrap()).unwrap()
    }

    #[test]
    fn time_round_trips() {
        for ms in [0u64, 1, 999, 1_714_564_800_123, 4_102_444_799_999] {
            let t = UNIX_EPOCH + Duration::from_millis(ms);
            let s = format_time(t);
            assert_eq!(parse_time(&s), Some(t), "{s}");
        }
        assert_eq!(
            format_time(UNIX_EPOCH + Duration::from_millis(1_714_564_800_123)),
            "2024-05-01T12:00:00.123Z"
        );
        assert_eq!(
            parse_time("2024-05-01T12:00:00Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_714_564_800))
        );
        for bad in [
            "",
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "x-05-01T00:00:00Z",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn start_and_end_merge_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let h = history(dir.path());
        let a = h
            .record_start(NewRun {
                tab: Some("scratch".into()),
                params: 2,
                ..run("athena-prod", "SELECT 1")
            })
            .unwrap();
        let b = h.record_start(run("local", "SELECT 2")).unwrap();
        h.record_end(&a, RunEnd::succeeded(7, &stats())).unwrap();
        let c = h.record_start(run("local", "SELECT nope")).unwrap();
        h.record_end(&c, RunEnd::failed("no such column", &JobStats::default()))
            .unwrap();

        let entries = h.entries().unwrap();
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![c.as_str(), b.as_str(), a.as_str()],
            "newest first"
        );
        let (ec, eb, ea) = (&entries[0], &entries[1], &entries[2]);
        assert_eq!(ea.status, Status::Succeeded);
        assert_eq!(ea.rows, Some(7));
        assert_eq!(ea.tab.as_deref(), Some("scratch"));
        assert_eq!(ea.params, 2);
        assert_eq!(ea.bytes_scanned, Some(1_300_000));
        assert_eq!(ea.cost_usd, Some(0.0065));
        assert_eq!(ea.server_id.as_deref(), Some("q-7f3a"));
        assert_eq!(ea.extra, stats().extra);
        assert!(ea.duration.is_some());
        assert_eq!(eb.status, Status::Running);
        assert_eq!(eb.duration, None);
        assert_eq!(ec.status, Status::Failed);
        assert_eq!(ec.error.as_deref(), Some("no such column"));

        // Two lines a run (one for the unfinished one), each a complete JSON record.
        let text = fs::read_to_string(h.path()).unwrap();
        assert_eq!(text.lines().count(), 5);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["v"], 1);
            assert!(v["event"] == "start" || v["event"] == "end", "{line}");
        }
    }

    #[test]
    fn params_are_stored_as_a_count_only() {
        let dir = tempfile::tempdir().unwrap();
        let h = history(dir.path());
        h.record_start(NewRun {
            params: 1,
            ..run("c", "SELECT * FROM t WHERE token = ?")
        })
        .unwrap();
        let text = fs::read_to_string(h.path()).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["params"], 1);
    }

    #[test]
    fn torn_last_line_is_skipped_and_the_next_record_starts_a_fresh_line() {
        let dir = tempfile::tempdir().unwrap();
        let h = history(dir.path());
        let a = h.record_start(run("c", "SELECT 1")).unwrap();
        h.record_end(&a, RunEnd::cancelled(&JobStats::default()))
            .unwrap();
        // A crash mid-write: half a record, no newline.
        let mut f = OpenOptions::new().append(true).open(h.path()).unwrap();
        f.write_all(br#"{"v":1,"id":"torn","event":"start","time":"20"#)
            .unwrap();
        drop(f);
        let entries = h.entries().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].status, Status::Cancelled);

        let b = h.record_start(run("c", "SELECT 2")).unwrap();
        let text = fs::read_to_string(h.path()).unwrap();
        assert!(text.ends_with('\n'));
        let last = text.lines().last().unwrap();
        let v: serde_json::Value = serde_json::from_str(last).unwrap();
        assert_eq!(v["id"], b.as_str());
        let entries = h.entries().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].sql, "SELECT 2");
    }

    #[test]
    fn garbage_lines_and_orphan_ends_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let now = SystemTime::now();
        let text = format!(
            "not json\n\n{}{}{}{{\"v\":1,\"id\":\"x\",\"event\":\"future\"}}\n",
            end_line("orphan"),
            start_line("a", now, "SELECT 1"),
            end_line("a"),
        );
        fs::write(&path, text).unwrap();
        let entries = History::open(&path, Retention::default())
            .unwrap()
            .entries()
            .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].id, "a");
        assert_eq!(entries[0].status, Status::Succeeded);
    }

    #[test]
    fn compaction_keeps_the_newest_and_drops_the_old() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let now = SystemTime::now();
        let mut text = start_line("ancient", now - Duration::from_secs(100 * 86_400), "OLD");
        text.push_str(&end_line("ancient"));
        for i in 0..30 {
            let t = now - Duration::from_secs(3600) + Duration::from_secs(i);
            text.push_str(&start_line(&format!("r{i}"), t, &format!("SELECT {i}")));
            text.push_str(&end_line(&format!("r{i}")));
        }
        text.push_str("torn{");
        fs::write(&path, &text).unwrap();
        let retention = Retention {
            max_entries: 10,
            max_age_days: 90,
        };
        let h = History::open(&path, retention).unwrap();
        let entries = h.entries().unwrap();
        let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
        let expected: Vec<String> = (20..30).rev().map(|i| format!("r{i}")).collect();
        assert_eq!(ids, expected);
        assert!(entries.iter().all(|e| e.status == Status::Succeeded));
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 20, "{text}");
        assert!(text.ends_with('\n'));
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // Appending after a compaction goes to the new file.
        let id = h.record_start(run("c", "SELECT new")).unwrap();
        assert_eq!(h.entries().unwrap()[0].id, id.as_str());
    }

    #[test]
    fn open_compacts_only_past_the_thresholds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let retention = Retention {
            max_entries: 8,
            max_age_days: 90,
        };
        let now = SystemTime::now();
        let mut text = String::new();
        for i in 0..10 {
            text.push_str(&start_line(&format!("r{i}"), now, "SELECT 1"));
            text.push_str(&end_line(&format!("r{i}")));
        }
        fs::write(&path, &text).unwrap();
        // 10 ≤ 1.25 × 8: left alone.
        let h = History::open(&path, retention).unwrap();
        assert_eq!(h.entries().unwrap().len(), 10);
        text.push_str(&start_line("r10", now, "SELECT 1"));
        text.push_str(&end_line("r10"));
        fs::write(&path, &text).unwrap();
        // 11 > 10: compacted to 8.
        let h = History::open(&path, retention).unwrap();
        assert_eq!(h.entries().unwrap().len(), 8);

        // One run past the age: compacted even though few.
        let mut text = start_line("old", now - Duration::from_secs(91 * 86_400), "OLD");
        text.push_str(&start_line("new", now, "NEW"));
        fs::write(&path, &text).unwrap();
        let h = History::open(&path, retention).unwrap();
        let entries = h.entries().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].id, "new");
        assert_eq!(entries[0].status, Status::Running);
    }

    #[test]
    fn zero_means_no_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let now = SystemTime::now();
        let mut text = start_line("old", now - Duration::from_secs(1000 * 86_400), "OLD");
        for i in 0..5 {
            text.push_str(&start_line(&format!("r{i}"), now, "SELECT 1"));
        }
        fs::write(&path, &text).unwrap();
        let h = History::open(
            &path,
            Retention {
                max_entries: 0,
                max_age_days: 0,
            },
        )
        .unwrap();
        h.compact().unwrap();
        assert_eq!(h.entries().unwrap().len(), 6);
    }

    #[test]
    fn filters() {
        let dir = tempfile::tempdir().unwrap();
        let h = history(dir.path());
        let a = h
            .record_start(run("athena", "SELECT * FROM Trips"))
            .unwrap();
        h.record_end(&a, RunEnd::succeeded(3, &stats())).unwrap();
        let b = h.record_start(run("local", "SELECT nope")).unwrap();
        h.record_end(
            &b,
            RunEnd::failed("Column NOPE not found", &JobStats::default()),
        )
        .unwrap();
        let c = h.record_start(run("athena", "SELECT 2")).unwrap();
        h.record_end(&c, RunEnd::cancelled(&JobStats::default()))
            .unwrap();
        let all = h.entries().unwrap();
        let ids =
            |q: Query| -> Vec<String> { q.apply(all.clone()).into_iter().map(|e| e.sql).collect() };
        assert_eq!(
            ids(Query {
                connection: Some("athena".into()),
                ..Query::default()
            }),
            vec!["SELECT 2", "SELECT * FROM Trips"]
        );
        assert_eq!(
            ids(Query {
                grep: Some("trips".into()),
                ..Query::default()
            }),
            vec!["SELECT * FROM Trips"]
        );
        // The error text and the server id match too.
        assert_eq!(
            ids(Query {
                grep: Some("not found".into()),
                ..Query::default()
            }),
            vec!["SELECT nope"]
        );
        assert_eq!(
            ids(Query {
                grep: Some("Q-7F3A".into()),
                ..Query::default()
            }),
            vec!["SELECT * FROM Trips"]
        );
        assert_eq!(
            ids(Query {
                status: Some("ok".parse().unwrap()),
                ..Query::default()
            }),
            vec!["SELECT * FROM Trips"]
        );
        assert_eq!(
            ids(Query {
                status: Some(Status::Cancelled),
                connection: Some("athena".into()),
                ..Query::default()
            }),
            vec!["SELECT 2"]
        );
        assert_eq!(
            ids(Query {
                limit: Some(2),
                ..Query::default()
            }),
            vec!["SELECT 2", "SELECT nope"]
        );
        assert!("bogus".parse::<Status>().is_err());
    }

    #[test]
    fn long_sql_is_capped_at_a_char_boundary() {
        let sql = "é".repeat(MAX_SQL_BYTES); // 2 bytes each
        let (capped, truncated) = cap_sql(sql);
        assert!(truncated);
        assert_eq!(capped.len(), MAX_SQL_BYTES);
        let (short, truncated) = cap_sql("SELECT 1".into());
        assert!(!truncated);
        assert_eq!(short, "SELECT 1");
    }

    #[test]
    fn threads_append_without_losing_records() {
        let dir = tempfile::tempdir().unwrap();
        let h = history(dir.path());
        std::thread::scope(|s| {
            for t in 0..4 {
                let h = h.clone();
                s.spawn(move || {
                    for i in 0..50 {
                        let id = h
                            .record_start(run("c", &format!("SELECT {t}, {i}")))
                            .unwrap();
                        h.record_end(&id, RunEnd::succeeded(i, &JobStats::default()))
                            .unwrap();
                    }
                });
            }
        });
        let entries = h.entries().unwrap();
        assert_eq!(entries.len(), 200);
        assert!(entries.iter().all(|e| e.status == Status::Succeeded));
    }

    #[test]
    fn entry_json_and_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let h = history(dir.path());
        let a = h
            .record_start(run("c", "\n  -- count\nSELECT 1\nFROM t"))
            .unwrap();
        h.record_end(&a, RunEnd::succeeded(1, &stats())).unwrap();
        let e = &h.entries().unwrap()[0];
        assert_eq!(e.first_line(), "-- count");
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(v["status"], "succeeded");
        assert_eq!(v["server_id"], "q-7f3a");
        assert!(v["duration_ms"].is_u64());
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
        assert!(v.get("error").is_none());
    }
}
