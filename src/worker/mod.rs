//! Owns connectors and jobs. `WorkerCmd`s come in on an unbounded channel (the UI never blocks
//! on send); `WorkerEvent`s go out on a bounded one (back-pressure on row batches). Every job
//! runs in its own task with its own `CancellationToken`.
//!
//! The worker also owns the on-disk stores the TUI uses ([`Stores`]): it records every run in
//! the history, and loads the history and the snippet library and saves snippets on request.
//! All of that file I/O runs on blocking threads (`spawn_blocking`), never on the async ones.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::sync::{OnceCell, mpsc};
use tokio_util::sync::CancellationToken;

mod complete_path;
pub mod export_job;

/// The protocol is the worker's language; it is defined below both the worker and the app.
pub use crate::protocol::{
    ExportFailure, ExportOutcome, ExportTarget, JobOutcome, NO_SNIPPETS, RowPick, SaveFailure,
    ViewSpec, WorkerCmd, WorkerEvent,
};

use crate::connectors::{
    self, Connector, ConnectorError, GroupMode, JobEvent, JobId, JobSink, JobStats, QueryRequest,
};
use crate::panics;
use crate::results::{self, ResultSet};
use crate::store::config::{BrokenConnection, ConnectionConfig};
use crate::store::history::{History, NewRun, Retention, RunEnd, RunId};
use crate::store::snippets::{Library, LibraryError, SnippetMeta};

/// The on-disk stores the worker uses; a store that could not be opened is `None` (the app runs
/// without it).
#[derive(Debug, Clone, Default)]
pub struct Stores {
    /// Every TUI run is recorded here (not reopened runs).
    pub history: Option<Arc<History>>,
    pub snippets: Option<Library>,
    /// Why `history` is `None`, for [`WorkerEvent::History`]'s error.
    pub history_error: Option<String>,
}

impl Stores {
    /// Opens the default history (with `retention`) and snippet library. Blocking file I/O
    /// (the history may be compacted): call it at startup or on a blocking thread. A store that
    /// cannot be opened is logged (`tracing::warn!`) and left out: this never fails.
    pub fn open_default(retention: Retention) -> Stores {
        let (history, history_error) = match History::open_default(retention) {
            Ok(h) => (Some(Arc::new(h)), None),
            Err(e) => {
                tracing::warn!("history unavailable: {e}");
                (None, Some(e.to_string()))
            }
        };
        let snippets = match Library::open_default() {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!("snippets unavailable: {e}");
                None
            }
        };
        Stores {
            history,
            snippets,
            history_error,
        }
    }
}

/// Handle to the running worker.
pub struct WorkerHandle {
    pub commands: mpsc::UnboundedSender<WorkerCmd>,
    pub events: mpsc::Receiver<WorkerEvent>,
}

/// Starts the worker on `runtime`, for `connections` (and the `broken` ones the config names,
/// whose every use fails with the config's error).
pub fn spawn(
    runtime: &tokio::runtime::Handle,
    connections: Vec<ConnectionConfig>,
    broken: Vec<BrokenConnection>,
    stores: Stores,
) -> WorkerHandle {
    // Everything the worker spawns (its store queue included) runs on `runtime`.
    let _in_worker_runtime = runtime.enter();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::channel(64);
    let worker = Worker {
        store_ops: spawn_store_queue(stores.clone(), ev_tx.clone()),
        history: stores.history,
        connections: connections
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect(),
        broken: broken
            .into_iter()
            .filter_map(|b| Some((b.name?, b.error)))
            .collect(),
        connected: Arc::new(std::sync::Mutex::new(HashMap::new())),
        jobs: HashMap::new(),
        events: ev_tx,
    };
    tokio::spawn(async move {
        if let Err(panic) = panics::contained(worker.run(cmd_rx)).await {
            // Its senders are gone with it: the app sees the event channel close.
            tracing::error!("the worker failed: {panic}");
        }
    });
    WorkerHandle {
        commands: cmd_tx,
        events: ev_rx,
    }
}

