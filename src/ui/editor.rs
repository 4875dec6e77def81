//! The editor pane: tab line in the title, line numbers, highlighted visible lines, selection
//! and the terminal cursor.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use unicode_width::UnicodeWidthChar;

use super::highlight::char_window;
use super::{Ui, theme};
use crate::app::{Focus, State};
use crate::results::{is_terminal_unsafe, sanitize_line};

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

    // Only the visible columns are highlighted and walked: a line may be megabytes long.
    let (left, span) = (tab.left, text_width.saturating_mul(2).saturating_add(8));
    let styled = styled_window(ui, lines, first, count, left, span);
    let selection = tab.text.selection_range();
    let (cur_row, _) = tab.cursor();
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
        let text_area = Rect::new(text_x, y, text_width as u16, 1);
        paint_line(buf, text_area, spans, row, left, selection);
    }
    if focused && let Some(at) = cursor_cell(area, state) {
        frame.set_cursor_position(at);
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

/// Where the active tab's cursor is on screen in the editor pane `area`, when it is visible
/// (the completion list opens next to it).
pub(super) fn cursor_cell(area: Rect, state: &State) -> Option<Position> {
    let inner = Block::bordered().inner(area);
    let tab = state.tab();
    let lines = tab.text.lines();
    let gutter = lines.len().to_string().len();
    let text_width = inner.width.saturating_sub(gutter as u16 + 1) as usize;
    let first = tab.top.min(lines.len().saturating_sub(1));
    let (row, col) = tab.cursor();
    if row < first || row >= first + inner.height as usize {
        return None;
    }
    let x = cursor_x(&lines[row], tab.left, col);
    (x <= text_width).then(|| {
        Position::new(
            inner.x + gutter as u16 + 1 + x as u16,
            inner.y + (row - first) as u16,
        )
    })
}

/// The lines `first..first + count`, each from char `left` for `span` chars, highlighted (or
/// plain until the highlighter has loaded).
fn styled_window(
    ui: &Ui,
    lines: &[String],
    first: usize,
    count: usize,
    left: usize,
    span: usize,
) -> Vec<Vec<(Style, String)>> {
    match ui.highlighter.get() {
        Some(h) => h.highlight_window(lines, first, count, left, span),
        None => lines[first..first + count]
            .iter()
            .map(|l| {
                let shown = sanitize_line(char_window(l, left, span)).replace('→', " ");
                vec![(Style::new(), shown)]
            })
            .collect(),
    }
}

/// Paints one line's spans (starting at char `left` of line `row`) into `area`, cut at its
/// width, with the selection overlaid.
fn paint_line(
    buf: &mut Buffer,
    area: Rect,
    spans: &[(Style, String)],
    row: usize,
    left: usize,
    selection: Option<((usize, usize), (usize, usize))>,
) {
    let text_width = area.width as usize;
    let mut col = left; // char index in the line
    let mut x = 0usize; // display column from the left edge of the text area
    'line: for (style, text) in spans {
        for ch in text.chars() {
            let w = ch.width().unwrap_or(0);
            if x + w > text_width {
                break 'line;
            }
            let mut s = *style;
            if in_selection(selection, row, col) {
                s = s.patch(theme::selection());
            }
            if let Some(cell) = buf.cell_mut((area.x + x as u16, area.y)) {
                cell.set_char(ch).set_style(s);
            }
            x += w;
            col += 1;
        }
    }
}

/// Columns from the text area's left edge (the line shown from char `left`) to char `col`.
fn cursor_x(line: &str, left: usize, col: usize) -> usize {
    char_window(line, left, col.saturating_sub(left))
        .chars()
        .map(|c| match c {
            '\t' => 4,
            // Drawn as a one-column stand-in (see `highlight::sanitize_into`).
            c if is_terminal_unsafe(c) => 1,
            c => c.width().unwrap_or(0),
        })
        .sum()
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

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::app::tests::state;
    use crate::app::{Msg, update};
    use crate::results::is_terminal_unsafe;
    use crate::ui::{Ui, draw};

    #[test]
    fn separators_and_bidi_controls_are_drawn_inert_with_the_cursor_after_them() {
        let text = "SELECT 'a\u{202e}b\u{2066}c\u{2069}d\u{2028}e\u{2029}f\u{202a}g\u{200f}' -- x";
        for ui in [Ui::loaded(), Ui::default()] {
            let mut s = state();
            update(&mut s, Msg::Paste(text.into()));
            let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
            t.draw(|f| draw(f, &s, &ui)).unwrap();
            let buf = t.backend().buffer();
            let row: String = (0..buf.area.width)
                .map(|x| buf[(x, 1)].symbol().to_string())
                .collect();
            assert!(row.contains("'a�b�c�d�e�f�g�' -- x"), "{row:?}");
            for cell in buf.content() {
                assert!(!cell.symbol().chars().any(is_terminal_unsafe), "{row:?}");
            }
            // The cursor sits right after the text, one column per stand-in.
            let x = row.find("-- x").map(|b| row[..b].chars().count() + 4);
            assert_eq!(t.get_cursor_position().ok().map(|p| usize::from(p.x)), x);
        }
    }
}
