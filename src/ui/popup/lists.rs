//! The connection picker: one line per connection, its kind and detail dimmed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::super::popup_frame::{centered, show};
use super::super::theme;
use crate::app::State;
use crate::results::sanitize_line;

pub(super) fn connections(frame: &mut Frame, screen: Rect, state: &State, selected: usize) {
    let height = (state.connections.len() as u16 + 2).min(screen.height.saturating_sub(2));
    let area = centered(screen, 60, height);
    let lines = state
        .connections
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let line = Line::from(vec![
                Span::raw(format!(" {} ", sanitize_line(&c.name))),
                Span::styled(
                    format!("{} {}", c.kind, sanitize_line(&c.detail)),
                    theme::dim(),
                ),
            ]);
            if i == selected {
                line.style(theme::selected_cell())
            } else {
                line
            }
        })
        .collect();
    show(
        frame,
        area,
        " Connection for this tab — Enter picks ",
        lines,
        0,
        Style::new(),
    );
}
