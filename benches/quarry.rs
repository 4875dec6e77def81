//! Criterion benchmarks: grid draw with 1 M rows loaded, startup to the first frame,
//! sorting / filtering 1 M loaded rows, and turning Athena result pages, DynamoDB item pages,
//! Redshift Data API records, PostgreSQL wire-protocol rows and Athena Spark `display()` result
//! files into Arrow batches; big values (`big_values`): the inspector on a cell nested 20 000
//! deep and on a 10 MB line, the editor on a 1 MB single-line statement.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use aws_sdk_athena::types::{ColumnInfo, Datum, Row};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_redshiftdata::types::{ColumnMetadata, Field as RsField};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use quarry::app::keymap::Keymap;
use quarry::app::{Effect, Msg, State, StateInit, update};
use quarry::connectors::athena::rows as athena_rows;
use quarry::connectors::athena::spark::result::{
    Output as SparkOutput, parse as parse_spark_output,
};
use quarry::connectors::dynamodb::items::ItemsToArrow;
use quarry::connectors::dynamodb::values::write_dynamodb_json;
use quarry::connectors::redshift_data::rows as redshift_rows;
use quarry::connectors::redshift_pg::values::{PgColumn, RowsToArrow};
use quarry::connectors::{JobEvent, JobSummary};
use quarry::results::{ResultSet, SortOrder, filter_indices, sort_indices};
use quarry::ui::{Ui, draw};
use quarry::worker::{JobOutcome, WorkerCmd, WorkerEvent};

#[path = "quarry/big_values.rs"]
mod big_values;

const COLS: usize = 20;

fn schema() -> Arc<Schema> {
    let fields: Vec<Field> = (0..COLS)
        .map(|c| match c % 3 {
            0 => Field::new(format!("id_{c}"), DataType::Int64, false),
            1 => Field::new(format!("amount_{c}"), DataType::Float64, true),
            _ => Field::new(format!("label_{c}"), DataType::Utf8, true),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// `rows` rows in 8 192-row batches (DataFusion's batch size).
fn batches(rows: usize) -> Vec<RecordBatch> {
    let schema = schema();
    let mut out = Vec::new();
    let mut start = 0;
    while start < rows {
        let n = (rows - start).min(8192);
        let cols: Vec<ArrayRef> = (0..COLS)
            .map(|c| -> ArrayRef {
                match c % 3 {
                    0 => Arc::new(Int64Array::from_iter_values(
                        (start..start + n).map(|i| (i * 7919 % 1_000_003) as i64),
                    )),
                    1 => Arc::new(Float64Array::from_iter(
                        (start..start + n).map(|i| (i % 10 != 0).then_some(i as f64 * 1.25)),
                    )),
                    _ => {
                        Arc::new(StringArray::from_iter((start..start + n).map(|i| {
                            (i % 13 != 0).then(|| format!("label-{}-{}", c, i % 5000))
                        })))
                    }
                }
            })
            .collect();
        out.push(RecordBatch::try_new(schema.clone(), cols).expect("valid batch"));
        start += n;
    }
    out
}

fn init(area: Rect) -> StateInit {
    StateInit::first_start(area, Instant::now())
}

/// A state showing a finished result of `rows` rows, focused on the grid, scrolled to the middle.
fn state_with_rows(rows: usize) -> State {
    let mut s = State::new(init(Rect::new(0, 0, 200, 50)));
    for c in "SELECT * FROM big".chars() {
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        );
    }
    let fx = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL)),
    );
    let job = fx
        .iter()
        .find_map(|e| match e {
            Effect::Worker(WorkerCmd::Run { job, .. }) => Some(*job),
            _ => None,
        })
        .expect("a run");
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Schema(schema()))),
    );
    for b in batches(rows) {
        update(
            &mut s,
            Msg::Worker(WorkerEvent::Job(job, JobEvent::Batch(b))),
        );
    }
    update(
        &mut s,
        Msg::Worker(WorkerEvent::JobFinished {
            job,
            outcome: JobOutcome::Succeeded(JobSummary::default()),
            elapsed: Duration::from_secs(1),
        }),
    );
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('3'), KeyModifiers::ALT)),
    );
    for _ in 0..(rows / 2 / 40).min(200) {
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)),
        );
    }
    s
}

