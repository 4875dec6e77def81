//! The results pane: result tabs, a title with state/rows/elapsed, and a virtualised grid that
//! formats only the visible cells (a frozen header, row numbers, right-aligned numbers, NULL
//! distinct from the empty string), or the error view.

use std::time::Duration;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::theme;
use crate::app::results::{ResultTab, RunState, ViewKind, gutter_width};
use crate::app::{Focus, State};
use crate::model::format::{format_cost, format_elapsed, human_bytes};
use crate::results::{
    CellKind, ResultSet, SortOrder, display_width, sanitize_line, sanitize_multiline,
    truncate_to_width,
};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Focus::Results && state.popup.is_none();
    let tab = state.tab();
    let result = tab.active_result();
    let block = Block::bordered()
        .border_style(theme::border(focused))
        .title(title(result, state, focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let Some(r) = result else {
        let hint = Paragraph::new(vec![
            Line::styled("No results yet.", theme::dim()),
            Line::styled(
                "Ctrl-J / F5 runs the statement under the cursor, F6 runs them all.",
                theme::dim(),
            ),
        ]);
        frame.render_widget(hint, inner);
        return;
    };
    // First line: the result tabs of this editor tab.
    let tabs_area = Rect { height: 1, ..inner };
    frame.render_widget(
        Paragraph::new(result_tabs(&tab.results, tab.active_result)),
        tabs_area,
    );
    let body = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    if body.height == 0 {
        return;
    }
    match &r.state {
        RunState::Failed { error } => {
            let text = sanitize_multiline(error).into_owned();
            let p = Paragraph::new(text)
                .style(theme::error())
                .wrap(Wrap { trim: false });
            frame.render_widget(p, body);
        }
        _ if r.num_columns() > 0 => draw_cells(frame.buffer_mut(), body, r, focused),
        RunState::Succeeded { message: Some(m) } => frame.render_widget(
            Paragraph::new(sanitize_line(m).into_owned()).style(theme::success()),
            body,
        ),
        RunState::Running { .. } | RunState::Queued => frame.render_widget(
            Paragraph::new(format!(
                "{} running… (Ctrl-C cancels)",
                theme::spinner(state.spinner)
            ))
            .style(theme::running()),
            body,
        ),
        RunState::Cancelled => {
            frame.render_widget(Paragraph::new("cancelled").style(theme::running()), body)
        }
        RunState::Skipped => frame.render_widget(
            Paragraph::new("skipped: an earlier statement of this run failed").style(theme::dim()),
            body,
        ),
        RunState::Succeeded { message: None } => {
            frame.render_widget(Paragraph::new("no rows").style(theme::dim()), body)
        }
    }
}

fn result_tabs(results: &[ResultTab], active: usize) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let style = match (&r.state, i == active) {
            (_, true) => Style::new().add_modifier(ratatui::style::Modifier::REVERSED),
            (RunState::Failed { .. }, _) => theme::error(),
            (s, _) if s.is_active() => theme::running(),
            _ => theme::dim(),
        };
        spans.push(Span::styled(
            format!(" {}:{} ", i + 1, sanitize_line(&r.title())),
            style,
        ));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

fn title(result: Option<&ResultTab>, state: &State, focused: bool) -> Line<'static> {
    let mut spans = vec![Span::styled(" Results ", theme::title(focused))];
    let Some(r) = result else {
        return Line::from(spans);
    };
    let state_style = match r.state {
        RunState::Failed { .. } => theme::error(),
        RunState::Succeeded { .. } => theme::success(),
        RunState::Cancelled | RunState::Skipped => theme::dim(),
        _ => theme::running(),
    };
    let label = match &r.state {
        RunState::Running {
            service_state: Some(s),
        } => sanitize_line(s).into_owned(),
        s => s.label().to_string(),
    };
    let label = if r.state.is_active() {
        format!("{} {label}", theme::spinner(state.spinner))
    } else {
        label
    };
    spans.push(Span::styled(label, state_style));
    let elapsed = r
        .elapsed
        .or_else(|| r.started.map(|s| state.now.saturating_duration_since(s)))
        .unwrap_or(Duration::ZERO);
    let mut facts = vec![format_elapsed(elapsed)];
    let loaded = r.loaded_rows();
    let rows = match (&r.view, r.state.is_active()) {
        (Some(v), _) if matches!(v.kind, ViewKind::Filter { .. }) => {
            format!("{} of {} rows", group(r.visible_rows()), group(loaded))
        }
        (_, true) => format!("{} rows loaded", group(loaded)),
        _ => format!("{} rows", group(loaded)),
    };
    facts.push(rows);
    // A message the body does not show (the grid is drawn instead): in the title.
    if let RunState::Succeeded { message: Some(m) } = &r.state
        && r.num_columns() > 0
    {
        facts.push(sanitize_line(m).into_owned());
    }
    if let Some(b) = r.stats.bytes_scanned {
        facts.push(format!("{} scanned", human_bytes(b)));
    }
    if let Some(c) = r.stats.cost_usd {
        facts.push(format!("≈ {}", format_cost(c)));
    }
    for (label, value) in &r.stats.extra {
        facts.push(format!("{} {}", sanitize_line(label), sanitize_line(value)));
    }
    if let Some(v) = &r.view {
        facts.push(match &v.kind {
            ViewKind::Sort { column, order } => format!(
                "sorted by {} {}",
                r.rows
                    .as_ref()
                    .map(|rs| sanitize_line(rs.column_name(*column)).into_owned())
                    .unwrap_or_default(),
                if *order == SortOrder::Ascending {
                    "↑"
                } else {
                    "↓"
                }
            ),
            ViewKind::Filter { needle } => format!("filter \"{}\"", sanitize_line(needle)),
        });
        if v.indices.is_none() && v.error.is_none() {
            facts.push("computing…".into());
        }
        if let Some(e) = &v.error {
            facts.push(format!("view failed: {}", sanitize_line(e)));
        }
    }
    spans.push(Span::raw(format!(" · {} ", facts.join(" · "))));
    Line::from(spans)
}

