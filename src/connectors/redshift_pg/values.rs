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
use std::net::{Ipv4Addr, Ipv6Addr};
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
use tokio_postgres::types::{FromSql, Kind, Type};

/// Field metadata key holding the column's PostgreSQL type (`numeric(10,2)`, `int4[]`, …).
pub const PG_TYPE: &str = "pg_type";

/// PostgreSQL counts days and microseconds from 2000-01-01, Arrow from 1970-01-01.
const EPOCH_DAYS: i32 = 10_957;
const EPOCH_MICROS: i64 = 946_684_800_000_000;
const DAY_MICROS: i64 = 86_400_000_000;
/// Rows the builders are sized for at first; they grow as needed.
const CAPACITY: usize = 1024;
/// PostgreSQL's MAXDIM.
const MAX_DIMS: usize = 6;

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

/// The value types this module decodes; everything else is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Bool,
    Int2,
    Int4,
    Int8,
    /// oid, xid, cid and the reg* types: unsigned 32-bit on the wire.
    Oid,
    Float4,
    Float8,
    Numeric,
    /// Text on the wire: text, varchar, bpchar, name, xml, citext, enums, Redshift's SUPER.
    Text,
    /// The one-byte `"char"`.
    Char,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Json,
    Jsonb,
    Bytea,
    Uuid,
    Inet,
    Cidr,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Scalar(Scalar),
    Array(Scalar),
}

/// Domains nest at most this deep here (a guard, not a PostgreSQL limit).
const MAX_DOMAIN_DEPTH: u8 = 16;

fn shape(ty: &Type, depth: u8) -> Shape {
    match ty.kind() {
        Kind::Domain(base) if depth < MAX_DOMAIN_DEPTH => shape(base, depth + 1),
        Kind::Array(elem) => Shape::Array(scalar(elem, depth)),
        _ => Shape::Scalar(scalar(ty, depth)),
    }
}

fn scalar(ty: &Type, depth: u8) -> Scalar {
    match ty.kind() {
        Kind::Domain(base) if depth < MAX_DOMAIN_DEPTH => scalar(base, depth + 1),
        Kind::Enum(_) => Scalar::Text,
        Kind::Simple | Kind::Pseudo => match ty.oid() {
            16 => Scalar::Bool,
            21 => Scalar::Int2,
            23 => Scalar::Int4,
            20 => Scalar::Int8,
            // oid, regproc, xid, cid, regprocedure, regoper, regoperator, regclass, regtype,
            // regconfig, regdictionary, regnamespace, regrole, regcollation.
            26 | 24 | 28 | 29 | 2202..=2206 | 3734 | 3769 | 4089 | 4096 | 4191 => Scalar::Oid,
            700 => Scalar::Float4,
            701 => Scalar::Float8,
            1700 => Scalar::Numeric,
            // text, varchar, bpchar, name, unknown, xml.
            25 | 1043 | 1042 | 19 | 705 | 142 => Scalar::Text,
            18 => Scalar::Char,
            1082 => Scalar::Date,
            1083 => Scalar::Time,
            1266 => Scalar::TimeTz,
            1114 => Scalar::Timestamp,
            1184 => Scalar::TimestampTz,
            1186 => Scalar::Interval,
            114 => Scalar::Json,
            3802 => Scalar::Jsonb,
            17 => Scalar::Bytea,
            2950 => Scalar::Uuid,
            869 => Scalar::Inet,
            650 => Scalar::Cidr,
            // Extension and Redshift types have no fixed OID: known by name.
            _ => match ty.name() {
                "citext" | "super" => Scalar::Text,
                _ => Scalar::Unknown,
            },
        },
        _ => Scalar::Unknown,
    }
}

/// The type as PostgreSQL's `format_type` would name it (with precision and length).
fn type_label(ty: &Type, typmod: i32, depth: u8) -> String {
    match ty.kind() {
        // An array column's modifier is its elements'.
        Kind::Array(elem) if depth < MAX_DOMAIN_DEPTH => {
            format!("{}[]", type_label(elem, typmod, depth + 1))
        }
        _ => match (ty.oid(), typmod) {
            (1700, 4..) => {
                let (p, s) = numeric_typmod(typmod);
                format!("numeric({p},{s})")
            }
            (1043 | 1042, 4..) => format!("{}({})", ty.name(), typmod - 4),
            _ => ty.name().to_string(),
        },
    }
}

/// (precision, scale) of a numeric type modifier (at least 4).
fn numeric_typmod(typmod: i32) -> (i32, i32) {
    let t = typmod - 4;
    ((t >> 16) & 0xffff, t & 0xffff)
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

/// The JSON text of a jsonb value (after its format version byte).
fn jsonb(raw: &[u8]) -> Result<&[u8], Malformed> {
    match raw.split_first() {
        Some((1, text)) => Ok(text),
        Some(_) => Err(Malformed("unsupported jsonb format version")),
        None => Err(Malformed("empty jsonb value")),
    }
}

/// Text that is safe to show as is: valid UTF-8 without control characters.
fn plain_text(raw: &[u8]) -> Option<&str> {
    std::str::from_utf8(raw)
        .ok()
        .filter(|s| !s.chars().any(char::is_control))
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], Malformed> {
    raw.try_into().map_err(|_| {
        Malformed(match N {
            1 => "expected 1 byte",
            2 => "expected 2 bytes",
            4 => "expected 4 bytes",
            8 => "expected 8 bytes",
            12 => "expected 12 bytes",
            16 => "expected 16 bytes",
            _ => "unexpected length",
        })
    })
}

/// Sequential big-endian reads with bounds checks.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or(Malformed("value ends early"))?;
        self.0 = rest;
        Ok(head)
    }

    fn i32(&mut self) -> Result<i32, Malformed> {
        Ok(i32::from_be_bytes(fixed(self.take(4)?)?))
    }

    fn i64(&mut self) -> Result<i64, Malformed> {
        Ok(i64::from_be_bytes(fixed(self.take(8)?)?))
    }

    fn end(&self) -> Result<(), Malformed> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Malformed("unexpected bytes after the value"))
        }
    }
}

/// An interval's (microseconds, days, months).
fn interval(raw: &[u8]) -> Result<(i64, i32, i32), Malformed> {
    let mut r = Reader(raw);
    let v = (r.i64()?, r.i32()?, r.i32()?);
    r.end()?;
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// numeric

enum Numeric<'a> {
    Finite(Digits<'a>),
    NaN,
    Infinity,
    NegInfinity,
}

/// A finite numeric: base-10000 digits, most significant first; the first one is worth
/// 10000^weight; `dscale` decimal places are shown.
struct Digits<'a> {
    neg: bool,
    weight: i16,
    dscale: u16,
    /// Big-endian u16s, each checked to be at most 9999.
    digits: &'a [[u8; 2]],
}

fn numeric(raw: &[u8]) -> Result<Numeric<'_>, Malformed> {
    let (head, digits) = raw
        .split_at_checked(8)
        .ok_or(Malformed("shorter than the 8-byte numeric header"))?;
    let [n0, n1, w0, w1, s0, s1, d0, d1] = fixed::<8>(head)?;
    let ndigits = i16::from_be_bytes([n0, n1]);
    let (digits, rest) = digits.as_chunks::<2>();
    if usize::try_from(ndigits).ok() != Some(digits.len()) || !rest.is_empty() {
        return Err(Malformed("digit count does not match the length"));
    }
    if digits.iter().any(|d| u16::from_be_bytes(*d) > 9999) {
        return Err(Malformed("numeric digit out of range"));
    }
    let neg = match u16::from_be_bytes([s0, s1]) {
        0x0000 => false,
        0x4000 => true,
        0xC000 => return Ok(Numeric::NaN),
        0xD000 => return Ok(Numeric::Infinity),
        0xF000 => return Ok(Numeric::NegInfinity),
        _ => return Err(Malformed("invalid numeric sign")),
    };
    Ok(Numeric::Finite(Digits {
        neg,
        weight: i16::from_be_bytes([w0, w1]),
        dscale: u16::from_be_bytes([d0, d1]),
        digits,
    }))
}

const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

