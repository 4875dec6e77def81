//! What the worker reports, each event handed to the feature that owns it.

use super::{
    Effect, State, browser_actions, export, grid, inspector, job_events, sessions, snippets, spark,
    transactions,
};
use std::sync::Arc;

use crate::model::completion::{CatalogSnapshot, ColumnEntry};
use crate::protocol::WorkerEvent;

/// One event of the worker, to the feature it concerns.
pub(super) fn on_worker(state: &mut State, ev: WorkerEvent, fx: &mut Vec<Effect>) {
    match ev {
        WorkerEvent::Job(job, event) => job_events::on_event(state, job, event, fx),
        WorkerEvent::JobFinished {
            job,
            outcome,
            elapsed,
        } => job_events::on_finished(state, job, outcome, elapsed, fx),
        WorkerEvent::PasswordNeeded { job, connection } => {
            job_events::on_password_needed(state, job, connection)
        }
        WorkerEvent::PathCompleted { typed, completed } => {
            export::on_path_completed(state, typed, completed)
        }
        WorkerEvent::Children {
            connection,
            path,
            result,
        } => browser_actions::on_children(state, connection, path, result),
        WorkerEvent::ViewReady {
            result,
            generation,
            outcome,
        } => grid::on_view_ready(state, result, generation, outcome),
        WorkerEvent::Inspected { request, outcome } => {
            inspector::on_layout(state, request, outcome)
        }
        WorkerEvent::History(result) => snippets::on_history(state, result),
        WorkerEvent::Snippets { snippets, errors } => {
            snippets::on_snippets(state, snippets, errors)
        }
        WorkerEvent::SnippetSaved { name, outcome } => snippets::on_saved(state, name, outcome),
        WorkerEvent::TransactionEnded { key, outcome } => {
            transactions::transaction_ended(state, &key, outcome, fx)
        }
        WorkerEvent::SessionEnded { outcome, .. } => sessions::on_ended(state, outcome),
        WorkerEvent::Spark {
            connection,
            op,
            outcome,
        } => spark::on_reply(state, connection, op, outcome.map(|reply| *reply)),
        WorkerEvent::ExportProgress { id, rows, bytes } => {
            export::on_progress(state, id, rows, bytes)
        }
        WorkerEvent::ExportDone { id, outcome } => export::on_done(state, id, outcome, fx),
        WorkerEvent::Catalog {
            connection,
            snapshot,
            ..
        } => on_catalog(state, connection, snapshot),
        WorkerEvent::Columns {
            connection,
            table,
            columns,
            keys,
        } => on_columns(state, connection, &table, columns, keys),
    }
}

/// Keeps the newest catalog snapshot of `connection` for completion. A failed refresh keeps
/// what was known (from the cache or an earlier refresh): completion goes on with it.
fn on_catalog(
    state: &mut State,
    connection: String,
    snapshot: Result<Arc<CatalogSnapshot>, String>,
) {
    match snapshot {
        Ok(snapshot) => {
            state.catalogs.insert(connection, snapshot);
        }
        Err(error) => tracing::warn!(%connection, %error, "catalog not listed"),
    }
}

/// Merges a table's columns into `connection`'s snapshot (copied if the worker still shares it).
fn on_columns(
    state: &mut State,
    connection: String,
    table: &[String],
    columns: Result<Vec<ColumnEntry>, String>,
    keys: Vec<String>,
) {
    match columns {
        Ok(columns) => {
            let snapshot = state.catalogs.entry(connection).or_default();
            Arc::make_mut(snapshot).merge_columns(table, columns, keys);
        }
        Err(error) => tracing::warn!(%connection, %error, "columns not listed"),
    }
}
