//! Athena named queries and the snippet library through the real binary, against moto:
//! `quarry snippets import` (ListNamedQueries, then BatchGetNamedQuery or GetNamedQuery) and
//! `quarry snippets publish` (CreateNamedQuery).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Output, Sandbox, run_command};
use crate::fake_athena::{FakeAthena, FakeConfig};
use crate::moto::MotoServer;

const TIMEOUT: Duration = Duration::from_secs(120);

/// A sandbox whose config holds `athena` (workgroup `primary`, database `sales`) and
/// `athena-nodb` (no database) at moto's endpoint; the built-in `local` is there too.
struct Env {
    sandbox: Sandbox,
    config: PathBuf,
}

impl Env {
    fn new(moto: &MotoServer) -> Self {
        Self::at(&moto.url())
    }

    fn at(endpoint: &str) -> Self {
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
                 \n\
                 [[connection]]\n\
                 name = \"athena-nodb\"\n\
                 kind = \"athena\"\n\
                 region = \"us-east-1\"\n\
                 endpoint_url = \"{endpoint}\"\n"
            ),
        );
        Env { sandbox, config }
    }

    /// `quarry --config <config> <args…>` with test credentials.
    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self
            .sandbox
            .command(["--config", self.config.to_str().expect("UTF-8 path")]);
        cmd.args(args).envs(self.sandbox.aws_env());
        let out = run_command(&mut cmd, TIMEOUT);
        out.assert_no_panic();
        out
    }

    /// `quarry snippets list --format jsonl`, by name.
    #[track_caller]
    fn snippets(&self) -> Vec<Value> {
        let out = self.run(&["snippets", "list", "--format", "jsonl"]);
        out.assert_ok();
        out.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
            .collect()
    }

    /// Writes `<data dir>/snippets/<rel>`.
    fn snippet(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.sandbox.data_dir().join("snippets").join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the folder");
        std::fs::write(&path, content).expect("write the snippet");
        path
    }
}

fn create_named_query(moto: &MotoServer, name: &str, sql: &str, extra: Value) -> String {
    let mut body = json!({"Name": name, "Database": "sales", "QueryString": sql});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    moto.call("CreateNamedQuery", body)["NamedQueryId"]
        .as_str()
        .expect("a named query id")
        .to_string()
}

#[track_caller]
fn by_name<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no snippet `{name}` in {list:#?}"))
}

#[test]
fn import_saves_named_queries_as_tagged_snippets_and_keeps_existing_ones() {
    let moto = MotoServer::start();
    moto.call("CreateWorkGroup", json!({"Name": "analysts"}));
    create_named_query(
        &moto,
        "Daily trips",
        "SELECT day, count(*) FROM trips GROUP BY 1",
        json!({"Description": "Trips per day", "WorkGroup": "primary"}),
    );
    create_named_query(
        &moto,
        "vendors",
        "SELECT DISTINCT vendor FROM trips",
        json!({}),
    );
    create_named_query(
        &moto,
        "Analyst view",
        "SELECT 42",
        json!({"WorkGroup": "analysts"}),
    );
    let env = Env::new(&moto);

    let out = env.run(&["snippets", "import", "-c", "athena"]);
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "imported 2, skipped 0", "{out}");
    let list = env.snippets();
    assert_eq!(list.len(), 2, "only the connection's workgroup: {list:#?}");
    let daily = by_name(&list, "Daily trips");
    assert_eq!(daily["connection"], "athena");
    assert_eq!(daily["tags"], json!(["athena", "primary"]));
    assert_eq!(daily["description"], "Trips per day");
    let file = daily["file"].as_str().expect("a file");
    let text = std::fs::read_to_string(file).expect("read the snippet");
    assert!(
        text.trim_end()
            .ends_with("SELECT day, count(*) FROM trips GROUP BY 1"),
        "{text}"
    );
    let vendors = by_name(&list, "vendors");
    assert_eq!(vendors["tags"], json!(["athena", "primary"]));
    assert_eq!(vendors["description"], Value::Null);
    // The named queries came from moto's listing (ListNamedQueries), then were fetched whole.
    assert!(
        moto.count("ListNamedQueries") >= 1,
        "{:?}",
        moto.athena_ops()
    );

    // A second import keeps what is there and says so, one line per snippet.
    std::fs::write(file, "-- name: Daily trips\nSELECT 'edited'\n").expect("edit the snippet");
    let out = env.run(&["snippets", "import", "-c", "athena"]);
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "imported 0, skipped 2", "{out}");
    assert!(
        out.stderr.contains("`Daily trips`") && out.stderr.contains("`vendors`"),
        "{out}"
    );
    assert!(out.stderr.contains("--overwrite"), "{out}");
    assert!(
        std::fs::read_to_string(file)
            .unwrap()
            .contains("SELECT 'edited'"),
        "the edited snippet is kept"
    );

    // --overwrite replaces them, in the same files.
    let out = env.run(&["snippets", "import", "-c", "athena", "--overwrite"]);
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "imported 2, skipped 0", "{out}");
    let text = std::fs::read_to_string(file).expect("read the snippet");
    assert!(
        text.contains("GROUP BY 1") && !text.contains("edited"),
        "{text}"
    );
    assert_eq!(env.snippets().len(), 2);

    // Another workgroup, by name.
    let out = env.run(&[
        "snippets",
        "import",
        "-c",
        "athena",
        "--workgroup",
        "analysts",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "imported 1, skipped 0", "{out}");
    let list = env.snippets();
    assert_eq!(list.len(), 3, "{list:#?}");
    assert_eq!(
        by_name(&list, "Analyst view")["tags"],
        json!(["athena", "analysts"])
    );
}