fn grid_draw(c: &mut Criterion) {
    let ui = Ui::loaded();
    let mut group = c.benchmark_group("grid_draw_200x50");
    for rows in [1_000usize, 1_000_000] {
        let mut s = state_with_rows(rows);
        // Jump to the middle of the result so lookups are not at the first batch.
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)),
        );
        for _ in 0..(rows / 2 / 44) {
            if rows > 10_000 {
                break;
            }
            update(
                &mut s,
                Msg::Key(KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE)),
            );
        }
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
        group.bench_function(format!("{rows}_rows_x20"), |b| {
            b.iter(|| {
                terminal
                    .draw(|f| draw(f, black_box(&s), &ui))
                    .expect("draw");
            })
        });
    }
    group.finish();
}

fn startup(c: &mut Criterion) {
    let example = include_str!("../config/quarry.toml");
    c.bench_function("startup_to_first_frame", |b| {
        b.iter(|| {
            let config = quarry::store::config::parse(example, std::path::Path::new("quarry.toml"))
                .expect("example parses");
            let keymap = Keymap::new(&config.keys).expect("keymap");
            let mut i = init(Rect::new(0, 0, 200, 50));
            i.keymap = keymap;
            let s = State::new(i);
            // The app draws its first frame before the highlighter (loaded on a background
            // thread) is ready, so the first frame is drawn without it, as here.
            let ui = Ui::default();
            let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
            terminal.draw(|f| draw(f, &s, &ui)).expect("draw");
            black_box(terminal);
        })
    });
}

fn sort_filter(c: &mut Criterion) {
    let mut rs = ResultSet::new(schema());
    for b in batches(1_000_000) {
        rs.push_batch(b);
    }
    let mut group = c.benchmark_group("view_1m_rows_x20");
    group.sample_size(10);
    group.bench_function("sort_int64", |b| {
        b.iter(|| sort_indices(&rs, 0, SortOrder::Ascending).expect("sort"))
    });
    group.bench_function("sort_utf8", |b| {
        b.iter(|| sort_indices(&rs, 2, SortOrder::Descending).expect("sort"))
    });
    group.bench_function("filter_substring_all_columns", |b| {
        b.iter(|| filter_indices(&rs, "label-5-49").expect("filter"))
    });
    group.finish();
}

/// 25 GetQueryResults pages of 1 000 rows, 8 columns of Athena's common types.
fn athena_pages() -> (Vec<ColumnInfo>, Vec<Vec<Row>>) {
    let col = |name: &str, ty: &str, precision: i32, scale: i32| {
        ColumnInfo::builder()
            .name(name)
            .label(name)
            .r#type(ty)
            .precision(precision)
            .scale(scale)
            .build()
            .expect("name and type set")
    };
    let columns = vec![
        col("id", "bigint", 19, 0),
        col("name", "varchar", 0, 0),
        col("amount", "decimal", 12, 2),
        col("score", "double", 17, 0),
        col("ok", "boolean", 0, 0),
        col("day", "date", 0, 0),
        col("ts", "timestamp", 3, 0),
        col("tags", "array", 0, 0),
    ];
    let datum = |v: String| Datum::builder().var_char_value(v).build();
    let pages = (0..25)
        .map(|p| {
            (0..1000)
                .map(|r| {
                    let i = p * 1000 + r;
                    Row::builder()
                        .set_data(Some(vec![
                            datum(i.to_string()),
                            datum(format!("customer-{i}")),
                            datum(format!("{}.{:02}", i % 10_000, i % 100)),
                            datum(format!("{}", i as f64 / 7.0)),
                            datum((i % 2 == 0).to_string()),
                            datum(format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1)),
                            datum(format!("2024-01-02 03:04:{:02}.123", i % 60)),
                            datum(format!("[a{i}, b]")),
                        ]))
                        .build()
                })
                .collect()
        })
        .collect();
    (columns, pages)
}

