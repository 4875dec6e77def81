//! Server errors as a user reads them: severity, message, SQLSTATE, detail, hint, and where in
//! the statement (`at line L, column C`, which the editor jumps to).

use tokio_postgres::error::{DbError, ErrorPosition};

/// The error without a statement to place its position in.
pub fn describe(db: &DbError) -> String {
    describe_in(db, "")
}

/// The error, its position given as line and column of `sql` (the statement sent).
pub fn describe_in(db: &DbError, sql: &str) -> String {
    let mut text = format!(
        "{}: {} (SQLSTATE {})",
        db.severity(),
        db.message(),
        db.code().code()
    );
    if let Some(detail) = db.detail() {
        text.push_str(&format!("\nDETAIL: {detail}"));
    }
    if let Some(hint) = db.hint() {
        text.push_str(&format!("\nHINT: {hint}"));
    }
    match db.position() {
        Some(ErrorPosition::Original(pos)) if !sql.is_empty() => {
            let (line, column) = line_column(sql, *pos as usize);
            let source = sql.lines().nth(line - 1).unwrap_or("");
            text.push_str(&format!(
                "\nat line {line}, column {column}: {}",
                source.trim_end()
            ));
        }
        Some(ErrorPosition::Internal { position, query }) => {
            text.push_str(&format!(
                "\nin an internal query at character {position}: {query}"
            ));
        }
        _ => {}
    }
    if let Some(context) = db.where_() {
        text.push_str(&format!("\nCONTEXT: {context}"));
    }
    text
}

/// 1-based line and column of the 1-based character position `pos` (PostgreSQL counts
/// characters, not bytes).
pub fn line_column(sql: &str, pos: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for c in sql.chars().take(pos.saturating_sub(1)) {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_across_lines() {
        assert_eq!(line_column("SELECT x", 8), (1, 8));
        assert_eq!(line_column("SELECT\n  é, nope", 13), (2, 6));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
