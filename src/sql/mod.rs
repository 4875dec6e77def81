//! SQL text utilities for the editor: splitting a buffer into statements, finding the statement
//! under the cursor, quoting identifiers and finding parameter placeholders.
//!
//! These work on the raw text with a small scanner rather than a SQL parser: the editor talks to
//! several dialects (Trino/Athena, Redshift/PostgreSQL, PartiQL, DataFusion), and all that is
//! needed is to know where the strings, quoted identifiers and comments are. Nothing here panics,
//! whatever the input; everything is linear in the length of the text.

pub mod complete;
pub(crate) mod scan;
pub mod template;

use scan::{Opaque, is_ident_byte, opaque_at};

/// One statement of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement text, trimmed, without its terminating `;`.
    pub text: String,
    /// Byte offset of the first byte of `text` in the input.
    pub start: usize,
    /// Byte offset just past the last byte of `text` in the input.
    pub end: usize,
}

/// Splits `text` into statements on `;` outside strings, quoted identifiers, comments and dollar
/// quotes. Pieces that hold only whitespace and comments are dropped; comments inside or before a
/// statement stay part of its text.
pub fn split_statements(text: &str) -> Vec<Statement> {
    let mut statements = Vec::new();
    let mut piece_start = 0;
    let mut has_code = false;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        if let Some((kind, end)) = opaque_at(text, i) {
            has_code |= kind == Opaque::Quoted;
            i = end;
            continue;
        }
        match bytes[i] {
            b';' => {
                if has_code {
                    statements.extend(trimmed(text, piece_start, i));
                }
                piece_start = i + 1;
                has_code = false;
            }
            c if !c.is_ascii_whitespace() => has_code = true,
            _ => {}
        }
        i += 1;
    }
    if has_code {
        statements.extend(trimmed(text, piece_start, bytes.len()));
    }
    statements
}

/// The statement for `text[start..end]` with surrounding whitespace removed; `None` when only
/// whitespace is left (a piece of Unicode spaces such as U+00A0 or U+0085, which the byte scan
/// took for code).
fn trimmed(text: &str, start: usize, end: usize) -> Option<Statement> {
    let piece = &text[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let body = piece.trim();
    (!body.is_empty()).then(|| Statement {
        text: body.to_owned(),
        start: start + lead,
        end: start + lead + body.len(),
    })
}

/// The statement the cursor (a byte offset) belongs to.
///
/// A cursor inside a statement, right after it or after its `;`, or on blank lines after it
/// belongs to it: that is where the cursor sits after typing a statement. A cursor in the
/// indentation of the line where a statement starts belongs to that statement. Before the first
/// statement, the first statement is chosen. `None` when the text holds no statement.
pub fn statement_at(text: &str, cursor: usize) -> Option<Statement> {
    let cursor = cursor.min(text.len());
    let mut statements = split_statements(text);
    let following = statements.partition_point(|s| s.start <= cursor);
    if following < statements.len()
        && (following == 0 || in_indentation_of(text, cursor, &statements[following]))
    {
        return Some(statements.swap_remove(following));
    }
    statements.truncate(following);
    statements.pop()
}

/// Whether only spaces and tabs surround the cursor up to the start of its line and up to the
/// start of `next` (which is on the same line).
fn in_indentation_of(text: &str, cursor: usize, next: &Statement) -> bool {
    let blank = |s: &str| s.bytes().all(|c| c == b' ' || c == b'\t');
    let line_start = text.as_bytes()[..cursor]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    text.get(line_start..cursor).is_some_and(blank)
        && text.get(cursor..next.start).is_some_and(blank)
}

/// Byte offset of the cursor at (`row`, `col`), where `row` indexes the lines of `text` split on
/// `'\n'` and `col` is a char index in that line (the editor's cursor model). Out-of-range rows
/// clamp to the last line, out-of-range columns to the end of the line.
pub fn byte_offset(text: &str, row: usize, col: usize) -> usize {
    let mut line_start = 0;
    for (n, line) in text.split('\n').enumerate() {
        let is_last = line_start + line.len() == text.len();
        if n == row || is_last {
            let in_line = line.char_indices().nth(col).map_or(line.len(), |(b, _)| b);
            return line_start + in_line;
        }
        line_start += line.len() + 1;
    }
    text.len()
}

/// Where in its statement an engine placed an error, as 1-based (line, column): PostgreSQL and
/// Redshift as Quarry writes them (`at line 2, column 7`), Trino/Athena (`line 2:7: …`).
pub fn error_location(message: &str) -> Option<(usize, usize)> {
    fn number(s: &str) -> Option<(usize, &str)> {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        Some((s[..end].parse().ok()?, &s[end..]))
    }
    for (i, _) in message.match_indices("line ") {
        let after = &message[i + 5..];
        let Some((line, rest)) = number(after) else {
            continue;
        };
        let column = if let Some(r) = rest.strip_prefix(", column ") {
            number(r)
        } else if let Some(r) = rest.strip_prefix(':') {
            number(r)
        } else {
            None
        };
        if let Some((column, _)) = column.filter(|(c, _)| *c > 0)
            && line > 0
        {
            return Some((line, column));
        }
    }
    None
}

/// The (row, char column) of the editor where 1-based `line`/`column` of `statement` fall, the
/// statement being found in `text` (its first occurrence).
pub fn locate_in(
    text: &str,
    statement: &str,
    line: usize,
    column: usize,
) -> Option<(usize, usize)> {
    let start = text.find(statement)?;
    let before = &text[..start];
    let row = before.matches('\n').count();
    let col = before.rsplit('\n').next().unwrap_or("").chars().count();
    // The numbers come from a server's message: huge ones clamp instead of overflowing.
    let (row, col) = if line <= 1 {
        (row, col.saturating_add(column.saturating_sub(1)))
    } else {
        (row.saturating_add(line - 1), column.saturating_sub(1))
    };
    Some((row, col))
}

/// Quotes an identifier with double quotes unless it is a plain lower-case identifier
/// (`^[a-z_][a-z0-9_]*$`), doubling embedded `"`. Upper case, spaces, dots, non-ASCII and
/// everything else are quoted so the name reaches the engine exactly as the catalog spelled it.
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .bytes()
        .enumerate()
        .all(|(i, c)| c.is_ascii_lowercase() || c == b'_' || (i > 0 && c.is_ascii_digit()));
    if plain && !name.is_empty() {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A parameter placeholder found in SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub kind: PlaceholderKind,
    /// Byte range of the placeholder (`?` or `:name`, colon included) in the text.
    pub start: usize,
    pub end: usize,
}

/// Positional (`?`) or named (`:name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceholderKind {
    /// The n-th `?` of the text, counting from 0.
    Positional(usize),
    /// `:name`; the name without its colon. The same name may occur several times.
    Named(String),
}

