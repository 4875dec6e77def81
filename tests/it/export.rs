//! `quarry::export` at library level (the embedded engine is optional): one batch with the
//! awkward values (NULLs, quotes, commas, newlines, unicode, a 38-digit decimal, every common
//! type) written in every format and read back by an independent reader — the `parquet`
//! crate's reader, arrow's IPC `FileReader`, and Python's standard library for the text
//! formats.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use serde_json::{Value, json};

use quarry::export::{ExportError, Format, Overwrite, export_file};

/// 38 significant digits, 10 of them after the point: the most a Decimal128(38, 10) holds.
const BIG: &str = "9999999999999999999999999999.9999999999";
const BIG_NEG: &str = "-1234567890123456789012345678.0123456789";
const TRICKY: &str = "comma, \"quote\"\nnext line";
const UNICODE: &str = "ünïcödé 😀 中文 \u{202e}rtl";
const PIPES: &str = "pipe|back\\slash\ttab";

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(38, 10), true),
        Field::new("ratio", DataType::Float64, true),
        Field::new("ok", DataType::Boolean, true),
        Field::new("day", DataType::Date32, true),
        Field::new(
            "at",
            // An offset, not "UTC": named zones need arrow's chrono-tz feature, which only the
            // embedded engine (a default feature) brings in.
            DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
            true,
        ),
    ]))
}

fn decimal(text: &str) -> i128 {
    text.replace('.', "").parse().unwrap()
}

/// Row 0: plain; 1: comma/quote/newline; 2: NULL everywhere it can be; 3: empty string;
/// 4: unicode; 5: pipe, backslash and tab.
fn batch(first_id: i64) -> RecordBatch {
    let ids: Vec<i64> = (first_id..first_id + 6).collect();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(StringArray::from(vec![
            Some("plain"),
            Some(TRICKY),
            None,
            Some(""),
            Some(UNICODE),
            Some(PIPES),
        ])),
        Arc::new(
            Decimal128Array::from(vec![
                Some(decimal(BIG)),
                Some(decimal(BIG_NEG)),
                None,
                Some(0),
                Some(15_000_000_000), // 1.5
                Some(-1),             // -0.0000000001
            ])
            .with_precision_and_scale(38, 10)
            .unwrap(),
        ),
        Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(-0.1),
            None,
            Some(0.0),
            Some(1e300),
            Some(123456789.125),
        ])),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
            Some(false),
            Some(true),
        ])),
        // 2024-02-29, 1970-01-01, NULL, 1969-12-31, 9999-12-31, 2000-01-01
        Arc::new(Date32Array::from(vec![
            Some(19782),
            Some(0),
            None,
            Some(-1),
            Some(2_932_896),
            Some(10957),
        ])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![
                Some(1_709_164_800_123_456), // 2024-02-29T00:00:00.123456Z
                Some(0),
                None,
                Some(-1),
                Some(1_000_000),
                Some(946_684_800_000_000),
            ])
            .with_timezone("+00:00"),
        ),
    ];
    RecordBatch::try_new(schema(), cols).unwrap()
}

