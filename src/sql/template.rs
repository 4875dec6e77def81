//! `${name}` placeholders of saved snippets, filled in before a query runs.
//!
//! # Syntax
//!
//! - `${name}`: a value the user must give. A name is `[A-Za-z_][A-Za-z0-9_]*`.
//! - `${name:default}`: used when no value is given. The default is everything up to the first
//!   `}` (it cannot hold `}` or a line break, and may be empty: `${name:}`). A default written at
//!   any occurrence of a name applies to all of them (the first one wins).
//! - `${name!kind}` and `${name!kind:default}` choose how the value is written (below); `kind` is
//!   `str`, `raw` or `ident`.
//!
//! Anything else that starts with `${` (`${ x }`, `${1}`, `${x!unknown}`) is not a placeholder
//! and is left as typed. Placeholders inside `--` and `/* */` comments are neither listed nor
//! replaced; everywhere else, including inside quoted strings, they are.
//!
//! # Quoting rules (text substitution: the local engine and other kinds without parameters)
//!
//! | written            | value `42` | value `O'Brien` | value `Sales Q1`  |
//! |--------------------|------------|-----------------|-------------------|
//! | `${v}`             | `42`       | `'O''Brien'`    | `'Sales Q1'`      |
//! | `${v!str}`         | `'42'`     | `'O''Brien'`    | `'Sales Q1'`      |
//! | `${v!raw}`         | `42`       | `O'Brien`       | `Sales Q1`        |
//! | `${v!ident}`       | `"42"`     | `"O'Brien"`     | `"Sales Q1"`      |
//! | `'%${v}%'`         | `'%42%'`   | `'%O''Brien%'`  | `'%Sales Q1%'`    |
//!
//! 1. Outside quotes, a value that is a plain number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`:
//!    `42`, `-1.5`, `1e6`) goes in as is; anything else becomes an SQL string literal `'…'` with
//!    each `'` doubled. So `007`, `+5`, `1_000`, `NULL` and `true` are strings: write `${v!raw}`
//!    for SQL keywords and expressions.
//! 2. `!str` always writes a string literal, `!raw` writes the value exactly as given (nothing is
//!    escaped: only for trusted values), `!ident` writes an identifier, in double quotes unless
//!    it is a plain lower-case name (`trips`), with each `"` doubled.
//! 3. Inside a quoted string or identifier (`'…'`, `"…"`, `` `…` ``) the value is escaped for that
//!    quote (the quote character doubled) and no quotes are added, whatever the kind except `!raw`.
//!    Inside a dollar-quoted string (`$$…$$`) the value goes in as is, and may not contain the
//!    closing `$$`.
//!
//! # Query parameters (Athena, Redshift Data API, DynamoDB)
//!
//! With [`Mode::AsParameters`] a placeholder outside quotes becomes the service's parameter
//! marker (`:name` for [`ParamStyle::Named`], `?` for [`ParamStyle::Positional`]) and its value
//! goes to the service separately, never spliced into the text: quoting does not matter and the
//! number rule only picks the parameter's type where the service has types (DynamoDB; Athena's
//! `ExecutionParameters` get a bare number or a quoted literal by the same rule). `!raw`
//! and `!ident` values are still written into the text as above (the service has no parameters
//! for keywords and names). A placeholder inside a quoted string cannot be a parameter and is an
//! error: write `'%' || ${v} || '%'` instead of `'%${v}%'`.

use std::collections::HashMap;

use super::scan::{Opaque, opaque_at};

/// A placeholder of a template, as [`template_params`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateParam {
    pub name: String,
    /// The default written in the template (`${name:default}`), if any.
    pub default: Option<String>,
}

/// How a template is turned into SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Values are written into the text (see the module's quoting rules).
    Textual,
    /// Values become query parameters in this syntax.
    AsParameters(ParamStyle),
}

