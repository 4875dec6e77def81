//! Owns connectors and jobs. `WorkerCmd`s come in on an unbounded channel (the UI never blocks
//! on send); `WorkerEvent`s go out on a bounded one (back-pressure on row batches). Every job
//! runs in its own task with its own `CancellationToken`.
//!
//! The worker also owns the on-disk stores the TUI uses ([`Stores`]): it records every run in
//! the history, and loads the history and the snippet library and saves snippets on request.
//! All of that file I/O runs on blocking threads (`spawn_blocking`), never on the async ones.
use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub mod catalog;
mod complete_path;
mod connect;
pub mod export_job;
mod jobs;
pub mod recorder;
pub mod runner;
mod stores;
#[cfg(test)]
mod tests;
mod views;

/// The protocol is the worker's language; it is defined below both the worker and the app.
pub use crate::protocol::{
    ExportFailure, ExportOutcome, ExportTarget, JobOutcome, NO_SNIPPETS, RowPick, SaveFailure,
    ViewSpec, WorkerCmd, WorkerEvent,
};
pub use stores::Stores;

use crate::connectors::{Connector, ConnectorError, JobId, QueryRequest};
use crate::panics;
use crate::results::ResultSet;
use crate::store::catalog_cache::CatalogCache;
use crate::store::config::{BrokenConnection, ConnectionConfig};
use connect::{ConnectorCache, connector_for};
use jobs::JobContext;
use recorder::{Failures, RunRecorder};
use stores::{StoreOp, spawn_store_queue};

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
        recorder: RunRecorder::new(stores.history, Failures::Log),
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
        catalog_cache: open_catalog_cache(),
        catalog_writes: Arc::default(),
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

struct Worker {
    /// Store requests, answered one at a time in the order they came.
    store_ops: mpsc::UnboundedSender<StoreOp>,
    /// Records every TUI run in the history (not reopened runs).
    recorder: RunRecorder,
    connections: HashMap<String, ConnectionConfig>,
    /// Connections the config names but could not load: why, for every use of them.
    broken: HashMap<String, String>,
    connected: ConnectorCache,
    jobs: HashMap<JobId, CancellationToken>,
    events: mpsc::Sender<WorkerEvent>,
    /// Completion's catalogs on disk; `None` without a data directory.
    catalog_cache: Option<CatalogCache>,
    catalog_writes: Arc<tokio::sync::Mutex<()>>,
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

    /// What a catalog request for `connection` needs from the worker.
    fn catalog_job(&self, connection: String) -> catalog::CatalogJob {
        catalog::CatalogJob {
            conn: self.lookup(&connection),
            connection,
            connected: self.connected.clone(),
            events: self.events.clone(),
            cache: self.catalog_cache.clone(),
            writes: self.catalog_writes.clone(),
        }
    }

    /// What a job of `connection` needs from the worker.
    fn job_context(&self, connection: String, done: &mpsc::UnboundedSender<JobId>) -> JobContext {
        JobContext {
            conn: self.lookup(&connection),
            name: connection,
            cache: self.connected.clone(),
            events: self.events.clone(),
            recorder: self.recorder.clone(),
            done: done.clone(),
        }
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
                jobs::spawn_run(self.job_context(connection, done), job, request, token);
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
                let ctx = self.job_context(connection, done);
                jobs::spawn_group(ctx, (mode, jobs), requests, token);
            }
            WorkerCmd::Cancel { job } => {
                if let Some(token) = self.jobs.get(&job) {
                    token.cancel();
                }
            }
            WorkerCmd::CompletePath { typed } => {
                views::spawn_complete_path(self.events.clone(), typed);
            }
            WorkerCmd::ComputeView {
                result,
                generation,
                rows,
                spec,
            } => views::spawn_compute_view(self.events.clone(), (result, generation), rows, spec),
            WorkerCmd::Inspect {
                request,
                rows,
                row,
                col,
                trino_text,
            } => views::spawn_inspect(self.events.clone(), request, rows, (row, col), trino_text),
            WorkerCmd::Export {
                id,
                format,
                rows,
                pick,
                target,
                rest,
            } => self.export(done, (id, format), (rows, pick, target), rest),
            WorkerCmd::LoadCatalog {
                connection,
                refresh,
            } => catalog::spawn_load_catalog(self.catalog_job(connection), refresh),
            WorkerCmd::LoadColumns { connection, table } => {
                catalog::spawn_load_columns(self.catalog_job(connection), table)
            }
            cmd @ (WorkerCmd::LoadHistory
            | WorkerCmd::LoadSnippets
            | WorkerCmd::SaveSnippet { .. }) => {
                if let Some(op) = StoreOp::of(cmd) {
                    let _ = self.store_ops.send(op);
                }
            }
            cmd @ (WorkerCmd::LoadChildren { .. }
            | WorkerCmd::EndSession { .. }
            | WorkerCmd::Spark { .. }
            | WorkerCmd::EndTransaction { .. }
            | WorkerCmd::SetPassword { .. }) => self.on_connector_cmd(cmd),
            WorkerCmd::Shutdown => {}
        }
    }

    /// The commands that call one method of a connection's connector and answer with its
    /// outcome.
    fn on_connector_cmd(&mut self, cmd: WorkerCmd) {
        match cmd {
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
            // The others are handled by `handle`, which sends only these here.
            _ => {}
        }
    }

    /// Writes rows of a result out in a task of its own (job `id`: `Cancel` stops it); a
    /// paused run's `rest` is fetched from its connection while writing.
    fn export(
        &mut self,
        done: &mpsc::UnboundedSender<JobId>,
        (id, format): (JobId, crate::export::Format),
        (rows, pick, target): (Arc<ResultSet>, RowPick, ExportTarget),
        rest: Option<(String, QueryRequest)>,
    ) {
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
                            let _ = events.send(WorkerEvent::ExportDone { id, outcome }).await;
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
            let outcome = panics::contained(export_job::run(request, events.clone(), token))
                .await
                .unwrap_or_else(|panic| Err(ExportFailure::Failed(internal_error_text(&panic))));
            let _ = events.send(WorkerEvent::ExportDone { id, outcome }).await;
            let _ = done.send(id);
        });
    }
}

/// The data directory's catalog cache, or `None` (logged) when there is no data directory.
fn open_catalog_cache() -> Option<CatalogCache> {
    CatalogCache::open_default()
        .inspect_err(|e| tracing::warn!("catalog cache unavailable: {e}"))
        .ok()
}

/// What a job that panicked says: a bug of Quarry's, not of the statement.
fn internal_error_text(panic: &str) -> String {
    format!("internal error in Quarry: {panic} (please report it; the log has details)")
}

fn internal_error(panic: &str) -> JobOutcome {
    JobOutcome::Failed(internal_error_text(panic))
}
