//! What the cursor is in: the word being typed (and the range it replaces), the qualifier
//! before it (`db.`, `t.`, `db.tab.`), and what kind of name is wanted there.

use std::ops::Range;

use super::lex::{Tok, lex};
use sqlparser::tokenizer::Token;

/// What kind of name fits where the cursor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// After `FROM`, `JOIN`, `UPDATE`, `INTO`: schemas and tables.
    Tables,
    /// In the select list, `WHERE`, `ON`, `GROUP BY`, `ORDER BY`, `HAVING`, `SET`: columns,
    /// functions and keywords.
    Columns,
    /// Anywhere else: keywords (and snippets).
    Keywords,
    /// Inside a string or a comment: nothing.
    Nothing,
}

/// The cursor's context in its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The bytes the accepted item replaces: the word under the cursor, quotes included.
    pub replace: Range<usize>,
    /// What was typed of the word before the cursor, unquoted.
    pub typed: String,
    /// The word was begun with a quote: the item is inserted quoted.
    pub quoted: bool,
    /// The names before the word, each followed by a `.`, outermost first.
    pub qualifier: Vec<String>,
    pub wanted: Wanted,
}

/// Keywords after which table names come.
const TABLE_CLAUSES: &[&str] = &["FROM", "JOIN", "UPDATE", "INTO", "TABLE"];
/// Keywords after which column names come.
const COLUMN_CLAUSES: &[&str] = &[
    "SELECT",
    "WHERE",
    "ON",
    "BY",
    "HAVING",
    "SET",
    "DISTINCT",
    "WHEN",
    "THEN",
    "ELSE",
    "USING",
    "RETURNING",
    "QUALIFY",
];
/// Keywords that end a clause where names are wanted.
const OTHER_CLAUSES: &[&str] = &[
    "LIMIT",
    "OFFSET",
    "VALUES",
    "VALUE",
    "WITH",
    "AS",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "CREATE",
    "DROP",
    "INSERT",
    "DELETE",
];

/// The context of byte offset `cursor` in `statement` (clamped to the text and to a char
/// boundary).
pub fn context_at(statement: &str, cursor: usize) -> Context {
    let mut cursor = cursor.min(statement.len());
    while !statement.is_char_boundary(cursor) {
        cursor -= 1;
    }
    let prefix = &statement[..cursor];
    let Some((before, word)) = split_word(prefix) else {
        return nothing(cursor);
    };
    let end = word_end(statement, cursor, word.quoted);
    let (qualifier, rest) = qualifier_of(&before);
    let wanted = wanted_after(rest, !qualifier.is_empty());
    Context {
        replace: word.start..end,
        typed: word.typed,
        quoted: word.quoted,
        qualifier,
        wanted,
    }
}

fn nothing(cursor: usize) -> Context {
    Context {
        replace: cursor..cursor,
        typed: String::new(),
        quoted: false,
        qualifier: Vec::new(),
        wanted: Wanted::Nothing,
    }
}

/// The word being typed at the end of `prefix`.
struct Word {
    start: usize,
    typed: String,
    quoted: bool,
}

/// The tokens before the word being typed, and that word; `None` when the cursor is in a
/// string or a comment.
fn split_word(prefix: &str) -> Option<(Vec<Tok>, Word)> {
    let empty = |at: usize| Word {
        start: at,
        typed: String::new(),
        quoted: false,
    };
    let Some(mut tokens) = lex(prefix) else {
        // An open quoted name is being typed: `"my ta`.
        let quote = prefix.rfind('"')?;
        let tokens = lex(&prefix[..quote])?;
        let word = Word {
            start: quote,
            typed: prefix[quote + 1..].to_owned(),
            quoted: true,
        };
        return Some((tokens, word));
    };
    let Some(last) = tokens.last().filter(|t| t.end == prefix.len()) else {
        return Some((tokens, empty(prefix.len())));
    };
    match &last.token {
        Token::Word(w) => {
            let word = Word {
                start: last.start,
                typed: w.value.clone(),
                quoted: w.quote_style.is_some(),
            };
            tokens.pop();
            Some((tokens, word))
        }
        Token::Whitespace(_) => None,
        // A string (or dollar-quoted body) closes right at the cursor.
        _ if prefix.ends_with(['\'', '$']) => None,
        _ => Some((tokens, empty(prefix.len()))),
    }
}

/// Where the word under the cursor ends: past the name characters after the cursor, or past
/// the closing quote of a quoted name on the same line.
fn word_end(statement: &str, cursor: usize, quoted: bool) -> usize {
    let rest = &statement[cursor..];
    if quoted {
        let line = rest.split('\n').next().unwrap_or("");
        return line.find('"').map_or(cursor, |q| cursor + q + 1);
    }
    let len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    cursor + len
}

/// The qualifier names (`db.tab.`) at the end of `before`, and the tokens before them.
fn qualifier_of(before: &[Tok]) -> (Vec<String>, &[Tok]) {
    let mut parts = Vec::new();
    let mut end = before.len();
    while end >= 2 && before[end - 1].token == Token::Period {
        let Some(name) = before[end - 2].word() else {
            break;
        };
        parts.push(name.to_owned());
        end -= 2;
    }
    parts.reverse();
    (parts, &before[..end])
}

