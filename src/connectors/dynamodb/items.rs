//! ExecuteStatement pages of items → Arrow batches, under a schema that widens as pages arrive.
//!
//! DynamoDB has no result schema: every item carries its own attributes, and the same attribute
//! may hold a number in one item and a map in the next. Columns are the union of the top-level
//! attribute names seen so far (key attributes first, then by first appearance), and each column
//! takes the narrowest type that holds every value seen so far: `Int64` for whole numbers,
//! `Boolean`, else `Utf8`. Anything that has no faithful Arrow type here — decimals and numbers
//! beyond `i64` (DynamoDB keeps 38 digits), maps, lists, sets, binary, a mix of types — is shown
//! as exact text. When a later page does not fit, the schema widens and the caller re-expresses
//! what it already holds with [`widen`].
//!
//! An attribute an item does not have is an Arrow null, marked `quarry.missing` so the grid can
//! show it as "missing"; a DynamoDB `NULL` is a value, the text `null`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int64Array, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::values::{TYPE_TAGS, type_index, write_plain_json};

/// Field metadata key: the DynamoDB type tag shared by every value of the column (`N`, `M`,
/// `SS`, …), or `mixed`.
pub const DYNAMODB_TYPE: &str = "dynamodb.type";

/// Field metadata key (value `true`): an Arrow null in this column is an attribute the item does
/// not have, not a NULL value.
pub use crate::results::MISSING_KEY as MISSING_MARKER;

/// Turns successive pages of one statement's items into batches (see the module doc).
pub struct ItemsToArrow {
    /// Key attribute names, in key-schema order.
    keys: Vec<String>,
    columns: Vec<Column>,
    /// Column position by attribute name.
    index: HashMap<String, usize>,
    schema: Option<SchemaRef>,
}

/// What is known of one attribute from every value seen so far.
struct Column {
    name: String,
    /// Bit `i` set: a value of type `TYPE_TAGS[i]` was seen.
    seen: u16,
    /// Every `N` seen is a whole number that `i64` holds, written as `i64` prints it.
    all_i64: bool,
}

impl Column {
    fn new(name: &str) -> Self {
        Column {
            name: name.to_string(),
            seen: 0,
            all_i64: true,
        }
    }

    fn observe(&mut self, v: &AttributeValue) {
        self.seen |= 1 << type_index(v);
        if let AttributeValue::N(n) = v {
            self.all_i64 = self.all_i64 && exact_i64(n).is_some();
        }
    }

    /// The one type tag of every value seen, if they agree.
    fn tag(&self) -> Option<&'static str> {
        (self.seen.count_ones() == 1).then(|| TYPE_TAGS[self.seen.trailing_zeros() as usize])
    }

    fn field(&self) -> Field {
        let (data_type, tag) = match self.tag() {
            Some("N") if self.all_i64 => (DataType::Int64, "N"),
            Some("BOOL") => (DataType::Boolean, "BOOL"),
            Some(tag) => (DataType::Utf8, tag),
            None => (DataType::Utf8, "mixed"),
        };
        let meta = HashMap::from([
            (DYNAMODB_TYPE.to_string(), tag.to_string()),
            (MISSING_MARKER.to_string(), "true".to_string()),
        ]);
        Field::new(&self.name, data_type, true).with_metadata(meta)
    }

    /// This column of `items` as `data_type`. Every value was observed before the type was
    /// chosen, so an `Int64` column holds only exact whole `N`s and a `Boolean` one only `BOOL`s.
    fn array(&self, data_type: &DataType, items: &[HashMap<String, AttributeValue>]) -> ArrayRef {
        let cells = items.iter().map(|item| item.get(&self.name));
        match data_type {
            DataType::Int64 => Arc::new(
                cells
                    .map(|c| match c {
                        Some(AttributeValue::N(n)) => exact_i64(n),
                        _ => None,
                    })
                    .collect::<Int64Array>(),
            ),
            DataType::Boolean => Arc::new(
                cells
                    .map(|c| match c {
                        Some(AttributeValue::Bool(b)) => Some(*b),
                        _ => None,
                    })
                    .collect::<BooleanArray>(),
            ),
            _ => {
                let mut b = StringBuilder::with_capacity(items.len(), items.len() * 16);
                let mut text = String::new();
                for cell in cells {
                    match cell {
                        None => b.append_null(),
                        Some(AttributeValue::S(s) | AttributeValue::N(s)) => b.append_value(s),
                        Some(v) => {
                            text.clear();
                            write_display(&mut text, v);
                            b.append_value(&text);
                        }
                    }
                }
                Arc::new(b.finish())
            }
        }
    }
}

