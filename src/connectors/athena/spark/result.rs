//! A calculation's result file → an Arrow table when it is tabular, else text.
//!
//! Tabular means: a JSON array of objects; JSON Lines of objects; one JSON object (one row);
//! the table-schema shape `{"schema": {"fields": [{"name", "type"}]}, "data": [{…}]}` (pandas
//! `orient="table"`, Jupyter's `table+json`), also inside a MIME bundle; or CSV with a header
//! when the content type says CSV. Anything else is text, one row per line.
//!
//! Column types of JSON tables: a column whose values are all booleans is Boolean, all integers
//! Int64, all numbers Float64 (nulls and missing keys aside); anything else is Utf8, strings as
//! they are and other values as JSON text. A table schema's declared `integer`, `number`,
//! `boolean` and `string` types count as values of that kind (so an all-null `integer` column
//! is Int64, and a `string` column stays text). Columns keep the order of first appearance.
//! CSV goes through arrow's reader with its type inference (Int64, Float64, Boolean, dates,
//! else Utf8; empty fields are null).

use std::io::Cursor;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::json::J;

/// Rows per batch sent to the sink.
pub const BATCH_ROWS: usize = 8192;
/// The one column of text output.
pub const TEXT_COLUMN: &str = "output";

/// A parsed output file.
#[derive(Debug)]
pub enum Output {
    Table {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    Text(String),
}

/// Parses a result file whose service-reported type is `content_type`.
pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Output {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let table = if ct.contains("csv") {
        csv_table(bytes)
    } else if matches!(bytes.trim_ascii_start().first(), Some(b'[' | b'{')) {
        json_table(bytes)
    } else {
        None
    };
    table.unwrap_or_else(|| Output::Text(String::from_utf8_lossy(bytes).into_owned()))
}

/// Text as one Utf8 column named [`TEXT_COLUMN`], one row per line.
pub fn text_table(text: &str) -> (SchemaRef, Vec<RecordBatch>) {
    let schema = Arc::new(Schema::new(vec![Field::new(
        TEXT_COLUMN,
        DataType::Utf8,
        false,
    )]));
    let lines: Vec<&str> = text.lines().collect();
    let batches = lines
        .chunks(BATCH_ROWS)
        .filter_map(|chunk| {
            let mut b = StringBuilder::new();
            for line in chunk {
                b.append_value(line);
            }
            let col: ArrayRef = Arc::new(b.finish());
            RecordBatch::try_new(schema.clone(), vec![col]).ok()
        })
        .collect();
    (schema, batches)
}

fn csv_table(bytes: &[u8]) -> Option<Output> {
    use arrow::csv::reader::{Format, ReaderBuilder};
    let format = Format::default().with_header(true);
    let (schema, _) = format.infer_schema(Cursor::new(bytes), None).ok()?;
    if schema.fields().is_empty() {
        return None;
    }
    let schema = Arc::new(schema);
    let reader = ReaderBuilder::new(schema.clone())
        .with_format(format)
        .with_batch_size(BATCH_ROWS)
        .build(Cursor::new(bytes))
        .ok()?;
    let batches = reader.collect::<Result<Vec<_>, _>>().ok()?;
    Some(Output::Table { schema, batches })
}

fn json_table(bytes: &[u8]) -> Option<Output> {
    match serde_json::from_slice::<J>(bytes) {
        Ok(value) => from_value(value, true),
        Err(_) => json_lines(bytes),
    }
}

/// Several JSON objects, one per line.
fn json_lines(bytes: &[u8]) -> Option<Output> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut rows = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match serde_json::from_str::<J>(line).ok()? {
            J::Obj(row) => rows.push(row),
            _ => return None,
        }
    }
    (!rows.is_empty()).then(|| table(rows, Vec::new()))
}

