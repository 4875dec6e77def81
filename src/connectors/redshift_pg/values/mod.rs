//! PostgreSQL binary-format result values → Arrow record batches.
//!
//! tokio-postgres asks for every result column in the binary format, so values arrive as the
//! server's `*_send` output. Each column gets one converter, chosen once from its type (domains
//! resolved to their base type) in [`RowsToArrow::new`]; a value is then one `match`, a
//! fixed-size big-endian decode and a typed Arrow builder append. Values Arrow cannot hold
//! (numeric NaN, infinite dates) become NULL with a note for the user; malformed bytes are an
//! error naming the column, and the row they were in is left out of the batch.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanArray, BooleanBuilder, Date32Builder, Decimal128Builder,
    Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder,
    IntervalMonthDayNanoBuilder, StringBuilder, Time64MicrosecondBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{
    DataType, Field, IntervalMonthDayNano, IntervalUnit, Schema, SchemaRef, TimeUnit,
};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use tokio_postgres::types::{FromSql, Type};

use array_json::write_array;
use decode::{
    Numeric, char_text, fixed, interval, jsonb, numeric, plain_text, write_hex, write_inet,
    write_numeric, write_timetz, write_uuid,
};
use types::{Scalar, Shape, numeric_typmod, shape, type_label};

mod array_json;
mod decode;
#[cfg(test)]
mod tests;
mod types;

/// Field metadata key holding the column's PostgreSQL type (`numeric(10,2)`, `int4[]`, …).
pub const PG_TYPE: &str = "pg_type";

/// PostgreSQL counts days and microseconds from 2000-01-01, Arrow from 1970-01-01.
const EPOCH_DAYS: i32 = 10_957;
const EPOCH_MICROS: i64 = 946_684_800_000_000;
const DAY_MICROS: i64 = 86_400_000_000;
/// Rows the builders are sized for at first; they grow as needed.
const CAPACITY: usize = 1024;

/// One result column as the server described it (RowDescription).
#[derive(Debug, Clone)]
pub struct PgColumn {
    pub name: String,
    pub type_: Type,
    pub type_modifier: i32,
}

