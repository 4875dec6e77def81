//! GetStatementResult pages → Arrow batches, typed from `ColumnMetadata`.
//!
//! The Data API sends integers as `longValue`, floating point as `doubleValue`, booleans as
//! `booleanValue`, bytes as `blobValue` and everything else as text (`stringValue`): numerics
//! exactly, dates and timestamps as Redshift prints them, SUPER as JSON text. Text of a typed
//! column goes through Arrow's cast kernels; a value that does not fit its column fails the page
//! naming the column and value instead of silently becoming NULL.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Float32Builder, Float64Builder, Int16Builder,
    Int32Builder, Int64Builder, StringArray, StringBuilder,
};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use aws_sdk_redshiftdata::types::{ColumnMetadata, Field};

use crate::connectors::exact_decimal;

/// Field metadata key holding Redshift's own type name (`int4`, `numeric`, `super`, …).
pub const REDSHIFT_TYPE: &str = "redshift.type";

/// The Arrow schema for the Data API's column metadata.
pub fn schema(columns: &[ColumnMetadata]) -> SchemaRef {
    let fields: Vec<ArrowField> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name = c
                .label()
                .filter(|l| !l.is_empty())
                .or(c.name())
                .map(str::to_string)
                .unwrap_or_else(|| format!("column{}", i + 1));
            let ty = c.type_name().unwrap_or("").to_string();
            let meta = [(REDSHIFT_TYPE.to_string(), ty)].into();
            ArrowField::new(name, arrow_type(c), true).with_metadata(meta)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// The Arrow type a column of Redshift type `c.typeName` becomes.
fn arrow_type(c: &ColumnMetadata) -> DataType {
    let ty = c.type_name().unwrap_or("").trim().to_ascii_lowercase();
    match ty.as_str() {
        "int2" | "smallint" => DataType::Int16,
        "int4" | "int" | "integer" | "serial" => DataType::Int32,
        "int8" | "bigint" | "bigserial" => DataType::Int64,
        "float4" | "real" => DataType::Float32,
        "float8" | "float" | "double precision" => DataType::Float64,
        "bool" | "boolean" => DataType::Boolean,
        "numeric" | "decimal" => match (c.precision(), c.scale()) {
            (p @ 1..=38, s @ 0..=38) if s <= p => DataType::Decimal128(p as u8, s as i8),
            // Unconstrained numerics have no fixed scale: exact text is better than rounding.
            _ => DataType::Utf8,
        },
        "date" => DataType::Date32,
        "timestamp" | "timestamp without time zone" => {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        }
        "timestamptz" | "timestamp with time zone" => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()))
        }
        "bytea" | "varbyte" | "varbinary" | "binary varying" => DataType::Binary,
        _ => DataType::Utf8,
    }
}

/// A value that does not fit its column's declared type.
#[derive(Debug, thiserror::Error)]
#[error("column `{column}` ({redshift_type}): cannot read the value `{value}`")]
pub struct ConversionError {
    pub column: String,
    pub redshift_type: String,
    pub value: String,
}

/// Converts one page of records into one batch of `schema`.
pub fn to_batch(
    schema: &SchemaRef,
    records: &[Vec<Field>],
) -> Result<RecordBatch, ConversionError> {
    let columns = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| column(field, i, records))
        .collect::<Result<Vec<_>, _>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(records.len()));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options).map_err(|e| {
        ConversionError {
            column: String::new(),
            redshift_type: String::new(),
            value: e.to_string(),
        }
    })
}

/// A field as text, for text columns and for the cast kernels (`None`: NULL).
fn text(field: Option<&Field>) -> Option<String> {
    match field? {
        Field::IsNull(true) => None,
        Field::StringValue(s) => Some(s.clone()),
        Field::LongValue(n) => Some(n.to_string()),
        Field::DoubleValue(d) => Some(d.to_string()),
        Field::BooleanValue(b) => Some(b.to_string()),
        Field::BlobValue(b) => Some(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            b.as_ref(),
        )),
        _ => None,
    }
}