fn from_value(value: J, top: bool) -> Option<Output> {
    match value {
        J::Arr(items) if !items.is_empty() => {
            let mut rows = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    J::Obj(row) => rows.push(row),
                    _ => return None,
                }
            }
            Some(table(rows, Vec::new()))
        }
        J::Obj(mut fields) => {
            if let Some((declared, data)) = table_schema(&mut fields) {
                return Some(table(data, declared));
            }
            if top {
                // A MIME bundle (`{"application/vnd.dataresource+json": …, "text/plain": …}`).
                let mime = |k: &str| {
                    k.ends_with("table+json")
                        || k.ends_with("dataresource+json")
                        || k == "application/json"
                };
                if let Some(i) = fields.iter().position(|(k, _)| mime(k)) {
                    return from_value(fields.swap_remove(i).1, false);
                }
                if let Some((_, J::Str(text))) = fields.iter().find(|(k, _)| k == "text/plain") {
                    return Some(Output::Text(text.clone()));
                }
            }
            Some(table(vec![fields], Vec::new()))
        }
        _ => None,
    }
}

/// Columns a table schema declares, in order.
type Declared = Vec<(String, Kind)>;

/// `{"schema": {"fields": […]}, "data": [{…}]}` → the declared columns and the rows.
fn table_schema(fields: &mut [(String, J)]) -> Option<(Declared, Vec<Row>)> {
    let get = |fields: &[(String, J)], key: &str| fields.iter().position(|(k, _)| k == key);
    let schema_at = get(fields, "schema")?;
    let data_at = get(fields, "data")?;
    let J::Obj(schema) = &fields[schema_at].1 else {
        return None;
    };
    let Some((_, J::Arr(declared))) = schema.iter().find(|(k, _)| k == "fields") else {
        return None;
    };
    let mut columns = Vec::new();
    for f in declared {
        let J::Obj(f) = f else { return None };
        let name = f.iter().find_map(|(k, v)| match (k.as_str(), v) {
            ("name", J::Str(n)) => Some(n.clone()),
            _ => None,
        })?;
        let kind = match f.iter().find(|(k, _)| k == "type").map(|(_, v)| v) {
            Some(J::Str(t)) => Kind::declared(t),
            _ => Kind::Null,
        };
        columns.push((name, kind));
    }
    let J::Arr(data) = std::mem::replace(&mut fields[data_at].1, J::Null) else {
        return None;
    };
    let mut rows = Vec::with_capacity(data.len());
    for item in data {
        let J::Obj(row) = item else { return None };
        rows.push(row);
    }
    Some((columns, rows))
}

type Row = Vec<(String, J)>;

/// What a column holds so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Text,
}

impl Kind {
    fn of(v: &J) -> Kind {
        match v {
            J::Null => Kind::Null,
            J::Bool(_) => Kind::Bool,
            J::Num(n) if n.as_i64().is_some() => Kind::Int,
            J::Num(_) => Kind::Float,
            _ => Kind::Text,
        }
    }

    fn declared(t: &str) -> Kind {
        match t {
            "integer" => Kind::Int,
            "number" => Kind::Float,
            "boolean" => Kind::Bool,
            "string" => Kind::Text,
            _ => Kind::Null,
        }
    }

    fn merge(self, other: Kind) -> Kind {
        match (self, other) {
            (Kind::Null, k) | (k, Kind::Null) => k,
            (a, b) if a == b => a,
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
            _ => Kind::Text,
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Kind::Bool => DataType::Boolean,
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Null | Kind::Text => DataType::Utf8,
        }
    }
}

