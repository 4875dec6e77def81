//! Athena (Trino) writes `array`, `map` and `row` values in its own text form — `[a, b]`,
//! `{k=v, n=1}` — not JSON. The inspector shows them as JSON by reading that form back. It is a
//! best effort: the form does not quote strings, so a string holding `, `, `=` or brackets can
//! be read wrongly; when the text does not parse as a whole, the inspector shows it unchanged.

use serde_json::{Map, Value};

/// The JSON for a complex value's text, or `None` when it is not a bracketed value or does not
/// parse as one.
pub fn to_json(text: &str) -> Option<Value> {
    let text = text.trim();
    if !(text.starts_with('[') || text.starts_with('{')) {
        return None;
    }
    let mut p = Parser {
        s: text,
        at: 0,
        depth: 0,
    };
    let v = p.value(None)?;
    (p.at == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
    depth: usize,
}

/// Nesting deeper than this is not read (the text is shown as it is).
const MAX_DEPTH: usize = 64;

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.at..]
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    /// A value ending before `close` (the enclosing container's closing bracket), or before `, `.
    fn value(&mut self, close: Option<char>) -> Option<Value> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let v = self.value_inner(close);
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self, close: Option<char>) -> Option<Value> {
        if self.eat("[") {
            let mut items = Vec::new();
            if !self.eat("]") {
                loop {
                    items.push(self.value(Some(']'))?);
                    if self.eat("]") {
                        break;
                    }
                    if !self.eat(", ") {
                        return None;
                    }
                }
            }
            return Some(Value::Array(items));
        }
        if self.eat("{") {
            let mut entries = Map::new();
            if !self.eat("}") {
                loop {
                    let key_len = self.rest().find('=')?;
                    let key = self.rest()[..key_len].to_string();
                    self.at += key_len + 1;
                    let v = self.value(Some('}'))?;
                    entries.insert(key, v);
                    if self.eat("}") {
                        break;
                    }
                    if !self.eat(", ") {
                        return None;
                    }
                }
            }
            return Some(Value::Object(entries));
        }
        // One forward scan to the first `, ` or closing bracket: linear in the value's length.
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let end = (0..bytes.len())
            .find(|&i| {
                (bytes[i] == b',' && bytes.get(i + 1) == Some(&b' '))
                    || close.is_some_and(|c| bytes[i] == c as u8)
            })
            .unwrap_or(rest.len());
        let value = scalar_json(&rest[..end]);
        self.at += end;
        Some(value)
    }
}

/// `null`, booleans and numbers (when they survive the round trip exactly) as themselves,
/// everything else as a string.
fn scalar_json(s: &str) -> Value {
    match s {
        "null" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match serde_json::from_str::<serde_json::Number>(s) {
            Ok(n) if n.to_string() == s => Value::Number(n),
            _ => Value::String(s.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_maps_and_rows_become_json() {
        assert_eq!(to_json("[a, b]"), Some(json!(["a", "b"])));
        assert_eq!(to_json("[]"), Some(json!([])));
        assert_eq!(
            to_json("{k=v, n=1, ok=true, none=null}"),
            Some(json!({"k": "v", "n": 1, "ok": true, "none": null}))
        );
        assert_eq!(
            to_json("{id=7, tags=[x, y], inner={a=1.5}}"),
            Some(json!({"id": 7, "tags": ["x", "y"], "inner": {"a": 1.5}}))
        );
        assert_eq!(to_json("[[1, 2], [3]]"), Some(json!([[1, 2], [3]])));
    }

    #[test]
    fn big_and_deep_values_stay_cheap() {
        let big = format!("[{}]", vec!["x"; 100_000].join(", "));
        assert_eq!(
            to_json(&big).map(|v| v.as_array().map(Vec::len)),
            Some(Some(100_000))
        );
        let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        assert_eq!(to_json(&deep), None);
    }

    #[test]
    fn what_is_not_a_complex_value_is_left_alone() {
        assert_eq!(to_json("plain"), None);
        assert_eq!(to_json("[unclosed"), None);
        assert_eq!(to_json("{novalue}"), None);
        // Numbers JSON cannot hold exactly stay text.
        assert_eq!(
            to_json("[12345678901234567890123]"),
            Some(json!(["12345678901234567890123"]))
        );
    }
}