/// Groups thousands with a thin space: 1 234 567.
pub fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A column on screen: its index, x and width.
type ShownColumn = (usize, u16, usize);

/// Paints the header and the visible window of rows straight into the buffer.
fn draw_cells(buf: &mut Buffer, area: Rect, r: &ResultTab, focused: bool) {
    let Some(rs) = &r.rows else {
        return;
    };
    let g = &r.grid;
    let total = r.visible_rows();
    let gutter = gutter_width(total.max(r.loaded_rows()));
    let cols = fitting_columns(area, r, rs.num_columns(), gutter);
    // Dim separators between the columns, over the header and the rows shown.
    let shown = total
        .saturating_sub(g.top)
        .min(area.height.saturating_sub(1) as usize) as u16;
    let mut sep_xs = vec![area.x + gutter as u16];
    sep_xs.extend(cols.iter().map(|&(_, x, w)| x + w as u16));
    for sx in sep_xs.into_iter().filter(|&sx| sx < area.x + area.width) {
        for y in area.y..area.y + 1 + shown {
            buf.set_stringn(sx, y, "│", 1, theme::gutter());
        }
    }
    draw_header(buf, area, r, rs, &cols, gutter, focused);
    draw_rows(buf, area, r, rs, &cols, gutter, focused);
}

/// Columns that fit, from the leftmost scrolled one.
fn fitting_columns(
    area: Rect,
    r: &ResultTab,
    num_columns: usize,
    gutter: usize,
) -> Vec<ShownColumn> {
    let g = &r.grid;
    let right = area.x + area.width;
    let mut cols = Vec::new();
    let mut x = area.x + gutter as u16 + 1;
    for c in g.left..num_columns {
        if x >= right {
            break;
        }
        let w = g
            .widths
            .get(c)
            .copied()
            .unwrap_or(8)
            .min((right - x) as usize);
        cols.push((c, x, w));
        x += w as u16 + 1;
    }
    cols
}