/// One cell per connection: connecting to one service never waits for another's connect.
type ConnectorCache = Arc<std::sync::Mutex<HashMap<String, Arc<OnceCell<Arc<dyn Connector>>>>>>;

struct Worker {
    /// Store requests, answered one at a time in the order they came.
    store_ops: mpsc::UnboundedSender<StoreOp>,
    history: Option<Arc<History>>,
    connections: HashMap<String, ConnectionConfig>,
    /// Connections the config names but could not load: why, for every use of them.
    broken: HashMap<String, String>,
    connected: ConnectorCache,
    jobs: HashMap<JobId, CancellationToken>,
    events: mpsc::Sender<WorkerEvent>,
}

impl Worker {
    /// The config of connection `name`, or why there is none (broken in the config, unknown).
    fn lookup(&self, name: &str) -> Result<ConnectionConfig, String> {
        if let Some(c) = self.connections.get(name) {
            return Ok(c.clone());
        }
        Err(match self.broken.get(name) {
            Some(error) => format!("connection `{name}` is broken in the config: {error}"),
            None => format!("no connection named `{name}`"),
        })
    }

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

    /// Runs `call` on `connection`'s connector in a task of its own and sends back what
    /// `reply` makes of the outcome (a failure to connect is the outcome too).
    fn on_connector<T, Fut>(
        &self,
        connection: String,
        call: impl FnOnce(Arc<dyn Connector>) -> Fut + Send + 'static,
        reply: impl FnOnce(Result<T, String>) -> WorkerEvent + Send + 'static,
    ) where
        T: Send + 'static,
        Fut: std::future::Future<Output = Result<T, ConnectorError>> + Send + 'static,
    {
        let conn = self.lookup(&connection);
        let cache = self.connected.clone();
        let events = self.events.clone();
        tokio::spawn(async move {
            let outcome = panics::contained(async {
                match connector_for(conn, &connection, &cache).await {
                    Ok(c) => call(c).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            })
            .await
            .unwrap_or_else(|panic| Err(internal_error_text(&panic)));
            let _ = events.send(reply(outcome)).await;
        });
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
                let conn = self.lookup(&connection);
                let cache = self.connected.clone();
                let events = self.events.clone();
                let done = done.clone();
                let history = self.history.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let recording = record_starts(history, &connection, &[&request])
                        .await
                        .pop()
                        .flatten();
                    let running = run_job(job, conn, &connection, request, cache, &events, token);
                    let (outcome, stats) = panics::contained(async {
                        panics::injection_point("job");
                        running.await
                    })
                    .await
                    .unwrap_or_else(|panic| (internal_error(&panic), JobStats::default()));
                    // Recorded before JobFinished: a history loaded after it shows the end.
                    record_ends(vec![(recording, &outcome, stats)]).await;
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
                let conn = self.lookup(&connection);
                let cache = self.connected.clone();
                let events = self.events.clone();
                let done = done.clone();
                let history = self.history.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let recordings = {
                        let requests: Vec<&QueryRequest> = requests.iter().collect();
                        record_starts(history, &connection, &requests).await
                    };
                    let results = panics::contained(run_group(
                        &jobs,
                        conn,
                        &connection,
                        mode,
                        requests,
                        cache,
                        &events,
                        token,
                    ))
                    .await
                    .unwrap_or_else(|panic| {
                        let failed = internal_error(&panic);
                        jobs.iter()
                            .map(|_| (failed.clone(), JobStats::default()))
                            .collect()
                    });
                    let (outcomes, stats): (Vec<JobOutcome>, Vec<JobStats>) =
                        results.into_iter().unzip();
                    record_ends(
                        recordings
                            .into_iter()
                            .zip(&outcomes)
                            .zip(stats)
                            .map(|((r, o), s)| (r, o, s))
                            .collect(),
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
            WorkerCmd::CompletePath { typed } => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    let asked = typed.clone();
                    let completed =
                        tokio::task::spawn_blocking(move || complete_path::complete_path(&asked))
                            .await
                            .unwrap_or_else(|_| typed.clone());
                    let _ = events
                        .send(WorkerEvent::PathCompleted { typed, completed })
                        .await;
                });
            }
            WorkerCmd::LoadChildren { connection, path } => {
                let asked = path.clone();
                self.on_connector(
                    connection.clone(),
                    move |c| async move { c.children(&asked).await },
                    move |result| WorkerEvent::Children {
                        connection,
                        path,
                        result,
                    },
                );
            }
            WorkerCmd::EndSession { connection, key } => {
                let caller = key.clone();
                self.on_connector(
                    connection,
                    move |c| async move { c.end_session(&caller).await },
                    move |outcome| WorkerEvent::SessionEnded { key, outcome },
                );
            }
            WorkerCmd::Spark { connection, op } => {
                let asked = op.clone();
                self.on_connector(
                    connection.clone(),
                    move |c| async move { c.spark(asked).await.map(Box::new) },
                    move |outcome| WorkerEvent::Spark {
                        connection,
                        op,
                        outcome,
                    },
                );
            }
            WorkerCmd::EndTransaction {
                connection,
                key,
                commit,
            } => {
                let caller = key.clone();
                self.on_connector(
                    connection,
                    move |c| async move { c.end_transaction(&caller, commit).await },
                    move |outcome| WorkerEvent::TransactionEnded { key, outcome },
                );
            }
            WorkerCmd::SetPassword {
                connection,
                password,
            } => {
                let conn = self.lookup(&connection);
                let cache = self.connected.clone();
                tokio::spawn(async move {
                    if let Ok(c) = connector_for(conn, &connection, &cache).await {
                        c.set_password(password);
                    }
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
            WorkerCmd::Inspect {
                request,
                rows,
                row,
                col,
                trino_text,
            } => spawn_inspect(self.events.clone(), request, rows, (row, col), trino_text),
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
                    .map(|(name, _)| (self.lookup(name), name.clone()));
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
                    let outcome =
                        panics::contained(export_job::run(request, events.clone(), token))
                            .await
                            .unwrap_or_else(|panic| {
                                Err(ExportFailure::Failed(internal_error_text(&panic)))
                            });
                    let _ = events.send(WorkerEvent::ExportDone { id, outcome }).await;
                    let _ = done.send(id);
                });
            }
            WorkerCmd::LoadHistory => {
                let _ = self.store_ops.send(StoreOp::LoadHistory);
            }
            WorkerCmd::LoadSnippets => {
                let _ = self.store_ops.send(StoreOp::LoadSnippets);
            }
            WorkerCmd::SaveSnippet {
                name,
                text,
                meta,
                overwrite,
            } => {
                let _ = self.store_ops.send(StoreOp::SaveSnippet {
                    name,
                    text,
                    meta,
                    overwrite,
                });
            }
            WorkerCmd::Shutdown => {}
        }
    }
}

