//! The popups about what runs or is held on the servers: the jobs and sessions monitor, the
//! quit dialog (what to stop), and the Spark session form and details.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::popup_frame::{centered, clip, show};
use super::theme;
use crate::app::State;
use crate::app::monitor::{Entry, Subject};
use crate::app::quit::QuitForm;
use crate::app::spark::{FIELDS, StartForm};
use crate::results::sanitize_line;

/// Width of the monitor's columns before the server id.
const FIXED: usize = 10 + 1 + 9 + 1 + 9 + 2 + 20 + 1 + 24 + 1 + 16 + 1;

fn header(id_width: usize) -> Line<'static> {
    Line::styled(
        format!(
            "{:<10} {:>9} {:>9}  {:<20} {:<24} {:<16} {}",
            "state",
            "elapsed",
            "rows",
            "connection · tab",
            "statement",
            "figures",
            clip("server id", id_width)
        ),
        theme::header(),
    )
}

/// One monitor line, without wrapping (the selection stays where it is drawn).
fn entry_line(e: &Entry, id_width: usize) -> Line<'static> {
    let state_style = match e.state.as_str() {
        "FAILED" | "DEGRADED" => theme::error(),
        _ if e.active => theme::running(),
        _ => theme::dim(),
    };
    let elapsed = e
        .elapsed
        .map(crate::model::format::format_elapsed)
        .unwrap_or_default();
    let place = format!("{} · {}", e.connection, e.tab_title);
    let rows = match e.subject {
        Subject::Job { .. } | Subject::Past { .. } => e.rows.to_string(),
        _ => String::new(),
    };
    Line::from(vec![
        Span::styled(format!("{:<10} ", clip(&e.state, 10)), state_style),
        Span::raw(format!("{elapsed:>9} {rows:>9}  ")),
        Span::raw(format!("{:<20} ", clip(&place, 20))),
        Span::raw(format!("{:<24} ", clip(&e.what, 24))),
        Span::styled(format!("{:<16} ", clip(&e.figures, 16)), theme::dim()),
        Span::styled(
            clip(e.server_id.as_deref().unwrap_or(""), id_width),
            theme::dim(),
        ),
    ])
}