/// The parameter syntax of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// `?`, one value per occurrence (Athena, DynamoDB).
    Positional,
    /// `:name`, one value per distinct name (Redshift Data API).
    Named,
}

/// How a placeholder asks for its value to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auto,
    Str,
    Raw,
    Ident,
}

/// A template turned into SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub sql: String,
    /// With [`Mode::AsParameters`]: the values in the order the service needs them (one per `?`,
    /// or one per distinct `:name` in order of first appearance). Empty with [`Mode::Textual`].
    pub params: Vec<BoundParam>,
}

/// A value sent as a query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundParam {
    pub name: String,
    pub value: String,
    /// `!str` was written: a string even when the value looks like a number.
    pub force_string: bool,
}

impl BoundParam {
    /// Whether the value is sent as a number (a plain number, and not `!str`).
    pub fn is_number(&self) -> bool {
        !self.force_string && is_plain_number(&self.value)
    }

    /// The value as an SQL literal: a number bare, else a quoted string with `'` doubled
    /// (Athena `ExecutionParameters` take literals).
    pub fn sql_literal(&self) -> String {
        if self.is_number() {
            self.value.clone()
        } else {
            format!("'{}'", self.value.replace('\'', "''"))
        }
    }

    /// The value as a JSON literal: a number, else a JSON string (DynamoDB parameters).
    pub fn json_literal(&self) -> String {
        if self.is_number() {
            self.value.clone()
        } else {
            serde_json::Value::String(self.value.clone()).to_string()
        }
    }
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("no value for `${{{name}}}`, and it has no default")]
    Missing { name: String },
    #[error(
        "`${{{name}}}` is inside a quoted string and cannot be sent as a query parameter: \
         write it outside the quotes (e.g. '%' || ${{{name}}} || '%')"
    )]
    InString { name: String },
    #[error(
        "the value of `${{{name}}}` contains `{delimiter}`, which would end the dollar-quoted string"
    )]
    EndsDollarQuote { name: String, delimiter: String },
    #[error("`${{{name}}}` cannot be sent as a query parameter here: {problem}")]
    NotAParameter { name: String, problem: String },
}

/// One placeholder found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found<'a> {
    name: &'a str,
    kind: Kind,
    default: Option<&'a str>,
}

/// Where a placeholder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context<'a> {
    Code,
    /// Inside `'…'`, `"…"` or `` `…` ``: the quote byte.
    Quoted(u8),
    /// Inside a dollar-quoted string: its delimiter (`$$`, `$tag$`).
    Dollar(&'a str),
}

enum Piece<'a> {
    Text(&'a str),
    Placeholder(Found<'a>, Context<'a>),
}

/// The placeholders of `text`, each name once, in order of first appearance.
pub fn template_params(text: &str) -> Vec<TemplateParam> {
    let mut params: Vec<TemplateParam> = Vec::new();
    scan(text, &mut |piece| {
        if let Piece::Placeholder(found, _) = piece {
            match params.iter_mut().find(|p| p.name == found.name) {
                Some(p) => {
                    if p.default.is_none() {
                        p.default = found.default.map(str::to_owned);
                    }
                }
                None => params.push(TemplateParam {
                    name: found.name.to_owned(),
                    default: found.default.map(str::to_owned),
                }),
            }
        }
    });
    params
}