/// What a job that panicked says: a bug of Quarry's, not of the statement.
fn internal_error_text(panic: &str) -> String {
    format!("internal error in Quarry: {panic} (please report it; the log has details)")
}

fn internal_error(panic: &str) -> JobOutcome {
    JobOutcome::Failed(internal_error_text(panic))
}

/// Lays out a cell for the inspector on a blocking thread and answers with
/// [`WorkerEvent::Inspected`].
fn spawn_inspect(
    events: mpsc::Sender<WorkerEvent>,
    request: u64,
    rows: Arc<ResultSet>,
    (row, col): (usize, usize),
    trino_text: bool,
) {
    tokio::spawn(async move {
        let laid_out =
            tokio::task::spawn_blocking(move || rows.cell_inspect(row, col, trino_text)).await;
        let outcome = laid_out
            .map(Arc::new)
            .map_err(|e| format!("formatting the cell failed: {e}"));
        let _ = events
            .send(WorkerEvent::Inspected { request, outcome })
            .await;
    });
}

/// A store request of the app.
enum StoreOp {
    LoadHistory,
    LoadSnippets,
    SaveSnippet {
        name: String,
        text: String,
        meta: SnippetMeta,
        overwrite: bool,
    },
}

impl StoreOp {
    /// Does the file I/O (blocking) and returns the answer.
    fn run(self, stores: &Stores) -> WorkerEvent {
        match self {
            StoreOp::LoadHistory => WorkerEvent::History(match &stores.history {
                Some(h) => h.entries().map_err(|e| e.to_string()),
                None => Err(history_unavailable(stores)),
            }),
            StoreOp::LoadSnippets => match &stores.snippets {
                Some(lib) => {
                    let (snippets, errors) = lib.list();
                    WorkerEvent::Snippets {
                        snippets,
                        errors: errors.iter().map(ToString::to_string).collect(),
                    }
                }
                None => WorkerEvent::Snippets {
                    snippets: Vec::new(),
                    errors: vec![NO_SNIPPETS.to_string()],
                },
            },
            StoreOp::SaveSnippet {
                name,
                text,
                meta,
                overwrite,
            } => {
                let outcome = match &stores.snippets {
                    Some(lib) => lib
                        .save(&name, &text, &meta, overwrite)
                        .map_err(|e| match e {
                            LibraryError::Exists { path } => SaveFailure::Exists(path),
                            e => SaveFailure::Failed(e.to_string()),
                        }),
                    None => Err(SaveFailure::Failed(NO_SNIPPETS.to_string())),
                };
                WorkerEvent::SnippetSaved { name, outcome }
            }
        }
    }

