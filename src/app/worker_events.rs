//! What the worker reports, each event handed to the feature that owns it.

use super::{
    Effect, State, browser_actions, completion, export, grid, inspector, job_events, sessions,
    snippets, spark, transactions,
};
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
        } => completion::on_catalog(state, connection, snapshot, fx),
        WorkerEvent::Columns {
            connection,
            table,
            columns,
            keys,
        } => completion::on_columns(state, connection, &table, (columns, keys), fx),
    }
}
