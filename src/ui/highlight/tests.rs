//! Highlighting tests: styles, sanitising, the incremental cache and long lines.

use super::*;
use std::sync::OnceLock;

use crate::model::themes::THEMES;

/// One loaded syntax set for all tests; each test gets its own cache through `fresh_copy`.
fn shared() -> &'static SqlHighlighter {
    static H: OnceLock<SqlHighlighter> = OnceLock::new();
    H.get_or_init(SqlHighlighter::new)
}

/// A highlighter with an empty cache, sharing nothing mutable with other tests.
fn fresh_copy() -> SqlHighlighter {
    let h = shared();
    SqlHighlighter {
        syntaxes: h.syntaxes.clone(),
        syntax: h.syntax,
        theme: h.theme.clone(),
        cache: Mutex::new(Cache::new(0, h.fresh())),
    }
}

fn lines(text: &[&str]) -> Vec<String> {
    text.iter().map(|s| s.to_string()).collect()
}

/// The style of the span containing `needle` on a highlighted line.
fn style_of(line: &StyledLine, needle: &str) -> Style {
    line.iter()
        .find(|(_, text)| text.contains(needle))
        .map(|(style, _)| *style)
        .unwrap_or_else(|| panic!("{needle:?} not in {line:?}"))
}

fn text_of(line: &StyledLine) -> String {
    line.iter().map(|(_, t)| t.as_str()).collect()
}

fn buffer(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 4 {
            0 => format!("SELECT col_{i}, 'text {i}' AS label"),
            1 => format!("  FROM table_{i} -- note {i}"),
            2 => format!("  WHERE x = {i} /* c */ AND y = \"Q{i}\""),
            _ => "  ORDER BY 1;".to_string(),
        })
        .collect()
}

#[test]
fn every_listed_theme_is_bundled() {
    let bundled = ThemeSet::load_defaults().themes;
    for t in THEMES {
        assert!(bundled.contains_key(*t), "{t}");
    }
}

#[test]
fn finds_the_sql_syntax_and_theme() {
    let h = shared();
    assert!(h.syntax.is_some(), "syntect's defaults should include SQL");
    assert_eq!(h.theme.name.as_deref(), Some("Base16 Ocean Dark"));
}

#[test]
fn keywords_identifiers_and_strings_differ() {
    let h = fresh_copy();
    let out = h.highlight(
        &lines(&["SELECT name FROM trips WHERE city = 'Paris'"]),
        0,
        1,
    );
    let line = &out[0];
    assert_eq!(text_of(line), "SELECT name FROM trips WHERE city = 'Paris'");
    let keyword = style_of(line, "SELECT");
    let ident = style_of(line, "name");
    let string = style_of(line, "Paris");
    assert_ne!(keyword, ident);
    assert_ne!(string, ident);
    assert_ne!(string, keyword);
    assert_eq!(keyword, style_of(line, "WHERE"));
    for (style, _) in line {
        assert!(style.fg.is_some() && style.bg.is_none(), "{style:?}");
    }
}

#[test]
fn multi_line_comment_styles_following_lines() {
    let h = fresh_copy();
    let mut text = lines(&["/* open", "SELECT still_comment", "*/ SELECT 1"]);
    let out = h.highlight(&text, 0, 3);
    let comment = style_of(&out[0], "open");
    assert_eq!(style_of(&out[1], "SELECT"), comment);
    assert_ne!(style_of(&out[2], "SELECT"), comment);
    // Closing the comment on line 0 must re-style line 1, which did not change.
    text[0] = "/* open */".into();
    let out = h.highlight(&text, 1, 1);
    assert_ne!(style_of(&out[0], "SELECT"), comment);
}

#[test]
fn control_chars_are_sanitised() {
    let h = fresh_copy();
    let out = h.highlight(
        &lines(&["SELECT '\u{1b}[31mred\tx\u{7}\r\u{7f}\u{9b}'"]),
        0,
        1,
    );
    let text = text_of(&out[0]);
    assert_eq!(text, "SELECT '␛[31mred    x␇␍␡\u{fffd}'");
    assert!(!text.chars().any(char::is_control));
}

