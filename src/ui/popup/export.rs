//! The export form: format, scope and destination as rows of choices, then the path.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::super::popup_frame::{centered, show};
use super::super::theme;
use super::text_field::cursor;
use crate::app::export_form::ExportForm;
use crate::results::sanitize_line;

/// The export dialog: one line per field, the focused one marked, choices shown as a row.
pub(super) fn export_dialog(frame: &mut Frame, screen: Rect, form: &ExportForm) {
    use crate::app::export_form::{Destination, FORMATS, Field, Scope};
    let choice_line = |label: &str, field: Field, items: Vec<(String, bool)>| {
        let focused = form.focus == field;
        let mut spans = vec![Span::styled(
            format!("{} {label:<12}", if focused { "▸" } else { " " }),
            if focused {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                theme::dim()
            },
        )];
        for (text, on) in items {
            let style = if on {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            spans.push(Span::styled(format!(" {text} "), style));
            spans.push(Span::raw(" "));
        }
        Line::from(spans)
    };
    let formats = FORMATS
        .iter()
        .map(|f| (f.name().to_string(), *f == form.format))
        .collect();
    let scopes = Scope::ALL
        .iter()
        .filter(|s| **s != Scope::Selection || form.has_selection)
        .map(|s| (s.label().to_string(), *s == form.scope))
        .collect();
    let destinations = vec![
        ("file".to_string(), form.destination == Destination::File),
        (
            "clipboard".to_string(),
            form.destination == Destination::Clipboard,
        ),
    ];
    let mut lines = vec![
        choice_line("format", Field::Format, formats),
        choice_line("scope", Field::Scope, scopes),
        choice_line("destination", Field::Destination, destinations),
    ];
    if form.destination == Destination::File {
        let focused = form.focus == Field::Path;
        let mut spans = vec![
            Span::styled(
                format!("{} {:<12} ", if focused { "▸" } else { " " }, "path"),
                if focused {
                    Style::new().add_modifier(Modifier::BOLD)
                } else {
                    theme::dim()
                },
            ),
            Span::raw(sanitize_line(&form.path).into_owned()),
        ];
        if focused {
            spans.push(cursor());
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "↑/↓ field · ←/→ choose · Tab completes the path · Enter exports · Esc closes",
        theme::dim(),
    ));
    let area = centered(screen, 100, lines.len() as u16 + 2);
    show(frame, area, " Export ", lines, 0, Style::new());
}
