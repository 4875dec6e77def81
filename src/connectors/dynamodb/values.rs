//! DynamoDB values as people type them and as Quarry writes them.
//!
//! Parameters for `?` placeholders are typed as JSON literals (`42`, `"x"`, `[1, "a"]`, …). The
//! parser is hand-written rather than `serde_json::Value` because DynamoDB numbers carry up to 38
//! significant digits, which an `f64` (and serde_json without `arbitrary_precision`) would round:
//! number lexemes are kept verbatim. Sets and binary have no JSON literal, so a top-level object
//! with a single type key (`{"SS": ["a", "b"]}`, `{"B": "AAE="}`) is read as DynamoDB JSON.
//!
//! The writers emit numbers verbatim for the same reason, and sort map keys so that the same item
//! always prints the same way.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::results::write_json_str;

/// Type tags in DynamoDB JSON, indexed by [`type_index`]; `unknown` stands for a type this SDK
/// does not know yet.
pub(crate) const TYPE_TAGS: [&str; 11] = [
    "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS", "unknown",
];

/// DynamoDB's own nesting limit; also keeps a pathological literal from overflowing the stack.
const MAX_DEPTH: usize = 32;

/// Position of `v`'s type tag in [`TYPE_TAGS`].
pub(crate) fn type_index(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(_) => 0,
        AttributeValue::N(_) => 1,
        AttributeValue::B(_) => 2,
        AttributeValue::Bool(_) => 3,
        AttributeValue::Null(_) => 4,
        AttributeValue::M(_) => 5,
        AttributeValue::L(_) => 6,
        AttributeValue::Ss(_) => 7,
        AttributeValue::Ns(_) => 8,
        AttributeValue::Bs(_) => 9,
        _ => 10,
    }
}

/// The DynamoDB JSON type tag of `v`: "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"
/// (or "unknown" for a type newer than this SDK).
pub fn type_tag(v: &AttributeValue) -> &'static str {
    TYPE_TAGS[type_index(v)]
}

/// Reads a parameter literal: a JSON value (numbers kept digit for digit, arrays as `L`, objects
/// as `M`, `null` as `NULL`), or DynamoDB JSON when the whole text is an object whose only key is
/// a type tag. So `{"S": "x"}` is the string `x`; a map whose only key is a type tag is written
/// in DynamoDB JSON (`{"M": {"S": {"S": "x"}}}`). The error names the problem and where it is
/// (`at character 7`).
pub fn parse_param(text: &str) -> Result<AttributeValue, String> {
    let mut p = Parser { text, pos: 0 };
    p.skip_ws();
    if p.peek().is_none() {
        return Err(
            "empty value: write a literal such as 42, \"text\", true, null, [1, 2] or {\"a\": 1}"
                .to_string(),
        );
    }
    let value = p.value(0)?;
    p.skip_ws();
    if let Some(c) = p.text[p.pos..].chars().next() {
        return Err(p.error(&format!("unexpected `{c}` after the value")));
    }
    match value {
        AttributeValue::M(m)
            if m.len() == 1 && m.keys().all(|k| TYPE_TAGS[..10].contains(&k.as_str())) =>
        {
            typed(AttributeValue::M(m), "")
        }
        v => Ok(v),
    }
}