/// `n` as an `i64` when it is a whole number written exactly as `i64` prints it (no `+`, leading
/// zeros or `-0`), so an `Int64` column shows the digits DynamoDB sent.
fn exact_i64(n: &str) -> Option<i64> {
    let digits = n.strip_prefix('-').unwrap_or(n);
    let canonical =
        !digits.starts_with('+') && (digits.len() == 1 || !digits.starts_with('0')) && n != "-0";
    if canonical { n.parse().ok() } else { None }
}

/// The text a `Utf8` column shows for `v`: numbers verbatim, maps and lists as compact JSON,
/// sets as `{a, b}`, binary as base64, `NULL` as `null`.
fn write_display(out: &mut String, v: &AttributeValue) {
    fn set<T>(out: &mut String, members: &[T], each: impl Fn(&mut String, &T)) {
        out.push('{');
        for (i, m) in members.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            each(out, m);
        }
        out.push('}');
    }
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => out.push_str(s),
        AttributeValue::B(b) => STANDARD.encode_string(b.as_ref(), out),
        AttributeValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AttributeValue::M(_) | AttributeValue::L(_) => write_plain_json(out, v),
        AttributeValue::Ss(ss) | AttributeValue::Ns(ss) => set(out, ss, |o, s| o.push_str(s)),
        AttributeValue::Bs(bs) => set(out, bs, |o, b| STANDARD.encode_string(b.as_ref(), o)),
        // NULL, and a type newer than this SDK.
        _ => out.push_str("null"),
    }
}

impl ItemsToArrow {
    /// `key_attributes`: the table's key schema (partition key, then sort key), shown first when
    /// the items have them; empty when unknown.
    pub fn new(key_attributes: Vec<String>) -> Self {
        ItemsToArrow {
            keys: key_attributes,
            columns: Vec::new(),
            index: HashMap::new(),
            schema: None,
        }
    }

