//! Work the worker takes off the UI loop onto blocking threads: sorting and filtering a result,
//! laying out a cell for the inspector, completing a typed path.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{ViewSpec, WorkerEvent, complete_path};
use crate::results::{self, ResultSet};

/// Computes the row order of a sorted or filtered view of `rows` and answers with
/// [`WorkerEvent::ViewReady`].
pub(super) fn spawn_compute_view(
    events: mpsc::Sender<WorkerEvent>,
    (result, generation): (u64, u64),
    rows: Arc<ResultSet>,
    spec: ViewSpec,
) {
    tokio::spawn(async move {
        let computed = tokio::task::spawn_blocking(move || match spec {
            ViewSpec::Sort { column, order } => results::sort_indices(&rows, column, order),
            ViewSpec::Filter { needle } => results::filter_indices(&rows, &needle),
        })
        .await;
        let outcome = match computed {
            Ok(Ok(indices)) => Ok(indices),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("the sort/filter task failed: {e}")),
        };
        let _ = events
            .send(WorkerEvent::ViewReady {
                result,
                generation,
                outcome,
            })
            .await;
    });
}

/// Lays out a cell for the inspector on a blocking thread and answers with
/// [`WorkerEvent::Inspected`].
pub(super) fn spawn_inspect(
    events: mpsc::Sender<WorkerEvent>,
    request: u64,
    rows: Arc<ResultSet>,
    (row, col): (usize, usize),
    trino_text: bool,
) {
    tokio::spawn(async move {
        let laid_out =
            tokio::task::spawn_blocking(move || rows.cell_inspect(row, col, trino_text)).await;
        let outcome = laid_out
            .map(Arc::new)
            .map_err(|e| format!("formatting the cell failed: {e}"));
        let _ = events
            .send(WorkerEvent::Inspected { request, outcome })
            .await;
    });
}

/// Completes the path `typed` as far as it is unique and answers with
/// [`WorkerEvent::PathCompleted`].
pub(super) fn spawn_complete_path(events: mpsc::Sender<WorkerEvent>, typed: String) {
    tokio::spawn(async move {
        let asked = typed.clone();
        let completed = tokio::task::spawn_blocking(move || complete_path::complete_path(&asked))
            .await
            .unwrap_or_else(|_| typed.clone());
        let _ = events
            .send(WorkerEvent::PathCompleted { typed, completed })
            .await;
    });
}
