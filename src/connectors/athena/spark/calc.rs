//! One Spark calculation: StartCalculationExecution, follow it with backoff (raced against the
//! cancel), StopCalculationExecution when cancelled, then stream its output read back from S3:
//! the result file as a table or text, else stdout as text; stderr as a notice (or in the error
//! of a failed calculation).

use aws_sdk_athena::operation::get_calculation_execution::GetCalculationExecutionOutput;
use aws_sdk_athena::types::CalculationExecutionState as State;
use tokio_util::sync::CancellationToken;

use super::super::{AthenaConnector, POLL_MAX, POLL_MIN, STOP_TIMEOUT};
use super::result::{self, Output};
use super::s3::{self, Fetched};
use super::{dpu_cost, format_dpu, sdk_error};
use crate::connectors::{
    ConnectorError, JobEvent, JobSink, JobStats, JobSummary, QueryRequest, aws,
};

/// The most of a result file (or stdout) read; the rest is left out, with a notice.
const OUTPUT_CAP: usize = 64 << 20;
/// The most of stderr (or of stdout next to a result) read: only a head or tail is shown.
const STDERR_CAP: usize = 1 << 20;
/// Lines of stderr in a failed calculation's error.
const STDERR_TAIL: usize = 40;
/// Lines of stderr (or stdout next to a result) in a notice.
const NOTICE_LINES: usize = 10;

pub async fn run(
    a: &AthenaConnector,
    req: &QueryRequest,
    session: &str,
    sink: JobSink,
    cancel: CancellationToken,
) -> Result<JobSummary, ConnectorError> {
    sink.send(JobEvent::Status("STARTING".into())).await?;
    // Not raced against the cancel: a started calculation must be stopped, and only the answer
    // says which one (the SDK's timeouts bound the wait).
    let id = start(a, req, session).await?;
    if cancel.is_cancelled() {
        return Err(cancelled(a, &id, &sink).await);
    }
    tracing::info!(calculation = %id, session, "spark calculation started");
    // The id first, so a cancel or a quit can name (and stop) it.
    sink.send(JobEvent::Stats(JobStats {
        server_id: Some(id.clone()),
        ..JobStats::default()
    }))
    .await?;
    let calc = follow(a, &id, &sink, &cancel).await?;
    let stats = stats(a, &id, &calc);
    match calc.status().and_then(|s| s.state()) {
        Some(State::Completed) => {}
        Some(State::Failed) => return Err(ConnectorError::Query(failure(a, &calc).await)),
        Some(State::Canceled) => {
            let why = reason(&calc).map(|r| format!(": {r}")).unwrap_or_default();
            return Err(ConnectorError::Query(format!(
                "calculation was cancelled on the server{why}"
            )));
        }
        other => {
            return Err(ConnectorError::Query(format!(
                "calculation {id} ended in an unexpected state {}",
                other.map(|s| s.as_str()).unwrap_or("(none)")
            )));
        }
    }
    let rows = tokio::select! {
        _ = cancel.cancelled() => return Err(ConnectorError::Cancelled),
        rows = output(a, &id, &calc, &sink) => rows?,
    };
    Ok(JobSummary {
        rows,
        message: (rows == 0).then(|| "calculation completed: no output".to_string()),
        stats,
        resume: None,
    })
}

async fn start(
    a: &AthenaConnector,
    req: &QueryRequest,
    session: &str,
) -> Result<String, ConnectorError> {
    // One token per run: a start the SDK retries after a lost answer never runs twice.
    let token = uuid::Uuid::new_v4().simple().to_string();
    let out = a
        .client
        .start_calculation_execution()
        .session_id(session)
        .code_block(&req.sql)
        .client_request_token(token)
        .set_description(req.label.as_ref().map(|l| format!("quarry:{l}")))
        .send()
        .await
        .map_err(sdk_error)?;
    out.calculation_execution_id()
        .map(str::to_string)
        .ok_or_else(|| ConnectorError::Query("Athena returned no calculation id".into()))
}

