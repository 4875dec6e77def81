//! A cancel that stops the embedded engine's work, not just the wait for it.
//!
//! Dropping DataFusion's stream aborts its tasks only at their next yield, and a CPU-bound
//! operator can run for many seconds inside one poll: a nested loop join whose filter rarely
//! matches probes every buffered row against a whole input batch before it returns (a cross
//! join of `trips` with itself kept both cores busy for 10–20 s after a cancel). So the plan is
//! rewritten before it runs: every operator's stream checks the job's cancel token on each
//! poll, and a nested loop join's filter checks it on each evaluation (a few thousand row
//! pairs), so a cancelled query fails out of whatever loop it is in within milliseconds.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow::datatypes::{FieldRef, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::joins::utils::JoinFilter;
use datafusion::physical_plan::joins::{NestedLoopJoinExec, NestedLoopJoinExecBuilder};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, RecordBatchStream,
    SendableRecordBatchStream,
};
use futures::Stream;
use tokio_util::sync::CancellationToken;

/// The error a cancelled plan fails with (the connector reports the cancel, not this).
const CANCELLED: &str = "the query was cancelled";

/// `plan` with a cancel check in every operator's stream and in nested loop join filters.
pub fn cancellable(
    plan: Arc<dyn ExecutionPlan>,
    cancel: &CancellationToken,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let node = match node.downcast_ref::<NestedLoopJoinExec>() {
            Some(join) => checked_join(join, cancel)?,
            None => node,
        };
        let checked: Arc<dyn ExecutionPlan> = Arc::new(CancellableExec {
            input: node,
            cancel: cancel.clone(),
        });
        Ok(Transformed::yes(checked))
    })
    .map(|t| t.data)
}

/// The join rebuilt with its filter checking the token on each evaluation.
fn checked_join(
    join: &NestedLoopJoinExec,
    cancel: &CancellationToken,
) -> Result<Arc<dyn ExecutionPlan>> {
    let filter = join.filter().map(|f| {
        let expression: Arc<dyn PhysicalExpr> = Arc::new(CancellableExpr {
            inner: f.expression().clone(),
            cancel: cancel.clone(),
        });
        JoinFilter::new(expression, f.column_indices().to_vec(), f.schema().clone())
    });
    let rebuilt = NestedLoopJoinExecBuilder::from(join)
        .with_filter(filter)
        .build()?;
    Ok(Arc::new(rebuilt))
}

fn cancelled() -> DataFusionError {
    DataFusionError::Execution(CANCELLED.to_string())
}

/// An operator whose output stream fails as soon as the token is cancelled.
#[derive(Debug)]
struct CancellableExec {
    input: Arc<dyn ExecutionPlan>,
    cancel: CancellationToken,
}

impl DisplayAs for CancellableExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "CancellableExec")
    }
}

impl ExecutionPlan for CancellableExec {
    fn name(&self) -> &str {
        "CancellableExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("CancellableExec has one input".into()))?;
        Ok(Arc::new(CancellableExec {
            input,
            cancel: self.cancel.clone(),
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if self.cancel.is_cancelled() {
            return Err(cancelled());
        }
        Ok(Box::pin(CancellableStream {
            input: self.input.execute(partition, context)?,
            cancel: self.cancel.clone(),
        }))
    }
}

struct CancellableStream {
    input: SendableRecordBatchStream,
    cancel: CancellationToken,
}

impl Stream for CancellableStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.cancel.is_cancelled() {
            return Poll::Ready(Some(Err(cancelled())));
        }
        self.input.as_mut().poll_next(cx)
    }
}

impl RecordBatchStream for CancellableStream {
    fn schema(&self) -> arrow::datatypes::SchemaRef {
        self.input.schema()
    }
}

/// An expression that fails once the token is cancelled, else is `inner`.
#[derive(Debug)]
struct CancellableExpr {
    inner: Arc<dyn PhysicalExpr>,
    cancel: CancellationToken,
}

impl fmt::Display for CancellableExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

// Equal and hashed as the expression it wraps: the check changes no result.
impl PartialEq for CancellableExpr {
    fn eq(&self, other: &Self) -> bool {
        self.inner.as_ref() == other.inner.as_ref()
    }
}

impl Eq for CancellableExpr {}

impl Hash for CancellableExpr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
    }
}

impl PhysicalExpr for CancellableExpr {
    fn return_field(&self, input_schema: &Schema) -> Result<FieldRef> {
        self.inner.return_field(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        if self.cancel.is_cancelled() {
            return Err(cancelled());
        }
        self.inner.evaluate(batch)
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.inner]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let [inner] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("CancellableExpr has one child".into()))?;
        Ok(Arc::new(CancellableExpr {
            inner,
            cancel: self.cancel.clone(),
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt_sql(f)
    }
}
