//! SQL syntax highlighting of the editor's visible lines, with syntect.
//!
//! The editor may hold thousands of lines and is redrawn on every keystroke, so highlighting
//! is incremental: syntect's parser is a state machine over lines, and the state at the start of
//! every [`STRIDE`]-th line is kept as a checkpoint together with the styled output of every
//! line highlighted so far. Each line's text is hashed; a request re-parses only from the
//! checkpoint before the first line whose text changed, and stops as soon as the parser state
//! at a checkpoint equals the one cached there (the edit did not change how later lines parse,
//! e.g. no comment or string was opened). Typing therefore re-parses a handful of lines.
//!
//! Approximation: when the lines before the requested window are not cached and there are more
//! than [`MAX_CATCH_UP`] of them to parse (the first jump to the end of a large buffer), parsing
//! starts from a fresh state [`APPROX_LEAD`] lines before the window instead of at line 0. A
//! string or comment opened far above and still open in the window is then not seen, and edits
//! above that starting line do not invalidate the window; all SQL statement text far from such
//! constructs highlights correctly.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use ratatui::style::{Color, Style};
use syntect::highlighting::{HighlightIterator, HighlightState, Highlighter, Theme, ThemeSet};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};

/// One highlighted line: spans of sanitised text with their foreground style.
pub type StyledLine = Vec<(Style, String)>;

/// Distance between parser checkpoints: the most lines re-parsed before an edited line.
const STRIDE: usize = 16;
/// The most uncached lines parsed to reach a window before falling back to a fresh state.
const MAX_CATCH_UP: usize = 2_000;
/// How far above the window parsing starts in the fallback, so that most constructs opened
/// shortly above the window (multi-line comments, strings) are still seen.
const APPROX_LEAD: usize = 200;
/// A dark theme that ships with syntect; any other default theme is used if it is missing.
const THEME: &str = "base16-ocean.dark";

/// The themes bundled with syntect, by the names the config's `[ui] theme` accepts.
pub const THEMES: &[&str] = &[
    "base16-ocean.dark",
    "base16-eighties.dark",
    "base16-mocha.dark",
    "base16-ocean.light",
    "InspiredGitHub",
    "Solarized (dark)",
    "Solarized (light)",
];

/// Highlights SQL lines for the editor. Create once at startup (loading syntect's syntax and
/// theme dumps takes tens of milliseconds) and call [`SqlHighlighter::highlight`] per frame.
pub struct SqlHighlighter {
    syntaxes: SyntaxSet,
    /// Index of the SQL syntax in `syntaxes` (kept as an index: a reference would borrow self).
    syntax: Option<usize>,
    theme: Theme,
    cache: Mutex<Cache>,
}

/// The parser and highlighter state between two lines.
#[derive(Clone, PartialEq, Eq)]
struct LineState {
    parse: ParseState,
    highlight: HighlightState,
}

/// A consistent highlighting of lines `base..base + hashes.len()` of some version of the text.
struct Cache {
    /// The line parsing started at, from a fresh state (0 unless the fallback was used).
    base: usize,
    /// Hash of each cached line's text, relative to `base`.
    hashes: Vec<u64>,
    /// Styled output of each cached line, relative to `base`.
    lines: Vec<StyledLine>,
    /// `checkpoints[j]` is the state at the start of line `base + j * STRIDE`; one for every such
    /// line up to and including `base + hashes.len()`.
    checkpoints: Vec<LineState>,
    /// The state at the start of line `base + hashes.len()`, to extend the cache without
    /// re-parsing from a checkpoint.
    tail: LineState,
    /// Lines parsed since the last reset of the counter, to test that work is bounded.
    #[cfg(test)]
    parsed: usize,
}

impl Cache {
    fn new(base: usize, fresh: LineState) -> Self {
        Cache {
            base,
            hashes: Vec::new(),
            lines: Vec::new(),
            checkpoints: vec![fresh.clone()],
            tail: fresh,
            #[cfg(test)]
            parsed: 0,
        }
    }

    /// The first relative line from `from` on whose hash differs from (or extends) the cache;
    /// `hashes.len()` when all match.
    fn first_mismatch(&self, hashes: &[u64], from: usize) -> usize {
        let same = hashes
            .get(from..)
            .unwrap_or_default()
            .iter()
            .zip(self.hashes.get(from..).unwrap_or_default())
            .take_while(|(new, old)| new == old)
            .count();
        from + same
    }

