//! Byte-level readers and text formatters for PostgreSQL's binary (`*_send`) formats:
//! bounds-checked reads, numeric, jsonb, "char", uuid, inet/cidr, date/time/interval text and
//! the hex fallback.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{DAY_MICROS, EPOCH_DAYS, Malformed};

/// The JSON text of a jsonb value (after its format version byte).
pub(super) fn jsonb(raw: &[u8]) -> Result<&[u8], Malformed> {
    match raw.split_first() {
        Some((1, text)) => Ok(text),
        Some(_) => Err(Malformed("unsupported jsonb format version")),
        None => Err(Malformed("empty jsonb value")),
    }
}

/// Text that is safe to show as is: valid UTF-8 without control characters.
pub(super) fn plain_text(raw: &[u8]) -> Option<&str> {
    std::str::from_utf8(raw)
        .ok()
        .filter(|s| !s.chars().any(char::is_control))
}

pub(super) fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], Malformed> {
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
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or(Malformed("value ends early"))?;
        self.0 = rest;
        Ok(head)
    }

    pub(super) fn i32(&mut self) -> Result<i32, Malformed> {
        Ok(i32::from_be_bytes(fixed(self.take(4)?)?))
    }

    fn i64(&mut self) -> Result<i64, Malformed> {
        Ok(i64::from_be_bytes(fixed(self.take(8)?)?))
    }

    pub(super) fn end(&self) -> Result<(), Malformed> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Malformed("unexpected bytes after the value"))
        }
    }
}

/// An interval's (microseconds, days, months).
pub(super) fn interval(raw: &[u8]) -> Result<(i64, i32, i32), Malformed> {
    let mut r = Reader(raw);
    let v = (r.i64()?, r.i32()?, r.i32()?);
    r.end()?;
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// numeric

pub(super) enum Numeric<'a> {
    Finite(Digits<'a>),
    NaN,
    Infinity,
    NegInfinity,
}

/// A finite numeric: base-10000 digits, most significant first; the first one is worth
/// 10000^weight; `dscale` decimal places are shown.
pub(super) struct Digits<'a> {
    neg: bool,
    weight: i16,
    dscale: u16,
    /// Big-endian u16s, each checked to be at most 9999.
    digits: &'a [[u8; 2]],
}

pub(super) fn numeric(raw: &[u8]) -> Result<Numeric<'_>, Malformed> {
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
    pub(super) fn to_i128(&self, precision: u8, scale: u8) -> Result<i128, Malformed> {
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
pub(super) fn write_numeric<W: fmt::Write>(out: &mut W, n: &Numeric) -> Result<(), Malformed> {
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
pub(super) fn char_text(c: u8, buf: &mut [u8; 4]) -> &str {
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

pub(super) fn write_uuid<W: fmt::Write>(out: &mut W, u: [u8; 16]) -> Result<(), Malformed> {
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

pub(super) fn write_hex<W: fmt::Write>(out: &mut W, raw: &[u8]) -> Result<(), Malformed> {
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
pub(super) fn write_inet<W: fmt::Write>(
    out: &mut W,
    raw: &[u8],
    cidr: bool,
) -> Result<(), Malformed> {
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

pub(super) fn write_date<W: fmt::Write>(out: &mut W, pg_days: i32) -> Result<(), Malformed> {
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
pub(super) fn write_time<W: fmt::Write>(out: &mut W, micros: i64) -> Result<(), Malformed> {
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

pub(super) fn write_timestamp<W: fmt::Write>(
    out: &mut W,
    pg_micros: i64,
    utc: bool,
) -> Result<(), Malformed> {
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
pub(super) fn write_timetz<W: fmt::Write>(out: &mut W, raw: &[u8]) -> Result<(), Malformed> {
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
pub(super) fn write_interval<W: fmt::Write>(out: &mut W, raw: &[u8]) -> Result<(), Malformed> {
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
