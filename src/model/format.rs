//! How figures read for people: durations, byte counts, costs.

use std::time::Duration;

/// Formats a duration the way the results title shows it: `850 ms`, `4.2 s`, `3 min 05 s`.
pub fn format_elapsed(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        let s = d.as_secs();
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// A byte count for people: `950 B`, `1.2 MB` (decimal units, as the AWS consoles show them).
pub fn human_bytes(n: u64) -> String {
    const UNITS: &[&str] = &["B", "KB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A cost estimate for people: cents when it is worth cents, else enough digits to be non-zero.
pub fn format_cost(usd: f64) -> String {
    if usd <= 0.0 {
        "$0".to_string()
    } else if usd >= 0.01 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.6}")
    }
}

/// The first eight characters of a long id (a session's UUID): enough to tell them apart on
/// screen.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Howard Hinnant's `civil_from_days`: (year, month, day) of a day count from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_for_people() {
        assert_eq!(format_elapsed(Duration::from_millis(850)), "850 ms");
        assert_eq!(format_elapsed(Duration::from_millis(4_240)), "4.2 s");
        assert_eq!(format_elapsed(Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(human_bytes(950), "950 B");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
        assert_eq!(format_cost(0.0), "$0");
        assert_eq!(format_cost(0.126), "$0.13");
        assert_eq!(format_cost(0.000_012), "$0.000012");
        assert_eq!(short_id("1a2b3c4d-5e6f"), "1a2b3c4d");
        assert_eq!(short_id("é7"), "é7");
    }
}
