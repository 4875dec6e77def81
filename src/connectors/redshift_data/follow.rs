//! Following a started statement: DescribeStatement polled with backoff until it ends, its state
//! and figures streamed as they change, and CancelStatement when the job is cancelled.

use std::time::Duration;

use aws_sdk_redshiftdata::operation::describe_statement::DescribeStatementOutput;
use aws_sdk_redshiftdata::types::{StatusString, SubStatementData};
use tokio_util::sync::CancellationToken;

use super::{CANCEL_TIMEOUT, POLL_MAX, POLL_MIN, RedshiftDataConnector};
use crate::connectors::{ConnectorError, JobEvent, JobSink, JobStats, aws};
use crate::model::format::{format_elapsed, human_bytes, short_id};

impl RedshiftDataConnector {
    pub(super) async fn describe(
        &self,
        id: &str,
    ) -> Result<DescribeStatementOutput, ConnectorError> {
        self.client
            .describe_statement()
            .id(id)
            .send()
            .await
            .map_err(|e| ConnectorError::Query(aws::describe_sdk_error("Redshift Data API", &e)))
    }

    /// CancelStatement; `Err` says why it may still be running.
    pub(super) async fn cancel_on_server(&self, id: &str) -> Result<(), String> {
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
    pub(super) async fn cancelled(
        &self,
        id: &str,
        owns: bool,
        sinks: &[&JobSink],
    ) -> ConnectorError {
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
    pub(super) async fn follow(
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
}

/// State and figures of a (whole) statement.
pub(super) fn progress(out: &DescribeStatementOutput) -> (String, JobStats) {
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
pub(super) fn sub_progress(sub: &SubStatementData) -> (String, JobStats) {
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
pub(super) fn figures(
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
pub(super) fn changed_rows_message(rows: i64) -> String {
    match rows {
        n if n > 0 => format!("done: {n} row{} affected", if n == 1 { "" } else { "s" }),
        _ => "done".to_string(),
    }
}

/// Polling failed (after the SDK's retries): the statement may well still run.
pub(super) fn lost_track(id: &str, e: ConnectorError) -> ConnectorError {
    ConnectorError::Query(format!(
        "{e}\nQuarry lost track of statement {id}, which may still be running: cancel it with \
         `aws redshift-data cancel-statement --id {id}` if needed"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