    /// Converts the next page. Returns the schema when it is new or changed (the first page, a
    /// new attribute, a widened type or type tag) — the caller then [`widen`]s the batches it
    /// already holds — and the page as a batch of the current schema.
    pub fn page(
        &mut self,
        items: &[HashMap<String, AttributeValue>],
    ) -> Result<(Option<SchemaRef>, RecordBatch), String> {
        // First pass: learn the columns and their types, so the arrays are built once, typed.
        let mut fresh: Vec<&str> = Vec::new();
        for item in items {
            for (name, v) in item {
                match self.index.get(name) {
                    Some(&i) => self.columns[i].observe(v),
                    None => fresh.push(name),
                }
            }
            // An item is a hash map, in no particular order: name order keeps the layout stable.
            fresh.sort_unstable();
            for name in fresh.drain(..) {
                let i = self.add_column(name);
                self.columns[i].observe(&item[name]);
            }
        }

        let fields: Vec<Field> = self.columns.iter().map(Column::field).collect();
        let (changed, schema) = match &self.schema {
            Some(s) if s.fields().iter().map(|f| f.as_ref()).eq(fields.iter()) => (None, s.clone()),
            _ => {
                let s = Arc::new(Schema::new(fields));
                self.schema = Some(s.clone());
                (Some(s.clone()), s)
            }
        };

        let arrays = self
            .columns
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| c.array(f.data_type(), items))
            .collect();
        // Explicit row count: items with none of the columns (`{}`) are still rows.
        let options = RecordBatchOptions::new().with_row_count(Some(items.len()));
        let batch = RecordBatch::try_new_with_options(schema, arrays, &options)
            .map_err(|e| format!("DynamoDB items to Arrow: {e}"))?;
        Ok((changed, batch))
    }

    /// Adds a column for attribute `name` and returns its position: after the key columns that
    /// precede it in the key schema if it is a key, else last.
    fn add_column(&mut self, name: &str) -> usize {
        let at = match self.keys.iter().position(|k| k == name) {
            Some(rank) => {
                let earlier = &self.keys[..rank];
                self.columns
                    .iter()
                    .take_while(|c| earlier.contains(&c.name))
                    .count()
            }
            None => self.columns.len(),
        };
        self.columns.insert(at, Column::new(name));
        for (i, c) in self.columns.iter().enumerate().skip(at) {
            self.index.insert(c.name.clone(), i);
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;
    use aws_smithy_types::Blob;

    fn item(attrs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
        attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(s.to_string())
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_string())
    }

    fn names(schema: &Schema) -> Vec<&str> {
        schema.fields().iter().map(|f| f.name().as_str()).collect()
    }

    /// Column `name` of `batch` as display text (`None` = missing).
    fn text(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
        let col =
            arrow::compute::cast(batch.column_by_name(name).expect("column"), &DataType::Utf8)
                .unwrap();
        col.as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    fn tag(schema: &Schema, name: &str) -> String {
        schema.field_with_name(name).unwrap().metadata()[DYNAMODB_TYPE].clone()
    }

    #[test]
    fn keys_first_then_first_appearance() {
        let mut conv = ItemsToArrow::new(vec!["pk".into(), "sk".into()]);
        let (schema, batch) = conv
            .page(&[
                item(&[("z", n("1")), ("sk", n("2")), ("b", n("3")), ("pk", s("a"))]),
                item(&[("pk", s("b")), ("sk", n("1")), ("a", n("4"))]),
            ])
            .unwrap();
        let schema = schema.expect("first page has a schema");
        assert_eq!(names(&schema), ["pk", "sk", "b", "z", "a"]);
        assert_eq!(batch.num_rows(), 2);
        // Same attributes and types: no new schema.
        let (again, _) = conv
            .page(&[item(&[("pk", s("c")), ("a", n("5"))])])
            .unwrap();
        assert!(again.is_none());
        // A later attribute goes last; the batch is in the new schema, absent ones missing.
        let (schema, batch) = conv
            .page(&[item(&[("new", s("x")), ("pk", s("d"))])])
            .unwrap();
        assert_eq!(names(&schema.unwrap()), ["pk", "sk", "b", "z", "a", "new"]);
        assert_eq!(batch.num_columns(), 6);
        assert_eq!(text(&batch, "z"), [None]);
        assert_eq!(text(&batch, "new"), [Some("x".to_string())]);
    }

    #[test]
    fn a_key_seen_late_still_goes_first() {
        let mut conv = ItemsToArrow::new(vec!["pk".into(), "sk".into()]);
        // An empty first page (a filtered scan) has no columns yet.
        let (schema, batch) = conv.page(&[]).unwrap();
        assert_eq!(schema.unwrap().fields().len(), 0);
        assert_eq!(batch.num_rows(), 0);
        conv.page(&[item(&[("x", n("1")), ("sk", n("1"))])])
            .unwrap();
        let (schema, _) = conv
            .page(&[item(&[("pk", s("a")), ("x", n("2"))])])
            .unwrap();
        assert_eq!(names(&schema.unwrap()), ["pk", "sk", "x"]);
    }

    #[test]
    fn every_attribute_type() {
        let big = "12345678901234567890123456789012345678";
        let mut conv = ItemsToArrow::new(vec![]);
        let nested = AttributeValue::M(HashMap::from([
            ("b".to_string(), AttributeValue::L(vec![n("1.0"), s("x")])),
            ("a".to_string(), AttributeValue::Null(true)),
        ]));
        let (schema, batch) = conv
            .page(&[
                item(&[
                    ("int", n("-42")),
                    ("ok", AttributeValue::Bool(true)),
                    ("str", s("hello")),
                    ("big", n(big)),
                    ("tiny", n("-1.5E-130")),
                    ("map", nested),
                    (
                        "list",
                        AttributeValue::L(vec![AttributeValue::Bool(false), n(big)]),
                    ),
                    ("ss", AttributeValue::Ss(vec!["a".into(), "b c".into()])),
                    ("ns", AttributeValue::Ns(vec!["1".into(), "2.50".into()])),
                    (
                        "bs",
                        AttributeValue::Bs(vec![Blob::new(vec![0, 1]), Blob::new(vec![255])]),
                    ),
                    ("bin", AttributeValue::B(Blob::new(b"hi".to_vec()))),
                    ("nul", AttributeValue::Null(true)),
                ]),
                item(&[]),
            ])
            .unwrap();
        let schema = schema.unwrap();
        let dt = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
        assert_eq!(dt("int"), DataType::Int64);
        assert_eq!(dt("ok"), DataType::Boolean);
        for name in [
            "str", "big", "tiny", "map", "list", "ss", "ns", "bs", "bin", "nul",
        ] {
            assert_eq!(dt(name), DataType::Utf8, "{name}");
        }
        for (name, t) in [("int", "N"), ("big", "N"), ("tiny", "N"), ("ok", "BOOL")] {
            assert_eq!(tag(&schema, name), t);
        }
        for (name, t) in [("map", "M"), ("list", "L"), ("ss", "SS"), ("bs", "BS")] {
            assert_eq!(tag(&schema, name), t);
        }
        assert_eq!(tag(&schema, "nul"), "NULL");
        for f in schema.fields() {
            assert!(f.is_nullable());
            assert_eq!(f.metadata()[MISSING_MARKER], "true");
        }
        let first = |name: &str| text(&batch, name)[0].clone().unwrap();
        assert_eq!(
            batch
                .column_by_name("int")
                .unwrap()
                .as_primitive::<Int64Type>()
                .value(0),
            -42
        );
        assert_eq!(first("ok"), "true");
        assert_eq!(first("str"), "hello");
        assert_eq!(first("big"), big);
        assert_eq!(first("tiny"), "-1.5E-130");
        assert_eq!(first("map"), r#"{"a":null,"b":[1.0,"x"]}"#);
        assert_eq!(first("list"), format!("[false,{big}]"));
        assert_eq!(first("ss"), "{a, b c}");
        assert_eq!(first("ns"), "{1, 2.50}");
        assert_eq!(first("bs"), "{AAE=, /w==}");
        assert_eq!(first("bin"), "aGk=");
        // A DynamoDB NULL is the text `null`; a missing attribute is an Arrow null.
        assert_eq!(first("nul"), "null");
        for c in batch.columns() {
            assert!(c.is_valid(0));
            assert!(c.is_null(1));
        }
    }

    #[test]
    fn integers_widen_to_text_across_pages() {
        let mut conv = ItemsToArrow::new(vec!["id".into()]);
        let (first_schema, first) = conv
            .page(&[
                item(&[
                    ("id", n("1")),
                    ("qty", n("42")),
                    ("ok", AttributeValue::Bool(true)),
                ]),
                item(&[("id", n("-7"))]),
            ])
            .unwrap();
        let first_schema = first_schema.unwrap();
        // Within one item, new attributes come in name order (an item has no order of its own).
        assert_eq!(names(&first_schema), ["id", "ok", "qty"]);
        assert_eq!(first_schema.field(1).data_type(), &DataType::Boolean);
        assert_eq!(first_schema.field(2).data_type(), &DataType::Int64);

        let (schema, second) = conv
            .page(&[item(&[
                ("id", n("2.5")),
                ("qty", s("many")),
                ("ok", AttributeValue::Null(true)),
                ("extra", n("9")),
            ])])
            .unwrap();
        let schema = schema.expect("widened");
        assert_eq!(names(&schema), ["id", "ok", "qty", "extra"]);
        for (name, dt, t) in [
            ("id", DataType::Utf8, "N"),
            ("qty", DataType::Utf8, "mixed"),
            ("ok", DataType::Utf8, "mixed"),
            ("extra", DataType::Int64, "N"),
        ] {
            assert_eq!(schema.field_with_name(name).unwrap().data_type(), &dt);
            assert_eq!(tag(&schema, name), t);
        }
        assert_eq!(text(&second, "id"), [Some("2.5".to_string())]);
        assert_eq!(text(&second, "ok"), [Some("null".to_string())]);

        // The earlier batch in the wider schema reads as if converted under it from the start.
        let widened = crate::results::widen_batch(&first, &schema).unwrap();
        assert_eq!(widened.schema(), schema);
        let mut conv_wide = ItemsToArrow::new(vec!["id".into()]);
        conv_wide
            .page(&[item(&[
                ("id", n("2.5")),
                ("qty", s("many")),
                ("ok", AttributeValue::Null(true)),
                ("extra", n("9")),
            ])])
            .unwrap();
        let (_, direct) = conv_wide
            .page(&[
                item(&[
                    ("id", n("1")),
                    ("qty", n("42")),
                    ("ok", AttributeValue::Bool(true)),
                ]),
                item(&[("id", n("-7"))]),
            ])
            .unwrap();
        for name in ["id", "qty", "ok", "extra"] {
            assert_eq!(text(&widened, name), text(&direct, name), "{name}");
        }
        assert_eq!(
            text(&widened, "id"),
            [Some("1".to_string()), Some("-7".to_string())]
        );
        assert_eq!(text(&widened, "qty"), [Some("42".to_string()), None]);
        assert_eq!(text(&widened, "ok"), [Some("true".to_string()), None]);
        assert_eq!(text(&widened, "extra"), [None, None]);
        assert_eq!(
            widened.column_by_name("ok").unwrap().data_type(),
            &DataType::Utf8
        );
    }

    #[test]
    fn only_canonical_integers_are_int64() {
        assert_eq!(exact_i64("42"), Some(42));
        assert_eq!(exact_i64("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(exact_i64("0"), Some(0));
        for n in ["9223372036854775808", "007", "+1", "-0", "1.0", "1e3", ""] {
            assert_eq!(exact_i64(n), None, "{n}");
        }
    }
}