fn batches() -> Vec<RecordBatch> {
    vec![batch(1), batch(7)]
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn export(dir: &Path, format: Format) -> std::path::PathBuf {
    let path = dir.join(format!("out.{}", format.extension()));
    let rows = export_file(&path, format, schema(), &batches(), Overwrite::Refuse)
        .unwrap_or_else(|e| panic!("{format}: {e}"));
    assert_eq!(rows, 12, "{format}");
    path
}

/// Runs a Python script (stdlib only) on `path`; it prints JSON, which is returned.
fn python(script: &str, path: &Path) -> Value {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .expect("python3 is needed to read the exports back independently");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What every text reader should see in the `text` and `amount` columns of one batch.
fn texts() -> Vec<Value> {
    vec![
        json!("plain"),
        json!(TRICKY),
        Value::Null,
        json!(""),
        json!(UNICODE),
        json!(PIPES),
    ]
}

fn amounts() -> Vec<Value> {
    vec![
        json!(BIG),
        json!(BIG_NEG),
        Value::Null,
        json!("0.0000000000"),
        json!("1.5000000000"),
        json!("-0.0000000001"),
    ]
}

fn column(rows: &[Value], i: usize) -> Vec<Value> {
    rows.iter().map(|r| r[i].clone()).collect()
}

#[test]
fn csv_reads_back_exactly_with_pythons_csv_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = export(dir.path(), Format::Csv);
    let rows = python(
        "import csv, json, sys\n\
         with open(sys.argv[1], newline='', encoding='utf-8') as f:\n\
         \x20   print(json.dumps(list(csv.reader(f))))",
        &path,
    );
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 13, "{rows:?}");
    assert_eq!(
        rows[0],
        json!(["id", "text", "amount", "ratio", "ok", "day", "at"])
    );
    let data = &rows[1..7];
    // CSV has no NULL: it reads back as the empty field.
    let no_null = |v: Vec<Value>| -> Vec<Value> {
        v.into_iter()
            .map(|v| if v.is_null() { json!("") } else { v })
            .collect()
    };
    assert_eq!(
        column(data, 0),
        json!(["1", "2", "3", "4", "5", "6"])
            .as_array()
            .unwrap()
            .clone()
    );
    assert_eq!(column(data, 1), no_null(texts()));
    assert_eq!(column(data, 2), no_null(amounts()));
    assert_eq!(data[0][3], "1.5");
    assert_eq!(data[1][3], "-0.1");
    assert_eq!(data[4][3].as_str().unwrap().parse::<f64>().unwrap(), 1e300);
    assert_eq!(data[5][3], "123456789.125");
    assert_eq!(
        column(data, 4),
        json!(["true", "false", "", "true", "false", "true"])
            .as_array()
            .unwrap()
            .clone()
    );
    assert_eq!(data[0][5], "2024-02-29");
    assert_eq!(data[3][5], "1969-12-31");
    assert_eq!(data[4][5], "9999-12-31");
    assert!(
        data[0][6]
            .as_str()
            .unwrap()
            .starts_with("2024-02-29T00:00:00.123456"),
        "{}",
        data[0][6]
    );
    assert_eq!(data[2][6], "");
    // The second batch follows without a second header.
    assert_eq!(rows[7][0], "7");
    assert_eq!(rows[8][1], TRICKY);
}

#[test]
fn tsv_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = export(dir.path(), Format::Tsv);
    // PostgreSQL text format: one line per row, `\N` for NULL, backslash escapes.
    let rows = python(
        r#"import json, sys
def field(s):
    if s == '\\N':
        return None
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == '\\':
            i += 1
            out.append({'t': '\t', 'n': '\n', 'r': '\r', '\\': '\\'}[s[i]])
        else:
            out.append(c)
        i += 1
    return ''.join(out)
with open(sys.argv[1], encoding='utf-8', newline='') as f:
    text = f.read()
assert text.endswith('\n')
print(json.dumps([[field(v) for v in line.split('\t')] for line in text[:-1].split('\n')]))
"#,
        &path,
    );
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 13, "{rows:?}");
    assert_eq!(
        rows[0],
        json!(["id", "text", "amount", "ratio", "ok", "day", "at"])
    );
    let data = &rows[1..7];
    assert_eq!(column(data, 1), texts());
    assert_eq!(column(data, 2), amounts());
    assert_eq!(data[2], json!(["3", null, null, null, null, null, null]));
    assert_eq!(data[5][3], "123456789.125");
    assert_eq!(data[0][5], "2024-02-29");
}

fn check_json_rows(rows: &[Value]) {
    assert_eq!(rows.len(), 12, "{rows:?}");
    let get = |row: &Value, k: &str| row.get(k).cloned().unwrap_or_else(|| panic!("no {k}"));
    let text: Vec<Value> = rows[..6].iter().map(|r| get(r, "text")).collect();
    assert_eq!(text, texts());
    // Decimals are exact JSON number literals (Python reads them as text here).
    let amount: Vec<Value> = rows[..6].iter().map(|r| get(r, "amount")).collect();
    assert_eq!(amount, amounts());
    assert_eq!(get(&rows[0], "id"), json!(1));
    assert_eq!(get(&rows[11], "id"), json!(12));
    assert_eq!(get(&rows[0], "ratio"), json!("1.5"));
    assert_eq!(get(&rows[5], "ratio"), json!("123456789.125"));
    assert_eq!(get(&rows[1], "ok"), json!(false));
    assert_eq!(get(&rows[0], "day"), json!("2024-02-29"));
    assert!(
        get(&rows[0], "at")
            .as_str()
            .unwrap()
            .starts_with("2024-02-29T00:00:00.123456"),
        "{}",
        rows[0]["at"]
    );
    // NULL is an explicit null for every column that has one.
    for k in ["text", "amount", "ratio", "ok", "day", "at"] {
        assert_eq!(get(&rows[2], k), Value::Null, "{k}");
    }
}

