//! Amazon Athena (SQL): start a query, follow it with backoff, stream its result pages as Arrow
//! batches, stop it on the server when cancelled; the catalog tree lives in `catalog`.

mod catalog;
mod named;
pub mod rows;
pub mod spark;

pub use named::NamedQuery;

use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_athena::Client;
use aws_sdk_athena::types::{
    QueryExecution, QueryExecutionContext, QueryExecutionState, ResultConfiguration,
    ResultReuseByAgeConfiguration, ResultReuseConfiguration, StatementType,
};
use tokio_util::sync::CancellationToken;

use super::{
    CatalogNode, CatalogPath, Connector, ConnectorError, JobEvent, JobSink, JobStats, JobSummary,
    QueryRequest, aws, exact_decimal,
};
use crate::model::format::format_elapsed;
use crate::store::config::{
    AthenaConfig, ConnectionConfig, ConnectionDetails, DEFAULT_ATHENA_CATALOG,
    DEFAULT_ATHENA_PRICE_PER_TB, DEFAULT_SPARK_PRICE_PER_DPU_HOUR,
};

/// GetQueryResults returns at most this many rows per page.
const PAGE_ROWS: i32 = 1000;
/// Polling starts fast (short queries finish in well under a second) and slows to this.
const POLL_MIN: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_secs(2);
/// How long a StopQueryExecution may take (under the TUI's 10 s wait for stops when quitting).
const STOP_TIMEOUT: Duration = Duration::from_secs(8);

pub struct AthenaConnector {
    client: Client,
    /// Reads Spark calculation results (stdout, stderr, result files) from S3.
    s3: aws_sdk_s3::Client,
    /// USD per DPU-hour of Spark calculations and sessions, for cost estimates.
    dpu_price_per_hour: f64,
    workgroup: Option<String>,
    catalog: String,
    database: Option<String>,
    output_location: Option<String>,
    result_reuse_minutes: Option<u32>,
    price_per_tb: f64,
}

impl AthenaConnector {
    /// Loads credentials and region for `conn` (failing early and plainly when there are none).
    pub async fn connect(conn: &ConnectionConfig) -> Result<Self, ConnectorError> {
        let sdk = aws::load(conn).await?;
        Ok(Self::with_sdk_config(conn, &sdk))
    }

    /// A connector with an already loaded SDK configuration (tests pass static credentials).
    pub fn with_sdk_config(conn: &ConnectionConfig, sdk: &SdkConfig) -> Self {
        let client = Client::new(sdk);
        let s3 = spark::s3_client(sdk, conn);
        match &conn.details {
            ConnectionDetails::Athena(AthenaConfig {
                workgroup,
                catalog,
                database,
                output_location,
                result_reuse_minutes,
                scan_price_per_tb,
                dpu_price_per_hour,
                s3_endpoint_url: _,
            }) => AthenaConnector {
                client,
                s3,
                dpu_price_per_hour: dpu_price_per_hour.unwrap_or(DEFAULT_SPARK_PRICE_PER_DPU_HOUR),
                workgroup: workgroup.clone(),
                catalog: catalog
                    .clone()
                    .unwrap_or_else(|| DEFAULT_ATHENA_CATALOG.to_string()),
                database: database.clone(),
                output_location: output_location.clone(),
                result_reuse_minutes: *result_reuse_minutes,
                price_per_tb: scan_price_per_tb.unwrap_or(DEFAULT_ATHENA_PRICE_PER_TB),
            },
            _ => AthenaConnector {
                client,
                s3,
                dpu_price_per_hour: DEFAULT_SPARK_PRICE_PER_DPU_HOUR,
                workgroup: None,
                catalog: DEFAULT_ATHENA_CATALOG.to_string(),
                database: None,
                output_location: None,
                result_reuse_minutes: None,
                price_per_tb: DEFAULT_ATHENA_PRICE_PER_TB,
            },
        }
    }

