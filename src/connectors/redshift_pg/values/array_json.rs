//! Arrays → JSON text: nested per dimension, NULL elements as `null`, each element as its JSON
//! value or its PostgreSQL text form as a JSON string.

use std::fmt;

use super::decode::{
    Numeric, Reader, char_text, fixed, jsonb, numeric, plain_text, write_date, write_hex,
    write_inet, write_interval, write_numeric, write_time, write_timestamp, write_timetz,
    write_uuid,
};
use super::{DAY_MICROS, Malformed, Scalar};

/// PostgreSQL's MAXDIM.
const MAX_DIMS: usize = 6;

/// An array as JSON: nested per dimension, NULL elements as `null`. Returns whether some
/// element of an unknown type was written as hex.
pub(super) fn write_array<W: fmt::Write>(
    out: &mut W,
    elem: Scalar,
    raw: &[u8],
) -> Result<bool, Malformed> {
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
