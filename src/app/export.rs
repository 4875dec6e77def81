//! Exporting a result (`Ctrl-E`, and copies of rows or ranges): one export at a time, in the
//! background; its progress and outcome. The form itself is [`super::export_form`].

use super::export_form::{Destination, ExportForm, Scope};
use super::results::ResultTab;
use super::{Effect, ExportRun, Popup, State};
use crate::export::Overwrite;
use crate::model::job::{JobId, QueryRequest};
use crate::protocol::{ExportFailure, ExportOutcome, ExportTarget, RowPick, WorkerCmd};

/// `Ctrl-E`: the export form for the active result, or, while an export runs, whether to
/// cancel it.
pub(super) fn open_export(state: &mut State) {
    if state.export.is_some() {
        state.popup = Some(Popup::ConfirmCancelExport);
        return;
    }
    let Some(r) = state.tab().active_result() else {
        state.flash("nothing to export: run a query first", true);
        return;
    };
    if r.rows.is_none() {
        state.flash("nothing to export: this result has no rows", true);
        return;
    }
    state.popup = Some(Popup::Export(ExportForm::new(
        r.id,
        r.grid.anchor.is_some(),
    )));
}

/// Starts the export the form describes (in the background, one at a time).
pub(super) fn start_export(
    state: &mut State,
    form: ExportForm,
    overwrite: Overwrite,
    fx: &mut Vec<Effect>,
) {
    let connection = state.tab().connection.clone();
    let Some(r) = state.tab().result_by_id(form.result) else {
        state.flash("that result is gone", true);
        return;
    };
    let Some(rows) = r.rows.clone() else {
        return;
    };
    if form.scope == Scope::Whole && r.state.is_active() {
        state.flash(
            "the query is still running: export when it is done (or the view, which is what is loaded)",
            true,
        );
        return;
    }
    if form.destination == Destination::Clipboard && form.format.is_binary() {
        state.flash(
            format!("{} is a binary format: export it to a file", form.format),
            true,
        );
        return;
    }
    let mut pick = row_pick(r, form.scope);
    let rest = (form.scope == Scope::Whole)
        .then(|| rest_from_service(state, r, &connection, &mut pick))
        .flatten();
    let target = match form.destination {
        Destination::File => ExportTarget::File {
            path: crate::store::paths::expand_home(form.path.trim()),
            overwrite,
        },
        Destination::Clipboard => ExportTarget::Clipboard,
    };
    let id = state.next_id();
    let more = if rest.is_some() {
        " and the rest from the service"
    } else {
        ""
    };
    state.flash(format!("exporting {}{more}…", form.scope.label()), false);
    fx.push(Effect::Worker(WorkerCmd::Export {
        id,
        format: form.format,
        rows,
        pick,
        target,
        rest,
    }));
    state.export = Some(ExportRun {
        id,
        form,
        rows: 0,
        bytes: 0,
        started: state.now,
    });
}

/// The rows and columns of the loaded result that `scope` takes, in the order shown.
fn row_pick(r: &ResultTab, scope: Scope) -> RowPick {
    let view_order = || -> Vec<u32> {
        (0..r.visible_rows())
            .map(|i| r.data_row(i) as u32)
            .collect()
    };
    let (row_lo, row_hi, col_lo, col_hi) = r.selection();
    match scope {
        Scope::Whole => RowPick::default(),
        Scope::View => RowPick {
            rows: Some(view_order()),
            columns: None,
        },
        Scope::Selection => RowPick {
            rows: Some((row_lo..=row_hi).map(|i| r.data_row(i) as u32).collect()),
            columns: Some((col_lo..=col_hi).collect()),
        },
        Scope::Column => RowPick {
            rows: Some(view_order()),
            columns: Some(vec![r.grid.col]),
        },
        Scope::Row => RowPick {
            rows: Some(vec![r.data_row(r.grid.row) as u32]),
            columns: None,
        },
    }
}

/// "Whole result" means the whole result on the server: a paused run goes on to its end; a
/// result cut at `max_loaded_rows` is fetched again whole (by its id where the service keeps
/// results, else by running it again) instead of the rows loaded.
fn rest_from_service(
    state: &State,
    r: &ResultTab,
    connection: &str,
    pick: &mut RowPick,
) -> Option<(String, QueryRequest)> {
    let caps = state.capabilities(connection);
    if r.truncated {
        pick.rows = Some(Vec::new());
        let reopen = if caps.is_some_and(|c| c.reopen) {
            r.stats.server_id.clone()
        } else {
            None
        };
        Some((
            connection.to_string(),
            QueryRequest {
                sql: r.sql.clone(),
                params: r.params.clone(),
                reopen,
                ..QueryRequest::default()
            },
        ))
    } else if caps.is_some_and(|c| c.item_paging) {
        r.resume.clone().map(|token| {
            let request = QueryRequest {
                sql: r.sql.clone(),
                params: r.params.clone(),
                resume: Some(token),
                ..QueryRequest::default()
            };
            (connection.to_string(), request)
        })
    } else {
        None
    }
}

/// Tab completion of the form's path, only while the form still shows what was completed (the
/// user may have typed on).
pub(super) fn on_path_completed(state: &mut State, typed: String, completed: String) {
    if let Some(Popup::Export(form)) = &mut state.popup
        && form.path == typed
    {
        form.path = completed;
    }
}

/// Rows and bytes written so far, for the status bar.
pub(super) fn on_progress(state: &mut State, id: JobId, rows: u64, bytes: u64) {
    if let Some(run) = state.export.as_mut().filter(|r| r.id == id) {
        run.rows = rows;
        run.bytes = bytes;
    }
}

/// The export ended: copied, written, refused (the file exists: replace it?), cancelled or
/// failed.
pub(super) fn on_done(
    state: &mut State,
    id: JobId,
    outcome: Result<ExportOutcome, ExportFailure>,
    fx: &mut Vec<Effect>,
) {
    let Some(run) = state.export.take_if(|r| r.id == id) else {
        return;
    };
    let secs = state.now.duration_since(run.started).as_secs_f64();
    match outcome {
        Ok(done) => match done.clipboard {
            Some(text) => {
                fx.push(Effect::CopyToClipboard(text));
                state.flash(
                    format!(
                        "copied {} rows as {} to the clipboard",
                        done.rows, run.form.format
                    ),
                    false,
                );
            }
            None => state.flash(
                format!(
                    "exported {} rows ({}) to {} in {secs:.1} s",
                    done.rows,
                    crate::model::format::human_bytes(done.bytes),
                    run.form.path.trim()
                ),
                false,
            ),
        },
        Err(ExportFailure::Exists(_)) => {
            state.popup = Some(Popup::ConfirmOverwrite(run.form));
        }
        Err(ExportFailure::Cancelled) => {
            state.flash("export cancelled: no file was written", false)
        }
        Err(ExportFailure::Failed(e)) => {
            state.popup = Some(Popup::Message {
                title: "Export failed".into(),
                text: format!("{}: {e}", run.form.path.trim()),
            })
        }
    }
}