/// A raw value as the server sent it (binary format): `None` is SQL NULL. Implements
/// `FromSql` for every type so the connector can do `row.try_get::<_, RawValue>(i)`.
pub struct RawValue<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawValue<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(RawValue(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(RawValue(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A value whose bytes do not match its column's type; the message names the column, its type,
/// the value's length and what was wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

/// Converts rows into Arrow batches column by column.
pub struct RowsToArrow {
    schema: SchemaRef,
    columns: Vec<Column>,
    /// Rows in the builders, rejected ones included.
    rows: usize,
    /// Builder rows of failed `push_row` calls (padded with NULLs), filtered out by `finish`.
    rejected: Vec<usize>,
    buffered: usize,
    notes: Notes,
}

impl RowsToArrow {
    pub fn new(columns: Vec<PgColumn>) -> Self {
        let columns: Vec<Column> = columns.into_iter().map(Column::new).collect();
        let fields: Vec<Field> = columns
            .iter()
            .map(|c| {
                let meta = HashMap::from([(PG_TYPE.to_string(), c.pg_type.clone())]);
                Field::new(c.name.clone(), c.conv.data_type(), true).with_metadata(meta)
            })
            .collect();
        Self {
            schema: Arc::new(Schema::new(fields)),
            columns,
            rows: 0,
            rejected: Vec::new(),
            buffered: 0,
            notes: Notes::default(),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Appends one row: exactly one raw value per column, in order. On error nothing of the row
    /// reaches the next batch.
    pub fn push_row<'a>(
        &mut self,
        values: impl IntoIterator<Item = Option<&'a [u8]>>,
    ) -> Result<(), ValueError> {
        let mut values = values.into_iter();
        let mut failure = None;
        let width = self.columns.len();
        for (i, col) in self.columns.iter_mut().enumerate() {
            if failure.is_some() {
                // Keep every builder the same length; the row is dropped in `finish`.
                col.conv.append_null();
                continue;
            }
            let Some(raw) = values.next() else {
                col.conv.append_null();
                failure = Some(ValueError(format!(
                    "row has {i} values for {width} columns"
                )));
                continue;
            };
            let Some(raw) = raw else {
                col.conv.append_null();
                continue;
            };
            self.buffered += raw.len();
            match col.conv.push(raw) {
                Ok(None) => {}
                Ok(Some(note)) => col.note(note, &mut self.notes),
                Err(Malformed(what)) => {
                    col.conv.append_null();
                    failure = Some(ValueError(format!(
                        "column `{}` ({}): malformed value of {} bytes: {what}",
                        col.name,
                        col.pg_type,
                        raw.len()
                    )));
                }
            }
        }
        if failure.is_none() && values.next().is_some() {
            failure = Some(ValueError(format!(
                "row has more than {width} values for {width} columns"
            )));
        }
        self.rows += 1;
        match failure {
            None => Ok(()),
            Some(e) => {
                self.rejected.push(self.rows - 1);
                Err(e)
            }
        }
    }

    /// Rows appended since the last `finish`.
    pub fn len(&self) -> usize {
        self.rows - self.rejected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate bytes buffered since the last `finish` (sum of raw value lengths), so the
    /// caller can flush big rows sooner.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// The rows appended since the last call, as one batch (the builders start again empty).
    pub fn finish(&mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(|c| c.conv.finish()).collect();
        let rows = std::mem::take(&mut self.rows);
        let rejected = std::mem::take(&mut self.rejected);
        self.buffered = 0;
        // The row count matters for results without columns.
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .and_then(|batch| {
                if rejected.is_empty() {
                    return Ok(batch);
                }
                let mut keep = vec![true; rows];
                for r in rejected {
                    if let Some(k) = keep.get_mut(r) {
                        *k = false;
                    }
                }
                filter_record_batch(&batch, &BooleanArray::from(keep))
            });
        match batch {
            Ok(batch) => batch,
            Err(e) => {
                // Unreachable while every builder gets one value per row; never panic over it.
                tracing::error!("assembling a batch of {rows} rows failed: {e}");
                self.notes.add(format!(
                    "{rows} rows could not be assembled into a batch: {e}"
                ));
                RecordBatch::new_empty(self.schema.clone())
            }
        }
    }

    /// Notes about values that could not be shown as their type, each distinct note once;
    /// drained by the call.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes.pending)
    }
}

#[derive(Default)]
struct Notes {
    pending: Vec<String>,
    seen: HashSet<String>,
}

impl Notes {
    fn add(&mut self, note: String) {
        if self.seen.insert(note.clone()) {
            self.pending.push(note);
        }
    }
}

/// Why a value is shown differently from its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Note {
    NaN,
    Infinity,
    NegInfinity,
    OutOfRange,
    Hex,
    BadUtf8,
}

/// What was wrong with a value's bytes.
#[derive(Debug)]
struct Malformed(&'static str);

impl From<fmt::Error> for Malformed {
    fn from(_: fmt::Error) -> Self {
        Malformed("cannot format the value")
    }
}

struct Column {
    name: String,
    pg_type: String,
    conv: Conv,
    /// Bits of the `Note`s already reported, so a note costs nothing after the first.
    noted: u8,
}

impl Column {
    fn new(c: PgColumn) -> Self {
        let pg_type = type_label(&c.type_, c.type_modifier, 0);
        let conv = Conv::new(shape(&c.type_, 0), c.type_modifier);
        Column {
            name: c.name,
            pg_type,
            conv,
            noted: 0,
        }
    }

    fn note(&mut self, note: Note, notes: &mut Notes) {
        let bit = 1u8 << note as u8;
        if self.noted & bit != 0 {
            return;
        }
        self.noted |= bit;
        let (name, ty) = (&self.name, &self.pg_type);
        let (inf, neg_inf) = match self.conv {
            Conv::Decimal { .. } => ("Infinity", "-Infinity"),
            _ => ("infinity", "-infinity"),
        };
        let null = |word: &str| {
            format!("column `{name}`: {word} shown as NULL ({ty} has no {word} in Arrow)")
        };
        notes.add(match note {
            Note::NaN => null("NaN"),
            Note::Infinity => null(inf),
            Note::NegInfinity => null(neg_inf),
            Note::OutOfRange => {
                format!("column `{name}`: values beyond Arrow's {ty} range shown as NULL")
            }
            Note::Hex => format!("column `{name}`: type `{ty}` shown as its binary form"),
            Note::BadUtf8 => format!("column `{name}`: invalid UTF-8 shown as U+FFFD"),
        });
    }
}

/// How a column shown as text is written.
#[derive(Debug, Clone, Copy)]
enum TextForm {
    Utf8,
    Char,
    Numeric,
    TimeTz,
    Jsonb,
    Uuid,
    Inet,
    Cidr,
    Array(Scalar),
    Unknown,
}

/// One column's decoder and Arrow builder.
enum Conv {
    Bool(BooleanBuilder),
    Int2(Int16Builder),
    Int4(Int32Builder),
    Int8(Int64Builder),
    Oid(Int64Builder),
    Float4(Float32Builder),
    Float8(Float64Builder),
    Decimal {
        b: Decimal128Builder,
        precision: u8,
        scale: u8,
    },
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Timestamp {
        b: TimestampMicrosecondBuilder,
        utc: bool,
    },
    Interval(IntervalMonthDayNanoBuilder),
    Bytea(BinaryBuilder),
    Text(StringBuilder, TextForm),
}

impl Conv {
    fn new(shape: Shape, typmod: i32) -> Conv {
        let text = |form| Conv::Text(StringBuilder::with_capacity(CAPACITY, CAPACITY * 16), form);
        let s = match shape {
            Shape::Array(elem) => return text(TextForm::Array(elem)),
            Shape::Scalar(s) => s,
        };
        match s {
            Scalar::Bool => Conv::Bool(BooleanBuilder::with_capacity(CAPACITY)),
            Scalar::Int2 => Conv::Int2(Int16Builder::with_capacity(CAPACITY)),
            Scalar::Int4 => Conv::Int4(Int32Builder::with_capacity(CAPACITY)),
            Scalar::Int8 => Conv::Int8(Int64Builder::with_capacity(CAPACITY)),
            Scalar::Oid => Conv::Oid(Int64Builder::with_capacity(CAPACITY)),
            Scalar::Float4 => Conv::Float4(Float32Builder::with_capacity(CAPACITY)),
            Scalar::Float8 => Conv::Float8(Float64Builder::with_capacity(CAPACITY)),
            Scalar::Numeric => decimal(typmod).unwrap_or_else(|| text(TextForm::Numeric)),
            Scalar::Text | Scalar::Json => text(TextForm::Utf8),
            Scalar::Char => text(TextForm::Char),
            Scalar::Date => Conv::Date(Date32Builder::with_capacity(CAPACITY)),
            Scalar::Time => Conv::Time(Time64MicrosecondBuilder::with_capacity(CAPACITY)),
            Scalar::TimeTz => text(TextForm::TimeTz),
            Scalar::Timestamp | Scalar::TimestampTz => {
                let utc = s == Scalar::TimestampTz;
                let b = TimestampMicrosecondBuilder::with_capacity(CAPACITY)
                    .with_timezone_opt(utc.then_some("+00:00"));
                Conv::Timestamp { b, utc }
            }
            Scalar::Interval => {
                Conv::Interval(IntervalMonthDayNanoBuilder::with_capacity(CAPACITY))
            }
            Scalar::Jsonb => text(TextForm::Jsonb),
            Scalar::Bytea => Conv::Bytea(BinaryBuilder::with_capacity(CAPACITY, CAPACITY * 16)),
            Scalar::Uuid => text(TextForm::Uuid),
            Scalar::Inet => text(TextForm::Inet),
            Scalar::Cidr => text(TextForm::Cidr),
            Scalar::Unknown => text(TextForm::Unknown),
        }
    }

    fn data_type(&self) -> DataType {
        match self {
            Conv::Bool(_) => DataType::Boolean,
            Conv::Int2(_) => DataType::Int16,
            Conv::Int4(_) => DataType::Int32,
            Conv::Int8(_) | Conv::Oid(_) => DataType::Int64,
            Conv::Float4(_) => DataType::Float32,
            Conv::Float8(_) => DataType::Float64,
            Conv::Decimal {
                precision, scale, ..
            } => DataType::Decimal128(*precision, *scale as i8),
            Conv::Date(_) => DataType::Date32,
            Conv::Time(_) => DataType::Time64(TimeUnit::Microsecond),
            Conv::Timestamp { utc, .. } => {
                DataType::Timestamp(TimeUnit::Microsecond, utc.then(|| "+00:00".into()))
            }
            Conv::Interval(_) => DataType::Interval(IntervalUnit::MonthDayNano),
            Conv::Bytea(_) => DataType::Binary,
            Conv::Text(..) => DataType::Utf8,
        }
    }

    fn append_null(&mut self) {
        match self {
            Conv::Bool(b) => b.append_null(),
            Conv::Int2(b) => b.append_null(),
            Conv::Int4(b) => b.append_null(),
            Conv::Int8(b) | Conv::Oid(b) => b.append_null(),
            Conv::Float4(b) => b.append_null(),
            Conv::Float8(b) => b.append_null(),
            Conv::Decimal { b, .. } => b.append_null(),
            Conv::Date(b) => b.append_null(),
            Conv::Time(b) => b.append_null(),
            Conv::Timestamp { b, .. } => b.append_null(),
            Conv::Interval(b) => b.append_null(),
            Conv::Bytea(b) => b.append_null(),
            // Also ends any partly written value of a failed row (dropped in `finish`).
            Conv::Text(b, _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Conv::Bool(b) => Arc::new(b.finish()),
            Conv::Int2(b) => Arc::new(b.finish()),
            Conv::Int4(b) => Arc::new(b.finish()),
            Conv::Int8(b) | Conv::Oid(b) => Arc::new(b.finish()),
            Conv::Float4(b) => Arc::new(b.finish()),
            Conv::Float8(b) => Arc::new(b.finish()),
            Conv::Decimal { b, .. } => Arc::new(b.finish()),
            Conv::Date(b) => Arc::new(b.finish()),
            Conv::Time(b) => Arc::new(b.finish()),
            Conv::Timestamp { b, .. } => Arc::new(b.finish()),
            Conv::Interval(b) => Arc::new(b.finish()),
            Conv::Bytea(b) => Arc::new(b.finish()),
            Conv::Text(b, _) => Arc::new(b.finish()),
        }
    }

    /// Appends one non-NULL value. On `Err` nothing was appended (a text value may be partly
    /// written: the caller ends it with `append_null`).
    fn push(&mut self, raw: &[u8]) -> Result<Option<Note>, Malformed> {
        match self {
            Conv::Bool(b) => b.append_value(fixed::<1>(raw)?[0] != 0),
            Conv::Int2(b) => b.append_value(i16::from_be_bytes(fixed(raw)?)),
            Conv::Int4(b) => b.append_value(i32::from_be_bytes(fixed(raw)?)),
            Conv::Int8(b) => b.append_value(i64::from_be_bytes(fixed(raw)?)),
            Conv::Oid(b) => b.append_value(u32::from_be_bytes(fixed(raw)?).into()),
            Conv::Float4(b) => b.append_value(f32::from_be_bytes(fixed(raw)?)),
            Conv::Float8(b) => b.append_value(f64::from_be_bytes(fixed(raw)?)),
            Conv::Decimal {
                b,
                precision,
                scale,
            } => {
                let note = match numeric(raw)? {
                    Numeric::Finite(n) => {
                        b.append_value(n.to_i128(*precision, *scale)?);
                        return Ok(None);
                    }
                    Numeric::NaN => Note::NaN,
                    Numeric::Infinity => Note::Infinity,
                    Numeric::NegInfinity => Note::NegInfinity,
                };
                b.append_null();
                return Ok(Some(note));
            }
            Conv::Date(b) => match i32::from_be_bytes(fixed(raw)?) {
                i32::MAX => return Ok(null(b, Note::Infinity)),
                i32::MIN => return Ok(null(b, Note::NegInfinity)),
                days => b.append_value(
                    days.checked_add(EPOCH_DAYS)
                        .ok_or(Malformed("date out of range"))?,
                ),
            },
            Conv::Time(b) => {
                let micros = i64::from_be_bytes(fixed(raw)?);
                if !(0..=DAY_MICROS).contains(&micros) {
                    return Err(Malformed("time of day out of range"));
                }
                b.append_value(micros);
            }
            Conv::Timestamp { b, .. } => match i64::from_be_bytes(fixed(raw)?) {
                i64::MAX => return Ok(null(b, Note::Infinity)),
                i64::MIN => return Ok(null(b, Note::NegInfinity)),
                micros => b.append_value(
                    micros
                        .checked_add(EPOCH_MICROS)
                        .ok_or(Malformed("timestamp out of range"))?,
                ),
            },
            Conv::Interval(b) => {
                let (micros, days, months) = interval(raw)?;
                match (micros, days, months) {
                    // PostgreSQL 17's infinite intervals.
                    (i64::MAX, i32::MAX, i32::MAX) => return Ok(null(b, Note::Infinity)),
                    (i64::MIN, i32::MIN, i32::MIN) => return Ok(null(b, Note::NegInfinity)),
                    _ => match micros.checked_mul(1000) {
                        Some(nanos) => {
                            b.append_value(IntervalMonthDayNano::new(months, days, nanos))
                        }
                        None => return Ok(null(b, Note::OutOfRange)),
                    },
                }
            }
            Conv::Bytea(b) => b.append_value(raw),
            Conv::Text(b, form) => return push_text(b, *form, raw),
        }
        Ok(None)
    }
}

/// The Decimal128 converter for a `numeric(p,s)` column, if Arrow can hold it exactly.
fn decimal(typmod: i32) -> Option<Conv> {
    if typmod < 4 {
        return None;
    }
    let (p, s) = numeric_typmod(typmod);
    // Scales above the precision (and PostgreSQL 15's negative scales) stay text.
    let precision = u8::try_from(p).ok().filter(|p| (1..=38).contains(p))?;
    let scale = u8::try_from(s).ok().filter(|s| *s <= precision)?;
    let b = Decimal128Builder::with_capacity(CAPACITY)
        .with_precision_and_scale(precision, scale as i8)
        .ok()?;
    Some(Conv::Decimal {
        b,
        precision,
        scale,
    })
}

fn null<B: NullAppend>(b: &mut B, note: Note) -> Option<Note> {
    b.append_null();
    Some(note)
}

/// `append_null` of the primitive builders, for `null`.
trait NullAppend {
    fn append_null(&mut self);
}

impl<T: arrow::datatypes::ArrowPrimitiveType> NullAppend for arrow::array::PrimitiveBuilder<T> {
    fn append_null(&mut self) {
        arrow::array::PrimitiveBuilder::append_null(self)
    }
}

fn push_text(b: &mut StringBuilder, form: TextForm, raw: &[u8]) -> Result<Option<Note>, Malformed> {
    let mut note = None;
    match form {
        TextForm::Utf8 => return Ok(push_utf8(b, raw)),
        TextForm::Jsonb => return Ok(push_utf8(b, jsonb(raw)?)),
        TextForm::Char => b.write_str(char_text(fixed::<1>(raw)?[0], &mut [0; 4]))?,
        TextForm::Numeric => write_numeric(b, &numeric(raw)?)?,
        TextForm::TimeTz => write_timetz(b, raw)?,
        TextForm::Uuid => write_uuid(b, fixed(raw)?)?,
        TextForm::Inet => write_inet(b, raw, false)?,
        TextForm::Cidr => write_inet(b, raw, true)?,
        TextForm::Array(elem) => {
            if write_array(b, elem, raw)? {
                note = Some(Note::Hex);
            }
        }
        TextForm::Unknown => match plain_text(raw) {
            Some(s) => b.write_str(s)?,
            None => {
                write_hex(b, raw)?;
                note = Some(Note::Hex);
            }
        },
    }
    // Ends the value written above.
    b.append_value("");
    Ok(note)
}

fn push_utf8(b: &mut StringBuilder, raw: &[u8]) -> Option<Note> {
    match std::str::from_utf8(raw) {
        Ok(s) => {
            b.append_value(s);
            None
        }
        Err(_) => {
            b.append_value(String::from_utf8_lossy(raw));
            Some(Note::BadUtf8)
        }
    }
}
