//! The cell inspector popup: the visible window of the laid-out text (see
//! [`crate::results::InspectText`]), so a frame costs the same for a 10-byte value and a 10 MB
//! one. The position shows in the bottom border when the text does not fit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear};

use super::theme;
use crate::app::inspector::{self, Body, Inspector};
use crate::results::{sanitize_line, settle_clusters};

/// Chars asked for per row, per column of width: room for zero-width marks.
const CHARS_PER_COLUMN: usize = 4;

pub fn draw(frame: &mut Frame, screen: Rect, ins: &Inspector) {
    let area = inspector::area(screen);
    frame.render_widget(Clear, area);
    let mut block = Block::bordered()
        .title(format!(
            " {} — y copies, Esc closes ",
            sanitize_line(&ins.title)
        ))
        .border_style(theme::border(true));
    let inner = block.inner(area);
    let (rows, cols) = (usize::from(inner.height), usize::from(inner.width));
    let text = match &ins.body {
        Body::Ready(text) => text,
        Body::Formatting => {
            frame.render_widget(block, area);
            put(frame, inner, 0, 0, "formatting…", theme::dim());
            return;
        }
        Body::Failed(e) => {
            frame.render_widget(block, area);
            put(frame, inner, 0, 0, &sanitize_line(e), theme::error());
            return;
        }
    };
    let top = ins.top.min(text.line_count().saturating_sub(rows));
    let left = ins.left.min(text.widest().saturating_sub(cols));
    if text.line_count() > rows || text.widest() > cols {
        let at = format!(
            " line {}/{} · col {}/{} · ←↑↓→ PgUp PgDn g G 0 $ ",
            top + 1,
            text.line_count(),
            left + 1,
            text.widest()
        );
        block = block.title_bottom(Line::styled(at, theme::dim()).right_aligned());
    }
    frame.render_widget(block, area);
    for (y, line) in (top..text.line_count()).take(rows).enumerate() {
        let (spaces, shown) = text.window(line, left, cols * CHARS_PER_COLUMN);
        let spaces = spaces.min(cols);
        put(
            frame,
            inner,
            y,
            spaces,
            &settle_clusters(shown),
            Style::new(),
        );
    }
}

/// Writes `s` on row `y` of `inner` from column `x`, cut at its right edge.
fn put(frame: &mut Frame, inner: Rect, y: usize, x: usize, s: &str, style: Style) {
    let (Ok(y), Ok(x)) = (u16::try_from(y), u16::try_from(x)) else {
        return;
    };
    if y >= inner.height || x >= inner.width {
        return;
    }
    let width = usize::from(inner.width - x);
    frame
        .buffer_mut()
        .set_stringn(inner.x + x, inner.y + y, s, width, style);
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::app::State;
    use crate::app::tests::inspector::{press, serve, with_values};
    use crate::ui::{Ui, draw};

    fn screen(s: &State) -> String {
        let mut t = Terminal::new(TestBackend::new(s.area.width, s.area.height)).unwrap();
        t.draw(|f| draw(f, s, &Ui::default())).unwrap();
        let buf = t.backend().buffer();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn formatting_shows_until_the_layout_arrives() {
        let mut s = with_values(vec!["{\"a\": 1}".into()]);
        let fx = press(&mut s, KeyCode::Enter);
        assert!(screen(&s).contains("formatting…"));
        serve(&mut s, &fx);
        let shown = screen(&s);
        assert!(shown.contains("\"a\": 1") && !shown.contains("formatting…"));
        // It all fits: no position in the border.
        assert!(!shown.contains("line 1/"), "{shown}");
    }

    #[test]
    fn a_10_mb_single_line_value_scrolls_to_its_end() {
        let mut value = "0123456789".repeat(1_000_000);
        value.push_str("THE-END");
        let mut s = with_values(vec![value]);
        let fx = press(&mut s, KeyCode::Enter);
        serve(&mut s, &fx);
        let start = screen(&s);
        assert!(start.contains("│0123456789012") && !start.contains("THE-END"));
        assert!(start.contains("line 1/1 · col 1/10000007 "), "{start}");
        press(&mut s, KeyCode::Char('$'));
        let end = screen(&s);
        assert!(end.contains("89THE-END│"), "{end}");
        // Eight columns back: the last eight chars ("9THE-END") are out of view.
        press(&mut s, KeyCode::Left);
        let back = screen(&s);
        assert!(back.contains("5678│") && !back.contains("THE"), "{back}");
        press(&mut s, KeyCode::Char('0'));
        assert_eq!(screen(&s), start);
    }
}
