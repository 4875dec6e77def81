//! The status bar: focus, the tab's connection, rows, running jobs, a flash message and how to
//! get help.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{grid::group, theme};
use crate::app::{Focus, State};
use crate::results::sanitize_line;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let mut spans = connection_spans(state);
    session_spans(state, &mut spans);
    spans.extend(server_held(state));
    progress_spans(state, &mut spans);
    if let Some(f) = &state.flash {
        let style = if f.error {
            theme::error()
        } else {
            theme::success()
        };
        spans.push(Span::styled(format!("  {}", sanitize_line(&f.text)), style));
    }
    spans.push(Span::styled(
        "  F1 help · Ctrl-J run · Ctrl-C cancel · Alt-1/2/3 panes · Ctrl-Q quit",
        theme::dim(),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The focused pane, the tab's connection and the settings the tab changed.
fn connection_spans(state: &State) -> Vec<Span<'static>> {
    let mode = match state.focus {
        Focus::Browser => " BROWSER ",
        Focus::Editor => " EDITOR ",
        Focus::Results => " RESULTS ",
    };
    let tab = state.tab();
    let mut spans = vec![
        Span::styled(
            mode,
            Style::new()
                .bg(theme::ACCENT)
                .fg(Color::Black)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(" "),
        Span::styled(
            sanitize_line(&tab.connection).into_owned(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
    ];
    if let Some(wg) = &tab.workgroup {
        spans.push(Span::styled(
            format!(" · workgroup {}", sanitize_line(wg)),
            theme::dim(),
        ));
    }
    if let Some(reuse) = tab.result_reuse {
        spans.push(Span::styled(
            format!(" · reuse {}", if reuse { "on" } else { "off" }),
            theme::dim(),
        ));
    }
    if let Some(consistent) = tab.consistent_read {
        spans.push(Span::styled(
            format!(
                " · {} reads",
                if consistent { "consistent" } else { "eventual" }
            ),
            theme::dim(),
        ));
    }
    if let Some(limit) = tab.limit {
        spans.push(Span::styled(format!(" · limit {limit}"), theme::dim()));
    }
    if tab.capacity_by_index {
        spans.push(Span::styled(" · capacity per index", theme::dim()));
    }
    spans
}

/// The tab's Data API session, open transaction and Spark session.
fn session_spans(state: &State, spans: &mut Vec<Span<'static>>) {
    let tab = state.tab();
    if tab.use_session == Some(false) {
        spans.push(Span::styled(" · no session", theme::dim()));
    } else if let Some(session) = &tab.session {
        let id = crate::model::format::short_id(&session.id);
        let busy = tab.results.iter().any(|r| r.state.is_active());
        let left = session.time_left(state.now);
        let text = if busy {
            format!(" · session {id} busy")
        } else if left.is_zero() {
            format!(" · session {id} idled out")
        } else {
            format!(" · session {id} {} left", format_left(left))
        };
        spans.push(Span::styled(
            sanitize_line(&text).into_owned(),
            theme::dim(),
        ));
    }
    if let Some(tx) = &tab.transaction {
        let (text, style) = if tx.failed {
            (
                " · transaction failed: ROLLBACK to go on".to_string(),
                theme::error(),
            )
        } else {
            let open = state.now.saturating_duration_since(tx.since);
            (
                format!(" · transaction open {}", format_left(open)),
                theme::running(),
            )
        };
        spans.push(Span::styled(text, style));
    }
    if let Some(label) = crate::app::spark::tab_label(state) {
        spans.push(Span::styled(
            format!(" · {}", sanitize_line(&label)),
            theme::running(),
        ));
    }
}

/// What the server holds (sessions, open transactions); running jobs are counted further on.
fn server_held(state: &State) -> Option<Span<'static>> {
    let (_, sessions, transactions) = crate::app::monitor::counts(state);
    if sessions + transactions == 0 {
        return None;
    }
    let mut parts = Vec::new();
    if sessions > 0 {
        let s = if sessions == 1 { "" } else { "s" };
        parts.push(format!("{sessions} session{s}"));
    }
    if transactions > 0 {
        let s = if transactions == 1 { "" } else { "s" };
        parts.push(format!("{transactions} open transaction{s}"));
    }
    Some(Span::styled(
        format!(" · {} (F9)", parts.join(", ")),
        theme::dim(),
    ))
}

/// Where the cursor is in the result, a running export and the number of running jobs.
fn progress_spans(state: &State, spans: &mut Vec<Span<'static>>) {
    let tab = state.tab();
    if let Some(r) = tab.active_result() {
        let shown = r.visible_rows();
        let at = if shown == 0 { 0 } else { r.grid.row + 1 };
        spans.push(Span::raw(format!("  row {}/{}", group(at), group(shown))));
    }
    if let Some(export) = &state.export {
        let secs = state
            .now
            .duration_since(export.started)
            .as_secs_f64()
            .max(0.001);
        let rate = export.rows as f64 / secs;
        spans.push(Span::styled(
            format!(
                "  exporting {} rows · {} · {}/s (Ctrl-E cancels)",
                group(export.rows as usize),
                crate::model::format::human_bytes(export.bytes),
                group(rate as usize)
            ),
            theme::running(),
        ));
    }
    let jobs = state.active_jobs();
    if jobs > 0 {
        let s = if jobs == 1 { "" } else { "s" };
        spans.push(Span::styled(
            format!("  {jobs} job{s} running"),
            theme::running(),
        ));
    }
}

/// Whole seconds left, as `9:58` (or `59 s` under a minute).
fn format_left(left: std::time::Duration) -> String {
    let s = left.as_secs();
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{}:{:02}", s / 60, s % 60)
    } else {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}