/// Python's json module, with floats kept as their literal text.
const READ_JSON: &str = "import json, sys\n\
    with open(sys.argv[1], encoding='utf-8') as f:\n\
    \x20   print(json.dumps(json.load(f, parse_float=str)))";

#[test]
fn json_reads_back_exactly_with_pythons_json_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = export(dir.path(), Format::Json);
    let rows = python(READ_JSON, &path);
    check_json_rows(rows.as_array().unwrap());
}

#[test]
fn jsonl_reads_back_exactly_with_pythons_json_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = export(dir.path(), Format::Jsonl);
    let rows = python(
        "import json, sys\n\
         with open(sys.argv[1], encoding='utf-8') as f:\n\
         \x20   print(json.dumps([json.loads(l, parse_float=str) for l in f.read().split('\\n') if l]))",
        &path,
    );
    check_json_rows(rows.as_array().unwrap());
    // One object per line: the embedded newline is escaped.
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 12);
}

#[test]
fn markdown_escapes_pipes_and_newlines() {
    let dir = tempfile::tempdir().unwrap();
    let path = export(dir.path(), Format::Markdown);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 + 12, "{text}");
    assert_eq!(lines[0], "| id | text | amount | ratio | ok | day | at |");
    assert_eq!(lines[1], "| ---: | --- | ---: | ---: | --- | --- | --- |");
    assert!(lines[2].starts_with(&format!("| 1 | plain | {BIG} | 1.5 | true | 2024-02-29 |")));
    assert!(
        lines[3].starts_with(
            "| 2 | comma, \"quote\"<br>next line | -1234567890123456789012345678.0123456789 |"
        ),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("| 3 | *NULL* | *NULL* | *NULL* |"),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].starts_with("| 4 |  | 0.0000000000 |"),
        "{}",
        lines[5]
    );
    // Unicode kept; the right-to-left override is neutralised.
    assert!(
        lines[6].starts_with("| 5 | ünïcödé 😀 中文 \u{FFFD}rtl |"),
        "{}",
        lines[6]
    );
    // The pipe cannot end the cell and the backslash survives rendering; the tab is shown.
    assert!(
        lines[7].starts_with("| 6 | pipe\\|back\\\\slash\u{2409}tab |"),
        "{}",
        lines[7]
    );
    // Every row has exactly the columns' cell separators (escaped pipes aside).
    for line in &lines {
        let cells = line.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 8, "{line}");
    }
}

#[test]
fn parquet_reads_back_equal_with_the_parquet_reader() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let dir = tempfile::tempdir().unwrap();
    let path = export(dir.path(), Format::Parquet);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
    let meta = builder.metadata().clone();
    assert!(
        meta.file_metadata()
            .created_by()
            .is_some_and(|c| c.starts_with("quarry")),
        "{:?}",
        meta.file_metadata().created_by()
    );
    let compression = meta.row_group(0).column(1).compression();
    assert!(
        matches!(compression, parquet::basic::Compression::ZSTD(_)),
        "{compression:?}"
    );
    let read: Vec<RecordBatch> = builder.build().unwrap().collect::<Result<_, _>>().unwrap();
    let read = concat_batches(&schema(), &read).unwrap();
    let want = concat_batches(&schema(), &batches()).unwrap();
    assert_eq!(read.schema(), schema());
    assert_eq!(read, want);
}

#[test]
fn arrow_reads_back_equal_with_the_ipc_file_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = export(dir.path(), Format::Arrow);
    assert_eq!(path.extension().unwrap(), "arrow");
    let reader =
        arrow::ipc::reader::FileReader::try_new(std::fs::File::open(&path).unwrap(), None).unwrap();
    assert_eq!(reader.num_batches(), 2);
    assert_eq!(reader.schema(), schema());
    let read: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(read, batches());
}