fn athena_conversion(c: &mut Criterion) {
    let (columns, pages) = athena_pages();
    let rows: u64 = pages.iter().map(|p| p.len() as u64).sum();
    let mut group = c.benchmark_group("athena_pages_to_arrow");
    group.throughput(Throughput::Elements(rows));
    group.bench_function("25_pages_x1000_rows_x8_cols", |b| {
        b.iter(|| {
            let schema = athena_rows::schema(&columns);
            for page in &pages {
                black_box(athena_rows::to_batch(&schema, page).expect("converts"));
            }
        })
    });
    group.finish();
}

/// One ExecuteStatement page at DynamoDB's 1 MB limit: 2 000 items of ~500 bytes (a string
/// partition key, a numeric sort key, strings, an integer, a decimal, a BOOL, a small map and a
/// string set).
fn dynamodb_page() -> Vec<HashMap<String, AttributeValue>> {
    let s = |v: String| AttributeValue::S(v);
    let n = |v: String| AttributeValue::N(v);
    (0..2000u64)
        .map(|i| {
            let address = HashMap::from([
                (
                    "street".to_string(),
                    s(format!("{} Long Example Street", i % 900)),
                ),
                ("city".to_string(), s(format!("City number {}", i % 50))),
                ("zip".to_string(), s(format!("{:05}", i * 37 % 100_000))),
            ]);
            HashMap::from([
                ("pk".to_string(), s(format!("CUSTOMER#{:08}", i / 10))),
                ("sk".to_string(), n((1_700_000_000_000 + i).to_string())),
                (
                    "name".to_string(),
                    s(format!("Customer {i} with a longer display name")),
                ),
                (
                    "email".to_string(),
                    s(format!("customer.{i}@example-company.com")),
                ),
                (
                    "note".to_string(),
                    s(format!(
                        "{i}: {}",
                        "free text written by people. ".repeat(4)
                    )),
                ),
                ("qty".to_string(), n((i % 500).to_string())),
                (
                    "price".to_string(),
                    n(format!("{}.{:02}", i % 1000, i % 100)),
                ),
                ("active".to_string(), AttributeValue::Bool(i % 3 != 0)),
                ("address".to_string(), AttributeValue::M(address)),
                (
                    "tags".to_string(),
                    AttributeValue::Ss(vec![
                        "vip".into(),
                        "newsletter".into(),
                        format!("segment-{}", i % 7),
                    ]),
                ),
            ])
        })
        .collect()
}

fn dynamodb_conversion(c: &mut Criterion) {
    let items = dynamodb_page();
    // The page's size as DynamoDB JSON, the form it crosses the network in.
    let mut json = String::new();
    for item in &items {
        for (name, v) in item {
            json.push_str(name);
            write_dynamodb_json(&mut json, v);
        }
    }
    let kb = json.len() / 1000;
    let mut group = c.benchmark_group(format!("dynamodb_page_{kb}kB_to_arrow"));
    group.throughput(Throughput::Elements(items.len() as u64));
    group.bench_function(format!("{}_items_x10_attributes", items.len()), |b| {
        b.iter(|| {
            ItemsToArrow::new(vec!["pk".into(), "sk".into()])
                .page(black_box(&items))
                .expect("converts")
        })
    });
    group.finish();
}

/// 25 GetStatementResult pages of 1 000 records, 8 columns of Redshift's common types (values
/// as the Data API sends them: longValue, stringValue, doubleValue, booleanValue).
fn redshift_data_pages() -> (Vec<ColumnMetadata>, Vec<Vec<Vec<RsField>>>) {
    let col = |name: &str, ty: &str, precision: i32, scale: i32| {
        ColumnMetadata::builder()
            .name(name)
            .label(name)
            .type_name(ty)
            .precision(precision)
            .scale(scale)
            .build()
    };
    let columns = vec![
        col("id", "int8", 19, 0),
        col("name", "varchar", 256, 0),
        col("amount", "numeric", 12, 2),
        col("score", "float8", 17, 17),
        col("ok", "bool", 1, 0),
        col("day", "date", 13, 0),
        col("ts", "timestamp", 29, 6),
        col("doc", "super", 0, 0),
    ];
    let text = |v: String| RsField::StringValue(v);
    let pages = (0..25)
        .map(|p| {
            (0..1000)
                .map(|r| {
                    let i = p * 1000 + r;
                    vec![
                        RsField::LongValue(i),
                        text(format!("customer-{i}")),
                        text(format!("{}.{:02}", i % 10_000, i % 100)),
                        RsField::DoubleValue(i as f64 / 7.0),
                        RsField::BooleanValue(i % 2 == 0),
                        text(format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1)),
                        text(format!("2024-01-02 03:04:{:02}.123456", i % 60)),
                        text(format!("{{\"k\":{i}}}")),
                    ]
                })
                .collect()
        })
        .collect();
    (columns, pages)
}

