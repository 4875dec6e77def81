//! The yes/no question every confirmation shares, and the questions answered by it: close the
//! tab, replace the export's file, cancel the running export. (Replacing a snippet is asked in
//! `snippets`, open transactions in `transactions`: their answers lead elsewhere.)

use super::{Effect, Popup, State};
use crate::app::export::start_export;
use crate::app::export_form::ExportForm;
use crate::app::tabs::close_tab;
use crate::export::Overwrite;
use crate::model::action::Action;
use crate::protocol::WorkerCmd;

/// What a key answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// Not an answer: the question stays.
    Pending,
}

/// The answer `action` (in the `confirm` layer) gives; `confirm` (Enter) answers yes only where
/// yes is harmless enough to be the default.
pub fn answer(action: Option<Action>, enter_is_yes: bool) -> Answer {
    match action {
        Some(Action::Yes) => Answer::Yes,
        Some(Action::Confirm) if enter_is_yes => Answer::Yes,
        Some(Action::No) => Answer::No,
        _ => Answer::Pending,
    }
}

/// "Close this tab?" (its text is not kept).
pub fn closing_tab(
    state: &mut State,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match answer(action, true) {
        Answer::Yes => {
            close_tab(state, fx);
            None
        }
        Answer::No => None,
        Answer::Pending => Some(Popup::ConfirmCloseTab),
    }
}

/// "The export's file exists: replace it?"; no goes back to the form to choose another name.
pub fn overwrite_file(
    state: &mut State,
    form: ExportForm,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match answer(action, false) {
        Answer::Yes => {
            start_export(state, form, Overwrite::Replace, fx);
            None
        }
        Answer::No => Some(Popup::Export(form)),
        Answer::Pending => Some(Popup::ConfirmOverwrite(form)),
    }
}

/// "An export runs: cancel it?"
pub fn cancel_export(
    state: &mut State,
    action: Option<Action>,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    match answer(action, false) {
        Answer::Yes => {
            if let Some(run) = &state.export {
                fx.push(Effect::Worker(WorkerCmd::Cancel { job: run.id }));
                state.flash("cancelling the export…", false);
            }
            None
        }
        Answer::No => None,
        Answer::Pending => Some(Popup::ConfirmCancelExport),
    }
}
