//! Popups as components: the [`Popup`] enum (what is open over the panes), the layer of the
//! keymap each one listens to, and the router that hands a key to the popup's own handler (one
//! file per popup or family). Shared pieces: [`text_field`] edits every one-line text,
//! [`confirm`] answers every yes/no question.

mod confirm;
mod forms;
mod history;
mod input;
mod lists;
mod monitor;
mod scroll;
mod snippets;
pub mod text_field;
mod transactions;

use crossterm::event::KeyEvent;

use super::{AfterTransactions, Effect, State};
use super::{export_form, inspector, params, pickers, quit, spark};
use crate::model::keys::KeyContext;

pub use input::InputPurpose;
pub use transactions::transactions_popup;

/// What is open over the panes; `State::popup` holds at most one.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help {
        scroll: usize,
    },
    /// The cell inspector.
    Inspector(inspector::Inspector),
    /// What to stop on the servers before quitting.
    ConfirmQuit(quit::QuitForm),
    /// Start a Spark session in a workgroup (DPU sizes, idle timeout).
    SparkStart(spark::StartForm),
    /// A Spark session's details (GetSession, endpoint and dashboard links); `y` copies the
    /// selected line's value.
    SparkDetails {
        id: String,
        /// `None` until the service answered.
        lines: Option<Vec<(String, String)>>,
        selected: usize,
    },
    /// Values for the `?` placeholders of a run.
    Params(params::ParamForm),
    ConfirmCloseTab,
    /// Tabs with a transaction open (direct connections): commit, roll back, or stay.
    ConfirmTransactions {
        /// Tab id, title, and whether the transaction failed (only a rollback is possible).
        tabs: Vec<(u64, String, bool)>,
        then: AfterTransactions,
    },
    /// The server asks a password for this connection: typed here, kept in memory only.
    Password {
        connection: String,
        text: String,
        /// What to run once it is known (the run that failed for want of it).
        rerun: Vec<String>,
    },
    ConnectionPicker {
        selected: usize,
    },
    /// The jobs and sessions monitor; `selected` indexes [`monitor::entries`].
    Monitor {
        selected: usize,
        /// The line chosen, followed while lines move (a job ending moves below the sessions):
        /// a key acts on what the user chose, not on what slid under the cursor.
        subject: Option<super::monitor::Subject>,
    },
    Input {
        purpose: InputPurpose,
        text: String,
    },
    Message {
        title: String,
        text: String,
    },
    /// Format, scope and destination of an export (`Ctrl-E`).
    Export(export_form::ExportForm),
    /// The export's file exists: replace it?
    ConfirmOverwrite(export_form::ExportForm),
    /// `Ctrl-E` while an export runs: cancel it?
    ConfirmCancelExport,
    /// Run history (`F8`).
    History(pickers::HistoryPicker),
    /// Saved snippets (`Ctrl-P`).
    Snippets(pickers::SnippetPicker),
    /// `Ctrl-S`: the name to save the tab's text (or selection) under.
    SaveSnippet {
        name: String,
        body: String,
    },
    /// A snippet of that name exists: replace it?
    ConfirmOverwriteSnippet {
        name: String,
        body: String,
    },
}

impl Popup {
    /// The keymap layer its keys are looked up in (`None`: a form that reads keys itself).
    pub fn key_context(&self) -> Option<KeyContext> {
        match self {
            Popup::Help { .. } | Popup::Message { .. } | Popup::Inspector(_) => {
                Some(KeyContext::Scroll)
            }
            Popup::ConfirmCloseTab
            | Popup::ConfirmQuit(_)
            | Popup::ConfirmTransactions { .. }
            | Popup::ConfirmOverwrite(_)
            | Popup::ConfirmCancelExport
            | Popup::ConfirmOverwriteSnippet { .. } => Some(KeyContext::Confirm),
            Popup::Input { .. } | Popup::Password { .. } | Popup::SaveSnippet { .. } => {
                Some(KeyContext::Input)
            }
            Popup::ConnectionPicker { .. } | Popup::SparkDetails { .. } => Some(KeyContext::List),
            Popup::History(_) | Popup::Snippets(_) => Some(KeyContext::Picker),
            Popup::Monitor { .. } => Some(KeyContext::Monitor),
            Popup::Params(_) | Popup::Export(_) | Popup::SparkStart(_) => Some(KeyContext::Form),
        }
    }
}

/// A key while a popup is open: the popup's handler decides what stays open.
pub(crate) fn on_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(popup) = state.popup.take() else {
        return;
    };
    let action = popup
        .key_context()
        .and_then(|ctx| state.keymap.action(ctx, &key));
    let popup = match popup {
        Popup::Help { scroll } => scroll::help(state, scroll, action),
        Popup::Message { title, text } => scroll::message(title, text, action),
        Popup::Inspector(ins) => scroll::inspector(state, ins, action, fx),
        Popup::ConfirmQuit(form) => forms::quit(state, form, action, fx),
        Popup::SparkStart(form) => forms::spark_start(state, form, &key, action, fx),
        Popup::Params(form) => forms::params(state, form, &key, action, fx),
        Popup::Export(form) => forms::export(state, form, &key, action, fx),
        Popup::ConfirmOverwrite(form) => confirm::overwrite_file(state, form, action, fx),
        Popup::ConfirmCancelExport => confirm::cancel_export(state, action, fx),
        Popup::ConfirmCloseTab => confirm::closing_tab(state, action, fx),
        Popup::ConfirmTransactions { tabs, then } => {
            transactions::on_key(state, tabs, then, action, fx)
        }
        Popup::SparkDetails {
            id,
            lines,
            selected,
        } => lists::spark_details(state, id, lines, selected, action, fx),
        Popup::ConnectionPicker { selected } => lists::connection(state, selected, action, fx),
        Popup::Monitor { selected, subject } => {
            monitor::on_key(state, selected, subject, action, fx)
        }
        Popup::History(picker) => history::on_key(state, picker, &key, action, fx),
        Popup::Snippets(picker) => snippets::on_key(state, picker, &key, action, fx),
        Popup::SaveSnippet { name, body } => snippets::save(state, name, body, &key, action, fx),
        Popup::ConfirmOverwriteSnippet { name, body } => {
            snippets::overwrite(state, name, body, action, fx)
        }
        Popup::Input { purpose, text } => input::on_key(state, purpose, text, &key, action, fx),
        Popup::Password {
            connection,
            text,
            rerun,
        } => input::password(state, connection, text, rerun, &key, action, fx),
    };
    // A handler may have opened another popup (e.g. a message); keep that one.
    if state.popup.is_none() {
        state.popup = popup;
    }
}
