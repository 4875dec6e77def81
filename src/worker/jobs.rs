//! The worker's `Run` and `RunGroup`: a job (or a group) runs through the shared
//! [`runner`](super::runner) in a task of its own, its events forwarded to the app, its run
//! recorded in the history, and a `JobFinished` sent when it is done.

use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::connect::{ConnectorCache, connector_for};
use super::recorder::RunRecorder;
use super::runner::{self, Events};
use super::{JobOutcome, WorkerEvent, internal_error};
use crate::connectors::{ConnectorError, GroupMode, JobId, JobStats, QueryRequest};
use crate::panics;
use crate::store::config::ConnectionConfig;
use crate::store::history::{NewRun, RunEnd};

/// What a job needs from the worker: its connection, the connector cache, where its events
/// go, how its run is recorded, and whom to tell when it is done.
pub(super) struct JobContext {
    pub conn: Result<ConnectionConfig, String>,
    pub name: String,
    pub cache: ConnectorCache,
    pub events: mpsc::Sender<WorkerEvent>,
    pub recorder: RunRecorder,
    pub done: mpsc::UnboundedSender<JobId>,
}

/// Runs `request` as job `job` in a task of its own.
pub(super) fn spawn_run(
    ctx: JobContext,
    job: JobId,
    request: QueryRequest,
    token: CancellationToken,
) {
    tokio::spawn(async move {
        let started = Instant::now();
        let recording = ctx
            .recorder
            .start(vec![new_run(&ctx.name, &request)])
            .await
            .pop()
            .flatten();
        let running = run_job(&ctx, job, request, token);
        let (outcome, stats) = panics::contained(async {
            panics::injection_point("job");
            running.await
        })
        .await
        .unwrap_or_else(|panic| (internal_error(&panic), JobStats::default()));
        // Recorded before JobFinished: a history loaded after it shows the end.
        let end = run_end(&outcome, &stats);
        ctx.recorder.end(vec![(recording, end)]).await;
        let _ = ctx
            .events
            .send(WorkerEvent::JobFinished {
                job,
                outcome,
                elapsed: started.elapsed(),
            })
            .await;
        let _ = ctx.done.send(job);
    });
}

/// Runs `requests` as one group call (`mode`), `jobs[i]` for `requests[i]`, in a task of its
/// own; `token` cancels the whole call.
pub(super) fn spawn_group(
    ctx: JobContext,
    (mode, jobs): (GroupMode, Vec<JobId>),
    requests: Vec<QueryRequest>,
    token: CancellationToken,
) {
    tokio::spawn(async move {
        let started = Instant::now();
        let runs = requests.iter().map(|r| new_run(&ctx.name, r)).collect();
        let recordings = ctx.recorder.start(runs).await;
        let results = panics::contained(run_group(&ctx, (mode, &jobs), requests, token))
            .await
            .unwrap_or_else(|panic| {
                let failed = internal_error(&panic);
                jobs.iter()
                    .map(|_| (failed.clone(), JobStats::default()))
                    .collect()
            });
        let ends = recordings
            .into_iter()
            .zip(&results)
            .map(|(id, (outcome, stats))| (id, run_end(outcome, stats)))
            .collect();
        ctx.recorder.end(ends).await;
        for (job, (outcome, _)) in jobs.iter().zip(results) {
            let _ = ctx
                .events
                .send(WorkerEvent::JobFinished {
                    job: *job,
                    outcome,
                    elapsed: started.elapsed(),
                })
                .await;
            let _ = ctx.done.send(*job);
        }
    });
}

/// The history entry of a run of the TUI on `connection`; a reopened execution is not a new
/// run. Parameter values are never stored, only counted.
fn new_run(connection: &str, request: &QueryRequest) -> Option<NewRun> {
    request.reopen.is_none().then(|| NewRun {
        connection: connection.to_string(),
        tab: request.label.clone(),
        sql: request.sql.clone(),
        params: request.params.len(),
    })
}

