//! Owns connectors and jobs. `WorkerCmd`s come in on an unbounded channel (the UI never blocks
//! on send); `WorkerEvent`s go out on a bounded one (back-pressure on row batches). Every job
//! runs in its own task with its own `CancellationToken`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OnceCell, mpsc};
use tokio_util::sync::CancellationToken;

pub mod export_job;

pub use export_job::{ExportFailure, ExportOutcome, ExportTarget, RowPick};

use crate::connectors::{
    self, CatalogNode, CatalogPath, Connector, ConnectorError, GroupMode, JobEvent, JobId, JobSink,
    JobSummary, QueryRequest,
};
use crate::export::Format;
use crate::results::{self, ResultSet, SortOrder};
use crate::store::config::ConnectionConfig;

/// How a result view (sort or filter) is computed.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewSpec {
    Sort { column: usize, order: SortOrder },
    Filter { needle: String },
}

#[derive(Debug)]
pub enum WorkerCmd {
    Run {
        job: JobId,
        connection: String,
        request: QueryRequest,
    },
    /// Statements run together in one service call (DynamoDB batch or transaction), one job
    /// (and result) each.
    RunGroup {
        jobs: Vec<JobId>,
        connection: String,
        mode: GroupMode,
        requests: Vec<QueryRequest>,
    },
    Cancel {
        job: JobId,
    },
    LoadChildren {
        connection: String,
        path: CatalogPath,
    },
    /// Ends the server-side session held for caller `key` (a tab) on `connection`.
    EndSession {
        connection: String,
        key: String,
    },
    /// Sorting or filtering a large result takes longer than a frame: done off the UI loop.
    ComputeView {
        result: u64,
        generation: u64,
        rows: Arc<ResultSet>,
        spec: ViewSpec,
    },
    /// Writes rows of a result out in the background; `id` is a job id (`Cancel` stops it).
    Export {
        id: JobId,
        format: Format,
        rows: Arc<ResultSet>,
        pick: RowPick,
        target: ExportTarget,
        /// A paused run's connection and the request that goes on from its token: a
        /// whole-result export fetches the rest while writing.
        rest: Option<(String, QueryRequest)>,
    },
    Shutdown,
}

#[derive(Debug, Clone)]
pub enum JobOutcome {
    Succeeded(JobSummary),
    Failed(String),
    Cancelled,
}

#[derive(Debug)]
pub enum WorkerEvent {
    Job(JobId, JobEvent),
    JobFinished {
        job: JobId,
        outcome: JobOutcome,
        elapsed: Duration,
    },
    Children {
        connection: String,
        path: CatalogPath,
        result: Result<Vec<CatalogNode>, String>,
    },
    /// `Some(id)`: the session that was ended; `None`: the caller held none.
    SessionEnded {
        key: String,
        outcome: Result<Option<String>, String>,
    },
    ViewReady {
        result: u64,
        generation: u64,
        outcome: Result<Vec<u32>, String>,
    },
    ExportProgress {
        id: JobId,
        rows: u64,
        bytes: u64,
    },
    ExportDone {
        id: JobId,
        outcome: Result<ExportOutcome, ExportFailure>,
    },
}

/// Handle to the running worker.
pub struct WorkerHandle {
    pub commands: mpsc::UnboundedSender<WorkerCmd>,
    pub events: mpsc::Receiver<WorkerEvent>,
}

/// Starts the worker on the current tokio runtime.
pub fn spawn(connections: Vec<ConnectionConfig>) -> WorkerHandle {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::channel(64);
    let worker = Worker {
        connections: connections
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect(),
        connected: Arc::new(std::sync::Mutex::new(HashMap::new())),
        jobs: HashMap::new(),
        events: ev_tx,
    };
    tokio::spawn(worker.run(cmd_rx));
    WorkerHandle {
        commands: cmd_tx,
        events: ev_rx,
    }
}

/// One cell per connection: connecting to one service never waits for another's connect.
type ConnectorCache = Arc<std::sync::Mutex<HashMap<String, Arc<OnceCell<Arc<dyn Connector>>>>>>;

