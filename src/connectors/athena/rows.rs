//! GetQueryResults pages → Arrow batches, typed from `ResultSetMetadata`.
//!
//! Athena sends every value as text (`VarCharValue`, absent for NULL). Numbers, booleans and
//! doubles are parsed here; decimals, dates and timestamps go through Arrow's cast kernels. A value
//! that does not parse as its declared type fails the page with the column and value named,
//! instead of silently becoming NULL. Types Arrow has no faithful equivalent for (time zones kept
//! as text, `time`, intervals, `array`/`map`/`row`, `json`, `varbinary`) stay text as Athena
//! wrote it.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanBuilder, Float32Builder, Float64Builder, Int8Builder, Int16Builder,
    Int32Builder, Int64Builder, StringArray, StringBuilder,
};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use aws_sdk_athena::types::{ColumnInfo, Row};

use crate::connectors::exact_decimal;

/// Field metadata key holding Athena's own type name (`array(varchar)`, `decimal(10,2)`, …).
pub use crate::model::job::ATHENA_TYPE;

/// The Arrow schema for Athena's column metadata.
pub fn schema(columns: &[ColumnInfo]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| {
            let name = if c.label().is_some_and(|l| !l.is_empty()) {
                c.label().unwrap_or_default()
            } else {
                c.name()
            };
            let meta = [(ATHENA_TYPE.to_string(), c.r#type().to_string())].into();
            Field::new(name, arrow_type(c), true).with_metadata(meta)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// The Arrow type a column of Athena type `info.type` becomes.
fn arrow_type(info: &ColumnInfo) -> DataType {
    let ty = info.r#type().trim().to_ascii_lowercase();
    let base = ty.split('(').next().unwrap_or("").trim();
    match base {
        "boolean" => DataType::Boolean,
        "tinyint" => DataType::Int8,
        "smallint" => DataType::Int16,
        "integer" | "int" => DataType::Int32,
        "bigint" => DataType::Int64,
        "double" => DataType::Float64,
        "float" | "real" => DataType::Float32,
        "decimal" => match (info.precision(), info.scale()) {
            (p @ 1..=38, s @ 0..=38) if s <= p => DataType::Decimal128(p as u8, s as i8),
            _ => DataType::Utf8,
        },
        "date" => DataType::Date32,
        // Athena prints `timestamp` (no zone) as `2024-01-02 03:04:05.123`: millisecond precision.
        "timestamp" if !ty.contains("zone") => DataType::Timestamp(TimeUnit::Millisecond, None),
        _ => DataType::Utf8,
    }
}

/// A value that does not parse as its column's declared type.
#[derive(Debug, thiserror::Error)]
#[error("column `{column}` ({athena_type}): cannot read the value `{value}`")]
pub struct ConversionError {
    pub column: String,
    pub athena_type: String,
    pub value: String,
}

/// Converts rows (without the header row) into one batch of `schema`.
pub fn to_batch(schema: &SchemaRef, rows: &[Row]) -> Result<RecordBatch, ConversionError> {
    let columns = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| column(field, i, rows))
        .collect::<Result<Vec<_>, _>>()?;
    // Explicit row count: a result with no columns still has rows to count.
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options).map_err(|e| {
        ConversionError {
            column: String::new(),
            athena_type: String::new(),
            value: e.to_string(),
        }
    })
}

/// Cell `i` of `row` as text; `None` is NULL (Athena omits `VarCharValue`).
fn cell(row: &Row, i: usize) -> Option<&str> {
    row.data().get(i).and_then(|d| d.var_char_value())
}

fn column(field: &Field, i: usize, rows: &[Row]) -> Result<ArrayRef, ConversionError> {
    let bad = |value: &str| ConversionError {
        column: field.name().clone(),
        athena_type: field
            .metadata()
            .get(ATHENA_TYPE)
            .cloned()
            .unwrap_or_default(),
        value: value.chars().take(60).collect(),
    };
    macro_rules! parsed {
        ($builder:ty, $parse:expr) => {{
            let mut b = <$builder>::with_capacity(rows.len());
            for row in rows {
                match cell(row, i) {
                    None => b.append_null(),
                    Some(text) => b.append_value($parse(text.trim()).ok_or_else(|| bad(text))?),
                }
            }
            Ok(Arc::new(b.finish()) as ArrayRef)
        }};
    }
    match field.data_type() {
        DataType::Boolean => parsed!(BooleanBuilder, |t: &str| match t {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }),
        DataType::Int8 => parsed!(Int8Builder, |t: &str| t.parse().ok()),
        DataType::Int16 => parsed!(Int16Builder, |t: &str| t.parse().ok()),
        DataType::Int32 => parsed!(Int32Builder, |t: &str| t.parse().ok()),
        DataType::Int64 => parsed!(Int64Builder, |t: &str| t.parse().ok()),
        // Rust's float parser takes Athena's `NaN`, `Infinity` and `-Infinity` too.
        DataType::Float64 => parsed!(Float64Builder, |t: &str| t.parse().ok()),
        DataType::Float32 => parsed!(Float32Builder, |t: &str| t.parse().ok()),
        DataType::Utf8 => {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
            for row in rows {
                b.append_option(cell(row, i));
            }
            Ok(Arc::new(b.finish()))
        }
        target => {
            let text: StringArray = rows.iter().map(|r| cell(r, i)).collect();
            // `safe` turns unparsable values into NULL; a NULL that was not NULL before is a
            // value we could not read, reported rather than lost.
            let options = CastOptions {
                safe: true,
                ..CastOptions::default()
            };
            let typed = cast_with_options(&text, target, &options).map_err(|_| bad(""))?;
            if typed.null_count() != text.null_count() {
                let lost = (0..text.len())
                    .find(|&r| typed.is_null(r) && !text.is_null(r))
                    .map(|r| text.value(r))
                    .unwrap_or("");
                return Err(bad(lost));
            }
            Ok(typed)
        }
    }
}

/// The decimal columns of `rows` with a value their declared type would round.
pub fn inexact_decimals(schema: &SchemaRef, rows: &[Row]) -> Vec<exact_decimal::Misfit> {
    exact_decimal::misfits(schema, |i| rows.iter().filter_map(move |r| cell(r, i)))
}

/// Whether `row` is the header Athena puts first in a query's first page: every cell equals its
/// column's label (or name).
pub fn is_header_row(columns: &[ColumnInfo], row: &Row) -> bool {
    !columns.is_empty()
        && row.data().len() == columns.len()
        && columns.iter().zip(row.data()).all(|(c, d)| {
            let v = d.var_char_value();
            v.is_some() && (v == c.label() || v == Some(c.name()))
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use arrow::array::{Date32Array, Decimal128Array, Int32Array, TimestampMillisecondArray};
    use aws_sdk_athena::types::Datum;

    pub fn col(name: &str, ty: &str, precision: i32, scale: i32) -> ColumnInfo {
        ColumnInfo::builder()
            .name(name)
            .label(name)
            .r#type(ty)
            .precision(precision)
            .scale(scale)
            .build()
            .expect("name and type are set")
    }

    pub fn row(cells: &[Option<&str>]) -> Row {
        Row::builder()
            .set_data(Some(
                cells
                    .iter()
                    .map(|c| {
                        Datum::builder()
                            .set_var_char_value(c.map(str::to_string))
                            .build()
                    })
                    .collect(),
            ))
            .build()
    }

    fn columns() -> Vec<ColumnInfo> {
        vec![
            col("id", "integer", 10, 0),
            col("amount", "decimal", 10, 2),
            col("day", "date", 0, 0),
            col("ts", "timestamp", 3, 0),
            col("ok", "boolean", 0, 0),
            col("score", "double", 17, 0),
            col("tags", "array", 0, 0),
        ]
    }

    #[test]
    fn types_come_from_the_metadata() {
        let cols = columns();
        let schema = schema(&cols);
        let rows = vec![
            row(&[
                Some("1"),
                Some("12.50"),
                Some("2024-01-02"),
                Some("2024-01-02 03:04:05.123"),
                Some("true"),
                Some("Infinity"),
                Some("[a, b]"),
            ]),
            row(&[None, None, None, None, None, None, None]),
        ];
        let batch = to_batch(&schema, &rows).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let id = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert_eq!(id.value(0), 1);
        assert!(id.is_null(1));
        let amount = batch
            .column(1)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        assert_eq!(amount.value_as_string(0), "12.50");
        let day = batch
            .column(2)
            .as_any()
            .downcast_ref::<Date32Array>()
            .unwrap();
        assert_eq!(day.value_as_date(0).unwrap().to_string(), "2024-01-02");
        let ts = batch
            .column(3)
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .unwrap();
        assert_eq!(
            ts.value_as_datetime(0).unwrap().to_string(),
            "2024-01-02 03:04:05.123"
        );
        assert_eq!(batch.schema().field(6).data_type(), &DataType::Utf8);
        assert_eq!(batch.schema().field(6).metadata()[ATHENA_TYPE], "array");
        for c in batch.columns() {
            assert!(c.is_null(1));
        }
    }

    #[test]
    fn an_unreadable_value_is_reported_not_dropped() {
        let cols = vec![col("day", "date", 0, 0)];
        let err = to_batch(&schema(&cols), &[row(&[Some("yesterday")])]).unwrap_err();
        assert_eq!(err.column, "day");
        assert_eq!(err.value, "yesterday");
        let cols = vec![col("n", "bigint", 19, 0)];
        assert!(to_batch(&schema(&cols), &[row(&[Some("1.5")])]).is_err());
    }

    #[test]
    fn decimals_that_do_not_fit_their_type_are_found() {
        let cols = vec![
            col("whole", "decimal", 10, 0),
            col("cents", "decimal", 4, 2),
        ];
        let schema = schema(&cols);
        let fine = [
            row(&[Some("12"), Some("12.50")]),
            row(&[None, Some("-99.99")]),
        ];
        assert!(inexact_decimals(&schema, &fine).is_empty());
        let rounded = [row(&[Some("12.50"), Some("1.005")])];
        let columns: Vec<usize> = inexact_decimals(&schema, &rounded)
            .iter()
            .map(|m| m.column)
            .collect();
        assert_eq!(columns, vec![0, 1]);
    }

    #[test]
    fn the_header_row_is_recognised() {
        let cols = vec![col("id", "integer", 10, 0), col("name", "varchar", 0, 0)];
        assert!(is_header_row(&cols, &row(&[Some("id"), Some("name")])));
        assert!(!is_header_row(&cols, &row(&[Some("1"), Some("name")])));
        assert!(!is_header_row(&cols, &row(&[Some("id"), None])));
    }
}
