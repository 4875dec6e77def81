//! Turning one Arrow value into text: the grid's one-line form, the raw form for copying, and the
//! full (pretty) form for the cell inspector.
//!
//! Everything here works on one value at a time and does work bounded by what it shows: strings
//! are cut before they are sanitised, nested values are serialised only up to the display budget.
//! That keeps drawing a window of a million-row result independent of how big the values are.

use std::fmt::Write as _;

use arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder};
use arrow::datatypes::{
    ArrowDictionaryKeyType, ArrowNativeType, DataType, Date32Type, Decimal32Type, Decimal64Type,
    Decimal128Type, Decimal256Type, Int8Type, Int16Type, Int32Type, Int64Type, RunEndIndexType,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::inspect::InspectText;
use super::sanitize::sanitize_line;
use super::temporal;
use super::{CellKind, CellText, MAX_CELL_CHARS};

/// Text shown for SQL NULL.
pub(crate) const NULL_TEXT: &str = "NULL";

/// Bytes of JSON worth producing for a one-line cell: enough for `MAX_CELL_CHARS` chars even
/// when every char takes four bytes.
const LINE_JSON_BUDGET: usize = MAX_CELL_CHARS * 4;

/// Prefix written before hex-encoded binary values.
const HEX_PREFIX: &str = "0x";

/// Unwraps dictionary, run-end and union encodings down to the array that physically holds the
/// value. `None` when the logical value is NULL.
pub(crate) fn resolve(array: &dyn Array, idx: usize) -> Option<(&dyn Array, usize)> {
    if idx >= array.len() {
        return None;
    }
    match array.data_type() {
        DataType::Dictionary(key, _) => {
            let (values, i) = match key.as_ref() {
                DataType::Int8 => dict_entry::<Int8Type>(array, idx),
                DataType::Int16 => dict_entry::<Int16Type>(array, idx),
                DataType::Int32 => dict_entry::<Int32Type>(array, idx),
                DataType::Int64 => dict_entry::<Int64Type>(array, idx),
                DataType::UInt8 => dict_entry::<UInt8Type>(array, idx),
                DataType::UInt16 => dict_entry::<UInt16Type>(array, idx),
                DataType::UInt32 => dict_entry::<UInt32Type>(array, idx),
                DataType::UInt64 => dict_entry::<UInt64Type>(array, idx),
                _ => None,
            }?;
            resolve(values, i)
        }
        DataType::RunEndEncoded(run_ends, _) => {
            let (values, i) = match run_ends.data_type() {
                DataType::Int16 => run_entry::<Int16Type>(array, idx),
                DataType::Int32 => run_entry::<Int32Type>(array, idx),
                DataType::Int64 => run_entry::<Int64Type>(array, idx),
                _ => None,
            }?;
            resolve(values, i)
        }
        DataType::Union(_, _) => {
            let union = array.as_union();
            let child = union.child(union.type_id(idx));
            resolve(child.as_ref(), union.value_offset(idx))
        }
        // A `NullArray` reports no null buffer, so `is_null` alone would call it valid.
        DataType::Null => None,
        _ if array.is_null(idx) => None,
        _ => Some((array, idx)),
    }
}

fn dict_entry<K: ArrowDictionaryKeyType>(
    array: &dyn Array,
    idx: usize,
) -> Option<(&dyn Array, usize)> {
    let dict = array.as_dictionary_opt::<K>()?;
    if dict.keys().is_null(idx) {
        return None;
    }
    Some((dict.values().as_ref(), dict.keys().value(idx).as_usize()))
}

fn run_entry<R: RunEndIndexType>(array: &dyn Array, idx: usize) -> Option<(&dyn Array, usize)> {
    let run = array.as_run_opt::<R>()?;
    Some((run.values().as_ref(), run.get_physical_index(idx)))
}

/// The value type behind dictionary and run-end encodings.
pub(crate) fn value_type(dt: &DataType) -> &DataType {
    match dt {
        DataType::Dictionary(_, values) => value_type(values),
        DataType::RunEndEncoded(_, values) => value_type(values.data_type()),
        other => other,
    }
}

/// How a value of this (resolved) type is shown.
pub(crate) fn kind_of(dt: &DataType) -> CellKind {
    use DataType::*;
    match value_type(dt) {
        Null => CellKind::Null,
        Boolean => CellKind::Bool,
        t if is_numeric(t) => CellKind::Number,
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => CellKind::Binary,
        Date32 | Date64 | Time32(_) | Time64(_) | Timestamp(_, _) | Duration(_) | Interval(_) => {
            CellKind::Temporal
        }
        t if is_nested(t) => CellKind::Nested,
        _ => CellKind::Text,
    }
}

/// Integers, floats and decimals: the grid right-aligns them.
pub(crate) fn is_numeric(dt: &DataType) -> bool {
    use DataType::*;
    matches!(
        value_type(dt),
        Int8 | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Float16
            | Float32
            | Float64
            | Decimal32(_, _)
            | Decimal64(_, _)
            | Decimal128(_, _)
            | Decimal256(_, _)
    )
}

/// Types shown as JSON.
pub(crate) fn is_nested(dt: &DataType) -> bool {
    use DataType::*;
    matches!(
        value_type(dt),
        List(_)
            | LargeList(_)
            | ListView(_)
            | LargeListView(_)
            | FixedSizeList(_, _)
            | Struct(_)
            | Map(_, _)
    )
}

/// Types whose text `arrow::compute::cast` to Utf8 renders exactly like [`write_scalar`] would
/// (it uses the same `ArrayFormatter`), so filtering can use the vectorised cast.
pub(crate) fn casts_like_display(dt: &DataType) -> bool {
    matches!(
        kind_of(dt),
        CellKind::Number | CellKind::Bool | CellKind::Temporal
    )
}

/// Types [`write_scalar`] formats without arrow's (chrono-based) formatter, much faster than a
/// cast: zone-less timestamps and dates.
pub(crate) fn has_fast_text(dt: &DataType) -> bool {
    matches!(
        value_type(dt),
        DataType::Timestamp(_, None) | DataType::Date32
    )
}

/// Each value's [`write_scalar`] text (neither cut nor sanitised), NULL staying null.
pub(crate) fn scalar_text_column(array: &dyn Array) -> StringArray {
    let mut builder = StringBuilder::with_capacity(array.len(), array.len() * 24);
    let mut buf = String::new();
    for i in 0..array.len() {
        match resolve(array, i) {
            None => builder.append_null(),
            Some((arr, j)) => {
                buf.clear();
                write_scalar(&mut buf, arr, j);
                builder.append_value(&buf);
            }
        }
    }
    builder.finish()
}

/// The string at `i` if the (resolved) array holds strings.
fn str_value(arr: &dyn Array, i: usize) -> Option<&str> {
    match arr.data_type() {
        DataType::Utf8 => Some(arr.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Some(arr.as_string::<i64>().value(i)),
        DataType::Utf8View => Some(arr.as_string_view().value(i)),
        _ => None,
    }
}

/// The bytes at `i` if the (resolved) array holds binary values.
fn bytes_value(arr: &dyn Array, i: usize) -> Option<&[u8]> {
    match arr.data_type() {
        DataType::Binary => Some(arr.as_binary::<i32>().value(i)),
        DataType::LargeBinary => Some(arr.as_binary::<i64>().value(i)),
        DataType::BinaryView => Some(arr.as_binary_view().value(i)),
        DataType::FixedSizeBinary(_) => Some(arr.as_fixed_size_binary().value(i)),
        _ => None,
    }
}

/// One-line grid text of the value at `idx`: sanitised and at most `MAX_CELL_CHARS` chars.
pub(crate) fn line(array: &dyn Array, idx: usize) -> CellText {
    let Some((arr, i)) = resolve(array, idx) else {
        return CellText::null();
    };
    let kind = kind_of(arr.data_type());
    let text = if let Some(s) = str_value(arr, i) {
        str_line(s)
    } else if let Some(b) = bytes_value(arr, i) {
        hex(b, Some(MAX_CELL_CHARS))
    } else if is_nested(arr.data_type()) {
        let mut out = String::new();
        write_json(&mut out, arr, i, LINE_JSON_BUDGET);
        finish_line(out)
    } else {
        let mut out = String::new();
        write_scalar(&mut out, arr, i);
        finish_line(out)
    };
    CellText { text, kind }
}

/// The value as text for copying: full length, not sanitised; `None` for NULL.
pub(crate) fn raw(array: &dyn Array, idx: usize) -> Option<String> {
    let (arr, i) = resolve(array, idx)?;
    Some(unsanitised_full(arr, i))
}

/// The value for the cell inspector, laid out: nested values and JSON strings pretty-printed
/// (see [`InspectText::json`]), control characters other than '\n' made visible. Linear in the
/// value's size; no recursion over the text.
pub(crate) fn inspect(array: &dyn Array, idx: usize) -> InspectText {
    let Some((arr, i)) = resolve(array, idx) else {
        return InspectText::plain(NULL_TEXT);
    };
    if let Some(s) = str_value(arr, i) {
        if is_json_container(s) {
            InspectText::json(s)
        } else {
            InspectText::plain(s)
        }
    } else if is_nested(arr.data_type()) {
        let mut compact = String::new();
        write_json(&mut compact, arr, i, usize::MAX);
        InspectText::json(&compact)
    } else {
        InspectText::plain(&unsanitised_full(arr, i))
    }
}

/// Full text of a resolved, non-null value, nested values as compact JSON.
fn unsanitised_full(arr: &dyn Array, i: usize) -> String {
    if let Some(s) = str_value(arr, i) {
        return s.to_string();
    }
    if let Some(b) = bytes_value(arr, i) {
        return hex(b, None);
    }
    let mut out = String::new();
    if is_nested(arr.data_type()) {
        write_json(&mut out, arr, i, usize::MAX);
    } else {
        write_scalar(&mut out, arr, i);
    }
    out
}

/// Byte offset at which to cut `s` so that the prefix plus '…' has at most `max` chars, or
/// `None` when `s` fits. Looks at no more than `max` chars.
fn cut_point(s: &str, max: usize) -> Option<usize> {
    if s.len() <= max || max == 0 {
        return None;
    }
    let mut chars = s.char_indices();
    let (end, _) = chars.nth(max - 1)?;
    chars.next().map(|_| end)
}

/// A string cut to the cell budget and sanitised; the cut happens first so a huge value costs
/// no more than `MAX_CELL_CHARS` chars of work.
fn str_line(s: &str) -> String {
    match cut_point(s, MAX_CELL_CHARS) {
        None => sanitize_line(s).into_owned(),
        Some(end) => {
            let mut out = sanitize_line(&s[..end]).into_owned();
            out.push('…');
            out
        }
    }
}

/// Cuts an owned text to the cell budget and sanitises it, reusing the allocation when clean.
fn finish_line(mut s: String) -> String {
    if let Some(end) = cut_point(&s, MAX_CELL_CHARS) {
        s.truncate(end);
        s.push('…');
    }
    match sanitize_line(&s) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(clean) => clean,
    }
}

/// Lower-case hex with a `0x` prefix; with `max_chars`, cut (ending in '…') to that many chars.
fn hex(bytes: &[u8], max_chars: Option<usize>) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let full_len = HEX_PREFIX.len() + 2 * bytes.len();
    let (shown, cut) = match max_chars {
        Some(max) if full_len > max => {
            (&bytes[..max.saturating_sub(HEX_PREFIX.len() + 1) / 2], true)
        }
        _ => (bytes, false),
    };
    let mut out = String::with_capacity(HEX_PREFIX.len() + 2 * shown.len() + 3);
    out.push_str(HEX_PREFIX);
    for b in shown {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    if cut {
        out.push('…');
    }
    out
}

/// Writes a non-nested, non-null, resolved value: numbers exact (floats shortest round-trip,
/// decimals with their scale), temporal values ISO-8601 through arrow's formatter.
pub(crate) fn write_scalar(out: &mut String, arr: &dyn Array, i: usize) {
    macro_rules! num {
        ($t:ty) => {{
            let _ = write!(out, "{}", arr.as_primitive::<$t>().value(i));
        }};
    }
    macro_rules! dec {
        ($t:ty) => {
            out.push_str(&arr.as_primitive::<$t>().value_as_string(i))
        };
    }
    match arr.data_type() {
        DataType::Null => out.push_str(NULL_TEXT),
        DataType::Boolean => out.push_str(if arr.as_boolean().value(i) {
            "true"
        } else {
            "false"
        }),
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Decimal32(_, _) => dec!(Decimal32Type),
        DataType::Decimal64(_, _) => dec!(Decimal64Type),
        DataType::Decimal128(_, _) => dec!(Decimal128Type),
        DataType::Decimal256(_, _) => dec!(Decimal256Type),
        DataType::Timestamp(unit, None) => {
            let value = timestamp_value(arr, i, *unit);
            if !temporal::write_timestamp(out, value, *unit) {
                write_with_arrow(out, arr, i);
            }
        }
        DataType::Date32 => {
            if !temporal::write_date32(out, arr.as_primitive::<Date32Type>().value(i)) {
                write_with_arrow(out, arr, i);
            }
        }
        _ => write_with_arrow(out, arr, i),
    }
}

/// The raw i64 of a timestamp array of any unit.
fn timestamp_value(arr: &dyn Array, i: usize, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => arr.as_primitive::<TimestampSecondType>().value(i),
        TimeUnit::Millisecond => arr.as_primitive::<TimestampMillisecondType>().value(i),
        TimeUnit::Microsecond => arr.as_primitive::<TimestampMicrosecondType>().value(i),
        TimeUnit::Nanosecond => arr.as_primitive::<TimestampNanosecondType>().value(i),
    }
}

