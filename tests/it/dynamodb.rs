//! The DynamoDB connector through the real binary (`quarry run`, `quarry ls`) against DynamoDB
//! Local, AWS's own implementation (started per test by `dynamo_local`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Output, Sandbox, run_command};
use crate::dynamo_local::DynamoLocal;

const TIMEOUT: Duration = Duration::from_secs(120);

/// A sandbox with a `ddb` connection to `db` (plus `extra` config lines).
pub struct Dynamo {
    sandbox: Sandbox,
    config: PathBuf,
    env: Vec<(String, String)>,
}

impl Dynamo {
    pub fn new(db: &DynamoLocal, extra: &str) -> Self {
        let sandbox = Sandbox::new();
        let config = sandbox.config(
            "ddb.toml",
            &format!(
                "[[connection]]\nname = \"ddb\"\nkind = \"dynamodb\"\nregion = \"us-east-1\"\n\
                 endpoint_url = \"{}\"\n{extra}",
                db.url()
            ),
        );
        let env = sandbox.aws_env();
        Dynamo {
            sandbox,
            config,
            env,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.sandbox.command(["--config", &path(&self.config)]);
        cmd.args(args).envs(self.env.iter().cloned());
        cmd
    }

    #[track_caller]
    fn quarry(&self, args: &[&str]) -> Output {
        let out = run_command(&mut self.command(args), TIMEOUT);
        out.assert_no_panic();
        out
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["run", "-c", "ddb"];
        full.extend_from_slice(args);
        self.quarry(&full)
    }

    /// `run --format jsonl`, which must succeed: the items.
    #[track_caller]
    fn items(&self, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["--format", "jsonl"];
        full.extend_from_slice(args);
        let out = self.run(&full);
        out.assert_ok();
        out.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{out}")))
            .collect()
    }
}

fn path(p: &std::path::Path) -> String {
    p.to_str().expect("UTF-8 path").to_string()
}

/// `stat` line `label: value` on stderr.
fn stat(out: &Output, label: &str) -> Option<String> {
    out.stderr.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == label).then(|| v.trim().to_string())
    })
}

#[test]
fn scans_page_through_megabytes_and_point_reads_take_parameters() {
    let db = DynamoLocal::start();
    db.create_table("items", ("pk", "S"), Some(("sk", "N")));
    let padding = "x".repeat(1000);
    let items: Vec<Value> = (0..3000)
        .map(|i| {
            json!({"pk": {"S": if i % 2 == 0 { "even" } else { "odd" }}, "sk": {"N": i.to_string()},
                   "pad": {"S": padding}})
        })
        .collect();
    db.put_items("items", &items);
    let ddb = Dynamo::new(&db, "");

    // ~3 MB: several 1 MB pages, every item once.
    let out = ddb.run(&["--format", "csv", "--stats", "SELECT pk, sk FROM \"items\""]);
    out.assert_ok();
    assert_eq!(
        out.lines().len(),
        3001,
        "header + 3000 items\n{}",
        out.stderr
    );
    let pages: u32 = stat(&out, "pages")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    assert!(
        pages >= 3,
        "paged with NextToken: {pages} page(s)\n{}",
        out.stderr
    );
    assert!(stat(&out, "capacity").is_some(), "{}", out.stderr);

    // A point query with a parameter, in sort-key order, keys first.
    let found = ddb.items(&[
        "--param",
        "\"odd\"",
        "SELECT sk, pk FROM \"items\" WHERE pk = ? AND sk < 10",
    ]);
    let sks: Vec<i64> = found.iter().map(|i| i["sk"].as_i64().unwrap()).collect();
    assert_eq!(sks, vec![1, 3, 5, 7, 9]);

    // The connection's limit stops early and says more remain.
    let limited = Dynamo::new(&db, "limit = 100\n");
    let out = limited.run(&["--format", "csv", "SELECT pk, sk FROM \"items\""]);
    out.assert_ok();
    assert_eq!(out.lines().len(), 101, "{}", out.stderr);
    assert!(out.stderr.contains("more remain"), "{}", out.stderr);

    later_pages_that_add_attributes_widen_every_format(&db);
}