struct Worker {
    connections: HashMap<String, ConnectionConfig>,
    connected: ConnectorCache,
    jobs: HashMap<JobId, CancellationToken>,
    events: mpsc::Sender<WorkerEvent>,
}

impl Worker {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<WorkerCmd>) {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<JobId>();
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None | Some(WorkerCmd::Shutdown) => break,
                    Some(cmd) => self.handle(cmd, &done_tx),
                },
                Some(job) = done_rx.recv() => { self.jobs.remove(&job); }
            }
        }
        // Jobs still running are not cancelled here: the app cancels what the user wants stopped
        // (on the server too) before shutting down, and leaves the rest running on purpose.
    }

    fn handle(&mut self, cmd: WorkerCmd, done: &mpsc::UnboundedSender<JobId>) {
        match cmd {
            WorkerCmd::Run {
                job,
                connection,
                request,
            } => {
                let token = CancellationToken::new();
                self.jobs.insert(job, token.clone());
                let conn = self.connections.get(&connection).cloned();
                let cache = self.connected.clone();
                let events = self.events.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let outcome =
                        run_job(job, conn, &connection, request, cache, &events, token).await;
                    let _ = events
                        .send(WorkerEvent::JobFinished {
                            job,
                            outcome,
                            elapsed: started.elapsed(),
                        })
                        .await;
                    let _ = done.send(job);
                });
            }
            WorkerCmd::RunGroup {
                jobs,
                connection,
                mode,
                requests,
            } => {
                // One token for the group: cancelling any of its jobs cancels the call.
                let token = CancellationToken::new();
                for job in &jobs {
                    self.jobs.insert(*job, token.clone());
                }
                let conn = self.connections.get(&connection).cloned();
                let cache = self.connected.clone();
                let events = self.events.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let outcomes = run_group(
                        &jobs,
                        conn,
                        &connection,
                        mode,
                        requests,
                        cache,
                        &events,
                        token,
                    )
                    .await;
                    for (job, outcome) in jobs.iter().zip(outcomes) {
                        let _ = events
                            .send(WorkerEvent::JobFinished {
                                job: *job,
                                outcome,
                                elapsed: started.elapsed(),
                            })
                            .await;
                        let _ = done.send(*job);
                    }
                });
            }
            WorkerCmd::Cancel { job } => {
                if let Some(token) = self.jobs.get(&job) {
                    token.cancel();
                }
            }
            WorkerCmd::LoadChildren { connection, path } => {
                let conn = self.connections.get(&connection).cloned();
                let cache = self.connected.clone();
                let events = self.events.clone();
                tokio::spawn(async move {
                    let result = match connector_for(conn, &connection, &cache).await {
                        Ok(c) => c.children(&path).await.map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = events
                        .send(WorkerEvent::Children {
                            connection,
                            path,
                            result,
                        })
                        .await;
                });
            }
            WorkerCmd::EndSession { connection, key } => {
                let conn = self.connections.get(&connection).cloned();
                let cache = self.connected.clone();
                let events = self.events.clone();
                tokio::spawn(async move {
                    let outcome = match connector_for(conn, &connection, &cache).await {
                        Ok(c) => c.end_session(&key).await.map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = events
                        .send(WorkerEvent::SessionEnded { key, outcome })
                        .await;
                });
            }
            WorkerCmd::ComputeView {
                result,
                generation,
                rows,
                spec,
            } => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    let computed = tokio::task::spawn_blocking(move || match spec {
                        ViewSpec::Sort { column, order } => {
                            results::sort_indices(&rows, column, order)
                        }
                        ViewSpec::Filter { needle } => results::filter_indices(&rows, &needle),
                    })
                    .await;
                    let outcome = match computed {
                        Ok(Ok(indices)) => Ok(indices),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(e) => Err(format!("the sort/filter task failed: {e}")),
                    };
                    let _ = events
                        .send(WorkerEvent::ViewReady {
                            result,
                            generation,
                            outcome,
                        })
                        .await;
                });
            }
            WorkerCmd::Export {
                id,
                format,
                rows,
                pick,
                target,
                rest,
            } => {
                let token = CancellationToken::new();
                self.jobs.insert(id, token.clone());
                let rest_conn = rest
                    .as_ref()
                    .map(|(name, _)| (self.connections.get(name).cloned(), name.clone()));
                let cache = self.connected.clone();
                let events = self.events.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    let rest = match (rest_conn, rest) {
                        (Some((conn, name)), Some((_, request))) => {
                            match connector_for(conn, &name, &cache).await {
                                Ok(c) => Some((c, request)),
                                Err(e) => {
                                    let outcome = Err(ExportFailure::Failed(e.to_string()));
                                    let _ =
                                        events.send(WorkerEvent::ExportDone { id, outcome }).await;
                                    let _ = done.send(id);
                                    return;
                                }
                            }
                        }
                        _ => None,
                    };
                    let request = export_job::ExportRequest {
                        id,
                        format,
                        rows,
                        pick,
                        target,
                        rest,
                    };
                    let outcome = export_job::run(request, events.clone(), token).await;
                    let _ = events.send(WorkerEvent::ExportDone { id, outcome }).await;
                    let _ = done.send(id);
                });
            }
            WorkerCmd::Shutdown => {}
        }
    }
}