fn redshift_data_conversion(c: &mut Criterion) {
    let (columns, pages) = redshift_data_pages();
    let rows: u64 = pages.iter().map(|p| p.len() as u64).sum();
    let mut group = c.benchmark_group("redshift_data_pages_to_arrow");
    group.throughput(Throughput::Elements(rows));
    group.bench_function("25_pages_x1000_rows_x8_cols", |b| {
        b.iter(|| {
            let schema = redshift_rows::schema(&columns);
            for page in &pages {
                black_box(redshift_rows::to_batch(&schema, page).expect("converts"));
            }
        })
    });
    group.finish();
}

/// Byte ranges of one row's values in a shared buffer.
type PgRow = [Option<(usize, usize)>; 8];

/// 100 000 rows of 8 columns as a PostgreSQL server sends them (binary format): int4, int8,
/// numeric(18,2), text of ~20 characters (every tenth NULL), timestamptz, bool, float8, date.
/// Values live in one buffer; each row holds the byte ranges of its values (`None`: NULL).
fn redshift_pg_rows() -> (Vec<PgColumn>, Vec<u8>, Vec<PgRow>) {
    use tokio_postgres::types::{ToSql, Type};

    fn sql<T: ToSql>(v: T, ty: &Type) -> Vec<u8> {
        let mut b = bytes::BytesMut::new();
        v.to_sql(ty, &mut b).expect("encodes");
        b.to_vec()
    }

    let col = |name: &str, type_: Type, type_modifier: i32| PgColumn {
        name: name.into(),
        type_,
        type_modifier,
    };
    let columns = vec![
        col("id", Type::INT4, -1),
        col("big", Type::INT8, -1),
        col("amount", Type::NUMERIC, ((18 << 16) | 2) + 4),
        col("name", Type::TEXT, -1),
        col("at", Type::TIMESTAMPTZ, -1),
        col("ok", Type::BOOL, -1),
        col("score", Type::FLOAT8, -1),
        col("day", Type::DATE, -1),
    ];
    // numeric_send of cents / 100 with two decimal places.
    let numeric = |cents: i64| -> Vec<u8> {
        let mut groups = Vec::new();
        let mut int = cents.abs() / 100;
        while int > 0 {
            groups.insert(0, (int % 10_000) as i16);
            int /= 10_000;
        }
        let mut weight = groups.len() as i16 - 1;
        groups.push((cents.abs() % 100 * 100) as i16);
        while groups.last() == Some(&0) {
            groups.pop();
        }
        while groups.first() == Some(&0) {
            groups.remove(0);
            weight -= 1;
        }
        let sign: u16 = if cents < 0 { 0x4000 } else { 0 };
        let mut out = Vec::new();
        out.extend((groups.len() as i16).to_be_bytes());
        out.extend(weight.to_be_bytes());
        out.extend(sign.to_be_bytes());
        out.extend(2u16.to_be_bytes());
        for g in groups {
            out.extend(g.to_be_bytes());
        }
        out
    };
    let mut buf = Vec::new();
    let mut push = |v: Option<Vec<u8>>| {
        v.map(|v| {
            let start = buf.len();
            buf.extend_from_slice(&v);
            (start, buf.len())
        })
    };
    let start = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let rows = (0..100_000i64)
        .map(|i| {
            [
                push(Some(sql(i as i32, &Type::INT4))),
                push(Some(sql(i * 1_000_003, &Type::INT8))),
                push(Some(numeric((i - 50_000) * 1_234 + i % 100))),
                push((i % 10 != 0).then(|| sql(format!("customer-{i:011}"), &Type::TEXT))),
                push(Some(sql(
                    start + Duration::from_micros(i as u64 * 1_000_003),
                    &Type::TIMESTAMPTZ,
                ))),
                push(Some(sql(i % 3 == 0, &Type::BOOL))),
                push(Some(sql(i as f64 / 7.0, &Type::FLOAT8))),
                // Days since 2000-01-01.
                push(Some((8_000 + (i % 3650) as i32).to_be_bytes().to_vec())),
            ]
        })
        .collect();
    (columns, buf, rows)
}