/// Issue 16.4: 40 items, each with an attribute of its own, over several pages: every CLI
/// format has every attribute (one header for the tabular ones), every item once.
fn later_pages_that_add_attributes_widen_every_format(db: &DynamoLocal) {
    db.create_table("wide", ("pk", "S"), None);
    // ~100 KB an item: DynamoDB's 1 MB pages hold a handful each.
    let padding = "w".repeat(100_000);
    let items: Vec<Value> = (0..40)
        .map(|i| {
            json!({"pk": {"S": format!("i{i:02}")}, "pad": {"S": padding},
                        format!("a{i}"): {"N": i.to_string()}})
        })
        .collect();
    db.put_items("wide", &items);
    let ddb = Dynamo::new(db, "");
    let sql = "SELECT * FROM \"wide\"";
    let every_attribute = |header: &str, what: &str| {
        for i in 0..40 {
            let name = format!("a{i}");
            assert!(
                header
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| w == name),
                "{what}: no column {name} in the header"
            );
        }
    };
    for format in ["csv", "tsv", "markdown", "table"] {
        let out = ddb.run(&["--format", format, "--stats", sql]);
        out.assert_ok();
        let pages: u32 = stat(&out, "pages")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        assert!(pages >= 3, "{format}: {pages} page(s)\n{}", out.stderr);
        let lines = out.lines();
        every_attribute(lines[0], format);
        let data = lines.iter().filter(|l| l.contains("www")).count();
        assert_eq!(data, 40, "{format}: one line an item\n{}", out.stderr);
    }
    for format in ["json", "jsonl"] {
        let out = ddb.run(&["--format", format, sql]);
        out.assert_ok();
        let items: Vec<Value> = match format {
            "json" => serde_json::from_str::<Vec<Value>>(&out.stdout).expect("a JSON array"),
            _ => out
                .lines()
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
        };
        assert_eq!(items.len(), 40, "{format}");
        assert!(items.iter().all(|i| i.as_object().unwrap().len() == 3));
    }
    let parquet = ddb.sandbox.work().join("wide.parquet");
    ddb.run(&["-o", &path(&parquet), sql]).assert_ok();
    let file = std::fs::File::open(&parquet).expect("wide.parquet");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("a parquet file");
    let names: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    every_attribute(&names.join(","), "parquet");
    let rows: usize = reader.build().unwrap().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 40);
}

#[test]
fn every_attribute_type_round_trips_exactly() {
    let db = DynamoLocal::start();
    db.create_table("types", ("pk", "S"), None);
    let item = json!({
        "pk": {"S": "all"},
        "n": {"N": "12345678901234567890123456789012345678"},
        "tiny": {"N": "-1.5E-130"},
        "b": {"B": "AAEC/w=="},
        "t": {"BOOL": true},
        "z": {"NULL": true},
        "m": {"M": {"inner": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"deep": {"BOOL": false}}}]}}},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": ["AQ=="]}
    });
    db.put_items("types", std::slice::from_ref(&item));
    let ddb = Dynamo::new(&db, "");
    let typed = ddb.items(&["--dynamodb-json", "SELECT * FROM \"types\""]);
    assert_eq!(typed.len(), 1);
    let mut got = typed[0].clone();
    // DynamoDB stores numbers normalised (Local writes -1.5E-130 out in full): same value.
    let tiny = got["tiny"]["N"].as_str().unwrap().parse::<f64>().unwrap();
    assert_eq!(tiny, -1.5e-130);
    got["tiny"] = item["tiny"].clone();
    // Sets have no order.
    for set in ["ss", "ns", "bs"] {
        let key = got[set].as_object().unwrap().keys().next().unwrap().clone();
        got[set][&key]
            .as_array_mut()
            .unwrap()
            .sort_by_key(|v| v.to_string());
    }
    assert_eq!(got, item);
    // Plain JSON: numbers exact in the text, sets as arrays, binary as base64.
    let out = ddb.run(&["--format", "jsonl", "SELECT * FROM \"types\""]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("12345678901234567890123456789012345678"),
        "{out}"
    );
    assert!(out.stdout.contains("\"b\":\"AAEC/w==\""), "{out}");
    assert!(out.stdout.contains("\"z\":null"), "{out}");
}

