//! Generates Quarry's bundled sample data into `assets/sample/`:
//! `trips.parquet`, `zones.csv`, `vendors.csv` and `events.json` (NDJSON).
//!
//! Run with `cargo run --release --example gen_sample [OUT_DIR]`. The output is deterministic
//! (a hand-written SplitMix64 PRNG with a fixed seed), so regenerating yields the same rows and the
//! files can be committed and diffed.

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Decimal128Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

type Res<T> = Result<T, Box<dyn Error>>;

/// Number of rows in `trips.parquet`.
const TRIPS: usize = 30_000;
/// Number of lines in `events.json`.
const EVENTS: usize = 500;
/// 2024-01-01T00:00:00Z in microseconds since the epoch.
const JAN_2024_MICROS: i64 = 1_704_067_200_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// (zone_id is the 1-based index) borough, zone, service_zone.
const ZONES: &[(&str, &str, &str)] = &[
    ("EWR", "Newark Airport", "EWR"),
    ("Queens", "Jamaica Bay", "Boro Zone"),
    ("Bronx", "Allerton/Pelham Gardens", "Boro Zone"),
    ("Manhattan", "Alphabet City", "Yellow Zone"),
    ("Staten Island", "Arden Heights", "Boro Zone"),
    ("Staten Island", "Arrochar/Fort Wadsworth", "Boro Zone"),
    ("Queens", "Astoria", "Boro Zone"),
    ("Queens", "Astoria Park", "Boro Zone"),
    ("Queens", "Auburndale", "Boro Zone"),
    ("Queens", "Baisley Park", "Boro Zone"),
    ("Brooklyn", "Bath Beach", "Boro Zone"),
    ("Manhattan", "Battery Park", "Yellow Zone"),
    ("Manhattan", "Battery Park City", "Yellow Zone"),
    ("Brooklyn", "Bay Ridge", "Boro Zone"),
    ("Queens", "Bay Terrace/Fort Totten", "Boro Zone"),
    ("Queens", "Bayside", "Boro Zone"),
    ("Brooklyn", "Bedford", "Boro Zone"),
    ("Bronx", "Bedford Park", "Boro Zone"),
    ("Queens", "Bellerose", "Boro Zone"),
    ("Bronx", "Belmont", "Boro Zone"),
    ("Brooklyn", "Bensonhurst East", "Boro Zone"),
    ("Brooklyn", "Bensonhurst West", "Boro Zone"),
    ("Staten Island", "Bloomfield/Emerson Hill", "Boro Zone"),
    ("Manhattan", "Bloomingdale", "Yellow Zone"),
    ("Brooklyn", "Boerum Hill", "Boro Zone"),
    ("Brooklyn", "Borough Park", "Boro Zone"),
    ("Queens", "Breezy Point/Fort Tilden/Riis Beach", "Boro Zone"),
    ("Queens", "Briarwood/Jamaica Hills", "Boro Zone"),
    ("Brooklyn", "Brighton Beach", "Boro Zone"),
    ("Queens", "Broad Channel", "Boro Zone"),
    ("Bronx", "Bronx Park", "Boro Zone"),
    ("Bronx", "Bronxdale", "Boro Zone"),
    ("Brooklyn", "Brooklyn Heights", "Boro Zone"),
    ("Brooklyn", "Brooklyn Navy Yard", "Boro Zone"),
    ("Brooklyn", "Brownsville", "Boro Zone"),
    ("Brooklyn", "Bushwick North", "Boro Zone"),
    ("Brooklyn", "Bushwick South", "Boro Zone"),
    ("Queens", "Cambria Heights", "Boro Zone"),
    ("Brooklyn", "Canarsie", "Boro Zone"),
    ("Brooklyn", "Carroll Gardens", "Boro Zone"),
    ("Manhattan", "Central Harlem", "Boro Zone"),
    ("Manhattan", "Central Harlem North", "Boro Zone"),
    ("Manhattan", "Central Park", "Yellow Zone"),
    ("Staten Island", "Charleston/Tottenville", "Boro Zone"),
    ("Manhattan", "Chinatown", "Yellow Zone"),
    ("Bronx", "City Island", "Boro Zone"),
    ("Bronx", "Claremont/Bathgate", "Boro Zone"),
    ("Manhattan", "Clinton East", "Yellow Zone"),
    ("Brooklyn", "Clinton Hill", "Boro Zone"),
    ("Manhattan", "Clinton West", "Yellow Zone"),
    ("Bronx", "Co-Op City", "Boro Zone"),
    ("Brooklyn", "Cobble Hill", "Boro Zone"),
    ("Queens", "College Point", "Boro Zone"),
    ("Brooklyn", "Columbia Street", "Boro Zone"),
    ("Brooklyn", "Coney Island", "Boro Zone"),
    ("Queens", "Corona", "Boro Zone"),
    ("Queens", "Corona North", "Boro Zone"),
    ("Bronx", "Country Club", "Boro Zone"),
    ("Bronx", "Crotona Park", "Boro Zone"),
    ("Bronx", "Crotona Park East", "Boro Zone"),
    ("Brooklyn", "Crown Heights North", "Boro Zone"),
    ("Manhattan", "East Chelsea", "Yellow Zone"),
    ("Manhattan", "East Village", "Yellow Zone"),
    ("Queens", "JFK Airport", "Airports"),
    ("Queens", "LaGuardia Airport", "Airports"),
];

