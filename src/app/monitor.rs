//! The jobs and sessions monitor (`F9`): every run of this process (running first, then the most
//! recent; runs whose result tab is gone are kept as a line), and the server-side state Quarry
//! holds or sees — Redshift Data sessions, open transactions on direct connections, Athena Spark
//! sessions. Built from the state on each frame: at most a dozen results per tab plus
//! [`MAX_PAST`] archived lines, so this stays small.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::State;
use super::editor::EditorTab;
use super::results::{ResultTab, RunState};
use super::spark::KnownSession;
use crate::model::format::{format_cost, human_bytes};
use crate::model::job::JobStats;
use crate::model::spark::format_dpu;

/// Finished runs kept after their result tab is gone.
pub const MAX_PAST: usize = 200;

/// A run whose result tab was closed (or dropped for newer ones): its line, and what running
/// it again needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PastJob {
    pub serial: u64,
    pub entry: Entry,
    pub sql: String,
    pub started: Option<Instant>,
}

/// Keeps the lines of `results` (of `tab`) after they are dropped; the oldest go past
/// [`MAX_PAST`].
pub fn archive(
    past: &mut VecDeque<PastJob>,
    next_serial: &mut u64,
    tab: &EditorTab,
    results: &[ResultTab],
    now: Instant,
) {
    for r in results {
        let mut entry = job_entry(tab, r, now);
        *next_serial += 1;
        entry.subject = Subject::Past {
            serial: *next_serial,
        };
        entry.tab_title = format!("{} (closed)", tab.title);
        past.push_back(PastJob {
            serial: *next_serial,
            entry,
            sql: r.sql.clone(),
            started: r.started,
        });
        while past.len() > MAX_PAST {
            past.pop_front();
        }
    }
}

/// What a line of the monitor is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A result tab's run.
    Job { tab: u64, result: u64 },
    /// A tab's Redshift Data session.
    Session { tab: u64 },
    /// A tab's open transaction (direct connection).
    Transaction { tab: u64 },
    /// An Athena Spark session (index into `State::spark`'s list, which only grows).
    Spark { index: usize },
    /// A finished run whose result tab is gone ([`PastJob::serial`]).
    Past { serial: u64 },
}

/// One line of the monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub subject: Subject,
    pub connection: String,
    pub tab_title: String,
    /// The statement's first line, or what the session/transaction is.
    pub what: String,
    pub state: String,
    pub active: bool,
    pub elapsed: Option<Duration>,
    pub rows: usize,
    /// Bytes scanned, cost, service figures, where known.
    pub figures: String,
    pub server_id: Option<String>,
}

/// The monitor's lines: running jobs, then held sessions and transactions, then finished jobs
/// newest first.
pub fn entries(state: &State) -> Vec<Entry> {
    let now = state.now;
    let mut running = Vec::new();
    let mut held = Vec::new();
    let mut done: Vec<(Option<Instant>, Entry)> = Vec::new();
    for tab in &state.tabs {
        for r in &tab.results {
            let entry = job_entry(tab, r, now);
            if entry.active {
                running.push(entry);
            } else {
                done.push((r.started, entry));
            }
        }
        held.extend(session_entry(tab, now));
        held.extend(transaction_entry(tab, now));
    }
    for (index, known) in state.spark.list.iter().enumerate() {
        if known.session.is_live() {
            held.push(spark_entry(state, index, known));
        }
    }
    for p in &state.past_jobs {
        done.push((p.started, p.entry.clone()));
    }
    done.sort_by_key(|d| std::cmp::Reverse(d.0));
    running
        .into_iter()
        .chain(held)
        .chain(done.into_iter().map(|(_, e)| e))
        .collect()
}

/// The line of a tab's Redshift Data session, if it holds one.
fn session_entry(tab: &EditorTab, now: Instant) -> Option<Entry> {
    let session = tab.session.as_ref()?;
    let left = session.time_left(now);
    Some(Entry {
        subject: Subject::Session { tab: tab.id },
        connection: tab.connection.clone(),
        tab_title: tab.title.clone(),
        what: "Redshift Data session".into(),
        state: if left.is_zero() {
            "IDLED OUT".into()
        } else {
            format!("{} s left", left.as_secs())
        },
        active: !left.is_zero(),
        elapsed: None,
        rows: 0,
        figures: String::new(),
        server_id: Some(session.id.clone()),
    })
}

