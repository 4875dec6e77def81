//! The one-line inputs (filters, run limit, snippet name), the password prompt and messages.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;

use super::super::popup_frame::{centered, show};
use super::super::theme;
use super::text_field::input_box;
use crate::app::InputPurpose;
use crate::results::{sanitize_line, sanitize_multiline};

pub(super) fn input(frame: &mut Frame, screen: Rect, purpose: InputPurpose, text: &str) {
    let title = match purpose {
        InputPurpose::GridFilter => " Filter rows (substring, any column; empty clears) ",
        InputPurpose::BrowserFilter => " Filter the tree ",
        InputPurpose::RunLimit => " Items per run before pausing (empty: the connection's) ",
    };
    input_box(frame, screen, title, text);
}

pub(super) fn snippet_name(frame: &mut Frame, screen: Rect, name: &str) {
    input_box(
        frame,
        screen,
        " Save as snippet — name (a / makes a folder), Enter saves ",
        name,
    );
}

/// The password is never shown: one dot per character typed.
pub(super) fn password(frame: &mut Frame, screen: Rect, connection: &str, text: &str) {
    let area = centered(screen, 70, 6);
    let lines = vec![
        Line::raw(format!(
            "Password for `{}` (kept in memory until Quarry quits):",
            sanitize_line(connection)
        )),
        Line::raw(format!("> {}", "•".repeat(text.chars().count()))),
        Line::styled("[Enter] connect   [Esc] cancel", theme::dim()),
    ];
    show(frame, area, " Password ", lines, 0, Style::new());
}

pub(super) fn message(frame: &mut Frame, screen: Rect, title: &str, text: &str) {
    let area = centered(screen, 80, 8);
    let lines = sanitize_multiline(text)
        .lines()
        .map(|l| Line::raw(l.to_string()))
        .collect();
    show(
        frame,
        area,
        &format!(" {} ", sanitize_line(title)),
        lines,
        0,
        theme::error(),
    );
}