#[test]
fn failed_export_leaves_no_file_and_no_temp_sibling() {
    let bad = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, true)])),
        vec![Arc::new(StringArray::from(vec!["a"]))],
    )
    .unwrap();
    for format in Format::ALL {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("out.{}", format.extension()));
        // The first batch is written, then the second does not match the schema.
        let e = export_file(
            &path,
            format,
            schema(),
            &[batch(1), bad.clone()],
            Overwrite::Replace,
        )
        .unwrap_err();
        assert!(
            matches!(&e, ExportError::File { source, .. }
                if matches!(**source, ExportError::SchemaMismatch { .. })),
            "{format}: {e:?}"
        );
        assert!(e.to_string().contains("out."), "{format}: {e}");
        assert!(
            dir_entries(dir.path()).is_empty(),
            "{format}: {:?}",
            dir_entries(dir.path())
        );
    }
}

#[test]
fn existing_file_is_not_overwritten_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Csv, Format::Parquet] {
        let path = dir.path().join(format!("keep.{}", format.extension()));
        std::fs::write(&path, "previous").unwrap();
        let e = export_file(&path, format, schema(), &batches(), Overwrite::Refuse).unwrap_err();
        assert!(matches!(e, ExportError::Exists { .. }), "{e:?}");
        let message = e.to_string();
        assert!(
            message.contains(&path.display().to_string()) && message.contains("already exists"),
            "{message}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");

        // Confirmed: replaced.
        let rows = export_file(&path, format, schema(), &batches(), Overwrite::Replace).unwrap();
        assert_eq!(rows, 12);
        assert_ne!(std::fs::read(&path).unwrap(), b"previous");
    }
    assert_eq!(dir_entries(dir.path()), vec!["keep.csv", "keep.parquet"]);
}

#[test]
fn formats_from_paths() {
    for (name, format) in [
        ("a.parquet", Format::Parquet),
        ("a.PARQUET", Format::Parquet),
        ("a.arrow", Format::Arrow),
        ("a.ipc", Format::Arrow),
        ("a.feather", Format::Arrow),
        ("a.csv", Format::Csv),
    ] {
        assert_eq!(Format::from_path(Path::new(name)), Some(format), "{name}");
    }
    for alias in ["arrow", "ipc", "feather"] {
        assert_eq!(
            <Format as clap::ValueEnum>::from_str(alias, false).unwrap(),
            Format::Arrow
        );
    }
    assert!(Format::Parquet.is_binary() && Format::Arrow.is_binary());
    assert!(!Format::Csv.is_binary());
}

/// Through the binary: one Parquet/Arrow output holds one result, so a script is refused
/// before anything runs (the endpoint below is never contacted) and no file appears.
#[test]
fn binary_output_of_several_statements_is_a_usage_error() {
    let sandbox = crate::common::Sandbox::new();
    let config = sandbox.config(
        "athena.toml",
        "[[connection]]\nname = \"athena\"\nkind = \"athena\"\nregion = \"us-east-1\"\n\
         endpoint_url = \"http://127.0.0.1:9\"\noutput_location = \"s3://quarry-results/\"\n",
    );
    let config = config.to_str().unwrap();
    for (out, extra) in [("out.parquet", None), ("out.bin", Some("arrow"))] {
        let mut args = vec![
            "--config",
            config,
            "run",
            "-c",
            "athena",
            "SELECT 1; SELECT 2",
            "-o",
            out,
        ];
        if let Some(format) = extra {
            args.extend(["--format", format]);
        }
        let run = sandbox.run(&args);
        run.assert_code(2).assert_no_panic();
        assert!(run.stderr.contains("output holds one result"), "{run}");
        assert!(!sandbox.work().join(out).exists());
    }
    assert!(
        dir_entries(&sandbox.work())
            .iter()
            .all(|f| f == "athena.toml")
    );
}

// ---------------------------------------------------------------------------------------------
// The worker's background export (what the TUI's Ctrl-E runs).