/// vendor_id (1-based index), name, country. Vendor 5 has no trips (useful for outer joins).
const VENDORS: &[(&str, &str)] = &[
    ("Metro Yellow Cab Co.", "US"),
    ("Hudson Meter Systems", "US"),
    ("Boroughs Fleet Partners", "US"),
    ("Maple Ride Technologies", "CA"),
    ("Lantern Mobility GmbH", "DE"),
];

/// Payment types with their weights (out of 100).
const PAYMENTS: &[(&str, u64)] = &[("card", 70), ("cash", 25), ("no_charge", 3), ("dispute", 2)];

/// SplitMix64: tiny, fast and good enough for sample data; no crate needed.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Picks from `(item, weight)` pairs.
    fn weighted<'a, T>(&mut self, items: &'a [(T, u64)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total);
        for (item, w) in items {
            if roll < *w {
                return item;
            }
            roll -= w;
        }
        &items[items.len() - 1].0
    }
}

fn main() -> Res<()> {
    let out = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample"),
    };
    std::fs::create_dir_all(&out)
        .map_err(|e| format!("cannot create output directory {}: {e}", out.display()))?;
    let mut rng = Rng(0x5157_4152_5259); // "QUARRY"
    write_csv(&out.join("zones.csv"), &zones_batch()?)?;
    write_csv(&out.join("vendors.csv"), &vendors_batch()?)?;
    write_parquet(&out.join("trips.parquet"), &trips_batch(&mut rng)?)?;
    write_events(&out.join("events.json"), &mut rng)?;
    for name in ["trips.parquet", "zones.csv", "vendors.csv", "events.json"] {
        let len = std::fs::metadata(out.join(name))?.len();
        println!("wrote {} ({len} bytes)", out.join(name).display());
    }
    Ok(())
}

