//! Property tests ("fuzz" targets, issue 15) over the code that reads untrusted text: the SQL
//! splitter, scanner and templates, the syntax highlighter, the config parser and the cell
//! formatter and sanitiser. Each runs a bounded number of random cases inside the normal
//! `cargo test` (a few seconds in all); `PROPTEST_CASES=10000 cargo test --lib fuzz_` runs
//! more. A failure prints the smallest input found: add it as a unit test next to the code.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use arrow::array::{
    ArrayRef, BinaryArray, Int64Array, LargeStringArray, ListBuilder, StringArray, StringBuilder,
    StructArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::results::{
    MAX_CELL_CHARS, ResultSet, display_line, display_width, is_terminal_unsafe, sanitize_line,
    sanitize_multiline, settle_clusters, truncate_to_width,
};
use crate::sql::template::{Mode, ParamStyle};
use crate::ui::highlight::SqlHighlighter;

/// `cases` random cases, or `PROPTEST_CASES` when set. Failures are printed, not saved.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Characters that have broken terminals, widths or scanners before, besides any char at all.
const TRICKY: &[char] = &[
    '\0',
    '\x07',
    '\x08',
    '\t',
    '\n',
    '\r',
    '\x1b',
    '\x7f',
    '\u{85}',
    '\u{9b}',
    '\u{9d}',
    '\u{a0}',
    '\u{ad}',
    '\u{200b}',
    '\u{200c}',
    '\u{200d}',
    '\u{200e}',
    '\u{2028}',
    '\u{2029}',
    '\u{202a}',
    '\u{202e}',
    '\u{2066}',
    '\u{2069}',
    '\u{2060}',
    '\u{3000}',
    '\u{feff}',
    '\u{fe0e}',
    '\u{fe0f}',
    '\u{301}',
    '\u{336}',
    '\u{20e3}',
    '\u{1f3fd}',
    '\u{1f1eb}',
    '\u{1f1f7}',
    '\u{e0067}',
    '\u{e007f}',
    '\u{1100}',
    '\u{1161}',
    '\u{11a8}',
    '\u{915}',
    '\u{93e}',
    '\u{94d}',
    '\u{600}',
    '\u{ff9e}',
    '\u{17d8}',
    '👨',
    '👩',
    '❤',
    '🏴',
    '漢',
    'é',
    'ß',
    '\u{10ffff}',
    '\u{fffd}',
];

/// Arbitrary text with a good share of [`TRICKY`] characters, up to `max` chars.
fn tricky_text(max: usize) -> impl Strategy<Value = String> {
    let c = prop_oneof![
        3 => prop::sample::select(TRICKY),
        2 => any::<char>(),
        2 => prop::char::range('a', 'z'),
    ];
    prop::collection::vec(c, 0..max).prop_map(String::from_iter)
}

/// SQL-ish text: the pieces the scanner cares about, words and tricky characters.
fn sql_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "'", "''", "\"", "`", "--", "/*", "*/", "$$", "$tag$", "$1", "a$b", ";", "?", ":name",
            "::int", ":1", "\n", " ", "\t", "\r\n", "SELECT", "from", "${p}", "${q:'d'}", "${",
            "}", ":", "\\",
        ])
        .prop_map(str::to_string),
        tricky_text(4),
        "[a-z_0-9]{1,6}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

/// Config text: lines of the shipped example (commented out or not), TOML punctuation and
/// arbitrary values, so that most cases get past the TOML parser into Quarry's own checks.
fn config_text() -> impl Strategy<Value = String> {
    static LINES: OnceLock<Vec<String>> = OnceLock::new();
    let lines = LINES
        .get_or_init(|| {
            include_str!("../config/quarry.toml")
                .lines()
                .map(|l| l.trim_start_matches("#: ").to_string())
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .collect()
        })
        .clone();
    let line = prop_oneof![
        4 => prop::sample::select(lines),
        1 => prop::sample::select(vec![
            "[[connection]]", "[connections.x]", "[ui]", "[history]", "[keys.grid]",
            "name = \"x\"", "kind = \"local\"", "kind = \"athena\"", "kind = \"redshift\"",
            "kind = \"dynamodb\"", "kind = \"redshift_data\"", "port = 99999999999",
            "max_column_width = -1", "max_entries = 0", "paths = [1, {a = 2}]", "= =", "[",
        ])
        .prop_map(str::to_string),
        1 => ("[a-z_]{1,12}", tricky_text(12)).prop_map(|(k, v)| format!("{k} = {v:?}")),
        1 => tricky_text(20),
    ];
    prop::collection::vec(line, 0..30).prop_map(|l| l.join("\n"))
}

fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// Every grapheme cluster measures the sum of its chars: the same on every terminal.
fn clusters_measure_their_chars(s: &str) -> bool {
    s.graphemes(true)
        .all(|g| UnicodeWidthStr::width(g) == g.chars().map(char_width).sum::<usize>())
}

// ---------------------------------------------------------------------------------------------
// SQL

