//! Colours and styles in one place. Colour carries meaning: red for errors, yellow for running,
//! green for success, a dim grey for NULL and metadata.

use ratatui::style::{Color, Modifier, Style};

pub const ACCENT: Color = Color::Cyan;

pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(ACCENT)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

pub fn title(focused: bool) -> Style {
    let s = Style::new().add_modifier(Modifier::BOLD);
    if focused { s.fg(ACCENT) } else { s }
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn null() -> Style {
    Style::new()
        .fg(Color::DarkGray)
        .add_modifier(Modifier::ITALIC)
}

pub fn error() -> Style {
    Style::new().fg(Color::Red)
}

pub fn running() -> Style {
    Style::new().fg(Color::Yellow)
}

pub fn success() -> Style {
    Style::new().fg(Color::Green)
}

pub fn header() -> Style {
    Style::new().add_modifier(Modifier::BOLD).fg(Color::White)
}

pub fn selected_cell() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub fn selected_row() -> Style {
    Style::new().bg(Color::Indexed(236))
}

pub fn selection() -> Style {
    Style::new().bg(Color::Indexed(238))
}

pub fn gutter() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn spinner(frame: usize) -> &'static str {
    SPINNER[frame % SPINNER.len()]
}