    /// Where parsing must resume to re-highlight from relative line `dirty`: that line itself
    /// when it extends the cache, else the checkpoint before it; with the state there.
    fn resume_point(&self, dirty: usize) -> (usize, LineState) {
        if dirty >= self.hashes.len() {
            return (self.hashes.len(), self.tail.clone());
        }
        let j = (dirty / STRIDE).min(self.checkpoints.len().saturating_sub(1));
        match self.checkpoints.get(j) {
            Some(state) => (j * STRIDE, state.clone()),
            None => (0, self.tail.clone()),
        }
    }

    /// Stores the output of relative line `k` (lines are written in order, so `k <= len`).
    fn store_line(&mut self, k: usize, hash: u64, styled: StyledLine) {
        if k < self.hashes.len() {
            self.hashes[k] = hash;
            self.lines[k] = styled;
        } else {
            self.hashes.push(hash);
            self.lines.push(styled);
        }
    }

    fn store_checkpoint(&mut self, j: usize, state: &LineState) {
        match self.checkpoints.get_mut(j) {
            Some(slot) => slot.clone_from(state),
            None => self.checkpoints.push(state.clone()),
        }
    }

    /// Drops everything from relative line `len` on, which no longer follows from the text.
    fn truncate(&mut self, len: usize, tail: LineState) {
        self.hashes.truncate(len);
        self.lines.truncate(len);
        self.checkpoints.truncate(len / STRIDE + 1);
        self.tail = tail;
    }
}

impl Default for SqlHighlighter {
    fn default() -> Self {
        Self::new()
    }
}

impl SqlHighlighter {
    /// Loads syntect's bundled syntaxes and themes. Falls back to plain text or another theme
    /// if the bundle lacks SQL or the preferred theme, so this cannot fail.
    pub fn new() -> Self {
        Self::with_theme(None)
    }

    /// Like `new`, with one of syntect's bundled themes (see [`THEMES`]) instead of the default.
    pub fn with_theme(name: Option<&str>) -> Self {
        let syntaxes = SyntaxSet::load_defaults_newlines();
        let syntax = syntaxes.syntaxes().iter().position(|s| s.name == "SQL");
        let mut themes = ThemeSet::load_defaults().themes;
        let theme = themes
            .remove(name.unwrap_or(THEME))
            .or_else(|| themes.remove(THEME))
            .or_else(|| themes.into_values().next())
            .unwrap_or_default();
        let fresh = fresh_state(&theme, syntax_of(&syntaxes, syntax));
        SqlHighlighter {
            syntaxes,
            syntax,
            theme,
            cache: Mutex::new(Cache::new(0, fresh)),
        }
    }

    /// Styled lines for `lines[first .. first + count]` (clamped to the buffer).
    ///
    /// Spans carry only a foreground colour, so the editor's selection and cursor styles still
    /// show; text is sanitised (tabs become four spaces, control characters visible symbols).
    pub fn highlight(&self, lines: &[String], first: usize, count: usize) -> Vec<StyledLine> {
        let end = first.saturating_add(count).min(lines.len());
        let first = first.min(end);
        if first == end {
            return Vec::new();
        }
        let mut cache = self.lock_cache();
        if self.needs_new_base(&cache, lines, first, end) {
            let base = if first <= MAX_CATCH_UP {
                0
            } else {
                first - APPROX_LEAD
            };
            *cache = Cache::new(base, self.fresh());
        }
        self.update(&mut cache, lines, end);
        let base = cache.base;
        cache
            .lines
            .get(first - base..end - base)
            .map(<[StyledLine]>::to_vec)
            .unwrap_or_default()
    }

