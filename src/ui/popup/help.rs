//! The help: every binding of the live keymap, per context, then a few notes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::super::popup_frame::{centered, show};
use super::super::theme;
use crate::app::State;
use crate::model::action::Action;
use crate::model::keys::KeyContext;

pub(super) fn draw(frame: &mut Frame, screen: Rect, state: &State, scroll: usize) {
    let area = centered(screen, 116, screen.height.saturating_sub(4));
    let lines = help_lines(state);
    show(
        frame,
        area,
        " Help — Esc closes, ↑/↓ scroll ",
        lines,
        scroll,
        Style::new(),
    );
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
