//! Quick filter: which rows mention a piece of text in any column.

use arrow::array::{
    Array, ArrayRef, BooleanArray, LargeStringArray, Scalar, StringArray, StringViewArray,
};
use arrow::buffer::BooleanBuffer;
use arrow::compute::cast;
use arrow::compute::kernels::comparison::{contains, ilike};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;

use super::ResultSet;
use super::format::{self, NULL_TEXT};
use super::sort::{display_text_column, whole_column};

/// Rows (ascending) where any column's text contains `needle`, ignoring case.
///
/// Vectorised per column: strings are matched as stored (full length, so text past the grid's
/// 512-char cut still matches), numbers/booleans/temporal values through arrow's cast to Utf8,
/// other types (nested as JSON, binary as hex, floats) through their display text; the matching
/// is arrow's `ilike` with `%needle%` (wildcards in the needle escaped).
///
/// NULLs: a NULL cell is shown as `NULL`, so it matches exactly when the needle is part of the
/// word "null" ("nul", "NULL"…). Any other needle never matches a NULL. An empty needle keeps
/// every row.
pub fn filter_indices(rs: &ResultSet, needle: &str) -> Result<Vec<u32>, ArrowError> {
    let rows = rs.num_rows();
    if needle.is_empty() {
        return Ok((0..rows).filter_map(|i| u32::try_from(i).ok()).collect());
    }
    let pattern = format!("%{}%", escape_like(needle));
    // Digits and punctuation have no case: the plain substring kernel (memmem) is much faster
    // than ilike's case-insensitive regex.
    let caseless = needle.to_lowercase() == needle.to_uppercase();
    let nulls_match = NULL_TEXT.to_lowercase().contains(&needle.to_lowercase());
    let mut hits = BooleanBuffer::new_unset(rows);
    for col in 0..rs.num_columns() {
        let field = rs.schema().field(col);
        let cannot_match = !could_appear(needle, field.data_type());
        if cannot_match && !nulls_match {
            continue; // skip formatting a million values that cannot contain the needle
        }
        let column = whole_column(rs, col)?;
        let column_hits = if cannot_match {
            null_mask(&column)
        } else {
            let text = searchable_text(&column)?;
            let matched = if caseless {
                contains(&text, &pattern_scalar(needle, text.data_type()))?
            } else {
                ilike(&text, &pattern_scalar(&pattern, text.data_type()))?
            };
            text_hits(&matched, &text, nulls_match)
        };
        hits = &hits | &column_hits;
    }
    Ok(hits
        .set_indices()
        .filter_map(|i| u32::try_from(i).ok())
        .collect())
}

