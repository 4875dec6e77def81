//! The tables a statement reads (`FROM`/`JOIN` items with their aliases) and its CTEs with
//! their columns, so that `t.` and unqualified column positions know what they refer to.

use std::ops::Range;

use super::lex::{Tok, lex, significant};
use sqlparser::tokenizer::Token;

/// A table named in the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    /// Its name as written, qualifiers first (`["sales", "orders"]`).
    pub path: Vec<String>,
    pub alias: Option<String>,
    /// Byte offset of the name in the statement (to tell which table is nearest the cursor).
    pub at: usize,
}

impl TableRef {
    /// Whether `name` (a qualifier typed before `.`) refers to this table: its alias, or its
    /// name when it has none.
    pub fn answers_to(&self, name: &str) -> bool {
        match &self.alias {
            Some(alias) => alias.eq_ignore_ascii_case(name),
            None => self
                .path
                .last()
                .is_some_and(|n| n.eq_ignore_ascii_case(name)),
        }
    }
}

/// A common table expression (`WITH x AS (…)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cte {
    pub name: String,
    pub columns: Vec<String>,
}

/// What is in scope in a statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The tables read, nearest the cursor first.
    pub tables: Vec<TableRef>,
    pub ctes: Vec<Cte>,
}

impl Scope {
    pub fn cte(&self, name: &str) -> Option<&Cte> {
        self.ctes.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// Words that end a `FROM` item: never taken for an alias.
const NOT_ALIASES: &[&str] = &[
    "WHERE",
    "JOIN",
    "LEFT",
    "RIGHT",
    "INNER",
    "FULL",
    "CROSS",
    "OUTER",
    "NATURAL",
    "ON",
    "USING",
    "GROUP",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "WINDOW",
    "SET",
    "VALUES",
    "VALUE",
    "LATERAL",
    "SELECT",
    "FROM",
    "WITH",
    "QUALIFY",
    "FETCH",
    "TABLESAMPLE",
    "RETURNING",
    "DEFAULT",
];

/// The scope of `statement` for a cursor at `cursor`; `hole` is the word under the cursor,
/// left out when the text does not tokenize with it (a quoted name still open).
pub fn scope_of(statement: &str, cursor: usize, hole: Range<usize>) -> Scope {
    let tokens = lex(statement).or_else(|| {
        let mut patched = statement[..hole.start].to_owned();
        patched.push_str(&" ".repeat(hole.len()));
        patched.push_str(&statement[hole.end..]);
        lex(&patched)
    });
    let Some(tokens) = tokens.or_else(|| lex(&statement[..hole.start])) else {
        return Scope::default();
    };
    let tokens = significant(&tokens);
    let (ctes, bodies) = ctes_of(&tokens);
    let skipped: Vec<Range<usize>> = bodies
        .into_iter()
        .filter(|b| !(tokens[b.start].start <= cursor && cursor <= tokens[b.end - 1].end))
        .collect();
    let mut tables = tables_of(&tokens, &skipped);
    tables.sort_by_key(|t| t.at.abs_diff(cursor));
    Scope { tables, ctes }
}

/// The index of the `)` closing the `(` at `open`, or the end.
fn closing(tokens: &[Tok], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The CTEs of a leading `WITH`, and the token ranges of their bodies.
fn ctes_of(tokens: &[Tok]) -> (Vec<Cte>, Vec<Range<usize>>) {
    let (mut ctes, mut bodies) = (Vec::new(), Vec::new());
    if !tokens.first().is_some_and(|t| t.is_keyword("WITH")) {
        return (ctes, bodies);
    }
    let mut i = 1 + usize::from(tokens.get(1).is_some_and(|t| t.is_keyword("RECURSIVE")));
    while let Some(name) = tokens.get(i).and_then(Tok::word) {
        let mut columns = Vec::new();
        i += 1;
        if tokens.get(i).is_some_and(|t| t.token == Token::LParen) {
            let close = closing(tokens, i);
            columns.extend(
                tokens[i + 1..close]
                    .iter()
                    .filter_map(Tok::word)
                    .map(str::to_owned),
            );
            i = close + 1;
        }
        while tokens.get(i).is_some_and(|t| t.token != Token::LParen) {
            i += 1; // AS, [NOT] MATERIALIZED
        }
        if i >= tokens.len() {
            break;
        }
        let close = closing(tokens, i);
        if columns.is_empty() {
            columns = select_list_names(&tokens[i + 1..close]);
        }
        ctes.push(Cte {
            name: name.to_owned(),
            columns,
        });
        bodies.push(i..close.min(tokens.len()));
        i = close + 1;
        if tokens.get(i).is_none_or(|t| t.token != Token::Comma) {
            break;
        }
        i += 1;
    }
    (ctes, bodies)
}

/// The names of a query's select list (`a`, `t.a`, `expr AS b`, `expr b`); items without a
/// name of their own (`*`, `count(*)`) are left out.
fn select_list_names(query: &[Tok]) -> Vec<String> {
    let Some(select) = query.iter().position(|t| t.is_keyword("SELECT")) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let mut item: Vec<&Tok> = Vec::new();
    let mut depth = 0usize;
    for tok in &query[select + 1..] {
        match tok.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            Token::Comma => {
                names.extend(item_name(&item));
                item.clear();
                continue;
            }
            _ if tok.is_keyword("FROM") => break,
            _ => {}
        }
        if !(item.is_empty() && (tok.is_keyword("DISTINCT") || tok.is_keyword("ALL"))) {
            item.push(tok);
        }
    }
    names.extend(item_name(&item));
    names
}

fn item_name(item: &[&Tok]) -> Option<String> {
    let name = item.last()?.word()?;
    let named = match item.len() {
        1 => true,
        n => {
            let prev = &item[n - 2];
            prev.word().is_some() || matches!(prev.token, Token::Period | Token::RParen)
        }
    };
    named.then(|| name.to_owned())
}

/// The tables after `FROM` (each of its list), `JOIN`, `UPDATE` and `INTO`, outside `skipped`.
fn tables_of(tokens: &[Tok], skipped: &[Range<usize>]) -> Vec<TableRef> {
    let mut tables = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some(body) = skipped.iter().find(|b| b.start == i) {
            i = body.end + 1;
            continue;
        }
        let tok = &tokens[i];
        i += 1;
        let is_from = tok.is_keyword("FROM");
        if !(is_from || ["JOIN", "UPDATE", "INTO"].iter().any(|k| tok.is_keyword(k))) {
            continue;
        }
        loop {
            let (table, next) = table_item(tokens, i);
            tables.extend(table);
            i = next;
            if !(is_from && tokens.get(i).is_some_and(|t| t.token == Token::Comma)) {
                break;
            }
            i += 1;
        }
    }
    tables
}

/// One `FROM` item starting at `i`: a (qualified) name with an optional alias; subqueries and
/// table functions give no table. Returns the index after the item.
fn table_item(tokens: &[Tok], mut i: usize) -> (Option<TableRef>, usize) {
    if tokens.get(i).is_some_and(|t| t.token == Token::LParen) {
        return (None, i); // a subquery: its own FROM is read on its own
    }
    let at = tokens.get(i).map_or(0, |t| t.start);
    let mut path = Vec::new();
    while let Some(name) = tokens.get(i).and_then(Tok::word) {
        path.push(name.to_owned());
        i += 1;
        if tokens.get(i).is_some_and(|t| t.token == Token::Period) {
            i += 1;
        } else {
            break;
        }
    }
    if path.is_empty() || tokens.get(i).is_some_and(|t| t.token == Token::LParen) {
        return (None, i);
    }
    if tokens.get(i).is_some_and(|t| t.is_keyword("AS")) {
        i += 1;
    }
    let alias = tokens
        .get(i)
        .filter(|t| !NOT_ALIASES.iter().any(|k| t.is_keyword(k)))
        .and_then(Tok::word)
        .map(str::to_owned);
    i += usize::from(alias.is_some());
    (Some(TableRef { path, alias, at }), i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(text: &str) -> Scope {
        scope_of(text, text.len(), text.len()..text.len())
    }

    fn named(s: &Scope) -> Vec<(String, Option<String>)> {
        let mut v: Vec<_> = s
            .tables
            .iter()
            .map(|t| (t.path.join("."), t.alias.clone()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn aliases_in_a_three_way_join() {
        let s = scope(
            "SELECT * FROM sales.orders AS o JOIN customers c ON o.cid = c.id \
             LEFT JOIN \"Line Items\" li ON li.oid = o.id WHERE ",
        );
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            named(&s),
            [
                ("Line Items".to_owned(), some("li")),
                ("customers".to_owned(), some("c")),
                ("sales.orders".to_owned(), some("o")),
            ]
        );
        assert_eq!(s.tables[0].path, ["Line Items"], "nearest the cursor first");
        assert!(s.tables[0].answers_to("LI"));
    }

    #[test]
    fn from_lists_without_aliases_and_update() {
        let s = scope("SELECT * FROM a, b x WHERE ");
        assert_eq!(
            named(&s),
            [("a".into(), None), ("b".into(), Some("x".into()))]
        );
        assert!(s.tables.iter().any(|t| t.answers_to("a")));
        let s = scope("UPDATE trips SET ");
        assert_eq!(named(&s), [("trips".into(), None)]);
        assert_eq!(named(&scope("SELECT * FROM t WHERE")), [("t".into(), None)]);
    }

    #[test]
    fn ctes_with_their_columns() {
        let s = scope(
            "WITH x AS (SELECT a, t.b AS c, count(*), d e FROM t), \
             y(p, q) AS (SELECT 1, 2) SELECT * FROM x JOIN y ON ",
        );
        assert_eq!(
            s.cte("X").map(|c| c.columns.clone()),
            Some(vec!["a".into(), "c".into(), "e".into()])
        );
        assert_eq!(
            s.cte("y").map(|c| c.columns.clone()),
            Some(vec!["p".into(), "q".into()])
        );
        assert_eq!(
            named(&s),
            [("x".into(), None), ("y".into(), None)],
            "t is inside x"
        );
    }

    #[test]
    fn an_open_quoted_name_under_the_cursor_is_left_out() {
        let text = "SELECT \"Fa FROM trips t";
        let s = scope_of(text, 10, 7..10);
        assert_eq!(named(&s), [("trips".into(), Some("t".into()))]);
    }
}