/// The connector of `name`, connected once and then shared by all jobs of that connection.
async fn connector_for(
    conn: Option<ConnectionConfig>,
    name: &str,
    cache: &ConnectorCache,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    let conn =
        conn.ok_or_else(|| ConnectorError::Config(format!("no connection named `{name}`")))?;
    let cell = {
        // Held only to find the cell; a poisoned lock still holds a usable map.
        let mut cells = cache.lock().unwrap_or_else(|e| e.into_inner());
        cells.entry(name.to_string()).or_default().clone()
    };
    // Two jobs of one connection connect once; a failure leaves the cell empty for a retry.
    cell.get_or_try_init(|| connectors::connect(&conn))
        .await
        .cloned()
}

/// Runs a group call, forwarding each job's events; one outcome per job.
#[allow(clippy::too_many_arguments)]
async fn run_group(
    jobs: &[JobId],
    conn: Option<ConnectionConfig>,
    name: &str,
    mode: GroupMode,
    requests: Vec<QueryRequest>,
    cache: ConnectorCache,
    events: &mpsc::Sender<WorkerEvent>,
    cancel: CancellationToken,
) -> Vec<JobOutcome> {
    let connector = tokio::select! {
        _ = cancel.cancelled() => return jobs.iter().map(|_| JobOutcome::Cancelled).collect(),
        c = connector_for(conn, name, &cache) => match c {
            Ok(c) => c,
            Err(e) => return jobs.iter().map(|_| JobOutcome::Failed(e.to_string())).collect(),
        },
    };
    let (tx, mut rx) = mpsc::channel(16);
    let sinks = jobs.iter().map(|j| JobSink::new(*j, tx.clone())).collect();
    drop(tx);
    let execute = connector.execute_group(mode, requests, sinks, cancel.clone());
    let forward = async {
        while let Some((job, event)) = rx.recv().await {
            if events.send(WorkerEvent::Job(job, event)).await.is_err() {
                break;
            }
        }
    };
    let (results, ()) = tokio::join!(execute, forward);
    results
        .into_iter()
        .map(|r| match r {
            Ok(summary) => JobOutcome::Succeeded(summary),
            Err(ConnectorError::Cancelled) => JobOutcome::Cancelled,
            Err(e) => JobOutcome::Failed(e.to_string()),
        })
        .collect()
}