/// A recursive-descent reader of one JSON value over `text`, `pos` being a byte offset.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn error(&self, msg: &str) -> String {
        self.error_at(self.pos, msg)
    }

    /// `msg` with the 1-based character position of byte offset `at`.
    fn error_at(&self, at: usize, msg: &str) -> String {
        format!(
            "{msg} (at character {})",
            self.text[..at].chars().count() + 1
        )
    }

    fn value(&mut self, depth: usize) -> Result<AttributeValue, String> {
        match self.peek() {
            Some(b'"') => self.string().map(AttributeValue::S),
            Some(b'[' | b'{') if depth >= MAX_DEPTH => Err(self.error(&format!(
                "nested deeper than {MAX_DEPTH} levels, DynamoDB's limit"
            ))),
            Some(b'[') => self.array(depth),
            Some(b'{') => self.object(depth),
            Some(b'\'') => {
                let inner = self.text[self.pos + 1..].split('\'').next().unwrap_or("");
                Err(self.error(&format!("text takes double quotes: {}", json_string(inner))))
            }
            _ => self.word(),
        }
    }

    /// A bare token: `true`, `false`, `null` or a number.
    fn word(&mut self) -> Result<AttributeValue, String> {
        let start = self.pos;
        let rest = &self.text[start..];
        let len = rest
            .find(|c: char| c.is_whitespace() || ",:[]{}\"'".contains(c))
            .unwrap_or(rest.len());
        let token = &rest[..len];
        self.pos += len;
        match token {
            "" => Err(self.error("a value is missing")),
            "true" => Ok(AttributeValue::Bool(true)),
            "false" => Ok(AttributeValue::Bool(false)),
            "null" => Ok(AttributeValue::Null(true)),
            t if t.starts_with(|c: char| c == '-' || c.is_ascii_digit()) => {
                if is_json_number(t) {
                    Ok(AttributeValue::N(t.to_string()))
                } else {
                    Err(self.error_at(
                        start,
                        &format!("`{t}` is not a number (numbers look like 42, -1.5 or 1e3)"),
                    ))
                }
            }
            t => Err(self.error_at(
                start,
                &format!(
                    "`{t}` is not a value: write text in double quotes, {}",
                    json_string(t)
                ),
            )),
        }
    }

    /// A string lexeme; its escapes are decoded by serde_json.
    fn string(&mut self) -> Result<String, String> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        if i >= bytes.len() {
            return Err(self.error_at(start, "the text has no closing `\"`"));
        }
        self.pos = i + 1;
        serde_json::from_str(&self.text[start..self.pos]).map_err(|_| {
            self.error_at(
                start,
                "invalid text: an unknown `\\` escape or a raw control character",
            )
        })
    }

    fn array(&mut self, depth: usize) -> Result<AttributeValue, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(AttributeValue::L(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(AttributeValue::L(items));
                }
                _ => return Err(self.error("expected `,` or `]` in the array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<AttributeValue, String> {
        self.pos += 1;
        let mut fields = HashMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(AttributeValue::M(fields));
        }
        loop {
            self.skip_ws();
            let key_at = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key in double quotes"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after the key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            if fields.contains_key(&key) {
                return Err(
                    self.error_at(key_at, &format!("the key {} repeats", json_string(&key)))
                );
            }
            fields.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(AttributeValue::M(fields));
                }
                _ => return Err(self.error("expected `,` or `}` in the object")),
            }
        }
    }
}

/// Reads DynamoDB JSON from its plain parse (`{"N": "1"}` arrives as a map holding a string).
/// `path` locates the value in errors, as a document path (`a.b[2]`).
fn typed(v: AttributeValue, path: &str) -> Result<AttributeValue, String> {
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" (at {path})")
    };
    let entry = match v {
        AttributeValue::M(m) if m.len() == 1 => m.into_iter().next(),
        _ => None,
    };
    let Some((tag, inner)) = entry else {
        return Err(format!(
            "expected a typed value such as {{\"S\": \"text\"}} or {{\"N\": \"1\"}}{at}"
        ));
    };
    match (tag.as_str(), inner) {
        ("S", AttributeValue::S(s)) => Ok(AttributeValue::S(s)),
        ("N", AttributeValue::S(n)) if is_json_number(&n) => Ok(AttributeValue::N(n)),
        ("B", AttributeValue::S(b)) => base64(&b, &at).map(AttributeValue::B),
        ("BOOL", AttributeValue::Bool(b)) => Ok(AttributeValue::Bool(b)),
        ("NULL", AttributeValue::Bool(true)) => Ok(AttributeValue::Null(true)),
        ("M", AttributeValue::M(fields)) => typed_map(fields, path),
        ("L", AttributeValue::L(items)) => typed_list(items, path),
        ("SS" | "NS" | "BS", AttributeValue::L(items)) => typed_set(&tag, items, &at),
        _ => Err(wrong_shape(&tag, &at)),
    }
}

/// An `M` value's fields, each read as typed (its path extended by its name).
fn typed_map(
    fields: HashMap<String, AttributeValue>,
    path: &str,
) -> Result<AttributeValue, String> {
    fields
        .into_iter()
        .map(|(k, v)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            Ok((k, typed(v, &p)?))
        })
        .collect::<Result<_, String>>()
        .map(AttributeValue::M)
}