/// Statements are non-empty, trimmed, in order, on char boundaries, and what lies between them
/// holds no statement of its own.
fn check_split(text: &str) -> Result<(), TestCaseError> {
    let statements = crate::sql::split_statements(text);
    let mut previous_end = 0;
    for s in &statements {
        prop_assert!(previous_end <= s.start && s.start < s.end && s.end <= text.len());
        prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        prop_assert_eq!(&text[s.start..s.end], s.text.as_str());
        prop_assert_eq!(s.text.trim(), s.text.as_str());
        let gap = &text[previous_end..s.start];
        prop_assert!(
            crate::sql::split_statements(gap).is_empty(),
            "gap {:?}",
            gap
        );
        previous_end = s.end;
    }
    let tail = &text[previous_end..];
    prop_assert!(
        crate::sql::split_statements(tail).is_empty(),
        "tail {:?}",
        tail
    );
    for cursor in [0, text.len() / 2, text.len(), text.len() + 3] {
        if let Some(s) = crate::sql::statement_at(text, cursor) {
            prop_assert!(statements.contains(&s));
        }
    }
    Ok(())
}

fn check_placeholders(text: &str) -> Result<(), TestCaseError> {
    let mut previous_end = 0;
    for p in crate::sql::placeholders(text) {
        prop_assert!(previous_end <= p.start && p.start < p.end && p.end <= text.len());
        prop_assert!(text.is_char_boundary(p.start) && text.is_char_boundary(p.end));
        previous_end = p.end;
    }
    crate::sql::named_params(text);
    crate::sql::positional_count(text);
    Ok(())
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn fuzz_sql_splitting(text in prop_oneof![sql_text(), any::<String>()]) {
        check_split(&text)?;
        check_placeholders(&text)?;
    }

    #[test]
    fn fuzz_sql_scanner_offsets(text in sql_text()) {
        for (i, _) in text.char_indices() {
            if let Some((_, end)) = crate::sql::scan::opaque_at(&text, i) {
                prop_assert!(i < end && end <= text.len() && text.is_char_boundary(end));
            }
        }
    }

    #[test]
    fn fuzz_sql_cursor_and_error_positions(
        text in sql_text(),
        row in 0usize..50,
        col in 0usize..200,
        message in prop_oneof![
            "(at )?line [0-9]{1,22}(, column |:)[0-9]{1,22}: .{0,8}",
            any::<String>(),
        ],
    ) {
        let offset = crate::sql::byte_offset(&text, row, col);
        prop_assert!(offset <= text.len() && text.is_char_boundary(offset));
        if let Some((line, column)) = crate::sql::error_location(&message) {
            prop_assert!(line > 0 && column > 0);
            for statement in crate::sql::split_statements(&text) {
                crate::sql::locate_in(&text, &statement.text, line, column);
            }
        }
        crate::sql::quote_ident(&message);
    }

    #[test]
    fn fuzz_sql_templates(text in sql_text(), value in tricky_text(8)) {
        let params = crate::sql::template::template_params(&text);
        let values: HashMap<String, String> =
            params.iter().map(|p| (p.name.clone(), value.clone())).collect();
        for mode in [
            Mode::Textual,
            Mode::AsParameters(ParamStyle::Positional),
            Mode::AsParameters(ParamStyle::Named),
        ] {
            let _ = crate::sql::template::render(&text, &values, mode);
            let _ = crate::sql::template::render(&text, &HashMap::new(), mode);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Highlighter and config

fn highlighter() -> &'static SqlHighlighter {
    static HIGHLIGHTER: OnceLock<SqlHighlighter> = OnceLock::new();
    HIGHLIGHTER.get_or_init(SqlHighlighter::new)
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn fuzz_highlighter(
        lines in prop::collection::vec(prop_oneof![sql_text(), tricky_text(60)], 0..12),
        long in prop::option::of(("[a-z' ]{1,3}", 1000usize..4000)),
        first in 0usize..16,
        count in 0usize..16,
    ) {
        let mut lines = lines;
        if let Some((unit, times)) = long {
            lines.push(unit.repeat(times));
        }
        let styled = highlighter().highlight(&lines, first, count);
        let end = first.saturating_add(count).min(lines.len());
        prop_assert_eq!(styled.len(), end.saturating_sub(first));
        for line in &styled {
            for (_, text) in line {
                prop_assert!(!text.chars().any(is_terminal_unsafe), "{:?}", text);
            }
        }
    }

    #[test]
    fn fuzz_config_parser(text in prop_oneof![config_text(), any::<String>()]) {
        // An error or a config, never a panic; errors read as text a terminal can show.
        if let Err(e) = crate::store::config::parse(&text, Path::new("fuzz.toml")) {
            let message = e.to_string();
            prop_assert!(!message.is_empty());
            let _ = sanitize_multiline(&message);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cell formatting and sanitising

/// Text cells: arbitrary, long, JSON-looking.
fn cell_value() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        4 => tricky_text(40),
        1 => tricky_text(20).prop_map(|s| format!("{{\"a\": [{s:?}, {{\"b\": {s:?}}}]")),
        1 => tricky_text(8).prop_map(|s| s.repeat(100)),
        1 => "[\\[{][\\[\\]{}\":, 0-9a-z.e+-]{0,30}",
    ])
}

/// One batch of text, large text, binary, list-of-text and struct columns.
fn nested_batch(rows: Vec<(Option<String>, Option<String>)>) -> RecordBatch {
    let first: Vec<Option<&str>> = rows.iter().map(|r| r.0.as_deref()).collect();
    let second: Vec<Option<&str>> = rows.iter().map(|r| r.1.as_deref()).collect();
    let text: ArrayRef = Arc::new(StringArray::from(first.clone()));
    let large: ArrayRef = Arc::new(LargeStringArray::from(second.clone()));
    let binary: ArrayRef = Arc::new(BinaryArray::from(
        first
            .iter()
            .map(|s| s.map(str::as_bytes))
            .collect::<Vec<_>>(),
    ));
    let mut list = ListBuilder::new(StringBuilder::new());
    for (a, b) in first.iter().zip(&second) {
        list.values().append_option(*a);
        list.values().append_option(*b);
        list.append(a.is_some());
    }
    let list: ArrayRef = Arc::new(list.finish());
    let numbers: ArrayRef = Arc::new(Int64Array::from_iter(
        rows.iter().map(|r| r.0.as_ref().map(|s| s.len() as i64)),
    ));
    let fields = vec![
        Arc::new(Field::new("s", DataType::Utf8, true)),
        Arc::new(Field::new("\u{1b}]0;n\u{7}", DataType::Int64, true)),
        Arc::new(Field::new("l", list.data_type().clone(), true)),
    ];
    let record: ArrayRef = Arc::new(StructArray::new(
        fields.clone().into(),
        vec![text.clone(), numbers, list.clone()],
        None,
    ));
    let columns = vec![text, large, binary, list, record];
    let schema = Schema::new(
        ["text", "large", "binary", "list", "record"]
            .iter()
            .zip(&columns)
            .map(|(name, c)| Field::new(*name, c.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns).expect("columns match the schema")
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn fuzz_sanitisers(s in tricky_text(60)) {
        let line = sanitize_line(&s);
        prop_assert!(!line.chars().any(is_terminal_unsafe));
        prop_assert_eq!(line.chars().count(), s.chars().count());
        let multi = sanitize_multiline(&s);
        prop_assert!(!multi.chars().any(|c| is_terminal_unsafe(c) && c != '\n'));
        let shown = display_line(&s);
        prop_assert!(!shown.chars().any(is_terminal_unsafe));
        prop_assert!(clusters_measure_their_chars(&shown), "{:?}", shown);
        prop_assert_eq!(settle_clusters(&shown), shown.clone(), "settling is idempotent");
        prop_assert_eq!(display_width(&sanitize_line(&s)), display_width(&shown));
        prop_assert_eq!(display_width(&shown), shown.chars().map(char_width).sum::<usize>());
    }

    #[test]
    fn fuzz_truncation(s in tricky_text(60), width in 0usize..30) {
        let shown = display_line(&s);
        let cut = truncate_to_width(&shown, width);
        prop_assert!(display_width(&cut) <= width, "{:?} cut to {}: {:?}", shown, width, cut);
        prop_assert!(clusters_measure_their_chars(&cut));
        if display_width(&shown) <= width {
            prop_assert_eq!(&*cut, &*shown);
        } else if width > 0 {
            prop_assert!(cut.ends_with('…'));
        }
    }

    #[test]
    fn fuzz_cell_formatter(rows in prop::collection::vec((cell_value(), cell_value()), 1..8)) {
        let batch = nested_batch(rows);
        let mut rs = ResultSet::new(batch.schema());
        rs.push_batch(batch.clone());
        rs.push_batch(batch);
        for col in 0..rs.num_columns() + 1 {
            prop_assert!(!rs.column_name(col).chars().any(is_terminal_unsafe));
        }
        for row in 0..rs.num_rows() + 1 {
            for col in 0..rs.num_columns() + 1 {
                let cell = rs.cell(row, col);
                prop_assert!(!cell.text.chars().any(is_terminal_unsafe), "{:?}", cell.text);
                prop_assert!(cell.text.chars().count() <= MAX_CELL_CHARS);
                let full = rs.cell_full(row, col);
                prop_assert!(!full.chars().any(|c| is_terminal_unsafe(c) && c != '\n'));
                let _ = rs.cell_raw(row, col);
                // Athena's `array`/`map`/`row` text read back as JSON (best effort).
                let inspected = rs.cell_inspect(row, col, true).to_text();
                prop_assert!(!inspected.chars().any(|c| is_terminal_unsafe(c) && c != '\n'));
            }
        }
        for (col, width) in rs.column_widths(100, 40).into_iter().enumerate() {
            prop_assert!((1..=40).contains(&width), "column {} is {} wide", col, width);
        }
    }
}
