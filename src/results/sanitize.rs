//! Making untrusted text safe and measurable for the terminal.
//!
//! Cell values, column names and error messages come from servers and files. A raw ESC could
//! recolour or move the cursor, a '\r' or '\n' would tear the grid apart, and bidi overrides can
//! make text render in an order different from its content. Every such character is replaced by a
//! visible stand-in of width 1 so the user still sees that it is there.
//!
//! Text placed in aligned columns (the grid, CLI tables) is also *settled*: a grapheme cluster
//! whose width terminals disagree on (an emoji ZWJ sequence is one glyph of 2 columns in some
//! terminals and each emoji drawn in turn in others) would shift the column separators after
//! it and leave stale fragments behind on the next frame. See [`settle_clusters`].

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Spaces a tab expands to in multi-line text.
const TAB_SPACES: &str = "    ";

/// True for every character that must not reach the terminal as is.
fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{2028}' | '\u{2029}'
        | '\u{200e}' | '\u{200f}' | '\u{61c}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// True for every character that must not reach a terminal as is: C0 controls, DEL, C1
/// controls, U+2028/2029 and the bidi controls (U+200E/200F, U+061C, U+202A–202E,
/// U+2066–2069).
pub fn is_terminal_unsafe(c: char) -> bool {
    is_unsafe(c)
}