#[test]
fn window_is_clamped() {
    let h = fresh_copy();
    let text = buffer(10);
    assert_eq!(h.highlight(&text, 8, 45).len(), 2);
    assert!(h.highlight(&text, 10, 5).is_empty());
    assert!(h.highlight(&text, usize::MAX, usize::MAX).is_empty());
    assert!(h.highlight(&[], 0, 45).is_empty());
    assert_eq!(h.highlight(&text, 3, usize::MAX).len(), 7);
}

#[test]
fn unchanged_text_is_served_from_the_cache() {
    let h = fresh_copy();
    let text = buffer(200);
    let first = h.highlight(&text, 100, 45);
    assert_eq!(h.take_parsed(), 145);
    assert_eq!(h.highlight(&text, 100, 45), first);
    assert_eq!(h.take_parsed(), 0);
    // Scrolling down one line parses one line; scrolling back up none.
    h.highlight(&text, 101, 45);
    assert_eq!(h.take_parsed(), 1);
    h.highlight(&text, 50, 45);
    assert_eq!(h.take_parsed(), 0);
}

#[test]
fn editing_a_line_reparses_only_a_few() {
    let h = fresh_copy();
    let mut text = buffer(300);
    h.highlight(&text, 250, 45);
    h.take_parsed();
    text[270].push_str(" AND z = 'new'");
    let out = h.highlight(&text, 250, 45);
    assert!(h.take_parsed() <= STRIDE + 1);
    assert!(text_of(&out[20]).ends_with(" AND z = 'new'"));
}

#[test]
fn edit_at_line_4900_of_5000_parses_under_100_lines() {
    let h = fresh_copy();
    let mut text = buffer(5_000);
    let before = h.highlight(&text, 4_900, 45);
    assert_eq!(before.len(), 45);
    let first_jump = h.take_parsed();
    assert!(
        first_jump <= APPROX_LEAD + 45,
        "first jump parsed {first_jump} lines"
    );
    text[4_910].insert(0, 'x');
    let after = h.highlight(&text, 4_900, 45);
    let parsed = h.take_parsed();
    assert!(parsed < 100, "parsed {parsed} lines after one edit");
    assert!(text_of(&after[10]).starts_with('x'));
    // Typing more on the same line stays as cheap.
    for c in ['y', 'z', '\''] {
        text[4_910].push(c);
        h.highlight(&text, 4_900, 45);
        let parsed = h.take_parsed();
        assert!(parsed < 100, "parsed {parsed} lines typing {c:?}");
    }
}

#[test]
fn far_jump_falls_back_to_a_nearby_fresh_state() {
    let h = fresh_copy();
    let text = buffer(5_000);
    h.highlight(&text, 0, 45);
    h.take_parsed();
    h.highlight(&text, 4_000, 45);
    assert_eq!(h.take_parsed(), APPROX_LEAD + 45);
    // Back to the top: exact again, from line 0.
    h.highlight(&text, 10, 45);
    assert_eq!(h.take_parsed(), 55);
    // A medium jump is parsed exactly from the cache's end.
    h.highlight(&text, 1_500, 45);
    assert_eq!(h.take_parsed(), 1_545 - 55);
}

/// Incremental results after arbitrary edits must equal highlighting from scratch.
#[test]
fn incremental_matches_from_scratch_after_edits() {
    let h = fresh_copy();
    let mut text = buffer(120);
    type Edit = fn(&mut Vec<String>);
    let edits: [Edit; 8] = [
        |t| t[5].push_str(" /* opens a comment"),
        |t| t[40].push_str(" */"),
        |t| t.insert(10, "SELECT 'inserted".into()),
        |t| t[10].push('\''),
        |t| {
            t.remove(3);
        },
        |t| t[70] = "$$ dollar".into(),
        |t| t.truncate(100),
        |t| t.extend(buffer(30)),
    ];
    for (n, edit) in edits.iter().enumerate() {
        edit(&mut text);
        for first in [0, 30, 60, 90] {
            let incremental = h.highlight(&text, first, 45);
            let scratch = fresh_copy().highlight(&text, first, 45);
            assert_eq!(incremental, scratch, "edit {n}, window at {first}");
        }
    }
}