    /// StartQueryExecution with the connection's context; returns the execution id.
    async fn start(&self, req: &QueryRequest) -> Result<String, ConnectorError> {
        super::check_param_count(req)?;
        let context = QueryExecutionContext::builder()
            .catalog(&self.catalog)
            .set_database(self.database.clone())
            .build();
        // One token per run: a start the SDK retries after a lost answer never runs twice.
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut start = self
            .client
            .start_query_execution()
            .query_string(&req.sql)
            .client_request_token(token)
            .query_execution_context(context)
            .set_work_group(req.workgroup.clone().or_else(|| self.workgroup.clone()));
        if let Some(location) = &self.output_location {
            start = start.result_configuration(
                ResultConfiguration::builder()
                    .output_location(location)
                    .build(),
            );
        }
        if !req.params.is_empty() {
            start = start.set_execution_parameters(Some(req.params.clone()));
        }
        let reuse = req
            .result_reuse
            .unwrap_or(self.result_reuse_minutes.is_some());
        if reuse {
            // Switched on for a run of a connection without a configured age: one hour.
            let minutes = self.result_reuse_minutes.unwrap_or(60);
            let by_age = ResultReuseByAgeConfiguration::builder()
                .enabled(true)
                .max_age_in_minutes(minutes as i32)
                .build();
            start = start.result_reuse_configuration(
                ResultReuseConfiguration::builder()
                    .result_reuse_by_age_configuration(by_age)
                    .build(),
            );
        }
        let out = start
            .send()
            .await
            .map_err(|e| start_error(aws::describe_sdk_error("Athena", &e)))?;
        out.query_execution_id()
            .map(str::to_string)
            .ok_or_else(|| ConnectorError::Query("Athena returned no query execution id".into()))
    }