/// The frozen header: column names, the sorted one marked, the cursor's highlighted.
fn draw_header(
    buf: &mut Buffer,
    area: Rect,
    r: &ResultTab,
    rs: &ResultSet,
    cols: &[ShownColumn],
    gutter: usize,
    focused: bool,
) {
    let g = &r.grid;
    let sort = r.view.as_ref().and_then(|v| match v.kind {
        ViewKind::Sort { column, order } => Some((column, order)),
        _ => None,
    });
    buf.set_stringn(
        area.x,
        area.y,
        format!("{:>gutter$}", "#"),
        gutter,
        theme::gutter(),
    );
    for &(c, x, w) in cols {
        let mut name = sanitize_line(rs.column_name(c)).into_owned();
        if let Some((sc, order)) = sort
            && sc == c
        {
            name.push(if order == SortOrder::Ascending {
                '↑'
            } else {
                '↓'
            });
        }
        let style = if focused && c == g.col {
            theme::header().fg(theme::ACCENT)
        } else {
            theme::header()
        };
        put(buf, x, area.y, &name, w, rs.is_numeric_column(c), style);
    }
}

/// The visible rows under the header: row numbers, cells, the cursor and a `v` range selection.
fn draw_rows(
    buf: &mut Buffer,
    area: Rect,
    r: &ResultTab,
    rs: &ResultSet,
    cols: &[ShownColumn],
    gutter: usize,
    focused: bool,
) {
    let g = &r.grid;
    let total = r.visible_rows();
    let numeric: Vec<bool> = (g.left..rs.num_columns())
        .map(|c| rs.is_numeric_column(c))
        .collect();
    let page = area.height.saturating_sub(1) as usize;
    // A `v` range selection: every cell between its anchor and the cursor.
    let (row_lo, row_hi, col_lo, col_hi) = r.selection();
    let in_range = |display: usize, c: usize| {
        g.anchor.is_some() && (row_lo..=row_hi).contains(&display) && (col_lo..=col_hi).contains(&c)
    };
    for i in 0..page {
        let display = g.top + i;
        if display >= total {
            break;
        }
        let y = area.y + 1 + i as u16;
        let data_row = r.data_row(display);
        let is_cursor_row = display == g.row;
        if is_cursor_row && focused {
            buf.set_style(Rect::new(area.x, y, area.width, 1), theme::selected_row());
        }
        buf.set_stringn(
            area.x,
            y,
            format!("{:>gutter$}", display + 1),
            gutter,
            theme::gutter(),
        );
        for &(c, x, w) in cols {
            let cell = rs.cell(data_row, c);
            let mut style = match cell.kind {
                CellKind::Null => theme::null(),
                _ => Style::new(),
            };
            if (is_cursor_row && c == g.col) || in_range(display, c) {
                style = style.patch(theme::selected_cell());
            }
            // NULLs too, so a numeric column stays aligned on the right.
            let right_align = numeric[c - g.left];
            put(buf, x, y, &cell.text, w, right_align, style);
        }
    }
}

/// Writes `text` into a cell of width `w`, cut with '…' when too wide, padded to fill.
fn put(buf: &mut Buffer, x: u16, y: u16, text: &str, w: usize, right_align: bool, style: Style) {
    let cut = truncate_to_width(text, w);
    let tw = display_width(&cut);
    let pad = w.saturating_sub(tw);
    let line = if right_align {
        format!("{}{}", " ".repeat(pad), cut)
    } else {
        format!("{}{}", cut, " ".repeat(pad))
    };
    buf.set_stringn(x, y, line, w, style);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands_and_sizes() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1234567), "1 234 567");
        assert_eq!(human_bytes(1_300_000_000), "1.3 GB");
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(format_cost(0.0), "$0");
        assert_eq!(format_cost(0.000047683), "$0.000048");
        assert_eq!(format_cost(1.234), "$1.23");
    }
}