fn zones_batch() -> Res<RecordBatch> {
    let ids: Vec<i32> = (1..=ZONES.len() as i32).collect();
    let schema = Schema::new(vec![
        Field::new("zone_id", DataType::Int32, false),
        Field::new("borough", DataType::Utf8, false),
        Field::new("zone", DataType::Utf8, false),
        Field::new("service_zone", DataType::Utf8, false),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(ids)),
        Arc::new(StringArray::from_iter_values(ZONES.iter().map(|z| z.0))),
        Arc::new(StringArray::from_iter_values(ZONES.iter().map(|z| z.1))),
        Arc::new(StringArray::from_iter_values(ZONES.iter().map(|z| z.2))),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
}

fn vendors_batch() -> Res<RecordBatch> {
    let ids: Vec<i32> = (1..=VENDORS.len() as i32).collect();
    let schema = Schema::new(vec![
        Field::new("vendor_id", DataType::Int32, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("country", DataType::Utf8, false),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(ids)),
        Arc::new(StringArray::from_iter_values(VENDORS.iter().map(|v| v.0))),
        Arc::new(StringArray::from_iter_values(VENDORS.iter().map(|v| v.1))),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
}

/// One generated trip, amounts in cents.
struct Trip {
    vendor_id: i32,
    pickup_at: i64,
    dropoff_at: i64,
    passengers: Option<i32>,
    distance_km: f64,
    fare_cents: i128,
    tip_cents: i128,
    payment: &'static str,
    pickup_zone: i32,
    dropoff_zone: i32,
}

/// Zone ids weighted towards Manhattan's Yellow Zone and the airports, as real trips are.
fn zone_weights() -> Vec<(i32, u64)> {
    ZONES
        .iter()
        .enumerate()
        .map(|(i, (_, _, service))| {
            let w = match *service {
                "Yellow Zone" => 30,
                "Airports" => 20,
                "EWR" => 2,
                _ => 4,
            };
            (i as i32 + 1, w)
        })
        .collect()
}

/// Hour-of-day weights: quiet at night, peaks in the morning and the evening.
const HOUR_WEIGHTS: [u64; 24] = [
    6, 4, 3, 2, 2, 3, 6, 10, 13, 12, 11, 11, 12, 12, 13, 14, 15, 17, 18, 17, 15, 13, 11, 8,
];

fn gen_trip(rng: &mut Rng, zones: &[(i32, u64)], hours: &[(u64, u64)]) -> Trip {
    let day = rng.below(31) as i64;
    let hour = *rng.weighted(hours) as i64;
    let second = (day * SECONDS_PER_DAY) + hour * 3600 + rng.below(3600) as i64;
    let pickup_at = JAN_2024_MICROS + second * MICROS_PER_SECOND;
    // Log-normal distance: median ~3 km, a long tail to airports.
    let distance_km = ((1.1 + 0.75 * rng.normal()).exp()).clamp(0.1, 80.0);
    let distance_km = (distance_km * 100.0).round() / 100.0;
    let speed_kmh = (18.0 + 6.0 * rng.normal()).clamp(6.0, 50.0);
    let minutes = (distance_km / speed_kmh * 60.0 + 2.0 + rng.unit() * 3.0).max(1.0);
    let dropoff_at = pickup_at + (minutes * 60.0) as i64 * MICROS_PER_SECOND;
    let payment = *rng.weighted(PAYMENTS);
    let fare = 3.0 + 1.56 * distance_km + 0.70 * minutes;
    let fare_cents = if payment == "no_charge" {
        0
    } else {
        (fare * 100.0).round() as i128
    };
    let tip_cents = if payment == "card" {
        let pct = [0.0, 0.10, 0.15, 0.18, 0.20, 0.25][rng.below(6) as usize];
        (fare_cents as f64 * pct).round() as i128
    } else {
        0
    };
    let passengers = if rng.below(100) < 3 {
        None
    } else {
        Some(*rng.weighted(&[(1, 70), (2, 15), (3, 6), (4, 4), (5, 3), (6, 2)]))
    };
    Trip {
        vendor_id: *rng.weighted(&[(1, 45), (2, 40), (3, 10), (4, 5)]),
        pickup_at,
        dropoff_at,
        passengers,
        distance_km,
        fare_cents,
        tip_cents,
        payment,
        pickup_zone: *rng.weighted(zones),
        dropoff_zone: *rng.weighted(zones),
    }
}

fn trips_batch(rng: &mut Rng) -> Res<RecordBatch> {
    let zones = zone_weights();
    let hours: Vec<(u64, u64)> = (0..24u64).zip(HOUR_WEIGHTS).collect();
    let mut trips: Vec<Trip> = (0..TRIPS).map(|_| gen_trip(rng, &zones, &hours)).collect();
    trips.sort_by_key(|t| t.pickup_at);
    let money = |f: fn(&Trip) -> i128| -> Res<ArrayRef> {
        let arr = Decimal128Array::from_iter_values(trips.iter().map(f))
            .with_precision_and_scale(10, 2)?;
        Ok(Arc::new(arr))
    };
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(1..=TRIPS as i64)),
        Arc::new(Int32Array::from_iter_values(
            trips.iter().map(|t| t.vendor_id),
        )),
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            trips.iter().map(|t| t.pickup_at),
        )),
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            trips.iter().map(|t| t.dropoff_at),
        )),
        Arc::new(Int32Array::from_iter(trips.iter().map(|t| t.passengers))),
        Arc::new(Float64Array::from_iter_values(
            trips.iter().map(|t| t.distance_km),
        )),
        money(|t| t.fare_cents)?,
        money(|t| t.tip_cents)?,
        Arc::new(StringArray::from_iter_values(
            trips.iter().map(|t| t.payment),
        )),
        Arc::new(Int32Array::from_iter_values(
            trips.iter().map(|t| t.pickup_zone),
        )),
        Arc::new(Int32Array::from_iter_values(
            trips.iter().map(|t| t.dropoff_zone),
        )),
    ];
    Ok(RecordBatch::try_new(Arc::new(trips_schema()), cols)?)
}