/// Polls until the calculation ends, streaming its state and statistics.
async fn follow(
    a: &AthenaConnector,
    id: &str,
    sink: &JobSink,
    cancel: &CancellationToken,
) -> Result<GetCalculationExecutionOutput, ConnectorError> {
    let mut delay = POLL_MIN;
    let mut last_state = None;
    let mut last_stats = None;
    loop {
        let describe = a
            .client
            .get_calculation_execution()
            .calculation_execution_id(id)
            .send();
        let calc = tokio::select! {
            _ = cancel.cancelled() => return Err(cancelled(a, id, sink).await),
            c = describe => c.map_err(|e| lost_track(id, sdk_error(e)))?,
        };
        let state = calc.status().and_then(|s| s.state()).cloned();
        if state != last_state {
            if let Some(s) = &state {
                sink.send(JobEvent::Status(s.as_str().to_string())).await?;
            }
            last_state = state.clone();
        }
        let stats = stats(a, id, &calc);
        if Some(&stats) != last_stats.as_ref() {
            sink.send(JobEvent::Stats(stats.clone())).await?;
            last_stats = Some(stats);
        }
        if let Some(State::Completed | State::Failed | State::Canceled) = state {
            return Ok(calc);
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(cancelled(a, id, sink).await),
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(POLL_MAX);
    }
}

/// Stops the calculation on the server and reports the job cancelled; a refused stop is an
/// error, since the calculation may still run and bill.
async fn cancelled(a: &AthenaConnector, id: &str, sink: &JobSink) -> ConnectorError {
    let stop = a
        .client
        .stop_calculation_execution()
        .calculation_execution_id(id)
        .send();
    let outcome = match tokio::time::timeout(STOP_TIMEOUT, stop).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(aws::describe_sdk_error("Athena", &e)),
        Err(_) => Err(format!(
            "StopCalculationExecution got no answer in {} s",
            STOP_TIMEOUT.as_secs()
        )),
    };
    match outcome {
        Ok(()) => {
            tracing::info!(calculation = id, "stopped on the server");
            let _ = sink.send(JobEvent::Status("CANCELED".into())).await;
            ConnectorError::Cancelled
        }
        Err(e) => {
            tracing::warn!(calculation = id, error = %e, "StopCalculationExecution failed");
            ConnectorError::StopFailed(format!(
                "cancelled here, but stopping calculation {id} on the server failed: {e}\nit \
                 may still be running and billing DPUs: `aws athena \
                 stop-calculation-execution --calculation-execution-id {id}`"
            ))
        }
    }
}

/// Polling failed (after the SDK's retries): the calculation may well still run and bill.
fn lost_track(id: &str, e: ConnectorError) -> ConnectorError {
    ConnectorError::Query(format!(
        "{e}\nQuarry lost track of calculation {id}, which may still be running: stop it with \
         `aws athena stop-calculation-execution --calculation-execution-id {id}` if needed"
    ))
}

fn reason(calc: &GetCalculationExecutionOutput) -> Option<&str> {
    calc.status()
        .and_then(|s| s.state_change_reason())
        .filter(|r| !r.is_empty())
}

/// The calculation's figures: DPU time (and its cost), progress, session.
fn stats(a: &AthenaConnector, id: &str, calc: &GetCalculationExecutionOutput) -> JobStats {
    let dpu_ms = calc.statistics().and_then(|s| s.dpu_execution_in_millis());
    let mut extra = Vec::new();
    if let Some(ms) = dpu_ms {
        extra.push(("dpu".to_string(), format_dpu(ms)));
    }
    if let Some(p) = calc
        .statistics()
        .and_then(|s| s.progress())
        .filter(|p| !p.is_empty())
    {
        extra.push(("progress".to_string(), p.to_string()));
    }
    if let Some(s) = calc.session_id() {
        extra.push(("session".to_string(), s.to_string()));
    }
    JobStats {
        server_id: Some(id.to_string()),
        cost_usd: dpu_ms.map(|ms| dpu_cost(a, ms)),
        extra,
        ..JobStats::default()
    }
}

/// A failed calculation's error: the service's reason, the tail of stderr, and the session's
/// state when the failure took it down (DEGRADED, FAILED).
async fn failure(a: &AthenaConnector, calc: &GetCalculationExecutionOutput) -> String {
    let mut text = reason(calc).unwrap_or("the calculation failed").to_string();
    let stderr_uri = calc.result().and_then(|r| r.std_error_s3_uri());
    if let Some(uri) = stderr_uri {
        match s3::read(&a.s3, uri, STDERR_CAP).await {
            Ok(f) => {
                let err = String::from_utf8_lossy(&f.bytes);
                let lines: Vec<&str> = err.lines().collect();
                if !lines.iter().all(|l| l.trim().is_empty()) {
                    let tail = &lines[lines.len().saturating_sub(STDERR_TAIL)..];
                    let cut = if tail.len() < lines.len() || f.cut {
                        format!(" (last {} lines)", tail.len())
                    } else {
                        String::new()
                    };
                    text.push_str(&format!("\n--- stderr{cut} ---\n{}", tail.join("\n")));
                }
            }
            Err(e) => text.push_str(&format!("\n(stderr could not be read: {e})")),
        }
    }
    if let Some(session) = calc.session_id() {
        match a
            .client
            .get_session_status()
            .session_id(session)
            .send()
            .await
        {
            Ok(s) => {
                let st = s.status();
                let state = st.and_then(|s| s.state()).map(|s| s.as_str());
                if let Some(state @ ("DEGRADED" | "FAILED" | "TERMINATED")) = state {
                    let why = st
                        .and_then(|s| s.state_change_reason())
                        .filter(|r| !r.is_empty())
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default();
                    text.push_str(&format!("\nsession {session} is now {state}{why}"));
                }
            }
            Err(e) => tracing::warn!(session, error = %sdk_error(e), "GetSessionStatus failed"),
        }
    }
    text
}

