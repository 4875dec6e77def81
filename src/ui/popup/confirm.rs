//! The question box every confirmation shares (the question, the answers' keys under it), and
//! the questions drawn with it: close the tab, replace a file or a snippet, cancel the export,
//! end open transactions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;

use super::super::popup_frame::{centered, show};
use super::super::theme;
use crate::app::export_form::ExportForm;
use crate::app::{AfterTransactions, State};
use crate::results::sanitize_line;

/// A question as drawn: its lines, then the answers' keys, dimmed.
struct Question<'a> {
    title: &'a str,
    lines: Vec<Line<'static>>,
    keys: String,
    width: u16,
    height: u16,
    style: Style,
}

fn draw(frame: &mut Frame, screen: Rect, q: Question) {
    let mut lines = q.lines;
    lines.push(Line::styled(q.keys, theme::dim()));
    let area = centered(screen, q.width, q.height);
    show(frame, area, q.title, lines, 0, q.style);
}

pub(super) fn close_tab(frame: &mut Frame, screen: Rect) {
    draw(
        frame,
        screen,
        Question {
            title: " Close tab ",
            lines: vec![Line::raw(
                "Close this tab? Its text is not saved as a snippet.",
            )],
            keys: "[y] close    [n] keep".into(),
            width: 60,
            height: 5,
            style: Style::new(),
        },
    );
}

pub(super) fn overwrite_snippet(frame: &mut Frame, screen: Rect, name: &str) {
    draw(
        frame,
        screen,
        Question {
            title: " Save snippet ",
            lines: vec![Line::raw(format!(
                "A snippet `{}` exists.",
                sanitize_line(name)
            ))],
            keys: "[y] replace it   [n] choose another name".into(),
            width: 70,
            height: 4,
            style: theme::running(),
        },
    );
}

pub(super) fn overwrite_file(frame: &mut Frame, screen: Rect, form: &ExportForm) {
    draw(
        frame,
        screen,
        Question {
            title: " Export ",
            lines: vec![
                Line::raw(format!(
                    "{} already exists.",
                    sanitize_line(form.path.trim())
                )),
                Line::raw("Replace it? (the new file replaces it only once it is complete)"),
            ],
            keys: "[y] replace   [n] choose another name".into(),
            width: 80,
            height: 5,
            style: theme::running(),
        },
    );
}

pub(super) fn cancel_export(frame: &mut Frame, screen: Rect, state: &State) {
    let (rows, path) = state
        .export
        .as_ref()
        .map(|e| (e.rows, e.form.path.clone()))
        .unwrap_or_default();
    draw(
        frame,
        screen,
        Question {
            title: " Export ",
            lines: vec![
                Line::raw(format!(
                    "An export to {} is running ({rows} rows so far).",
                    sanitize_line(path.trim())
                )),
                Line::raw("Cancel it? Nothing is left behind."),
            ],
            keys: "[y] cancel the export   [n] let it run".into(),
            width: 80,
            height: 5,
            style: theme::running(),
        },
    );
}

/// Open transactions: each tab's, then commit (unless one failed), roll back, or stay.
pub(super) fn transactions(
    frame: &mut Frame,
    screen: Rect,
    tabs: &[(u64, String, bool)],
    then: AfterTransactions,
) {
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
        AfterTransactions::Quit => " and quit",
        AfterTransactions::CloseTab(_) => " and close the tab",
        AfterTransactions::Stay => "",
    };
    let keys = if tabs.iter().any(|t| t.2) {
        format!("[r] roll back{doing}   [Esc] keep working")
    } else {
        format!("[c] commit{doing}   [r] roll back{doing}   [Esc] keep working")
    };
    // The question's lines, the keys' line and the frame.
    let height = lines.len() as u16 + 4;
    draw(
        frame,
        screen,
        Question {
            title: " Open transaction ",
            lines,
            keys,
            width: 80,
            height,
            style: theme::running(),
        },
    );
}
