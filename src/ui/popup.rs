//! Popups drawn over the panes: this file only routes each [`Popup`] to its draw function (one
//! per popup, in `popup/`; the jobs monitor, Spark and quit dialogs in `sessions`). The shared
//! pieces are drawn in one place each: the frame (`popup_frame`), the text being typed
//! (`popup/text_field.rs`) and the question box (`popup/confirm.rs`).

mod confirm;
mod export;
mod help;
mod inputs;
mod lists;
mod params;
mod pickers;
mod text_field;

use ratatui::Frame;

use super::sessions;
use crate::app::{Popup, State};

pub fn draw(frame: &mut Frame, state: &State) {
    let Some(popup) = &state.popup else {
        return;
    };
    let screen = frame.area();
    match popup {
        Popup::Help { scroll } => help::draw(frame, screen, state, *scroll),
        Popup::Inspector(ins) => super::inspector::draw(frame, screen, ins),
        Popup::ConfirmQuit(form) => sessions::quit_dialog(frame, screen, form),
        Popup::Params(form) => params::draw(frame, screen, form),
        Popup::ConfirmTransactions { tabs, then } => {
            confirm::transactions(frame, screen, tabs, *then)
        }
        Popup::Password {
            connection, text, ..
        } => inputs::password(frame, screen, connection, text),
        Popup::Monitor { selected, subject } => {
            sessions::monitor_list(frame, screen, state, *selected, *subject)
        }
        Popup::SparkStart(form) => sessions::spark_start(frame, screen, form),
        Popup::SparkDetails {
            id,
            lines,
            selected,
            ..
        } => sessions::spark_details(frame, screen, id, lines.as_deref(), *selected),
        Popup::ConfirmCloseTab => confirm::close_tab(frame, screen),
        Popup::ConnectionPicker { selected } => lists::connections(frame, screen, state, *selected),
        Popup::Input { purpose, text } => inputs::input(frame, screen, *purpose, text),
        Popup::Export(form) => export::export_dialog(frame, screen, form),
        Popup::History(picker) => pickers::history_list(frame, screen, picker),
        Popup::Snippets(picker) => pickers::snippet_list(frame, screen, picker),
        Popup::SaveSnippet { name, .. } => inputs::snippet_name(frame, screen, name),
        Popup::ConfirmOverwriteSnippet { name, .. } => {
            confirm::overwrite_snippet(frame, screen, name)
        }
        Popup::ConfirmOverwrite(form) => confirm::overwrite_file(frame, screen, form),
        Popup::ConfirmCancelExport => confirm::cancel_export(frame, screen, state),
        Popup::Message { title, text } => inputs::message(frame, screen, title, text),
    }
}
