//! The values for a run's placeholders: one line per field (labels aligned), the syntax hint.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::super::popup_frame::{centered, show};
use super::super::theme;
use super::text_field::cursor;
use crate::app::params::ParamForm;
use crate::results::sanitize_line;

pub(super) fn draw(frame: &mut Frame, screen: Rect, form: &ParamForm) {
    let width = 76u16.min(screen.width.saturating_sub(4));
    let label_width = form
        .fields
        .iter()
        .map(|f| f.label.as_str().width())
        .max()
        .unwrap_or(0)
        .min(width as usize / 2);
    let mut lines: Vec<Line> = form
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let label = sanitize_line(&f.label);
            let pad = label_width.saturating_sub(label.as_ref().width());
            let mut spans = vec![
                Span::styled(format!("{}{label} ", " ".repeat(pad)), theme::dim()),
                Span::raw(sanitize_line(&f.value).into_owned()),
            ];
            if i == form.focus {
                spans.push(cursor());
            }
            Line::from(spans)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(form.syntax.hint(), theme::dim()));
    lines.push(Line::styled(
        "Tab next field · Enter run · Esc cancel",
        theme::dim(),
    ));
    let height = (lines.len() as u16 + 2).min(screen.height.saturating_sub(2));
    let area = centered(screen, width, height);
    let scroll = form.focus.saturating_sub(height.saturating_sub(5) as usize);
    show(
        frame,
        area,
        " Query parameters ",
        lines,
        scroll,
        Style::new(),
    );
}
