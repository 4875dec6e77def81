//! One export in the background: the chosen rows and columns of a loaded result, plus — for a
//! whole result that was paused (DynamoDB's limit) — the rest fetched from the service while
//! writing. Rows stream to a blocking writer thread through a small channel; progress (rows,
//! bytes) goes to the UI a few times a second; a cancel drops the unfinished file (nothing is
//! left behind) and cancels the fetch on the server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::UInt32Array;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{ExportFailure, ExportOutcome, ExportTarget, RowPick, WorkerEvent};
use crate::connectors::{Connector, JobEvent, JobSink, JobSummary, QueryRequest};
use crate::export::{BatchWriter, ExportError, FileExport, Format};
use crate::results::{ResultSet, widen_batch};

/// Rows per batch handed to the writer when rows are picked by index.
const PICK_CHUNK: usize = 16 * 1024;
/// How often progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

pub struct ExportRequest {
    pub id: u64,
    pub format: Format,
    pub rows: Arc<ResultSet>,
    pub pick: RowPick,
    pub target: ExportTarget,
    /// A paused run's continuation: the connector and the request that goes on from its token.
    pub rest: Option<(Arc<dyn Connector>, QueryRequest)>,
}

/// Runs the export to its end; the caller sends the outcome.
pub async fn run(
    req: ExportRequest,
    events: mpsc::Sender<WorkerEvent>,
    cancel: CancellationToken,
) -> Result<ExportOutcome, ExportFailure> {
    let schema = match &req.pick.columns {
        Some(cols) => Arc::new(
            req.rows
                .schema()
                .project(cols)
                .map_err(|e| ExportFailure::Failed(e.to_string()))?,
        ),
        None => req.rows.schema().clone(),
    };
    let (tx, rx) = mpsc::channel::<RecordBatch>(4);
    // Cancelled by the user, or because feeding failed: either way the file is dropped
    // unfinished instead of being committed with part of the rows.
    let abandon = cancel.child_token();
    let writer = {
        let (schema, target, format) = (schema.clone(), req.target.clone(), req.format);
        let (events, abandon, id) = (events.clone(), abandon.clone(), req.id);
        tokio::task::spawn_blocking(move || write(rx, schema, format, target, id, events, abandon))
    };
    let fed = feed(&req, &tx, &cancel).await;
    if fed.is_err() {
        abandon.cancel();
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| ExportFailure::Failed(format!("the export task failed: {e}")))?;
    settle(fed, written, cancel.is_cancelled())
}

/// An export's outcome from its two halves. The writer's own failure (a full disk, the file
/// already there) wins: the feeder only saw the writer's channel close.
fn settle(
    fed: Result<(), ExportFailure>,
    written: Result<ExportOutcome, ExportFailure>,
    user_cancelled: bool,
) -> Result<ExportOutcome, ExportFailure> {
    match (fed, written) {
        _ if user_cancelled => Err(ExportFailure::Cancelled),
        (_, Err(e @ (ExportFailure::Exists(_) | ExportFailure::Failed(_)))) => Err(e),
        (Err(e), _) => Err(e),
        (Ok(()), written) => written,
    }
}

/// Sends the picked loaded rows, then the rest of a paused run, to the writer.
async fn feed(
    req: &ExportRequest,
    tx: &mpsc::Sender<RecordBatch>,
    cancel: &CancellationToken,
) -> Result<(), ExportFailure> {
    let failed = |e: arrow::error::ArrowError| ExportFailure::Failed(e.to_string());
    let project = |b: RecordBatch| match &req.pick.columns {
        Some(cols) => b.project(cols).map_err(failed),
        None => Ok(b),
    };
    let send = |b: RecordBatch| async move {
        tokio::select! {
            _ = cancel.cancelled() => Err(ExportFailure::Cancelled),
            // A closed channel: the writer stopped on an error it reports itself.
            r = tx.send(b) => r.map_err(|_| ExportFailure::Cancelled),
        }
    };
    match &req.pick.rows {
        None => {
            for b in req.rows.batches() {
                send(project(b.clone())?).await?;
            }
        }
        Some(indices) => {
            let all = arrow::compute::concat_batches(req.rows.schema(), req.rows.batches())
                .map_err(failed)?;
            for chunk in indices.chunks(PICK_CHUNK) {
                let picked =
                    arrow::compute::take_record_batch(&all, &UInt32Array::from(chunk.to_vec()))
                        .map_err(failed)?;
                send(project(picked)?).await?;
            }
        }
    }
    let Some((connector, request)) = &req.rest else {
        return Ok(());
    };
    // The rest of a paused run, page after page (each run may pause again at the connection's
    // limit: go on from its token until there is none), straight to the file.
    let mut request = request.clone();
    loop {
        let summary = fetch_into(connector.as_ref(), request.clone(), req, &send, cancel).await?;
        match summary.resume {
            Some(token) => request.resume = Some(token),
            None => return Ok(()),
        }
    }
}

