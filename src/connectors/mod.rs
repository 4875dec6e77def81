//! One module per service behind one trait. Connectors drive their service's own lifecycle and
//! push status, schema, batches and statistics into a `JobSink` as they arrive. Service SDK types
//! never leave this module.

#[cfg(feature = "local")]
pub mod local;

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::store::config::{ConnectionConfig, ConnectionKind};

/// Identifies one run of one statement, for the whole life of the process.
pub type JobId = u64;

/// Path of a catalog node below its connection, e.g. `["sales", "orders"]`.
pub type CatalogPath = Vec<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Catalog,
    Database,
    Schema,
    Table,
    View,
    Column,
    Folder,
}

/// One entry of the browser tree, as a connector describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogNode {
    pub name: String,
    pub kind: NodeKind,
    /// Shown dimmed after the name: a column's type, a table's format.
    pub detail: Option<String>,
    pub has_children: bool,
    /// What "open this table" runs or inserts (`SELECT * FROM … LIMIT 100`).
    pub query: Option<String>,
}

/// What a connector can do, so the UI offers only what works.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    pub server_cancel: bool,
    pub sessions: bool,
    pub parameters: bool,
}

#[derive(Debug, Clone)]
pub struct QueryRequest {
    pub sql: String,
}

/// Statistics a service reports about a job; the fields a service lacks stay `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobStats {
    pub bytes_scanned: Option<u64>,
    pub cost_usd: Option<f64>,
    pub server_id: Option<String>,
}

/// What a connector streams while a job runs.
#[derive(Debug, Clone)]
pub enum JobEvent {
    /// The service's own state name (QUEUED, RUNNING, …).
    Status(String),
    Schema(SchemaRef),
    Batch(RecordBatch),
    Stats(JobStats),
}

/// How a job ended when it did not fail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobSummary {
    pub rows: u64,
    /// For statements without rows: what happened ("CREATE TABLE", "3 rows inserted").
    pub message: Option<String>,
    pub stats: JobStats,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("{0}")]
    Query(String),
    #[error("{0}")]
    Config(String),
    #[error("cancelled")]
    Cancelled,
    #[error("the receiver of the results went away")]
    Disconnected,
}

/// The sending end a connector writes a job's events into. Bounded: a slow consumer slows the
/// producer instead of growing memory without limit.
#[derive(Clone)]
pub struct JobSink {
    job: JobId,
    tx: mpsc::Sender<(JobId, JobEvent)>,
}

impl JobSink {
    pub fn new(job: JobId, tx: mpsc::Sender<(JobId, JobEvent)>) -> Self {
        JobSink { job, tx }
    }

    pub fn job(&self) -> JobId {
        self.job
    }

    pub async fn send(&self, event: JobEvent) -> Result<(), ConnectorError> {
        self.tx
            .send((self.job, event))
            .await
            .map_err(|_| ConnectorError::Disconnected)
    }
}

#[async_trait]
pub trait Connector: Send + Sync {
    fn capabilities(&self) -> Capabilities;

    /// Children of `path` in the catalog (the empty path is the connection's root).
    async fn children(&self, path: &CatalogPath) -> Result<Vec<CatalogNode>, ConnectorError>;

    /// Runs one statement, streaming into `sink`, until done, failed or `cancel` fires. On
    /// cancel a connector also cancels the work on the server where the service allows it.
    async fn execute(
        &self,
        req: QueryRequest,
        sink: JobSink,
        cancel: CancellationToken,
    ) -> Result<JobSummary, ConnectorError>;
}

/// Builds the connector for a configured connection.
pub async fn connect(conn: &ConnectionConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    match conn.kind {
        #[cfg(feature = "local")]
        ConnectionKind::Local => {
            let paths = match &conn.details {
                crate::store::config::ConnectionDetails::Local { paths } => paths.clone(),
                _ => Vec::new(),
            };
            Ok(Arc::new(local::LocalConnector::new(&paths).await?))
        }
        #[cfg(not(feature = "local"))]
        ConnectionKind::Local => Err(ConnectorError::Config(format!(
            "connection `{}`: this build has no embedded engine (built without the `local` feature)",
            conn.name
        ))),
        kind => Err(ConnectorError::Config(format!(
            "connection `{}`: kind `{kind}` is not available in this version of Quarry yet \
             (supported today: local)",
            conn.name
        ))),
    }
}

/// Formats a duration the way the results title shows it: `850 ms`, `4.2 s`, `3 min 05 s`.
pub fn format_elapsed(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        let s = d.as_secs();
        format!("{} min {:02} s", s / 60, s % 60)
    }
}