    /// The answer when the request's task failed (panicked) with `why`.
    fn failed(&self, why: String) -> WorkerEvent {
        match self {
            StoreOp::LoadHistory => WorkerEvent::History(Err(why)),
            StoreOp::LoadSnippets => WorkerEvent::Snippets {
                snippets: Vec::new(),
                errors: vec![why],
            },
            StoreOp::SaveSnippet { name, .. } => WorkerEvent::SnippetSaved {
                name: name.clone(),
                outcome: Err(SaveFailure::Failed(why)),
            },
        }
    }
}

fn history_unavailable(stores: &Stores) -> String {
    match &stores.history_error {
        Some(e) => format!("history is unavailable: {e}"),
        None => "history is unavailable: it was not opened".to_string(),
    }
}

/// Answers store requests one at a time, in order (a `LoadSnippets` after a `SaveSnippet` sees
/// the saved snippet), each on a blocking thread.
fn spawn_store_queue(
    stores: Stores,
    events: mpsc::Sender<WorkerEvent>,
) -> mpsc::UnboundedSender<StoreOp> {
    let (tx, mut rx) = mpsc::unbounded_channel::<StoreOp>();
    let stores = Arc::new(stores);
    tokio::spawn(async move {
        while let Some(op) = rx.recv().await {
            // Kept to answer if the blocking task panics (its op is gone then).
            let fallback = match &op {
                StoreOp::SaveSnippet { name, .. } => StoreOp::SaveSnippet {
                    name: name.clone(),
                    text: String::new(),
                    meta: SnippetMeta::default(),
                    overwrite: false,
                },
                StoreOp::LoadHistory => StoreOp::LoadHistory,
                StoreOp::LoadSnippets => StoreOp::LoadSnippets,
            };
            let stores = stores.clone();
            let event = match tokio::task::spawn_blocking(move || op.run(&stores)).await {
                Ok(event) => event,
                Err(e) => fallback.failed(format!("the store task failed: {e}")),
            };
            if events.send(event).await.is_err() {
                break;
            }
        }
    });
    tx
}

/// Set once a history write failed: later failures are not logged again.
static HISTORY_WARNED: AtomicBool = AtomicBool::new(false);

fn warn_history(what: &str, e: impl std::fmt::Display) {
    if !HISTORY_WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!("history: cannot record {what}: {e} (further history errors not logged)");
    }
}