fn redshift_pg_rows_to_arrow(c: &mut Criterion) {
    let (columns, buf, rows) = redshift_pg_rows();
    let mut group = c.benchmark_group("redshift_pg_rows_to_arrow");
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.bench_function(format!("{}_rows_x8_cols", rows.len()), |b| {
        b.iter(|| {
            let mut conv = RowsToArrow::new(columns.clone());
            for row in &rows {
                let values = row.iter().map(|r| r.map(|(s, e)| &buf[s..e]));
                conv.push_row(values).expect("converts");
                if conv.len() == 8192 {
                    black_box(conv.finish());
                }
            }
            black_box(conv.finish());
        })
    });
    group.finish();
}

/// 1 000 000 rows × 10 columns of mixed types (ints, floats, strings with some NULLs, a
/// decimal, a bool, a date, a timestamp) in 8 192-row batches, for the export benchmarks.
fn export_batches() -> (Arc<Schema>, Vec<RecordBatch>) {
    use arrow::array::{
        BooleanArray, Date32Array, Decimal128Array, Int32Array, TimestampMicrosecondArray,
    };
    use arrow::datatypes::TimeUnit;

    const ROWS: usize = 1_000_000;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("qty", DataType::Int32, true),
        Field::new("price", DataType::Float64, true),
        Field::new("ratio", DataType::Float64, true),
        Field::new("vendor", DataType::Utf8, true),
        Field::new("note", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(38, 10), true),
        Field::new("paid", DataType::Boolean, true),
        Field::new("day", DataType::Date32, true),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
            true,
        ),
    ]));
    let mut out = Vec::new();
    let mut start = 0;
    while start < ROWS {
        let n = (ROWS - start).min(8192);
        let r = start..start + n;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(r.clone().map(|i| i as i64))),
            Arc::new(Int32Array::from_iter(
                r.clone()
                    .map(|i| (i % 17 != 0).then_some((i % 1000) as i32)),
            )),
            Arc::new(Float64Array::from_iter_values(
                r.clone().map(|i| (i % 10_000) as f64 * 0.01),
            )),
            Arc::new(Float64Array::from_iter(
                r.clone()
                    .map(|i| (i % 7 != 0).then_some(1.0 / (i + 1) as f64)),
            )),
            Arc::new(StringArray::from_iter_values(
                r.clone().map(|i| format!("vendor-{}", i % 300)),
            )),
            Arc::new(StringArray::from_iter(r.clone().map(|i| {
                (i % 5 != 0).then(|| format!("note {i}, with \"quotes\" and commas"))
            }))),
            Arc::new(
                Decimal128Array::from_iter(
                    r.clone()
                        .map(|i| (i % 11 != 0).then_some(i as i128 * 1_234_567_891_234)),
                )
                .with_precision_and_scale(38, 10)
                .expect("valid decimal"),
            ),
            Arc::new(BooleanArray::from_iter(
                r.clone().map(|i| (i % 13 != 0).then_some(i % 2 == 0)),
            )),
            Arc::new(Date32Array::from_iter_values(
                r.clone().map(|i| 19_000 + (i % 3650) as i32),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    r.map(|i| 1_700_000_000_000_000 + i as i64 * 1_000_003),
                )
                .with_timezone("+00:00"),
            ),
        ];
        out.push(RecordBatch::try_new(schema.clone(), cols).expect("valid batch"));
        start += n;
    }
    (schema, out)
}

fn export_1m_rows(c: &mut Criterion) {
    use quarry::export::{BatchWriter, Format, Overwrite, export_file};

    let (schema, batches) = export_batches();
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("export_1m_rows");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows));
    group.bench_function("csv_to_sink", |b| {
        b.iter(|| {
            let sink = std::io::BufWriter::new(std::io::sink());
            let mut w = BatchWriter::new(sink, Format::Csv, schema.clone()).expect("writer");
            for batch in &batches {
                w.write(batch).expect("writes");
            }
            black_box(w.finish().expect("finishes"));
        })
    });
    let path = dir.path().join("export.parquet");
    group.bench_function("parquet_to_file", |b| {
        b.iter(|| {
            let n = export_file(
                &path,
                Format::Parquet,
                schema.clone(),
                &batches,
                Overwrite::Replace,
            )
            .expect("exports");
            black_box(n);
        })
    });
    group.finish();
}

