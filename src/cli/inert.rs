//! Output to a terminal, made inert.
//!
//! `quarry run` and the listing commands print values that come from servers and files. To a
//! file or a pipe their bytes go out exactly as the format writes them; to a terminal, a cell
//! holding `ESC ] 0 ; … BEL` would set the window title, `ESC ] 52 ; …` write the clipboard and
//! `ESC [ 2 J` clear the screen. So when stdout is a terminal, every character that could drive
//! or garble it (C0 controls but newline and tab, DEL, C1 controls, U+2028/2029, bidi controls;
//! see [`crate::results::sanitize_line`]) is replaced on the way out, whatever the format:
//! - text (`table`, `csv`, `tsv`, `markdown`, the listings): by its visible stand-in (ESC → ␛,
//!   BEL → ␇, '\r' → ␍, C1 and bidi controls → �), so the reader sees that it is there;
//! - `json` and `jsonl`: by a `\uXXXX` escape, so the text stays valid JSON with the same
//!   values (such characters only ever occur inside JSON strings).
//!
//! Binary formats (`parquet`, `arrow`) are refused before anything runs when stdout is a
//! terminal (`-o FILE` or a redirection writes them), as `gzip` and `zstd` refuse to: escaping
//! would corrupt them, and raw they are the very bytes this guards against.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use crate::export::Format;
use crate::results::{display_width, is_terminal_unsafe, stand_in};

/// How a character that must not reach the terminal is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// By a visible stand-in of one column.
    Visible,
    /// By a JSON `\uXXXX` escape.
    Json,
}

/// A writer that replaces what must not reach a terminal (see the module docs); with `active`
/// false it passes the bytes through untouched. Input split anywhere, even inside a UTF-8
/// sequence, gives the same output; bytes that are not UTF-8 become U+FFFD.
pub struct Inert<W: Write> {
    inner: W,
    escape: Escape,
    active: bool,
    /// The start of a UTF-8 sequence cut by the end of the last write.
    partial: Vec<u8>,
}

impl<W: Write> Inert<W> {
    pub fn new(inner: W, escape: Escape) -> Self {
        Inert {
            inner,
            escape,
            active: true,
            partial: Vec::new(),
        }
    }

    /// Writes out a UTF-8 sequence left incomplete (as U+FFFD), flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.partial.is_empty() {
            self.partial.clear();
            let mut text = String::new();
            push_char(&mut text, char::REPLACEMENT_CHARACTER, self.escape);
            self.inner.write_all(text.as_bytes())?;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// How `quarry run` output in `format` is made inert.
pub fn escape_for(format: Format) -> Escape {
    match format {
        Format::Json | Format::Jsonl => Escape::Json,
        _ => Escape::Visible,
    }
}

/// Stdout, buffered, made inert when it is a terminal.
pub fn stdout(escape: Escape) -> Inert<io::BufWriter<io::Stdout>> {
    let out = io::stdout();
    let active = out.is_terminal();
    Inert {
        active,
        ..Inert::new(io::BufWriter::new(out), escape)
    }
}

impl<W: Write> Write for Inert<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.active {
            return self.inner.write(buf);
        }
        let joined;
        let mut bytes = if self.partial.is_empty() {
            buf
        } else {
            joined = [std::mem::take(&mut self.partial).as_slice(), buf].concat();
            joined.as_slice()
        };
        let mut text = String::with_capacity(bytes.len());
        loop {
            match std::str::from_utf8(bytes) {
                Ok(s) => {
                    push_str(&mut text, s, self.escape);
                    break;
                }
                Err(e) => {
                    let (valid, rest) = bytes.split_at(e.valid_up_to());
                    push_str(
                        &mut text,
                        std::str::from_utf8(valid).unwrap_or_default(),
                        self.escape,
                    );
                    match e.error_len() {
                        Some(n) => {
                            push_char(&mut text, char::REPLACEMENT_CHARACTER, self.escape);
                            bytes = rest.get(n..).unwrap_or_default();
                        }
                        // Cut by the end of `buf`: completed by the next write.
                        None => {
                            self.partial = rest.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        self.inner.write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn push_str(out: &mut String, s: &str, escape: Escape) {
    match s.find(|c: char| needs_escape(c)) {
        None => out.push_str(s),
        Some(first) => {
            out.push_str(&s[..first]);
            for c in s[first..].chars() {
                push_char(out, c, escape);
            }
        }
    }
}

/// Newline and tab are harmless to a terminal (and the separators of the text formats).
fn needs_escape(c: char) -> bool {
    is_terminal_unsafe(c) && c != '\n' && c != '\t'
}

fn push_char(out: &mut String, c: char, escape: Escape) {
    if !needs_escape(c) {
        out.push(c);
    } else if escape == Escape::Json {
        // Every unsafe char is in the Basic Multilingual Plane: one escape each.
        let _ = write!(out, "\\u{:04x}", u32::from(c));
    } else {
        out.push(stand_in(c));
    }
}

/// `s` padded with spaces to `width` terminal columns (for text already made safe with
/// [`crate::results::display_line`]).
pub fn pad(s: &str, width: usize) -> String {
    let fill = width.saturating_sub(display_width(s));
    let mut out = String::with_capacity(s.len() + fill);
    out.push_str(s);
    out.extend(std::iter::repeat_n(' ', fill));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inert(chunks: &[&[u8]], escape: Escape) -> String {
        let mut w = Inert::new(Vec::new(), escape);
        for chunk in chunks {
            w.write_all(chunk).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    const HOSTILE: &str = "a\x1b]0;pwned\x07b\x1b[2J\u{9b}c\r\u{2028}\u{202e}d\te\n";

    #[test]
    fn text_gets_visible_stand_ins_but_keeps_newline_and_tab() {
        let out = inert(&[HOSTILE.as_bytes()], Escape::Visible);
        assert_eq!(out, "a␛]0;pwned␇b␛[2J�c␍��d\te\n");
    }

    #[test]
    fn json_gets_escapes_and_stays_the_same_value() {
        let json = serde_json::json!({ "x": HOSTILE }).to_string();
        let out = inert(&[json.as_bytes()], Escape::Json);
        assert!(!out.chars().any(needs_escape), "{out:?}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["x"], HOSTILE);
    }

    #[test]
    fn a_sequence_cut_between_writes_is_joined_and_bad_bytes_replaced() {
        let bytes = "é\u{9b}漢".as_bytes();
        for cut in 0..bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(inert(&[a, b], Escape::Visible), "é�漢", "cut at {cut}");
        }
        assert_eq!(inert(&[b"a\x9bb"], Escape::Visible), "a�b");
        assert_eq!(inert(&[b"a\xe6\xbc"], Escape::Visible), "a�");
    }

    #[test]
    fn inactive_passes_bytes_through() {
        let mut w = Inert {
            active: false,
            ..Inert::new(Vec::new(), Escape::Visible)
        };
        w.write_all(b"\x1b[2J\x9b").unwrap();
        assert_eq!(w.finish().unwrap(), b"\x1b[2J\x9b");
    }

    #[test]
    fn pad_counts_columns() {
        assert_eq!(pad("漢", 4), "漢  ");
        assert_eq!(pad("e\u{301}", 3), "e\u{301}  ");
        assert_eq!(pad("long", 2), "long");
    }
}