/// Fills the placeholders of `text` with `values` (else their defaults) as `mode` says.
pub fn render(
    text: &str,
    values: &HashMap<String, String>,
    mode: Mode,
) -> Result<Rendered, TemplateError> {
    let defaults = template_params(text);
    let mut sql = String::with_capacity(text.len());
    let mut params: Vec<BoundParam> = Vec::new();
    let mut error = None;
    scan(text, &mut |piece| {
        if error.is_some() {
            return;
        }
        match piece {
            Piece::Text(t) => sql.push_str(t),
            Piece::Placeholder(found, context) => {
                let value = values.get(found.name).map(String::as_str).or_else(|| {
                    defaults
                        .iter()
                        .find(|p| p.name == found.name)
                        .and_then(|p| p.default.as_deref())
                });
                let Some(value) = value else {
                    error = Some(TemplateError::Missing {
                        name: found.name.to_owned(),
                    });
                    return;
                };
                if let Err(e) = write_one(&mut sql, &mut params, &found, context, value, mode) {
                    error = Some(e);
                }
            }
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    if let Mode::AsParameters(style) = mode {
        check_markers(&sql, &params, style)?;
    }
    Ok(Rendered { sql, params })
}

/// Writes one placeholder's value.
fn write_one(
    sql: &mut String,
    params: &mut Vec<BoundParam>,
    found: &Found<'_>,
    context: Context<'_>,
    value: &str,
    mode: Mode,
) -> Result<(), TemplateError> {
    let name = found.name;
    match (context, found.kind) {
        (_, Kind::Raw) => sql.push_str(value),
        (Context::Quoted(b'\''), _) if mode != Mode::Textual => {
            return Err(TemplateError::InString {
                name: name.to_owned(),
            });
        }
        (Context::Quoted(q), _) => {
            let q = q as char;
            sql.push_str(&value.replace(q, &format!("{q}{q}")));
        }
        (Context::Dollar(_), _) if mode != Mode::Textual => {
            return Err(TemplateError::InString {
                name: name.to_owned(),
            });
        }
        (Context::Dollar(delimiter), _) => {
            if value.contains(delimiter) {
                return Err(TemplateError::EndsDollarQuote {
                    name: name.to_owned(),
                    delimiter: delimiter.to_owned(),
                });
            }
            sql.push_str(value);
        }
        (Context::Code, Kind::Ident) => sql.push_str(&super::quote_ident(value)),
        (Context::Code, kind) => match mode {
            Mode::Textual if kind == Kind::Auto && is_plain_number(value) => sql.push_str(value),
            Mode::Textual => sql.push_str(&string_literal(value)),
            Mode::AsParameters(style) => {
                let bound = BoundParam {
                    name: name.to_owned(),
                    value: value.to_owned(),
                    force_string: kind == Kind::Str,
                };
                match style {
                    ParamStyle::Positional => {
                        sql.push('?');
                        params.push(bound);
                    }
                    ParamStyle::Named => {
                        sql.push(':');
                        sql.push_str(name);
                        if !params.iter().any(|p| p.name == name) {
                            params.push(bound);
                        }
                    }
                }
            }
        },
    }
    Ok(())
}

/// The parameter markers of the rendered text must be exactly the ones written for the
/// placeholders: a marker glued to a word (`x${v}`) or one the text already had would shift
/// the values onto the wrong markers.
fn check_markers(sql: &str, params: &[BoundParam], style: ParamStyle) -> Result<(), TemplateError> {
    match style {
        ParamStyle::Positional => {
            let count = super::positional_count(sql);
            if count != params.len() {
                let name = params.first().map_or("?", |p| p.name.as_str()).to_owned();
                return Err(TemplateError::NotAParameter {
                    name,
                    problem: format!(
                        "the text has {count} `?` marker(s) for {} value(s): remove the `?` the \
                         snippet has of its own, or give those values as placeholders too",
                        params.len()
                    ),
                });
            }
        }
        ParamStyle::Named => {
            let names = super::named_params(sql);
            for p in params {
                if !names.contains(&p.name) {
                    return Err(TemplateError::NotAParameter {
                        name: p.name.clone(),
                        problem: "put a space or an operator before it".to_owned(),
                    });
                }
            }
            if let Some(other) = names.iter().find(|n| !params.iter().any(|p| &p.name == *n)) {
                return Err(TemplateError::NotAParameter {
                    name: other.clone(),
                    problem: format!(
                        "the snippet also uses `:{other}` of its own: write it as ${{{other}}}"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// `'…'` with `'` doubled.
fn string_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
pub fn is_plain_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b[int_start] == b'0') {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Parses a placeholder at `i` (which starts with `${`): the placeholder and the offset past it.
fn placeholder_at(text: &str, i: usize) -> Option<(Found<'_>, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'$') || b.get(i + 1) != Some(&b'{') {
        return None;
    }
    let name_start = i + 2;
    let mut j = name_start;
    if !b
        .get(j)
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
    {
        return None;
    }
    while b
        .get(j)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
    {
        j += 1;
    }
    let name = &text[name_start..j];
    let mut kind = Kind::Auto;
    if b.get(j) == Some(&b'!') {
        let kind_start = j + 1;
        let mut k = kind_start;
        while b.get(k).is_some_and(u8::is_ascii_alphabetic) {
            k += 1;
        }
        kind = match &text[kind_start..k] {
            "str" => Kind::Str,
            "raw" => Kind::Raw,
            "ident" => Kind::Ident,
            _ => return None,
        };
        j = k;
    }
    let mut default = None;
    if b.get(j) == Some(&b':') {
        let start = j + 1;
        let len = b[start..].iter().position(|&c| c == b'}' || c == b'\n')?;
        default = Some(&text[start..start + len]);
        j = start + len;
    }
    if b.get(j) != Some(&b'}') {
        return None;
    }
    Some((
        Found {
            name,
            kind,
            default,
        },
        j + 1,
    ))
}

/// Walks `text`, handing out plain text and placeholders (with where they stand) in order.
/// Comments are handed out as plain text. Linear in the length of the text.
fn scan<'a>(text: &'a str, out: &mut dyn FnMut(Piece<'a>)) {
    let b = text.as_bytes();
    let mut flushed = 0;
    let mut i = 0;
    while i < b.len() {
        if let Some((found, end)) = placeholder_at(text, i) {
            out(Piece::Text(&text[flushed..i]));
            out(Piece::Placeholder(found, Context::Code));
            i = end;
            flushed = end;
            continue;
        }
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                // Inside quotes: placeholders, else the closing quote (doubled = escaped).
                let mut j = i + 1;
                while j < b.len() {
                    if let Some((found, end)) = placeholder_at(text, j) {
                        out(Piece::Text(&text[flushed..j]));
                        out(Piece::Placeholder(found, Context::Quoted(q)));
                        j = end;
                        flushed = end;
                        continue;
                    }
                    if b[j] == q {
                        if b.get(j + 1) == Some(&q) {
                            j += 2;
                            continue;
                        }
                        j += 1;
                        break;
                    }
                    j += 1;
                }
                i = j;
            }
            b'$' => match opaque_at(text, i) {
                Some((Opaque::Quoted, end)) => {
                    let tag_len = b[i + 1..].iter().position(|&c| c == b'$').unwrap_or(0) + 2;
                    let delimiter = &text[i..i + tag_len];
                    let body_end = if end >= i + 2 * tag_len && text[..end].ends_with(delimiter) {
                        end - tag_len
                    } else {
                        end
                    };
                    let mut j = i + tag_len;
                    while j < body_end {
                        if let Some((found, past)) = placeholder_at(text, j)
                            && past <= body_end
                        {
                            out(Piece::Text(&text[flushed..j]));
                            out(Piece::Placeholder(found, Context::Dollar(delimiter)));
                            j = past;
                            flushed = past;
                            continue;
                        }
                        j += 1;
                    }
                    i = end;
                }
                _ => i += 1,
            },
            _ => match opaque_at(text, i) {
                Some((Opaque::Comment, end)) => i = end,
                _ => i += 1,
            },
        }
    }
    out(Piece::Text(&text[flushed..]));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn textual(text: &str, pairs: &[(&str, &str)]) -> String {
        render(text, &values(pairs), Mode::Textual).unwrap().sql
    }

    fn param(name: &str, default: Option<&str>) -> TemplateParam {
        TemplateParam {
            name: name.into(),
            default: default.map(Into::into),
        }
    }

    #[test]
    fn lists_params_in_order_of_first_appearance() {
        let text = "SELECT * FROM t WHERE a = ${b} AND c = ${a:5} AND d = ${b!str:x} -- ${c}\n\
                    /* ${d} */ AND e = '${e}' AND f = ${_f9!raw}";
        assert_eq!(
            template_params(text),
            vec![
                param("b", Some("x")),
                param("a", Some("5")),
                param("e", None),
                param("_f9", None),
            ]
        );
    }

    #[test]
    fn not_placeholders_are_left_as_typed() {
        let text = "SELECT '${ x }', ${1}, ${x!bogus}, ${x, $x, $$ a $$, ${y:no\nend}";
        assert!(template_params(text).is_empty());
        assert_eq!(textual(text, &[]), text);
    }

    #[test]
    fn quoting_of_strings_and_numbers() {
        let text = "WHERE who = ${who} AND n > ${n} AND f = ${f} AND z = ${zip}";
        assert_eq!(
            textual(
                text,
                &[
                    ("who", "O'Brien"),
                    ("n", "42"),
                    ("f", "-1.5e3"),
                    ("zip", "007")
                ]
            ),
            "WHERE who = 'O''Brien' AND n > 42 AND f = -1.5e3 AND z = '007'"
        );
        for s in [
            "NULL", "true", "+5", "1_000", ".5", "5.", "0x1F", "1e", "", "- 1",
        ] {
            assert!(!is_plain_number(s), "{s}");
        }
        for s in ["0", "-0", "10", "3.14", "1E+6", "2e-3"] {
            assert!(is_plain_number(s), "{s}");
        }
    }

    #[test]
    fn kinds_str_raw_and_ident() {
        let text = "SELECT ${c!ident}, ${n!str} FROM ${t!ident} WHERE x IS ${v!raw}";
        assert_eq!(
            textual(
                text,
                &[
                    ("c", "Vendor Name"),
                    ("n", "42"),
                    ("t", "trips"),
                    ("v", "NULL")
                ]
            ),
            "SELECT \"Vendor Name\", '42' FROM trips WHERE x IS NULL"
        );
    }

    #[test]
    fn inside_quotes_the_value_is_escaped_for_the_quote() {
        assert_eq!(
            textual("WHERE n LIKE '%${who}%'", &[("who", "O'Brien")]),
            "WHERE n LIKE '%O''Brien%'"
        );
        assert_eq!(
            textual("SELECT \"${c}\", `${c}`", &[("c", "a\"b`c")]),
            "SELECT \"a\"\"b`c\", `a\"b``c`"
        );
        assert_eq!(
            textual("SELECT '${v!raw}'", &[("v", "it''s")]),
            "SELECT 'it''s'"
        );
        // The quote scanning stays right after an escaped quote and a substituted value.
        assert_eq!(
            textual("SELECT 'it''s ${a}', ${b}", &[("a", "1"), ("b", "x")]),
            "SELECT 'it''s 1', 'x'"
        );
    }

    #[test]
    fn dollar_quotes_take_the_value_as_is() {
        assert_eq!(
            textual("SELECT $$ ${a} $$, ${a}", &[("a", "it's")]),
            "SELECT $$ it's $$, 'it''s'"
        );
        let err = render("SELECT $$ ${a} $$", &values(&[("a", "x$$")]), Mode::Textual);
        assert!(matches!(err, Err(TemplateError::EndsDollarQuote { .. })));
    }

    #[test]
    fn comments_are_untouched() {
        let text = "SELECT ${a} -- ${a} and ${b}\n/* ${b} /* ${c} */ */ FROM t";
        assert_eq!(
            textual(text, &[("a", "1")]),
            "SELECT 1 -- ${a} and ${b}\n/* ${b} /* ${c} */ */ FROM t"
        );
    }

    #[test]
    fn defaults_and_given_values() {
        let text = "SELECT ${a:1}, ${b:x y}, ${c:}, ${a}";
        assert_eq!(textual(text, &[]), "SELECT 1, 'x y', '', 1");
        assert_eq!(textual(text, &[("a", "2")]), "SELECT 2, 'x y', '', 2");
        // A default written at a later occurrence applies to the earlier ones too.
        assert_eq!(textual("${a}, ${a:7}", &[]), "7, 7");
    }

    #[test]
    fn missing_value_names_the_placeholder() {
        let err = render("SELECT ${a:1}, ${who}", &values(&[]), Mode::Textual).unwrap_err();
        assert_eq!(err, TemplateError::Missing { name: "who".into() });
        assert!(err.to_string().contains("${who}"), "{err}");
    }

    #[test]
    fn repeated_names_textual() {
        assert_eq!(
            textual("${a} + ${a} + ${b}", &[("a", "x"), ("b", "2")]),
            "'x' + 'x' + 2"
        );
    }

    #[test]
    fn positional_parameters_repeat_values() {
        let r = render(
            "SELECT * FROM t WHERE a = ${a} AND b = ${b!str} AND c = ${a} AND d = ${t!ident}",
            &values(&[("a", "O'Brien"), ("b", "42"), ("t", "X")]),
            Mode::AsParameters(ParamStyle::Positional),
        )
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = \"X\""
        );
        let got: Vec<(&str, &str)> = r
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(got, [("a", "O'Brien"), ("b", "42"), ("a", "O'Brien")]);
        assert_eq!(r.params[0].json_literal(), "\"O'Brien\"");
        assert_eq!(r.params[1].json_literal(), "\"42\"", "!str stays a string");
    }

    #[test]
    fn named_parameters_once_per_name() {
        let r = render(
            "SELECT * FROM t WHERE a = ${a} AND b = ${b:7} AND c = ${a}",
            &values(&[("a", "O'Brien")]),
            Mode::AsParameters(ParamStyle::Named),
        )
        .unwrap();
        assert_eq!(r.sql, "SELECT * FROM t WHERE a = :a AND b = :b AND c = :a");
        let got: Vec<(&str, &str)> = r
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(got, [("a", "O'Brien"), ("b", "7")]);
        assert!(r.params[1].is_number());
    }

    #[test]
    fn parameters_cannot_sit_in_strings_or_clash_with_markers() {
        let named = Mode::AsParameters(ParamStyle::Named);
        let positional = Mode::AsParameters(ParamStyle::Positional);
        let v = values(&[("a", "1"), ("b", "2")]);
        assert!(matches!(
            render("WHERE x LIKE '%${a}%'", &v, named),
            Err(TemplateError::InString { .. })
        ));
        assert!(matches!(
            render("WHERE x = ${a}${b}", &v, named),
            Err(TemplateError::NotAParameter { .. })
        ));
        assert!(matches!(
            render("WHERE x = ${a} AND y = :other", &v, named),
            Err(TemplateError::NotAParameter { .. })
        ));
        assert!(matches!(
            render("WHERE x = ${a} AND y = ?", &v, positional),
            Err(TemplateError::NotAParameter { .. })
        ));
        // Raw values and quoted identifiers are text in every mode.
        assert_eq!(
            render("SELECT \"${a}\", ${b!raw}", &v, named).unwrap().sql,
            "SELECT \"1\", 2"
        );
    }

    #[test]
    fn never_panics_and_keeps_char_boundaries() {
        let samples = [
            "${", "${a", "${a:", "${a!", "'", "$$", "$t$", "--", "/*", "é", "}",
        ];
        for a in samples {
            for b in samples {
                let text = format!("{a}{b}${{x}}{a}é{b}");
                let _ = template_params(&text);
                let _ = render(&text, &values(&[("x", "v")]), Mode::Textual);
                let _ = render(
                    &text,
                    &values(&[("x", "v")]),
                    Mode::AsParameters(ParamStyle::Named),
                );
            }
        }
    }
}