#[test]
fn sanitize_maps_controls_to_pictures() {
    assert_eq!(sanitize("a\u{0}b\u{1b}c\td"), "a␀b␛c    d");
    assert_eq!(sanitize("żółw 🐢"), "żółw 🐢");
}

#[test]
fn bidi_controls_and_separators_are_drawn_inert() {
    let h = fresh_copy();
    let line = "SELECT 'a\u{202e}b\u{2066}c\u{2069}d\u{2028}e\u{2029}f\u{202a}'";
    let out = h.highlight(&lines(&[line]), 0, 1);
    let text = text_of(&out[0]);
    assert_eq!(
        text,
        "SELECT 'a\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}e\u{fffd}f\u{fffd}'"
    );
    assert!(!text.chars().any(crate::results::is_terminal_unsafe));
    // One stand-in per char: the columns still match the text's.
    assert_eq!(text.chars().count(), line.chars().count());
}

#[test]
fn window_clips_short_lines_to_the_visible_columns() {
    let h = fresh_copy();
    let text = lines(&["SELECT name FROM t", "x"]);
    let full = h.highlight(&text, 0, 2);
    let out = h.highlight_window(&text, 0, 2, 7, 4);
    assert_eq!(text_of(&out[0]), "name");
    assert_eq!(style_of(&out[0], "name"), style_of(&full[0], "name"));
    assert!(out[1].is_empty());
    assert_eq!(h.highlight_window(&text, 0, 1, 0, usize::MAX), full[..1]);
}

#[test]
fn a_long_line_is_highlighted_only_where_it_is_visible() {
    let h = fresh_copy();
    let mut long = "SELECT ".to_string();
    while long.len() < 1_000_000 {
        long.push_str("col_1 + 'txt', ");
    }
    long.push_str("42 FROM t");
    let chars = long.chars().count();
    let text = vec![
        "SELECT 1;".to_string(),
        long.clone(),
        "SELECT 2".to_string(),
    ];
    let out = h.highlight_window(&text, 0, 3, chars - 20, 40);
    assert_eq!(text_of(&out[1]), &long[long.len() - 20..]);
    assert_ne!(style_of(&out[1], "FROM"), style_of(&out[1], "42"));
    assert_eq!(text_of(&out[2]), "");
    let out = h.highlight_window(&text, 0, 3, 0, 40);
    assert_eq!(text_of(&out[2]), "SELECT 2");
    // The line after a long one starts afresh: styled like the same text at the top.
    let alone = h.highlight(&lines(&["SELECT 2"]), 0, 1);
    assert_eq!(out[2], alone[0]);
    // Typing into the long line re-parses no short line after it, nor the long line whole.
    h.highlight_window(&text, 0, 3, 0, 40);
    h.take_parsed();
    let mut edited = text.clone();
    edited[1].insert(500_000, 'x');
    h.highlight_window(&edited, 0, 3, 500_000, 40);
    assert_eq!(h.take_parsed(), 0);
}

#[test]
fn char_window_counts_chars_not_bytes() {
    assert_eq!(char_window("abcdef", 2, 3), "cde");
    assert_eq!(char_window("abc", 2, 10), "c");
    assert_eq!(char_window("abc", 5, 10), "");
    assert_eq!(char_window("abc", 0, 0), "");
    assert_eq!(char_window("żółw 漢字 x", 2, 4), "łw 漢");
    assert_eq!(char_window("żółw", 4, 1), "");
}