/// Everything else goes through arrow's own formatter: floats shortest round-trip (ryu),
/// temporal values ISO-8601 / RFC 3339. It is the formatter `cast(…, Utf8)` uses, so the filter
/// can match these types through the vectorised cast and still agree with what the grid shows.
fn write_with_arrow(out: &mut String, arr: &dyn Array, i: usize) {
    match ArrayFormatter::try_new(arr, &FormatOptions::default()) {
        Ok(formatter) => {
            let _ = write!(out, "{}", formatter.value(i));
        }
        Err(e) => {
            let _ = write!(out, "<cannot display {}: {e}>", arr.data_type());
        }
    }
}

/// Nested values deeper than this are written as `"…"`: the walk below recurses once per level
/// of the value's type, and a type can be nested arbitrarily deep.
const MAX_JSON_DEPTH: usize = 128;

/// Writes the value at `idx` as compact JSON. Stops early, leaving a truncated prefix, once
/// `out` is longer than `budget` bytes: the one-line grid only needs that much.
pub(crate) fn write_json(out: &mut String, array: &dyn Array, idx: usize, budget: usize) {
    json_value(out, array, idx, budget, 0);
}

fn json_value(out: &mut String, array: &dyn Array, idx: usize, budget: usize, depth: usize) {
    if out.len() > budget {
        return;
    }
    let Some((arr, i)) = resolve(array, idx) else {
        out.push_str("null");
        return;
    };
    if depth >= MAX_JSON_DEPTH {
        out.push_str("\"…\"");
        return;
    }
    let depth = depth + 1;
    match arr.data_type() {
        DataType::Null => out.push_str("null"),
        DataType::Boolean => write_scalar(out, arr, i),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let mut text = String::new();
            write_scalar(&mut text, arr, i);
            if text.parse::<f64>().is_ok_and(f64::is_finite) {
                out.push_str(&text);
            } else {
                // JSON has no NaN/Infinity: show them as strings rather than emit invalid JSON.
                write_json_str(out, &text);
            }
        }
        dt if is_numeric(dt) => write_scalar(out, arr, i),
        DataType::List(_) => json_list(out, &arr.as_list::<i32>().value(i), budget, depth),
        DataType::LargeList(_) => json_list(out, &arr.as_list::<i64>().value(i), budget, depth),
        DataType::ListView(_) => json_list(out, &arr.as_list_view::<i32>().value(i), budget, depth),
        DataType::LargeListView(_) => {
            json_list(out, &arr.as_list_view::<i64>().value(i), budget, depth)
        }
        DataType::FixedSizeList(_, _) => {
            json_list(out, &arr.as_fixed_size_list().value(i), budget, depth)
        }
        DataType::Struct(_) => json_struct(out, arr, i, budget, depth),
        DataType::Map(_, _) => json_map(out, arr, i, budget, depth),
        _ => {
            if let Some(s) = str_value(arr, i) {
                write_json_str(out, s);
            } else if let Some(b) = bytes_value(arr, i) {
                out.push('"');
                out.push_str(&hex(b, None));
                out.push('"');
            } else {
                let mut text = String::new();
                write_scalar(&mut text, arr, i);
                write_json_str(out, &text);
            }
        }
    }
}

