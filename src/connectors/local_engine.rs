//! The embedded engine's statements run on a runtime of their own.
//!
//! DataFusion's operators are CPU-bound, and one poll of a join can take seconds. On the shared
//! runtime they would take every thread, and what must answer at once would wait behind them:
//! the worker's cancel, the CLI's signal handler, the writer of an export. So a statement is
//! planned and executed here, and its batches come back over a small channel (which also
//! pushes back on the engine when the consumer is slower). DataFusion recommends this split for
//! CPU-bound work next to I/O.

use std::sync::{Arc, OnceLock};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::ConnectorError;

/// What a running statement sends back: its schema first, then its batches.
pub enum EngineOutput {
    Schema(SchemaRef),
    Batch(RecordBatch),
}

/// A statement running on the engine's runtime. Dropped before it ends (the job was
/// cancelled or its consumer went away), it aborts the engine's task.
pub struct EngineRun {
    pub output: mpsc::Receiver<EngineOutput>,
    task: JoinHandle<Result<(), ConnectorError>>,
}

impl EngineRun {
    /// Plans and runs `sql` on the engine's runtime. The plan checks `cancel` in every
    /// operator, so a cancel stops the engine's work within milliseconds, not at its next
    /// batch.
    pub fn start(
        ctx: &SessionContext,
        sql: String,
        cancel: CancellationToken,
    ) -> Result<Self, ConnectorError> {
        let runtime = engine_runtime()?;
        // Two batches in flight: the engine works ahead a little, never far.
        let (tx, output) = mpsc::channel(2);
        let ctx = ctx.clone();
        let task = runtime.spawn(async move {
            crate::panics::contained(run(ctx, sql, cancel, tx))
                .await
                .unwrap_or_else(|panic| {
                    Err(ConnectorError::Query(format!(
                        "internal error in the local engine: {panic}"
                    )))
                })
        });
        Ok(EngineRun { output, task })
    }

    /// How the statement ended, once `output` is drained.
    pub async fn finish(mut self) -> Result<(), ConnectorError> {
        match (&mut self.task).await {
            Ok(ended) => ended,
            Err(e) => Err(ConnectorError::Query(format!(
                "the local engine stopped: {e}"
            ))),
        }
    }
}

impl Drop for EngineRun {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The engine's runtime: one thread per core, the same generous stack as the shared runtime
/// (deep expressions are evaluated recursively), started on first use and kept for the life
/// of the process.
fn engine_runtime() -> Result<&'static Runtime, ConnectorError> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .thread_name("quarry-engine")
                .thread_stack_size(crate::THREAD_STACK)
                .enable_time()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ConnectorError::Query(format!("cannot start the local engine: {e}")))
}

/// Plans `sql`, makes every operator check `cancel`, and sends the schema and each non-empty
/// batch to `tx` until the plan ends or nobody listens.
async fn run(
    ctx: SessionContext,
    sql: String,
    cancel: CancellationToken,
    tx: mpsc::Sender<EngineOutput>,
) -> Result<(), ConnectorError> {
    let query_error = |e: datafusion::error::DataFusionError| match cancel.is_cancelled() {
        // The plan's own cancel checks fail it the moment the token is cancelled.
        true => ConnectorError::Cancelled,
        false => ConnectorError::Query(e.to_string()),
    };
    let planned = ctx.sql(&sql).await.map_err(super::local::planning_error)?;
    let schema: SchemaRef = planned.schema().inner().clone();
    let task = Arc::new(planned.task_ctx());
    let plan = planned.create_physical_plan().await.map_err(query_error)?;
    let plan = super::local_cancel::cancellable(plan, &cancel).map_err(query_error)?;
    let mut stream = datafusion::physical_plan::execute_stream(plan, task).map_err(query_error)?;
    if tx.send(EngineOutput::Schema(schema)).await.is_err() {
        return Ok(());
    }
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(query_error)?;
        if batch.num_rows() > 0 && tx.send(EngineOutput::Batch(batch)).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}