/// A cancelled export leaves neither the file nor a temporary sibling.
#[test]
fn a_cancelled_background_export_leaves_no_file() {
    use quarry::worker::export_job::{self, ExportRequest};
    use quarry::worker::{ExportFailure, ExportTarget, RowPick};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cancelled.parquet");
    let mut rows = quarry::results::ResultSet::new(schema());
    for b in batches() {
        rows.push_batch(b);
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (events, _keep) = tokio::sync::mpsc::channel(16);
    let cancel = tokio_util::sync::CancellationToken::new();
    cancel.cancel();
    let request = ExportRequest {
        id: 1,
        format: Format::Parquet,
        rows: Arc::new(rows),
        pick: RowPick::default(),
        target: ExportTarget::File {
            path: path.clone(),
            overwrite: Overwrite::Refuse,
        },
        rest: None,
    };
    let outcome = runtime.block_on(export_job::run(request, events, cancel));
    assert_eq!(outcome, Err(ExportFailure::Cancelled));
    assert_eq!(dir_entries(dir.path()), Vec::<String>::new());
}

/// "Whole result" means the whole result on the server: a DynamoDB run paused at its limit is
/// exported with the rest fetched from DynamoDB Local while writing.
#[test]
fn a_whole_export_of_a_paused_dynamodb_result_fetches_the_rest() {
    use quarry::connectors::{Connector, JobEvent, JobSink, QueryRequest};
    use quarry::worker::export_job::{self, ExportRequest};
    use quarry::worker::{ExportTarget, RowPick};

    let db = crate::dynamo_local::DynamoLocal::start();
    db.create_table("rocks", ("pk", "S"), Some(("sk", "N")));
    let items: Vec<Value> = (0..250)
        .map(|i| json!({"pk": {"S": "p"}, "sk": {"N": i.to_string()}, "note": {"S": format!("rock {i}")}}))
        .collect();
    db.put_items("rocks", &items);
    let sandbox = crate::common::Sandbox::new();
    let conn = crate::common::load_connection(
        &sandbox,
        "ddb",
        &format!(
            "[[connection]]\nname = \"ddb\"\nkind = \"dynamodb\"\nregion = \"us-east-1\"\n\
             endpoint_url = \"{}\"\nlimit = 100\n",
            db.url()
        ),
    );
    let connector: Arc<dyn Connector> = Arc::new(
        quarry::connectors::dynamodb::DynamoConnector::with_sdk_config(
            &conn,
            &crate::common::test_sdk_config(&db.url()),
        ),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sql = "SELECT * FROM \"rocks\" WHERE pk = 'p'";
    // The first run pauses after 100 items, as the grid would show it.
    let (loaded, token) = runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let run = connector.execute(
            QueryRequest::new(sql),
            JobSink::new(1, tx),
            Default::default(),
        );
        let summary = run.await.expect("the first page");
        let mut rows: Option<quarry::results::ResultSet> = None;
        while let Ok((_, event)) = rx.try_recv() {
            match event {
                JobEvent::Schema(s) if rows.is_none() => {
                    rows = Some(quarry::results::ResultSet::new(s))
                }
                JobEvent::Batch(b) => rows.as_mut().expect("schema first").push_batch(b),
                _ => {}
            }
        }
        (
            rows.expect("rows"),
            summary.resume.expect("paused at the limit"),
        )
    });
    assert_eq!(loaded.num_rows(), 100);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rocks.csv");
    let request = ExportRequest {
        id: 2,
        format: Format::Csv,
        rows: Arc::new(loaded),
        pick: RowPick::default(),
        target: ExportTarget::File {
            path: path.clone(),
            overwrite: Overwrite::Refuse,
        },
        rest: Some((
            connector.clone(),
            QueryRequest {
                resume: Some(token),
                ..QueryRequest::new(sql)
            },
        )),
    };
    let (events, _keep) = tokio::sync::mpsc::channel(64);
    let outcome = runtime
        .block_on(export_job::run(request, events, Default::default()))
        .expect("exported");
    assert_eq!(outcome.rows, 250);
    let csv = std::fs::read_to_string(&path).unwrap();
    let mut sks: Vec<u64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).expect("sk").parse().expect("a number"))
        .collect();
    sks.sort();
    assert_eq!(sks, (0..250).collect::<Vec<u64>>(), "every item once");
}

/// Collects a connector's run into a result set, keeping only the first `keep` rows (what a
/// grid stopped at `max_loaded_rows` holds), and returns it with the run's server id.
fn partial_run(
    runtime: &tokio::runtime::Runtime,
    connector: &dyn quarry::connectors::Connector,
    sql: &str,
    keep: usize,
) -> (quarry::results::ResultSet, Option<String>) {
    use quarry::connectors::{JobEvent, JobSink, QueryRequest};
    runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let run = connector.execute(
            QueryRequest::new(sql),
            JobSink::new(1, tx),
            Default::default(),
        );
        let summary = run.await.expect("the query runs");
        let mut rows: Option<quarry::results::ResultSet> = None;
        while let Ok((_, event)) = rx.try_recv() {
            match event {
                JobEvent::Schema(s) if rows.is_none() => {
                    rows = Some(quarry::results::ResultSet::new(s))
                }
                JobEvent::Batch(b) => {
                    let set = rows.as_mut().expect("schema first");
                    let room = keep.saturating_sub(set.num_rows());
                    if room > 0 {
                        set.push_batch(b.slice(0, room.min(b.num_rows())));
                    }
                }
                _ => {}
            }
        }
        (rows.expect("rows"), summary.stats.server_id)
    })
}

