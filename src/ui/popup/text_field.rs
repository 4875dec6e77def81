//! How a text being typed looks, wherever it is typed: the text, then a blinking block (the
//! cursor stays at the end, as the app's text field edits there).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::super::popup_frame::{centered, show};
use crate::results::sanitize_line;

/// The blinking block where the next character goes.
pub(super) fn cursor() -> Span<'static> {
    Span::styled("█", Style::new().add_modifier(Modifier::SLOW_BLINK))
}

/// A text being typed, control characters made visible, followed by the cursor.
pub(super) fn typed(text: &str) -> Vec<Span<'static>> {
    vec![Span::raw(sanitize_line(text).into_owned()), cursor()]
}

/// A one-line input popup: the text being typed under `title`.
pub(super) fn input_box(frame: &mut Frame, screen: Rect, title: &str, text: &str) {
    let area = centered(screen, 70, 3);
    show(
        frame,
        area,
        title,
        vec![Line::from(typed(text))],
        0,
        Style::new(),
    );
}
