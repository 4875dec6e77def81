//! The cell inspector's text, laid out once and drawn a window at a time.
//!
//! A value can be megabytes long, on one line, or JSON nested thousands deep. The layout is
//! built in one linear pass (no recursion, so no depth can overflow the stack): lines are kept
//! without their indentation, which is a level per line (at most [`INDENT_CAP`]: containers
//! deeper than that stay compact on one line), and lines longer than [`LONG_LINE`] bytes get a
//! mark every [`MARK_EVERY`] chars. Any window of it — `rows` lines from `top`, `cols` chars from
//! `left` — is then found in time proportional to the window, not to the value.

use super::sanitize::sanitize_multiline;

/// Nesting levels that are indented; deeper containers are written compact on one line.
pub const INDENT_CAP: usize = 24;
/// Columns of indentation per level.
const INDENT_WIDTH: usize = 2;
/// Lines longer than this many bytes get char marks (shorter ones are walked from the start).
const LONG_LINE: usize = 4096;
/// Chars between two marks of a long line.
const MARK_EVERY: usize = 1024;

/// A laid-out, sanitised text for the inspector: lines, their indentation and char marks.
#[derive(Clone, PartialEq)]
pub struct InspectText {
    /// Sanitised lines, without indentation, joined by '\n'.
    text: String,
    /// Byte offset in `text` where each line starts; never empty.
    starts: Vec<usize>,
    /// Indentation level of each line (empty: no line is indented).
    indents: Vec<u8>,
    /// For each long line (sorted by line): the byte offset, from the line's start, of every
    /// `MARK_EVERY`-th char.
    marks: Vec<(usize, Vec<usize>)>,
    /// Chars of the widest line, indentation included.
    widest: usize,
}

impl std::fmt::Debug for InspectText {
    // The text may be megabytes: its size says enough.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InspectText")
            .field("bytes", &self.text.len())
            .field("lines", &self.starts.len())
            .field("widest", &self.widest)
            .finish()
    }
}

impl Default for InspectText {
    /// One empty line.
    fn default() -> Self {
        InspectText::plain("")
    }
}

impl InspectText {
    /// Text shown as it is: one line per '\n', control characters made visible.
    pub fn plain(text: &str) -> InspectText {
        InspectText::build(sanitize_multiline(text).into_owned(), Vec::new())
    }