    async fn describe(&self, id: &str) -> Result<QueryExecution, ConnectorError> {
        let out = self
            .client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| ConnectorError::Query(aws::describe_sdk_error("Athena", &e)))?;
        out.query_execution
            .ok_or_else(|| ConnectorError::Query(format!("Athena knows no query `{id}`")))
    }

    /// Stops `id` on the server; `Err` says why it may still be running.
    async fn stop(&self, id: &str) -> Result<(), String> {
        let stop = self
            .client
            .stop_query_execution()
            .query_execution_id(id)
            .send();
        let outcome = match tokio::time::timeout(STOP_TIMEOUT, stop).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(aws::describe_sdk_error("Athena", &e)),
            Err(_) => Err(format!(
                "StopQueryExecution got no answer in {} s",
                STOP_TIMEOUT.as_secs()
            )),
        };
        match &outcome {
            Ok(()) => tracing::info!(query = id, "stopped on the server"),
            Err(e) => tracing::warn!(query = id, error = %e, "StopQueryExecution failed"),
        }
        outcome
    }

    /// Polls until the execution reaches a final state, streaming state and statistics. A
    /// cancel stops the query on the server when this job `owns` it (started it).
    async fn follow(
        &self,
        id: &str,
        owns: bool,
        sink: &JobSink,
        cancel: &CancellationToken,
    ) -> Result<QueryExecution, ConnectorError> {
        let mut delay = POLL_MIN;
        let mut last_state = None;
        let mut last_stats = None;
        loop {
            let execution = tokio::select! {
                _ = cancel.cancelled() => return Err(self.cancelled(id, owns, sink).await),
                e = self.describe(id) => e.map_err(|e| lost_track(id, e))?,
            };
            let state = execution.status().and_then(|s| s.state()).cloned();
            if state != last_state {
                if let Some(s) = &state {
                    sink.send(JobEvent::Status(s.as_str().to_string())).await?;
                }
                last_state = state.clone();
            }
            let stats = self.stats(id, &execution);
            if Some(&stats) != last_stats.as_ref() {
                sink.send(JobEvent::Stats(stats.clone())).await?;
                last_stats = Some(stats);
            }
            if let Some(
                QueryExecutionState::Succeeded
                | QueryExecutionState::Failed
                | QueryExecutionState::Cancelled,
            ) = state
            {
                return Ok(execution);
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(self.cancelled(id, owns, sink).await),
                _ = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(POLL_MAX);
        }
    }

    /// Stops the query on the server (when this job started it) and reports the job cancelled;
    /// a stop that failed is an error, since the query may still run and bill.
    async fn cancelled(&self, id: &str, owns: bool, sink: &JobSink) -> ConnectorError {
        if owns && let Err(e) = self.stop(id).await {
            return ConnectorError::StopFailed(format!(
                "cancelled here, but stopping query {id} on the server failed: {e}\nit may \
                 still be running: `aws athena stop-query-execution --query-execution-id {id}`"
            ));
        }
        let _ = sink.send(JobEvent::Status("CANCELLED".into())).await;
        ConnectorError::Cancelled
    }

    /// The job's statistics as far as Athena reports them.
    fn stats(&self, id: &str, execution: &QueryExecution) -> JobStats {
        let mut stats = JobStats {
            server_id: Some(id.to_string()),
            ..JobStats::default()
        };
        let Some(s) = execution.statistics() else {
            return stats;
        };
        let reused = s
            .result_reuse_information()
            .is_some_and(|r| r.reused_previous_result());
        if let Some(bytes) = s.data_scanned_in_bytes() {
            let bytes = bytes.max(0) as u64;
            stats.bytes_scanned = Some(bytes);
            let state = execution.status().and_then(|st| st.state());
            // DDL, failed queries and reused results are not charged.
            let charged = execution.statement_type() != Some(&StatementType::Ddl)
                && state != Some(&QueryExecutionState::Failed)
                && !reused;
            stats.cost_usd = Some(if charged {
                estimate_cost(bytes, self.price_per_tb)
            } else {
                0.0
            });
        }
        let mut extra = Vec::new();
        let ms = |label: &str, v: Option<i64>, extra: &mut Vec<(String, String)>| {
            if let Some(v) = v.filter(|v| *v >= 0) {
                extra.push((
                    label.to_string(),
                    format_elapsed(Duration::from_millis(v as u64)),
                ));
            }
        };
        ms("engine", s.engine_execution_time_in_millis(), &mut extra);
        ms("queue", s.query_queue_time_in_millis(), &mut extra);
        ms("planning", s.query_planning_time_in_millis(), &mut extra);
        if let Some(dpu) = s.dpu_count() {
            extra.push(("dpu".into(), format!("{dpu}")));
        }
        if s.result_reuse_information().is_some() {
            extra.push(("reused".into(), if reused { "yes" } else { "no" }.into()));
        }
        if let Some(wg) = execution.work_group() {
            extra.push(("workgroup".into(), wg.to_string()));
        }
        stats.extra = extra;
        stats
    }

    /// Streams the result pages of a SUCCEEDED execution; returns the number of data rows.
    async fn fetch(
        &self,
        id: &str,
        execution: &QueryExecution,
        sink: &JobSink,
        cancel: &CancellationToken,
    ) -> Result<(u64, Option<i64>, usize), ConnectorError> {
        let header_expected = execution.statement_type() == Some(&StatementType::Dml);
        let mut token: Option<String> = None;
        let mut schema: Option<SchemaRef> = None;
        let mut rows = 0u64;
        let mut update_count = None;
        let mut columns = 0;
        loop {
            let page = self
                .client
                .get_query_results()
                .query_execution_id(id)
                .max_results(PAGE_ROWS)
                .set_next_token(token.take());
            let page = tokio::select! {
                _ = cancel.cancelled() => return Err(ConnectorError::Cancelled),
                p = page.send() => p.map_err(|e| {
                    ConnectorError::Query(aws::describe_sdk_error("Athena", &e))
                })?,
            };
            update_count = page.update_count().or(update_count);
            let Some(result) = page.result_set() else {
                break;
            };
            let info = result
                .result_set_metadata()
                .map(|m| m.column_info())
                .unwrap_or_default();
            let mut data = result.rows();
            // Athena repeats the column labels as the first row of a query's first page.
            if schema.is_none()
                && header_expected
                && let Some(first) = data.first()
                && rows::is_header_row(info, first)
            {
                data = &data[1..];
            }
            let page_schema = exact_decimal::page_schema(
                &schema,
                || rows::schema(info),
                |s| rows::inexact_decimals(s, data),
                rows::ATHENA_TYPE,
                sink,
            )
            .await?;
            columns = page_schema.fields().len();
            let schema = schema.insert(page_schema);
            if !data.is_empty() && columns > 0 {
                let batch = rows::to_batch(schema, data)
                    .map_err(|e| ConnectorError::Query(e.to_string()))?;
                rows += batch.num_rows() as u64;
                sink.send(JobEvent::Batch(batch)).await?;
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok((rows, update_count, columns))
    }
}

/// Polling failed (after the SDK's retries): the query may well still run and bill.
fn lost_track(id: &str, e: ConnectorError) -> ConnectorError {
    ConnectorError::Query(format!(
        "{e}\nQuarry lost track of query {id}, which may still be running: stop it with \
         `aws athena stop-query-execution --query-execution-id {id}` if needed"
    ))
}

/// A failed start, with the fix when it is the missing result location.
fn start_error(text: String) -> ConnectorError {
    if text.to_ascii_lowercase().contains("output location") {
        ConnectorError::Query(format!(
            "{text}\nneither the connection nor its workgroup has a query result location: set \
             `output_location = \"s3://…\"` in the connection, or one on the workgroup"
        ))
    } else {
        ConnectorError::Query(text)
    }
}

/// Athena's price for `bytes` scanned: rounded up to whole megabytes, 10 MB minimum per query
/// (binary units, as AWS bills data).
pub fn estimate_cost(bytes: u64, price_per_tb: f64) -> f64 {
    const MB: u64 = 1 << 20;
    let megabytes = bytes.div_ceil(MB).max(10);
    megabytes as f64 * price_per_tb / (1u64 << 20) as f64
}

/// FAILED: the reason and Athena's error classification, as the error view shows them.
fn failure_text(execution: &QueryExecution) -> String {
    let status = execution.status();
    let reason = status
        .and_then(|s| s.state_change_reason())
        .unwrap_or("the query failed (Athena gave no reason)");
    let mut text = reason.trim().to_string();
    if let Some(e) = status.and_then(|s| s.athena_error()) {
        let category = match e.error_category() {
            Some(1) => "system".to_string(),
            Some(2) => "user".to_string(),
            Some(3) => "other".to_string(),
            Some(n) => n.to_string(),
            None => "unknown".to_string(),
        };
        let kind = e
            .error_type()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "unknown".into());
        let retry = if e.retryable() {
            "retryable: yes (running it again may succeed)"
        } else {
            "retryable: no"
        };
        text.push_str(&format!(
            "\nAthena error: category {category}, type {kind}, {retry}"
        ));
        if let Some(m) = e.error_message().filter(|m| !reason.contains(m.trim())) {
            text.push_str(&format!("\n{}", m.trim()));
        }
    }
    text
}

/// What a statement without a result table did: "CREATE TABLE", "INSERT: 3 rows".
fn statement_message(execution: &QueryExecution, update_count: Option<i64>) -> String {
    let what = execution
        .substatement_type()
        .map(|s| s.replace('_', " "))
        .or_else(|| execution.statement_type().map(|t| t.as_str().to_string()))
        .unwrap_or_else(|| "statement".into());
    match update_count {
        Some(n) if execution.statement_type() == Some(&StatementType::Dml) => {
            format!("{what}: {n} row{}", if n == 1 { "" } else { "s" })
        }
        _ => format!("{what}: done"),
    }
}

#[async_trait]
impl Connector for AthenaConnector {
    async fn children(&self, path: &CatalogPath) -> Result<Vec<CatalogNode>, ConnectorError> {
        catalog::children(self, path).await
    }

    async fn spark(
        &self,
        op: crate::connectors::spark::SparkOp,
    ) -> Result<crate::connectors::spark::SparkReply, ConnectorError> {
        spark::handle(self, op).await
    }

    async fn execute(
        &self,
        req: QueryRequest,
        sink: JobSink,
        cancel: CancellationToken,
    ) -> Result<JobSummary, ConnectorError> {
        if let Some(session) = req.spark_session.clone() {
            return spark::run_calculation(self, &req, &session, sink, cancel).await;
        }
        let started = Instant::now();
        // A reopened execution belongs to whoever started it: cancelling only stops following.
        let owns = req.reopen.is_none();
        let id = match &req.reopen {
            Some(id) => id.clone(),
            None => {
                sink.send(JobEvent::Status("STARTING".into())).await?;
                // Not raced against the cancel: a start Athena accepted must be stopped, and
                // only its answer says which query to stop (the SDK's timeouts bound the wait).
                let id = self.start(&req).await?;
                if cancel.is_cancelled() {
                    return Err(self.cancelled(&id, true, &sink).await);
                }
                id
            }
        };
        tracing::info!(query = %id, "athena query started");
        // The id first, so a cancel or a quit can name (and stop) the query even while queued.
        sink.send(JobEvent::Stats(JobStats {
            server_id: Some(id.clone()),
            ..JobStats::default()
        }))
        .await?;
        let execution = self.follow(&id, owns, &sink, &cancel).await?;
        let stats = self.stats(&id, &execution);
        match execution.status().and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => {}
            Some(QueryExecutionState::Failed) => {
                return Err(ConnectorError::Query(failure_text(&execution)));
            }
            Some(QueryExecutionState::Cancelled) => {
                let why = execution
                    .status()
                    .and_then(|s| s.state_change_reason())
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                return Err(ConnectorError::Query(format!(
                    "the query was cancelled on the server{why}"
                )));
            }
            _ => {}
        }
        let (rows, update_count, columns) = self.fetch(&id, &execution, &sink, &cancel).await?;
        tracing::info!(query = %id, rows, elapsed_ms = started.elapsed().as_millis() as u64, "athena query done");
        // A statement that changed rows says so even if Athena also described columns.
        let changed_rows = update_count.is_some()
            && execution.statement_type() == Some(&StatementType::Dml)
            && execution.substatement_type() != Some("SELECT");
        Ok(JobSummary {
            rows,
            message: (columns == 0 || changed_rows)
                .then(|| statement_message(&execution, update_count)),
            stats,
            resume: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_has_a_ten_megabyte_minimum_and_rounds_up() {
        let price = 5.0;
        let ten_mb = estimate_cost(10 << 20, price);
        assert_eq!(estimate_cost(0, price), ten_mb);
        assert_eq!(estimate_cost(1, price), ten_mb);
        assert!((estimate_cost(1 << 40, price) - 5.0).abs() < 1e-9);
        assert!(estimate_cost((10 << 20) + 1, price) > ten_mb);
    }

    #[test]
    fn a_missing_result_location_says_how_to_set_one() {
        let real = "InvalidRequestException: No output location provided. An output location is \
                    required either through the Workgroup result configuration setting or as an \
                    API input.";
        let text = start_error(real.into()).to_string();
        assert!(
            text.starts_with(real) && text.contains("output_location = \"s3://"),
            "{text}"
        );
        assert_eq!(
            start_error("AccessDenied: no".into()).to_string(),
            "AccessDenied: no"
        );
    }

    #[test]
    fn failures_carry_the_reason_and_the_error_class() {
        use aws_sdk_athena::types::{AthenaError, QueryExecutionStatus};
        let execution = QueryExecution::builder()
            .status(
                QueryExecutionStatus::builder()
                    .state(QueryExecutionState::Failed)
                    .state_change_reason("SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved")
                    .athena_error(
                        AthenaError::builder()
                            .error_category(2)
                            .error_type(1001)
                            .retryable(false)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let text = failure_text(&execution);
        assert!(text.starts_with("SYNTAX_ERROR"), "{text}");
        assert!(
            text.contains("category user, type 1001, retryable: no"),
            "{text}"
        );
    }
}