#[test]
fn import_reads_every_page_of_a_big_workgroup() {
    let moto = MotoServer::start();
    // More than one ListNamedQueries page (50) and more than one BatchGetNamedQuery chunk.
    for i in 0..57 {
        create_named_query(
            &moto,
            &format!("q{i:02}"),
            &format!("SELECT {i}"),
            json!({}),
        );
    }
    let env = Env::new(&moto);
    let out = env.run(&["snippets", "import", "-c", "athena"]);
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "imported 57, skipped 0", "{out}");
    assert!(
        moto.count("ListNamedQueries") >= 2,
        "{:?}",
        moto.athena_ops()
    );
    // moto has no BatchGetNamedQuery: tried once, then every query fetched with GetNamedQuery.
    assert_eq!(
        moto.count("BatchGetNamedQuery"),
        1,
        "{:?}",
        moto.athena_ops()
    );
    assert_eq!(moto.count("GetNamedQuery"), 57, "{:?}", moto.athena_ops());
    let list = env.snippets();
    let mut names: Vec<&str> = list.iter().filter_map(|s| s["name"].as_str()).collect();
    names.sort();
    let expected: Vec<String> = (0..57).map(|i| format!("q{i:02}")).collect();
    assert_eq!(names, expected);
}

/// Where the service has BatchGetNamedQuery (moto has not: the in-process fake stands in), the
/// queries are fetched 50 per call, with no GetNamedQuery at all.
#[test]
fn fake_import_fetches_named_queries_in_batches_of_fifty() {
    let mut config = FakeConfig::default();
    for i in 0..120 {
        config = config.named_query(&format!("saved {i:03}"), "primary", &format!("SELECT {i}"));
    }
    config = config.named_query("elsewhere", "other", "SELECT 0");
    let fake = FakeAthena::start_with(config);
    let env = Env::at(&fake.url());
    let out = env.run(&["snippets", "import", "-c", "athena"]);
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "imported 120, skipped 0", "{out}");
    let sizes: Vec<usize> = fake
        .bodies("BatchGetNamedQuery")
        .iter()
        .map(|b| b["NamedQueryIds"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, [50, 50, 20], "{:?}", fake.ops());
    assert_eq!(fake.count("GetNamedQuery"), 0, "{:?}", fake.ops());
    assert_eq!(fake.count("ListNamedQueries"), 3, "{:?}", fake.ops());
    let list = env.snippets();
    assert_eq!(list.len(), 120);
    let s = by_name(&list, "saved 007");
    assert_eq!(s["tags"], json!(["athena", "primary"]));
    let text = std::fs::read_to_string(s["file"].as_str().unwrap()).unwrap();
    assert!(text.trim_end().ends_with("SELECT 7"), "{text}");
}

