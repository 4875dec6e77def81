//! One module per service behind one trait. Connectors drive their service's own lifecycle and
//! push status, schema, batches and statistics into a `JobSink` as they arrive. Service SDK types
//! never leave this module.

pub mod athena;
pub mod aws;
pub mod dynamodb;
mod exact_decimal;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "local")]
mod local_cancel;
#[cfg(feature = "local")]
mod local_engine;
mod local_limits;
pub mod redshift_data;
pub mod redshift_pg;
pub mod spark;

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::store::config::{ConnectionConfig, ConnectionKind};

/// Connectors describe catalogs and report job statistics in the model's terms.
pub use crate::model::catalog::{CatalogPath, NodeKind};
pub use crate::model::job::JobStats;

/// Identifies one run of one statement, for the whole life of the process.
pub type JobId = u64;

/// What Enter on a browser node does besides inserting its `query`.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeAction {
    /// Run the tab's next statements in this Athena workgroup.
    UseWorkgroup(String),
    /// Show the results of a past execution without running it again.
    OpenResult { server_id: String, sql: String },
    /// A Spark-enabled workgroup: sessions can be started in it.
    SparkWorkgroup(String),
    /// A Spark session: a tab can be bound to it, it can be described or terminated.
    SparkSession(spark::SparkSession),
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
    pub action: Option<NodeAction>,
}

impl CatalogNode {
    /// A node with no detail, children, query or action; the `with_*` methods add them.
    pub fn new(name: impl Into<String>, kind: NodeKind) -> Self {
        CatalogNode {
            name: name.into(),
            kind,
            detail: None,
            has_children: false,
            query: None,
            action: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_children(mut self) -> Self {
        self.has_children = true;
        self
    }

    pub fn with_query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    pub fn with_action(mut self, action: NodeAction) -> Self {
        self.action = Some(action);
        self
    }
}

/// What a connector can do, so the UI offers only what works.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    pub server_cancel: bool,
    pub sessions: bool,
    pub parameters: bool,
    /// A result's columns can grow as pages arrive (DynamoDB: items need not share
    /// attributes): a later `Schema` event is the union so far, and the batches after it
    /// follow it.
    pub schema_grows: bool,
}

/// One statement to run, with what the user chose for this run.
#[derive(Debug, Clone, Default)]
pub struct QueryRequest {
    pub sql: String,
    /// Values of the `?` placeholders, in order, as the service wants them (Athena: SQL literals
    /// `'abc'`, `42`; DynamoDB: JSON), or of the `:name` parameters in order of first appearance
    /// (Redshift Data: plain text the server casts).
    pub params: Vec<String>,
    /// Overrides the connection's Athena workgroup for this run.
    pub workgroup: Option<String>,
    /// Overrides the connection's result reuse (Athena): `Some(false)` turns it off.
    pub result_reuse: Option<bool>,
    /// Do not start anything: follow (and fetch the results of) this existing server execution.
    pub reopen: Option<String>,
    /// DynamoDB for scripts: send items as JSON text ([`JobEvent::Json`]) instead of batches.
    pub item_json: Option<ItemJson>,
    /// DynamoDB: continue an earlier run of the same statement from this `NextToken`.
    pub resume: Option<String>,
    /// DynamoDB: overrides the connection's `consistent_read` for this run.
    pub consistent_read: Option<bool>,
    /// DynamoDB: report consumed capacity per index too (INDEXES instead of TOTAL).
    pub capacity_by_index: bool,
    /// DynamoDB: overrides the connection's `limit` (items before pausing) for this run.
    pub limit: Option<u32>,
    /// Who runs it (`tab-3`, `cli`): a service with sessions keeps one per caller (Redshift Data).
    pub session_key: Option<String>,
    /// Run in the caller's session (`Some(true)`), without one (`Some(false)`), or as the
    /// connection says (`None`: Redshift Data uses sessions when `session_keep_alive_seconds` is set).
    pub use_session: Option<bool>,
    /// A name for the run the service can show (`StatementName` "quarry:<label>").
    pub label: Option<String>,
    /// Athena: run `sql` as one Spark calculation (PySpark, or `%sql …`) in this session
    /// instead of as an Athena SQL query.
    pub spark_session: Option<String>,
}

/// How a group of statements runs in one service call (DynamoDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupMode {
    /// Independent statements (BatchExecuteStatement): each succeeds or fails on its own.
    Batch,
    /// All or nothing (ExecuteTransaction).
    Transaction,
}

impl GroupMode {
    pub fn name(self) -> &'static str {
        match self {
            GroupMode::Batch => "batch",
            GroupMode::Transaction => "transaction",
        }
    }
}

