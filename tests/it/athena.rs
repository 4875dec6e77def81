//! The Athena connector through the real binary (`quarry run`, `quarry ls`), against moto (the
//! suite's real peer, started per test) and, for what moto lacks, the in-process fake of
//! `fake_athena` (paging, FAILED queries, throttling, table metadata, …).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Output, Sandbox, run_command, wait_child};
use crate::fake_athena::{
    self, BIG_ROWS, FAIL_REASON, FakeAthena, FakeConfig, INSERT_UPDATE_COUNT, Throttle,
};
use crate::moto::{MotoServer, http_request};

/// How long one ordinary invocation may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// A sandbox with a config holding one Athena connection `athena` at `endpoint`.
struct Athena {
    sandbox: Sandbox,
    config: PathBuf,
}

impl Athena {
    fn new(endpoint: &str) -> Self {
        let sandbox = Sandbox::new();
        let config = sandbox.config(
            "athena.toml",
            &format!(
                "[[connection]]\n\
                 name = \"athena\"\n\
                 kind = \"athena\"\n\
                 region = \"us-east-1\"\n\
                 endpoint_url = \"{endpoint}\"\n\
                 workgroup = \"primary\"\n\
                 database = \"sales\"\n\
                 output_location = \"s3://quarry-results/\"\n"
            ),
        );
        Athena { sandbox, config }
    }

    /// `quarry --config <config> <args…>` with test credentials and no ~/.aws.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self
            .sandbox
            .command(["--config", self.config.to_str().expect("UTF-8 path")]);
        cmd.args(args).envs(self.sandbox.aws_env());
        cmd
    }

    #[track_caller]
    fn run_with_timeout(&self, args: &[&str], timeout: Duration) -> Output {
        let out = run_command(&mut self.command(args), timeout);
        out.assert_no_panic();
        out
    }

    /// `quarry run -c athena <args…>`.
    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["run", "-c", "athena"];
        full.extend_from_slice(args);
        self.run_with_timeout(&full, TIMEOUT)
    }

    /// `quarry run -c athena --format jsonl <sql>`, which must succeed; the parsed rows.
    #[track_caller]
    fn jsonl(&self, sql: &str) -> (Output, Vec<Value>) {
        let out = self.run(&["--format", "jsonl", sql]);
        out.assert_ok();
        let rows = jsonl_rows(&out);
        (out, rows)
    }

    /// `quarry ls -c athena <path…>`, which must succeed; its entries.
    #[track_caller]
    fn ls(&self, path: &[&str]) -> (Output, Vec<Entry>) {
        let mut full = vec!["ls", "-c", "athena"];
        full.extend_from_slice(path);
        let out = self.run_with_timeout(&full, TIMEOUT);
        out.assert_ok();
        let entries = entries(&out);
        (out, entries)
    }
}

/// One `quarry ls` line: `name<TAB>kind<TAB>detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    kind: String,
    detail: String,
}

#[track_caller]
fn entries(out: &Output) -> Vec<Entry> {
    out.lines()
        .iter()
        .map(|line| {
            let mut parts = line.splitn(3, '\t');
            let name = parts.next().unwrap_or_default().to_string();
            let kind = parts
                .next()
                .unwrap_or_else(|| panic!("no kind in ls line {line:?}\n{out}"))
                .to_string();
            let detail = parts.next().unwrap_or_default().to_string();
            Entry { name, kind, detail }
        })
        .collect()
}

/// The entry called `name`, which must exist.
#[track_caller]
fn entry<'a>(list: &'a [Entry], name: &str, out: &Output) -> &'a Entry {
    list.iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no entry `{name}` in the listing\n{out}"))
}

#[track_caller]
fn jsonl_rows(out: &Output) -> Vec<Value> {
    out.lines()
        .iter()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}\n{out}"))
        })
        .collect()
}

/// The value of the `label: value` line on stderr (label case-insensitive), if any.
fn stat(out: &Output, label: &str) -> Option<String> {
    out.stderr.lines().find_map(|line| {
        let (l, v) = line.trim().split_once(':')?;
        l.trim()
            .eq_ignore_ascii_case(label)
            .then(|| v.trim().to_string())
    })
}

#[track_caller]
fn require_stat(out: &Output, label: &str) -> String {
    stat(out, label).unwrap_or_else(|| panic!("no `{label}: …` line on stderr\n{out}"))
}

