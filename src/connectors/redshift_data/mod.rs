//! Amazon Redshift through the Data API (clusters and serverless workgroups, no network path or
//! driver needed): ExecuteStatement / BatchExecuteStatement, DescribeStatement polled with
//! backoff, GetStatementResult pages streamed as Arrow, CancelStatement on cancel, and Data API
//! sessions so a tab keeps temp tables and `SET` between runs. Starting lives in `start`, polling
//! in `follow`, result pages in `fetch`, batches in `batch` and the browser in `catalog`.

mod batch;
mod catalog;
mod fetch;
mod follow;
pub mod rows;
mod session;
mod start;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_redshiftdata::Client;
use aws_sdk_redshiftdata::operation::describe_statement::DescribeStatementOutput;
use aws_sdk_redshiftdata::types::StatusString;
use tokio_util::sync::CancellationToken;

use super::{
    CatalogNode, CatalogPath, Connector, ConnectorError, GroupMode, JobEvent, JobSink, JobStats,
    JobSummary, QueryRequest, SessionInfo, aws,
};
use crate::store::config::{ConnectionConfig, ConnectionDetails, RedshiftDataConfig};
use follow::{changed_rows_message, progress};
use session::{SessionArg, Sessions};
use start::{StartError, Started};

/// Polling starts fast (short statements finish in well under a second) and slows to this.
const POLL_MIN: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_secs(2);
/// How long a CancelStatement may take (under the TUI's 10 s wait for stops when quitting).
const CANCEL_TIMEOUT: Duration = Duration::from_secs(8);
/// Keep-alive of a session a tab or script asks for when the connection sets none.
pub const DEFAULT_KEEP_ALIVE_SECONDS: u32 = 600;

/// Where statements run and how the Data API authenticates them (validated with the config).
#[derive(Debug, Clone, Default)]
struct Target {
    cluster: Option<String>,
    workgroup: Option<String>,
    database: String,
    db_user: Option<String>,
    secret_arn: Option<String>,
}

/// Sets the target and authentication of any Data API request builder (they share the fields
/// but not a type).
macro_rules! with_target {
    ($builder:expr, $t:expr) => {
        $builder
            .set_cluster_identifier($t.cluster.clone())
            .set_workgroup_name($t.workgroup.clone())
            .database(&$t.database)
            .set_db_user($t.db_user.clone())
            .set_secret_arn($t.secret_arn.clone())
    };
}
pub(crate) use with_target;

/// Sets how a start request relates to the caller's session: joins it, opens one (with the
/// target and authentication) or runs without one.
macro_rules! in_session {
    ($call:expr, $arg:expr, $t:expr) => {
        match $arg {
            SessionArg::Existing(id) => $call.session_id(id),
            SessionArg::Open(secs) => with_target!($call, $t).session_keep_alive_seconds(*secs),
            SessionArg::None => with_target!($call, $t),
        }
    };
}
pub(crate) use in_session;

/// Sends a start request and reads the statement (and session) it created.
macro_rules! send_start {
    ($call:expr, $arg:expr) => {
        async move {
            let out = $call.send().await.map_err(|e| {
                StartError::classify(&$arg, aws::describe_sdk_error("Redshift Data API", &e))
            })?;
            Ok(Started {
                id: out.id().unwrap_or_default().to_string(),
                session: out.session_id().map(str::to_string),
            })
        }
    };
}
pub(crate) use send_start;

pub struct RedshiftDataConnector {
    client: Client,
    target: Target,
    /// `session_keep_alive_seconds`: tabs run in sessions unless they switch them off.
    keep_alive: Option<u32>,
    sessions: Sessions,
}

impl RedshiftDataConnector {
    /// Loads credentials and region for `conn` (failing early and plainly when there are none).
    pub async fn connect(conn: &ConnectionConfig) -> Result<Self, ConnectorError> {
        let sdk = aws::load(conn).await?;
        Ok(Self::with_sdk_config(conn, &sdk))
    }