/// Streams a completed calculation's output; returns the number of rows.
async fn output(
    a: &AthenaConnector,
    id: &str,
    calc: &GetCalculationExecutionOutput,
    sink: &JobSink,
) -> Result<u64, ConnectorError> {
    let res = calc.result();
    let read = |uri: Option<&str>, cap: usize| {
        let uri = uri.filter(|u| !u.is_empty()).map(str::to_string);
        async move {
            match uri {
                Some(uri) => s3::read(&a.s3, &uri, cap).await.map(Some),
                None => Ok(None),
            }
        }
    };
    let unreadable = |what: &str, e: String| {
        ConnectorError::Query(format!(
            "calculation {id} completed, but its {what} could not be read from S3: {e}"
        ))
    };
    let result_file = read(res.and_then(|r| r.result_s3_uri()), OUTPUT_CAP)
        .await
        .map_err(|e| unreadable("result", e))?
        .filter(|f| !f.bytes.is_empty());
    // Next to a result, stdout only makes a notice: its head is enough.
    let stdout_cap = if result_file.is_some() {
        STDERR_CAP
    } else {
        OUTPUT_CAP
    };
    let stdout = read(res.and_then(|r| r.std_out_s3_uri()), stdout_cap)
        .await
        .map_err(|e| unreadable("stdout", e))?
        .unwrap_or_default();
    let stdout_text = String::from_utf8_lossy(&stdout.bytes).into_owned();
    // stderr only informs: a file that cannot be read is logged, not an error.
    match read(res.and_then(|r| r.std_error_s3_uri()), STDERR_CAP).await {
        Ok(Some(f)) => notice_head(sink, "stderr", &String::from_utf8_lossy(&f.bytes)).await?,
        Ok(None) => {}
        Err(e) => tracing::warn!(calculation = id, error = %e, "stderr not read"),
    }
    let (output, cut) = match result_file {
        Some(f) => {
            let cut = f.cut;
            let kind = res.and_then(|r| r.result_type());
            (parse_result(f, kind, &stdout_text, sink).await?, cut)
        }
        None => (Output::Text(stdout_text), stdout.cut),
    };
    send_output(sink, output, cut).await
}

/// Parses a calculation's result file (as its type or content type says), telling the user
/// what stdout said next to it.
async fn parse_result(
    f: Fetched,
    result_type: Option<&str>,
    stdout_text: &str,
    sink: &JobSink,
) -> Result<Output, ConnectorError> {
    let Fetched {
        bytes,
        content_type,
        cut,
    } = f;
    let kind = result_type.map(str::to_string).or(content_type);
    let bytes = if cut { whole_lines(bytes) } else { bytes };
    // Parsing up to 64 MB of JSON takes a while: off the async threads.
    let parsed = tokio::task::spawn_blocking(move || result::parse(&bytes, kind.as_deref()))
        .await
        .map_err(|e| ConnectorError::Query(format!("reading the result failed: {e}")))?;
    // stdout next to a result says something, unless it is the same text.
    if !matches!(&parsed, Output::Text(t) if t.trim_end() == stdout_text.trim_end()) {
        notice_head(sink, "stdout", stdout_text).await?;
    }
    Ok(parsed)
}

/// Streams the output as a table (text as one column), saying when it was cut; returns the rows.
async fn send_output(sink: &JobSink, output: Output, cut: bool) -> Result<u64, ConnectorError> {
    if cut {
        sink.send(JobEvent::Notice(format!(
            "the output is larger than {} MB: only its first {} MB are shown",
            OUTPUT_CAP >> 20,
            OUTPUT_CAP >> 20
        )))
        .await?;
    }
    let (schema, batches) = match output {
        Output::Table { schema, batches } => (schema, batches),
        Output::Text(text) => result::text_table(&text),
    };
    sink.send(JobEvent::Schema(schema)).await?;
    let mut rows = 0u64;
    for batch in batches {
        rows += batch.num_rows() as u64;
        // Awaiting each send keeps to the consumer's pace.
        sink.send(JobEvent::Batch(batch)).await?;
    }
    Ok(rows)
}

/// Drops a cut-off last line (a half row would not parse).
fn whole_lines(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(end) = bytes.iter().rposition(|b| *b == b'\n') {
        bytes.truncate(end + 1);
    }
    bytes
}

/// The first lines of `text` as a notice, when it has any.
async fn notice_head(sink: &JobSink, what: &str, text: &str) -> Result<(), ConnectorError> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(last) = lines.iter().rposition(|l| !l.trim().is_empty()) else {
        return Ok(());
    };
    let shown = &lines[..=last.min(NOTICE_LINES - 1)];
    let more = if last + 1 > shown.len() {
        format!("\n… {} more line(s)", last + 1 - shown.len())
    } else {
        String::new()
    };
    sink.send(JobEvent::Notice(format!(
        "{what}:\n{}{more}",
        shown.join("\n")
    )))
    .await
}
