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
//!
//! Long lines (over [`LONG_LINE`] bytes, e.g. a pasted megabyte of generated SQL on one line)
//! are never parsed whole: [`SqlHighlighter::highlight_window`] parses only the visible columns
//! of such a line, from a fresh state [`LONG_LEAD`] chars to their left, and the lines after it
//! start from a fresh state too. A string or comment opened far to the left, or carried over a
//! long line, is then not seen; a keystroke costs the same on a 1 MB line as on a short one.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use ratatui::style::{Color, Style};
use syntect::highlighting::{HighlightIterator, HighlightState, Highlighter, Theme, ThemeSet};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};

use crate::results::{is_terminal_unsafe, stand_in};

/// One highlighted line: spans of sanitised text with their foreground style.
pub type StyledLine = Vec<(Style, String)>;

/// Distance between parser checkpoints: the most lines re-parsed before an edited line.
const STRIDE: usize = 16;
/// The most uncached lines parsed to reach a window before falling back to a fresh state.
const MAX_CATCH_UP: usize = 2_000;
/// How far above the window parsing starts in the fallback, so that most constructs opened
/// shortly above the window (multi-line comments, strings) are still seen.
const APPROX_LEAD: usize = 200;
/// Lines longer than this (bytes) are highlighted only where they are visible.
const LONG_LINE: usize = 4096;
/// How many chars left of the visible columns a long line's parsing starts.
const LONG_LEAD: usize = 256;
/// The hash every long line gets: its text does not matter to the lines after it, which
/// start from a fresh state.
const LONG_HASH: u64 = 0x4c4f_4e47_4c49_4e45;
/// A dark theme that ships with syntect; any other default theme is used if it is missing.
const THEME: &str = "base16-ocean.dark";

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

    /// Like `new`, with one of syntect's bundled themes (see [`THEMES`](crate::model::themes::THEMES)) instead of the default.
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
        self.highlight_window(lines, first, count, 0, usize::MAX)
    }

    /// Like [`SqlHighlighter::highlight`], but each line only from char `left` on (chars of the
    /// sanitised text) and at most `width` chars of it: the editor's visible columns. Work is
    /// bounded by the window, not by the length of the lines in it (see the module docs).
    pub fn highlight_window(
        &self,
        lines: &[String],
        first: usize,
        count: usize,
        left: usize,
        width: usize,
    ) -> Vec<StyledLine> {
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
        (first..end)
            .map(|row| {
                let line = &lines[row];
                if line.len() > LONG_LINE {
                    self.highlight_long(line, left, width)
                } else {
                    let styled = cache.lines.get(row - base).map_or(&[][..], Vec::as_slice);
                    clip(styled, left, width)
                }
            })
            .collect()
    }

    /// Chars `left..left + width` of a long line, parsed from a fresh state a little to the
    /// left of them.
    fn highlight_long(&self, line: &str, left: usize, width: usize) -> StyledLine {
        let lead = left.min(LONG_LEAD);
        let part = char_window(line, left - lead, lead.saturating_add(width));
        if part.is_empty() {
            return Vec::new();
        }
        let mut state = self.fresh();
        let highlighter = Highlighter::new(&self.theme);
        let mut buf = String::new();
        let styled = self.highlight_line(&mut state, part, &highlighter, &mut buf);
        clip(&styled, lead, width)
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
                let line = &lines[base + k];
                let styled = if line.len() > LONG_LINE {
                    // Drawn by `highlight_long`, a window at a time; what follows starts afresh.
                    state = self.fresh();
                    Vec::new()
                } else {
                    self.highlight_line(&mut state, line, &highlighter, &mut buf)
                };
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
            if line.len() > LONG_LINE {
                return LONG_HASH;
            }
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

/// At most `n` chars of `line` from char `left` on. Finding char `left` is one quick pass over
/// the bytes before it (none for ASCII): no char is decoded outside the window.
pub(crate) fn char_window(line: &str, left: usize, n: usize) -> &str {
    let start = char_to_byte(line, left);
    let rest = &line[start..];
    let end = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

/// Byte offset of char `n` of `s` (its length when `s` is shorter).
fn char_to_byte(s: &str, n: usize) -> usize {
    if s.is_ascii() {
        return n.min(s.len());
    }
    let mut seen = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        // Every byte but UTF-8 continuation bytes (0b10xx_xxxx) starts a char.
        if (b as i8) >= -0x40 {
            if seen == n {
                return i;
            }
            seen += 1;
        }
    }
    s.len()
}

/// The part of a styled line from char `left` on, at most `width` chars.
fn clip(line: &[(Style, String)], left: usize, width: usize) -> StyledLine {
    let mut out = StyledLine::new();
    let (mut skip, mut room) = (left, width);
    for (style, text) in line {
        if room == 0 {
            break;
        }
        let mut chars = text.char_indices().skip(skip);
        skip = skip.saturating_sub(text.chars().count());
        let Some((start, _)) = chars.next() else {
            continue;
        };
        let taken = 1 + chars.by_ref().take(room - 1).count();
        let end = chars.next().map_or(text.len(), |(i, _)| i);
        room -= taken;
        out.push((*style, text[start..end].to_string()));
    }
    out
}

fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    sanitize_into(&mut out, text);
    out
}

/// Tabs become four spaces and every character unsafe for a terminal its visible stand-in, as
/// in the grid (see [`crate::results::sanitize_line`]): ESC '␛', other C0 controls their Unicode
/// "control picture", DEL '␡', C1 controls, U+2028/2029 and the bidi controls '�'. Raw control
/// characters must never reach the terminal, and bidi controls would reorder what is drawn.
fn sanitize_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\t' => out.push_str("    "),
            c if is_terminal_unsafe(c) => out.push(stand_in(c)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