/// An `L` value's items, each read as typed (its path extended by its index).
fn typed_list(items: Vec<AttributeValue>, path: &str) -> Result<AttributeValue, String> {
    let child = |i: usize| format!("{path}[{i}]");
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| typed(v, &child(i)))
        .collect::<Result<_, _>>()
        .map(AttributeValue::L)
}

/// An `SS`, `NS` or `BS` set given as an array.
fn typed_set(tag: &str, items: Vec<AttributeValue>, at: &str) -> Result<AttributeValue, String> {
    match tag {
        "SS" => {
            let set = set_members(items, tag, at, |v| match v {
                AttributeValue::S(s) => Some(s),
                _ => None,
            })?;
            Ok(AttributeValue::Ss(set))
        }
        "NS" => {
            let set = set_members(items, tag, at, |v| match v {
                AttributeValue::S(n) if is_json_number(&n) => Some(n),
                _ => None,
            })?;
            Ok(AttributeValue::Ns(set))
        }
        _ => {
            let set = set_members(items, tag, at, |v| match v {
                AttributeValue::S(b) => Some(b),
                _ => None,
            })?;
            set.iter()
                .map(|b| base64(b, at))
                .collect::<Result<_, _>>()
                .map(AttributeValue::Bs)
        }
    }
}

/// The error for a value of type `tag` whose content has the wrong shape (or an unknown tag).
fn wrong_shape(tag: &str, at: &str) -> String {
    let expected = match tag {
        "S" => "a string",
        "N" => "a number written as a string, as in {\"N\": \"1.5\"}",
        "B" => "base64 text, as in {\"B\": \"AAE=\"}",
        "BOOL" => "true or false",
        "NULL" => "true, as in {\"NULL\": true}",
        "M" => "an object of typed values, as in {\"M\": {\"a\": {\"N\": \"1\"}}}",
        "L" => "an array of typed values, as in {\"L\": [{\"S\": \"a\"}]}",
        "SS" => "an array of strings",
        "NS" => "an array of numbers written as strings, as in {\"NS\": [\"1\", \"2.5\"]}",
        "BS" => "an array of base64 texts",
        other => {
            return format!(
                "unknown DynamoDB type {} (types: {}){at}",
                json_string(other),
                TYPE_TAGS[..10].join(", ")
            );
        }
    };
    format!("`{tag}` takes {expected}{at}")
}

/// The members of a set given as an array: each must pass `member`, and DynamoDB wants a set
/// non-empty and without repeats.
fn set_members(
    items: Vec<AttributeValue>,
    tag: &str,
    at: &str,
    member: impl Fn(AttributeValue) -> Option<String>,
) -> Result<Vec<String>, String> {
    if items.is_empty() {
        return Err(format!("a `{tag}` set cannot be empty{at}"));
    }
    let members = items
        .into_iter()
        .map(member)
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| match tag {
            "NS" => format!("`NS` takes numbers written as strings{at}"),
            _ => format!("`{tag}` takes strings{at}"),
        })?;
    let mut seen = HashSet::new();
    if let Some(dup) = members.iter().find(|m| !seen.insert(m.as_str())) {
        return Err(format!(
            "a `{tag}` set holds {} twice{at}",
            json_string(dup)
        ));
    }
    Ok(members)
}

