//! Amazon Redshift through the Data API (clusters and serverless workgroups, no network path or
//! driver needed): ExecuteStatement / BatchExecuteStatement, DescribeStatement polled with
//! backoff, GetStatementResult pages streamed as Arrow, CancelStatement on cancel, and Data API
//! sessions so a tab keeps temp tables and `SET` between runs. The browser lives in `catalog`.

mod catalog;
pub mod rows;
mod session;

use std::future::Future;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_redshiftdata::Client;
use aws_sdk_redshiftdata::operation::describe_statement::DescribeStatementOutput;
use aws_sdk_redshiftdata::types::{SqlParameter, StatusString, SubStatementData};
use tokio_util::sync::CancellationToken;

use super::{
    CatalogNode, CatalogPath, Connector, ConnectorError, GroupMode, JobEvent, JobSink, JobStats,
    JobSummary, QueryRequest, SessionInfo, aws, exact_decimal,
};
use crate::model::format::{format_elapsed, human_bytes, short_id};
use crate::store::config::{ConnectionConfig, ConnectionDetails};
use session::{Lookup, SessionArg, Sessions};

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

pub struct RedshiftDataConnector {
    client: Client,
    target: Target,
    /// `session_keep_alive_seconds`: tabs run in sessions unless they switch them off.
    keep_alive: Option<u32>,
    sessions: Sessions,
}