/// A run's history record in progress.
struct Recording {
    history: Arc<History>,
    id: RunId,
}

/// Records the starts of `requests` (of `connection`) before they are sent, on a blocking
/// thread: one entry per request, `None` when not recorded (no history, a reopened run, or an
/// error, which is only logged).
async fn record_starts(
    history: Option<Arc<History>>,
    connection: &str,
    requests: &[&QueryRequest],
) -> Vec<Option<Recording>> {
    let Some(history) = history else {
        return requests.iter().map(|_| None).collect();
    };
    let runs: Vec<Option<NewRun>> = requests
        .iter()
        .map(|r| {
            r.reopen.is_none().then(|| NewRun {
                connection: connection.to_string(),
                tab: r.label.clone(),
                sql: r.sql.clone(),
                params: r.params.len(),
            })
        })
        .collect();
    if runs.iter().all(Option::is_none) {
        return runs.into_iter().map(|_| None).collect();
    }
    let h = history.clone();
    let count = runs.len();
    let ids = tokio::task::spawn_blocking(move || {
        runs.into_iter()
            .map(|run| {
                let run = run?;
                h.record_start(run)
                    .map_err(|e| warn_history("a run's start", e))
                    .ok()
            })
            .collect::<Vec<_>>()
    })
    .await;
    match ids {
        Ok(ids) => ids
            .into_iter()
            .map(|id| {
                id.map(|id| Recording {
                    history: history.clone(),
                    id,
                })
            })
            .collect(),
        Err(e) => {
            warn_history("a run's start", e);
            (0..count).map(|_| None).collect()
        }
    }
}

/// Records how runs ended (with the last statistics their jobs produced), on a blocking
/// thread; errors are only logged.
async fn record_ends(ends: Vec<(Option<Recording>, &JobOutcome, JobStats)>) {
    let ends: Vec<(Recording, RunEnd)> = ends
        .into_iter()
        .filter_map(|(rec, outcome, stats)| {
            let end = match outcome {
                JobOutcome::Succeeded(summary) => {
                    // The summary's statistics are the final ones; a connector that left them
                    // empty there reported them as events.
                    let stats = if summary.stats == JobStats::default() {
                        &stats
                    } else {
                        &summary.stats
                    };
                    RunEnd::succeeded(summary.rows, stats)
                }
                JobOutcome::Failed(e) => RunEnd::failed(e.clone(), &stats),
                JobOutcome::Cancelled => RunEnd::cancelled(&stats),
            };
            Some((rec?, end))
        })
        .collect();
    if ends.is_empty() {
        return;
    }
    let written = tokio::task::spawn_blocking(move || {
        for (rec, end) in ends {
            if let Err(e) = rec.history.record_end(&rec.id, end) {
                warn_history("a run's end", e);
            }
        }
    })
    .await;
    if let Err(e) = written {
        warn_history("a run's end", e);
    }
}