    /// Valid JSON text re-indented the way `serde_json::to_string_pretty` does (two spaces,
    /// `": "`), keeping key order and number text as written; containers nested deeper than
    /// [`INDENT_CAP`] stay compact. Linear in `src`.
    pub fn json(src: &str) -> InspectText {
        let (text, indents) = layout_json(src);
        // Valid JSON has no raw control characters outside whitespace, but be safe: sanitising
        // keeps every '\n' and adds none, so the indentation still matches the lines.
        let text = match sanitize_multiline(&text) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(clean) => clean,
        };
        InspectText::build(text, indents)
    }

    fn build(text: String, indents: Vec<u8>) -> InspectText {
        let mut starts = Vec::with_capacity(indents.len().max(1));
        starts.push(0);
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut out = InspectText {
            text,
            starts,
            indents,
            marks: Vec::new(),
            widest: 0,
        };
        for line in 0..out.starts.len() {
            let s = out.line(line);
            let chars = if s.is_ascii() {
                s.len()
            } else {
                s.chars().count()
            };
            if s.len() > LONG_LINE {
                let marks = s
                    .char_indices()
                    .step_by(MARK_EVERY)
                    .map(|(i, _)| i)
                    .collect();
                out.marks.push((line, marks));
            }
            out.widest = out.widest.max(chars + out.indent(line));
        }
        out
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Chars of the widest line, indentation included.
    pub fn widest(&self) -> usize {
        self.widest
    }

    /// Columns of indentation before line `i`.
    pub fn indent(&self, i: usize) -> usize {
        self.indents
            .get(i)
            .map_or(0, |&l| usize::from(l) * INDENT_WIDTH)
    }

    /// Line `i` without its indentation ("" past the end).
    pub fn line(&self, i: usize) -> &str {
        let Some(&start) = self.starts.get(i) else {
            return "";
        };
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.text.len(), |&next| next - 1);
        self.text.get(start..end).unwrap_or("")
    }

    /// What shows of line `i` from display char `left` on, at most `max` chars: the spaces of
    /// indentation still in view, then the text. Work is bounded by `max` and [`MARK_EVERY`],
    /// whatever the line's length.
    pub fn window(&self, i: usize, left: usize, max: usize) -> (usize, &str) {
        let indent = self.indent(i);
        let spaces = indent.saturating_sub(left).min(max);
        let skip = left.saturating_sub(indent);
        let line = self.line(i);
        let (mut from, mut to_skip) = (0, skip);
        if let Ok(k) = self.marks.binary_search_by_key(&i, |(line, _)| *line) {
            let marks = &self.marks[k].1;
            let m = (skip / MARK_EVERY).min(marks.len().saturating_sub(1));
            from = marks.get(m).copied().unwrap_or(0);
            to_skip = skip - m * MARK_EVERY;
        }
        let rest = line.get(from..).unwrap_or("");
        let start = nth_char_offset(rest, to_skip);
        let rest = &rest[start..];
        let end = nth_char_offset(rest, max - spaces);
        (spaces, &rest[..end])
    }

    /// The whole text with its indentation, as one string (for copying).
    pub fn to_text(&self) -> String {
        let extra: usize = (0..self.line_count()).map(|i| self.indent(i)).sum();
        let mut out = String::with_capacity(self.text.len() + extra);
        for i in 0..self.line_count() {
            if i > 0 {
                out.push('\n');
            }
            out.extend(std::iter::repeat_n(' ', self.indent(i)));
            out.push_str(self.line(i));
        }
        out
    }
}

/// Byte offset of char `n` of `s` (its length when `s` has fewer chars).
fn nth_char_offset(s: &str, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// Lines of pretty JSON without their indentation (joined by '\n'), and each line's level.
/// One pass over the bytes: JSON's structural characters are ASCII, so every cut falls on a
/// char boundary; string literals are copied whole.
fn layout_json(src: &str) -> (String, Vec<u8>) {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len() + src.len() / 4);
    let mut indents: Vec<u8> = vec![0];
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let end = string_end(b, i);
                out.push_str(src.get(i..end).unwrap_or(""));
                i = end;
                continue;
            }
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                out.push(char::from(open));
                let next = skip_whitespace(b, i + 1);
                if b.get(next) == Some(&close) {
                    out.push(char::from(close)); // keep `{}` and `[]` on one line
                    i = next + 1;
                    continue;
                }
                depth += 1;
                if depth <= INDENT_CAP {
                    new_line(&mut out, &mut indents, depth);
                }
            }
            close @ (b'}' | b']') => {
                if depth <= INDENT_CAP {
                    new_line(&mut out, &mut indents, depth.saturating_sub(1));
                }
                depth = depth.saturating_sub(1);
                out.push(char::from(close));
            }
            b',' => {
                out.push(',');
                if depth <= INDENT_CAP {
                    new_line(&mut out, &mut indents, depth);
                }
            }
            b':' => out.push_str(if depth <= INDENT_CAP { ": " } else { ":" }),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {
                // A number or a literal: up to the next structural or blank byte.
                let end = b[i..]
                    .iter()
                    .position(|c| b"\"{}[],: \t\n\r".contains(c))
                    .map_or(b.len(), |n| i + n);
                out.push_str(src.get(i..end).unwrap_or(""));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    (out, indents)
}

