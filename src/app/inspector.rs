//! The cell inspector popup (`Enter` on a grid cell). A value can be megabytes long or nested
//! thousands deep, so its layout is asked of the worker ([`WorkerCmd::Inspect`]) and the popup
//! says "formatting…" until it comes back; the laid-out lines are kept here and scrolled both
//! ways (`$` reaches the end of the longest line), so a frame draws only what is visible.

use std::sync::Arc;

use ratatui::layout::Rect;

use super::{Effect, Popup, State};
use crate::model::action::Action;
use crate::protocol::WorkerCmd;
use crate::results::InspectText;

/// Columns one `←`/`→` moves.
const SIDE_STEP: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct Inspector {
    /// Column name, type and row (sanitised).
    pub title: String,
    /// The layout asked of the worker: an answer for another request is stale.
    pub request: u64,
    pub body: Body,
    /// First line shown.
    pub top: usize,
    /// First column shown.
    pub left: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Waiting for the worker's layout.
    Formatting,
    Ready(Arc<InspectText>),
    Failed(String),
}

/// Where the popup is drawn on a `screen`-sized terminal (the UI draws it there; keys page by
/// its size).
pub fn area(screen: Rect) -> Rect {
    let w = screen.width.saturating_sub(10);
    let h = screen.height.saturating_sub(6).max(3.min(screen.height));
    Rect::new(
        screen.x + (screen.width - w) / 2,
        screen.y + (screen.height - h) / 2,
        w,
        h,
    )
}

/// Lines and columns of text the popup shows inside its border.
pub fn view_size(screen: Rect) -> (usize, usize) {
    let a = area(screen);
    (
        usize::from(a.height.saturating_sub(2)).max(1),
        usize::from(a.width.saturating_sub(2)).max(1),
    )
}

/// Opens the inspector on the active result's current cell and asks the worker for its layout.
pub fn open(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(r) = state.tab().active_result() else {
        return;
    };
    let Some(rs) = &r.rows else {
        return;
    };
    if r.visible_rows() == 0 || r.num_columns() == 0 {
        return;
    }
    let (row, col) = (r.grid.row, r.grid.col);
    let field = rs.schema().field(col);
    let title = format!(
        "{} ({}) · row {}",
        crate::results::sanitize_line(field.name()),
        field.data_type(),
        row + 1
    );
    // Athena's array/map/row text is read back as JSON (best effort).
    let trino_text = field
        .metadata()
        .get(crate::model::metadata::ATHENA_TYPE)
        .is_some_and(|t| t.starts_with("array") || t.starts_with("map") || t.starts_with("row"));
    let (rows, data_row) = (Arc::clone(rs), r.data_row(row));
    let request = state.next_id();
    fx.push(Effect::Worker(WorkerCmd::Inspect {
        request,
        rows,
        row: data_row,
        col,
        trino_text,
    }));
    state.popup = Some(Popup::Inspector(Inspector {
        title,
        request,
        body: Body::Formatting,
        top: 0,
        left: 0,
    }));
}

/// The worker's layout: shown if the popup still waits for that request, else dropped.
pub fn on_layout(state: &mut State, request: u64, outcome: Result<Arc<InspectText>, String>) {
    if let Some(Popup::Inspector(ins)) = &mut state.popup
        && ins.request == request
    {
        ins.body = match outcome {
            Ok(text) => Body::Ready(text),
            Err(e) => Body::Failed(e),
        };
    }
}

impl Inspector {
    /// A key while open, as the `scroll` layer names it (closing is handled by the caller):
    /// scrolls, or `copy-value` copies the text. `screen` is the terminal's size.
    pub fn on_key(&mut self, action: Option<Action>, screen: Rect, fx: &mut Vec<Effect>) {
        let Body::Ready(text) = &self.body else {
            return;
        };
        let (rows, cols) = view_size(screen);
        let last_top = text.line_count().saturating_sub(rows);
        let last_left = text.widest().saturating_sub(cols);
        let page = rows.saturating_sub(1).max(1);
        let (top, left) = (self.top, self.left);
        (self.top, self.left) = match action {
            Some(Action::Up) => (top.saturating_sub(1), left),
            Some(Action::Down) => (top + 1, left),
            Some(Action::PageUp) => (top.saturating_sub(page), left),
            Some(Action::PageDown) => (top + page, left),
            Some(Action::Top) => (0, 0),
            Some(Action::Bottom) => (last_top, left),
            Some(Action::Left) => (top, left.saturating_sub(SIDE_STEP)),
            Some(Action::Right) => (top, left + SIDE_STEP),
            Some(Action::FirstColumn) => (top, 0),
            Some(Action::LastColumn) => (top, last_left),
            Some(Action::CopyValue) => {
                fx.push(Effect::CopyToClipboard(text.to_text()));
                (top, left)
            }
            _ => (top, left),
        };
        self.top = self.top.min(last_top);
        self.left = self.left.min(last_left);
    }
}
