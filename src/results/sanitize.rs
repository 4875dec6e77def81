//! Making untrusted text safe and measurable for the terminal.
//!
//! Cell values, column names and error messages come from servers and files. A raw ESC could
//! recolour or move the cursor, a '\r' or '\n' would tear the grid apart, and bidi overrides can
//! make text render in an order different from its content. Every such character is replaced by a
//! visible stand-in of width 1 so the user still sees that it is there.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Spaces a tab expands to in multi-line text.
const TAB_SPACES: &str = "    ";

/// True for every character that must not reach the terminal as is.
fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// Cheap byte-level pre-check: can `s` contain an unsafe character at all?
///
/// C1 controls are encoded with lead byte 0xC2 and the line/paragraph separators and bidi
/// controls with lead byte 0xE2, so a string without those bytes and without C0/DEL is clean.
/// This keeps the common (clean) case to one pass over the bytes and no allocation.
fn may_be_unsafe(s: &str) -> bool {
    s.bytes()
        .any(|b| b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xe2)
}

/// Byte offset of the first unsafe character, if any.
fn first_unsafe(s: &str, keep_newline: bool) -> Option<usize> {
    if !may_be_unsafe(s) {
        return None;
    }
    s.char_indices()
        .find(|&(_, c)| is_unsafe(c) && !(keep_newline && c == '\n'))
        .map(|(i, _)| i)
}

/// The visible stand-in for an unsafe character in one-line text.
fn stand_in(c: char) -> char {
    match c {
        '\n' => '↵',
        '\r' => '␍',
        '\t' => '→',
        '\u{1b}' => '␛',
        '\u{7f}' => '␡',
        // The Control Pictures block mirrors C0: U+2400 + code.
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('�'),
        _ => '�',
    }
}

/// Rewrites `s` from byte offset `from` on, which is the first unsafe character.
fn rewrite(s: &str, from: usize, multiline: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..from]);
    for c in s[from..].chars() {
        if !is_unsafe(c) || (multiline && c == '\n') {
            out.push(c);
        } else if multiline && c == '\t' {
            out.push_str(TAB_SPACES);
        } else {
            out.push(stand_in(c));
        }
    }
    out
}

/// For one-line display: every control char (C0, DEL, C1, U+2028/2029, bidi overrides
/// U+202A–202E and U+2066–2069) replaced by a visible stand-in: '\n' → '↵', '\r' → '␍',
/// '\t' → '→', ESC → '␛', other C0 → its Control Pictures char (U+2400 + code), DEL → '␡',
/// others → '�'. Borrows when `s` is clean, which is the common case.
///
/// The number of chars is preserved, so a prefix cut before sanitising stays within budget.
pub fn sanitize_line(s: &str) -> Cow<'_, str> {
    match first_unsafe(s, false) {
        None => Cow::Borrowed(s),
        Some(from) => Cow::Owned(rewrite(s, from, false)),
    }
}

/// Like [`sanitize_line`] but keeps '\n' (for the multi-line cell inspector) and expands '\t'
/// to four spaces.
pub fn sanitize_multiline(s: &str) -> Cow<'_, str> {
    match first_unsafe(s, true) {
        None => Cow::Borrowed(s),
        Some(from) => Cow::Owned(rewrite(s, from, true)),
    }
}

/// Terminal columns `s` occupies (unicode-width; wide CJK chars count 2).
pub fn display_width(s: &str) -> usize {
    if s.is_ascii() {
        // Printable ASCII is one column per byte; ASCII controls should have been sanitised.
        return s.len();
    }
    UnicodeWidthStr::width(s)
}

/// Cuts `s` to at most `width` terminal columns, appending '…' when cut (the '…' counts in the
/// width). A wide char that would straddle the limit is dropped whole.
pub fn truncate_to_width(s: &str, width: usize) -> Cow<'_, str> {
    if display_width(s) <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let budget = width - 1; // room left for the '…'
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > budget {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    let mut out = String::with_capacity(end + '…'.len_utf8());
    out.push_str(&s[..end]);
    out.push('…');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_terminal_safe(s: &str) -> bool {
        !s.chars().any(is_unsafe)
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(
            sanitize_line("héllo wörld 漢字"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(sanitize_multiline("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn line_replaces_every_control() {
        let s = "a\x1b[31mb\rc\td\ne\x00f\x7fg\u{85}h\u{2028}i\u{202e}j\u{2067}k";
        let out = sanitize_line(s);
        assert_eq!(out, "a␛[31mb␍c→d↵e␀f␡g�h�i�j�k");
        assert!(is_terminal_safe(&out));
        assert_eq!(out.chars().count(), s.chars().count());
    }

    #[test]
    fn multiline_keeps_newline_and_expands_tab() {
        assert_eq!(sanitize_multiline("a\tb\r\nc\x1bd"), "a    b␍\nc␛d");
    }

    #[test]
    fn non_control_multibyte_with_suspicious_lead_bytes_is_kept() {
        // U+00E9 (0xC3) and U+2022 '•' (0xE2 0x80 0xA2) are harmless.
        assert!(matches!(sanitize_line("é • ©"), Cow::Borrowed(_)));
        // U+00A9 '©' is encoded 0xC2 0xA9 and must survive the C1 check.
        assert_eq!(sanitize_line("©\u{9b}"), "©�");
    }

    #[test]
    fn truncate_ascii() {
        assert_eq!(truncate_to_width("hello", 5), "hello");
        assert_eq!(truncate_to_width("hello world", 5), "hell…");
        assert_eq!(truncate_to_width("hello", 0), "");
        assert_eq!(truncate_to_width("hello", 1), "…");
    }

    #[test]
    fn truncate_wide_chars() {
        // Each CJK char is 2 columns.
        let s = "漢字漢字";
        assert_eq!(display_width(s), 8);
        assert_eq!(truncate_to_width(s, 8), s);
        // 5 columns: two wide chars (4) + '…' (1).
        assert_eq!(truncate_to_width(s, 5), "漢字…");
        // 4 columns: one wide char (2) + '…'; a second would need 5.
        let cut = truncate_to_width(s, 4);
        assert_eq!(cut, "漢…");
        assert!(display_width(&cut) <= 4);
        assert_eq!(truncate_to_width("a漢字", 4), "a漢…");
    }
}
