//! The searchable lists: run history and snippets (the query line, the hits around the
//! selection; snippets show the chosen one's text beside the list).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::super::popup_frame::{centered, show};
use super::super::theme;
use super::text_field::typed;
use crate::app::pickers::{HistoryPicker, SnippetPicker};
use crate::results::{sanitize_line, sanitize_multiline};
use crate::store::snippets::Snippet;

/// A searchable list: the query line, then the items around the selection.
fn picker_lines(
    query: &str,
    items: Vec<Line<'static>>,
    selected: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let mut query_line = vec![Span::styled("› ", theme::dim())];
    query_line.extend(typed(query));
    let mut lines = vec![Line::from(query_line)];
    let room = height.saturating_sub(1).max(1);
    let first = selected.saturating_sub(room.saturating_sub(1));
    for (i, line) in items.into_iter().enumerate().skip(first).take(room) {
        lines.push(if i == selected {
            line.style(Style::new().add_modifier(Modifier::REVERSED))
        } else {
            line
        });
    }
    lines
}

/// Run history (`F8`).
pub(super) fn history_list(frame: &mut Frame, screen: Rect, picker: &HistoryPicker) {
    let area = centered(
        screen,
        screen.width.saturating_sub(8),
        screen.height.saturating_sub(6),
    );
    let height = area.height.saturating_sub(2) as usize;
    let title =
        " History — type to search (c:conn s:failed), Enter → editor, Ctrl-O reopens results, Esc ";
    let lines = match (&picker.entries, &picker.error) {
        (None, _) => vec![Line::styled("loading…", theme::dim())],
        (Some(_), Some(e)) => vec![Line::styled(sanitize_line(e).into_owned(), theme::error())],
        (Some(entries), None) => {
            let items = picker
                .hits
                .iter()
                .map(|&i| {
                    let e = &entries[i];
                    let when = crate::store::history::format_time(e.time);
                    let status = e.status.label();
                    let style = match e.status {
                        crate::store::history::Status::Failed => theme::error(),
                        _ => Style::new(),
                    };
                    Line::from(vec![
                        Span::styled(
                            format!("{} ", when.get(..19).unwrap_or(&when)),
                            theme::dim(),
                        ),
                        Span::raw(format!("{:<12} ", sanitize_line(&e.connection))),
                        Span::styled(format!("{status:<10} "), style),
                        Span::raw(sanitize_line(e.first_line()).into_owned()),
                    ])
                })
                .collect();
            picker_lines(&picker.query, items, picker.selected, height)
        }
    };
    show(frame, area, title, lines, 0, Style::new());
}

/// Saved snippets (`Ctrl-P`): the list on the left, the selected one's text on the right.
pub(super) fn snippet_list(frame: &mut Frame, screen: Rect, picker: &SnippetPicker) {
    let area = centered(
        screen,
        screen.width.saturating_sub(8),
        screen.height.saturating_sub(6),
    );
    let height = area.height.saturating_sub(2) as usize;
    let title = " Snippets — type to search, Enter inserts, Ctrl-O opens a tab, Ctrl-R runs, Esc ";
    let Some(snippets) = &picker.snippets else {
        show(
            frame,
            area,
            title,
            vec![Line::styled("loading…", theme::dim())],
            0,
            Style::new(),
        );
        return;
    };
    let hits = &picker.hits;
    // The list on the left, the selected snippet's text on the right.
    let list_width = area.width / 2;
    let items = hits
        .iter()
        .map(|&i| {
            let s = &snippets[i];
            let mut spans = vec![Span::raw(sanitize_line(&s.name).into_owned())];
            if !s.meta.tags.is_empty() {
                spans.push(Span::styled(
                    format!("  #{}", sanitize_line(&s.meta.tags.join(" #"))),
                    theme::dim(),
                ));
            }
            Line::from(spans)
        })
        .collect();
    let mut lines = picker_lines(&picker.query, items, picker.selected, height);
    if hits.is_empty() {
        lines.push(Line::styled(
            if snippets.is_empty() {
                "no snippets yet: Ctrl-S saves the tab as one"
            } else {
                "no match"
            },
            theme::dim(),
        ));
    }
    for e in &picker.errors {
        lines.push(Line::styled(sanitize_line(e).into_owned(), theme::error()));
    }
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .title(title.to_string())
        .border_style(theme::border(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let left = Rect::new(inner.x, inner.y, list_width.min(inner.width), inner.height);
    frame.render_widget(Paragraph::new(lines), left);
    if let Some(s) = hits.get(picker.selected).map(|&i| &snippets[i]) {
        let right = Rect::new(
            inner.x + left.width + 1,
            inner.y,
            inner.width.saturating_sub(left.width + 1),
            inner.height,
        );
        frame.render_widget(Paragraph::new(preview(s)), right);
    }
}

/// A snippet's description and connection (dimmed), then its text.
fn preview(s: &Snippet) -> Vec<Line<'static>> {
    let mut preview: Vec<Line> = Vec::new();
    if let Some(d) = &s.meta.description {
        preview.push(Line::styled(sanitize_line(d).into_owned(), theme::dim()));
    }
    if let Some(c) = &s.meta.connection {
        preview.push(Line::styled(
            format!("connection: {}", sanitize_line(c)),
            theme::dim(),
        ));
    }
    preview.extend(
        sanitize_multiline(&s.text)
            .lines()
            .map(|l| Line::raw(l.to_string())),
    );
    preview
}