/// Finds `?` and `:name` placeholders outside strings, comments and quoted identifiers, in order.
///
/// `::type` casts, `a:b` (array slices, JSON paths) and `:1` are not placeholders. A `?` is always
/// taken as a placeholder, including PostgreSQL's jsonb `?` operators: there is no telling them
/// apart without types.
pub fn placeholders(text: &str) -> Vec<Placeholder> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut positional = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some((_, end)) = opaque_at(text, i) {
            i = end;
            continue;
        }
        match bytes[i] {
            b'?' => {
                found.push(Placeholder {
                    kind: PlaceholderKind::Positional(positional),
                    start: i,
                    end: i + 1,
                });
                positional += 1;
            }
            b':' if starts_named(bytes, i) => {
                let name_len = bytes[i + 1..]
                    .iter()
                    .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
                    .unwrap_or(bytes.len() - i - 1);
                let end = i + 1 + name_len;
                found.push(Placeholder {
                    kind: PlaceholderKind::Named(text[i + 1..end].to_owned()),
                    start: i,
                    end,
                });
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The distinct `:name` parameters of `text`, in order of first appearance.
pub fn named_params(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in placeholders(text) {
        if let PlaceholderKind::Named(name) = p.kind
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    names
}

/// How many `?` placeholders `text` has.
pub fn positional_count(text: &str) -> usize {
    placeholders(text)
        .iter()
        .filter(|p| matches!(p.kind, PlaceholderKind::Positional(_)))
        .count()
}

/// Whether the `:` at `i` opens a named placeholder: followed by a name start, and not the second
/// half of `::` nor glued to a preceding identifier or closing bracket.
fn starts_named(b: &[u8], i: usize) -> bool {
    let name_follows = b
        .get(i + 1)
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_');
    let prev_ok =
        i == 0 || !(b[i - 1] == b':' || is_ident_byte(b[i - 1]) || matches!(b[i - 1], b')' | b']'));
    name_follows && prev_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        split_statements(text).into_iter().map(|s| s.text).collect()
    }

    /// Every statement's range must slice exactly its text out of the input.
    fn assert_ranges(text: &str) {
        for s in split_statements(text) {
            assert_eq!(
                &text[s.start..s.end],
                s.text,
                "range of {:?} in {text:?}",
                s.text
            );
        }
    }

    #[test]
    fn splits_simple_statements_and_trims() {
        let text = "  SELECT 1;\n\nSELECT 2 ;  select 3";
        assert_eq!(texts(text), ["SELECT 1", "SELECT 2", "select 3"]);
        let s = split_statements(text);
        assert_eq!((s[0].start, s[0].end), (2, 10));
        assert_eq!((s[2].start, s[2].end), (text.len() - 8, text.len()));
        assert_ranges(text);
    }

    #[test]
    fn statement_without_trailing_semicolon() {
        assert_eq!(texts("SELECT 1"), ["SELECT 1"]);
        assert_eq!(texts("SELECT 1;"), ["SELECT 1"]);
        assert_eq!(texts("SELECT 1\n"), ["SELECT 1"]);
    }

    #[test]
    fn semicolons_in_quotes_do_not_split() {
        assert_eq!(
            texts("SELECT 'it''s; fine'; SELECT 2"),
            ["SELECT 'it''s; fine'", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT \"a;b\"\"\"; SELECT 2"),
            ["SELECT \"a;b\"\"\"", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT `a;``b`; SELECT 2"),
            ["SELECT `a;``b`", "SELECT 2"]
        );
        assert_ranges("SELECT 'it''s; fine'; SELECT 2");
    }

    #[test]
    fn semicolons_in_comments_do_not_split() {
        assert_eq!(
            texts("SELECT 1 -- no; split\n, 2; SELECT 3"),
            ["SELECT 1 -- no; split\n, 2", "SELECT 3"]
        );
        assert_eq!(
            texts("SELECT /* a; /* b; */ c; */ 1; SELECT 2"),
            ["SELECT /* a; /* b; */ c; */ 1", "SELECT 2"]
        );
    }

    #[test]
    fn dollar_quotes_do_not_split() {
        let body = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql";
        assert_eq!(texts(&format!("{body}; SELECT 2")), [body, "SELECT 2"]);
        let tagged = "DO $fn$ BEGIN PERFORM 1; RAISE NOTICE '$$'; END $fn$";
        assert_eq!(texts(&format!("{tagged};SELECT 2;")), [tagged, "SELECT 2"]);
        assert_eq!(
            texts("SELECT $1; SELECT a$b$c; SELECT 3"),
            ["SELECT $1", "SELECT a$b$c", "SELECT 3"]
        );
    }

    #[test]
    fn comment_only_and_empty_pieces_are_dropped() {
        assert_eq!(texts(""), Vec::<String>::new());
        assert_eq!(texts(" ;; \n ; "), Vec::<String>::new());
        assert_eq!(
            texts("-- just a note\n/* and this; */ ;"),
            Vec::<String>::new()
        );
        assert_eq!(texts("SELECT 1; -- done"), ["SELECT 1"]);
        assert_eq!(texts("-- lead\nSELECT 1"), ["-- lead\nSELECT 1"]);
        assert_eq!(
            texts("SELECT ''; SELECT \"\""),
            ["SELECT ''", "SELECT \"\""]
        );
        assert_eq!(texts("'';"), ["''"]);
    }

    #[test]
    fn unterminated_constructs_run_to_the_end() {
        assert_eq!(
            texts("SELECT 1; SELECT 'oops; SELECT 3"),
            ["SELECT 1", "SELECT 'oops; SELECT 3"]
        );
        assert_eq!(texts("SELECT 1; /* open; SELECT 3"), ["SELECT 1"]);
        assert_eq!(
            texts("SELECT 1; SELECT $$ open; x"),
            ["SELECT 1", "SELECT $$ open; x"]
        );
        assert_eq!(texts("SELECT \"open;"), ["SELECT \"open;"]);
        assert_eq!(texts("SELECT 1 --"), ["SELECT 1 --"]);
    }

    #[test]
    fn unicode_text_keeps_char_boundaries() {
        let text = "SELECT 'żółw; 🐢' AS ñ;\n  SELECT \"名前\" FROM t; — ";
        assert_eq!(
            texts(text),
            ["SELECT 'żółw; 🐢' AS ñ", "SELECT \"名前\" FROM t", "—"]
        );
        assert_ranges(text);
    }

    #[test]
    fn never_panics_on_awkward_input() {
        let samples = [
            "'", "\"", "`", "$", "$$", "$a", "$a$", "/", "/*", "*/", "-", "--", ";", "?", ":",
            "::", "é'", "$é$", "/*/", "'''",
        ];
        for a in samples {
            for b in samples {
                let text = format!("{a}{b}x{a};{b}");
                assert_ranges(&text);
                let _ = placeholders(&text);
                for cursor in 0..=text.len() + 1 {
                    let _ = statement_at(&text, cursor);
                }
            }
        }
    }

    #[test]
    fn long_input_is_linear() {
        // Quadratic scanning of nested comments or dollar quotes would take minutes here.
        let text = "/*".repeat(200_000) + &"$a$".repeat(100_000) + &"'".repeat(100_001);
        let start = std::time::Instant::now();
        assert!(split_statements(&text).is_empty());
        assert!(placeholders(&text).is_empty());
        assert!(start.elapsed().as_secs() < 5);
    }

    fn at(text: &str, cursor: usize) -> Option<String> {
        statement_at(text, cursor).map(|s| s.text)
    }

    #[test]
    fn cursor_inside_and_at_the_edges_of_a_statement() {
        let text = "SELECT 1;\nSELECT 2;";
        assert_eq!(at(text, 0).as_deref(), Some("SELECT 1"));
        assert_eq!(
            at(text, 8).as_deref(),
            Some("SELECT 1"),
            "right after the last char"
        );
        assert_eq!(
            at(text, 9).as_deref(),
            Some("SELECT 1"),
            "right after the ';'"
        );
        assert_eq!(
            at(text, 10).as_deref(),
            Some("SELECT 2"),
            "at the start of the next"
        );
        assert_eq!(at(text, text.len()).as_deref(), Some("SELECT 2"));
        assert_eq!(
            at(text, 10_000).as_deref(),
            Some("SELECT 2"),
            "past the end clamps"
        );
    }

    #[test]
    fn cursor_on_one_line_with_two_statements() {
        let text = "SELECT 1; SELECT 2";
        assert_eq!(at(text, 9).as_deref(), Some("SELECT 1"));
        assert_eq!(at(text, 10).as_deref(), Some("SELECT 2"));
    }

    #[test]
    fn cursor_in_blank_space_between_statements() {
        let text = "SELECT 1;   \n\n\n  SELECT 2;\n\n";
        assert_eq!(at(text, 11).as_deref(), Some("SELECT 1"), "trailing spaces");
        assert_eq!(at(text, 13).as_deref(), Some("SELECT 1"), "blank line");
        assert_eq!(
            at(text, 15).as_deref(),
            Some("SELECT 2"),
            "indentation of the next statement"
        );
        assert_eq!(
            at(text, text.len()).as_deref(),
            Some("SELECT 2"),
            "trailing blank lines"
        );
    }

    #[test]
    fn cursor_before_the_first_statement() {
        let text = "\n\n  SELECT 1;\nSELECT 2";
        assert_eq!(at(text, 0).as_deref(), Some("SELECT 1"));
        assert_eq!(at(text, 1).as_deref(), Some("SELECT 1"));
        let commented = "-- only a note\n;\n\nSELECT 1";
        assert_eq!(at(commented, 0).as_deref(), Some("SELECT 1"));
    }

    #[test]
    fn no_statement_at_all() {
        assert_eq!(statement_at("", 0), None);
        assert_eq!(statement_at("  \n -- note\n ;", 3), None);
    }

    #[test]
    fn statement_at_returns_the_range() {
        let text = "SELECT 1;\n  SELECT 'ü';";
        let s = statement_at(text, text.len()).expect("a statement");
        assert_eq!(&text[s.start..s.end], "SELECT 'ü'");
    }

    #[test]
    fn byte_offset_follows_the_editor_model() {
        let text = "ab\nżółw\n\nxyz";
        assert_eq!(byte_offset(text, 0, 0), 0);
        assert_eq!(byte_offset(text, 0, 2), 2);
        assert_eq!(byte_offset(text, 1, 0), 3);
        assert_eq!(byte_offset(text, 1, 1), 5, "'ż' is two bytes");
        assert_eq!(byte_offset(text, 1, 4), 10, "end of line 1");
        assert_eq!(
            byte_offset(text, 1, 99),
            10,
            "column clamps to the end of the line"
        );
        assert_eq!(byte_offset(text, 2, 5), 11, "empty line");
        assert_eq!(byte_offset(text, 3, 1), 13);
        assert_eq!(byte_offset(text, 9, 0), 12, "row clamps to the last line");
        assert_eq!(byte_offset(text, 9, 9), text.len());
        assert_eq!(byte_offset("", 3, 3), 0);
        assert_eq!(byte_offset("a\n", 1, 0), 2);
        assert_eq!(byte_offset("a\n", 5, 5), 2);
    }

    #[test]
    fn byte_offset_and_statement_at_together() {
        let text = "SELECT 1;\nSELECT 'é'";
        let cursor = byte_offset(text, 1, 10);
        assert_eq!(at(text, cursor).as_deref(), Some("SELECT 'é'"));
    }

    #[test]
    fn quote_ident_quotes_only_when_needed() {
        assert_eq!(quote_ident("trips"), "trips");
        assert_eq!(quote_ident("_x9"), "_x9");
        assert_eq!(quote_ident("Trips"), "\"Trips\"");
        assert_eq!(quote_ident("9lives"), "\"9lives\"");
        assert_eq!(quote_ident("my table"), "\"my table\"");
        assert_eq!(quote_ident("a.b"), "\"a.b\"");
        assert_eq!(quote_ident("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote_ident("zażółć"), "\"zażółć\"");
        assert_eq!(quote_ident(""), "\"\"");
    }

    #[test]
    fn finds_positional_and_named_placeholders() {
        let text = "SELECT * FROM t WHERE a = ? AND b = :name AND c IN (?, :other_1) AND d = :name";
        let found = placeholders(text);
        let kinds: Vec<_> = found.iter().map(|p| p.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                PlaceholderKind::Positional(0),
                PlaceholderKind::Named("name".into()),
                PlaceholderKind::Positional(1),
                PlaceholderKind::Named("other_1".into()),
                PlaceholderKind::Named("name".into()),
            ]
        );
        assert_eq!(&text[found[1].start..found[1].end], ":name");
        assert_eq!(&text[found[0].start..found[0].end], "?");
    }

    #[test]
    fn placeholders_skip_strings_comments_identifiers_and_casts() {
        let text = "SELECT '?', ':a', \"?:b\", `?`, $$ ? :c $$, x::int, arr[1:2], arr[i:j], f(x):y -- ? :d\n/* ? :e */";
        assert_eq!(placeholders(text), Vec::<Placeholder>::new());
        assert_eq!(
            placeholders(":start")[0].kind,
            PlaceholderKind::Named("start".into())
        );
        assert_eq!(placeholders("x=:1"), Vec::<Placeholder>::new());
    }

    #[test]
    fn named_placeholder_ends_at_non_word_char() {
        let found = placeholders("WHERE d = :day_1::date");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, PlaceholderKind::Named("day_1".into()));
        assert_eq!((found[0].start, found[0].end), (10, 16));
    }
}

#[cfg(test)]
mod location_tests {
    use super::*;

    #[test]
    fn error_locations_of_both_dialects() {
        assert_eq!(
            error_location("ERROR: syntax error (SQLSTATE 42601)\nat line 2, column 7: FRM t"),
            Some((2, 7))
        );
        assert_eq!(
            error_location("line 1:15: mismatched input 'FRM'"),
            Some((1, 15))
        );
        assert_eq!(error_location("no such table in line with x"), None);
        let text = "select 1;\n\n  select *\n  frm t;";
        assert_eq!(locate_in(text, "select *\n  frm t", 2, 3), Some((3, 2)));
        assert_eq!(locate_in(text, "select *\n  frm t", 1, 8), Some((2, 9)));
        // Positions come from server messages: near usize::MAX they clamp, not overflow.
        let (line, column) =
            error_location("line 18446744073709551615:18446744073709551615:").expect("a location");
        assert_eq!(
            locate_in(text, "select *\n  frm t", line, column),
            Some((usize::MAX, usize::MAX - 1))
        );
        assert_eq!(
            locate_in(text, "select *\n  frm t", 1, column),
            Some((2, usize::MAX))
        );
        assert_eq!(locate_in(text, "t;", 1, 0), Some((3, 6)));
    }

    #[test]
    fn unicode_whitespace_alone_is_no_statement() {
        // Found by the fuzz tests: U+0085 alone made an empty statement.
        assert_eq!(split_statements("\u{85}"), Vec::new());
        let split = split_statements("select 1;\u{a0}\u{3000};\u{85}");
        assert_eq!(split.len(), 1);
        assert_eq!(split[0].text, "select 1");
        assert_eq!(statement_at("\u{a0}", 0), None);
    }
}