/// Field `i` of a record (`None` past its end).
/// The decimal columns of `records` with a value their declared type would round.
pub fn inexact_decimals(schema: &SchemaRef, records: &[Vec<Field>]) -> Vec<exact_decimal::Misfit> {
    exact_decimal::misfits(schema, |i| {
        records.iter().filter_map(move |row| match at(row, i) {
            Some(Field::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
    })
}

fn at(row: &[Field], i: usize) -> Option<&Field> {
    row.get(i)
}

fn column(
    field: &ArrowField,
    i: usize,
    records: &[Vec<Field>],
) -> Result<ArrayRef, ConversionError> {
    let bad = |value: &str| conversion_error(field, value);
    macro_rules! typed {
        ($builder:ty, $pick:expr) => {{
            let mut b = <$builder>::with_capacity(records.len());
            for row in records {
                match at(row, i) {
                    None | Some(Field::IsNull(true)) => b.append_null(),
                    Some(f) => {
                        let v = $pick(f).ok_or_else(|| bad(&text(Some(f)).unwrap_or_default()))?;
                        b.append_value(v);
                    }
                }
            }
            Ok(Arc::new(b.finish()) as ArrayRef)
        }};
    }
    match field.data_type() {
        DataType::Int16 => typed!(Int16Builder, |f| long(f)
            .and_then(|n| i16::try_from(n).ok())),
        DataType::Int32 => typed!(Int32Builder, |f| long(f)
            .and_then(|n| i32::try_from(n).ok())),
        DataType::Int64 => typed!(Int64Builder, long),
        DataType::Float32 => typed!(Float32Builder, |f| double(f).map(|d| d as f32)),
        DataType::Float64 => typed!(Float64Builder, double),
        DataType::Boolean => typed!(BooleanBuilder, boolean),
        DataType::Binary => Ok(binary_column(i, records)),
        DataType::Utf8 => Ok(text_column(i, records)),
        target => parsed_column(field, target, i, records),
    }
}

/// A value that does not fit its column, named with the column and its Redshift type.
fn conversion_error(field: &ArrowField, value: &str) -> ConversionError {
    ConversionError {
        column: field.name().clone(),
        redshift_type: field
            .metadata()
            .get(REDSHIFT_TYPE)
            .cloned()
            .unwrap_or_default(),
        value: value.chars().take(60).collect(),
    }
}

fn long(f: &Field) -> Option<i64> {
    match f {
        Field::LongValue(n) => Some(*n),
        Field::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn double(f: &Field) -> Option<f64> {
    match f {
        Field::DoubleValue(d) => Some(*d),
        Field::LongValue(n) => Some(*n as f64),
        Field::StringValue(s) => parse_float(s),
        _ => None,
    }
}

fn boolean(f: &Field) -> Option<bool> {
    match f {
        Field::BooleanValue(b) => Some(*b),
        Field::StringValue(s) => match s.trim() {
            "t" | "true" | "TRUE" => Some(true),
            "f" | "false" | "FALSE" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn binary_column(i: usize, records: &[Vec<Field>]) -> ArrayRef {
    let mut b = BinaryBuilder::new();
    for row in records {
        match at(row, i) {
            Some(Field::BlobValue(v)) => b.append_value(v.as_ref()),
            Some(Field::StringValue(s)) => b.append_value(s.as_bytes()),
            _ => b.append_null(),
        }
    }
    Arc::new(b.finish()) as ArrayRef
}

fn text_column(i: usize, records: &[Vec<Field>]) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(records.len(), records.len() * 8);
    for row in records {
        b.append_option(text(at(row, i)));
    }
    Arc::new(b.finish()) as ArrayRef
}

/// Dates, timestamps and decimals: Redshift's text through Arrow's parsers.
fn parsed_column(
    field: &ArrowField,
    target: &DataType,
    i: usize,
    records: &[Vec<Field>],
) -> Result<ArrayRef, ConversionError> {
    let strings: StringArray = records
        .iter()
        .map(|row| text(at(row, i)).map(|t| normalize_offset(t.trim())))
        .collect();
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    cast_with_options(&strings, target, &options).map_err(|_| {
        // Name the first value that does not parse (the kernel only says "cannot").
        let culprit = strings
            .iter()
            .flatten()
            .find(|v| {
                let one = StringArray::from(vec![*v]);
                cast_with_options(&one, target, &options).is_err()
            })
            .unwrap_or_default();
        conversion_error(field, culprit)
    })
}

/// `Infinity`, `-Infinity` and `NaN` as PostgreSQL spells them, else a plain number.
fn parse_float(s: &str) -> Option<f64> {
    match s.trim() {
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        t => t.parse().ok(),
    }
}

/// Redshift prints a zone offset as `+00` or `+05:30`; Arrow's parser wants minutes too.
fn normalize_offset(text: &str) -> String {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let short_offset = n > 3
        && matches!(bytes[n - 3], b'+' | b'-')
        && bytes[n - 2].is_ascii_digit()
        && bytes[n - 1].is_ascii_digit()
        // A date alone (`2024-01-02`) also ends in `-02`: an offset follows a time.
        && text[..n - 3].contains(':');
    if short_offset {
        format!("{text}:00")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Date32Type, Decimal128Type, TimestampMicrosecondType};

    fn meta(name: &str, ty: &str, precision: i32, scale: i32) -> ColumnMetadata {
        ColumnMetadata::builder()
            .name(name)
            .label(name)
            .type_name(ty)
            .precision(precision)
            .scale(scale)
            .build()
    }

    fn s(v: &str) -> Field {
        Field::StringValue(v.into())
    }

    #[test]
    fn a_numeric_its_declared_scale_would_round_is_found() {
        let schema = schema(&[meta("f", "numeric", 12, 3), meta("g", "numeric", 5, 0)]);
        let fine = vec![
            vec![s("1.250"), s("42")],
            vec![Field::IsNull(true), s("-7")],
        ];
        assert!(inexact_decimals(&schema, &fine).is_empty());
        let rounded = vec![vec![s("1.2505"), s("42")]];
        let found = inexact_decimals(&schema, &rounded);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].column, found[0].value.as_str()), (0, "1.2505"));
    }

    #[test]
    fn every_documented_type_converts_exactly() {
        let columns = vec![
            meta("a", "int2", 5, 0),
            meta("b", "int4", 10, 0),
            meta("c", "int8", 19, 0),
            meta("d", "float4", 8, 8),
            meta("e", "float8", 17, 17),
            meta("f", "numeric", 12, 3),
            meta("g", "bool", 1, 0),
            meta("h", "varchar", 256, 0),
            meta("i", "bpchar", 3, 0),
            meta("j", "date", 13, 0),
            meta("k", "timestamp", 29, 6),
            meta("l", "timestamptz", 35, 6),
            meta("m", "super", 0, 0),
        ];
        let schema = schema(&columns);
        let row = vec![
            Field::LongValue(-7),
            Field::LongValue(2_000_000_000),
            Field::LongValue(9_007_199_254_740_993),
            Field::DoubleValue(1.5),
            Field::DoubleValue(0.1),
            s("123456789.125"),
            Field::BooleanValue(true),
            s("héllo"),
            s("ab "),
            s("2024-02-29"),
            s("2024-02-29 13:14:15.123456"),
            s("2024-02-29 13:14:15.5+02"),
            s("{\"a\":[1,2]}"),
        ];
        let nulls = vec![Field::IsNull(true); columns.len()];
        let batch = to_batch(&schema, &[row, nulls]).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let col = |i: usize| batch.column(i);
        assert_eq!(
            col(0)
                .as_primitive::<arrow::datatypes::Int16Type>()
                .value(0),
            -7
        );
        assert_eq!(
            col(2)
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(0),
            9_007_199_254_740_993
        );
        assert_eq!(
            col(5).data_type(),
            &DataType::Decimal128(12, 3),
            "numeric keeps precision and scale"
        );
        assert_eq!(
            col(5).as_primitive::<Decimal128Type>().value(0),
            123_456_789_125
        );
        assert!(col(6).as_boolean().value(0));
        assert_eq!(col(7).as_string::<i32>().value(0), "héllo");
        assert_eq!(col(8).as_string::<i32>().value(0), "ab ");
        // 2024-02-29 is day 19782 of the Unix epoch.
        assert_eq!(col(9).as_primitive::<Date32Type>().value(0), 19782);
        let ts = col(10).as_primitive::<TimestampMicrosecondType>().value(0);
        assert_eq!(ts % 1_000_000, 123_456);
        let tz = col(11).as_primitive::<TimestampMicrosecondType>().value(0);
        assert_eq!(ts - ts % 1_000_000 - tz + 500_000, 2 * 3600 * 1_000_000);
        assert_eq!(col(12).as_string::<i32>().value(0), "{\"a\":[1,2]}");
        for i in 0..columns.len() {
            assert!(col(i).is_null(1), "column {i} keeps NULL");
        }
    }

    #[test]
    fn a_value_that_does_not_fit_names_its_column() {
        let schema = schema(&[meta("day", "date", 13, 0)]);
        let err = to_batch(&schema, &[vec![s("2024-02-29")], vec![s("yesterday")]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column `day` (date): cannot read the value `yesterday`"
        );
        let schema = super::schema(&[meta("n", "int2", 5, 0)]);
        let err = to_batch(&schema, &[vec![Field::LongValue(70_000)]]).unwrap_err();
        assert!(err.to_string().contains("`70000`"), "{err}");
    }

    #[test]
    fn short_zone_offsets_get_minutes() {
        assert_eq!(
            normalize_offset("2024-01-02 03:04:05+00"),
            "2024-01-02 03:04:05+00:00"
        );
        assert_eq!(
            normalize_offset("2024-01-02 03:04:05-05:30"),
            "2024-01-02 03:04:05-05:30"
        );
        assert_eq!(normalize_offset("2024-01-02"), "2024-01-02");
    }
}
