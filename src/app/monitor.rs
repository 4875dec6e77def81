//! The jobs and sessions monitor (`F9`): every run of this process that still has a result tab
//! (running first, then the most recent), and the server-side state Quarry holds — Redshift
//! Data sessions and open transactions on direct connections. Built from the state on each
//! frame: at most a dozen results per tab, so this stays small.

use std::time::{Duration, Instant};

use super::State;
use super::results::RunState;
use crate::connectors::{format_cost, human_bytes};

/// What a line of the monitor is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A result tab's run.
    Job { tab: u64, result: u64 },
    /// A tab's Redshift Data session.
    Session { tab: u64 },
    /// A tab's open transaction (direct connection).
    Transaction { tab: u64 },
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
            let entry = Entry {
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
            };
            if entry.active {
                running.push(entry);
            } else {
                done.push((r.started, entry));
            }
        }
        if let Some(session) = &tab.session {
            let left = session.time_left(now);
            held.push(Entry {
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
            });
        }
        if let Some(tx) = &tab.transaction {
            held.push(Entry {
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
            });
        }
    }
    done.sort_by_key(|d| std::cmp::Reverse(d.0));
    running
        .into_iter()
        .chain(held)
        .chain(done.into_iter().map(|(_, e)| e))
        .collect()
}

fn figures(stats: &crate::connectors::JobStats) -> String {
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

/// Counts for the status bar: running jobs, held sessions, open transactions.
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
        .count();
    let transactions = state
        .tabs
        .iter()
        .filter(|t| t.transaction.is_some())
        .count();
    (running, sessions, transactions)
}