/// A number in a JSON cell that may be a number or a numeric string (decimals).
fn loose_f64(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// `quarry run <sql>`, interrupted with SIGINT once it polls the query on the fake.
#[track_caller]
fn interrupt_while_polling(athena: &Athena, fake: &FakeAthena, sql: &str) -> Output {
    let child = athena
        .command(&["run", "-c", "athena", sql])
        .spawn()
        .expect("start quarry");
    let pid = child.id() as libc::pid_t;
    let polling = fake.wait_for("GetQueryExecution", 2, Duration::from_secs(60));
    // SAFETY: kill(2) on the pid of our own child, which has not been waited for yet.
    let sent = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(sent, 0, "kill(SIGINT) failed");
    let out = wait_child(child, Duration::from_secs(60));
    assert!(
        polling,
        "quarry never polled the query: {:?}\n{out}",
        fake.ops()
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Against the fake.

#[test]
fn fake_small_select_as_jsonl_and_csv_has_typed_rows_and_no_header_row() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let (out, rows) = athena.jsonl("SELECT id, name FROM t");
    assert_eq!(
        rows,
        vec![
            json!({"id": 1, "name": "a"}),
            json!({"id": 2, "name": null})
        ],
        "{out}"
    );

    let out = athena.run(&["--format", "csv", "SELECT id, name FROM t"]);
    out.assert_ok();
    assert_eq!(out.lines(), vec!["id,name", "1,a", "2,"], "{out}");
}

#[test]
fn fake_big_result_arrives_whole_and_in_order() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let (out, rows) = athena.jsonl("SELECT * FROM big_table");
    assert_eq!(rows.len(), BIG_ROWS, "row count (stderr: {})", out.stderr);
    for (i, row) in rows.iter().enumerate() {
        let id = i as i64 + 1;
        assert_eq!(
            row["id"].as_i64(),
            Some(id),
            "row {i} is out of order or not a number: {row}"
        );
        let name = row
            .get("name")
            .unwrap_or_else(|| panic!("row {i} has no name: {row}"));
        if id % 10 == 0 {
            assert!(name.is_null(), "every 10th name is NULL: {row}");
        } else {
            assert_eq!(name, &json!(format!("row-{id}")), "{row}");
        }
    }

    let first = &rows[0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {first}"))
        .keys()
        .map(String::as_str)
        .collect();
    for col in ["id", "name", "amount", "flag", "day", "ts", "score", "tags"] {
        assert!(keys.contains(&col), "column {col} missing: {first}");
    }
    assert_eq!(first["id"], json!(1), "integer → JSON number: {first}");
    assert_eq!(
        loose_f64(&first["amount"]),
        Some(1.25),
        "decimal keeps its value: {first}"
    );
    assert_eq!(first["flag"], json!(false), "boolean → JSON bool: {first}");
    assert_eq!(rows[1]["flag"], json!(true), "{}", rows[1]);
    assert_eq!(first["day"], json!("2024-01-02"), "date: {first}");
    let ts = first["ts"].as_str().unwrap_or_default();
    assert!(
        ts.starts_with("2024-01-02") && ts.contains("03:04:05.123"),
        "timestamp: {first}"
    );
    assert!(first["score"].is_number(), "double → number: {first}");
    assert_eq!(first["score"].as_f64(), Some(1.5), "{first}");
    let tags = first["tags"]
        .as_str()
        .unwrap_or_else(|| panic!("array → string: {first}"));
    assert!(tags.contains('a') && tags.contains('b'), "{first}");

    // 25,000 rows + the header in pages of at most 1,000.
    let pages = fake.bodies("GetQueryResults");
    assert!(
        pages.len() >= BIG_ROWS.div_ceil(1000),
        "expected at least 26 pages, got {}",
        pages.len()
    );
}

#[test]
fn fake_failed_query_reports_reason_and_athena_error() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let out = athena.run(&["--format", "jsonl", "SELECT nope FROM fail_table"]);
    out.assert_code(1);
    assert!(
        out.stdout.trim().is_empty(),
        "no rows for a failed query\n{out}"
    );
    assert!(out.stderr.contains("SYNTAX_ERROR"), "{out}");
    assert!(
        out.stderr.contains("Column 'nope' cannot be resolved"),
        "the StateChangeReason ({FAIL_REASON}) is shown\n{out}"
    );
    assert!(
        out.stderr.to_ascii_lowercase().contains("retryable"),
        "the AthenaError details are shown\n{out}"
    );
    assert_eq!(fake.count("GetQueryResults"), 0, "{:?}", fake.ops());
}

#[test]
fn fake_throttled_start_is_retried_with_the_same_token() {
    let fake = FakeAthena::start_with(FakeConfig::default().throttle(Throttle::First(2)));
    let athena = Athena::new(&fake.url());
    let (out, rows) = athena.jsonl("SELECT id, name FROM t");
    assert_eq!(rows.len(), 2, "{out}");
    let starts = fake.bodies("StartQueryExecution");
    assert_eq!(
        starts.len(),
        3,
        "two throttled attempts and one that succeeded"
    );
    let tokens: Vec<&Value> = starts.iter().map(|b| &b["ClientRequestToken"]).collect();
    assert!(
        tokens[0].is_string(),
        "a ClientRequestToken is sent: {}",
        starts[0]
    );
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "every attempt carries the same token: {tokens:?}"
    );
    assert_eq!(fake.query_ids().len(), 1);
}