fn json_struct(out: &mut String, arr: &dyn Array, i: usize, budget: usize, depth: usize) {
    let s = arr.as_struct();
    out.push('{');
    for (j, field) in s.fields().iter().enumerate() {
        if j > 0 {
            out.push(',');
        }
        write_json_str(out, field.name());
        out.push(':');
        json_value(out, s.column(j).as_ref(), i, budget, depth);
        if out.len() > budget {
            return;
        }
    }
    out.push('}');
}

fn json_map(out: &mut String, arr: &dyn Array, i: usize, budget: usize, depth: usize) {
    let entries = arr.as_map().value(i);
    let (keys, values) = (entries.column(0), entries.column(1));
    out.push('{');
    for j in 0..entries.len() {
        if j > 0 {
            out.push(',');
        }
        let key = raw(keys.as_ref(), j).unwrap_or_else(|| NULL_TEXT.to_string());
        write_json_str(out, &key);
        out.push(':');
        json_value(out, values.as_ref(), j, budget, depth);
        if out.len() > budget {
            return;
        }
    }
    out.push('}');
}

fn json_list(out: &mut String, items: &ArrayRef, budget: usize, depth: usize) {
    out.push('[');
    for j in 0..items.len() {
        if j > 0 {
            out.push(',');
        }
        json_value(out, items.as_ref(), j, budget, depth);
        if out.len() > budget {
            return;
        }
    }
    out.push(']');
}

/// Writes `s` as a JSON string literal (control characters escaped).
pub(crate) fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether a string value is a JSON object or array (worth pretty-printing in the inspector).
fn is_json_container(s: &str) -> bool {
    let t = s.trim_start();
    (t.starts_with('{') || t.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_cut_to_budget() {
        assert_eq!(hex(&[0xde, 0xad], None), "0xdead");
        let long = vec![0xab; 1000];
        let cut = hex(&long, Some(MAX_CELL_CHARS));
        assert!(cut.chars().count() <= MAX_CELL_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn cut_point_counts_chars_not_bytes() {
        assert_eq!(cut_point("abc", 3), None);
        assert_eq!(cut_point("abcd", 3), Some(2));
        assert_eq!(cut_point("ééé", 3), None);
        assert_eq!(cut_point("éééé", 3), Some(4));
    }
}
