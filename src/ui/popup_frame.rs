//! What every popup is drawn in: a cleared, bordered box centred on the screen, and the
//! clipping of one-line texts. `popup` and `sessions` both draw with these, so `sessions` no
//! longer imports `popup` (which dispatches to it).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::theme;
use crate::results::sanitize_line;

/// At most `n` characters of `text`, control characters made visible.
pub(super) fn clip(text: &str, n: usize) -> String {
    let clean = sanitize_line(text);
    if clean.chars().count() <= n {
        clean.into_owned()
    } else {
        let mut out: String = clean.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Draws `lines` in a cleared box titled `title` over `area`, scrolled down `scroll` lines.
pub(super) fn show(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line>,
    scroll: usize,
    style: Style,
) {
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .title(title.to_string())
        .border_style(theme::border(true));
    let scroll = scroll.min(lines.len().saturating_sub(1));
    let p = Paragraph::new(lines)
        .block(block)
        .style(style)
        .wrap(Wrap { trim: false })
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0));
    frame.render_widget(p, area);
}

/// A `width` × `height` area centred on `screen` (shrunk to fit it, at least 3 rows high).
pub(super) fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(screen.width);
    let h = height.min(screen.height).max(3.min(screen.height));
    Rect::new(
        screen.x + (screen.width - w) / 2,
        screen.y + (screen.height - h) / 2,
        w,
        h,
    )
}