/// Escapes LIKE's wildcards so the needle is matched literally.
fn escape_like(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The column as strings `ilike` can scan, nulls where the column is NULL.
fn searchable_text(column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let dt = column.data_type();
    if is_string(dt) {
        return Ok(column.clone());
    }
    if format::has_fast_text(dt) {
        return Ok(std::sync::Arc::new(format::scalar_text_column(
            column.as_ref(),
        )));
    }
    if format::casts_like_display(dt) {
        return cast(column.as_ref(), &DataType::Utf8);
    }
    Ok(std::sync::Arc::new(display_text_column(column.as_ref())))
}

/// String types `ilike` accepts directly (dictionaries are evaluated on their values).
fn is_string(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => {
            matches!(
                values.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        }
        _ => false,
    }
}

/// The pattern as a scalar of the same string type as the text (ilike requires it).
fn pattern_scalar(pattern: &str, text_type: &DataType) -> Scalar<ArrayRef> {
    let array: ArrayRef = match text_type {
        DataType::LargeUtf8 => std::sync::Arc::new(LargeStringArray::from(vec![pattern])),
        DataType::Utf8View => std::sync::Arc::new(StringViewArray::from(vec![pattern])),
        DataType::Dictionary(_, values) => return pattern_scalar(pattern, values),
        _ => std::sync::Arc::new(StringArray::from(vec![pattern])),
    };
    Scalar::new(array)
}

/// Set where the value is present; `logical_nulls` sees through dictionaries and run ends.
fn valid_mask(array: &ArrayRef) -> BooleanBuffer {
    match array.logical_nulls() {
        Some(nulls) => nulls.inner().clone(),
        None => BooleanBuffer::new_set(array.len()),
    }
}

/// Set where the value is NULL.
fn null_mask(array: &ArrayRef) -> BooleanBuffer {
    !&valid_mask(array)
}

/// Turns ilike's result (null for NULL input) into plain hits, deciding what NULL cells do.
fn text_hits(matched: &BooleanArray, text: &ArrayRef, nulls_match: bool) -> BooleanBuffer {
    let valid = valid_mask(text);
    let found = matched.values() & &valid;
    if nulls_match {
        &found | &!&valid
    } else {
        found
    }
}

/// Whether `needle` could occur, ignoring case, in the text of a value of type `dt`.
///
/// Numbers, booleans and (zone-less) dates and times print with a small fixed set of ASCII
/// characters, so a needle with any other character is decided without formatting the column.
/// That makes the usual word search skip those columns entirely.
fn could_appear(needle: &str, dt: &DataType) -> bool {
    let Some(alphabet) = text_alphabet(format::value_type(dt)) else {
        return true;
    };
    needle
        .chars()
        .all(|c| ascii_fold(c).is_some_and(|f| alphabet.contains(f)))
}

/// Every character a value of this type can print (lower-cased); `None` when unbounded.
fn text_alphabet(dt: &DataType) -> Option<&'static str> {
    use DataType::*;
    match dt {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => Some("0123456789-"),
        // ryu's shortest form: "-1.5", "1e-7", "1e300", "inf", "NaN".
        Float16 | Float32 | Float64 => Some("0123456789-+.einfa"),
        Decimal32(_, _) | Decimal64(_, _) | Decimal128(_, _) | Decimal256(_, _) => {
            Some("0123456789-.")
        }
        Boolean => Some("truefals"),
        // ISO-8601 without a zone: "2024-01-31", "2024-01-31T12:00:00.5", "+10000-01-01".
        Date32 | Date64 | Timestamp(_, None) => Some("0123456789-+:.t"),
        Time32(_) | Time64(_) => Some("0123456789:."),
        _ => None,
    }
}

/// The lower-case ASCII character `c` matches case-insensitively, if any. Besides ASCII, only
/// U+017F 'ſ' (matches 's') and U+212A Kelvin 'K' (matches 'k') fold to ASCII in Unicode
/// simple case folding, which is what `ilike` uses.
fn ascii_fold(c: char) -> Option<char> {
    match c {
        c if c.is_ascii() => Some(c.to_ascii_lowercase()),
        '\u{17f}' => Some('s'),
        '\u{212a}' => Some('k'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }

    #[test]
    fn columns_that_cannot_contain_the_needle_are_recognised() {
        assert!(could_appear("-12", &DataType::Int64));
        assert!(!could_appear("12a", &DataType::Int64));
        assert!(could_appear("1E-7", &DataType::Float64));
        assert!(could_appear("NaN", &DataType::Float32));
        assert!(could_appear("RUE", &DataType::Boolean));
        assert!(could_appear("fal\u{17f}e", &DataType::Boolean));
        assert!(!could_appear("yes", &DataType::Boolean));
        assert!(could_appear(
            "2024-01-31T12",
            &DataType::Timestamp(arrow::datatypes::TimeUnit::Second, None)
        ));
        assert!(!could_appear("jan", &DataType::Date32));
        assert!(could_appear("anything", &DataType::Utf8));
        let tz = DataType::Timestamp(
            arrow::datatypes::TimeUnit::Second,
            Some("Europe/Paris".into()),
        );
        assert!(could_appear("paris", &tz));
        let dict = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Int32));
        assert!(!could_appear("x", &dict));
    }
}