fn base64(text: &str, at: &str) -> Result<Blob, String> {
    STANDARD
        .decode(text)
        .map(Blob::new)
        .map_err(|e| format!("invalid base64 ({e}){at}"))
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    fn digits(b: &[u8], i: &mut usize) -> usize {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    }
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(b, &mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(b, &mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(b, &mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `s` as a JSON string literal, for messages.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_json_str(&mut out, s);
    out
}

/// A DynamoDB number as a JSON number with the same digits. DynamoDB accepts spellings JSON does
/// not (`+1`, `.5`, `5.`, `007`); those are respelled, anything else unreadable becomes a string.
fn write_json_number(out: &mut String, n: &str) {
    if is_json_number(n) {
        out.push_str(n);
        return;
    }
    let (sign, rest) = match n.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", n.strip_prefix('+').unwrap_or(n)),
    };
    let (mantissa, exponent) = rest.split_at(rest.find(['e', 'E']).unwrap_or(rest.len()));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let int = match int.trim_start_matches('0') {
        "" => "0",
        digits => digits,
    };
    let dot = if frac.is_empty() { "" } else { "." };
    let respelled = format!("{sign}{int}{dot}{frac}{exponent}");
    if is_json_number(&respelled) {
        out.push_str(&respelled);
    } else {
        write_json_str(out, n);
    }
}

fn write_base64(out: &mut String, b: &Blob) {
    out.push('"');
    STANDARD.encode_string(b.as_ref(), out);
    out.push('"');
}

/// `[a,b,…]`, each element written by `each`.
fn write_array<T>(out: &mut String, items: &[T], each: impl Fn(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

/// `{"k":v,…}` with keys sorted, each value written by `each`.
fn write_object(
    out: &mut String,
    m: &HashMap<String, AttributeValue>,
    each: fn(&mut String, &AttributeValue),
) {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, k);
        out.push(':');
        each(out, v);
    }
    out.push('}');
}

/// `v` as compact plain JSON, for display and plain exports: numbers verbatim (exact), binary as
/// base64 strings, sets as arrays, map keys sorted. The type is lost (a set reads as a list).
pub fn write_plain_json(out: &mut String, v: &AttributeValue) {
    match v {
        AttributeValue::S(s) => write_json_str(out, s),
        AttributeValue::N(n) => write_json_number(out, n),
        AttributeValue::B(b) => write_base64(out, b),
        AttributeValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AttributeValue::L(items) => write_array(out, items, write_plain_json),
        AttributeValue::M(m) => write_object(out, m, write_plain_json),
        AttributeValue::Ss(ss) => write_array(out, ss, |o, s| write_json_str(o, s)),
        AttributeValue::Ns(ns) => write_array(out, ns, |o, n| write_json_number(o, n)),
        AttributeValue::Bs(bs) => write_array(out, bs, write_base64),
        // NULL, and a type newer than this SDK.
        _ => out.push_str("null"),
    }
}

/// `v` as DynamoDB JSON (`{"N":"1.50"}`, `{"SS":["a"]}`), which keeps every type: what
/// [`parse_param`] reads back into the same value, and what the AWS CLI and console take.
pub fn write_dynamodb_json(out: &mut String, v: &AttributeValue) {
    if v.is_unknown() {
        out.push_str("null");
        return;
    }
    out.push_str("{\"");
    out.push_str(type_tag(v));
    out.push_str("\":");
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => write_json_str(out, s),
        AttributeValue::B(b) => write_base64(out, b),
        AttributeValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AttributeValue::L(items) => write_array(out, items, write_dynamodb_json),
        AttributeValue::M(m) => write_object(out, m, write_dynamodb_json),
        AttributeValue::Ss(ss) | AttributeValue::Ns(ss) => {
            write_array(out, ss, |o, s| write_json_str(o, s))
        }
        AttributeValue::Bs(bs) => write_array(out, bs, write_base64),
        // NULL is always `true` in DynamoDB JSON.
        _ => out.push_str("true"),
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(s.to_string())
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_string())
    }

    fn plain(v: &AttributeValue) -> String {
        let mut out = String::new();
        write_plain_json(&mut out, v);
        out
    }

    fn dynamo(v: &AttributeValue) -> String {
        let mut out = String::new();
        write_dynamodb_json(&mut out, v);
        out
    }

    #[test]
    fn literals_of_every_kind() {
        assert_eq!(parse_param("42"), Ok(n("42")));
        assert_eq!(parse_param("  -1.5e3 "), Ok(n("-1.5e3")));
        assert_eq!(parse_param("\"x\""), Ok(s("x")));
        assert_eq!(parse_param(r#""a\"b\u00e9\n""#), Ok(s("a\"bé\n")));
        assert_eq!(parse_param("true"), Ok(AttributeValue::Bool(true)));
        assert_eq!(parse_param("false"), Ok(AttributeValue::Bool(false)));
        assert_eq!(parse_param("null"), Ok(AttributeValue::Null(true)));
        assert_eq!(
            parse_param(r#"[1, "a", [], {}]"#),
            Ok(AttributeValue::L(vec![
                n("1"),
                s("a"),
                AttributeValue::L(vec![]),
                AttributeValue::M(HashMap::new()),
            ]))
        );
        assert_eq!(
            parse_param(r#"{"a": 1, "b": {"c": [true]}}"#),
            Ok(AttributeValue::M(HashMap::from([
                ("a".to_string(), n("1")),
                (
                    "b".to_string(),
                    AttributeValue::M(HashMap::from([(
                        "c".to_string(),
                        AttributeValue::L(vec![AttributeValue::Bool(true)])
                    )]))
                ),
            ])))
        );
        // A single key that is not a type tag is a plain map.
        assert_eq!(
            parse_param(r#"{"s": "x"}"#),
            Ok(AttributeValue::M(HashMap::from([(
                "s".to_string(),
                s("x")
            )])))
        );
    }

    #[test]
    fn numbers_keep_every_digit() {
        let big = "12345678901234567890123456789012345678";
        assert_eq!(parse_param(big), Ok(n(big)));
        assert_eq!(parse_param("-1.5E-130"), Ok(n("-1.5E-130")));
        assert_eq!(parse_param("0.10"), Ok(n("0.10")));
        assert_eq!(plain(&n(big)), big);
        assert_eq!(plain(&n("-1.5E-130")), "-1.5E-130");
        // Spellings DynamoDB accepts but JSON does not are respelled, digits unchanged.
        assert_eq!(plain(&n("+.50")), "0.50");
        assert_eq!(plain(&n("007.")), "7");
        assert_eq!(plain(&n("-.5E+3")), "-0.5E+3");
    }

    #[test]
    fn dynamodb_json_gives_sets_and_binary() {
        assert_eq!(
            parse_param(r#"{"SS": ["a", "b"]}"#),
            Ok(AttributeValue::Ss(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            parse_param(r#"{"NS": ["1", "12345678901234567890123456789012345678"]}"#),
            Ok(AttributeValue::Ns(vec![
                "1".into(),
                "12345678901234567890123456789012345678".into()
            ]))
        );
        assert_eq!(
            parse_param(r#"{"BS": ["AAE=", "/w=="]}"#),
            Ok(AttributeValue::Bs(vec![
                Blob::new(vec![0, 1]),
                Blob::new(vec![255])
            ]))
        );
        assert_eq!(
            parse_param(r#"{"B": "aGk="}"#),
            Ok(AttributeValue::B(Blob::new(b"hi".to_vec())))
        );
        assert_eq!(parse_param(r#"{"N": "1.50"}"#), Ok(n("1.50")));
        assert_eq!(parse_param(r#"{"S": "1"}"#), Ok(s("1")));
        assert_eq!(
            parse_param(r#"{"NULL": true}"#),
            Ok(AttributeValue::Null(true))
        );
        assert_eq!(
            parse_param(r#"{"M": {"a": {"L": [{"BOOL": false}]}}}"#),
            Ok(AttributeValue::M(HashMap::from([(
                "a".to_string(),
                AttributeValue::L(vec![AttributeValue::Bool(false)])
            )])))
        );
    }

    #[test]
    fn errors_name_the_problem_and_place() {
        let err = |t: &str| parse_param(t).unwrap_err();
        assert!(err("").starts_with("empty value"), "{}", err(""));
        assert_eq!(
            err("abc"),
            "`abc` is not a value: write text in double quotes, \"abc\" (at character 1)"
        );
        assert_eq!(
            err("'abc'"),
            "text takes double quotes: \"abc\" (at character 1)"
        );
        assert_eq!(
            err("[1, 01]"),
            "`01` is not a number (numbers look like 42, -1.5 or 1e3) (at character 5)"
        );
        assert_eq!(err("1.").split(" (").next(), Some("`1.` is not a number"));
        assert_eq!(
            err("[1, 2"),
            "expected `,` or `]` in the array (at character 6)"
        );
        assert_eq!(err("[1,]"), "a value is missing (at character 4)");
        assert_eq!(
            err("42 43"),
            "unexpected `4` after the value (at character 4)"
        );
        assert_eq!(
            err("\"abc"),
            "the text has no closing `\"` (at character 1)"
        );
        assert!(err(r#""\q""#).starts_with("invalid text"));
        assert_eq!(
            err("{a: 1}"),
            "expected a key in double quotes (at character 2)"
        );
        assert_eq!(
            err(r#"{"a" 1}"#),
            "expected `:` after the key (at character 6)"
        );
        assert_eq!(
            err(r#"{"é": 1, "é": 2}"#),
            "the key \"é\" repeats (at character 10)"
        );
        assert!(err(&"[".repeat(40)).starts_with("nested deeper than 32 levels"));
        // DynamoDB JSON
        assert_eq!(
            err(r#"{"N": 1}"#),
            "`N` takes a number written as a string, as in {\"N\": \"1.5\"}"
        );
        assert_eq!(err(r#"{"SS": []}"#), "a `SS` set cannot be empty");
        assert_eq!(err(r#"{"SS": ["a", "a"]}"#), "a `SS` set holds \"a\" twice");
        assert_eq!(
            err(r#"{"NS": ["x"]}"#),
            "`NS` takes numbers written as strings"
        );
        assert_eq!(
            err(r#"{"NULL": false}"#),
            "`NULL` takes true, as in {\"NULL\": true}"
        );
        assert!(err(r#"{"B": "***"}"#).starts_with("invalid base64"));
        assert_eq!(
            err(r#"{"M": {"a": {"L": [{"S": "x"}, 2]}}}"#),
            "expected a typed value such as {\"S\": \"text\"} or {\"N\": \"1\"} (at a[1])"
        );
    }

    fn sample() -> AttributeValue {
        AttributeValue::M(HashMap::from([
            ("s".to_string(), s("quote \" tab \t ctl \u{1} é")),
            ("n".to_string(), n("1.50")),
            (
                "big".to_string(),
                n("12345678901234567890123456789012345678"),
            ),
            (
                "b".to_string(),
                AttributeValue::B(Blob::new(vec![0, 1, 255])),
            ),
            ("ok".to_string(), AttributeValue::Bool(true)),
            ("nothing".to_string(), AttributeValue::Null(true)),
            (
                "l".to_string(),
                AttributeValue::L(vec![n("-1.5E-130"), AttributeValue::M(HashMap::new())]),
            ),
            (
                "ss".to_string(),
                AttributeValue::Ss(vec!["x".into(), "y".into()]),
            ),
            (
                "ns".to_string(),
                AttributeValue::Ns(vec!["1".into(), "2.5".into()]),
            ),
            (
                "bs".to_string(),
                AttributeValue::Bs(vec![Blob::new(vec![1]), Blob::new(vec![2, 3])]),
            ),
        ]))
    }

    #[test]
    fn plain_json_is_stable_and_valid() {
        let text = plain(&sample());
        assert_eq!(
            text,
            r#"{"b":"AAH/","big":12345678901234567890123456789012345678,"bs":["AQ==","AgM="],"l":[-1.5E-130,{}],"n":1.50,"nothing":null,"ns":[1,2.5],"ok":true,"s":"quote \" tab \t ctl \u0001 é","ss":["x","y"]}"#
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back["s"], "quote \" tab \t ctl \u{1} é");
    }

    #[test]
    fn dynamodb_json_round_trips() {
        let v = sample();
        let text = dynamo(&v);
        assert!(
            text.starts_with(r#"{"M":{"b":{"B":"AAH/"},"big":{"N":"1234"#),
            "{text}"
        );
        assert_eq!(parse_param(&text), Ok(v));
        for v in [
            AttributeValue::Ss(vec!["a".into()]),
            AttributeValue::Ns(vec!["-0.5".into()]),
            AttributeValue::Bs(vec![Blob::new(vec![9])]),
            AttributeValue::B(Blob::new(vec![])),
            AttributeValue::L(vec![AttributeValue::Null(true), s("")]),
            n("7"),
        ] {
            assert_eq!(parse_param(&dynamo(&v)), Ok(v.clone()), "{}", dynamo(&v));
        }
        assert_eq!(dynamo(&n("1.50")), r#"{"N":"1.50"}"#);
        assert_eq!(dynamo(&AttributeValue::Null(true)), r#"{"NULL":true}"#);
    }

    #[test]
    fn type_tags() {
        assert_eq!(type_tag(&s("x")), "S");
        assert_eq!(type_tag(&AttributeValue::Ns(vec![])), "NS");
        assert_eq!(type_tag(&AttributeValue::Bool(true)), "BOOL");
        assert_eq!(type_tag(&AttributeValue::Null(true)), "NULL");
    }
}