    /// Locks the cache; after a panic mid-update its content is suspect, so it starts over.
    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|poisoned| {
            self.cache.clear_poison();
            let mut cache = poisoned.into_inner();
            *cache = Cache::new(0, self.fresh());
            cache
        })
    }

    /// Whether the cache cannot serve the window `first..end` cheaply: it starts after the
    /// window, or reaching the window would mean parsing more than `MAX_CATCH_UP` lines.
    fn needs_new_base(&self, cache: &Cache, lines: &[String], first: usize, end: usize) -> bool {
        if first < cache.base {
            return true;
        }
        let known = cache.first_mismatch(&line_hashes(&lines[cache.base..end]), 0);
        let (resume, _) = cache.resume_point(known);
        first - cache.base > resume + MAX_CATCH_UP
    }

    /// Brings the cache up to date for lines `cache.base..end` of `lines`.
    fn update(&self, cache: &mut Cache, lines: &[String], end: usize) {
        let base = cache.base;
        let hashes = line_hashes(&lines[base..end]);
        let highlighter = Highlighter::new(&self.theme);
        let mut buf = String::new();
        let mut verified = 0;
        // Each round re-parses from before the first changed line until the parser state
        // converges with the cached one at a checkpoint, or the window's end is reached.
        'rounds: while verified < hashes.len() {
            let dirty = cache.first_mismatch(&hashes, verified);
            if dirty >= hashes.len() {
                break;
            }
            let (mut k, mut state) = cache.resume_point(dirty);
            loop {
                let styled =
                    self.highlight_line(&mut state, &lines[base + k], &highlighter, &mut buf);
                cache.store_line(k, hashes[k], styled);
                #[cfg(test)]
                {
                    cache.parsed += 1;
                }
                k += 1;
                if k % STRIDE == 0 {
                    let j = k / STRIDE;
                    if k > dirty && cache.checkpoints.get(j) == Some(&state) {
                        verified = k;
                        continue 'rounds;
                    }
                    cache.store_checkpoint(j, &state);
                }
                if k == hashes.len() {
                    cache.truncate(k, state);
                    break 'rounds;
                }
            }
        }
    }

    /// Parses and styles one line, advancing `state` past it.
    fn highlight_line(
        &self,
        state: &mut LineState,
        line: &str,
        highlighter: &Highlighter<'_>,
        buf: &mut String,
    ) -> StyledLine {
        // The "newlines" syntaxes expect each line to end with its '\n'.
        buf.clear();
        buf.push_str(line);
        buf.push('\n');
        let ops = match state.parse.parse_line(buf, &self.syntaxes) {
            Ok(ops) => ops,
            Err(_) => {
                // A syntax definition problem: show the line plain and start afresh after it.
                *state = self.fresh();
                return vec![(Style::default(), sanitize(line))];
            }
        };
        let mut styled: StyledLine = Vec::new();
        let mut pos = 0;
        for (style, text) in HighlightIterator::new(&mut state.highlight, &ops, buf, highlighter) {
            // Clip the trailing '\n' that was added for the parser.
            let keep = text.len().min(line.len().saturating_sub(pos));
            pos += text.len();
            push_span(&mut styled, to_ratatui(style), &text[..keep]);
        }
        styled
    }

    fn fresh(&self) -> LineState {
        fresh_state(&self.theme, syntax_of(&self.syntaxes, self.syntax))
    }

    /// Lines parsed since the last call (test instrumentation).
    #[cfg(test)]
    fn take_parsed(&self) -> usize {
        std::mem::take(&mut self.lock_cache().parsed)
    }
}

fn syntax_of(syntaxes: &SyntaxSet, index: Option<usize>) -> &SyntaxReference {
    index
        .and_then(|i| syntaxes.syntaxes().get(i))
        .unwrap_or_else(|| syntaxes.find_syntax_plain_text())
}

fn fresh_state(theme: &Theme, syntax: &SyntaxReference) -> LineState {
    LineState {
        parse: ParseState::new(syntax),
        highlight: HighlightState::new(&Highlighter::new(theme), ScopeStack::new()),
    }
}

fn line_hashes(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .map(|line| {
            let mut hasher = DefaultHasher::new();
            line.hash(&mut hasher);
            hasher.finish()
        })
        .collect()
}

/// Foreground colour only: backgrounds would hide the editor's selection and cursor line.
fn to_ratatui(style: syntect::highlighting::Style) -> Style {
    let c = style.foreground;
    Style::default().fg(Color::Rgb(c.r, c.g, c.b))
}

/// Appends sanitised text, merging it into the previous span when the style is the same.
fn push_span(line: &mut StyledLine, style: Style, text: &str) {
    if text.is_empty() {
        return;
    }
    match line.last_mut() {
        Some((last, s)) if *last == style => sanitize_into(s, text),
        _ => line.push((style, sanitize(text))),
    }
}

fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    sanitize_into(&mut out, text);
    out
}

/// Tabs become four spaces; C0 controls their Unicode "control picture" (ESC → '␛'), DEL '␡',
/// C1 controls '�': raw control characters must never reach the terminal.
fn sanitize_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\t' => out.push_str("    "),
            '\u{7f}' => out.push('\u{2421}'),
            c if (c as u32) < 0x20 => {
                out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'))
            }
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

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
}