/// A whole-result export of a result cut at `max_loaded_rows`: none of the loaded rows, the
/// whole result fetched again through `rest`.
fn export_whole_again(
    runtime: &tokio::runtime::Runtime,
    loaded: quarry::results::ResultSet,
    rest: (
        std::sync::Arc<dyn quarry::connectors::Connector>,
        quarry::connectors::QueryRequest,
    ),
    path: &Path,
) -> u64 {
    use quarry::worker::export_job::{self, ExportRequest};
    use quarry::worker::{ExportTarget, RowPick};
    let request = ExportRequest {
        id: 3,
        format: Format::Csv,
        rows: Arc::new(loaded),
        pick: RowPick {
            rows: Some(Vec::new()),
            columns: None,
        },
        target: ExportTarget::File {
            path: path.to_path_buf(),
            overwrite: Overwrite::Refuse,
        },
        rest: Some(rest),
    };
    let (events, _keep) = tokio::sync::mpsc::channel(64);
    runtime
        .block_on(export_job::run(request, events, Default::default()))
        .expect("exported")
        .rows
}

/// Athena keeps results: a result larger than what was loaded is exported whole from the
/// service by its query id (GetQueryResults again, nothing re-run).
#[test]
fn a_result_larger_than_loaded_is_exported_whole_from_athena_by_its_id() {
    use quarry::connectors::{Connector, QueryRequest};
    let fake = crate::fake_athena::FakeAthena::start();
    let sandbox = crate::common::Sandbox::new();
    let conn = crate::common::load_connection(
        &sandbox,
        "athena",
        &format!(
            "[[connection]]\nname = \"athena\"\nkind = \"athena\"\nregion = \"us-east-1\"\n\
             endpoint_url = \"{}\"\nworkgroup = \"primary\"\noutput_location = \"s3://r/\"\n",
            fake.url()
        ),
    );
    let connector: Arc<dyn Connector> = Arc::new(
        quarry::connectors::athena::AthenaConnector::with_sdk_config(
            &conn,
            &crate::common::test_sdk_config(&fake.url()),
        ),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sql = "SELECT * FROM big";
    let (loaded, id) = partial_run(&runtime, connector.as_ref(), sql, 1_000);
    assert_eq!(loaded.num_rows(), 1_000);
    let starts = fake.count("StartQueryExecution");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let request = QueryRequest {
        reopen: id,
        ..QueryRequest::new(sql)
    };
    let rows = export_whole_again(&runtime, loaded, (connector, request), &path);
    assert_eq!(rows, crate::fake_athena::BIG_ROWS as u64);
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert_eq!(
        lines,
        crate::fake_athena::BIG_ROWS + 1,
        "header and every row once"
    );
    assert_eq!(
        fake.count("StartQueryExecution"),
        starts,
        "nothing ran again"
    );
}

/// The embedded engine keeps no results: a result larger than what was loaded is exported
/// whole by running the query again.
#[cfg(feature = "local")]
#[test]
fn a_result_larger_than_loaded_is_exported_whole_from_the_local_engine() {
    use quarry::connectors::{Connector, QueryRequest};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let connector: Arc<dyn Connector> = Arc::new(
        runtime
            .block_on(quarry::connectors::local::LocalConnector::new(&[]))
            .expect("the embedded engine"),
    );
    let sql = "SELECT * FROM trips ORDER BY 1";
    let (all, _) = partial_run(&runtime, connector.as_ref(), sql, usize::MAX);
    let total = all.num_rows();
    assert!(total > 100, "the sample has {total} trips");
    let (loaded, _) = partial_run(&runtime, connector.as_ref(), sql, 100);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trips.csv");
    let rows = export_whole_again(&runtime, loaded, (connector, QueryRequest::new(sql)), &path);
    assert_eq!(rows as usize, total);
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert!(lines > total, "header and every row");
}