/// The byte after the string literal starting at `b[start] == b'"'` (or the end of input).
fn string_end(b: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

fn skip_whitespace(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

fn new_line(out: &mut String, indents: &mut Vec<u8>, depth: usize) {
    out.push('\n');
    indents.push(u8::try_from(depth.min(INDENT_CAP)).unwrap_or(u8::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty(src: &str) -> String {
        InspectText::json(src).to_text()
    }

    #[test]
    fn json_matches_serde_layout() {
        let src = r#"{"b":[1,2,{}],"a":{"x":"q\"uo,te:"},"e":[ ]}"#;
        let expected = "{\n  \"b\": [\n    1,\n    2,\n    {}\n  ],\n  \"a\": {\n    \"x\": \"q\\\"uo,te:\"\n  },\n  \"e\": []\n}";
        assert_eq!(pretty(src), expected);
        let value: serde_json::Value = serde_json::from_str(&pretty(src)).unwrap();
        assert_eq!(
            value,
            serde_json::from_str::<serde_json::Value>(src).unwrap()
        );
    }

    #[test]
    fn json_keeps_big_numbers_and_non_ascii_exact() {
        assert_eq!(
            pretty("[123456789012345678901234567890, \"é漢\\u00e9\"]"),
            "[\n  123456789012345678901234567890,\n  \"é漢\\u00e9\"\n]"
        );
    }

    #[test]
    fn nesting_deeper_than_the_cap_stays_compact() {
        let depth = 20_000;
        let src = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let t = InspectText::json(&src);
        // One line per indented level opened and closed, and the compact rest on one line.
        assert_eq!(t.line_count(), 2 * INDENT_CAP + 1);
        let middle = t.line(INDENT_CAP);
        assert_eq!(t.indent(INDENT_CAP), INDENT_CAP * 2);
        assert_eq!(middle.len(), 2 * (depth - INDENT_CAP));
        assert_eq!(t.widest(), INDENT_CAP * 2 + middle.len());
        // Still the same JSON (checked without serde_json's recursion limit: by shape).
        assert_eq!(t.to_text().replace([' ', '\n'], ""), src);
    }

    #[test]
    fn window_of_a_huge_line_is_found_without_walking_it() {
        let line: String = (0..3_000_000)
            .map(|i| if i % 7 == 0 { 'é' } else { 'a' })
            .collect();
        let t = InspectText::plain(&format!("{line}x\nshort"));
        assert_eq!(t.line_count(), 2);
        assert_eq!(t.widest(), 3_000_001);
        let (spaces, end) = t.window(0, 3_000_001 - 5, 100);
        assert_eq!(spaces, 0);
        let expected: String = line.chars().skip(3_000_000 - 4).chain(['x']).collect();
        assert_eq!(end, expected);
        let (_, mid) = t.window(0, 1_500_003, 4);
        assert_eq!(
            mid,
            line.chars().skip(1_500_003).take(4).collect::<String>()
        );
        assert_eq!(t.window(1, 2, 10), (0, "ort"));
        assert_eq!(t.window(1, 10, 10), (0, ""));
        assert_eq!(t.window(7, 0, 10), (0, ""));
    }

    #[test]
    fn window_shows_the_indentation_in_view() {
        let t = InspectText::json(r#"{"a":{"b":1}}"#);
        assert_eq!(t.line(2), "\"b\": 1");
        assert_eq!(t.window(2, 0, 100), (4, "\"b\": 1"));
        assert_eq!(t.window(2, 3, 100), (1, "\"b\": 1"));
        assert_eq!(t.window(2, 5, 3), (0, "b\":"));
        assert_eq!(t.window(2, 0, 2), (2, ""));
    }

    #[test]
    fn plain_text_is_sanitised_line_by_line() {
        let t = InspectText::plain("a\x1b[31m\tb\r\n\u{202e}c");
        assert_eq!(t.line_count(), 2);
        assert_eq!(t.line(0), "a␛[31m    b␍");
        assert_eq!(t.line(1), "�c");
        assert_eq!(t.to_text(), "a␛[31m    b␍\n�c");
    }
}
