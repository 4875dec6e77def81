//! The results grid: moving the cursor, selecting, widening columns, copying, and the sorted or
//! filtered views (computed by the worker, off the UI loop).

use std::sync::Arc;

use super::editing::editor_size;
use super::export::start_export;
use super::export_form::{Destination, ExportForm, Scope};
use super::results::{ResultTab, View, ViewKind};
use super::run::load_more;
use super::{Effect, InputPurpose, Popup, State, layout};
use crate::export::Overwrite;
use crate::model::action::Action;
use crate::protocol::{ViewSpec, WorkerCmd};
use crate::results::SortOrder;

/// The grid's visible rows and width.
pub(super) fn grid_page(state: &State) -> (usize, usize) {
    let r = state.panes().results;
    (layout::grid_rows(r), layout::grid_width(r))
}

/// Keeps every cursor on screen after the terminal was resized.
pub(super) fn keep_visible(state: &mut State) {
    let (page, width) = grid_page(state);
    let (rows, cols) = editor_size(state);
    let browser_page = layout::browser_rows(state.panes().browser);
    for tab in &mut state.tabs {
        tab.scroll_to_cursor(rows, cols);
        for r in &mut tab.results {
            r.clamp_cursor(page, width);
        }
    }
    state.browser.clamp(browser_page);
}

/// An action while the results pane has the focus.
pub(super) fn grid_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::LoadMore => load_more(state, fx),
        Action::Inspect => super::inspector::open(state, fx),
        Action::CopyRow | Action::CopyCell => {
            if !copy_through_export(state, action, fx) {
                copy_cell(state, fx)
            }
        }
        Action::Sort => sort(state, fx),
        Action::Filter => ask_filter(state),
        _ => move_cursor(state, action),
    }
}

/// Copies of a row or a range go through the export (TSV with its header: it pastes into
/// a spreadsheet), off the UI loop whatever their size. False when the action is no such copy.
fn copy_through_export(state: &mut State, action: Action, fx: &mut Vec<Effect>) -> bool {
    let selecting = state
        .tab()
        .active_result()
        .is_some_and(|r| r.grid.anchor.is_some());
    let scope = match action {
        Action::CopyRow => Scope::Row,
        Action::CopyCell if selecting => Scope::Selection,
        _ => return false,
    };
    let Some(r) = state.tab_mut().active_result_mut() else {
        return true;
    };
    if r.num_columns() == 0 || r.visible_rows() == 0 {
        return true;
    }
    let mut form = ExportForm::new(r.id, selecting);
    form.format = crate::export::Format::Tsv;
    form.scope = scope;
    form.destination = Destination::Clipboard;
    if state.export.is_some() {
        state.flash("an export is running: copy when it is done", true);
        return true;
    }
    start_export(state, form, Overwrite::Replace, fx);
    if let Some(r) = state.tab_mut().active_result_mut() {
        r.grid.anchor = None;
    }
    true
}

/// Moves the cursor, selects, or widens the column; keeps the cursor on screen.
fn move_cursor(state: &mut State, action: Action) {
    let (page, width) = grid_page(state);
    let max_width = state.max_column_width;
    let Some(r) = state.tab_mut().active_result_mut() else {
        return;
    };
    let rows = r.visible_rows();
    let cols = r.num_columns();
    let g = &mut r.grid;
    match action {
        Action::Up => g.row = g.row.saturating_sub(1),
        Action::Down => g.row = (g.row + 1).min(rows.saturating_sub(1)),
        Action::Left => g.col = g.col.saturating_sub(1),
        Action::Right => g.col = (g.col + 1).min(cols.saturating_sub(1)),
        Action::PageUp => g.row = g.row.saturating_sub(page.max(1)),
        Action::PageDown => g.row = (g.row + page.max(1)).min(rows.saturating_sub(1)),
        Action::Top => g.row = 0,
        Action::Bottom => g.row = rows.saturating_sub(1),
        Action::FirstColumn => g.col = 0,
        Action::LastColumn => g.col = cols.saturating_sub(1),
        Action::SelectRange => {
            g.anchor = match g.anchor {
                Some(_) => None,
                None if rows > 0 && cols > 0 => Some((g.row, g.col)),
                None => None,
            };
        }
        Action::WidenColumn | Action::NarrowColumn => {
            if let Some(w) = g.widths.get_mut(g.col) {
                *w = if action == Action::WidenColumn {
                    (*w + 4).min(max_width.max(200))
                } else {
                    w.saturating_sub(4).max(3)
                };
            }
        }
        _ => return,
    }
    r.clamp_cursor(page, width);
}