/// What is wanted after `before`: the nearest clause keyword outside closed parentheses
/// decides; in a table clause, tables only right after the keyword (or a `,` of `FROM`'s list)
/// or after a qualifier.
fn wanted_after(before: &[Tok], qualified: bool) -> Wanted {
    let before: Vec<&Tok> = before.iter().filter(|t| !t.is_comment()).collect();
    let Some(prev) = before.last() else {
        return Wanted::Keywords;
    };
    let mut depth = 0usize;
    for tok in before.iter().rev() {
        match tok.token {
            Token::RParen => depth += 1,
            Token::LParen => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            _ if TABLE_CLAUSES.iter().any(|k| tok.is_keyword(k)) => {
                let list_comma = prev.token == Token::Comma && tok.is_keyword("FROM");
                let right_after = std::ptr::eq(*tok, *prev) || list_comma || qualified;
                return if right_after {
                    Wanted::Tables
                } else {
                    Wanted::Keywords
                };
            }
            _ if COLUMN_CLAUSES.iter().any(|k| tok.is_keyword(k)) => return Wanted::Columns,
            _ if OTHER_CLAUSES.iter().any(|k| tok.is_keyword(k)) => return Wanted::Keywords,
            _ => {}
        }
    }
    Wanted::Keywords
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_end(text: &str) -> Context {
        context_at(text, text.len())
    }

    #[test]
    fn tables_after_from_and_join() {
        let c = at_end("SELECT * FROM tr");
        assert_eq!(
            (c.wanted, c.typed.as_str(), c.replace),
            (Wanted::Tables, "tr", 14..16)
        );
        assert_eq!(at_end("SELECT * FROM a JOIN ").wanted, Wanted::Tables);
        assert_eq!(at_end("SELECT * FROM a, b").wanted, Wanted::Tables);
        assert_eq!(at_end("DELETE FROM x").wanted, Wanted::Tables);
        assert_eq!(at_end("UPDATE ").wanted, Wanted::Tables);
        assert_eq!(at_end("INSERT INTO ").wanted, Wanted::Tables);
        assert_eq!(at_end("SELECT * FROM trips t ").wanted, Wanted::Keywords);
    }

    #[test]
    fn qualified_names_part_by_part() {
        let c = at_end("SELECT * FROM sales.");
        assert_eq!(
            (c.wanted, c.qualifier.clone()),
            (Wanted::Tables, vec!["sales".to_owned()])
        );
        assert_eq!(c.replace, 20..20);
        let c = at_end("SELECT * FROM cat.sales.or");
        assert_eq!(c.qualifier, ["cat", "sales"]);
        assert_eq!(c.typed, "or");
        let c = at_end("SELECT t.fa");
        assert_eq!(
            (c.wanted, c.qualifier.clone()),
            (Wanted::Columns, vec!["t".to_owned()])
        );
    }

    #[test]
    fn columns_in_expression_clauses() {
        for text in [
            "SELECT ",
            "SELECT a, b",
            "SELECT count(fa",
            "SELECT * FROM t WHERE x = 1 AND y",
            "SELECT * FROM a JOIN b ON a.id = ",
            "SELECT * FROM t GROUP BY ",
            "SELECT * FROM t ORDER BY x, ",
            "SELECT * FROM (SELECT 1) s WHERE ",
        ] {
            assert_eq!(at_end(text).wanted, Wanted::Columns, "{text}");
        }
        assert_eq!(at_end("SELECT * FROM t LIMIT ").wanted, Wanted::Keywords);
        assert_eq!(at_end("").wanted, Wanted::Keywords);
        assert_eq!(at_end("sel").typed, "sel");
    }

    #[test]
    fn quoted_names_partial_and_whole() {
        let c = at_end("SELECT * FROM \"my ta");
        assert_eq!(
            (c.typed.as_str(), c.quoted, c.replace),
            ("my ta", true, 14..20)
        );
        assert_eq!(c.wanted, Wanted::Tables);
        let text = "SELECT * FROM \"my ta\" x";
        let c = context_at(text, 18);
        assert_eq!((c.typed.as_str(), c.replace), ("my ", 14..21));
        let c = at_end("SELECT \"Mixed\"");
        assert_eq!((c.typed.as_str(), c.quoted), ("Mixed", true));
    }

    #[test]
    fn word_runs_past_the_cursor_and_strings_get_nothing() {
        let text = "SELECT * FROM trips WHERE x";
        let c = context_at(text, 16);
        assert_eq!((c.typed.as_str(), c.replace), ("tr", 14..19));
        assert_eq!(at_end("SELECT 'abc").wanted, Wanted::Nothing);
        assert_eq!(at_end("SELECT 'abc'").wanted, Wanted::Nothing);
        assert_eq!(at_end("SELECT 1 -- note").wanted, Wanted::Nothing);
        assert_eq!(at_end("SELECT $$a b$$").wanted, Wanted::Nothing);
        assert_eq!(context_at("SELECT é", 8).replace, 7..9);
    }
}