    /// A connector with an already loaded SDK configuration.
    pub fn with_sdk_config(conn: &ConnectionConfig, sdk: &SdkConfig) -> Self {
        let (target, keep_alive) = match &conn.details {
            ConnectionDetails::RedshiftData(RedshiftDataConfig {
                cluster_identifier,
                workgroup_name,
                database,
                db_user,
                secret_arn,
                session_keep_alive_seconds,
            }) => (
                Target {
                    cluster: cluster_identifier.clone(),
                    workgroup: workgroup_name.clone(),
                    database: database.clone(),
                    db_user: db_user.clone(),
                    secret_arn: secret_arn.clone(),
                },
                session_keep_alive_seconds.filter(|s| *s > 0),
            ),
            _ => (Target::default(), None),
        };
        RedshiftDataConnector {
            client: Client::new(sdk),
            target,
            keep_alive,
            sessions: Sessions::default(),
        }
    }

    /// The session a request runs in, if any: its caller's key and the keep-alive.
    fn session_of(&self, req: &QueryRequest) -> Option<(String, u32)> {
        let key = req.session_key.clone()?;
        let wanted = req.use_session.unwrap_or(self.keep_alive.is_some());
        wanted.then(|| (key, self.keep_alive.unwrap_or(DEFAULT_KEEP_ALIVE_SECONDS)))
    }

    /// The caller's statement ended: its session's idle clock starts, and the UI hears of it.
    async fn session_idle(
        &self,
        session: &Option<(String, u32)>,
        started: &Started,
        sink: &JobSink,
    ) {
        let (Some((key, _)), Some(id)) = (session, &started.session) else {
            return;
        };
        if let Some(s) = self.sessions.mark_idle(key, id, Instant::now()) {
            let _ = sink
                .send(JobEvent::Session(SessionInfo {
                    key: key.clone(),
                    id: s.id,
                    keep_alive: s.keep_alive,
                }))
                .await;
        }
    }

    /// ExecuteStatement for `req`, or the statement it reopens (history, `--reopen`).
    async fn start_or_reopen(
        &self,
        req: &QueryRequest,
        session: Option<(String, u32)>,
        sink: &JobSink,
    ) -> Result<Started, ConnectorError> {
        match &req.reopen {
            Some(id) => Ok(Started {
                id: id.clone(),
                session: None,
            }),
            None => {
                sink.send(JobEvent::Status("STARTING".into())).await?;
                // Not raced against the cancel: a statement the service accepted must be
                // cancelled, and only its answer says which (the SDK's timeouts bound the wait).
                self.start(req, session, sink).await
            }
        }
    }

    /// Tells the UI the statement's id and the session it runs in.
    async fn announce(
        &self,
        started: &Started,
        session: &Option<(String, u32)>,
        sink: &JobSink,
    ) -> Result<(), ConnectorError> {
        // The id first, so a cancel or a quit can name (and cancel) it even while submitted.
        sink.send(JobEvent::Stats(JobStats {
            server_id: Some(started.id.clone()),
            ..JobStats::default()
        }))
        .await?;
        if let (Some((key, secs)), Some(id)) = (session, &started.session) {
            sink.send(JobEvent::Session(SessionInfo {
                key: key.clone(),
                id: id.clone(),
                keep_alive: Duration::from_secs((*secs).into()),
            }))
            .await?;
        }
        Ok(())
    }

    /// The cancel came while the statement was being submitted: it is cancelled now that its id
    /// is known, and the user hears which statement that was.
    async fn cancelled_while_starting(
        &self,
        id: &str,
        owns: bool,
        sink: &JobSink,
    ) -> ConnectorError {
        let stopped = self.cancelled(id, owns, &[sink]).await;
        if owns && matches!(stopped, ConnectorError::Cancelled) {
            let note = format!(
                "the cancel came while the Data API was accepting the statement: statement \
                 {id} was cancelled on the server as soon as its id was known"
            );
            let _ = sink.send(JobEvent::Notice(note)).await;
        }
        stopped
    }