/// Rows of objects → a table: columns declared first, then in order of first appearance.
fn table(rows: Vec<Row>, declared: Declared) -> Output {
    let (mut names, mut kinds): (Vec<String>, Vec<Kind>) = declared.into_iter().unzip();
    let mut index: std::collections::HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    let mut cells: Vec<Vec<Option<J>>> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cell_row = vec![None; names.len()];
        for (key, value) in row {
            let i = *index.entry(key.clone()).or_insert_with(|| {
                names.push(key);
                kinds.push(Kind::Null);
                names.len() - 1
            });
            if i >= cell_row.len() {
                cell_row.resize(i + 1, None);
            }
            kinds[i] = kinds[i].merge(Kind::of(&value));
            cell_row[i] = Some(value);
        }
        cells.push(cell_row);
    }
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .zip(&kinds)
            .map(|(n, k)| Field::new(n, k.data_type(), true))
            .collect::<Vec<_>>(),
    ));
    let batches = cells
        .chunks(BATCH_ROWS)
        .filter_map(|chunk| {
            let columns = kinds
                .iter()
                .enumerate()
                .map(|(i, k)| column(*k, chunk, i))
                .collect();
            RecordBatch::try_new(schema.clone(), columns).ok()
        })
        .collect();
    Output::Table { schema, batches }
}