/// Copies the cell under the cursor (OSC 52).
fn copy_cell(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(r) = state.tab_mut().active_result_mut() else {
        return;
    };
    let rows = r.visible_rows();
    let cols = r.num_columns();
    if let Some(rs) = &r.rows
        && rows > 0
        && cols > 0
    {
        let text = rs
            .cell_raw(r.data_row(r.grid.row), r.grid.col)
            .unwrap_or_default();
        fx.push(Effect::CopyToClipboard(text));
        state.flash("copied the cell to the clipboard (OSC 52)", false);
    }
}

/// Sorts by the cursor's column: ascending, then descending, then as loaded.
fn sort(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(r) = state.tab_mut().active_result_mut() else {
        return;
    };
    if r.num_columns() == 0 {
        return;
    }
    let column = r.grid.col;
    let next = match &r.view {
        Some(View {
            kind:
                ViewKind::Sort {
                    column: c,
                    order: SortOrder::Ascending,
                },
            ..
        }) if *c == column => Some(SortOrder::Descending),
        Some(View {
            kind:
                ViewKind::Sort {
                    column: c,
                    order: SortOrder::Descending,
                },
            ..
        }) if *c == column => None,
        _ => Some(SortOrder::Ascending),
    };
    match next {
        Some(order) => set_view(r, ViewKind::Sort { column, order }, fx),
        None => clear_view(r),
    }
}

/// Asks for the filter's text, starting from the one in force.
fn ask_filter(state: &mut State) {
    let Some(r) = state.tab().active_result() else {
        return;
    };
    let text = match &r.view {
        Some(View {
            kind: ViewKind::Filter { needle },
            ..
        }) => needle.clone(),
        _ => String::new(),
    };
    state.popup = Some(Popup::Input {
        purpose: InputPurpose::GridFilter,
        text,
    });
}

/// Sorts or filters the result: the worker computes the order, shown when it arrives.
pub(super) fn set_view(r: &mut ResultTab, kind: ViewKind, fx: &mut Vec<Effect>) {
    let Some(rows) = r.rows.clone() else {
        return;
    };
    r.view_generation += 1;
    let spec = match &kind {
        ViewKind::Sort { column, order } => ViewSpec::Sort {
            column: *column,
            order: *order,
        },
        ViewKind::Filter { needle } => ViewSpec::Filter {
            needle: needle.clone(),
        },
    };
    // Keep showing the old order until the new one is ready.
    let indices = r.view.as_ref().and_then(|v| v.indices.clone());
    r.view = Some(View {
        kind,
        indices,
        rows_seen: rows.num_rows(),
        error: None,
    });
    fx.push(Effect::Worker(WorkerCmd::ComputeView {
        result: r.id,
        generation: r.view_generation,
        rows,
        spec,
    }));
}

/// Back to the rows as loaded.
pub(super) fn clear_view(r: &mut ResultTab) {
    r.view_generation += 1;
    r.view = None;
    r.grid.row = r.grid.row.min(r.loaded_rows().saturating_sub(1));
}

/// The worker computed a view's order; ignored when the view changed since it was asked for.
pub(super) fn on_view_ready(
    state: &mut State,
    result: u64,
    generation: u64,
    outcome: Result<Vec<u32>, String>,
) {
    let (page, width) = grid_page(state);
    let Some(r) = state.any_result_mut(result) else {
        return;
    };
    if r.view_generation != generation {
        return;
    }
    if let Some(v) = &mut r.view {
        match outcome {
            Ok(ix) => {
                v.indices = Some(Arc::new(ix));
                v.error = None;
            }
            Err(e) => v.error = Some(e),
        }
    }
    r.clamp_cursor(page, width);
}