/// Athena Spark: a `display()` result file (a JSON array of objects, as the service writes it to
/// S3) → typed Arrow batches, as a calculation's output is read back.
fn spark_display_to_arrow(c: &mut Criterion) {
    const ROWS: usize = 100_000;
    let cities = ["Oslo", "Lima", "Pune"];
    let mut json = String::from("[");
    for i in 0..ROWS {
        if i > 0 {
            json.push_str(",\n");
        }
        let note = if i % 10 == 0 { "null" } else { "\"ok\"" };
        json.push_str(&format!(
            r#"{{"vendor":"vendor-{}","trips":{},"share":{:.4},"active":{},"city":"{}","note":{note}}}"#,
            i % 97,
            i * 7,
            (i % 1000) as f64 / 1000.0,
            i % 2 == 0,
            cities[i % 3],
        ));
    }
    json.push(']');
    let bytes = json.into_bytes();
    let mut group = c.benchmark_group("spark_display_to_arrow");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("100k_rows_6_columns", |b| {
        b.iter(
            || match parse_spark_output(black_box(&bytes), Some("application/json")) {
                SparkOutput::Table { batches, .. } => black_box(batches.len()),
                SparkOutput::Text(_) => panic!("a display() result is a table"),
            },
        )
    });
    group.finish();
}

/// Ranking a 20 000-table catalog on a keystroke (issue 18: ≤ 2 ms): the ranking alone, for a
/// typed prefix and a fuzzy pattern, and the whole completion (context, scope, gathering and
/// quoting 20 000 candidates, ranking) after `FROM`.
fn completion(c: &mut Criterion) {
    use quarry::model::completion::{CatalogSnapshot, TableEntry};
    use quarry::model::connection::ConnectionKind;
    use quarry::sql::complete::{complete, rank::rank_labels};

    const DOMAINS: [&str; 5] = ["sales", "ops", "finance", "marketing", "hr"];
    const THINGS: [&str; 4] = ["orders", "events", "invoices", "users"];
    let names: Vec<String> = (0..20_000)
        .map(|i| {
            let (domain, thing) = (DOMAINS[i % 5], THINGS[(i / 5) % 4]);
            format!("{domain}_{}_q{}_{thing}_{i:04}", 2020 + i % 6, 1 + i % 4)
        })
        .collect();
    let catalog = CatalogSnapshot {
        schemas: vec![vec!["warehouse".to_owned()]],
        tables: names
            .iter()
            .map(|n| TableEntry {
                schema: vec!["warehouse".to_owned()],
                name: n.clone(),
                view: false,
                columns: None,
                keys: Vec::new(),
            })
            .collect(),
    };
    let mut group = c.benchmark_group("completion");
    group.throughput(Throughput::Elements(names.len() as u64));
    group.bench_function("rank_20k_prefix_sal", |b| {
        b.iter(|| rank_labels(black_box("sal"), names.iter().map(String::as_str)).len())
    });
    group.bench_function("rank_20k_fuzzy_s24q1o", |b| {
        b.iter(|| rank_labels(black_box("s24q1o"), names.iter().map(String::as_str)).len())
    });
    let sql = "SELECT * FROM sal";
    group.bench_function("complete_20k_tables_after_from", |b| {
        b.iter(|| {
            complete(
                black_box(sql),
                sql.len(),
                ConnectionKind::Athena,
                &catalog,
                &[],
            )
            .items
            .len()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    grid_draw,
    startup,
    sort_filter,
    athena_conversion,
    dynamodb_conversion,
    redshift_data_conversion,
    redshift_pg_rows_to_arrow,
    spark_display_to_arrow,
    export_1m_rows,
    big_values::inspector,
    big_values::editor_long_line,
    completion
);
criterion_main!(benches);