/// What a started statement is.
struct Started {
    id: String,
    session: Option<String>,
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
            ConnectionDetails::RedshiftData {
                cluster_identifier,
                workgroup_name,
                database,
                db_user,
                secret_arn,
                session_keep_alive_seconds,
            } => (
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

    /// Starts a statement (or batch) with `send`, in the caller's session when it has one:
    /// reuses a live session, replaces one that idled out (saying state was lost), and opens one
    /// when there is none. `send` gets how to relate to the session and returns the statement.
    async fn start_in_session<F, Fut>(
        &self,
        session: Option<(String, u32)>,
        sink: &JobSink,
        send: F,
    ) -> Result<Started, ConnectorError>
    where
        F: Fn(SessionArg) -> Fut,
        Fut: Future<Output = Result<Started, StartError>>,
    {
        let Some((key, keep_alive)) = session else {
            return send(SessionArg::None).await.map_err(StartError::into_error);
        };
        let keep = Duration::from_secs(keep_alive.into());
        let lost = |secs: u64, id: &str| {
            format!(
                "the Data API session {} idled out (kept {secs} s after its last statement): a \
                 new session was started; temp tables and SET values of the old one are gone",
                short_id(id)
            )
        };
        match self.sessions.take_for_run(&key, Instant::now()) {
            Lookup::Live(id) => match send(SessionArg::Existing(id.clone())).await {
                Ok(mut started) => {
                    // The answer need not repeat the session it ran in.
                    started.session.get_or_insert(id);
                    return Ok(started);
                }
                Err(StartError::SessionGone(_)) => {
                    self.sessions.remove_if(&key, &id);
                    sink.send(JobEvent::Notice(lost(keep.as_secs(), &id)))
                        .await?;
                }
                Err(e) => {
                    // The session itself is fine: it is idle again.
                    self.sessions.mark_idle(&key, &id, Instant::now());
                    return Err(e.into_error());
                }
            },
            Lookup::Expired(secs, id) => sink.send(JobEvent::Notice(lost(secs, &id))).await?,
            Lookup::None => {}
        }
        let started = send(SessionArg::Open(keep_alive as i32))
            .await
            .map_err(StartError::into_error)?;
        if let Some(id) = &started.session {
            self.sessions.set(&key, id.clone(), keep);
        }
        Ok(started)
    }

    /// ExecuteStatement for one request.
    async fn start(
        &self,
        req: &QueryRequest,
        session: Option<(String, u32)>,
        sink: &JobSink,
    ) -> Result<Started, ConnectorError> {
        let names = crate::sql::named_params(&req.sql);
        if names.len() != req.params.len() {
            return Err(ConnectorError::Config(format!(
                "the statement has {} `:name` parameter(s) but {} value(s) were given",
                names.len(),
                req.params.len()
            )));
        }
        let parameters: Vec<SqlParameter> = names
            .iter()
            .zip(&req.params)
            .map(|(name, value)| {
                SqlParameter::builder()
                    .name(name)
                    .value(value)
                    .build()
                    .expect("name and value are set")
            })
            .collect();
        let name = statement_name(req);
        self.start_in_session(session, sink, |arg| {
            let call = self
                .client
                .execute_statement()
                .sql(&req.sql)
                .statement_name(&name)
                // One token per attempt: an SDK retry after a lost answer never runs it twice.
                .client_token(uuid::Uuid::new_v4().to_string())
                .set_parameters((!parameters.is_empty()).then(|| parameters.clone()));
            let call = in_session!(call, &arg, self.target);
            send_start!(call, arg)
        })
        .await
    }

    async fn describe(&self, id: &str) -> Result<DescribeStatementOutput, ConnectorError> {
        self.client
            .describe_statement()
            .id(id)
            .send()
            .await
            .map_err(|e| ConnectorError::Query(aws::describe_sdk_error("Redshift Data API", &e)))
    }

    /// CancelStatement; `Err` says why it may still be running.
    async fn cancel_on_server(&self, id: &str) -> Result<(), String> {
        let call = self.client.cancel_statement().id(id).send();
        let outcome = match tokio::time::timeout(CANCEL_TIMEOUT, call).await {
            Ok(Ok(_)) => Ok(()),
            // Finished in the meantime: nothing runs any more.
            Ok(Err(e)) if aws::describe_sdk_error("", &e).contains("already") => Ok(()),
            Ok(Err(e)) => Err(aws::describe_sdk_error("Redshift Data API", &e)),
            Err(_) => Err(format!(
                "CancelStatement got no answer in {} s",
                CANCEL_TIMEOUT.as_secs()
            )),
        };
        match &outcome {
            Ok(()) => tracing::info!(statement = id, "cancelled on the server"),
            Err(e) => tracing::warn!(statement = id, error = %e, "CancelStatement failed"),
        }
        outcome
    }

    /// Cancels the statement on the server (when this job started it) and reports the job
    /// cancelled; a cancel that failed is an error, since the statement may still run.
    async fn cancelled(&self, id: &str, owns: bool, sinks: &[&JobSink]) -> ConnectorError {
        if owns && let Err(e) = self.cancel_on_server(id).await {
            return ConnectorError::StopFailed(format!(
                "cancelled here, but cancelling statement {id} on the server failed: {e}\nit \
                 may still be running: `aws redshift-data cancel-statement --id {id}`"
            ));
        }
        for sink in sinks {
            let _ = sink.send(JobEvent::Status("ABORTED".into())).await;
        }
        ConnectorError::Cancelled
    }

    /// Polls until the statement is FINISHED, FAILED or ABORTED, streaming its state and figures
    /// (for a batch, each sub-statement's into its own sink). A cancel cancels it on the server
    /// when this job `owns` it (started it).
    async fn follow(
        &self,
        id: &str,
        owns: bool,
        sinks: &[&JobSink],
        cancel: &CancellationToken,
    ) -> Result<DescribeStatementOutput, ConnectorError> {
        let mut delay = POLL_MIN;
        let mut last: Vec<Option<(String, JobStats)>> = vec![None; sinks.len()];
        loop {
            let out = tokio::select! {
                _ = cancel.cancelled() => return Err(self.cancelled(id, owns, sinks).await),
                d = self.describe(id) => d.map_err(|e| lost_track(id, e))?,
            };
            let subs = out.sub_statements();
            for (i, sink) in sinks.iter().enumerate() {
                let now = match subs.get(i) {
                    Some(sub) if sinks.len() > 1 || !subs.is_empty() => sub_progress(sub),
                    _ => progress(&out),
                };
                if last[i].as_ref() != Some(&now) {
                    if last[i].as_ref().map(|l| &l.0) != Some(&now.0) {
                        sink.send(JobEvent::Status(now.0.clone())).await?;
                    }
                    sink.send(JobEvent::Stats(now.1.clone())).await?;
                    last[i] = Some(now);
                }
            }
            if let Some(StatusString::Finished | StatusString::Failed | StatusString::Aborted) =
                out.status()
            {
                return Ok(out);
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(self.cancelled(id, owns, sinks).await),
                _ = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(POLL_MAX);
        }
    }

    /// Streams the result pages of a finished statement (or sub-statement); returns the rows.
    async fn fetch(
        &self,
        id: &str,
        sink: &JobSink,
        cancel: &CancellationToken,
    ) -> Result<u64, ConnectorError> {
        let mut token: Option<String> = None;
        let mut schema: Option<arrow::datatypes::SchemaRef> = None;
        let mut rows = 0u64;
        loop {
            let page = self
                .client
                .get_statement_result()
                .id(id)
                .set_next_token(token.take())
                .send();
            let page = tokio::select! {
                _ = cancel.cancelled() => return Err(ConnectorError::Cancelled),
                p = page => p.map_err(|e| {
                    result_error(aws::describe_sdk_error("Redshift Data API", &e))
                })?,
            };
            let page_schema = exact_decimal::page_schema(
                &schema,
                || rows::schema(page.column_metadata()),
                |s| rows::inexact_decimals(s, page.records()),
                rows::REDSHIFT_TYPE,
                sink,
            )
            .await?;
            let schema = schema.insert(page_schema);
            if !page.records().is_empty() {
                let batch = rows::to_batch(schema, page.records())
                    .map_err(|e| ConnectorError::Query(e.to_string()))?;
                rows += batch.num_rows() as u64;
                sink.send(JobEvent::Batch(batch)).await?;
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(rows)
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

    /// BatchExecuteStatement: the requests as one transaction, one sink per sub-statement.
    async fn run_batch(
        &self,
        requests: &[QueryRequest],
        sinks: &[JobSink],
        cancel: &CancellationToken,
    ) -> Result<Vec<Result<JobSummary, ConnectorError>>, ConnectorError> {
        if requests.iter().any(|r| !r.params.is_empty()) {
            return Err(ConnectorError::Config(
                "a Data API batch takes no parameters (BatchExecuteStatement has none): run the \
                 statements one by one, or write the values into the SQL"
                    .into(),
            ));
        }
        let first = sinks.first().ok_or(ConnectorError::Disconnected)?;
        let session = requests.first().and_then(|r| self.session_of(r));
        let sqls: Vec<String> = requests.iter().map(|r| r.sql.clone()).collect();
        let name = requests.first().map(statement_name).unwrap_or_default();
        for sink in sinks {
            sink.send(JobEvent::Status("STARTING".into())).await?;
        }
        let started = self
            .start_in_session(session.clone(), first, |arg| {
                let call = self
                    .client
                    .batch_execute_statement()
                    .set_sqls(Some(sqls.clone()))
                    .statement_name(&name)
                    .client_token(uuid::Uuid::new_v4().to_string());
                let call = in_session!(call, &arg, self.target);
                send_start!(call, arg)
            })
            .await?;
        tracing::info!(statement = %started.id, statements = sqls.len(), "redshift-data batch started");
        let refs: Vec<&JobSink> = sinks.iter().collect();
        for (i, sink) in sinks.iter().enumerate() {
            sink.send(JobEvent::Stats(JobStats {
                server_id: Some(format!("{}:{}", started.id, i + 1)),
                ..JobStats::default()
            }))
            .await?;
        }
        let followed = self.follow(&started.id, true, &refs, cancel).await;
        self.session_idle(&session, &started, first).await;
        let out = followed?;
        let subs = out.sub_statements();
        let failed_at = subs.iter().position(|s| {
            s.status() == Some(&aws_sdk_redshiftdata::types::StatementStatusString::Failed)
        });
        let mut outcomes = Vec::new();
        for (i, sink) in sinks.iter().enumerate() {
            let Some(sub) = subs.get(i) else {
                outcomes.push(Err(ConnectorError::Query(format!(
                    "the Data API reported no sub-statement {} of batch {}",
                    i + 1,
                    started.id
                ))));
                continue;
            };
            let stats = sub_progress(sub).1;
            use aws_sdk_redshiftdata::types::StatementStatusString as S;
            let outcome = match (sub.status(), failed_at) {
                (Some(S::Failed), _) => Err(ConnectorError::Query(format!(
                    "{}\nthe whole batch was rolled back (it runs as one transaction)",
                    sub.error().unwrap_or("the statement failed").trim()
                ))),
                (Some(S::Finished), Some(k)) => Err(ConnectorError::Query(format!(
                    "rolled back: statement {} of the batch failed, so none of its work was kept",
                    k + 1
                ))),
                (Some(S::Finished), None) => {
                    let rows = if sub.has_result_set() == Some(true) {
                        match self.fetch(sub.id(), sink, cancel).await {
                            Ok(rows) => rows,
                            Err(e) => {
                                outcomes.push(Err(e));
                                continue;
                            }
                        }
                    } else {
                        0
                    };
                    Ok(JobSummary {
                        rows,
                        message: (sub.has_result_set() != Some(true))
                            .then(|| changed_rows_message(sub.result_rows())),
                        stats,
                        resume: None,
                    })
                }
                (_, Some(k)) => Err(ConnectorError::Query(format!(
                    "not run: statement {} of the batch failed and the transaction was rolled back",
                    k + 1
                ))),
                (status, None) => Err(ConnectorError::Query(format!(
                    "the batch ended {} ({})",
                    out.status().map(|s| s.as_str()).unwrap_or("?"),
                    status.map(|s| s.as_str()).unwrap_or("no status")
                ))),
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }
}

/// Why a start failed: the caller's session is gone on the server, or anything else.
enum StartError {
    SessionGone(String),
    Other(String),
}

impl StartError {
    /// A rejected SessionId reads "Session … is not available / expired / not found".
    fn classify(arg: &SessionArg, text: String) -> Self {
        let lower = text.to_ascii_lowercase();
        if matches!(arg, SessionArg::Existing(_))
            && lower.contains("session")
            && [
                "not available",
                "expired",
                "not found",
                "does not exist",
                "invalid",
            ]
            .iter()
            .any(|w| lower.contains(w))
        {
            StartError::SessionGone(text)
        } else {
            StartError::Other(text)
        }
    }

    fn into_error(self) -> ConnectorError {
        match self {
            StartError::SessionGone(t) | StartError::Other(t) => ConnectorError::Query(t),
        }
    }
}

/// `quarry:<tab or script>` so the statement is recognisable in the console and ListStatements.
fn statement_name(req: &QueryRequest) -> String {
    format!("quarry:{}", req.label.as_deref().unwrap_or("run"))
}

/// State and figures of a (whole) statement.
fn progress(out: &DescribeStatementOutput) -> (String, JobStats) {
    let status = out
        .status()
        .map(|s| s.as_str())
        .unwrap_or("UNKNOWN")
        .to_string();
    let stats = figures(
        out.id(),
        out.duration(),
        out.result_rows(),
        out.result_size(),
        out.redshift_query_id(),
        out.session_id(),
    );
    (status, stats)
}

/// State and figures of one sub-statement of a batch.
fn sub_progress(sub: &SubStatementData) -> (String, JobStats) {
    let status = sub
        .status()
        .map(|s| s.as_str())
        .unwrap_or("UNKNOWN")
        .to_string();
    let stats = figures(
        sub.id(),
        sub.duration(),
        sub.result_rows(),
        sub.result_size(),
        sub.redshift_query_id(),
        None,
    );
    (status, stats)
}

/// The title's figures: duration, rows, size, Redshift's query id, session.
fn figures(
    id: &str,
    duration_ns: i64,
    rows: i64,
    size: i64,
    query_id: i64,
    session: Option<&str>,
) -> JobStats {
    let mut extra = Vec::new();
    if duration_ns >= 0 {
        extra.push((
            "duration".into(),
            format_elapsed(Duration::from_nanos(duration_ns as u64)),
        ));
    }
    if rows >= 0 {
        extra.push(("result rows".into(), rows.to_string()));
    }
    if size >= 0 {
        extra.push(("size".into(), human_bytes(size as u64)));
    }
    if query_id > 0 {
        extra.push(("query id".into(), query_id.to_string()));
    }
    if let Some(s) = session {
        extra.push(("session".into(), short_id(s).to_string()));
    }
    JobStats {
        server_id: Some(id.to_string()),
        extra,
        ..JobStats::default()
    }
}

/// What a statement without a result set did.
fn changed_rows_message(rows: i64) -> String {
    match rows {
        n if n > 0 => format!("done: {n} row{} affected", if n == 1 { "" } else { "s" }),
        _ => "done".to_string(),
    }
}

/// Polling failed (after the SDK's retries): the statement may well still run.
fn lost_track(id: &str, e: ConnectorError) -> ConnectorError {
    ConnectorError::Query(format!(
        "{e}\nQuarry lost track of statement {id}, which may still be running: cancel it with \
         `aws redshift-data cancel-statement --id {id}` if needed"
    ))
}

/// GetStatementResult failures, with the service's result limits explained.
fn result_error(text: String) -> ConnectorError {
    let lower = text.to_ascii_lowercase();
    let hint = if lower.contains("64 kb") || lower.contains("row size") {
        Some(
            "a row of this result is larger than the Data API's 64 KB per-row limit: select \
             fewer or narrower columns (e.g. LEFT(col, 1000)), UNLOAD the result to S3, or use a \
             direct `redshift` connection",
        )
    } else if lower.contains("500 mb") || lower.contains("result size") {
        Some(
            "the result is larger than the Data API's 500 MB limit: add a LIMIT or a filter, \
             UNLOAD the result to S3, or use a direct `redshift` connection",
        )
    } else {
        None
    };
    match hint {
        Some(h) => ConnectorError::Query(format!("{text}\n{h}")),
        None => ConnectorError::Query(text),
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
        let started = match &req.reopen {
            Some(id) => Started {
                id: id.clone(),
                session: None,
            },
            None => {
                sink.send(JobEvent::Status("STARTING".into())).await?;
                // Not raced against the cancel: a statement the service accepted must be
                // cancelled, and only its answer says which (the SDK's timeouts bound the wait).
                self.start(&req, session.clone(), &sink).await?
            }
        };
        tracing::info!(statement = %started.id, "redshift-data statement started");
        // The id first, so a cancel or a quit can name (and cancel) it even while submitted.
        sink.send(JobEvent::Stats(JobStats {
            server_id: Some(started.id.clone()),
            ..JobStats::default()
        }))
        .await?;
        if let (Some((key, secs)), Some(id)) = (&session, &started.session) {
            sink.send(JobEvent::Session(SessionInfo {
                key: key.clone(),
                id: id.clone(),
                keep_alive: Duration::from_secs((*secs).into()),
            }))
            .await?;
        }
        let followed = if cancel.is_cancelled() {
            // The cancel came while the statement was being submitted: it is cancelled now
            // that its id is known, and the user hears which statement that was.
            let stopped = self.cancelled(&started.id, owns, &[&sink]).await;
            if owns && matches!(stopped, ConnectorError::Cancelled) {
                let note = format!(
                    "the cancel came while the Data API was accepting the statement: statement \
                     {} was cancelled on the server as soon as its id was known",
                    started.id
                );
                let _ = sink.send(JobEvent::Notice(note)).await;
            }
            Err(stopped)
        } else {
            self.follow(&started.id, owns, &[&sink], &cancel).await
        };
        self.session_idle(&session, &started, &sink).await;
        let out = followed?;
        let (_, stats) = progress(&out);
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
            self.fetch(&started.id, &sink, &cancel).await?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_limits_are_explained() {
        let row = result_error("ValidationException: Row size exceeds the 64 KB limit".into());
        assert!(row.to_string().contains("LEFT(col, 1000)"), "{row}");
        let all = result_error("ValidationException: result size exceeds 500 MB".into());
        assert!(all.to_string().contains("UNLOAD"), "{all}");
        let other = result_error("ValidationException: nope".into());
        assert_eq!(other.to_string(), "ValidationException: nope");
    }

    #[test]
    fn only_a_rejected_session_id_counts_as_a_gone_session() {
        let gone = "ValidationException: Session 1234 is not available".to_string();
        let existing = SessionArg::Existing("1234".into());
        assert!(matches!(
            StartError::classify(&existing, gone.clone()),
            StartError::SessionGone(_)
        ));
        assert!(matches!(
            StartError::classify(&SessionArg::Open(60), gone),
            StartError::Other(_)
        ));
        assert!(matches!(
            StartError::classify(&existing, "ValidationException: syntax".into()),
            StartError::Other(_)
        ));
    }

    #[test]
    fn figures_skip_what_is_not_known_yet() {
        let stats = figures("abc", -1, -1, -1, 0, None);
        assert!(stats.extra.is_empty());
        let stats = figures("abc", 1_500_000_000, 3, 2_000, 42, Some("0123456789"));
        let labels: Vec<_> = stats
            .extra
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            labels,
            [
                "duration=1.5 s",
                "result rows=3",
                "size=2.0 KB",
                "query id=42",
                "session=01234567"
            ]
        );
        assert_eq!(changed_rows_message(1), "done: 1 row affected");
        assert_eq!(changed_rows_message(-1), "done");
    }
}