#[test]
fn publish_creates_a_named_query_with_the_snippet_text_and_database() {
    let moto = MotoServer::start();
    moto.call("CreateWorkGroup", json!({"Name": "analysts"}));
    let env = Env::new(&moto);
    env.snippet(
        "trips.sql",
        "-- name: Trips per vendor\n-- description: Busiest vendors first\n-- tags: trips\n\n\
         SELECT vendor, count(*) FROM trips GROUP BY 1 ORDER BY 2 DESC\n",
    );

    let out = env.run(&["snippets", "publish", "Trips per vendor", "-c", "athena"]);
    out.assert_ok();
    let id = out.stdout.trim().to_string();
    assert!(!id.is_empty() && !id.contains(char::is_whitespace), "{out}");
    assert_eq!(moto.count("CreateNamedQuery"), 1);
    let listed = moto.call("ListNamedQueries", json!({"WorkGroup": "primary"}));
    assert_eq!(listed["NamedQueryIds"], json!([id]), "{listed}");
    let got = moto.call("GetNamedQuery", json!({"NamedQueryId": id}));
    let q = &got["NamedQuery"];
    assert_eq!(q["Name"], "Trips per vendor", "{got}");
    assert_eq!(
        q["QueryString"], "SELECT vendor, count(*) FROM trips GROUP BY 1 ORDER BY 2 DESC",
        "{got}"
    );
    assert_eq!(q["Database"], "sales", "the connection's database: {got}");
    assert_eq!(q["Description"], "Busiest vendors first", "{got}");
    assert_eq!(q["WorkGroup"], "primary", "{got}");

    // Another workgroup and database, by option (and the snippet found by its path).
    let out = env.run(&[
        "snippets",
        "publish",
        "trips.sql",
        "-c",
        "athena",
        "--workgroup",
        "analysts",
        "--database",
        "archive",
    ]);
    out.assert_ok();
    let id2 = out.stdout.trim().to_string();
    assert_ne!(id2, id);
    let listed = moto.call("ListNamedQueries", json!({"WorkGroup": "analysts"}));
    assert_eq!(listed["NamedQueryIds"], json!([id2]), "{listed}");
    let got = moto.call("GetNamedQuery", json!({"NamedQueryId": id2}));
    assert_eq!(got["NamedQuery"]["Database"], "archive", "{got}");
    assert_eq!(got["NamedQuery"]["WorkGroup"], "analysts", "{got}");

    // What was published comes back through an import (into a fresh library).
    let fresh = Env::new(&moto);
    let out = fresh.run(&["snippets", "import", "-c", "athena"]);
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "imported 1, skipped 0", "{out}");
    let list = fresh.snippets();
    let s = by_name(&list, "Trips per vendor");
    assert_eq!(s["description"], "Busiest vendors first");
    assert_eq!(s["tags"], json!(["athena", "primary"]));
}

#[test]
fn publish_refuses_placeholders_and_a_missing_database() {
    let moto = MotoServer::start();
    let env = Env::new(&moto);
    env.snippet(
        "by-day.sql",
        "-- name: by day\nSELECT * FROM trips WHERE day = ${day}\n",
    );
    env.snippet("plain.sql", "-- name: plain\nSELECT 1\n");

    let out = env.run(&["snippets", "publish", "by day", "-c", "athena"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("${day}") && out.stderr.contains("named query"),
        "{out}"
    );
    assert!(out.stdout.trim().is_empty(), "{out}");

    // No database on the connection and none given: a clear usage error before any request.
    let out = env.run(&["snippets", "publish", "plain", "-c", "athena-nodb"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("database") && out.stderr.contains("--database"),
        "{out}"
    );
    assert_eq!(moto.count("CreateNamedQuery"), 0, "{:?}", moto.athena_ops());

    // With --database it goes through.
    let out = env.run(&[
        "snippets",
        "publish",
        "plain",
        "-c",
        "athena-nodb",
        "--database",
        "default",
    ]);
    out.assert_ok();
    let got = moto.call("GetNamedQuery", json!({"NamedQueryId": out.stdout.trim()}));
    assert_eq!(got["NamedQuery"]["Database"], "default", "{got}");
    assert_eq!(got["NamedQuery"]["WorkGroup"], "primary", "{got}");

    // An unknown snippet is a usage error too.
    env.run(&["snippets", "publish", "nope", "-c", "athena"])
        .assert_code(2);
}

#[test]
fn import_and_publish_need_an_athena_connection() {
    let sb = Sandbox::new();
    let snippets = sb.data_dir().join("snippets");
    std::fs::create_dir_all(&snippets).unwrap();
    std::fs::write(snippets.join("one.sql"), "SELECT 1\n").unwrap();

    let out = sb.run(["snippets", "import", "-c", "local"]);
    out.assert_code(2).assert_no_panic();
    assert!(
        out.stderr.contains("Athena") && out.stderr.contains("`local`"),
        "{out}"
    );
    assert!(out.stdout.trim().is_empty(), "{out}");

    let out = sb.run(["snippets", "publish", "one", "-c", "local"]);
    out.assert_code(2).assert_no_panic();
    assert!(out.stderr.contains("Athena"), "{out}");

    // An unknown connection is a usage error as well.
    sb.run(["snippets", "import", "-c", "nowhere"])
        .assert_code(2);
}

/// On Athena a snippet's `${…}` values go as real query parameters (ExecutionParameters, as SQL
/// literals), never spliced into the text.
#[test]
fn snippet_values_run_as_athena_execution_parameters() {
    let fake = FakeAthena::start();
    let env = Env::at(&fake.url());
    env.snippet(
        "by-vendor.sql",
        "-- connection: athena\nSELECT * FROM trips WHERE vendor = ${vendor} AND n > ${n:10}\n",
    );
    let out = env.run(&[
        "run",
        "--snippet",
        "by-vendor",
        "--set",
        "vendor=O'Brien",
        "--format",
        "csv",
    ]);
    out.assert_ok();
    let start = fake
        .bodies("StartQueryExecution")
        .pop()
        .expect("a query was started");
    assert_eq!(
        start["QueryString"],
        "SELECT * FROM trips WHERE vendor = ? AND n > ?"
    );
    assert_eq!(start["ExecutionParameters"], json!(["'O''Brien'", "10"]));
}
