//! The completion list, drawn next to the editor's cursor: below it when there is room, else
//! above; each line the name, its kind and where it comes from (a column's type first). Only
//! the visible window of the list is drawn.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::popup_frame::clip;
use super::theme;
use crate::app::State;
use crate::model::completion::CompletionItem;

/// Lines of candidates shown at once.
const ROWS: usize = 10;
const NAME_WIDTH: usize = 32;
const DETAIL_WIDTH: usize = 28;

pub fn draw(frame: &mut Frame, editor: Rect, state: &State) {
    let Some(list) = &state.completion.list else {
        return;
    };
    if state.popup.is_some() || list.tab != state.tab().id {
        return;
    }
    let Some(cursor) = super::editor::cursor_cell(editor, state) else {
        return;
    };
    let area = placement(frame.area(), cursor, list.items.len().min(ROWS));
    let first = list.selected.saturating_sub(ROWS - 1);
    let lines: Vec<Line> = list
        .items
        .iter()
        .enumerate()
        .skip(first)
        .take(ROWS)
        .map(|(i, item)| item_line(item, i == list.selected))
        .collect();
    let title = format!(
        " {} of {} · Tab accepts · Esc ",
        list.selected + 1,
        list.items.len()
    );
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .title(title)
        .border_style(theme::border(true));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// Below the cursor's line when the list fits there, else above it; shifted left to stay on
/// screen.
fn placement(screen: Rect, cursor: Position, rows: usize) -> Rect {
    let width = (NAME_WIDTH + DETAIL_WIDTH + 12).min(screen.width as usize) as u16;
    let height = (rows as u16 + 2).min(screen.height);
    let below = cursor.y + 1;
    let y = if below + height <= screen.bottom() {
        below
    } else {
        cursor.y.saturating_sub(height)
    };
    let x = cursor.x.min(screen.right().saturating_sub(width));
    Rect::new(x, y, width, height)
}

fn item_line(item: &CompletionItem, selected: bool) -> Line<'static> {
    let detail = match &item.detail {
        Some(d) if !item.source.is_empty() => format!("{d} · {}", item.source),
        Some(d) => d.clone(),
        None => item.source.clone(),
    };
    let style = if selected {
        theme::selected_row()
    } else {
        Style::new()
    };
    Line::from(vec![
        Span::styled(
            format!("{:<NAME_WIDTH$} ", clip(&item.label, NAME_WIDTH)),
            style,
        ),
        Span::styled(
            format!("{:<8} ", item.kind.name()),
            style.patch(theme::dim()),
        ),
        Span::styled(clip(&detail, DETAIL_WIDTH), style.patch(theme::dim())),
    ])
}
