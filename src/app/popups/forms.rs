//! The forms: what their outcome does — quit stopping the ticked items, start a Spark session,
//! run with the values given, export. The quit dialog is a question with a list (the `confirm`
//! layer); query parameters and export are in the `form` layer; the Spark form (in
//! `app/spark.rs`) still reads its keys itself.

use crossterm::event::KeyEvent;

use super::{Effect, Popup, State};
use super::{export_form, params, quit, spark};
use crate::app::export::start_export;
use crate::app::quitting::quit_stopping;
use crate::app::run::run_with;
use crate::app::snippets::run_template;
use crate::export::Overwrite;
use crate::model::action::Action;
use crate::model::spark::SparkOp;
use crate::protocol::WorkerCmd;

/// What to stop on the servers before quitting (the `confirm` layer, with a list).
pub fn quit(
    state: &mut State,
    form: quit::QuitForm,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match form.on_key(action) {
        quit::QuitChoice::Stay => None,
        quit::QuitChoice::Editing(form) => Some(Popup::ConfirmQuit(form)),
        quit::QuitChoice::Quit(form) => {
            quit_stopping(state, &form, fx);
            None
        }
    }
}

pub fn spark_start(
    state: &mut State,
    form: spark::StartForm,
    key: &KeyEvent,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match form.on_key(key, action) {
        spark::FormOutcome::Editing(form) => Some(Popup::SparkStart(form)),
        spark::FormOutcome::Cancelled => None,
        spark::FormOutcome::Submitted { connection, op } => {
            if let SparkOp::Start { workgroup, .. } = &op {
                state.flash(format!("starting a Spark session in {workgroup}…"), false);
            }
            fx.push(Effect::Worker(WorkerCmd::Spark { connection, op }));
            None
        }
    }
}

/// The values of a run's placeholders: remembered for next time, then the run starts.
pub fn params(
    state: &mut State,
    form: params::ParamForm,
    key: &KeyEvent,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match form.on_key(key, action) {
        params::FormOutcome::Editing(form) => Some(Popup::Params(form)),
        params::FormOutcome::Cancelled => {
            state.flash("run cancelled: no values given", false);
            None
        }
        params::FormOutcome::Submitted(form) if form.syntax == params::ValueSyntax::Template => {
            for f in &form.fields {
                state
                    .param_memory
                    .insert(f.label.clone(), vec![f.value.clone()]);
            }
            run_template(state, &form, fx);
            None
        }
        params::FormOutcome::Submitted(form) => {
            let values = form.values_by_statement();
            for (sql, v) in form.statements.iter().zip(&values) {
                if !v.is_empty() {
                    state.param_memory.insert(sql.clone(), v.clone());
                }
            }
            run_with(state, form.statements, values, None, form.group, fx);
            None
        }
    }
}

pub fn export(
    state: &mut State,
    form: export_form::ExportForm,
    key: &KeyEvent,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match form.on_key(key, action) {
        export_form::FormOutcome::Editing(form) => Some(Popup::Export(form)),
        export_form::FormOutcome::Complete(form) => {
            fx.push(Effect::Worker(WorkerCmd::CompletePath {
                typed: form.path.clone(),
            }));
            Some(Popup::Export(form))
        }
        export_form::FormOutcome::Cancelled => None,
        export_form::FormOutcome::Submitted(form) => {
            start_export(state, form, Overwrite::Refuse, fx);
            None
        }
    }
}