fn selected(line: Line<'static>, yes: bool) -> Line<'static> {
    if yes {
        line.style(Style::new().add_modifier(Modifier::REVERSED))
    } else {
        line
    }
}

pub fn monitor_list(
    frame: &mut Frame,
    screen: Rect,
    state: &State,
    selection: usize,
    subject: Option<Subject>,
) {
    let area = centered(
        screen,
        screen.width.saturating_sub(6),
        screen.height.saturating_sub(6),
    );
    let room = (area.height.saturating_sub(3) as usize).max(1);
    let entries = crate::app::monitor::entries(state);
    let selection = crate::app::monitor::selected_index(&entries, selection, subject);
    let title = " Jobs and sessions — c cancel/end · Enter show · y copy id · r run again · Esc ";
    let id_width = (area.width.saturating_sub(2) as usize).saturating_sub(FIXED);
    let mut lines = vec![header(id_width)];
    if entries.is_empty() {
        lines.push(Line::styled("no jobs or sessions yet", theme::dim()));
    }
    let first = selection.saturating_sub(room.saturating_sub(1));
    for (i, e) in entries.iter().enumerate().skip(first).take(room) {
        lines.push(selected(entry_line(e, id_width), i == selection));
    }
    show(frame, area, title, lines, 0, Style::new());
}

pub fn quit_dialog(frame: &mut Frame, screen: Rect, form: &QuitForm) {
    let width = screen.width.saturating_sub(6);
    let id_width = (width.saturating_sub(2) as usize).saturating_sub(FIXED + 4);
    let mut lines = Vec::new();
    if form.items.is_empty() {
        lines.push(Line::raw(format!(
            "{} run(s) still going here; they end with Quarry.",
            form.local
        )));
    } else {
        lines.push(Line::raw(
            "Still running or held on the servers (ticked ones are stopped there; the others keep running, and billing):",
        ));
        let mut head = header(id_width);
        head.spans.insert(0, Span::raw("    "));
        lines.push(head);
        for (i, item) in form.items.iter().enumerate() {
            let mut line = entry_line(&item.entry, id_width);
            let mark = if item.stop { "[x] " } else { "[ ] " };
            line.spans.insert(0, Span::raw(mark));
            lines.push(selected(line, i == form.selected));
        }
        if form.local > 0 {
            lines.push(Line::styled(
                format!("and {} run(s) here that end with Quarry", form.local),
                theme::dim(),
            ));
        }
    }
    lines.push(Line::raw(""));
    let keys = if form.items.is_empty() {
        "[y] cancel them and quit   [n] keep working"
    } else {
        "Enter quit, stopping the ticked · Space tick · a all/none · l leave all running, quit · Esc stay"
    };
    lines.push(Line::styled(keys, theme::dim()));
    let height = (lines.len() as u16 + 2).min(screen.height.saturating_sub(2));
    let area = centered(screen, width, height);
    let scroll = (form.selected + 2).saturating_sub(height.saturating_sub(4) as usize);
    show(frame, area, " Quit ", lines, scroll, theme::running());
}

pub fn spark_start(frame: &mut Frame, screen: Rect, form: &StartForm) {
    let mut lines = vec![Line::raw(format!(
        "Start a Spark session in workgroup {} ({}){}",
        sanitize_line(&form.workgroup),
        sanitize_line(&form.connection),
        if form.loading {
            " — reading its defaults…"
        } else {
            ""
        }
    ))];
    lines.push(Line::raw(""));
    for (i, label) in FIELDS.iter().enumerate() {
        let mut spans = vec![
            Span::styled(format!("{label:>24} "), theme::dim()),
            Span::raw(sanitize_line(&form.values[i]).into_owned()),
        ];
        if i == form.focus {
            spans.push(Span::styled(
                "█",
                Style::new().add_modifier(Modifier::SLOW_BLINK),
            ));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    if let Some(e) = &form.error {
        lines.push(Line::styled(sanitize_line(e).into_owned(), theme::error()));
    }
    lines.push(Line::styled(
        "The session bills per DPU-hour from start until it is terminated or idles out.",
        theme::dim(),
    ));
    lines.push(Line::styled(
        "↑/↓ field · Enter start · Esc cancel",
        theme::dim(),
    ));
    let area = centered(screen, 86, lines.len() as u16 + 2);
    show(frame, area, " Spark session ", lines, 0, Style::new());
}

pub fn spark_details(
    frame: &mut Frame,
    screen: Rect,
    id: &str,
    lines: Option<&[(String, String)]>,
    selection: usize,
) {
    let area = centered(
        screen,
        screen.width.saturating_sub(8),
        screen.height.saturating_sub(6),
    );
    let title = format!(
        " Spark session {} — y copies the line's value, Esc ",
        sanitize_line(id)
    );
    let Some(list) = lines else {
        let body = vec![Line::styled("asking the service…", theme::dim())];
        show(frame, area, &title, body, 0, Style::new());
        return;
    };
    let label_width = list
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    let value_width = (area.width.saturating_sub(2) as usize).saturating_sub(label_width + 1);
    let room = (area.height.saturating_sub(2) as usize).max(1);
    let first = selection.saturating_sub(room.saturating_sub(1));
    let body = list
        .iter()
        .enumerate()
        .skip(first)
        .take(room)
        .map(|(i, (label, value))| {
            let line = Line::from(vec![
                Span::styled(
                    format!("{:>label_width$} ", clip(label, label_width)),
                    theme::dim(),
                ),
                Span::raw(clip(value, value_width)),
            ]);
            selected(line, i == selection)
        })
        .collect();
    show(frame, area, &title, body, 0, Style::new());
}