impl Digits<'_> {
    /// The `i`th base-10000 digit; zero outside the stored ones.
    fn digit(&self, i: i32) -> u16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.digits.get(i))
            .map_or(0, |d| u16::from_be_bytes(*d))
    }

    /// The value times 10^scale, rounded half away from zero like PostgreSQL, if it has at
    /// most `precision` digits.
    fn to_i128(&self, precision: u8, scale: u8) -> Result<i128, Malformed> {
        const TOO_BIG: Malformed = Malformed("value exceeds the column's precision");
        let mut acc: i128 = 0;
        let mut round_up = false;
        for (i, d) in self.digits.iter().enumerate() {
            let d = i128::from(u16::from_be_bytes(*d));
            if d == 0 {
                continue;
            }
            let i = i32::try_from(i).map_err(|_| TOO_BIG)?;
            // The power of ten of this digit group's last decimal digit, at the target scale.
            let exp = 4 * (i32::from(self.weight) - i) + i32::from(scale);
            if exp >= 0 {
                let pow = usize::try_from(exp)
                    .ok()
                    .and_then(|e| POW10.get(e))
                    .ok_or(TOO_BIG)?;
                acc = d
                    .checked_mul(*pow)
                    .and_then(|v| acc.checked_add(v))
                    .ok_or(TOO_BIG)?;
            } else {
                // Part of this group may fall below the scale: (what is kept, the first
                // dropped digit, which rounds).
                let (kept, dropped) = match exp {
                    -1 => (d / 10, d % 10),
                    -2 => (d / 100, d / 10 % 10),
                    -3 => (d / 1000, d / 100 % 10),
                    -4 => (0, d / 1000),
                    _ => (0, 0),
                };
                acc = acc.checked_add(kept).ok_or(TOO_BIG)?;
                round_up |= dropped >= 5;
            }
        }
        if round_up {
            acc = acc.checked_add(1).ok_or(TOO_BIG)?;
        }
        if POW10
            .get(usize::from(precision))
            .is_none_or(|limit| acc >= *limit)
        {
            return Err(TOO_BIG);
        }
        Ok(if self.neg { -acc } else { acc })
    }
}

/// Four decimal digits of a base-10000 digit.
fn four(d: u16) -> [u8; 4] {
    let d = d.min(9999);
    [
        b'0' + (d / 1000) as u8,
        b'0' + (d / 100 % 10) as u8,
        b'0' + (d / 10 % 10) as u8,
        b'0' + (d % 10) as u8,
    ]
}

/// The numeric as PostgreSQL prints it: `dscale` decimal places, `NaN`, `Infinity`.
fn write_numeric<W: fmt::Write>(out: &mut W, n: &Numeric) -> Result<(), Malformed> {
    let n = match n {
        Numeric::Finite(n) => n,
        Numeric::NaN => return out.write_str("NaN").map_err(Malformed::from),
        Numeric::Infinity => return out.write_str("Infinity").map_err(Malformed::from),
        Numeric::NegInfinity => return out.write_str("-Infinity").map_err(Malformed::from),
    };
    if n.neg {
        out.write_char('-')?;
    }
    let weight = i32::from(n.weight);
    if weight < 0 {
        out.write_char('0')?;
    } else {
        write!(out, "{}", n.digit(0))?;
        for i in 1..=weight {
            out.write_str(ascii(&four(n.digit(i)))?)?;
        }
    }
    if n.dscale > 0 {
        out.write_char('.')?;
        let mut left = usize::from(n.dscale);
        let mut i = weight + 1;
        while left > 0 {
            let digits = four(n.digit(i));
            let take = left.min(4);
            out.write_str(ascii(digits.get(..take).unwrap_or_default())?)?;
            left -= take;
            i += 1;
        }
    }
    Ok(())
}

fn ascii(b: &[u8]) -> Result<&str, Malformed> {
    std::str::from_utf8(b).map_err(|_| Malformed("cannot format the value"))
}

// ---------------------------------------------------------------------------------------------
// Text forms of other types

/// `"char"` as PostgreSQL prints it: the byte, nothing for 0, `\ooo` for non-ASCII.
fn char_text(c: u8, buf: &mut [u8; 4]) -> &str {
    let len = match c {
        0 => 0,
        1..=127 => {
            buf[0] = c;
            1
        }
        _ => {
            *buf = [b'\\', b'0' + (c >> 6), b'0' + (c >> 3 & 7), b'0' + (c & 7)];
            4
        }
    };
    buf.get(..len)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or_default()
}

fn write_uuid<W: fmt::Write>(out: &mut W, u: [u8; 16]) -> Result<(), Malformed> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = [0u8; 36];
    let mut at = 0;
    for (i, byte) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s[at] = b'-';
            at += 1;
        }
        s[at] = HEX[usize::from(byte >> 4)];
        s[at + 1] = HEX[usize::from(byte & 0xf)];
        at += 2;
    }
    out.write_str(ascii(&s)?).map_err(Malformed::from)
}

fn write_hex<W: fmt::Write>(out: &mut W, raw: &[u8]) -> Result<(), Malformed> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.write_str("\\x")?;
    let mut buf = [0u8; 64];
    for chunk in raw.chunks(32) {
        for (i, byte) in chunk.iter().enumerate() {
            buf[2 * i] = HEX[usize::from(byte >> 4)];
            buf[2 * i + 1] = HEX[usize::from(byte & 0xf)];
        }
        out.write_str(ascii(buf.get(..chunk.len() * 2).unwrap_or_default())?)?;
    }
    Ok(())
}