#[test]
fn fake_throttled_forever_fails_with_a_throttling_error() {
    let fake = FakeAthena::start_with(FakeConfig::default().throttle(Throttle::Always));
    let athena = Athena::new(&fake.url());
    let start = Instant::now();
    let out = athena.run_with_timeout(
        &["run", "-c", "athena", "SELECT id FROM t"],
        Duration::from_secs(90),
    );
    out.assert_code(1);
    assert!(
        out.stderr.to_ascii_lowercase().contains("throttl"),
        "the error says the request was throttled\n{out}"
    );
    let attempts = fake.count("StartQueryExecution");
    assert!(
        (2..=5).contains(&attempts),
        "retried, at most 5 attempts in all: {attempts} (took {:?})",
        start.elapsed()
    );
    assert!(fake.query_ids().is_empty());
}

#[test]
fn fake_insert_reports_the_update_count() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let out = athena.run(&["--format", "jsonl", "INSERT INTO t SELECT 1"]);
    out.assert_ok();
    assert!(out.stdout.trim().is_empty(), "no rows\n{out}");
    let count = INSERT_UPDATE_COUNT.to_string();
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains("INSERT") && l.contains(&count)),
        "a line with the statement type and the update count\n{out}"
    );
}

#[test]
fn fake_ddl_prints_no_rows() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let out = athena.run(&["--format", "csv", "CREATE TABLE t (id int)"]);
    out.assert_ok();
    assert!(out.stdout.trim().is_empty(), "no rows, no header\n{out}");
    let stderr = out.stderr.to_ascii_uppercase();
    assert!(
        stderr.contains("CREATE") || stderr.contains("DDL"),
        "the statement type is reported\n{out}"
    );
}

#[test]
fn fake_parameters_and_request_fields_are_sent() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let sql = "SELECT id, name FROM t WHERE name = ? AND id = ?";
    let out = athena.run(&[
        "--format", "jsonl", "--param", "'abc'", "--param", "42", sql,
    ]);
    out.assert_ok();
    assert_eq!(jsonl_rows(&out).len(), 2, "{out}");

    let starts = fake.bodies("StartQueryExecution");
    assert_eq!(starts.len(), 1, "{:?}", fake.ops());
    let start = &starts[0];
    let token = start["ClientRequestToken"].as_str().unwrap_or_default();
    assert!(
        (32..=128).contains(&token.len()),
        "ClientRequestToken of 32 to 128 characters: {start}"
    );
    assert_eq!(start["QueryString"], json!(sql), "{start}");
    assert_eq!(start["WorkGroup"], json!("primary"), "{start}");
    assert_eq!(
        start["QueryExecutionContext"]["Catalog"],
        json!("AwsDataCatalog"),
        "{start}"
    );
    assert_eq!(
        start["QueryExecutionContext"]["Database"],
        json!("sales"),
        "{start}"
    );
    assert_eq!(
        start["ResultConfiguration"]["OutputLocation"],
        json!("s3://quarry-results/"),
        "{start}"
    );
    assert_eq!(
        start["ExecutionParameters"],
        json!(["'abc'", "42"]),
        "{start}"
    );
}

#[test]
fn fake_parameter_count_mismatch_is_a_usage_error() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let out = athena.run(&["--param", "1", "SELECT * FROM t WHERE a = ? AND b = ?"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains('2') && out.stderr.contains('1'),
        "the message names both counts\n{out}"
    );
    assert_eq!(
        fake.count("StartQueryExecution"),
        0,
        "nothing is started: {:?}",
        fake.ops()
    );
}

#[test]
fn fake_stats_lines_on_stderr() {
    let fake = FakeAthena::start_with(FakeConfig::default().data_scanned(987_654_321));
    let athena = Athena::new(&fake.url());
    let out = athena.run(&["--stats", "--format", "jsonl", "SELECT id, name FROM t"]);
    out.assert_ok();
    assert_eq!(jsonl_rows(&out).len(), 2, "stats stay off stdout\n{out}");
    let ids = fake.query_ids();
    assert_eq!(require_stat(&out, "server id"), ids[0], "{out}");
    assert_eq!(require_stat(&out, "state"), "SUCCEEDED", "{out}");
    assert_eq!(require_stat(&out, "rows"), "2", "{out}");
    let bytes = require_stat(&out, "bytes scanned");
    let bytes: i64 = bytes
        .split_whitespace()
        .next()
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("bytes scanned is an integer\n{out}"));
    assert_eq!(bytes, 987_654_321, "{out}");
    let cost = require_stat(&out, "cost");
    let dollars: f64 = cost
        .strip_prefix('$')
        .and_then(|c| c.split_whitespace().next())
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("cost is `$<decimal>`\n{out}"));
    assert!(dollars > 0.0, "{out}");
    for label in ["engine", "queue", "planning"] {
        require_stat(&out, label);
    }
    assert_eq!(require_stat(&out, "dpu"), "4", "{out}");
    assert_eq!(require_stat(&out, "reused"), "no", "{out}");
}

