//! Drawing only: `draw(frame, &State, &Ui)`, one module per pane. Nothing here changes the
//! application state, and only what is visible is drawn.

pub mod browser;
pub mod completion;
pub mod editor;
pub mod grid;
pub mod highlight;
mod inspector;
pub mod popup;
mod popup_frame;
mod sessions;
pub mod status;
pub mod svg;
pub mod theme;

#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use ratatui::Frame;

use crate::app::State;
use highlight::SqlHighlighter;

/// What drawing needs besides the state: resources too heavy to rebuild per frame.
#[derive(Default, Clone)]
pub struct Ui {
    /// Loading syntect's definitions takes tens of milliseconds: it happens on a background
    /// thread so the first frame is not delayed; until then the editor is drawn unhighlighted.
    pub highlighter: Arc<OnceLock<SqlHighlighter>>,
}

impl Ui {
    /// Starts loading the highlighter (with the configured theme) in the background.
    pub fn new(theme: Option<String>) -> Ui {
        let ui = Ui::default();
        let cell = ui.highlighter.clone();
        std::thread::spawn(move || {
            let _ = cell.set(SqlHighlighter::with_theme(theme.as_deref()));
        });
        ui
    }

    /// With the highlighter loaded before returning (tests, screenshots).
    pub fn loaded() -> Ui {
        let ui = Ui::default();
        let _ = ui.highlighter.set(SqlHighlighter::new());
        ui
    }
}

pub fn draw(frame: &mut Frame, state: &State, ui: &Ui) {
    let panes = crate::app::layout::panes(frame.area());
    browser::draw(frame, panes.browser, state);
    editor::draw(frame, panes.editor, state, ui);
    grid::draw(frame, panes.results, state);
    status::draw(frame, panes.status, state);
    completion::draw(frame, panes.editor, state);
    popup::draw(frame, state);
}
