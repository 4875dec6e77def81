//! The editor pane: tab line in the title, line numbers, highlighted visible lines, selection
//! and the terminal cursor.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use unicode_width::UnicodeWidthChar;

use super::{Ui, theme};
use crate::app::{Focus, State};
use crate::results::sanitize_line;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, ui: &Ui) {
    let focused = state.focus == Focus::Editor && state.popup.is_none();
    let block = Block::bordered()
        .border_style(theme::border(focused))
        .title(tab_titles(state, focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let tab = state.tab();
    let lines = tab.text.lines();
    let gutter = lines.len().to_string().len();
    let text_x = inner.x + gutter as u16 + 1;
    let text_width = inner.width.saturating_sub(gutter as u16 + 1) as usize;
    let rows = inner.height as usize;
    let first = tab.top.min(lines.len().saturating_sub(1));
    let count = rows.min(lines.len() - first);

    let styled: Vec<Vec<(Style, String)>> = match ui.highlighter.get() {
        Some(h) => h.highlight(lines, first, count),
        None => lines[first..first + count]
            .iter()
            .map(|l| vec![(Style::new(), sanitize_line(l).replace('→', " "))])
            .collect(),
    };
    let selection = tab.text.selection_range();
    let (cur_row, cur_col) = tab.cursor();
    let buf = frame.buffer_mut();
    for (i, spans) in styled.iter().enumerate() {
        let row = first + i;
        let y = inner.y + i as u16;
        let number = format!("{:>gutter$}", row + 1);
        let number_style = if row == cur_row {
            theme::title(false)
        } else {
            theme::gutter()
        };
        buf.set_stringn(inner.x, y, &number, gutter, number_style);
        // Walk the characters: skip the horizontally scrolled part, overlay the selection.
        let mut col = 0usize; // char index in the line
        let mut x = 0usize; // display column from the left edge of the text area
        for (style, text) in spans {
            for ch in text.chars() {
                let w = ch.width().unwrap_or(0);
                if col >= tab.left {
                    if x + w > text_width {
                        break;
                    }
                    let mut s = *style;
                    if in_selection(selection, row, col) {
                        s = s.patch(theme::selection());
                    }
                    if let Some(cell) = buf.cell_mut((text_x + x as u16, y)) {
                        cell.set_char(ch).set_style(s);
                    }
                    x += w;
                }
                col += 1;
            }
        }
    }
    if focused && cur_row >= first && cur_row < first + rows {
        let line = &lines[cur_row];
        let x: usize = line
            .chars()
            .skip(tab.left)
            .take(cur_col.saturating_sub(tab.left))
            .map(|c| if c == '\t' { 4 } else { c.width().unwrap_or(0) })
            .sum();
        if x <= text_width {
            frame.set_cursor_position(Position::new(
                text_x + x as u16,
                inner.y + (cur_row - first) as u16,
            ));
        }
    }
    if lines.len() == 1 && lines[0].is_empty() && !focused {
        return;
    }
    if lines.len() == 1 && lines[0].is_empty() {
        let hint = "type SQL here · Ctrl-J runs the statement under the cursor · F1 help";
        frame.buffer_mut().set_stringn(
            text_x + 1,
            inner.y,
            hint,
            text_width.saturating_sub(1),
            theme::dim(),
        );
    }
}

fn in_selection(sel: Option<((usize, usize), (usize, usize))>, row: usize, col: usize) -> bool {
    let Some((a, b)) = sel else {
        return false;
    };
    let (start, end) = if a <= b { (a, b) } else { (b, a) };
    (row, col) >= start && (row, col) < end
}

fn tab_titles(state: &State, focused: bool) -> Line<'static> {
    let mut spans = vec![Span::styled(" Editor ", theme::title(focused))];
    for (i, tab) in state.tabs.iter().enumerate() {
        let running = tab.results.iter().any(|r| r.state.is_active());
        let label = format!(
            "[{}:{}{}]",
            i + 1,
            sanitize_line(&tab.connection),
            if running { "*" } else { "" }
        );
        let style = if i == state.active_tab {
            theme::title(focused)
                .patch(Style::new().add_modifier(ratatui::style::Modifier::REVERSED))
        } else {
            theme::dim()
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}