async fn run_job(
    job: JobId,
    conn: Option<ConnectionConfig>,
    name: &str,
    request: QueryRequest,
    cache: ConnectorCache,
    events: &mpsc::Sender<WorkerEvent>,
    cancel: CancellationToken,
) -> JobOutcome {
    let connector = tokio::select! {
        _ = cancel.cancelled() => return JobOutcome::Cancelled,
        c = connector_for(conn, name, &cache) => match c {
            Ok(c) => c,
            Err(e) => return JobOutcome::Failed(e.to_string()),
        },
    };
    let (tx, mut rx) = mpsc::channel(4);
    let sink = JobSink::new(job, tx);
    let execute = connector.execute(request, sink, cancel.clone());
    let forward = async {
        while let Some((job, event)) = rx.recv().await {
            if events.send(WorkerEvent::Job(job, event)).await.is_err() {
                break;
            }
        }
    };
    let (result, ()) = tokio::join!(execute, forward);
    match result {
        Ok(summary) => JobOutcome::Succeeded(summary),
        Err(ConnectorError::Cancelled) => JobOutcome::Cancelled,
        // The user must learn that the query may still run (and bill) on the server.
        Err(e @ ConnectorError::StopFailed(_)) => JobOutcome::Failed(e.to_string()),
        Err(_) if cancel.is_cancelled() => JobOutcome::Cancelled,
        Err(e) => JobOutcome::Failed(e.to_string()),
    }
}

#[cfg(all(test, feature = "local"))]
mod tests {
    use super::*;
    use crate::store::config::Config;

    async fn next_finished(h: &mut WorkerHandle) -> (JobId, JobOutcome, usize) {
        let mut batches = 0;
        loop {
            match tokio::time::timeout(Duration::from_secs(20), h.events.recv()).await {
                Ok(Some(WorkerEvent::JobFinished { job, outcome, .. })) => {
                    return (job, outcome, batches);
                }
                Ok(Some(WorkerEvent::Job(_, JobEvent::Batch(_)))) => batches += 1,
                Ok(Some(_)) => {}
                other => panic!("no JobFinished: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn runs_a_job_and_streams_its_batches() {
        let mut h = spawn(vec![Config::builtin_local()]);
        let sql = "SELECT * FROM trips".to_string();
        h.commands
            .send(WorkerCmd::Run {
                job: 7,
                connection: "local".into(),
                request: QueryRequest::new(sql),
            })
            .unwrap();
        let (job, outcome, batches) = next_finished(&mut h).await;
        assert_eq!(job, 7);
        assert!(matches!(outcome, JobOutcome::Succeeded(s) if s.rows == 30_000));
        assert!(batches > 1);
    }

    #[tokio::test]
    async fn cancel_reaches_the_running_job() {
        let mut h = spawn(vec![Config::builtin_local()]);
        let sql = crate::connectors::local::tests::ENDLESS;
        h.commands
            .send(WorkerCmd::Run {
                job: 1,
                connection: "local".into(),
                request: QueryRequest::new(sql),
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        h.commands.send(WorkerCmd::Cancel { job: 1 }).unwrap();
        let (job, outcome, _) = next_finished(&mut h).await;
        assert_eq!(job, 1);
        assert!(matches!(outcome, JobOutcome::Cancelled), "{outcome:?}");
    }

    #[tokio::test]
    async fn an_unknown_connection_fails_the_job_clearly() {
        let mut h = spawn(vec![Config::builtin_local()]);
        h.commands
            .send(WorkerCmd::Run {
                job: 2,
                connection: "prod".into(),
                request: QueryRequest::new("SELECT 1"),
            })
            .unwrap();
        let (_, outcome, _) = next_finished(&mut h).await;
        assert!(matches!(outcome, JobOutcome::Failed(e) if e.contains("prod")));
    }

    #[tokio::test]
    async fn sorts_off_the_loop() {
        let mut h = spawn(vec![]);
        let mut rs = ResultSet::new(crate::app::tests::batch(3).schema());
        rs.push_batch(crate::app::tests::batch(5));
        let spec = ViewSpec::Sort {
            column: 0,
            order: SortOrder::Descending,
        };
        h.commands
            .send(WorkerCmd::ComputeView {
                result: 9,
                generation: 4,
                rows: Arc::new(rs),
                spec,
            })
            .unwrap();
        match tokio::time::timeout(Duration::from_secs(10), h.events.recv()).await {
            Ok(Some(WorkerEvent::ViewReady {
                result: 9,
                generation: 4,
                outcome: Ok(ix),
            })) => assert_eq!(ix, vec![4, 3, 2, 1, 0]),
            other => panic!("{other:?}"),
        }
    }
}
