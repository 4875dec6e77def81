//! The history file: appending records under an exclusive lock, reading them back, and
//! compacting the file to the retention.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::records::{
    EndRecord, Event, Record, StartRecord, cap_sql, encode, merge, parse_records,
};
use super::time::{format_time, parse_time};
use super::{Entry, FORMAT_VERSION, HistoryError, NewRun, Retention, RunEnd, RunId};
use crate::store::{AtomicFile, DataPaths};

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
