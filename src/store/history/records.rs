//! The records of the file (a run's `start` and `end` lines), and merging them into entries.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::time::parse_time;
use super::{Entry, HistoryError, MAX_SQL_BYTES, Status, is_false};

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Record {
    pub(super) v: u32,
    pub(super) id: String,
    #[serde(flatten)]
    pub(super) event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub(super) enum Event {
    Start(StartRecord),
    End(EndRecord),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StartRecord {
    pub(super) time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pid: Option<u32>,
    pub(super) connection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tab: Option<String>,
    pub(super) sql: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) sql_truncated: bool,
    #[serde(default)]
    pub(super) params: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct EndRecord {
    pub(super) time: String,
    pub(super) status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) bytes_scanned: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) server_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) extra: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
}

/// A record as one line, `\n` included.
pub(super) fn encode(record: &Record) -> Result<Vec<u8>, HistoryError> {
    let mut line = serde_json::to_vec(record).map_err(HistoryError::Encode)?;
    line.push(b'\n');
    Ok(line)
}

/// The readable records, in file order.
pub(super) fn parse_records(bytes: &[u8]) -> Vec<Record> {
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
pub(super) fn merge(records: Vec<Record>) -> Vec<Entry> {
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

pub(super) fn cap_sql(mut sql: String) -> (String, bool) {
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
