//! Popups drawn over the panes: help (from the live keymap), cell inspector, confirmations,
//! connection picker, one-line inputs and messages.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::popup_frame::{centered, show};
use super::{sessions, theme};
use crate::app::export_form::ExportForm;
use crate::app::{InputPurpose, Popup, State};
use crate::model::action::Action;
use crate::model::keys::KeyContext;
use crate::results::{sanitize_line, sanitize_multiline};

pub fn draw(frame: &mut Frame, state: &State) {
    let Some(popup) = &state.popup else {
        return;
    };
    let screen = frame.area();
    match popup {
        Popup::Help { scroll } => {
            let area = centered(screen, 116, screen.height.saturating_sub(4));
            let lines = help_lines(state);
            show(
                frame,
                area,
                " Help — Esc closes, ↑/↓ scroll ",
                lines,
                *scroll,
                Style::new(),
            );
        }
        Popup::Inspector(ins) => super::inspector::draw(frame, screen, ins),
        Popup::ConfirmQuit(form) => sessions::quit_dialog(frame, screen, form),
        Popup::Params(form) => {
            let width = 76u16.min(screen.width.saturating_sub(4));
            let label_width = form
                .fields
                .iter()
                .map(|f| unicode_width::UnicodeWidthStr::width(f.label.as_str()))
                .max()
                .unwrap_or(0)
                .min(width as usize / 2);
            let mut lines: Vec<Line> = form
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let label = sanitize_line(&f.label);
                    let pad = label_width
                        .saturating_sub(unicode_width::UnicodeWidthStr::width(label.as_ref()));
                    let mut spans = vec![
                        Span::styled(format!("{}{label} ", " ".repeat(pad)), theme::dim()),
                        Span::raw(sanitize_line(&f.value).into_owned()),
                    ];
                    if i == form.focus {
                        spans.push(Span::styled(
                            "█",
                            Style::new().add_modifier(Modifier::SLOW_BLINK),
                        ));
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
        Popup::ConfirmTransactions { tabs, then } => {
            let n = tabs.len();
            let mut lines = vec![Line::raw(if n == 1 {
                "This transaction is still open:".to_string()
            } else {
                format!("{n} transactions are still open:")
            })];
            for (_, title, failed) in tabs {
                let state = if *failed {
                    "failed (a statement in it failed: it can only be rolled back)"
                } else {
                    "open"
                };
                lines.push(Line::raw(format!("  {} — {state}", sanitize_line(title))));
            }
            let doing = match then {
                crate::app::AfterTransactions::Quit => " and quit",
                crate::app::AfterTransactions::CloseTab(_) => " and close the tab",
                crate::app::AfterTransactions::Stay => "",
            };
            let keys = if tabs.iter().any(|t| t.2) {
                format!("[r] roll back{doing}   [Esc] keep working")
            } else {
                format!("[c] commit{doing}   [r] roll back{doing}   [Esc] keep working")
            };
            lines.push(Line::styled(keys, theme::dim()));
            let area = centered(screen, 80, lines.len() as u16 + 3);
            show(
                frame,
                area,
                " Open transaction ",
                lines,
                0,
                theme::running(),
            );
        }
        Popup::Password {
            connection, text, ..
        } => {
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
        Popup::Monitor { selected, subject } => {
            sessions::monitor_list(frame, screen, state, *selected, *subject)
        }
        Popup::SparkStart(form) => sessions::spark_start(frame, screen, form),
        Popup::SparkDetails {
            id,
            lines,
            selected,
            ..
        } => sessions::spark_details(frame, screen, id, lines.as_deref(), *selected),
        Popup::ConfirmCloseTab => {
            let area = centered(screen, 60, 5);
            let lines = vec![
                Line::raw("Close this tab? Its text is not saved as a snippet."),
                Line::styled("[y] close    [n] keep", theme::dim()),
            ];
            show(frame, area, " Close tab ", lines, 0, Style::new());
        }
        Popup::ConnectionPicker { selected } => {
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
                    if i == *selected {
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
        Popup::Input { purpose, text } => {
            let area = centered(screen, 70, 3);
            let label = match purpose {
                InputPurpose::GridFilter => " Filter rows (substring, any column; empty clears) ",
                InputPurpose::BrowserFilter => " Filter the tree ",
                InputPurpose::RunLimit => {
                    " Items per run before pausing (empty: the connection's) "
                }
            };
            let line = Line::from(vec![
                Span::raw(sanitize_line(text).into_owned()),
                Span::styled("█", Style::new().add_modifier(Modifier::SLOW_BLINK)),
            ]);
            show(frame, area, label, vec![line], 0, Style::new());
        }
        Popup::Export(form) => export_dialog(frame, screen, form),
        Popup::History(picker) => history_list(frame, screen, picker),
        Popup::Snippets(picker) => snippet_list(frame, screen, picker),
        Popup::SaveSnippet { name, .. } => {
            let area = centered(screen, 70, 3);
            let line = Line::from(vec![
                Span::raw(sanitize_line(name).into_owned()),
                Span::styled("█", Style::new().add_modifier(Modifier::SLOW_BLINK)),
            ]);
            show(
                frame,
                area,
                " Save as snippet — name (a / makes a folder), Enter saves ",
                vec![line],
                0,
                Style::new(),
            );
        }
        Popup::ConfirmOverwriteSnippet { name, .. } => {
            let lines = vec![
                Line::raw(format!("A snippet `{}` exists.", sanitize_line(name))),
                Line::styled("[y] replace it   [n] choose another name", theme::dim()),
            ];
            let area = centered(screen, 70, 4);
            show(frame, area, " Save snippet ", lines, 0, theme::running());
        }
        Popup::ConfirmOverwrite(form) => {
            let lines = vec![
                Line::raw(format!(
                    "{} already exists.",
                    sanitize_line(form.path.trim())
                )),
                Line::raw("Replace it? (the new file replaces it only once it is complete)"),
                Line::styled("[y] replace   [n] choose another name", theme::dim()),
            ];
            let area = centered(screen, 80, 5);
            show(frame, area, " Export ", lines, 0, theme::running());
        }
        Popup::ConfirmCancelExport => {
            let (rows, path) = state
                .export
                .as_ref()
                .map(|e| (e.rows, e.form.path.clone()))
                .unwrap_or_default();
            let lines = vec![
                Line::raw(format!(
                    "An export to {} is running ({rows} rows so far).",
                    sanitize_line(path.trim())
                )),
                Line::raw("Cancel it? Nothing is left behind."),
                Line::styled("[y] cancel the export   [n] let it run", theme::dim()),
            ];
            let area = centered(screen, 80, 5);
            show(frame, area, " Export ", lines, 0, theme::running());
        }
        Popup::Message { title, text } => {
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
    }
}

/// A searchable list: the query line, then the items around the selection.
fn picker_lines(
    query: &str,
    items: Vec<Line<'static>>,
    selected: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(vec![
        Span::styled("› ", theme::dim()),
        Span::raw(sanitize_line(query).into_owned()),
        Span::styled("█", Style::new().add_modifier(Modifier::SLOW_BLINK)),
    ])];
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

fn history_list(frame: &mut Frame, screen: Rect, picker: &crate::app::pickers::HistoryPicker) {
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

fn snippet_list(frame: &mut Frame, screen: Rect, picker: &crate::app::pickers::SnippetPicker) {
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
        frame.render_widget(Paragraph::new(preview), right);
    }
}

/// The export dialog: one line per field, the focused one marked, choices shown as a row.
fn export_dialog(frame: &mut Frame, screen: Rect, form: &ExportForm) {
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
            spans.push(Span::styled(
                "█",
                Style::new().add_modifier(Modifier::SLOW_BLINK),
            ));
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

fn help_lines(state: &State) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::styled(
            "Quarry keys (from the live keymap; remap them in the config's [keys.*])",
            theme::title(true),
        ),
        Line::raw(""),
    ];
    // One line per action and context, with all its keys: "Ctrl-J / Ctrl-Enter / F5".
    let mut entries: Vec<(KeyContext, Action, Vec<String>)> = Vec::new();
    for (ctx, key, action) in state.keymap.all() {
        match entries.last_mut() {
            Some((c, a, keys)) if *c == ctx && *a == action => keys.push(key.to_string()),
            _ => entries.push((ctx, action, vec![key.to_string()])),
        }
    }
    let mut last = None;
    for (ctx, action, keys) in entries {
        if last != Some(ctx) {
            let name = ctx.title();
            if last.is_some() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(
                name,
                Style::new().add_modifier(Modifier::BOLD),
            ));
            last = Some(ctx);
        }
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:<26}", keys.join(" / ")),
                Style::new().fg(theme::ACCENT),
            ),
            Span::raw(action.describe()),
            Span::styled(format!("  ({})", action.name()), theme::dim()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Notes",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for note in [
        "Browser: Enter on a table inserts SELECT * … LIMIT 100 into the editor; r runs it at once.",
        "Editor: standard editing keys (Shift-arrows select, Ctrl-Z undo); Ctrl-C copies when no job runs.",
        "Grid: s cycles sort asc → desc → off; / filters rows (one view at a time).",
        "Export: Ctrl-E asks for a file; the extension picks the format (CSV by default).",
    ] {
        lines.push(Line::raw(format!("  {note}")));
    }
    lines
}
