//! `quarry run --batch` / `--transaction`: every statement in one group call through the
//! worker's job runner; each statement's rows written in order afterwards.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::output::{self, Output};
use super::run::output_failed;
use super::statement::RunError;
use super::{EXIT_QUERY, EXIT_USAGE};
use crate::connectors::{self, ConnectorError, JobId, JobStats, QueryRequest};
use crate::export::Format;
use crate::model::connection::ConnectionKind;
use crate::results::sanitize_multiline;
use crate::store::history::{RunEnd, RunId};
use crate::worker::recorder::RunRecorder;
use crate::worker::runner::{self, Events};

/// A group's statements as a whole: how many succeeded and failed, and whether a failure was
/// a usage error.
#[derive(Default)]
struct Tally {
    ok: usize,
    failed: usize,
    usage: bool,
}

/// `--batch` / `--transaction`: every statement in one group call (DynamoDB, Redshift Data).
/// Each statement's rows are written in order; failures are reported per statement, then a
/// summary line.
pub(super) async fn run_group(
    (connector, kind): (&dyn connectors::Connector, ConnectionKind),
    mode: connectors::GroupMode,
    requests: Vec<QueryRequest>,
    format: Format,
    (output, destination): (Output, Option<&Path>),
    cancel: CancellationToken,
    (history, run_ids): (&RunRecorder, Vec<Option<RunId>>),
) -> i32 {
    let shape = (
        requests.iter().any(|r| r.item_json.is_some()),
        kind.capabilities().schema_grows,
    );
    let jobs: Vec<JobId> = (0..requests.len() as u64).collect();
    // Each statement of a group yields a handful of events (≤ 1 item): they all fit, and are
    // written once the call is done.
    let keep = |receivers: Vec<Events>| async move { receivers };
    let (outcomes, receivers) =
        runner::run_group(connector, (mode, &jobs), requests, cancel, (16, keep)).await;
    let mut run_ids = run_ids.into_iter();
    let mut output = output;
    let mut tally = Tally::default();
    for (i, (rx, outcome)) in receivers.into_iter().zip(outcomes).enumerate() {
        let mut stats = JobStats::default();
        let written = output::write_events(rx, format, output, shape, &mut stats).await;
        let end = match (&outcome, &written) {
            (Ok(summary), Ok(_)) => RunEnd::succeeded(summary.rows, &summary.stats),
            (Ok(summary), Err(e)) => RunEnd::failed(e.to_string(), &summary.stats),
            (Err(ConnectorError::Cancelled), _) => RunEnd::cancelled(&stats),
            (Err(e), _) => RunEnd::failed(e.to_string(), &stats),
        };
        history.end(vec![(run_ids.next().flatten(), end)]).await;
        output = match written {
            Ok(out) => out,
            Err(e) => {
                let rest = run_ids
                    .map(|id| (id, RunEnd::failed(e.to_string(), &JobStats::default())))
                    .collect();
                history.end(rest).await;
                if let RunError::Output(reason) = &e {
                    return output_failed(destination, "", reason);
                }
                eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
                return EXIT_QUERY;
            }
        };
        tally.count(i, outcome);
    }
    eprintln!(
        "{}: {} succeeded, {} failed",
        mode.name(),
        tally.ok,
        tally.failed
    );
    if let Err(e) = output.commit() {
        return output_failed(destination, "", &e.to_string());
    }
    match (tally.failed, tally.usage) {
        (0, _) => 0,
        (_, true) => EXIT_USAGE,
        _ => EXIT_QUERY,
    }
}

impl Tally {
    /// Counts statement `i`'s outcome; a failure is said on stderr.
    fn count(&mut self, i: usize, outcome: Result<connectors::JobSummary, ConnectorError>) {
        match outcome {
            Ok(_) => self.ok += 1,
            Err(e) => {
                self.failed += 1;
                self.usage |= matches!(e, ConnectorError::Config(_));
                eprintln!(
                    "statement {}: {}",
                    i + 1,
                    sanitize_multiline(&e.to_string())
                );
            }
        }
    }
}