#[test]
fn insert_update_delete_and_a_bad_statement() {
    let db = DynamoLocal::start();
    db.create_table("users", ("pk", "S"), None);
    let ddb = Dynamo::new(&db, "");
    ddb.run(&["INSERT INTO \"users\" VALUE {'pk': 'u1', 'age': 41}"])
        .assert_ok();
    ddb.run(&[
        "--param",
        "42",
        "UPDATE \"users\" SET age = ? WHERE pk = 'u1'",
    ])
    .assert_ok();
    let rows = ddb.items(&["SELECT * FROM \"users\" WHERE pk = 'u1'"]);
    assert_eq!(rows, vec![json!({"pk": "u1", "age": 42})]);
    ddb.run(&["DELETE FROM \"users\" WHERE pk = 'u1'"])
        .assert_ok();
    assert!(ddb.items(&["SELECT * FROM \"users\""]).is_empty());

    let out = ddb.run(&["SELEC * FROM \"users\""]);
    out.assert_code(1);
    assert!(out.stderr.contains("ValidationException"), "{out}");
    assert_eq!(
        out.stderr.trim().lines().count(),
        1,
        "one readable line\n{out}"
    );
    let out = ddb.run(&["--param", "abc", "SELECT * FROM \"users\" WHERE pk = ?"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("\"abc\""),
        "the fix is suggested\n{out}"
    );
}

#[test]
fn the_browser_lists_tables_keys_and_indexes() {
    let db = DynamoLocal::start();
    db.create_table_with_gsi(
        "orders",
        ("pk", "S"),
        Some(("sk", "N")),
        "by_customer",
        ("customer", "S"),
        None,
    );
    let ddb = Dynamo::new(&db, "");
    let out = ddb.quarry(&["ls", "-c", "ddb"]);
    out.assert_ok();
    assert_eq!(out.lines(), vec!["orders\ttable\t"], "{out}");
    let out = ddb.quarry(&["ls", "-c", "ddb", "orders"]);
    out.assert_ok();
    let text = out.stdout.clone();
    assert!(text.contains("pk\tcolumn\tS · partition key"), "{out}");
    assert!(text.contains("sk\tcolumn\tN · sort key"), "{out}");
    assert!(
        text.contains("by_customer\tview\tGSI · customer (S)"),
        "{out}"
    );
    assert!(
        text.contains("billing mode\tproperty\tPAY_PER_REQUEST"),
        "{out}"
    );
}

#[test]
fn a_run_limit_and_consistent_reads_from_the_command_line() {
    let db = DynamoLocal::start();
    db.create_table("nums", ("pk", "S"), Some(("sk", "N")));
    let items: Vec<Value> = (0..50)
        .map(|i| json!({"pk": {"S": "p"}, "sk": {"N": i.to_string()}}))
        .collect();
    db.put_items("nums", &items);
    let ddb = Dynamo::new(&db, "");
    let out = ddb.run(&[
        "--format",
        "csv",
        "--limit",
        "10",
        "--consistent-read",
        "--index-capacity",
        "SELECT sk FROM \"nums\" WHERE pk = 'p'",
    ]);
    out.assert_ok();
    assert_eq!(out.lines().len(), 11, "header + 10 items\n{out}");
    assert!(out.stderr.contains("more remain"), "{out}");
}