    /// The summary of statement `id` that ended as `out` says: its error, or its result streamed
    /// into `sink`.
    async fn ended(
        &self,
        id: &str,
        out: &DescribeStatementOutput,
        sink: &JobSink,
        cancel: &CancellationToken,
    ) -> Result<JobSummary, ConnectorError> {
        let (_, stats) = progress(out);
        match out.status() {
            Some(StatusString::Finished) => {}
            Some(StatusString::Failed) => {
                return Err(ConnectorError::Query(
                    out.error()
                        .unwrap_or("the statement failed (the Data API gave no reason)")
                        .trim()
                        .to_string(),
                ));
            }
            _ => {
                return Err(ConnectorError::Query(format!(
                    "the statement was cancelled on the server ({})",
                    out.status().map(|s| s.as_str()).unwrap_or("ABORTED")
                )));
            }
        }
        let has_rows = out.has_result_set() == Some(true);
        let rows = if has_rows {
            self.fetch(id, sink, cancel).await?
        } else {
            0
        };
        Ok(JobSummary {
            rows,
            message: (!has_rows).then(|| changed_rows_message(out.result_rows())),
            stats,
            resume: None,
        })
    }
}

#[async_trait]
impl Connector for RedshiftDataConnector {
    async fn children(&self, path: &CatalogPath) -> Result<Vec<CatalogNode>, ConnectorError> {
        catalog::children(self, path).await
    }

    async fn execute(
        &self,
        req: QueryRequest,
        sink: JobSink,
        cancel: CancellationToken,
    ) -> Result<JobSummary, ConnectorError> {
        // A reopened statement (history, `--reopen`) is only followed: it is not ours to cancel.
        let owns = req.reopen.is_none();
        let session = self.session_of(&req).filter(|_| owns);
        let started = self.start_or_reopen(&req, session.clone(), &sink).await?;
        tracing::info!(statement = %started.id, "redshift-data statement started");
        self.announce(&started, &session, &sink).await?;
        let followed = if cancel.is_cancelled() {
            Err(self
                .cancelled_while_starting(&started.id, owns, &sink)
                .await)
        } else {
            self.follow(&started.id, owns, &[&sink], &cancel).await
        };
        self.session_idle(&session, &started, &sink).await;
        let out = followed?;
        self.ended(&started.id, &out, &sink, &cancel).await
    }

    async fn execute_group(
        &self,
        _mode: GroupMode,
        requests: Vec<QueryRequest>,
        sinks: Vec<JobSink>,
        cancel: CancellationToken,
    ) -> Vec<Result<JobSummary, ConnectorError>> {
        // Batch or transaction alike: BatchExecuteStatement always runs as one transaction.
        match self.run_batch(&requests, &sinks, &cancel).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                let text = e.to_string();
                let cancelled = matches!(e, ConnectorError::Cancelled);
                sinks
                    .iter()
                    .map(|_| {
                        Err(if cancelled {
                            ConnectorError::Cancelled
                        } else {
                            ConnectorError::Query(text.clone())
                        })
                    })
                    .collect()
            }
        }
    }

    async fn end_session(&self, key: &str) -> Result<Option<String>, ConnectorError> {
        let Some(session) = self.sessions.remove(key) else {
            return Ok(None);
        };
        if session.expired(Instant::now()) {
            return Ok(Some(session.id));
        }
        // The Data API has no EndSession: a last statement with a keep-alive of 0 closes the
        // session as soon as it is done.
        let out = self
            .client
            .execute_statement()
            .sql("SELECT 1")
            .statement_name("quarry:end-session")
            .session_id(&session.id)
            .session_keep_alive_seconds(0)
            .send()
            .await;
        match out {
            Ok(_) => Ok(Some(session.id)),
            Err(e) => {
                let text = aws::describe_sdk_error("Redshift Data API", &e);
                match StartError::classify(&SessionArg::Existing(session.id.clone()), text) {
                    // Already gone: ended all the same.
                    StartError::SessionGone(_) => Ok(Some(session.id)),
                    StartError::Other(t) => Err(ConnectorError::Query(format!(
                        "could not end session {}: {t}\nit ends by itself {} s after its last \
                         statement",
                        session.id,
                        session.keep_alive.as_secs()
                    ))),
                }
            }
        }
    }
}