/// How a run ended, for the history, with the last statistics its job produced.
fn run_end(outcome: &JobOutcome, stats: &JobStats) -> RunEnd {
    match outcome {
        JobOutcome::Succeeded(summary) => {
            // The summary's statistics are the final ones; a connector that left them empty
            // there reported them as events.
            let stats = if summary.stats == JobStats::default() {
                stats
            } else {
                &summary.stats
            };
            RunEnd::succeeded(summary.rows, stats)
        }
        JobOutcome::Failed(e) => RunEnd::failed(e.clone(), stats),
        JobOutcome::Cancelled => RunEnd::cancelled(stats),
    }
}

/// Sends each of a job's `events` on to the app; the job's last statistics.
async fn forward(rx: Events, events: &mpsc::Sender<WorkerEvent>) -> JobStats {
    runner::forward_events(rx, |(job, event)| async move {
        events.send(WorkerEvent::Job(job, event)).await.is_ok()
    })
    .await
}

/// Runs a group call, forwarding each job's events; one outcome per job, with the last
/// statistics the job reported.
async fn run_group(
    ctx: &JobContext,
    (mode, jobs): (GroupMode, &[JobId]),
    requests: Vec<QueryRequest>,
    cancel: CancellationToken,
) -> Vec<(JobOutcome, JobStats)> {
    let connector = tokio::select! {
        _ = cancel.cancelled() => {
            return jobs
                .iter()
                .map(|_| (JobOutcome::Cancelled, JobStats::default()))
                .collect();
        }
        c = connector_for(ctx.conn.clone(), &ctx.name, &ctx.cache) => match c {
            Ok(c) => c,
            Err(e) => {
                return jobs
                    .iter()
                    .map(|_| (JobOutcome::Failed(e.to_string()), JobStats::default()))
                    .collect();
            }
        },
    };
    let forward_all = |receivers: Vec<Events>| {
        futures::future::join_all(receivers.into_iter().map(|rx| forward(rx, &ctx.events)))
    };
    let (results, stats) = runner::run_group(
        &*connector,
        (mode, jobs),
        requests,
        cancel.clone(),
        (16, forward_all),
    )
    .await;
    results
        .into_iter()
        .zip(stats)
        .map(|(r, stats)| {
            let outcome = match r {
                Ok(summary) => JobOutcome::Succeeded(summary),
                Err(ConnectorError::Cancelled) => JobOutcome::Cancelled,
                Err(e) => JobOutcome::Failed(e.to_string()),
            };
            (outcome, stats)
        })
        .collect()
}

async fn run_job(
    ctx: &JobContext,
    job: JobId,
    request: QueryRequest,
    cancel: CancellationToken,
) -> (JobOutcome, JobStats) {
    let connector = tokio::select! {
        _ = cancel.cancelled() => return (JobOutcome::Cancelled, JobStats::default()),
        c = connector_for(ctx.conn.clone(), &ctx.name, &ctx.cache) => match c {
            Ok(c) => c,
            Err(e) => return (JobOutcome::Failed(e.to_string()), JobStats::default()),
        },
    };
    let consume = |rx| forward(rx, &ctx.events);
    let (result, last_stats) =
        runner::run_one(&*connector, job, request, cancel.clone(), (4, consume)).await;
    let outcome = match result {
        Ok(summary) => JobOutcome::Succeeded(summary),
        Err(ConnectorError::Cancelled) => JobOutcome::Cancelled,
        // The user must learn that the query may still run (and bill) on the server.
        Err(e @ ConnectorError::StopFailed(_)) => JobOutcome::Failed(e.to_string()),
        Err(_) if cancel.is_cancelled() => JobOutcome::Cancelled,
        Err(e @ ConnectorError::PasswordRequired(_)) => {
            let _ = ctx
                .events
                .send(WorkerEvent::PasswordNeeded {
                    job,
                    connection: ctx.name.clone(),
                })
                .await;
            JobOutcome::Failed(e.to_string())
        }
        Err(e) => JobOutcome::Failed(e.to_string()),
    };
    (outcome, last_stats)
}