/// The line of a tab's open transaction, if it has one.
fn transaction_entry(tab: &EditorTab, now: Instant) -> Option<Entry> {
    let tx = tab.transaction.as_ref()?;
    Some(Entry {
        subject: Subject::Transaction { tab: tab.id },
        connection: tab.connection.clone(),
        tab_title: tab.title.clone(),
        what: "transaction".into(),
        state: if tx.failed { "FAILED" } else { "OPEN" }.into(),
        active: true,
        elapsed: Some(now.saturating_duration_since(tx.since)),
        rows: 0,
        figures: String::new(),
        server_id: None,
    })
}

/// The line of a live Spark session, with the tabs bound to it.
fn spark_entry(state: &State, index: usize, known: &KnownSession) -> Entry {
    let s = &known.session;
    let bound: Vec<&str> = state
        .tabs
        .iter()
        .filter(|t| t.spark.as_deref() == Some(s.id.as_str()))
        .map(|t| t.title.as_str())
        .collect();
    Entry {
        subject: Subject::Spark { index },
        connection: known.connection.clone(),
        tab_title: if bound.is_empty() {
            s.workgroup.clone()
        } else {
            bound.join(", ")
        },
        what: format!(
            "Spark session{}",
            if known.started_here {
                " (started here)"
            } else {
                ""
            }
        ),
        state: s.state.clone(),
        active: true,
        elapsed: None,
        rows: 0,
        figures: s.dpu_ms.map(format_dpu).unwrap_or_default(),
        server_id: Some(s.id.clone()),
    }
}

/// The line of one run of a tab.
fn job_entry(tab: &EditorTab, r: &ResultTab, now: Instant) -> Entry {
    Entry {
        subject: Subject::Job {
            tab: tab.id,
            result: r.id,
        },
        connection: tab.connection.clone(),
        tab_title: tab.title.clone(),
        what: r.title(),
        state: match &r.state {
            RunState::Running {
                service_state: Some(s),
            } => s.clone(),
            other => other.label().to_string(),
        },
        active: r.state.is_active(),
        elapsed: r
            .elapsed
            .or_else(|| r.started.map(|s| now.saturating_duration_since(s))),
        rows: r.loaded_rows(),
        figures: figures(&r.stats),
        server_id: r.stats.server_id.clone().or_else(|| r.reopen.clone()),
    }
}

fn figures(stats: &JobStats) -> String {
    let mut parts = Vec::new();
    if let Some(b) = stats.bytes_scanned {
        parts.push(format!("{} scanned", human_bytes(b)));
    }
    if let Some(c) = stats.cost_usd {
        parts.push(format_cost(c));
    }
    for (label, value) in &stats.extra {
        if matches!(label.as_str(), "dpu" | "capacity" | "consumed capacity") {
            parts.push(format!("{label} {value}"));
        }
    }
    parts.join(" · ")
}

/// Where the selection is: on `subject`'s line when it is still listed, else at `selected`.
pub fn selected_index(entries: &[Entry], selected: usize, subject: Option<Subject>) -> usize {
    subject
        .and_then(|s| entries.iter().position(|e| e.subject == s))
        .unwrap_or(selected)
        .min(entries.len().saturating_sub(1))
}

/// Counts for the status bar: running jobs, held sessions (Redshift Data and live Spark
/// sessions started here or bound to a tab), open transactions.
pub fn counts(state: &State) -> (usize, usize, usize) {
    let running = state.active_jobs();
    let sessions = state
        .tabs
        .iter()
        .filter(|t| {
            t.session
                .as_ref()
                .is_some_and(|s| !s.time_left(state.now).is_zero())
        })
        .count()
        + state
            .spark
            .live()
            .filter(|k| {
                k.started_here
                    || state
                        .tabs
                        .iter()
                        .any(|t| t.spark.as_deref() == Some(k.session.id.as_str()))
            })
            .count();
    let transactions = state
        .tabs
        .iter()
        .filter(|t| t.transaction.is_some())
        .count();
    (running, sessions, transactions)
}

/// Opens the monitor on its first line.
pub fn open(state: &mut State) {
    let first = entries(state).first().map(|e| e.subject);
    state.popup = Some(super::Popup::Monitor {
        selected: 0,
        subject: first,
    })
}
