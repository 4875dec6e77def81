//! Limits the embedded engine needs before it plans a statement.
//!
//! DataFusion plans and simplifies an expression recursively, naming every sub-expression on
//! the way, so a chain of `n` operators (`1+1+…+1`, `a = 1 OR a = 2 OR …`) costs time quadratic
//! in `n` and a stack proportional to it, and planning cannot be cancelled while it runs: 3 000
//! terms took 12 s and 10 000 took 141 s (debug build) with one core pegged. Such chains are
//! refused up front with a message that says what to do instead; generated SQL of the usual
//! shapes (long `IN` lists, `CASE` chains, hundreds of `UNION ALL`s) stays well under it.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// The longest operator chain (or run of set operations) the embedded engine is given.
pub const MAX_CHAIN: usize = 2_000;

/// `Err(message)` when `sql` holds a chain longer than [`MAX_CHAIN`]. Text the tokenizer
/// cannot read is left for the engine to report.
pub fn check_statement(sql: &str) -> Result<(), String> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return Ok(());
    };
    let chain = longest_chain(&tokens);
    if chain > MAX_CHAIN {
        return Err(format!(
            "the statement chains {chain} operators in one expression; the embedded engine \
             plans such chains in time that grows with the square of their length, so it takes \
             at most {MAX_CHAIN}: split the work into subqueries or CTEs, or aggregate rows \
             (e.g. `sum(x)`) instead of adding terms"
        ));
    }
    Ok(())
}

/// The longest run of binary operators (or of `UNION`/`INTERSECT`/`EXCEPT`) at one
/// parenthesis level, not interrupted by a comma or a clause keyword.
fn longest_chain(tokens: &[Token]) -> usize {
    // One counter per open parenthesis: (operators, set operations).
    let mut levels: Vec<(usize, usize)> = vec![(0, 0)];
    let mut longest = 0;
    for token in tokens {
        match token {
            Token::LParen => levels.push((0, 0)),
            Token::RParen if levels.len() > 1 => {
                levels.pop();
            }
            Token::Comma | Token::SemiColon => {
                if let Some(top) = levels.last_mut() {
                    top.0 = 0;
                }
            }
            Token::Word(w) => {
                let Some(top) = levels.last_mut() else {
                    continue;
                };
                match w.keyword {
                    Keyword::AND | Keyword::OR => top.0 += 1,
                    Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT => top.1 += 1,
                    Keyword::SELECT
                    | Keyword::FROM
                    | Keyword::WHERE
                    | Keyword::HAVING
                    | Keyword::WHEN
                    | Keyword::THEN
                    | Keyword::ELSE
                    | Keyword::END
                    | Keyword::ON
                    | Keyword::BY
                    | Keyword::LIMIT => top.0 = 0,
                    _ => {}
                }
            }
            t if is_operator(t) => {
                if let Some(top) = levels.last_mut() {
                    top.0 += 1;
                }
            }
            _ => {}
        }
        if let Some(&(ops, sets)) = levels.last() {
            longest = longest.max(ops).max(sets);
        }
    }
    longest
}

fn is_operator(token: &Token) -> bool {
    matches!(
        token,
        Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::DuckIntDiv
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::DoubleEq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq
            | Token::Ampersand
            | Token::Pipe
            | Token::Caret
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(sql: &str) -> usize {
        longest_chain(&Tokenizer::new(&GenericDialect {}, sql).tokenize().unwrap())
    }

    #[test]
    fn chains_are_counted_per_level_and_clause() {
        assert_eq!(chain("SELECT 1+1+1"), 2);
        assert_eq!(chain("SELECT a = 1 OR a = 2 OR a = 3 FROM t"), 5);
        // Commas, clauses and parentheses end a chain.
        assert_eq!(chain("SELECT 1+1, 2+2+2 FROM t WHERE x = 1"), 2);
        assert_eq!(chain("SELECT (1+1+1) + (1+1)"), 2);
        assert_eq!(chain("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3"), 2);
        // Operators inside strings and comments are text.
        assert_eq!(chain("SELECT '+++++' -- + + + +\n"), 0);
    }

    #[test]
    fn long_chains_are_refused_with_advice_and_usual_shapes_pass() {
        let sum = format!("SELECT 1{} AS total", "+1".repeat(2_999));
        let e = check_statement(&sum).unwrap_err();
        assert!(
            e.contains("2999 operators") && e.contains("subqueries"),
            "{e}"
        );
        let ok = format!("SELECT 1{} AS total", "+1".repeat(MAX_CHAIN));
        assert!(check_statement(&ok).is_ok());
        let in_list: Vec<String> = (0..5_000).map(|i| i.to_string()).collect();
        let in_list = format!("SELECT * FROM t WHERE x IN ({})", in_list.join(", "));
        assert!(check_statement(&in_list).is_ok());
        let case: String = (0..3_000)
            .map(|i| format!(" WHEN x = {i} THEN {i}"))
            .collect();
        assert!(check_statement(&format!("SELECT CASE{case} END FROM t")).is_ok());
        let union: Vec<String> = (0..500).map(|i| format!("SELECT {i}")).collect();
        assert!(check_statement(&union.join(" UNION ALL ")).is_ok());
        assert!(check_statement("SELECT 'unterminated").is_ok());
    }
}
