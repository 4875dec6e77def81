//! Quoting a name for the dialect it is inserted into.

use super::dialect::{folds_to_lower, is_reserved};
use crate::model::connection::SqlDialect;

/// Whether `name` must be quoted to reach the engine as spelled: a reserved word, upper case
/// where the dialect folds unquoted names to lower case, a character outside `[A-Za-z0-9_]`
/// (spaces, dots, non-ASCII), a leading digit, or empty.
pub fn needs_quoting(dialect: SqlDialect, name: &str) -> bool {
    let Some(first) = name.chars().next() else {
        return true;
    };
    first.is_ascii_digit()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || (folds_to_lower(dialect) && name.chars().any(|c| c.is_ascii_uppercase()))
        || is_reserved(dialect, name)
}

/// `name` in double quotes (every dialect here, PartiQL included, quotes names with `"`),
/// inner quotes doubled.
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `name` as it is inserted: quoted when it needs it.
pub fn quote_name(dialect: SqlDialect, name: &str) -> String {
    if needs_quoting(dialect, name) {
        quoted(name)
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_reserved_mixed_case_and_odd_names() {
        let pg = SqlDialect::Postgres;
        assert_eq!(quote_name(pg, "order"), "\"order\"");
        assert_eq!(quote_name(pg, "Mixed"), "\"Mixed\"");
        assert_eq!(quote_name(pg, "my table"), "\"my table\"");
        assert_eq!(quote_name(pg, "2024_sales"), "\"2024_sales\"");
        assert_eq!(quote_name(pg, "say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote_name(pg, "trips"), "trips");
        assert_eq!(quote_name(SqlDialect::Trino, "Order"), "\"Order\"");
        assert_eq!(quote_name(SqlDialect::DataFusion, "fare_2"), "fare_2");
    }

    #[test]
    fn partiql_keeps_case_but_quotes_its_reserved_words() {
        let p = SqlDialect::PartiQl;
        assert_eq!(quote_name(p, "CustomerId"), "CustomerId");
        assert_eq!(quote_name(p, "name"), "\"name\"");
        assert_eq!(quote_name(p, "order"), "\"order\"");
        assert_eq!(quote_name(p, "my-attr"), "\"my-attr\"");
    }
}