fn column(kind: Kind, rows: &[Vec<Option<J>>], i: usize) -> ArrayRef {
    let cells = rows.iter().map(|r| r.get(i).and_then(Option::as_ref));
    match kind {
        Kind::Bool => {
            let mut b = BooleanBuilder::with_capacity(rows.len());
            for c in cells {
                b.append_option(match c {
                    Some(J::Bool(v)) => Some(*v),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        Kind::Int => {
            let mut b = Int64Builder::with_capacity(rows.len());
            for c in cells {
                b.append_option(match c {
                    Some(J::Num(n)) => n.as_i64(),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        Kind::Float => {
            let mut b = Float64Builder::with_capacity(rows.len());
            for c in cells {
                b.append_option(match c {
                    Some(J::Num(n)) => n.as_f64(),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        Kind::Null | Kind::Text => {
            let mut b = StringBuilder::new();
            for c in cells {
                match c {
                    None | Some(J::Null) => b.append_null(),
                    Some(J::Str(s)) => b.append_value(s),
                    Some(other) => b.append_value(other.to_string()),
                }
            }
            Arc::new(b.finish())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::util::display::array_value_to_string;

    /// (schema as `name:type`, rows as display strings) of a table.
    fn shape(out: &Output) -> (Vec<String>, Vec<Vec<String>>) {
        let Output::Table { schema, batches } = out else {
            panic!("not a table: {out:?}");
        };
        let cols = schema
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect();
        let mut rows = Vec::new();
        for b in batches {
            for r in 0..b.num_rows() {
                rows.push(
                    (0..b.num_columns())
                        .map(|c| {
                            if b.column(c).is_null(r) {
                                "NULL".to_string()
                            } else {
                                array_value_to_string(b.column(c), r).unwrap()
                            }
                        })
                        .collect(),
                );
            }
        }
        (cols, rows)
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn an_array_of_objects_is_a_typed_table_in_key_order() {
        let out = parse(
            br#"[{"vendor":"acme","trips":120331,"share":0.6,"ok":true,"tags":["a"]},
                {"vendor":"zenith","trips":98004,"share":1,"ok":null,"extra":"x"}]"#,
            Some("application/json"),
        );
        let (cols, rows) = shape(&out);
        assert_eq!(
            cols,
            s(&[
                "vendor:Utf8",
                "trips:Int64",
                "share:Float64",
                "ok:Boolean",
                "tags:Utf8",
                "extra:Utf8"
            ])
        );
        assert_eq!(
            rows[0],
            s(&["acme", "120331", "0.6", "true", "[\"a\"]", "NULL"])
        );
        assert_eq!(rows[1], s(&["zenith", "98004", "1.0", "NULL", "NULL", "x"]));
    }

    #[test]
    fn mixed_values_make_a_text_column() {
        let out = parse(br#"[{"v":1},{"v":"two"},{"v":{"k":[1,2]}}]"#, None);
        let (cols, rows) = shape(&out);
        assert_eq!(cols, s(&["v:Utf8"]));
        assert_eq!(rows, vec![s(&["1"]), s(&["two"]), s(&["{\"k\":[1,2]}"])]);
    }

    #[test]
    fn json_lines_are_rows() {
        let out = parse(b"{\"a\":1}\n\n{\"a\":2,\"b\":false}\n", None);
        let (cols, rows) = shape(&out);
        assert_eq!(cols, s(&["a:Int64", "b:Boolean"]));
        assert_eq!(rows, vec![s(&["1", "NULL"]), s(&["2", "false"])]);
    }

    #[test]
    fn the_table_schema_shape_orders_and_types_columns() {
        let out = parse(
            br#"{"schema":{"fields":[{"name":"id","type":"integer"},{"name":"zip","type":"string"},
                {"name":"n","type":"integer"}],"primaryKey":["id"]},
                "data":[{"zip":"01234","id":1,"n":null},{"id":2,"zip":"99","n":null}]}"#,
            Some("application/vnd.dataresource+json"),
        );
        let (cols, rows) = shape(&out);
        assert_eq!(cols, s(&["id:Int64", "zip:Utf8", "n:Int64"]));
        assert_eq!(
            rows,
            vec![s(&["1", "01234", "NULL"]), s(&["2", "99", "NULL"])]
        );
    }

    #[test]
    fn a_mime_bundle_yields_its_table_or_its_text() {
        let table = parse(
            br#"{"text/plain":"x","application/vnd.dataresource+json":{"schema":{"fields":[{"name":"a","type":"number"}]},"data":[{"a":1.5}]}}"#,
            None,
        );
        assert_eq!(shape(&table).0, s(&["a:Float64"]));
        let text = parse(
            br#"{"text/plain":"  a  b\n0 1 2","text/html":"<table/>"}"#,
            None,
        );
        assert!(matches!(text, Output::Text(t) if t == "  a  b\n0 1 2"));
    }

    #[test]
    fn csv_is_a_table_only_when_the_type_says_so() {
        let bytes = b"name,n,x\nacme,1,0.5\nzen,,2\n";
        let (cols, rows) = shape(&parse(bytes, Some("text/csv")));
        assert_eq!(cols, s(&["name:Utf8", "n:Int64", "x:Float64"]));
        assert_eq!(
            rows,
            vec![s(&["acme", "1", "0.5"]), s(&["zen", "NULL", "2.0"])]
        );
        assert!(matches!(parse(bytes, Some("text/plain")), Output::Text(_)));
    }

    #[test]
    fn other_content_is_text() {
        for bytes in [
            &b"hello\nworld"[..],
            b"[1, 2, 3]",
            b"[]",
            b"{not json",
            b"",
            b"[{\"a\":1}, 2]",
        ] {
            assert!(
                matches!(parse(bytes, Some("application/json")), Output::Text(_)),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn text_is_one_row_per_line_in_batches() {
        let (schema, batches) = text_table("a\r\nb\n\nc\n");
        assert_eq!(schema.field(0).name(), TEXT_COLUMN);
        let rows: Vec<String> = batches
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(|r| array_value_to_string(b.column(0), r).unwrap()))
            .collect();
        assert_eq!(rows, s(&["a", "b", "", "c"]));
        let many = "x\n".repeat(BATCH_ROWS + 1);
        let (_, batches) = text_table(&many);
        assert_eq!(
            batches
                .iter()
                .map(RecordBatch::num_rows)
                .collect::<Vec<_>>(),
            vec![BATCH_ROWS, 1]
        );
    }

    #[test]
    fn big_tables_come_in_batches() {
        let rows: Vec<String> = (0..BATCH_ROWS * 2 + 5)
            .map(|i| format!("{{\"i\":{i}}}"))
            .collect();
        let out = parse(rows.join("\n").as_bytes(), None);
        let Output::Table { batches, .. } = out else {
            panic!("not a table")
        };
        assert_eq!(
            batches
                .iter()
                .map(RecordBatch::num_rows)
                .collect::<Vec<_>>(),
            vec![BATCH_ROWS, BATCH_ROWS, 5]
        );
    }
}