/// How DynamoDB items are written as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemJson {
    /// Plain JSON: numbers exact, sets as arrays, binary as base64.
    Plain,
    /// DynamoDB JSON (typed AttributeValues), which round-trips.
    Typed,
}

impl QueryRequest {
    pub fn new(sql: impl Into<String>) -> Self {
        QueryRequest {
            sql: sql.into(),
            ..QueryRequest::default()
        }
    }

    /// As many values as the statement has `?` placeholders, or a usage error saying both.
    pub fn check_param_count(&self) -> Result<(), ConnectorError> {
        let positional = crate::sql::positional_count(&self.sql);
        if positional == self.params.len() {
            return Ok(());
        }
        Err(ConnectorError::Config(format!(
            "the statement has {positional} `?` placeholder(s) but {} value(s) were given",
            self.params.len()
        )))
    }
}

/// What a connector streams while a job runs.
#[derive(Debug, Clone)]
pub enum JobEvent {
    /// The service's own state name (QUEUED, RUNNING, …).
    Status(String),
    Schema(SchemaRef),
    Batch(RecordBatch),
    Stats(JobStats),
    /// Rows already written as JSON objects, one per element (when the request asked for it).
    Json(Vec<String>),
    /// The caller's server-side session: opened, or idle again after a statement (its
    /// keep-alive counts from here).
    Session(SessionInfo),
    /// Something the user should know that is not an error ("the session idled out: temp
    /// tables are gone").
    Notice(String),
    /// The caller's connection has a transaction open (or no more) after this statement
    /// (direct Redshift/PostgreSQL connections).
    Transaction(TransactionState),
}

/// Whether a caller's connection is inside a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    None,
    Open,
    /// Open, and a statement in it failed: only a rollback is accepted.
    Failed,
}

/// A server-side session held for a caller (Redshift Data).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The caller's key (`QueryRequest::session_key`).
    pub key: String,
    pub id: String,
    /// How long it lives after its last statement.
    pub keep_alive: Duration,
}

/// How a job ended when it did not fail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobSummary {
    pub rows: u64,
    /// Where a paused run goes on ("load more"): DynamoDB's `NextToken`.
    pub resume: Option<String>,
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
    /// Cancelled here, but the server may still be running the work (the stop failed).
    #[error("{0}")]
    StopFailed(String),
    #[error("the receiver of the results went away")]
    Disconnected,
    /// The server asks a password and none is configured: the TUI asks for one.
    #[error("{0}")]
    PasswordRequired(String),
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

    /// Runs `requests` together as `mode`, each streaming into its own sink; one outcome per
    /// request, in order. Only services with batch or transaction calls support it.
    async fn execute_group(
        &self,
        mode: GroupMode,
        requests: Vec<QueryRequest>,
        sinks: Vec<JobSink>,
        cancel: CancellationToken,
    ) -> Vec<Result<JobSummary, ConnectorError>> {
        let _ = (sinks, cancel);
        requests
            .iter()
            .map(|_| {
                Err(ConnectorError::Config(format!(
                    "this connection cannot run statements as a {}",
                    mode.name()
                )))
            })
            .collect()
    }

    /// Ends the server-side session held for caller `key`; `Some(id)` when there was one.
    async fn end_session(&self, key: &str) -> Result<Option<String>, ConnectorError> {
        let _ = key;
        Ok(None)
    }

    /// Commits (or rolls back) the transaction open on caller `key`'s connection; says what
    /// happened.
    async fn end_transaction(&self, key: &str, commit: bool) -> Result<String, ConnectorError> {
        let _ = (key, commit);
        Err(ConnectorError::Config(
            "this connection has no transactions to end".into(),
        ))
    }

    /// Spark sessions (Athena for Apache Spark): defaults, start, status, details, terminate.
    async fn spark(&self, op: spark::SparkOp) -> Result<spark::SparkReply, ConnectorError> {
        let _ = op;
        Err(ConnectorError::Config(
            "this connection has no Spark sessions (only Athena has)".into(),
        ))
    }

    /// A password the user typed at Quarry's prompt, used for the connections opened from now
    /// on (kept in memory only).
    fn set_password(&self, password: String) {
        let _ = password;
    }
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
        ConnectionKind::Athena => Ok(Arc::new(athena::AthenaConnector::connect(conn).await?)),
        ConnectionKind::Dynamodb => Ok(Arc::new(dynamodb::DynamoConnector::connect(conn).await?)),
        ConnectionKind::RedshiftData => Ok(Arc::new(
            redshift_data::RedshiftDataConnector::connect(conn).await?,
        )),
        ConnectionKind::Redshift => Ok(Arc::new(
            redshift_pg::RedshiftPgConnector::connect(conn).await?,
        )),
    }
}
