//! Tests of the whole conversion, rows in and batches out, for every supported type.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    IntervalMonthDayNanoType, Time64MicrosecondType, TimestampMicrosecondType,
};
use bytes::BytesMut;
use tokio_postgres::types::{Kind, ToSql};

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
                format!("column `ts`: infinity shown as NULL ({name} has no infinity in Arrow)"),
                format!("column `ts`: -infinity shown as NULL ({name} has no -infinity in Arrow)"),
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
    let net =
        |family: u8, bits: u8, addr: &[u8]| Some(be(&[&[family, bits, 1, addr.len() as u8], addr]));
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
        let mut conv = RowsToArrow::new(vec![col("first", Type::INT4), c, col("last", Type::TEXT)]);
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