/// inet/cidr: family (2 IPv4, 3 IPv6), mask bits, is-cidr flag, address length, address.
fn write_inet<W: fmt::Write>(out: &mut W, raw: &[u8], cidr: bool) -> Result<(), Malformed> {
    let (head, addr) = raw
        .split_at_checked(4)
        .ok_or(Malformed("shorter than the 4-byte inet header"))?;
    let [family, bits, _, len] = fixed::<4>(head)?;
    let max = match (family, len) {
        (2, 4) => 32,
        (3, 16) => 128,
        _ => return Err(Malformed("unknown address family or length")),
    };
    if bits > max {
        return Err(Malformed("netmask longer than the address"));
    }
    if max == 32 {
        write!(out, "{}", Ipv4Addr::from(fixed::<4>(addr)?))?;
    } else {
        write!(out, "{}", Ipv6Addr::from(fixed::<16>(addr)?))?;
    }
    // PostgreSQL leaves out a host address's full mask, but not a network's.
    if cidr || bits != max {
        write!(out, "/{bits}")?;
    }
    Ok(())
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The date part; returns whether it is BC (PostgreSQL writes ` BC` after the whole value).
fn write_ymd<W: fmt::Write>(out: &mut W, days_since_1970: i64) -> Result<bool, Malformed> {
    let (y, m, d) = civil(days_since_1970);
    let (y, bc) = if y <= 0 { (1 - y, true) } else { (y, false) };
    write!(out, "{y:04}-{m:02}-{d:02}")?;
    Ok(bc)
}

fn write_date<W: fmt::Write>(out: &mut W, pg_days: i32) -> Result<(), Malformed> {
    match pg_days {
        i32::MAX => out.write_str("infinity")?,
        i32::MIN => out.write_str("-infinity")?,
        d => {
            if write_ymd(out, i64::from(d) + i64::from(EPOCH_DAYS))? {
                out.write_str(" BC")?;
            }
        }
    }
    Ok(())
}

/// `HH:MM:SS` and a fraction without trailing zeros; `micros` is not negative.
fn write_time<W: fmt::Write>(out: &mut W, micros: i64) -> Result<(), Malformed> {
    let (h, m, s) = (
        micros / 3_600_000_000,
        micros / 60_000_000 % 60,
        micros / 1_000_000 % 60,
    );
    write!(out, "{h:02}:{m:02}:{s:02}")?;
    write_fraction(out, micros % 1_000_000)
}

fn write_fraction<W: fmt::Write>(out: &mut W, micros: i64) -> Result<(), Malformed> {
    if micros == 0 {
        return Ok(());
    }
    let (mut f, mut width) = (micros, 6);
    while f % 10 == 0 {
        f /= 10;
        width -= 1;
    }
    write!(out, ".{f:0width$}").map_err(Malformed::from)
}

fn write_timestamp<W: fmt::Write>(out: &mut W, pg_micros: i64, utc: bool) -> Result<(), Malformed> {
    match pg_micros {
        i64::MAX => return out.write_str("infinity").map_err(Malformed::from),
        i64::MIN => return out.write_str("-infinity").map_err(Malformed::from),
        _ => {}
    }
    let days = pg_micros.div_euclid(DAY_MICROS) + i64::from(EPOCH_DAYS);
    let bc = write_ymd(out, days)?;
    out.write_char(' ')?;
    write_time(out, pg_micros.rem_euclid(DAY_MICROS))?;
    if utc {
        out.write_str("+00:00")?;
    }
    if bc {
        out.write_str(" BC")?;
    }
    Ok(())
}

/// timetz: time of day in microseconds, then the zone's offset in seconds *west* of UTC.
fn write_timetz<W: fmt::Write>(out: &mut W, raw: &[u8]) -> Result<(), Malformed> {
    let mut r = Reader(raw);
    let (micros, west) = (r.i64()?, r.i32()?);
    r.end()?;
    if !(0..=DAY_MICROS).contains(&micros) || west.unsigned_abs() >= 86_400 {
        return Err(Malformed("time or zone out of range"));
    }
    write_time(out, micros)?;
    let sign = if west > 0 { '-' } else { '+' };
    let off = west.unsigned_abs();
    let (h, m, s) = (off / 3600, off / 60 % 60, off % 60);
    write!(out, "{sign}{h:02}")?;
    if m != 0 || s != 0 {
        write!(out, ":{m:02}")?;
    }
    if s != 0 {
        write!(out, ":{s:02}")?;
    }
    Ok(())
}

/// An interval as PostgreSQL's default `postgres` style prints it: `1 year 2 mons 3 days
/// 04:05:06.5`.
fn write_interval<W: fmt::Write>(out: &mut W, raw: &[u8]) -> Result<(), Malformed> {
    let (micros, days, months) = interval(raw)?;
    match (micros, days, months) {
        (i64::MAX, i32::MAX, i32::MAX) => {
            return out.write_str("infinity").map_err(Malformed::from);
        }
        (i64::MIN, i32::MIN, i32::MIN) => {
            return out.write_str("-infinity").map_err(Malformed::from);
        }
        _ => {}
    }
    let mut first = true;
    let mut before_negative = false;
    for (v, unit) in [(months / 12, "year"), (months % 12, "mon"), (days, "day")] {
        if v == 0 {
            continue;
        }
        let sep = if first { "" } else { " " };
        let plus = if before_negative && v > 0 { "+" } else { "" };
        let plural = if v == 1 { "" } else { "s" };
        write!(out, "{sep}{plus}{v} {unit}{plural}")?;
        first = false;
        before_negative = v < 0;
    }
    if first || micros != 0 {
        let sep = if first { "" } else { " " };
        let sign = if micros < 0 {
            "-"
        } else if before_negative {
            "+"
        } else {
            ""
        };
        let abs = micros.unsigned_abs();
        let (h, m, s) = (
            abs / 3_600_000_000,
            abs / 60_000_000 % 60,
            abs / 1_000_000 % 60,
        );
        write!(out, "{sep}{sign}{h:02}:{m:02}:{s:02}")?;
        write_fraction(out, (abs % 1_000_000) as i64)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Arrays → JSON

/// An array as JSON: nested per dimension, NULL elements as `null`. Returns whether some
/// element of an unknown type was written as hex.
fn write_array<W: fmt::Write>(out: &mut W, elem: Scalar, raw: &[u8]) -> Result<bool, Malformed> {
    let mut r = Reader(raw);
    let ndim = r.i32()?;
    let _has_nulls = r.i32()?;
    let _elem_oid = r.i32()?;
    let ndim = usize::try_from(ndim)
        .ok()
        .filter(|n| *n <= MAX_DIMS)
        .ok_or(Malformed("bad number of array dimensions"))?;
    let mut dims = [0usize; MAX_DIMS];
    let mut count = 1usize;
    for d in dims.iter_mut().take(ndim) {
        let (len, _lower_bound) = (r.i32()?, r.i32()?);
        *d = usize::try_from(len).map_err(|_| Malformed("negative array dimension"))?;
        count = count
            .checked_mul(*d)
            .ok_or(Malformed("too many array elements"))?;
    }
    if ndim == 0 || count == 0 {
        r.end()?;
        out.write_str("[]")?;
        return Ok(false);
    }
    // Each element takes at least its 4-byte length: refuse counts the bytes cannot hold
    // before looping over them.
    if count > r.0.len() / 4 {
        return Err(Malformed("more array elements than bytes"));
    }
    let mut hex = false;
    write_dims(
        out,
        elem,
        dims.get(..ndim).unwrap_or_default(),
        &mut r,
        &mut hex,
    )?;
    r.end()?;
    Ok(hex)
}

fn write_dims<W: fmt::Write>(
    out: &mut W,
    elem: Scalar,
    dims: &[usize],
    r: &mut Reader,
    hex: &mut bool,
) -> Result<(), Malformed> {
    let Some((&n, inner)) = dims.split_first() else {
        return Ok(());
    };
    out.write_char('[')?;
    for i in 0..n {
        if i > 0 {
            out.write_char(',')?;
        }
        if !inner.is_empty() {
            write_dims(out, elem, inner, r, hex)?;
            continue;
        }
        match r.i32()? {
            -1 => out.write_str("null")?,
            len => {
                let len = usize::try_from(len).map_err(|_| Malformed("bad element length"))?;
                *hex |= write_elem(out, elem, r.take(len)?)?;
            }
        }
    }
    out.write_char(']')?;
    Ok(())
}

/// One array element as JSON: numbers and booleans as themselves, json as embedded JSON,
/// everything else as a string of its PostgreSQL text form. Returns whether hex was used.
fn write_elem<W: fmt::Write>(out: &mut W, elem: Scalar, raw: &[u8]) -> Result<bool, Malformed> {
    match elem {
        Scalar::Bool => out.write_str(if fixed::<1>(raw)?[0] != 0 {
            "true"
        } else {
            "false"
        })?,
        Scalar::Int2 => write!(out, "{}", i16::from_be_bytes(fixed(raw)?))?,
        Scalar::Int4 => write!(out, "{}", i32::from_be_bytes(fixed(raw)?))?,
        Scalar::Int8 => write!(out, "{}", i64::from_be_bytes(fixed(raw)?))?,
        Scalar::Oid => write!(out, "{}", u32::from_be_bytes(fixed(raw)?))?,
        Scalar::Float4 => {
            let v = f32::from_be_bytes(fixed(raw)?);
            write_float(out, v.is_finite(), v.is_sign_negative(), v.is_nan(), &v)?
        }
        Scalar::Float8 => {
            let v = f64::from_be_bytes(fixed(raw)?);
            write_float(out, v.is_finite(), v.is_sign_negative(), v.is_nan(), &v)?
        }
        Scalar::Numeric => {
            let n = numeric(raw)?;
            let quoted = !matches!(n, Numeric::Finite(_));
            if quoted {
                out.write_char('"')?;
            }
            write_numeric(out, &n)?;
            if quoted {
                out.write_char('"')?;
            }
        }
        Scalar::Json => out.write_str(&String::from_utf8_lossy(raw))?,
        Scalar::Jsonb => out.write_str(&String::from_utf8_lossy(jsonb(raw)?))?,
        Scalar::Text => write_json_str(out, &String::from_utf8_lossy(raw))?,
        Scalar::Char => write_json_str(out, char_text(fixed::<1>(raw)?[0], &mut [0; 4]))?,
        Scalar::Unknown => match plain_text(raw) {
            Some(s) => write_json_str(out, s)?,
            None => {
                quoted_hex(out, raw)?;
                return Ok(true);
            }
        },
        Scalar::Bytea => quoted_hex(out, raw)?,
        // The rest print without characters JSON would escape.
        _ => {
            out.write_char('"')?;
            match elem {
                Scalar::Date => write_date(out, i32::from_be_bytes(fixed(raw)?))?,
                Scalar::Time => {
                    let micros = i64::from_be_bytes(fixed(raw)?);
                    if !(0..=DAY_MICROS).contains(&micros) {
                        return Err(Malformed("time of day out of range"));
                    }
                    write_time(out, micros)?
                }
                Scalar::TimeTz => write_timetz(out, raw)?,
                Scalar::Timestamp => write_timestamp(out, i64::from_be_bytes(fixed(raw)?), false)?,
                Scalar::TimestampTz => write_timestamp(out, i64::from_be_bytes(fixed(raw)?), true)?,
                Scalar::Interval => write_interval(out, raw)?,
                Scalar::Uuid => write_uuid(out, fixed(raw)?)?,
                Scalar::Inet => write_inet(out, raw, false)?,
                Scalar::Cidr => write_inet(out, raw, true)?,
                _ => return Err(Malformed("unsupported array element type")),
            }
            out.write_char('"')?;
        }
    }
    Ok(false)
}

/// A float as a JSON number, or the word PostgreSQL prints as a JSON string.
fn write_float<W: fmt::Write>(
    out: &mut W,
    finite: bool,
    negative: bool,
    nan: bool,
    v: &dyn fmt::Display,
) -> Result<(), Malformed> {
    let word = match (finite, nan, negative) {
        (true, _, _) => {
            write!(out, "{v}")?;
            return Ok(());
        }
        (_, true, _) => "\"NaN\"",
        (_, _, false) => "\"Infinity\"",
        (_, _, true) => "\"-Infinity\"",
    };
    out.write_str(word)?;
    Ok(())
}

/// `"\\x0102"`: bytea's text form as a JSON string.
fn quoted_hex<W: fmt::Write>(out: &mut W, raw: &[u8]) -> Result<(), Malformed> {
    out.write_str("\"\\")?;
    write_hex(out, raw)?;
    out.write_char('"').map_err(Malformed::from)
}

fn write_json_str<W: fmt::Write>(out: &mut W, s: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            // Other control characters (and DEL, for the terminal's sake) as \u escapes.
            0..=0x1f | 0x7f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so a character boundary.
        out.write_str(s.get(start..i).unwrap_or_default())?;
        if escaped.is_empty() {
            write!(out, "\\u{b:04x}")?;
        } else {
            out.write_str(escaped)?;
        }
        start = i + 1;
    }
    out.write_str(s.get(start..).unwrap_or_default())?;
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::{Duration, SystemTime};

    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{
        Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
        IntervalMonthDayNanoType, Time64MicrosecondType, TimestampMicrosecondType,
    };
    use bytes::BytesMut;
    use tokio_postgres::types::ToSql;

    use super::*;

    fn col(name: &str, type_: Type) -> PgColumn {
        col_mod(name, type_, -1)
    }

    fn col_mod(name: &str, type_: Type, type_modifier: i32) -> PgColumn {
        PgColumn {
            name: name.into(),
            type_,
            type_modifier,
        }
    }

    fn numeric_mod(precision: i32, scale: i32) -> i32 {
        ((precision << 16) | scale) + 4
    }

    fn enc<T: ToSql>(v: T, ty: &Type) -> Vec<u8> {
        let mut b = BytesMut::new();
        v.to_sql(ty, &mut b).expect("encodes");
        b.to_vec()
    }

    fn be(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    /// The binary form PostgreSQL's `numeric_send` gives the decimal text `s`.
    fn enc_numeric(s: &str) -> Vec<u8> {
        let special = |sign: u16| {
            be(&[
                &0i16.to_be_bytes(),
                &0i16.to_be_bytes(),
                &sign.to_be_bytes(),
                &0u16.to_be_bytes(),
            ])
        };
        match s {
            "NaN" => return special(0xC000),
            "Infinity" => return special(0xD000),
            "-Infinity" => return special(0xF000),
            _ => {}
        }
        let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let int = int.trim_start_matches('0');
        let dscale = frac.len() as u16;
        let int_pad = (4 - int.len() % 4) % 4;
        let frac_pad = (4 - frac.len() % 4) % 4;
        let all = format!("{}{int}{frac}{}", "0".repeat(int_pad), "0".repeat(frac_pad));
        let mut groups: Vec<i16> = all
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap().parse().unwrap())
            .collect();
        let mut weight = ((int.len() + int_pad) / 4) as i16 - 1;
        while groups.first() == Some(&0) {
            groups.remove(0);
            weight -= 1;
        }
        while groups.last() == Some(&0) {
            groups.pop();
        }
        if groups.is_empty() {
            weight = 0;
        }
        let sign: u16 = if neg && !groups.is_empty() { 0x4000 } else { 0 };
        let mut out = be(&[
            &(groups.len() as i16).to_be_bytes(),
            &weight.to_be_bytes(),
            &sign.to_be_bytes(),
            &dscale.to_be_bytes(),
        ]);
        for g in groups {
            out.extend_from_slice(&g.to_be_bytes());
        }
        out
    }

    /// A binary array: `dims` lengths (lower bounds 1), elements in row-major order.
    fn enc_array(elem_oid: u32, dims: &[i32], elems: &[Option<Vec<u8>>]) -> Vec<u8> {
        let mut out = be(&[
            &(dims.len() as i32).to_be_bytes(),
            &i32::from(elems.iter().any(Option::is_none)).to_be_bytes(),
            &elem_oid.to_be_bytes(),
        ]);
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
            out.extend_from_slice(&1i32.to_be_bytes());
        }
        for e in elems {
            match e {
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    out.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    out.extend_from_slice(v);
                }
            }
        }
        out
    }

    fn enc_interval(micros: i64, days: i32, months: i32) -> Vec<u8> {
        be(&[
            &micros.to_be_bytes(),
            &days.to_be_bytes(),
            &months.to_be_bytes(),
        ])
    }

    /// 2024-01-31 in PostgreSQL's days since 2000-01-01.
    const JAN_31_2024: i32 = 19_753 - 10_957;
    /// 2024-01-31 12:00:00 UTC.
    const NOON_UNIX_SECS: u64 = 1_706_702_400;

    /// One column, one row per value.
    fn column(c: PgColumn, values: &[Option<Vec<u8>>]) -> (RecordBatch, Vec<String>) {
        let mut conv = RowsToArrow::new(vec![c]);
        for v in values {
            conv.push_row([v.as_deref()]).expect("converts");
        }
        let batch = conv.finish();
        (batch, conv.take_notes())
    }

    fn strings(batch: &RecordBatch) -> Vec<Option<String>> {
        batch
            .column(0)
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    fn some(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn pg_type(batch: &RecordBatch, i: usize) -> &str {
        &batch.schema_ref().field(i).metadata()[PG_TYPE]
    }

    #[test]
    fn fixed_width_scalars_become_typed_columns() {
        let cols = vec![
            col("b", Type::BOOL),
            col("s", Type::INT2),
            col("i", Type::INT4),
            col("l", Type::INT8),
            col("o", Type::OID),
            col("f", Type::FLOAT4),
            col("d", Type::FLOAT8),
        ];
        let mut conv = RowsToArrow::new(cols);
        let row = [
            enc(true, &Type::BOOL),
            enc(-7i16, &Type::INT2),
            enc(i32::MIN, &Type::INT4),
            enc(i64::MAX, &Type::INT8),
            enc(4_000_000_000u32, &Type::OID),
            enc(1.5f32, &Type::FLOAT4),
            enc(-0.1f64, &Type::FLOAT8),
        ];
        conv.push_row(row.iter().map(|v| Some(v.as_slice())))
            .unwrap();
        conv.push_row([None; 7]).unwrap();
        assert_eq!(conv.len(), 2);
        assert_eq!(conv.buffered_bytes(), 1 + 2 + 4 + 8 + 4 + 4 + 8);
        let batch = conv.finish();
        let types: Vec<DataType> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types,
            [
                DataType::Boolean,
                DataType::Int16,
                DataType::Int32,
                DataType::Int64,
                DataType::Int64,
                DataType::Float32,
                DataType::Float64
            ]
        );
        assert!(batch.schema().fields().iter().all(|f| f.is_nullable()));
        assert_eq!(batch.schema().field(2).name(), "i");
        assert_eq!(pg_type(&batch, 2), "int4");
        assert_eq!(pg_type(&batch, 4), "oid");
        assert!(batch.column(0).as_boolean().value(0));
        assert_eq!(batch.column(1).as_primitive::<Int16Type>().value(0), -7);
        assert_eq!(
            batch.column(2).as_primitive::<Int32Type>().value(0),
            i32::MIN
        );
        assert_eq!(
            batch.column(3).as_primitive::<Int64Type>().value(0),
            i64::MAX
        );
        assert_eq!(
            batch.column(4).as_primitive::<Int64Type>().value(0),
            4_000_000_000
        );
        assert_eq!(batch.column(5).as_primitive::<Float32Type>().value(0), 1.5);
        assert_eq!(batch.column(6).as_primitive::<Float64Type>().value(0), -0.1);
        for c in batch.columns() {
            assert_eq!(c.null_count(), 1, "{c:?}");
            assert!(c.is_null(1));
        }
        assert!(conv.take_notes().is_empty());
    }

    #[test]
    fn constrained_numerics_are_exact_decimals() {
        let cases: &[(i32, i32, &str, i128)] = &[
            (10, 2, "1.50", 150),
            (10, 2, "-0.01", -1),
            (10, 2, "0", 0),
            (10, 2, "12345678.90", 1_234_567_890),
            (10, 4, "-0.0001", -1),
            (
                38,
                0,
                "99999999999999999999999999999999999999",
                99_999_999_999_999_999_999_999_999_999_999_999_999,
            ),
            (
                38,
                0,
                "-12345678901234567890123456789012345678",
                -12_345_678_901_234_567_890_123_456_789_012_345_678,
            ),
            (
                38,
                8,
                "123456789012345678901234567890.12345678",
                12_345_678_901_234_567_890_123_456_789_012_345_678,
            ),
            (5, 5, "0.12345", 12_345),
            (12, 0, "100000000", 100_000_000),
            // More decimal places than the column: rounded half away from zero, like PostgreSQL.
            (10, 2, "1.005", 101),
            (10, 2, "-1.005", -101),
            (10, 2, "1.00499999", 100),
        ];
        for &(p, s, text, want) in cases {
            let (batch, notes) = column(
                col_mod("n", Type::NUMERIC, numeric_mod(p, s)),
                &[Some(enc_numeric(text)), None],
            );
            assert_eq!(
                batch.schema().field(0).data_type(),
                &DataType::Decimal128(p as u8, s as i8),
                "{text}"
            );
            assert_eq!(pg_type(&batch, 0), format!("numeric({p},{s})"));
            let a = batch.column(0).as_primitive::<Decimal128Type>();
            assert_eq!(a.value(0), want, "{text} as numeric({p},{s})");
            assert!(a.is_null(1));
            assert!(notes.is_empty());
        }
    }

    #[test]
    fn a_numeric_beyond_its_precision_is_an_error() {
        let mut conv = RowsToArrow::new(vec![col_mod("n", Type::NUMERIC, numeric_mod(3, 1))]);
        let raw = enc_numeric("123.4");
        let e = conv.push_row([Some(raw.as_slice())]).unwrap_err();
        assert!(e.0.contains("column `n` (numeric(3,1))"), "{e}");
        assert!(e.0.contains("precision"), "{e}");
    }

    #[test]
    fn unconstrained_numerics_are_exact_text() {
        let texts = [
            "1.50",
            "-0.0001",
            "0.00000000000000000001",
            "123456789012345678901234567890.12345678",
            "0",
            "0.00",
            "10000",
            "-12.3400",
            "99999999999999999999999999999999999999999999.5",
            "NaN",
            "Infinity",
            "-Infinity",
        ];
        let mut values: Vec<Option<Vec<u8>>> = texts.iter().map(|t| Some(enc_numeric(t))).collect();
        values.push(None);
        for typmod in [-1, numeric_mod(50, 10)] {
            let (batch, notes) = column(col_mod("n", Type::NUMERIC, typmod), &values);
            assert_eq!(batch.schema().field(0).data_type(), &DataType::Utf8);
            let mut want: Vec<Option<String>> = texts.iter().map(|t| some(t)).collect();
            want.push(None);
            assert_eq!(strings(&batch), want);
            assert!(notes.is_empty());
        }
        let (batch, _) = column(col_mod("n", Type::NUMERIC, numeric_mod(50, 10)), &[]);
        assert_eq!(pg_type(&batch, 0), "numeric(50,10)");
        let (batch, _) = column(col("n", Type::NUMERIC), &[]);
        assert_eq!(pg_type(&batch, 0), "numeric");
    }

    #[test]
    fn nan_and_infinity_in_a_decimal_column_are_null_with_one_note_each() {
        let v = |t| Some(enc_numeric(t));
        let mut conv = RowsToArrow::new(vec![col_mod("n", Type::NUMERIC, numeric_mod(10, 2))]);
        for raw in [v("NaN"), v("1.25"), v("NaN"), v("Infinity"), v("-Infinity")] {
            conv.push_row([raw.as_deref()]).unwrap();
        }
        assert_eq!(
            conv.take_notes(),
            [
                "column `n`: NaN shown as NULL (numeric(10,2) has no NaN in Arrow)",
                "column `n`: Infinity shown as NULL (numeric(10,2) has no Infinity in Arrow)",
                "column `n`: -Infinity shown as NULL (numeric(10,2) has no -Infinity in Arrow)",
            ]
        );
        assert!(conv.take_notes().is_empty(), "drained");
        let batch = conv.finish();
        let a = batch.column(0).as_primitive::<Decimal128Type>();
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            [None, Some(125), None, None, None]
        );
        // Reported once, not again for later batches.
        conv.push_row([v("NaN").as_deref()]).unwrap();
        assert!(conv.take_notes().is_empty());
    }

    #[test]
    fn text_like_types_are_utf8() {
        let citext = Type::new("citext".into(), 91_000, Kind::Simple, "public".into());
        let super_ = Type::new("super".into(), 4000, Kind::Simple, "pg_catalog".into());
        let mood = Type::new(
            "mood".into(),
            91_001,
            Kind::Enum(vec!["happy".into()]),
            "public".into(),
        );
        let cases: Vec<(PgColumn, Vec<u8>, &str, &str)> = vec![
            (
                col("t", Type::TEXT),
                enc("héllo", &Type::TEXT),
                "héllo",
                "text",
            ),
            (
                col_mod("v", Type::VARCHAR, 24),
                enc("abc", &Type::VARCHAR),
                "abc",
                "varchar(20)",
            ),
            (
                col_mod("c", Type::BPCHAR, 9),
                enc("ab   ", &Type::BPCHAR),
                "ab   ",
                "bpchar(5)",
            ),
            (
                col("n", Type::NAME),
                enc("pg_class", &Type::NAME),
                "pg_class",
                "name",
            ),
            (col("u", Type::UNKNOWN), b"lit".to_vec(), "lit", "unknown"),
            (col("x", Type::XML), b"<a/>".to_vec(), "<a/>", "xml"),
            (col("ci", citext), b"MiXeD".to_vec(), "MiXeD", "citext"),
            (col("m", mood), b"happy".to_vec(), "happy", "mood"),
            (
                col("ch", Type::CHAR),
                enc(b'a' as i8, &Type::CHAR),
                "a",
                "char",
            ),
            (col("ch", Type::CHAR), vec![0xE9], "\\351", "char"),
            (col("ch", Type::CHAR), vec![0], "", "char"),
            (
                col("j", Type::JSON),
                br#"{"a": [1, 2]}"#.to_vec(),
                r#"{"a": [1, 2]}"#,
                "json",
            ),
            (
                col("jb", Type::JSONB),
                [&[1u8][..], br#"{"a": 1}"#].concat(),
                r#"{"a": 1}"#,
                "jsonb",
            ),
            (
                col("s", super_),
                br#"{"k":[1,"x"]}"#.to_vec(),
                r#"{"k":[1,"x"]}"#,
                "super",
            ),
        ];
        for (c, raw, want, ty) in cases {
            let (batch, notes) = column(c, &[Some(raw), None]);
            assert_eq!(batch.schema().field(0).data_type(), &DataType::Utf8, "{ty}");
            assert_eq!(pg_type(&batch, 0), ty);
            assert_eq!(strings(&batch), [some(want), None], "{ty}");
            assert!(notes.is_empty(), "{ty}: {notes:?}");
        }
    }

    #[test]
    fn invalid_utf8_text_is_replaced_with_a_note() {
        let (batch, notes) = column(col("t", Type::TEXT), &[Some(b"a\xffb".to_vec())]);
        assert_eq!(strings(&batch), [some("a\u{fffd}b")]);
        assert_eq!(notes, ["column `t`: invalid UTF-8 shown as U+FFFD"]);
    }

    #[test]
    fn domains_are_their_base_type() {
        let posint = Type::new(
            "posint".into(),
            91_002,
            Kind::Domain(Type::INT4),
            "public".into(),
        );
        let (batch, _) = column(col("p", posint.clone()), &[Some(enc(5i32, &Type::INT4))]);
        assert_eq!(batch.schema().field(0).data_type(), &DataType::Int32);
        assert_eq!(pg_type(&batch, 0), "posint");
        assert_eq!(batch.column(0).as_primitive::<Int32Type>().value(0), 5);

        // A domain over a domain over numeric (unconstrained): exact text.
        let money = Type::new(
            "amount".into(),
            91_003,
            Kind::Domain(Type::NUMERIC),
            "public".into(),
        );
        let cash = Type::new("cash".into(), 91_004, Kind::Domain(money), "public".into());
        let (batch, _) = column(col("c", cash), &[Some(enc_numeric("-2.50"))]);
        assert_eq!(strings(&batch), [some("-2.50")]);

        // A domain over an array, and an array of a domain.
        let ints = Type::new(
            "ints".into(),
            91_005,
            Kind::Domain(Type::INT4_ARRAY),
            "public".into(),
        );
        let raw = enc_array(23, &[2], &[Some(enc(1i32, &Type::INT4)), None]);
        let (batch, _) = column(col("a", ints), &[Some(raw.clone())]);
        assert_eq!(strings(&batch), [some("[1,null]")]);
        let posints = Type::new(
            "_posint".into(),
            91_006,
            Kind::Array(posint),
            "public".into(),
        );
        let (batch, _) = column(col("a", posints), &[Some(raw)]);
        assert_eq!(strings(&batch), [some("[1,null]")]);
        assert_eq!(pg_type(&batch, 0), "posint[]");
    }

    #[test]
    fn dates_are_date32_and_infinity_is_null_with_a_note() {
        let d = |days: i32| Some(days.to_be_bytes().to_vec());
        let (batch, notes) = column(
            col("d", Type::DATE),
            &[
                d(JAN_31_2024),
                d(-1),
                d(i32::MAX),
                d(i32::MIN),
                d(i32::MAX),
                None,
            ],
        );
        assert_eq!(batch.schema().field(0).data_type(), &DataType::Date32);
        let a = batch.column(0).as_primitive::<Date32Type>();
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            [Some(19_753), Some(10_956), None, None, None, None]
        );
        assert_eq!(
            notes,
            [
                "column `d`: infinity shown as NULL (date has no infinity in Arrow)",
                "column `d`: -infinity shown as NULL (date has no -infinity in Arrow)",
            ]
        );
    }

    #[test]
    fn timestamps_are_microseconds_since_1970() {
        let noon = SystemTime::UNIX_EPOCH
            + Duration::from_secs(NOON_UNIX_SECS)
            + Duration::from_micros(250_000);
        let want = NOON_UNIX_SECS as i64 * 1_000_000 + 250_000;
        let inf = Some(i64::MAX.to_be_bytes().to_vec());
        let neg_inf = Some(i64::MIN.to_be_bytes().to_vec());
        for (ty, tz, name) in [
            (Type::TIMESTAMP, None, "timestamp"),
            (Type::TIMESTAMPTZ, Some("+00:00"), "timestamptz"),
        ] {
            let (batch, notes) = column(
                col("ts", ty.clone()),
                &[Some(enc(noon, &ty)), inf.clone(), neg_inf.clone(), None],
            );
            assert_eq!(
                batch.schema().field(0).data_type(),
                &DataType::Timestamp(TimeUnit::Microsecond, tz.map(Into::into))
            );
            assert_eq!(pg_type(&batch, 0), name);
            let a = batch.column(0).as_primitive::<TimestampMicrosecondType>();
            assert_eq!(a.iter().collect::<Vec<_>>(), [Some(want), None, None, None]);
            assert_eq!(
                notes,
                [
                    format!(
                        "column `ts`: infinity shown as NULL ({name} has no infinity in Arrow)"
                    ),
                    format!(
                        "column `ts`: -infinity shown as NULL ({name} has no -infinity in Arrow)"
                    ),
                ]
            );
        }
    }

    #[test]
    fn times_and_intervals() {
        let micros = (13 * 3600 + 45 * 60) * 1_000_000i64;
        let (batch, _) = column(
            col("t", Type::TIME),
            &[Some((micros + 500_000).to_be_bytes().to_vec())],
        );
        assert_eq!(
            batch.schema().field(0).data_type(),
            &DataType::Time64(TimeUnit::Microsecond)
        );
        assert_eq!(
            batch
                .column(0)
                .as_primitive::<Time64MicrosecondType>()
                .value(0),
            micros + 500_000
        );

        let tz = |m: i64, west: i32| Some(be(&[&m.to_be_bytes(), &west.to_be_bytes()]));
        let (batch, _) = column(
            col("tz", Type::TIMETZ),
            &[
                tz(micros, -7200),
                tz(micros + 1, 19_800),
                tz(0, 0),
                tz(micros, -(5 * 3600 + 30 * 60 + 15)),
            ],
        );
        assert_eq!(
            strings(&batch),
            [
                some("13:45:00+02"),
                some("13:45:00.000001-05:30"),
                some("00:00:00+00"),
                some("13:45:00+05:30:15")
            ]
        );

        let time = ((4 * 60 + 5) * 60 + 6) * 1_000_000 + 500_000;
        let (batch, notes) = column(
            col("i", Type::INTERVAL),
            &[
                Some(enc_interval(time, 3, 14)),
                Some(enc_interval(-1, -2, -3)),
                Some(enc_interval(i64::MAX, i32::MAX, i32::MAX)),
                Some(enc_interval(i64::MAX - 1, 0, 0)),
                None,
            ],
        );
        assert_eq!(
            batch.schema().field(0).data_type(),
            &DataType::Interval(IntervalUnit::MonthDayNano)
        );
        let a = batch.column(0).as_primitive::<IntervalMonthDayNanoType>();
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            [
                Some(IntervalMonthDayNano::new(14, 3, time * 1000)),
                Some(IntervalMonthDayNano::new(-3, -2, -1000)),
                None,
                None,
                None
            ]
        );
        assert_eq!(
            notes,
            [
                "column `i`: infinity shown as NULL (interval has no infinity in Arrow)",
                "column `i`: values beyond Arrow's interval range shown as NULL",
            ]
        );
    }

    #[test]
    fn bytea_uuid_and_network_addresses() {
        let (batch, _) = column(
            col("b", Type::BYTEA),
            &[
                Some(enc(&[0u8, 1, 255][..], &Type::BYTEA)),
                Some(vec![]),
                None,
            ],
        );
        assert_eq!(batch.schema().field(0).data_type(), &DataType::Binary);
        let a = batch.column(0).as_binary::<i32>();
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            [Some(&[0u8, 1, 255][..]), Some(&[][..]), None]
        );

        let uuid: Vec<u8> = (0..16u8).map(|i| i * 17).collect();
        let (batch, _) = column(col("u", Type::UUID), &[Some(uuid)]);
        assert_eq!(
            strings(&batch),
            [some("00112233-4455-6677-8899-aabbccddeeff")]
        );

        let ip = |s: &str| Some(enc(s.parse::<IpAddr>().unwrap(), &Type::INET));
        let net = |family: u8, bits: u8, addr: &[u8]| {
            Some(be(&[&[family, bits, 1, addr.len() as u8], addr]))
        };
        let (batch, _) = column(
            col("ip", Type::INET),
            &[
                ip("10.0.0.1"),
                ip("2001:db8::1"),
                ip("::ffff:1.2.3.4"),
                Some(vec![2, 24, 0, 4, 192, 168, 1, 5]),
                net(
                    3,
                    64,
                    &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                ),
            ],
        );
        assert_eq!(
            strings(&batch),
            [
                some("10.0.0.1"),
                some("2001:db8::1"),
                some("::ffff:1.2.3.4"),
                some("192.168.1.5/24"),
                some("2001:db8::1/64")
            ]
        );
        let (batch, _) = column(
            col("net", Type::CIDR),
            &[
                net(2, 8, &[10, 0, 0, 0]),
                net(2, 32, &[10, 1, 2, 3]),
                net(
                    3,
                    32,
                    &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                ),
            ],
        );
        assert_eq!(
            strings(&batch),
            [
                some("10.0.0.0/8"),
                some("10.1.2.3/32"),
                some("2001:db8::/32")
            ]
        );
    }

    #[test]
    fn arrays_become_json() {
        let i4 = |v: i32| Some(enc(v, &Type::INT4));
        let t = |s: &str| Some(enc(s, &Type::TEXT));
        let n = |s: &str| Some(enc_numeric(s));
        let ts = |secs: u64, micros: u64| {
            Some(enc(
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros),
                &Type::TIMESTAMP,
            ))
        };
        let cases: Vec<(Type, Vec<u8>, &str, &str)> = vec![
            (
                Type::INT4_ARRAY,
                enc_array(23, &[2, 2], &[i4(1), None, i4(3), i4(-4)]),
                "[[1,null],[3,-4]]",
                "int4[]",
            ),
            (
                Type::INT4_ARRAY,
                enc_array(23, &[2, 1, 2], &[i4(1), i4(2), None, i4(4)]),
                "[[[1,2]],[[null,4]]]",
                "int4[]",
            ),
            (Type::INT4_ARRAY, enc_array(23, &[], &[]), "[]", "int4[]"),
            (
                Type::INT2_ARRAY,
                enc_array(21, &[1], &[Some(enc(7i16, &Type::INT2))]),
                "[7]",
                "int2[]",
            ),
            (
                Type::INT8_ARRAY,
                enc_array(20, &[1], &[Some(enc(i64::MIN, &Type::INT8))]),
                "[-9223372036854775808]",
                "int8[]",
            ),
            (
                Type::OID_ARRAY,
                enc_array(26, &[1], &[Some(enc(4_000_000_000u32, &Type::OID))]),
                "[4000000000]",
                "oid[]",
            ),
            (
                Type::BOOL_ARRAY,
                enc_array(16, &[3], &[Some(vec![1]), Some(vec![0]), None]),
                "[true,false,null]",
                "bool[]",
            ),
            (
                Type::FLOAT8_ARRAY,
                enc_array(
                    701,
                    &[4],
                    &[
                        Some(enc(1.5f64, &Type::FLOAT8)),
                        Some(enc(f64::NAN, &Type::FLOAT8)),
                        Some(enc(f64::INFINITY, &Type::FLOAT8)),
                        Some(enc(f64::NEG_INFINITY, &Type::FLOAT8)),
                    ],
                ),
                r#"[1.5,"NaN","Infinity","-Infinity"]"#,
                "float8[]",
            ),
            (
                Type::FLOAT4_ARRAY,
                enc_array(700, &[1], &[Some(enc(0.1f32, &Type::FLOAT4))]),
                "[0.1]",
                "float4[]",
            ),
            (
                Type::NUMERIC_ARRAY,
                enc_array(
                    1700,
                    &[4],
                    &[n("1.50"), n("NaN"), n("-0.0001"), n("-Infinity")],
                ),
                r#"[1.50,"NaN",-0.0001,"-Infinity"]"#,
                "numeric[]",
            ),
            (
                Type::TEXT_ARRAY,
                enc_array(25, &[3], &[t("say \"hi\"\\"), t("line\nnext\u{1b}"), None]),
                r#"["say \"hi\"\\","line\nnext\u001b",null]"#,
                "text[]",
            ),
            (
                Type::CHAR_ARRAY,
                enc_array(18, &[2], &[Some(vec![b'"']), Some(vec![0xE9])]),
                r#"["\"","\\351"]"#,
                "char[]",
            ),
            (
                Type::DATE_ARRAY,
                enc_array(
                    1082,
                    &[3],
                    &[
                        Some(JAN_31_2024.to_be_bytes().to_vec()),
                        Some(i32::MAX.to_be_bytes().to_vec()),
                        Some((-730_485i32).to_be_bytes().to_vec()),
                    ],
                ),
                r#"["2024-01-31","infinity","0001-01-01 BC"]"#,
                "date[]",
            ),
            (
                Type::TIMESTAMP_ARRAY,
                enc_array(
                    1114,
                    &[2],
                    &[
                        ts(NOON_UNIX_SECS, 250_000),
                        Some(i64::MIN.to_be_bytes().to_vec()),
                    ],
                ),
                r#"["2024-01-31 12:00:00.25","-infinity"]"#,
                "timestamp[]",
            ),
            (
                Type::TIMESTAMPTZ_ARRAY,
                enc_array(1184, &[2], &[ts(NOON_UNIX_SECS, 0), ts(0, 1)]),
                r#"["2024-01-31 12:00:00+00:00","1970-01-01 00:00:00.000001+00:00"]"#,
                "timestamptz[]",
            ),
            (
                Type::TIME_ARRAY,
                enc_array(1083, &[1], &[Some(3_600_000_000i64.to_be_bytes().to_vec())]),
                r#"["01:00:00"]"#,
                "time[]",
            ),
            (
                Type::TIMETZ_ARRAY,
                enc_array(
                    1266,
                    &[1],
                    &[Some(be(&[
                        &3_600_000_000i64.to_be_bytes(),
                        &3600i32.to_be_bytes(),
                    ]))],
                ),
                r#"["01:00:00-01"]"#,
                "timetz[]",
            ),
            (
                Type::INTERVAL_ARRAY,
                enc_array(
                    1186,
                    &[4],
                    &[
                        Some(enc_interval(
                            ((4 * 60 + 5) * 60 + 6) * 1_000_000 + 500_000,
                            3,
                            14,
                        )),
                        Some(enc_interval(0, 0, 0)),
                        Some(enc_interval(-3_600_000_000, 1, -1)),
                        Some(enc_interval(0, 1, 12)),
                    ],
                ),
                r#"["1 year 2 mons 3 days 04:05:06.5","00:00:00","-1 mons +1 day -01:00:00","1 year 1 day"]"#,
                "interval[]",
            ),
            (
                Type::BYTEA_ARRAY,
                enc_array(17, &[2], &[Some(vec![1, 2]), Some(vec![])]),
                r#"["\\x0102","\\x"]"#,
                "bytea[]",
            ),
            (
                Type::JSONB_ARRAY,
                enc_array(
                    3802,
                    &[2],
                    &[Some([&[1u8][..], br#"{"a": 1}"#].concat()), None],
                ),
                r#"[{"a": 1},null]"#,
                "jsonb[]",
            ),
            (
                Type::JSON_ARRAY,
                enc_array(114, &[1], &[Some(b"[1, \"x\"]".to_vec())]),
                r#"[[1, "x"]]"#,
                "json[]",
            ),
            (
                Type::UUID_ARRAY,
                enc_array(2950, &[1], &[Some(vec![0xab; 16])]),
                r#"["abababab-abab-abab-abab-abababababab"]"#,
                "uuid[]",
            ),
            (
                Type::INET_ARRAY,
                enc_array(869, &[1], &[Some(vec![2, 32, 0, 4, 127, 0, 0, 1])]),
                r#"["127.0.0.1"]"#,
                "inet[]",
            ),
            (
                Type::CIDR_ARRAY,
                enc_array(650, &[1], &[Some(vec![2, 16, 1, 4, 172, 16, 0, 0])]),
                r#"["172.16.0.0/16"]"#,
                "cidr[]",
            ),
        ];
        for (ty, raw, want, name) in cases {
            let (batch, notes) = column(col("a", ty), &[Some(raw), None]);
            assert_eq!(batch.schema().field(0).data_type(), &DataType::Utf8);
            assert_eq!(pg_type(&batch, 0), name);
            assert_eq!(strings(&batch), [some(want), None], "{name}");
            let json = strings(&batch)[0].clone().unwrap();
            serde_json::from_str::<serde_json::Value>(&json)
                .unwrap_or_else(|e| panic!("{name}: {json}: {e}"));
            assert!(notes.is_empty(), "{name}: {notes:?}");
        }
        let (batch, _) = column(col_mod("a", Type::NUMERIC_ARRAY, numeric_mod(10, 2)), &[]);
        assert_eq!(pg_type(&batch, 0), "numeric(10,2)[]");
    }

    #[test]
    fn unknown_types_are_text_or_hex_with_a_note() {
        let point = be(&[&1.0f64.to_be_bytes(), &2.5f64.to_be_bytes()]);
        let mut conv = RowsToArrow::new(vec![
            col("p", Type::POINT),
            col(
                "l",
                Type::new("ltree".into(), 91_007, Kind::Simple, "public".into()),
            ),
            col("r", Type::INT4_RANGE),
            col("ps", Type::POINT_ARRAY),
        ]);
        let range = [2u8, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 5];
        let points = enc_array(600, &[1], &[Some(point.clone())]);
        for _ in 0..2 {
            conv.push_row([
                Some(&point[..]),
                Some(&b"a.b.c"[..]),
                Some(&range[..]),
                Some(&points[..]),
            ])
            .unwrap();
        }
        let batch = conv.finish();
        assert!(
            batch
                .schema()
                .fields()
                .iter()
                .all(|f| f.data_type() == &DataType::Utf8)
        );
        let col = |i: usize| batch.column(i).as_string::<i32>().value(1).to_string();
        assert_eq!(col(0), "\\x3ff00000000000004004000000000000");
        assert_eq!(col(1), "a.b.c");
        assert_eq!(col(2), "\\x0200000004000000010000000400000005");
        assert_eq!(col(3), r#"["\\x3ff00000000000004004000000000000"]"#);
        assert_eq!(pg_type(&batch, 2), "int4range");
        assert_eq!(
            conv.take_notes(),
            [
                "column `p`: type `point` shown as its binary form",
                "column `r`: type `int4range` shown as its binary form",
                "column `ps`: type `point[]` shown as its binary form",
            ]
        );
    }

    #[test]
    fn malformed_values_are_errors_and_their_rows_are_left_out() {
        let cols = vec![col("id", Type::INT4), col("v", Type::TEXT)];
        let bad: Vec<(PgColumn, Vec<u8>, &str)> = vec![
            (
                col("i", Type::INT4),
                vec![0, 0, 1],
                "column `i` (int4): malformed value of 3 bytes: expected 4 bytes",
            ),
            (
                col("b", Type::BOOL),
                vec![],
                "column `b` (bool): malformed value of 0 bytes: expected 1 byte",
            ),
            (
                col("n", Type::NUMERIC),
                vec![0, 1, 0, 0, 0, 0, 0, 0],
                "column `n` (numeric): malformed value of 8 bytes: digit count does not match the length",
            ),
            (
                col("n", Type::NUMERIC),
                vec![0, 0, 0],
                "shorter than the 8-byte numeric header",
            ),
            (
                col("n", Type::NUMERIC),
                vec![0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10],
                "numeric digit out of range",
            ),
            (
                col("n", Type::NUMERIC),
                vec![0, 0, 0, 0, 0x12, 0x34, 0, 0],
                "invalid numeric sign",
            ),
            (
                col_mod("n", Type::NUMERIC, numeric_mod(10, 2)),
                vec![0xff, 0xff, 0, 0, 0, 0, 0, 0],
                "column `n` (numeric(10,2))",
            ),
            (
                col("j", Type::JSONB),
                b"\x02{}".to_vec(),
                "unsupported jsonb format version",
            ),
            (
                col("u", Type::UUID),
                vec![0; 15],
                "column `u` (uuid): malformed value of 15 bytes: expected 16 bytes",
            ),
            (
                col("ip", Type::INET),
                vec![9, 32, 0, 4, 1, 2, 3, 4],
                "unknown address family",
            ),
            (
                col("ip", Type::INET),
                vec![2, 33, 0, 4, 1, 2, 3, 4],
                "netmask",
            ),
            (
                col("t", Type::TIME),
                (-1i64).to_be_bytes().to_vec(),
                "time of day out of range",
            ),
            (col("tz", Type::TIMETZ), vec![0; 8], "value ends early"),
            (
                col("i", Type::INTERVAL),
                vec![0; 17],
                "unexpected bytes after the value",
            ),
            (
                col("a", Type::INT4_ARRAY),
                enc_array(23, &[3], &[Some(enc(1i32, &Type::INT4))]),
                "more array elements than bytes",
            ),
            (
                col("a", Type::INT4_ARRAY),
                enc_array(23, &[2], &[Some(enc(1i32, &Type::INT4))]),
                "column `a` (int4[]): malformed value of 28 bytes: value ends early",
            ),
            (
                col("a", Type::INT4_ARRAY),
                enc_array(23, &[1], &[Some(vec![1, 2])]),
                "column `a` (int4[]): malformed value of 26 bytes: expected 4 bytes",
            ),
            (
                col("a", Type::INT4_ARRAY),
                [
                    enc_array(23, &[1], &[Some(enc(1i32, &Type::INT4))]),
                    vec![0],
                ]
                .concat(),
                "unexpected bytes",
            ),
            (
                col("a", Type::INT4_ARRAY),
                enc_array(23, &[1, 1, 1, 1, 1, 1, 1], &[]),
                "bad number of array dimensions",
            ),
            (
                col("a", Type::INT4_ARRAY),
                enc_array(23, &[-1], &[]),
                "negative array dimension",
            ),
            (
                col("a", Type::INT4_ARRAY),
                vec![0, 0, 0, 1],
                "value ends early",
            ),
            (
                col("a", Type::TEXT_ARRAY),
                [enc_array(25, &[1], &[]), (-5i32).to_be_bytes().to_vec()].concat(),
                "bad element length",
            ),
            (
                col("a", Type::TEXT_ARRAY),
                [enc_array(25, &[1], &[]), 100i32.to_be_bytes().to_vec()].concat(),
                "value ends early",
            ),
        ];
        for (c, raw, want) in bad {
            let mut conv =
                RowsToArrow::new(vec![col("first", Type::INT4), c, col("last", Type::TEXT)]);
            let good = enc(1i32, &Type::INT4);
            conv.push_row([Some(&good[..]), None, Some(&b"ok"[..])])
                .unwrap();
            let e = conv
                .push_row([Some(&good[..]), Some(&raw[..]), Some(&b"x"[..])])
                .unwrap_err();
            assert!(e.to_string().contains(want), "{e} does not contain {want}");
            assert_eq!(conv.len(), 1);
            conv.push_row([None, None, Some(&b"after"[..])]).unwrap();
            let batch = conv.finish();
            assert_eq!(batch.num_rows(), 2);
            let last = batch.column(2).as_string::<i32>();
            assert_eq!(last.iter().collect::<Vec<_>>(), [Some("ok"), Some("after")]);
            assert!(batch.column(1).is_null(0) && batch.column(1).is_null(1));
        }

        let mut conv = RowsToArrow::new(cols);
        let id = enc(1i32, &Type::INT4);
        let e = conv.push_row([Some(&id[..])]).unwrap_err();
        assert_eq!(e.to_string(), "row has 1 values for 2 columns");
        let e = conv.push_row([Some(&id[..]), None, None]).unwrap_err();
        assert_eq!(e.to_string(), "row has more than 2 values for 2 columns");
        assert!(conv.is_empty());
        let batch = conv.finish();
        assert_eq!(batch.num_rows(), 0);
        assert_eq!(batch.num_columns(), 2);
    }

    #[test]
    fn finish_starts_a_new_empty_batch_with_the_same_schema() {
        let mut conv = RowsToArrow::new(vec![col("id", Type::INT8), col("name", Type::VARCHAR)]);
        assert!(conv.is_empty());
        for i in 0..3i64 {
            let id = enc(i, &Type::INT8);
            conv.push_row([Some(&id[..]), Some(&b"abc"[..])]).unwrap();
        }
        assert_eq!((conv.len(), conv.buffered_bytes()), (3, 33));
        let first = conv.finish();
        assert_eq!(first.num_rows(), 3);
        assert!(conv.is_empty());
        assert_eq!(conv.buffered_bytes(), 0);
        let second = conv.finish();
        assert_eq!(second.num_rows(), 0);
        assert_eq!(second.schema(), first.schema());
        assert_eq!(second.schema(), conv.schema());
        let id = enc(9i64, &Type::INT8);
        conv.push_row([Some(&id[..]), None]).unwrap();
        let third = conv.finish();
        assert_eq!(third.num_rows(), 1);
        assert_eq!(third.column(0).as_primitive::<Int64Type>().value(0), 9);
    }

    #[test]
    fn results_without_columns_count_rows() {
        let mut conv = RowsToArrow::new(vec![]);
        conv.push_row([]).unwrap();
        conv.push_row([]).unwrap();
        assert_eq!(conv.finish().num_rows(), 2);
        assert_eq!(conv.schema().fields().len(), 0);
    }

    #[test]
    fn raw_value_takes_any_type() {
        assert!(<RawValue as FromSql>::accepts(&Type::POINT));
        assert!(<RawValue as FromSql>::accepts(&Type::new(
            "super".into(),
            4000,
            Kind::Simple,
            "pg_catalog".into()
        )));
        let raw = [0u8, 0, 0, 1];
        let v = RawValue::from_sql(&Type::INT4, &raw).unwrap();
        assert_eq!(v.0, Some(&raw[..]));
        assert_eq!(RawValue::from_sql_null(&Type::INT4).unwrap().0, None);
        let v: RawValue = FromSql::from_sql_nullable(&Type::TEXT, None).unwrap();
        assert!(v.0.is_none());
    }
}
