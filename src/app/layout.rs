//! Where each pane goes. Shared by `update` (page sizes, keeping the cursor visible) and `ui`.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Panes {
    pub browser: Rect,
    pub editor: Rect,
    pub results: Rect,
    pub status: Rect,
}

/// Splits the screen: browser on the left, editor above results on the right, a status line.
pub fn panes(area: Rect) -> Panes {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(3), Constraint::Length(1)])
        .split(area);
    let browser_width = (area.width / 5).clamp(18, 36).min(area.width / 2);
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Length(browser_width), Constraint::Min(10)])
        .split(rows[0]);
    let right = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Percentage(40), Constraint::Percentage(60)])
        .split(cols[1]);
    Panes {
        browser: cols[0],
        editor: right[0],
        results: right[1],
        status: rows[1],
    }
}

/// Rows of data the grid shows in the results pane (borders, tab line and header excluded).
pub fn grid_rows(results: Rect) -> usize {
    results.height.saturating_sub(4) as usize
}

/// Columns available to the grid's cells (borders excluded).
pub fn grid_width(results: Rect) -> usize {
    results.width.saturating_sub(2) as usize
}

/// Text lines the editor shows (borders excluded).
pub fn editor_rows(editor: Rect) -> usize {
    editor.height.saturating_sub(2) as usize
}

/// Rows the browser tree shows (borders and filter line excluded).
pub fn browser_rows(browser: Rect) -> usize {
    browser.height.saturating_sub(2) as usize
}
