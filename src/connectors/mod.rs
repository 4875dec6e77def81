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
#[cfg(feature = "local")]
mod local_limits;
pub mod redshift_data;
pub mod redshift_pg;
pub use crate::model::spark;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::store::config::{ConnectionConfig, ConnectionKind};

/// Connectors describe catalogs and report jobs in the model's terms.
pub use crate::model::catalog::{CatalogNode, CatalogPath, NodeAction, NodeKind};
pub use crate::model::job::{
    GroupMode, ItemJson, JobEvent, JobId, JobStats, JobSummary, QueryRequest, SessionInfo,
    TransactionState,
};

/// As many values as the statement of `req` has `?` placeholders, or a usage error saying both.
pub fn check_param_count(req: &QueryRequest) -> Result<(), ConnectorError> {
    let positional = crate::sql::positional_count(&req.sql);
    if positional == req.params.len() {
        return Ok(());
    }
    Err(ConnectorError::Config(format!(
        "the statement has {positional} `?` placeholder(s) but {} value(s) were given",
        req.params.len()
    )))
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
                crate::store::config::ConnectionDetails::Local(
                    crate::store::config::LocalConfig { paths },
                ) => paths.clone(),
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