#[test]
fn fake_sigint_stops_the_running_query() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let out = interrupt_while_polling(&athena, &fake, "SELECT * FROM slow_table");
    out.assert_no_panic().assert_code(130);
    let ids = fake.query_ids();
    assert_eq!(ids.len(), 1, "{:?}", fake.ops());
    let stops = fake.bodies("StopQueryExecution");
    assert!(
        stops.iter().any(|b| b["QueryExecutionId"] == json!(ids[0])),
        "StopQueryExecution for {}: {:?}\n{out}",
        ids[0],
        fake.ops()
    );
    assert_eq!(fake.state(&ids[0]), Some(fake_athena::State::Cancelled));
}

#[test]
fn fake_ls_root_lists_catalogs_then_folders() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let (out, list) = athena.ls(&[]);
    let pos = |name: &str, kind: &str| {
        list.iter()
            .position(|e| e.name == name && e.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} `{name}`\n{out}"))
    };
    let aws = pos("AwsDataCatalog", "catalog");
    let dynamo = pos("dynamo", "catalog");
    let workgroups = pos("workgroups", "folder");
    let recent = pos("recent queries", "folder");
    assert!(
        aws.max(dynamo) < workgroups && workgroups < recent,
        "catalogs, then workgroups, then recent queries\n{out}"
    );
}

#[test]
fn fake_ls_databases_of_a_catalog() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let (out, list) = athena.ls(&["AwsDataCatalog"]);
    let names: Vec<(&str, &str)> = list
        .iter()
        .map(|e| (e.name.as_str(), e.kind.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![("sales", "database"), ("web", "database")],
        "{out}"
    );
}

#[test]
fn fake_ls_tables_across_pages() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let (out, list) = athena.ls(&["AwsDataCatalog", "sales"]);
    let expected = fake_athena::tables("sales").expect("sales exists");
    assert_eq!(
        list.len(),
        expected.len(),
        "every table of every page\n{out}"
    );
    for table in &expected {
        let name = table["Name"].as_str().unwrap_or_default();
        let kind = if table["TableType"] == "VIRTUAL_VIEW" {
            "view"
        } else {
            "table"
        };
        assert_eq!(entry(&list, name, &out).kind, kind, "{out}");
    }
    let calls = fake.bodies("ListTableMetadata");
    assert!(
        calls.len() >= 3 && calls[1..].iter().all(|b| b["NextToken"].is_string()),
        "the later pages are fetched with NextToken: {calls:?}"
    );
}

#[test]
fn fake_ls_columns_of_a_table() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let (out, list) = athena.ls(&["AwsDataCatalog", "sales", "orders"]);
    let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["id", "total", "dt"], "{out}");
    assert!(list.iter().all(|e| e.kind == "column"), "{out}");
    assert!(entry(&list, "id", &out).detail.contains("bigint"), "{out}");
    assert!(
        entry(&list, "total", &out).detail.contains("decimal(10,2)"),
        "{out}"
    );
    let dt = &entry(&list, "dt", &out).detail;
    assert!(
        dt.contains("string") && dt.to_ascii_lowercase().contains("partition"),
        "{out}"
    );
    assert!(
        !entry(&list, "id", &out)
            .detail
            .to_ascii_lowercase()
            .contains("partition"),
        "{out}"
    );
}

#[test]
fn fake_ls_workgroups_with_state_and_engine() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let (out, list) = athena.ls(&["workgroups"]);
    assert_eq!(list.len(), 2, "{out}");
    let primary = entry(&list, "primary", &out);
    let analysts = entry(&list, "analysts", &out);
    assert_eq!(primary.kind, "workgroup", "{out}");
    assert_eq!(analysts.kind, "workgroup", "{out}");
    let p = primary.detail.to_ascii_lowercase();
    let a = analysts.detail.to_ascii_lowercase();
    assert!(p.contains("enabled") && p.contains('3'), "{out}");
    assert!(a.contains("disabled") && a.contains('2'), "{out}");
}

#[test]
fn fake_ls_workgroup_shows_its_properties_and_named_queries() {
    let fake = FakeAthena::start_with(
        FakeConfig::default()
            .named_query("daily", "primary", "SELECT 1")
            .named_query("elsewhere", "analysts", "SELECT 2"),
    );
    let athena = Athena::new(&fake.url());
    let (out, list) = athena.ls(&["workgroups", "primary"]);
    assert!(out.stdout.contains("s3://wg-results/"), "{out}");
    assert_eq!(entry(&list, "daily", &out).kind, "query", "{out}");
    assert!(
        !list.iter().any(|e| e.name == "elsewhere"),
        "only this workgroup's queries\n{out}"
    );
}