/// Cheap byte-level pre-check: can `s` contain an unsafe character at all?
///
/// C1 controls are encoded with lead byte 0xC2, the Arabic letter mark with 0xD8 and the
/// line/paragraph separators and other bidi controls with 0xE2, so a string without those bytes
/// and without C0/DEL is clean.
/// This keeps the common (clean) case to one pass over the bytes and no allocation.
fn may_be_unsafe(s: &str) -> bool {
    s.bytes()
        .any(|b| b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xd8 || b == 0xe2)
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

/// The visible stand-in for an unsafe character in one-line text (other characters are
/// returned as they are).
pub fn stand_in(c: char) -> char {
    match c {
        '\n' => '↵',
        '\r' => '␍',
        '\t' => '→',
        '\u{1b}' => '␛',
        '\u{7f}' => '␡',
        // The Control Pictures block mirrors C0: U+2400 + code.
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('�'),
        c if is_unsafe(c) => '�',
        c => c,
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

/// For one-line display: every control char (C0, DEL, C1, U+2028/2029, bidi controls
/// U+200E/200F, U+061C, U+202A–202E and U+2066–2069) replaced by a visible stand-in:
/// '\n' → '↵', '\r' → '␍', '\t' → '→', ESC → '␛', other C0 → its Control Pictures char
/// (U+2400 + code), DEL → '␡', others → '�'. Borrows when `s` is clean, which is the common
/// case.
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

/// Zero-width characters kept after the first one of a cluster: combining accents, Hangul
/// vowel and final jamo, Hebrew points… Stacked marks beyond this ("Zalgo" text) are dropped:
/// terminals draw them above and below the line, over the neighbouring rows.
pub const MAX_CLUSTER_MARKS: usize = 4;

/// Columns of one char as a terminal drawing char by char counts them (controls count 0: they
/// are sanitised before anything is measured).
fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// The zero-width joiner, variation selectors and tag characters: they merge or restyle the
/// characters around them into one glyph whose width depends on the terminal.
fn is_joiner(c: char) -> bool {
    matches!(c,
        '\u{200d}'
        | '\u{fe00}'..='\u{fe0f}'
        | '\u{e0020}'..='\u{e007f}'
        | '\u{e0100}'..='\u{e01ef}')
}

/// Emoji skin-tone modifiers: after an emoji they merge with it (2 columns, or 4).
fn is_modifier(c: char) -> bool {
    matches!(c, '\u{1f3fb}'..='\u{1f3ff}')
}

/// Cheap pre-check: can settling change `s` at all? Only clusters of several chars can, and
/// every char after the first of a cluster is zero-width, a modifier or a regional indicator
/// (flags), apart from the rare spacing marks, which all measure the same anyway.
fn may_need_settling(s: &str) -> bool {
    !s.is_ascii()
        && s.chars()
            .any(|c| char_width(c) == 0 || is_modifier(c) || matches!(c, '\u{1f1e6}'..='\u{1f1ff}'))
}

/// Rewrites the grapheme clusters a terminal may draw wider or narrower than they measure, so
/// that every cluster of the result is as wide as the sum of its chars — what ratatui's buffer,
/// a terminal drawing char by char and a grapheme-aware terminal all agree on:
/// - the zero-width joiner, variation selectors and tag characters are dropped (an emoji ZWJ
///   sequence shows as its emoji side by side, a keycap or a subdivision flag as its base),
/// - a skin-tone modifier after another char is dropped,
/// - zero-width marks beyond [`MAX_CLUSTER_MARKS`] in one cluster are dropped,
/// - a cluster that still measures differently keeps only its first char.
///
/// Borrows when nothing changes, which is the common case (and always for ASCII).
pub fn settle_clusters(s: &str) -> Cow<'_, str> {
    if !may_need_settling(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for cluster in s.graphemes(true) {
        push_settled(&mut out, cluster);
    }
    if out == s {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(out)
    }
}

/// Appends one grapheme cluster, settled (see [`settle_clusters`]).
fn push_settled(out: &mut String, cluster: &str) {
    let start = out.len();
    let mut marks = 0;
    for (i, c) in cluster.chars().enumerate() {
        if is_joiner(c) || (i > 0 && is_modifier(c)) {
            continue;
        }
        if i > 0 && char_width(c) == 0 {
            marks += 1;
            if marks > MAX_CLUSTER_MARKS {
                continue;
            }
        }
        out.push(c);
    }
    let kept = &out[start..];
    if UnicodeWidthStr::width(kept) != kept.chars().map(char_width).sum::<usize>() {
        let first = kept.chars().next();
        out.truncate(start);
        out.extend(first);
    }
}

/// [`sanitize_line`], then [`settle_clusters`]: one-line text to place in aligned columns.
pub fn display_line(s: &str) -> Cow<'_, str> {
    match sanitize_line(s) {
        Cow::Borrowed(clean) => settle_clusters(clean),
        Cow::Owned(clean) => Cow::Owned(settle_clusters(&clean).into_owned()),
    }
}

/// Terminal columns `s` occupies once settled ([`settle_clusters`]; wide CJK chars count 2):
/// the columns [`truncate_to_width`]'s text takes on every terminal.
pub fn display_width(s: &str) -> usize {
    if s.is_ascii() {
        // Printable ASCII is one column per byte; ASCII controls should have been sanitised.
        return s.len();
    }
    settle_clusters(s).chars().map(char_width).sum()
}

/// `s` settled ([`settle_clusters`]) and cut to at most `width` terminal columns, with '…'
/// appended when cut (the '…' counts in the width). A wide char that would straddle the limit
/// is dropped whole.
pub fn truncate_to_width(s: &str, width: usize) -> Cow<'_, str> {
    let s = settle_clusters(s);
    if s.chars().map(char_width).sum::<usize>() <= width {
        return s;
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let budget = width - 1; // room left for the '…'
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let w = char_width(c);
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
        // Arabic (lead byte 0xD8) is kept; the Arabic letter mark is a bidi control.
        assert!(matches!(sanitize_line("سلام"), Cow::Borrowed(_)));
        assert_eq!(sanitize_line("a\u{61c}\u{200f}b"), "a��b");
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

    /// Every cluster of `s` is as wide as its chars: what the terminal and ratatui agree on.
    fn clusters_measure_their_chars(s: &str) -> bool {
        s.graphemes(true)
            .all(|g| UnicodeWidthStr::width(g) == g.chars().map(char_width).sum::<usize>())
    }

    #[test]
    fn settling_splits_emoji_sequences_and_keeps_accents() {
        let family = "👨\u{200d}👩\u{200d}👧";
        assert_eq!(settle_clusters(family), "👨👩👧");
        assert_eq!(display_width(family), 6);
        assert_eq!(settle_clusters("❤\u{fe0f}"), "❤");
        assert_eq!(settle_clusters("👍🏽 ok"), "👍 ok");
        assert_eq!(settle_clusters("1\u{fe0f}\u{20e3}"), "1\u{20e3}");
        // Decomposed accents, Hangul jamo and a lone modifier stay as they are.
        for kept in [
            "e\u{301}te\u{301}",
            "\u{1100}\u{1161}\u{11a8}",
            "🏽",
            "🇫🇷",
            "漢字",
        ] {
            assert!(
                matches!(settle_clusters(kept), Cow::Borrowed(_)),
                "{kept:?}"
            );
        }
        assert_eq!(display_width("e\u{301}"), 1);
    }

    #[test]
    fn settling_caps_stacked_marks() {
        let zalgo = format!("a{}b", "\u{336}\u{34f}\u{35c}".repeat(10));
        let settled = settle_clusters(&zalgo);
        assert_eq!(settled.chars().count(), 2 + MAX_CLUSTER_MARKS);
        assert!(settled.starts_with('a') && settled.ends_with('b'));
        assert_eq!(display_width(&zalgo), 2);
    }

    #[test]
    fn settled_text_measures_the_same_everywhere() {
        for s in [
            "👨\u{200d}👩\u{200d}👧\u{200d}👦 family",
            "🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}",
            "⌚\u{fe0e} a\u{200d}b",
            "\u{301}leading mark",
        ] {
            let settled = settle_clusters(s);
            assert!(clusters_measure_their_chars(&settled), "{settled:?}");
            assert_eq!(settle_clusters(&settled), settled, "idempotent");
        }
    }

    #[test]
    fn truncation_settles_and_keeps_marks_with_their_base() {
        let family = "👨\u{200d}👩\u{200d}👧";
        assert_eq!(truncate_to_width(family, 6), "👨👩👧");
        assert_eq!(truncate_to_width(family, 5), "👨👩…");
        assert_eq!(
            truncate_to_width("e\u{301}e\u{301}e\u{301}", 2),
            "e\u{301}…"
        );
        assert_eq!(display_line("a\u{1b}\u{200d}"), "a␛");
    }
}
