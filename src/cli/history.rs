//! `quarry history`: past runs, newest first, as a table or JSON Lines.

use std::io::{self, Write};

use super::{
    EXIT_QUERY, EXIT_USAGE, HistoryArgs, HistoryFormat, HistoryStatus, history_retention, inert,
};
use crate::results::{display_line, sanitize_multiline};
use crate::store::config::Config;
use crate::store::history::{
    Entry as HistoryEntry, History, Query as HistoryQuery, Status as HistoryState,
};

/// `quarry history`: the recorded runs, newest first, as a table or JSON Lines.
pub fn history(config: &Config, connection: Option<&str>, args: &HistoryArgs) -> i32 {
    let history = match History::open_default(history_retention(config)) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let entries = match history.entries() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_QUERY;
        }
    };
    let query = HistoryQuery {
        connection: connection.map(str::to_string),
        grep: args.grep.clone(),
        status: args.status.map(|s| match s {
            HistoryStatus::Ok => HistoryState::Succeeded,
            HistoryStatus::Failed => HistoryState::Failed,
            HistoryStatus::Cancelled => HistoryState::Cancelled,
            HistoryStatus::Running => HistoryState::Running,
        }),
        limit: args.limit,
    };
    let entries = query.apply(entries);
    let mut out = inert::stdout(match args.format {
        HistoryFormat::Jsonl => inert::Escape::Json,
        HistoryFormat::Table => inert::Escape::Visible,
    });
    let written = match args.format {
        HistoryFormat::Jsonl => entries.iter().try_for_each(|e| {
            let line = serde_json::to_string(e).map_err(io::Error::other)?;
            writeln!(out, "{line}")
        }),
        HistoryFormat::Table => write_history_table(&mut out, &entries),
    };
    if written.and_then(|()| out.flush()).is_err() {
        return EXIT_QUERY;
    }
    0
}

/// One line a run: time (UTC), connection, status, duration, rows, server id, SQL's first line.
fn write_history_table(out: &mut impl Write, entries: &[HistoryEntry]) -> io::Result<()> {
    use crate::results::{display_width, sanitize_line, truncate_to_width};
    let cell = |s: &str| display_line(s).into_owned();
    if entries.is_empty() {
        return Ok(());
    }
    let header = [
        "TIME (UTC)",
        "CONNECTION",
        "STATUS",
        "DURATION",
        "ROWS",
        "SERVER ID",
        "SQL",
    ];
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|e| {
            let time = crate::store::history::format_time(e.time);
            [
                time.get(..19).unwrap_or(&time).replacen('T', " ", 1),
                cell(&e.connection),
                e.status.label().to_string(),
                e.duration
                    .map(crate::model::format::format_elapsed)
                    .unwrap_or_default(),
                e.rows.map(|r| r.to_string()).unwrap_or_default(),
                cell(e.server_id.as_deref().unwrap_or("")),
                truncate_to_width(&sanitize_line(e.first_line()), 100).into_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(display_width);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(cell));
        }
    }
    let line = |cells: [&str; 7]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = " ".repeat(w.saturating_sub(display_width(cell)));
            match i {
                6 => s.push_str(cell),
                3 | 4 => s.push_str(&format!("{pad}{cell}  ")),
                _ => s.push_str(&format!("{cell}{pad}  ")),
            }
        }
        s
    };
    writeln!(out, "{}", line(header))?;
    for row in &rows {
        writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
    }
    Ok(())
}
