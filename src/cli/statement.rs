//! One statement of `quarry run`: run through the worker's job runner while its rows are
//! written, and how it ended (for stderr, the exit code and the history).

use tokio_util::sync::CancellationToken;

use super::output::{self, Output};
use crate::connectors::{self, ConnectorError, JobStats, QueryRequest};
use crate::export::Format;
use crate::model::connection::ConnectionKind;
use crate::results::sanitize_multiline;
use crate::store::history::RunEnd;
use crate::worker::runner::{self, Events};

#[derive(Debug, thiserror::Error)]
pub(super) enum RunError {
    #[error("{0}")]
    Query(String),
    #[error("cancelled")]
    Cancelled,
    /// The request itself was wrong (a parameter value, a count): nothing ran.
    #[error("{0}")]
    Usage(String),
    /// Writing the result failed (a full disk, a closed pipe): the reason, without the
    /// destination, which the caller names.
    #[error("{0}")]
    Output(String),
}

/// Runs one statement through the worker's job runner, its events written into `output` by a
/// task of its own; the output back for the next statement, or what the statement ended with.
/// `last_stats`: the last statistics the job reported (a failed run's too).
pub(super) async fn run_one(
    (connector, kind): (&dyn connectors::Connector, ConnectionKind),
    request: QueryRequest,
    format: Format,
    output: Output,
    cancel: CancellationToken,
    last_stats: &mut JobStats,
) -> Result<(Output, connectors::JobSummary), RunError> {
    let shape = (
        request.item_json.is_some(),
        kind.capabilities().schema_grows,
    );
    // A writer that fails (a full disk, a closed pipe) stops the query, on the server too.
    let job_cancel = cancel.child_token();
    let stop_on_failure = job_cancel.clone();
    // The writer runs as a task of its own: formatting rows (CSV, Parquet…) on one core while
    // the connector receives and converts the next ones on the other.
    let consume = |rx: Events| {
        tokio::spawn(async move {
            let mut stats = JobStats::default();
            let written = output::write_events(rx, format, output, shape, &mut stats).await;
            if written.is_err() {
                stop_on_failure.cancel();
            }
            (written, stats)
        })
    };
    let (result, written) = runner::run_one(connector, 0, request, job_cancel, (8, consume)).await;
    let written = match written {
        Ok((written, stats)) => {
            *last_stats = stats;
            written
        }
        Err(e) => Err(RunError::Output(format!("the output writer failed: {e}"))),
    };
    finish(result, written, cancel.is_cancelled())
}

/// A finished statement: its message on stderr, or the error it ended with. When the writer
/// failed, its reason (ENOSPC, a closed pipe) is the error: the connector only saw its
/// receiver go, or the stop that followed — unless the user cancelled first.
fn finish(
    result: Result<connectors::JobSummary, ConnectorError>,
    written: Result<Output, RunError>,
    user_cancelled: bool,
) -> Result<(Output, connectors::JobSummary), RunError> {
    match (result, written) {
        (Err(ConnectorError::Cancelled), _) if user_cancelled => Err(RunError::Cancelled),
        (Ok(_) | Err(ConnectorError::Cancelled | ConnectorError::Disconnected), Err(e)) => Err(e),
        (Ok(summary), Ok(out)) => {
            if let Some(m) = &summary.message {
                eprintln!("{}", sanitize_multiline(m));
            }
            Ok((out, summary))
        }
        (Err(ConnectorError::Cancelled), _) => Err(RunError::Cancelled),
        (Err(ConnectorError::Config(e)), _) => Err(RunError::Usage(e)),
        (Err(e), _) => Err(RunError::Query(e.to_string())),
    }
}

/// How a statement of `quarry run` ended, for the history.
pub(super) fn run_end(
    ran: &Result<(Output, connectors::JobSummary), RunError>,
    last_stats: &JobStats,
) -> RunEnd {
    match ran {
        Ok((_, summary)) => RunEnd::succeeded(summary.rows, &summary.stats),
        Err(RunError::Cancelled) => RunEnd::cancelled(last_stats),
        Err(e) => RunEnd::failed(e.to_string(), last_stats),
    }
}

/// `--stats`: one `label: value` line each, on stderr (stdout holds the rows).
pub(super) fn print_stats(state: &str, rows: Option<u64>, s: &JobStats) {
    let mut lines = Vec::new();
    if let Some(id) = &s.server_id {
        lines.push(format!("server id: {id}"));
    }
    lines.push(format!("state: {state}"));
    if let Some(rows) = rows {
        lines.push(format!("rows: {rows}"));
    }
    if let Some(b) = s.bytes_scanned {
        lines.push(format!("bytes scanned: {b}"));
    }
    if let Some(c) = s.cost_usd {
        lines.push(format!("cost: ${c:.6}"));
    }
    for (label, value) in &s.extra {
        lines.push(format!("{label}: {value}"));
    }
    for line in lines {
        eprintln!("{}", crate::results::sanitize_line(&line));
    }
}
