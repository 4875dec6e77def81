//! Jobs: what is asked (one statement and the choices for its run), what a connector streams
//! while it runs, and what is known once it ended.

use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

/// Identifies one run of one statement, for the whole life of the process.
pub type JobId = u64;

/// The Arrow field metadata key holding Athena's own type of a column (`array(…)`, `map(…)`,
/// `row(…)`): the cell inspector reads such cells' text back as JSON.
pub const ATHENA_TYPE: &str = "athena.type";

/// Statistics a service reports about a job; the fields a service lacks stay `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobStats {
    pub bytes_scanned: Option<u64>,
    pub cost_usd: Option<f64>,
    pub server_id: Option<String>,
    /// Service-specific figures, labelled, in display order: ("engine", "850 ms"), ("dpu", "4").
    pub extra: Vec<(String, String)>,
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