#[test]
fn fake_ls_recent_queries_of_the_workgroup() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    athena.jsonl("SELECT 'first-marker' AS m");
    athena.jsonl("SELECT 'second-marker' AS m");
    let (out, list) = athena.ls(&["recent queries"]);
    assert_eq!(list.len(), 2, "one line per query\n{out}");
    assert!(
        out.stdout.contains("first-marker") && out.stdout.contains("second-marker"),
        "the SQL of the queries is shown\n{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// Against moto.

#[test]
fn moto_harness_drives_athena_directly() {
    let moto = MotoServer::start();
    moto.manual_athena_transitions(2);
    moto.queue_results(&[vec![Some("x")], vec![Some("1")]], &[("x", "integer")]);
    let started = moto.call(
        "StartQueryExecution",
        json!({"QueryString": "SELECT 1", "WorkGroup": "primary"}),
    );
    let id = started["QueryExecutionId"]
        .as_str()
        .expect("an id")
        .to_string();
    let states: Vec<String> = (0..4)
        .map(|_| {
            let exec = moto.call("GetQueryExecution", json!({"QueryExecutionId": id}));
            exec["QueryExecution"]["Status"]["State"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(states, ["QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"]);
    assert_eq!(
        moto.athena_ops(),
        [
            "StartQueryExecution",
            "GetQueryExecution",
            "GetQueryExecution",
            "GetQueryExecution",
            "GetQueryExecution"
        ],
        "moto's recorder sees the Athena requests"
    );
    let results = moto.call("GetQueryResults", json!({"QueryExecutionId": id}));
    assert_eq!(
        results["ResultSet"]["Rows"].as_array().map(Vec::len),
        Some(2),
        "{results}"
    );
}

#[test]
fn moto_query_polls_through_states_and_reads_injected_results() {
    let moto = MotoServer::start();
    moto.manual_athena_transitions(2);
    moto.queue_results(
        &[
            vec![Some("id"), Some("name")],
            vec![Some("1"), Some("alpha")],
            vec![Some("2"), None],
        ],
        &[("id", "integer"), ("name", "varchar")],
    );
    let athena = Athena::new(&moto.url());
    let out = athena.run(&["--stats", "--format", "jsonl", "SELECT id, name FROM t"]);
    out.assert_ok();
    assert_eq!(
        jsonl_rows(&out),
        vec![
            json!({"id": 1, "name": "alpha"}),
            json!({"id": 2, "name": null})
        ],
        "{out}"
    );
    assert_eq!(require_stat(&out, "state"), "SUCCEEDED", "{out}");
    assert_eq!(require_stat(&out, "rows"), "2", "{out}");
    // Two polls QUEUED, two RUNNING, then SUCCEEDED.
    assert!(
        moto.count("GetQueryExecution") >= 4,
        "quarry polled through QUEUED and RUNNING: {:?}",
        moto.athena_ops()
    );
    let ids = moto.call("ListQueryExecutions", json!({"WorkGroup": "primary"}));
    assert_eq!(
        json!([require_stat(&out, "server id")]),
        ids["QueryExecutionIds"],
        "{out}"
    );

    // Issue 16.7: a decimal with more digits than its declared scale is kept exact (as text),
    // with a note, instead of being rounded to the scale; a column whose values fit stays a
    // decimal.
    moto.manual_athena_transitions(0);
    let decimals = [
        vec![Some("whole"), Some("cents")],
        vec![Some("12"), Some("1.25")],
        vec![Some("12.50"), Some("2.50")],
    ];
    let columns = [("whole", "decimal(10,0)"), ("cents", "decimal(10,2)")];
    moto.queue_results(&decimals, &columns);
    let out = athena.run(&["--format", "csv", "SELECT whole, cents FROM t"]);
    out.assert_ok();
    assert_eq!(
        out.lines(),
        ["whole,cents", "12,1.25", "12.50,2.50"],
        "{out}"
    );
    assert!(
        out.stderr
            .contains("`whole` (decimal): the value `12.50` has more digits"),
        "a note says why the column is text\n{out}"
    );
    assert!(!out.stderr.contains("`cents`"), "{out}");
}

#[test]
fn moto_sigint_cancels_the_query() {
    let moto = MotoServer::start();
    // Stays QUEUED for 100,000 polls.
    moto.manual_athena_transitions(100_000);
    let athena = Athena::new(&moto.url());
    let child = athena
        .command(&["run", "-c", "athena", "SELECT 1"])
        .spawn()
        .expect("start quarry");
    // Interrupt once quarry is polling the query.
    let polling = moto.wait_for("GetQueryExecution", 2, Duration::from_secs(60));
    // SAFETY: kill(2) on the pid of our own child, which has not been waited for yet.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "kill(SIGINT) failed");
    let out = wait_child(child, Duration::from_secs(60));
    assert!(
        polling,
        "quarry never polled the query: {:?}\n{out}",
        moto.athena_ops()
    );
    out.assert_no_panic().assert_code(130);
    assert!(
        moto.count("StopQueryExecution") >= 1,
        "{:?}\n{out}",
        moto.athena_ops()
    );
    let list = moto.call("ListQueryExecutions", json!({"WorkGroup": "primary"}));
    assert_eq!(
        list["QueryExecutionIds"].as_array().map(Vec::len),
        Some(1),
        "{list}"
    );
    let id = list["QueryExecutionIds"][0].as_str().unwrap_or_default();
    let exec = moto.call("GetQueryExecution", json!({"QueryExecutionId": id}));
    assert_eq!(
        exec["QueryExecution"]["Status"]["State"],
        json!("CANCELLED"),
        "{exec}\n{out}"
    );
}

#[test]
fn moto_ls_root_always_includes_the_connection_catalog() {
    let moto = MotoServer::start();
    let athena = Athena::new(&moto.url());
    let (out, list) = athena.ls(&[]);
    assert_eq!(
        entry(&list, "AwsDataCatalog", &out).kind,
        "catalog",
        "{out}"
    );
    assert_eq!(entry(&list, "workgroups", &out).kind, "folder", "{out}");
    assert_eq!(entry(&list, "recent queries", &out).kind, "folder", "{out}");
}

#[test]
fn moto_ls_workgroups_after_creating_one() {
    let moto = MotoServer::start();
    moto.call(
        "CreateWorkGroup",
        json!({"Name": "analysts",
               "Configuration": {"ResultConfiguration": {"OutputLocation": "s3://analysts/"}}}),
    );
    let athena = Athena::new(&moto.url());
    let (out, list) = athena.ls(&["workgroups"]);
    assert_eq!(entry(&list, "primary", &out).kind, "workgroup", "{out}");
    assert_eq!(entry(&list, "analysts", &out).kind, "workgroup", "{out}");

    let (out, _) = athena.ls(&["workgroups", "analysts"]);
    assert!(out.stdout.contains("s3://analysts/"), "{out}");
}

#[test]
fn moto_ls_databases_after_create_database() {
    let moto = MotoServer::start();
    let athena = Athena::new(&moto.url());
    let out = athena.run(&["CREATE DATABASE reporting"]);
    out.assert_ok();
    assert!(out.stdout.trim().is_empty(), "{out}");
    let (out, list) = athena.ls(&["AwsDataCatalog"]);
    assert_eq!(entry(&list, "reporting", &out).kind, "database", "{out}");
    assert_eq!(entry(&list, "default", &out).kind, "database", "{out}");
}

#[test]
fn moto_ls_workgroup_lists_its_named_queries() {
    let moto = MotoServer::start();
    moto.call(
        "CreateNamedQuery",
        json!({"Name": "daily", "Database": "default", "QueryString": "SELECT 1",
               "WorkGroup": "primary"}),
    );
    let athena = Athena::new(&moto.url());
    let (out, list) = athena.ls(&["workgroups", "primary"]);
    assert_eq!(entry(&list, "daily", &out).kind, "query", "{out}");
}

// ---------------------------------------------------------------------------------------------
// The fake itself (no binary involved): what the tests above rely on.

#[test]
fn fake_athena_speaks_the_protocol() {
    let fake = FakeAthena::start();
    let call = |op: &str, body: Value| -> (u16, Value) {
        let target = format!("AmazonAthena.{op}");
        let resp = http_request(
            fake.addr(),
            "POST",
            "/",
            &[
                ("X-Amz-Target", target.as_str()),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            body.to_string().as_bytes(),
        )
        .expect("fake answers");
        (
            resp.status,
            serde_json::from_str(&resp.body).expect("JSON reply"),
        )
    };
    let (status, started) = call(
        "StartQueryExecution",
        json!({"QueryString": "SELECT * FROM big", "ClientRequestToken": "t".repeat(40)}),
    );
    assert_eq!(status, 200, "{started}");
    let id = started["QueryExecutionId"]
        .as_str()
        .expect("id")
        .to_string();
    let (status, early) = call("GetQueryResults", json!({"QueryExecutionId": id}));
    assert_eq!(status, 400);
    assert_eq!(early["__type"], json!("InvalidRequestException"));
    let states: Vec<Value> = (0..3)
        .map(|_| call("GetQueryExecution", json!({"QueryExecutionId": id})).1)
        .map(|v| v["QueryExecution"]["Status"]["State"].clone())
        .collect();
    assert_eq!(
        states,
        [json!("QUEUED"), json!("RUNNING"), json!("SUCCEEDED")]
    );
    let (_, page) = call(
        "GetQueryResults",
        json!({"QueryExecutionId": id, "MaxResults": 1000}),
    );
    let rows = page["ResultSet"]["Rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1000);
    assert_eq!(
        rows[0]["Data"][0]["VarCharValue"],
        json!("id"),
        "header row"
    );
    assert_eq!(rows[10]["Data"][1], json!({}), "row 10's name is NULL");
    let token = page["NextToken"].as_str().expect("a next page").to_string();
    let (_, page2) = call(
        "GetQueryResults",
        json!({"QueryExecutionId": id, "MaxResults": 1000, "NextToken": token}),
    );
    assert_eq!(
        page2["ResultSet"]["Rows"][0]["Data"][0]["VarCharValue"],
        json!("1000")
    );
    // The same token starts nothing new.
    let (_, again) = call(
        "StartQueryExecution",
        json!({"QueryString": "SELECT * FROM big", "ClientRequestToken": "t".repeat(40)}),
    );
    assert_eq!(again["QueryExecutionId"], json!(id));
    assert_eq!(fake.query_ids().len(), 1);
    let (status, unknown) = call("DeleteEverything", json!({}));
    assert_eq!(status, 400, "{unknown}");
}

#[test]
fn fake_athena_keeps_connections_alive() {
    use std::io::{BufRead, BufReader, Read, Write};
    let fake = FakeAthena::start();
    let mut stream = std::net::TcpStream::connect(fake.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    for _ in 0..2 {
        let body = b"{}";
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonAthena.ListDataCatalogs\r\n\
             Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .expect("write");
        stream.write_all(body).expect("write body");
        let mut status = String::new();
        reader.read_line(&mut status).expect("status line");
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let mut len = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().expect("length");
            }
        }
        let mut reply = vec![0; len];
        reader.read_exact(&mut reply).expect("body");
        let reply: Value = serde_json::from_slice(&reply).expect("JSON");
        assert_eq!(
            reply["DataCatalogsSummary"][0]["CatalogName"],
            json!("AwsDataCatalog")
        );
    }
    assert_eq!(fake.count("ListDataCatalogs"), 2);
}

#[test]
fn fake_athena_throttles_starts() {
    let fake = FakeAthena::start_with(FakeConfig::default().throttle(Throttle::First(1)));
    let start = || {
        http_request(
            fake.addr(),
            "POST",
            "/",
            &[
                ("X-Amz-Target", "AmazonAthena.StartQueryExecution"),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            br#"{"QueryString": "SELECT 1", "ClientRequestToken": "0123456789abcdef0123456789abcdef"}"#,
        )
        .expect("fake answers")
    };
    let first = start();
    assert_eq!(first.status, 400, "{first:?}");
    assert_eq!(
        first.header("x-amzn-ErrorType"),
        Some("TooManyRequestsException"),
        "{first:?}"
    );
    assert!(
        first.body.contains("CONCURRENT_QUERY_LIMIT_EXCEEDED"),
        "{first:?}"
    );
    let second = start();
    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(fake.query_ids().len(), 1);
}

#[test]
fn fake_reopen_fetches_results_without_running_again() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let first = athena.run(&["--stats", "--format", "jsonl", "SELECT id, name FROM t"]);
    first.assert_ok();
    let id = require_stat(&first, "server id");
    let again = athena.run(&["--reopen", &id, "--format", "jsonl"]);
    again.assert_ok();
    assert_eq!(jsonl_rows(&again), jsonl_rows(&first), "{again}");
    assert_eq!(
        fake.count("StartQueryExecution"),
        1,
        "reopening starts nothing: {:?}",
        fake.ops()
    );
    // Only Athena has executions to reopen.
    let local = athena.run_with_timeout(&["run", "-c", "local", "--reopen", &id], TIMEOUT);
    local.assert_code(2);
}

#[test]
fn fake_result_reuse_is_sent_only_when_asked_for() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    athena
        .run(&["--reuse", "SELECT id, name FROM t"])
        .assert_ok();
    athena.run(&["SELECT id, name FROM t"]).assert_ok();
    let starts = fake.bodies("StartQueryExecution");
    assert_eq!(
        starts[0]["ResultReuseConfiguration"]["ResultReuseByAgeConfiguration"],
        json!({"Enabled": true, "MaxAgeInMinutes": 60}),
        "{}",
        starts[0]
    );
    assert!(
        starts[1].get("ResultReuseConfiguration").is_none(),
        "{}",
        starts[1]
    );
}

/// A sandbox config with one Athena connection without `endpoint_url`, plus `extra` lines.
fn athena_without_endpoint(extra: &str) -> (Sandbox, PathBuf) {
    let sandbox = Sandbox::new();
    let config = sandbox.config(
        "athena.toml",
        &format!(
            "[[connection]]\nname = \"athena\"\nkind = \"athena\"\nregion = \"us-east-1\"\n\
             output_location = \"s3://quarry-results/\"\n{extra}"
        ),
    );
    (sandbox, config)
}

#[test]
fn fake_endpoint_from_the_standard_environment_variable() {
    let fake = FakeAthena::start();
    let (sandbox, config) = athena_without_endpoint("");
    let aws = sandbox.root().join("aws");
    let mut cmd = sandbox.command(["--config", config.to_str().expect("UTF-8")]);
    cmd.args([
        "run",
        "-c",
        "athena",
        "--format",
        "jsonl",
        "SELECT id, name FROM t",
    ])
    .env("AWS_ACCESS_KEY_ID", "testing")
    .env("AWS_SECRET_ACCESS_KEY", "testing")
    .env("AWS_CONFIG_FILE", aws.join("config"))
    .env("AWS_SHARED_CREDENTIALS_FILE", aws.join("credentials"))
    .env("AWS_ENDPOINT_URL_ATHENA", fake.url());
    let out = run_command(&mut cmd, TIMEOUT);
    out.assert_ok();
    assert_eq!(jsonl_rows(&out).len(), 2, "{out}");
    assert_eq!(fake.count("StartQueryExecution"), 1, "{:?}", fake.ops());
}

#[test]
fn missing_credentials_are_one_actionable_line() {
    // No credentials anywhere (the sandbox has no AWS variables and no ~/.aws; instance
    // metadata is disabled): nothing is sent, and the message says what to do.
    let (sandbox, config) = athena_without_endpoint("endpoint_url = \"http://127.0.0.1:9\"\n");
    let cfg = config.to_str().expect("UTF-8");
    let out = run_command(
        &mut sandbox.command(["--config", cfg, "run", "-c", "athena", "SELECT 1"]),
        TIMEOUT,
    );
    out.assert_code(2);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{out}");
    assert!(out.stderr.contains("no AWS credentials"), "{out}");

    let (sandbox, config) = athena_without_endpoint("profile = \"prod\"\n");
    let cfg = config.to_str().expect("UTF-8");
    let out = run_command(
        &mut sandbox.command(["--config", cfg, "run", "-c", "athena", "SELECT 1"]),
        TIMEOUT,
    );
    out.assert_code(2);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{out}");
    assert!(
        out.stderr.contains("profile `prod`")
            && out.stderr.contains("aws sso login --profile prod"),
        "{out}"
    );
}

#[test]
fn fake_stats_of_a_failed_query_still_go_to_stderr() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let out = athena.run(&["--stats", "SELECT nope FROM fail_table"]);
    out.assert_code(1);
    assert_eq!(require_stat(&out, "state"), "FAILED", "{out}");
    assert_eq!(
        require_stat(&out, "server id"),
        fake.query_ids()[0],
        "{out}"
    );
    assert_eq!(
        require_stat(&out, "cost"),
        "$0.000000",
        "failed queries cost nothing\n{out}"
    );
}

#[test]
fn fake_empty_param_is_refused_and_local_sql_keeps_its_question_marks() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let out = athena.run(&["--param", "", "SELECT * FROM t WHERE a = ?"]);
    out.assert_code(2);
    assert!(out.stderr.contains("empty"), "{out}");
    assert_eq!(fake.count("StartQueryExecution"), 0, "{:?}", fake.ops());
    // `?` in local SQL is the engine's business, not a --param count mismatch.
    let local = athena.run_with_timeout(
        &["run", "-c", "local", "--format", "csv", "SELECT '?' AS q"],
        TIMEOUT,
    );
    local.assert_ok();
    let with_param =
        athena.run_with_timeout(&["run", "-c", "local", "--param", "1", "SELECT 1"], TIMEOUT);
    with_param.assert_code(2);
}

#[test]
fn fake_ls_recent_queries_of_another_workgroup() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let out = athena.run(&["--workgroup", "analysts", "SELECT 'in-analysts' AS m"]);
    out.assert_ok();
    let (out, list) = athena.ls(&["workgroups", "analysts"]);
    assert_eq!(entry(&list, "recent queries", &out).kind, "folder", "{out}");
    let (out, _) = athena.ls(&["workgroups", "analysts", "recent queries"]);
    assert!(out.stdout.contains("in-analysts"), "{out}");
    let starts = fake.bodies("StartQueryExecution");
    assert_eq!(starts[0]["WorkGroup"], json!("analysts"), "{}", starts[0]);
}

#[test]
fn fake_a_refused_stop_says_the_query_may_still_run() {
    let fake = FakeAthena::start();
    let athena = Athena::new(&fake.url());
    let out = interrupt_while_polling(&athena, &fake, "SELECT * FROM stubborn_table");
    out.assert_no_panic().assert_code(1);
    let id = &fake.query_ids()[0];
    assert!(
        out.stderr.contains("may still be running") && out.stderr.contains(id.as_str()),
        "{out}"
    );
}