fn trips_schema() -> Schema {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, None);
    let money = DataType::Decimal128(10, 2);
    Schema::new(vec![
        Field::new("trip_id", DataType::Int64, false),
        Field::new("vendor_id", DataType::Int32, false),
        Field::new("pickup_at", ts.clone(), false),
        Field::new("dropoff_at", ts, false),
        Field::new("passenger_count", DataType::Int32, true),
        Field::new("distance_km", DataType::Float64, false),
        Field::new("fare_amount", money.clone(), false),
        Field::new("tip_amount", money, false),
        Field::new("payment_type", DataType::Utf8, false),
        Field::new("pickup_zone_id", DataType::Int32, false),
        Field::new("dropoff_zone_id", DataType::Int32, false),
    ])
}

fn write_csv(path: &Path, batch: &RecordBatch) -> Res<()> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut writer = arrow::csv::WriterBuilder::new()
        .with_header(true)
        .build(file);
    writer.write(batch)?;
    Ok(())
}

fn write_parquet(path: &Path, batch: &RecordBatch) -> Res<()> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(6)?))
        // Several row groups, so readers that prune or parallelise by row group have work to do.
        .set_max_row_group_row_count(Some(10_000))
        .build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}

const EVENT_KINDS: &[(&str, u64)] = &[
    ("app_open", 30),
    ("search", 25),
    ("ride_requested", 20),
    ("ride_cancelled", 5),
    ("rating_submitted", 12),
    ("payment_failed", 3),
    ("support_ticket", 5),
];
const PLATFORMS: &[&str] = &["ios", "android", "web"];
const LOCALES: &[&str] = &["en-US", "es-US", "fr-CA", "de-DE", "zh-CN"];
const TAGS: &[&str] = &[
    "airport",
    "night",
    "promo",
    "surge",
    "accessible",
    "shared",
    "rainy",
    "weekend",
];
const FIRST_NAMES: &[&str] = &[
    "Ada", "Bo", "Chloé", "Dmitri", "Esi", "Farah", "Gus", "Hiro", "Iris", "José", "Kai", "Lena",
];

/// Writes `events.json`: one JSON object per line, with a nested `user` object, a `tags`
/// array and a `trip_id` that joins to `trips` (null for events that belong to no trip).
fn write_events(path: &Path, rng: &mut Rng) -> Res<()> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut out = BufWriter::new(file);
    let mut ts = JAN_2024_MICROS / MICROS_PER_SECOND;
    for id in 1..=EVENTS {
        ts += 60 + rng.below(5_300) as i64;
        let line = serde_json::to_string(&event(rng, id, ts))?;
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

fn event(rng: &mut Rng, id: usize, epoch_secs: i64) -> serde_json::Value {
    let kind = *rng.weighted(EVENT_KINDS);
    let trip_id = match kind {
        "ride_requested" | "ride_cancelled" | "rating_submitted" | "payment_failed" => {
            serde_json::Value::from(1 + rng.below(TRIPS as u64))
        }
        _ => serde_json::Value::Null,
    };
    let user_id = 1000 + rng.below(120);
    let tag_count = rng.below(4) as usize;
    let mut tags: Vec<&str> = (0..tag_count)
        .map(|_| TAGS[rng.below(TAGS.len() as u64) as usize])
        .collect();
    tags.sort_unstable();
    tags.dedup();
    let rating = match kind {
        "rating_submitted" => serde_json::Value::from(1 + rng.below(5)),
        _ => serde_json::Value::Null,
    };
    serde_json::json!({
        "event_id": id,
        "occurred_at": rfc3339(epoch_secs),
        "kind": kind,
        "trip_id": trip_id,
        "user": {
            "id": user_id,
            "name": FIRST_NAMES[(user_id % FIRST_NAMES.len() as u64) as usize],
            "platform": PLATFORMS[rng.below(PLATFORMS.len() as u64) as usize],
            "locale": LOCALES[(user_id % LOCALES.len() as u64) as usize],
        },
        "tags": tags,
        "rating": rating,
    })
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, Howard Hinnant).
fn rfc3339(epoch_secs: i64) -> String {
    let days = epoch_secs.div_euclid(SECONDS_PER_DAY);
    let secs = epoch_secs.rem_euclid(SECONDS_PER_DAY);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
