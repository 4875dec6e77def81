//! The browser pane: the lazily loaded catalog tree, with a spinner on nodes being loaded.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::theme;
use crate::app::browser::{Children, TreeNode};
use crate::app::{Focus, State};
use crate::model::catalog::NodeKind;
use crate::results::sanitize_line;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Focus::Browser && state.popup.is_none();
    let b = &state.browser;
    let mut title = vec![Span::styled(" Browser ", theme::title(focused))];
    if !b.filter.is_empty() {
        title.push(Span::styled(
            format!("/{} ", sanitize_line(&b.filter)),
            theme::running(),
        ));
    }
    let mut block = Block::bordered()
        .border_style(theme::border(focused))
        .title(Line::from(title));
    // The monitor is reachable from here: said where what runs on the servers is browsed.
    let (running, held, transactions) = crate::app::monitor::counts(state);
    let busy = running + held + transactions;
    if focused || busy > 0 {
        let count = if busy > 0 {
            format!(" ({busy})")
        } else {
            String::new()
        };
        block = block.title_bottom(Line::styled(format!(" F9 monitor{count} "), theme::dim()));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = b.rows();
    let page = inner.height as usize;
    let mut lines = Vec::with_capacity(page);
    for (i, row) in rows.iter().enumerate().skip(b.top).take(page) {
        let Some(node) = b.node(&row.at) else {
            continue;
        };
        let mut line = node_line(node, row.depth, state.spinner);
        if i == b.selected {
            line = line.style(if focused {
                theme::selected_cell()
            } else {
                theme::selected_row()
            });
        }
        lines.push(line);
    }
    if rows.is_empty() {
        lines.push(Line::styled("nothing matches the filter", theme::dim()));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn node_line(node: &TreeNode, depth: usize, spinner: usize) -> Line<'static> {
    let marker = match (&node.children, node.expandable, node.expanded) {
        (Children::Loading, _, _) => theme::spinner(spinner).to_string(),
        (_, false, _) => " ".into(),
        (_, true, true) => "▾".into(),
        (_, true, false) => "▸".into(),
    };
    let icon = match node.kind {
        None => "◆",
        Some(NodeKind::Catalog) | Some(NodeKind::Database) | Some(NodeKind::Schema) => "▣",
        Some(NodeKind::Table) => "▤",
        Some(NodeKind::View) => "▥",
        Some(NodeKind::Column) => "·",
        Some(NodeKind::Folder) => "▢",
        Some(NodeKind::Workgroup) => "⚙",
        Some(NodeKind::Query) => "»",
        Some(NodeKind::Property) => "-",
        Some(NodeKind::Session) => "✦",
        Some(NodeKind::Broken) => "✗",
    };
    let mut spans = vec![
        Span::raw("  ".repeat(depth)),
        Span::raw(format!("{marker} {icon} ")),
        Span::styled(
            sanitize_line(&node.name).into_owned(),
            if node.kind.is_none() {
                Style::new().add_modifier(ratatui::style::Modifier::BOLD)
            } else {
                Style::new()
            },
        ),
    ];
    if let Some(d) = &node.detail {
        // A broken item's detail is its error: shown as one, not dimmed away.
        let style = match node.kind {
            Some(NodeKind::Broken) => theme::error(),
            _ => theme::dim(),
        };
        spans.push(Span::styled(format!(" {}", sanitize_line(d)), style));
    }
    if let Children::Failed(e) = &node.children {
        spans.push(Span::styled(
            format!(" ✗ {}", sanitize_line(e)),
            theme::error(),
        ));
    }
    Line::from(spans)
}