/// The connector of `name`, connected once and then shared by all jobs of that connection.
async fn connector_for(
    conn: Result<ConnectionConfig, String>,
    name: &str,
    cache: &ConnectorCache,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    let conn = conn.map_err(ConnectorError::Config)?;
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

/// Runs a group call, forwarding each job's events; one outcome per job, with the last
/// statistics the job reported.
#[allow(clippy::too_many_arguments)]
async fn run_group(
    jobs: &[JobId],
    conn: Result<ConnectionConfig, String>,
    name: &str,
    mode: GroupMode,
    requests: Vec<QueryRequest>,
    cache: ConnectorCache,
    events: &mpsc::Sender<WorkerEvent>,
    cancel: CancellationToken,
) -> Vec<(JobOutcome, JobStats)> {
    let connector = tokio::select! {
        _ = cancel.cancelled() => {
            return jobs
                .iter()
                .map(|_| (JobOutcome::Cancelled, JobStats::default()))
                .collect();
        }
        c = connector_for(conn, name, &cache) => match c {
            Ok(c) => c,
            Err(e) => {
                return jobs
                    .iter()
                    .map(|_| (JobOutcome::Failed(e.to_string()), JobStats::default()))
                    .collect();
            }
        },
    };
    let (tx, mut rx) = mpsc::channel(16);
    let sinks = jobs.iter().map(|j| JobSink::new(*j, tx.clone())).collect();
    drop(tx);
    let mut last_stats: HashMap<JobId, JobStats> = HashMap::new();
    let execute = connector.execute_group(mode, requests, sinks, cancel.clone());
    let forward = async {
        while let Some((job, event)) = rx.recv().await {
            if let JobEvent::Stats(stats) = &event {
                last_stats.insert(job, stats.clone());
            }
            if events.send(WorkerEvent::Job(job, event)).await.is_err() {
                break;
            }
        }
    };
    let (results, ()) = tokio::join!(execute, forward);
    results
        .into_iter()
        .zip(jobs)
        .map(|(r, job)| {
            let outcome = match r {
                Ok(summary) => JobOutcome::Succeeded(summary),
                Err(ConnectorError::Cancelled) => JobOutcome::Cancelled,
                Err(e) => JobOutcome::Failed(e.to_string()),
            };
            (outcome, last_stats.remove(job).unwrap_or_default())
        })
        .collect()
}

async fn run_job(
    job: JobId,
    conn: Result<ConnectionConfig, String>,
    name: &str,
    request: QueryRequest,
    cache: ConnectorCache,
    events: &mpsc::Sender<WorkerEvent>,
    cancel: CancellationToken,
) -> (JobOutcome, JobStats) {
    let connector = tokio::select! {
        _ = cancel.cancelled() => return (JobOutcome::Cancelled, JobStats::default()),
        c = connector_for(conn, name, &cache) => match c {
            Ok(c) => c,
            Err(e) => return (JobOutcome::Failed(e.to_string()), JobStats::default()),
        },
    };
    let (tx, mut rx) = mpsc::channel(4);
    let sink = JobSink::new(job, tx);
    let mut last_stats = JobStats::default();
    let execute = connector.execute(request, sink, cancel.clone());
    let forward = async {
        while let Some((job, event)) = rx.recv().await {
            if let JobEvent::Stats(stats) = &event {
                last_stats = stats.clone();
            }
            if events.send(WorkerEvent::Job(job, event)).await.is_err() {
                break;
            }
        }
    };
    let (result, ()) = tokio::join!(execute, forward);
    let outcome = match result {
        Ok(summary) => JobOutcome::Succeeded(summary),
        Err(ConnectorError::Cancelled) => JobOutcome::Cancelled,
        // The user must learn that the query may still run (and bill) on the server.
        Err(e @ ConnectorError::StopFailed(_)) => JobOutcome::Failed(e.to_string()),
        Err(_) if cancel.is_cancelled() => JobOutcome::Cancelled,
        Err(e @ ConnectorError::PasswordRequired(_)) => {
            let _ = events
                .send(WorkerEvent::PasswordNeeded {
                    job,
                    connection: name.to_string(),
                })
                .await;
            JobOutcome::Failed(e.to_string())
        }
        Err(e) => JobOutcome::Failed(e.to_string()),
    };
    (outcome, last_stats)
}

#[cfg(all(test, feature = "local"))]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::results::SortOrder;
    use crate::store::config::Config;

    /// The worker on the test's own runtime.
    fn spawn(connections: Vec<ConnectionConfig>, stores: Stores) -> WorkerHandle {
        super::spawn(
            &tokio::runtime::Handle::current(),
            connections,
            Vec::new(),
            stores,
        )
    }

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
        let mut h = spawn(vec![Config::builtin_local()], Stores::default());
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
        let mut h = spawn(vec![Config::builtin_local()], Stores::default());
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
        let mut h = spawn(vec![Config::builtin_local()], Stores::default());
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
        let mut h = spawn(vec![], Stores::default());
        let mut rs = ResultSet::new(crate::results::fixtures::batch(3).schema());
        rs.push_batch(crate::results::fixtures::batch(5));
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

#[cfg(test)]
mod store_tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::store::history;
    use crate::store::history::Status;

    /// The worker on the test's own runtime.
    fn spawn(connections: Vec<ConnectionConfig>, stores: Stores) -> WorkerHandle {
        super::spawn(
            &tokio::runtime::Handle::current(),
            connections,
            Vec::new(),
            stores,
        )
    }

    fn stores(dir: &Path) -> Stores {
        let history = History::open(dir.join("history.jsonl"), Retention::default()).unwrap();
        Stores {
            history: Some(Arc::new(history)),
            snippets: Some(Library::open(dir.join("snippets"))),
            history_error: None,
        }
    }

    async fn next_event(h: &mut WorkerHandle) -> WorkerEvent {
        match tokio::time::timeout(Duration::from_secs(20), h.events.recv()).await {
            Ok(Some(ev)) => ev,
            other => panic!("no event: {other:?}"),
        }
    }

    async fn finished(h: &mut WorkerHandle) -> (JobId, JobOutcome) {
        loop {
            if let WorkerEvent::JobFinished { job, outcome, .. } = next_event(h).await {
                return (job, outcome);
            }
        }
    }

    async fn load_history(h: &mut WorkerHandle) -> Result<Vec<history::Entry>, String> {
        h.commands.send(WorkerCmd::LoadHistory).unwrap();
        match next_event(h).await {
            WorkerEvent::History(entries) => entries,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_run_is_recorded_start_then_end_and_a_reopen_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = spawn(vec![], stores(dir.path()));
        let mut request = QueryRequest::new("SELECT *\nFROM t WHERE a = ?");
        request.params = vec!["1".into()];
        request.label = Some("tab-2".into());
        h.commands
            .send(WorkerCmd::Run {
                job: 3,
                connection: "prod".into(),
                request: request.clone(),
            })
            .unwrap();
        let (job, outcome) = finished(&mut h).await;
        assert_eq!(job, 3);
        assert!(matches!(&outcome, JobOutcome::Failed(e) if e.contains("prod")));

        // Start then end, both written by the time JobFinished arrived.
        let file = std::fs::read_to_string(dir.path().join("history.jsonl")).unwrap();
        let lines: Vec<&str> = file.lines().collect();
        assert_eq!(lines.len(), 2, "{file}");
        assert!(lines[0].contains(r#""event":"start""#), "{file}");
        assert!(lines[1].contains(r#""event":"end""#), "{file}");

        let entries = load_history(&mut h).await.unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.connection, "prod");
        assert_eq!(e.tab.as_deref(), Some("tab-2"));
        assert_eq!(e.sql, "SELECT *\nFROM t WHERE a = ?");
        assert_eq!(e.params, 1);
        assert_eq!(e.status, Status::Failed);
        assert!(e.error.as_deref().is_some_and(|m| m.contains("prod")));
        assert!(e.duration.is_some());

        // Following an existing execution again is not a new run.
        request.reopen = Some("q-1".into());
        h.commands
            .send(WorkerCmd::Run {
                job: 4,
                connection: "prod".into(),
                request,
            })
            .unwrap();
        assert_eq!(finished(&mut h).await.0, 4);
        assert_eq!(load_history(&mut h).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_group_records_each_statement() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = spawn(vec![], stores(dir.path()));
        h.commands
            .send(WorkerCmd::RunGroup {
                jobs: vec![5, 6],
                connection: "dynamo".into(),
                mode: GroupMode::Batch,
                requests: vec![QueryRequest::new("SELECT 1"), QueryRequest::new("SELECT 2")],
            })
            .unwrap();
        finished(&mut h).await;
        finished(&mut h).await;
        let entries = load_history(&mut h).await.unwrap();
        let mut sqls: Vec<&str> = entries.iter().map(|e| e.sql.as_str()).collect();
        sqls.sort();
        assert_eq!(sqls, ["SELECT 1", "SELECT 2"]);
        assert!(entries.iter().all(|e| e.status == Status::Failed));
    }

    #[tokio::test]
    async fn without_stores_runs_go_on_and_loads_say_why() {
        let mut h = spawn(
            vec![],
            Stores {
                history_error: Some("cannot create /nowhere: denied".into()),
                ..Stores::default()
            },
        );
        h.commands
            .send(WorkerCmd::Run {
                job: 1,
                connection: "prod".into(),
                request: QueryRequest::new("SELECT 1"),
            })
            .unwrap();
        assert!(matches!(finished(&mut h).await.1, JobOutcome::Failed(_)));
        let e = load_history(&mut h).await.unwrap_err();
        assert!(e.contains("unavailable") && e.contains("/nowhere"), "{e}");
        h.commands.send(WorkerCmd::LoadSnippets).unwrap();
        match next_event(&mut h).await {
            WorkerEvent::Snippets { snippets, errors } => {
                assert!(snippets.is_empty());
                assert_eq!(errors, [NO_SNIPPETS]);
            }
            other => panic!("{other:?}"),
        }
        h.commands
            .send(WorkerCmd::SaveSnippet {
                name: "x".into(),
                text: "SELECT 1".into(),
                meta: SnippetMeta::default(),
                overwrite: false,
            })
            .unwrap();
        match next_event(&mut h).await {
            WorkerEvent::SnippetSaved { name, outcome } => {
                assert_eq!(name, "x");
                assert_eq!(
                    outcome.unwrap_err(),
                    SaveFailure::Failed(NO_SNIPPETS.into())
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn snippets_save_load_and_refuse_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = spawn(vec![], stores(dir.path()));
        let meta = SnippetMeta {
            description: Some("Sales per day".into()),
            tags: vec!["daily".into()],
            ..SnippetMeta::default()
        };
        let save = |text: &str, overwrite| WorkerCmd::SaveSnippet {
            name: "Daily Sales".into(),
            text: text.into(),
            meta: meta.clone(),
            overwrite,
        };
        // Sent back to back: answered in order, so the load sees the save.
        h.commands.send(save("SELECT 1", false)).unwrap();
        h.commands.send(WorkerCmd::LoadSnippets).unwrap();
        let first = match next_event(&mut h).await {
            WorkerEvent::SnippetSaved { name, outcome } => {
                assert_eq!(name, "Daily Sales");
                outcome.unwrap()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(first.name, "Daily Sales");
        assert_eq!(first.meta, meta);
        assert!(first.path.ends_with("daily-sales.sql"));
        match next_event(&mut h).await {
            WorkerEvent::Snippets { snippets, errors } => {
                assert!(errors.is_empty(), "{errors:?}");
                assert_eq!(snippets, std::slice::from_ref(&first));
            }
            other => panic!("{other:?}"),
        }

        h.commands.send(save("SELECT 2", false)).unwrap();
        match next_event(&mut h).await {
            WorkerEvent::SnippetSaved { outcome, .. } => {
                assert_eq!(
                    outcome.unwrap_err(),
                    SaveFailure::Exists(first.path.clone())
                );
            }
            other => panic!("{other:?}"),
        }
        h.commands.send(save("SELECT 2", true)).unwrap();
        h.commands.send(WorkerCmd::LoadSnippets).unwrap();
        match next_event(&mut h).await {
            WorkerEvent::SnippetSaved { outcome, .. } => {
                assert_eq!(outcome.unwrap().text.trim(), "SELECT 2")
            }
            other => panic!("{other:?}"),
        }
        match next_event(&mut h).await {
            WorkerEvent::Snippets { snippets, .. } => {
                assert_eq!(snippets.len(), 1);
                assert_eq!(snippets[0].text.trim(), "SELECT 2");
            }
            other => panic!("{other:?}"),
        }
    }
}
