//! Running jobs: the one place where a request (or a group of them) meets its connector, with
//! a cancellation token, while the job's events are consumed as they come. The TUI's worker
//! forwards the events to the app; `quarry run` writes them to its output. Runs are recorded
//! in the history by a [`RunRecorder`](super::recorder::RunRecorder) around these calls.

use std::future::Future;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::connectors::{
    Connector, ConnectorError, GroupMode, JobEvent, JobId, JobSink, JobStats, JobSummary,
    QueryRequest,
};

/// A job's events, in the order its connector sent them.
pub type Events = mpsc::Receiver<(JobId, JobEvent)>;

/// What a connector's run of one request came to.
pub type Ran = Result<JobSummary, ConnectorError>;

/// Runs `request` on `connector` as job `job`, handing its events to `consume` while it runs
/// (`capacity` of them may wait: a slow consumer slows the job down). Returns the connector's
/// result and what `consume` came to. Cancelling `cancel` stops the job, on the server too.
pub async fn run_one<T, F>(
    connector: &dyn Connector,
    job: JobId,
    request: QueryRequest,
    cancel: CancellationToken,
    (capacity, consume): (usize, impl FnOnce(Events) -> F),
) -> (Ran, T)
where
    F: Future<Output = T>,
{
    let (tx, rx) = mpsc::channel(capacity);
    let sink = JobSink::new(job, tx);
    tokio::join!(connector.execute(request, sink, cancel), consume(rx))
}

/// Runs `requests` as one group call (`mode`: a DynamoDB batch or transaction, a Redshift Data
/// batch), `jobs[i]` being the job of `requests[i]`. `consume` gets one event channel per job
/// (`capacity` each) while the call runs. Returns one result per job and what `consume` came
/// to. Cancelling `cancel` stops the whole call.
pub async fn run_group<T, F>(
    connector: &dyn Connector,
    (mode, jobs): (GroupMode, &[JobId]),
    requests: Vec<QueryRequest>,
    cancel: CancellationToken,
    (capacity, consume): (usize, impl FnOnce(Vec<Events>) -> F),
) -> (Vec<Ran>, T)
where
    F: Future<Output = T>,
{
    let (sinks, receivers): (Vec<JobSink>, Vec<Events>) = jobs
        .iter()
        .map(|job| {
            let (tx, rx) = mpsc::channel(capacity);
            (JobSink::new(*job, tx), rx)
        })
        .unzip();
    tokio::join!(
        connector.execute_group(mode, requests, sinks, cancel),
        consume(receivers)
    )
}

/// Passes each of `events` to `forward` until it refuses one (its receiver is gone); returns
/// the last statistics the job reported.
pub async fn forward_events<F, Fut>(mut events: Events, mut forward: F) -> JobStats
where
    F: FnMut((JobId, JobEvent)) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut last_stats = JobStats::default();
    while let Some((job, event)) = events.recv().await {
        if let JobEvent::Stats(stats) = &event {
            last_stats = stats.clone();
        }
        if !forward((job, event)).await {
            break;
        }
    }
    last_stats
}
