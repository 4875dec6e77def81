//! The statement as tokens with byte ranges, from `sqlparser`'s tokenizer (which reports
//! line/column positions in chars).

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Whitespace};

/// One token and where it is in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Tok {
    pub token: Token,
    pub start: usize,
    pub end: usize,
}

impl Tok {
    /// Whether this is the unquoted word `upper` (given in upper case).
    pub fn is_keyword(&self, upper: &str) -> bool {
        matches!(&self.token, Token::Word(w) if w.quote_style.is_none()
            && w.value.eq_ignore_ascii_case(upper))
    }

    /// The name this token spells when it is a word (quoted or not).
    pub fn word(&self) -> Option<&str> {
        match &self.token {
            Token::Word(w) => Some(&w.value),
            _ => None,
        }
    }

    pub fn is_comment(&self) -> bool {
        matches!(self.token, Token::Whitespace(_))
    }
}

/// The tokens of `text` without spaces and newlines (comments are kept, so that a cursor in
/// one can be told), or `None` when the tokenizer rejects the text (an unterminated string or
/// quoted name).
pub fn lex(text: &str) -> Option<Vec<Tok>> {
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .ok()?;
    let offsets = Offsets::new(text);
    Some(
        tokens
            .into_iter()
            .filter(|t| {
                !matches!(
                    t.token,
                    Token::EOF
                        | Token::Whitespace(
                            Whitespace::Space | Whitespace::Newline | Whitespace::Tab
                        )
                )
            })
            .map(|t| Tok {
                start: offsets.byte(t.span.start),
                end: offsets.byte(t.span.end),
                token: t.token,
            })
            .collect(),
    )
}

/// Tokens without the comments.
pub fn significant(tokens: &[Tok]) -> Vec<Tok> {
    tokens.iter().filter(|t| !t.is_comment()).cloned().collect()
}

/// Maps the tokenizer's 1-based (line, char column) locations to byte offsets.
struct Offsets {
    /// The char index where each line starts.
    line_starts: Vec<usize>,
    /// The byte offset of each char, and the text's length after the last.
    char_bytes: Vec<usize>,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let mut line_starts = vec![0];
        let mut char_bytes = Vec::with_capacity(text.len() + 1);
        for (n, (b, c)) in text.char_indices().enumerate() {
            char_bytes.push(b);
            if c == '\n' {
                line_starts.push(n + 1);
            }
        }
        char_bytes.push(text.len());
        Offsets {
            line_starts,
            char_bytes,
        }
    }

    fn byte(&self, at: Location) -> usize {
        let line = (at.line.max(1) - 1) as usize;
        let Some(&start) = self.line_starts.get(line) else {
            return *self.char_bytes.last().unwrap_or(&0);
        };
        let char_index = start + (at.column.max(1) - 1) as usize;
        self.char_bytes
            .get(char_index)
            .copied()
            .unwrap_or(*self.char_bytes.last().unwrap_or(&0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_follow_the_text() {
        let text = "SELECT \"żółw x\", ab\n  FROM t -- note";
        let toks = lex(text).expect("tokens");
        let slices: Vec<&str> = toks.iter().map(|t| &text[t.start..t.end]).collect();
        assert_eq!(
            slices,
            ["SELECT", "\"żółw x\"", ",", "ab", "FROM", "t", "-- note"]
        );
        assert!(toks[6].is_comment());
        assert!(toks[4].is_keyword("FROM"));
        assert_eq!(toks[1].word(), Some("żółw x"));
        assert_eq!(lex("SELECT \"open"), None);
    }
}
