//! Fast ISO-8601 text for zone-less timestamps and dates.
//!
//! Arrow's formatter goes through chrono and costs a few hundred nanoseconds per value, which
//! dominates filtering a million-row result with several timestamp columns. These writers produce
//! exactly the same text (chrono's `Debug` form that arrow uses by default) with integer
//! arithmetic; years outside 0..=9999 are left to arrow (it signs them).

use arrow::datatypes::TimeUnit;

const SECONDS_PER_DAY: i64 = 86_400;

/// Writes a `Timestamp(unit, None)` value like arrow does ("2023-11-14T22:13:20.123").
/// Returns false, writing nothing, when the value is outside the fast path's range.
pub(crate) fn write_timestamp(out: &mut String, value: i64, unit: TimeUnit) -> bool {
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let seconds = value.div_euclid(per_second);
    // Fits u32: below 10^9 ns.
    let nanos = (value.rem_euclid(per_second) * (1_000_000_000 / per_second)) as u32;
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    if !write_days(out, days) {
        return false;
    }
    out.push('T');
    push2(out, second_of_day / 3600);
    out.push(':');
    push2(out, second_of_day / 60 % 60);
    out.push(':');
    push2(out, second_of_day % 60);
    write_fraction(out, nanos);
    true
}

/// Writes a `Date32` value (days since the epoch) like arrow does ("2023-11-14").
pub(crate) fn write_date32(out: &mut String, days: i32) -> bool {
    write_days(out, i64::from(days))
}

/// Writes the civil date of `days` since 1970-01-01 (proleptic Gregorian); false when the year
/// is outside 0..=9999.
fn write_days(out: &mut String, days: i64) -> bool {
    let (year, month, day) = crate::model::format::civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return false;
    }
    push2(out, year / 100);
    push2(out, year % 100);
    out.push('-');
    push2(out, month);
    out.push('-');
    push2(out, day);
    true
}

/// chrono's fraction: none, or 3, 6 or 9 digits, whichever is exact.
fn write_fraction(out: &mut String, nanos: u32) {
    let (value, digits) = match nanos {
        0 => return,
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    out.push('.');
    let mut buf = [b'0'; 9];
    let mut v = value;
    for slot in buf[..digits].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    for &b in &buf[..digits] {
        out.push(char::from(b));
    }
}

/// Two decimal digits of `v` (0..=99).
fn push2(out: &mut String, v: i64) {
    let v = v.rem_euclid(100) as u8;
    out.push(char::from(b'0' + v / 10));
    out.push(char::from(b'0' + v % 10));
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        Array, ArrayRef, Date32Array, TimestampMicrosecondArray, TimestampMillisecondArray,
        TimestampNanosecondArray, TimestampSecondArray,
    };
    use arrow::util::display::{ArrayFormatter, FormatOptions};

    use super::*;

    fn arrow_text(array: &dyn Array, i: usize) -> String {
        ArrayFormatter::try_new(array, &FormatOptions::default())
            .unwrap()
            .value(i)
            .to_string()
    }

    /// Values in a unit of `scale` per second: boundaries plus pseudo-random instants within
    /// `max_seconds` of the epoch, each with a few sub-second offsets.
    fn samples(scale: i64, max_seconds: i64) -> Vec<i64> {
        let mut seconds = vec![0, 1, -1, 999, -999, 86_399, -86_401, 951_782_400];
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            seconds.push(x % max_seconds);
        }
        seconds
            .iter()
            .flat_map(|&s| {
                [
                    s * scale,
                    s * scale + 1,
                    s * scale - 7,
                    s * scale + s.abs() % scale,
                ]
            })
            .collect()
    }

    fn check(array: ArrayRef, unit: TimeUnit, values: &[i64]) {
        for (i, &value) in values.iter().enumerate() {
            let mut ours = String::new();
            if write_timestamp(&mut ours, value, unit) {
                assert_eq!(ours, arrow_text(array.as_ref(), i), "{value} {unit:?}");
            }
        }
    }

    #[test]
    fn timestamps_match_arrow_in_every_unit() {
        // ±4000 years of seconds; nanoseconds only span ±292 years.
        let years_4000 = 126_000_000_000;
        let v = samples(1, years_4000);
        check(
            Arc::new(TimestampSecondArray::from(v.clone())),
            TimeUnit::Second,
            &v,
        );
        let v = samples(1_000, years_4000);
        check(
            Arc::new(TimestampMillisecondArray::from(v.clone())),
            TimeUnit::Millisecond,
            &v,
        );
        let v = samples(1_000_000, years_4000);
        check(
            Arc::new(TimestampMicrosecondArray::from(v.clone())),
            TimeUnit::Microsecond,
            &v,
        );
        let v = samples(1_000_000_000, 9_000_000_000);
        check(
            Arc::new(TimestampNanosecondArray::from(v.clone())),
            TimeUnit::Nanosecond,
            &v,
        );
    }

    #[test]
    fn dates_match_arrow() {
        let days: Vec<i32> = (-800_000..800_000)
            .step_by(997)
            .chain([0, -1, 59, 60, 11_016])
            .collect();
        let array = Date32Array::from(days.clone());
        let mut fast = 0;
        for (i, &d) in days.iter().enumerate() {
            let mut ours = String::new();
            if write_date32(&mut ours, d) {
                fast += 1;
                assert_eq!(ours, arrow_text(&array, i), "{d}");
            }
        }
        assert!(fast > days.len() / 2);
    }

    #[test]
    fn out_of_range_years_fall_back() {
        let mut out = String::new();
        assert!(!write_date32(&mut out, -800_000));
        assert!(out.is_empty());
        assert!(write_timestamp(
            &mut out,
            1_700_000_000_123,
            TimeUnit::Millisecond
        ));
        assert_eq!(out, "2023-11-14T22:13:20.123");
    }
}