/// One run of a continuation: its batches, fitted to the result's columns, go to `send`.
async fn fetch_into<F, Fut>(
    connector: &dyn Connector,
    request: QueryRequest,
    req: &ExportRequest,
    send: &F,
    cancel: &CancellationToken,
) -> Result<JobSummary, ExportFailure>
where
    F: Fn(RecordBatch) -> Fut,
    Fut: std::future::Future<Output = Result<(), ExportFailure>>,
{
    let failed = |e: arrow::error::ArrowError| ExportFailure::Failed(e.to_string());
    let (sink_tx, mut sink_rx) = mpsc::channel(16);
    let sink = JobSink::new(req.id, sink_tx);
    let fetch = connector.execute(request, sink, cancel.child_token());
    tokio::pin!(fetch);
    let mut fetched = None;
    loop {
        tokio::select! {
            outcome = &mut fetch, if fetched.is_none() => fetched = Some(outcome),
            event = sink_rx.recv() => match event {
                Some((_, JobEvent::Batch(b))) => {
                    let fitted = widen_batch(&b, req.rows.schema()).map_err(failed)?;
                    let picked = match &req.pick.columns {
                        Some(cols) => fitted.project(cols).map_err(failed)?,
                        None => fitted,
                    };
                    send(picked).await?;
                }
                Some(_) => {}
                None => break,
            },
        }
    }
    let outcome = match fetched {
        Some(o) => o,
        None => fetch.await,
    };
    outcome.map_err(|e| match e {
        crate::connectors::ConnectorError::Cancelled => ExportFailure::Cancelled,
        e => ExportFailure::Failed(format!("fetching the rest of the result failed: {e}")),
    })
}

/// The writer thread: file (atomic) or clipboard text, with progress reports.
fn write(
    mut rx: mpsc::Receiver<RecordBatch>,
    schema: SchemaRef,
    format: Format,
    target: ExportTarget,
    id: u64,
    events: mpsc::Sender<WorkerEvent>,
    cancel: CancellationToken,
) -> Result<ExportOutcome, ExportFailure> {
    let failure = |e: ExportError| match e {
        ExportError::Exists { path } => ExportFailure::Exists(path),
        // The UI names the file it asked for; the reason is what it needs from here.
        ExportError::File { source, .. } => ExportFailure::Failed(source.to_string()),
        e => ExportFailure::Failed(e.to_string()),
    };
    let mut last = Instant::now();
    let mut report = |rows: u64, bytes: u64| {
        if last.elapsed() >= PROGRESS_EVERY {
            last = Instant::now();
            let _ = events.try_send(WorkerEvent::ExportProgress { id, rows, bytes });
        }
    };
    match target {
        ExportTarget::File { path, overwrite } => {
            let mut file = FileExport::create(&path, format, schema, overwrite).map_err(failure)?;
            while let Some(batch) = rx.blocking_recv() {
                file.write(&batch).map_err(failure)?;
                report(file.rows_written(), file.bytes_written());
            }
            if cancel.is_cancelled() {
                // Dropped unfinished: the temporary file goes, `path` is untouched.
                return Err(ExportFailure::Cancelled);
            }
            let bytes = file.bytes_written();
            let rows = file.finish().map_err(failure)?;
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(bytes);
            Ok(ExportOutcome {
                rows,
                bytes,
                clipboard: None,
            })
        }
        ExportTarget::Clipboard => {
            if format.is_binary() {
                return Err(ExportFailure::Failed(format!(
                    "{format} is a binary format: export it to a file"
                )));
            }
            let mut writer = BatchWriter::new(Vec::new(), format, schema).map_err(failure)?;
            while let Some(batch) = rx.blocking_recv() {
                writer.write(&batch).map_err(failure)?;
            }
            if cancel.is_cancelled() {
                return Err(ExportFailure::Cancelled);
            }
            let rows = writer.rows_written();
            let text = String::from_utf8(writer.finish().map_err(failure)?)
                .map_err(|e| ExportFailure::Failed(e.to_string()))?;
            Ok(ExportOutcome {
                rows,
                bytes: text.len() as u64,
                clipboard: Some(text),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done() -> Result<ExportOutcome, ExportFailure> {
        Ok(ExportOutcome {
            rows: 1,
            bytes: 1,
            clipboard: None,
        })
    }

    #[test]
    fn the_writers_own_failure_wins_over_the_closed_channel() {
        let full = ExportFailure::Failed("No space left on device".into());
        let exists = ExportFailure::Exists("big.csv".into());
        // The feeder saw the channel close ("cancelled") because the writer stopped.
        let fed = Err(ExportFailure::Cancelled);
        assert_eq!(settle(fed.clone(), Err(full.clone()), false), Err(full));
        assert_eq!(settle(fed, Err(exists.clone()), false), Err(exists));
        // A failed fetch of the rest: the writer dropped its file, the fetch's error shows.
        let fetch = ExportFailure::Failed("fetching the rest failed".into());
        assert_eq!(
            settle(Err(fetch.clone()), Err(ExportFailure::Cancelled), false),
            Err(fetch)
        );
        // The user's cancel is a cancel, whatever the halves saw.
        assert_eq!(settle(Ok(()), done(), true), Err(ExportFailure::Cancelled));
        assert_eq!(settle(Ok(()), done(), false), done());
    }
}
