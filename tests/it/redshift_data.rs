//! The Redshift Data API connector, through the real binary (`quarry run`, `quarry ls`) and, for
//! what spans several runs of one tab (sessions), through the library's connector itself —
//! against the Data API test server (`fake_redshift_data`) running the SQL on a real PostgreSQL.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Output, Sandbox, run_command, wait_child};
use crate::fake_redshift_data::{CLUSTER, FakeRedshiftData, SECRET_ARN, ServerConfig, WORKGROUP};
use crate::postgres::{self, Postgres};

const TIMEOUT: Duration = Duration::from_secs(120);

/// A sandbox with an `rd` connection to the test server (target and auth from `extra`).
struct RedshiftData {
    sandbox: Sandbox,
    config: PathBuf,
    database: String,
}

impl RedshiftData {
    /// `rd` on `database`, with `target` lines (`cluster_identifier = …`, auth, sessions).
    fn new(server: &FakeRedshiftData, database: &str, target: &str) -> Self {
        let sandbox = Sandbox::new();
        let config = sandbox.config(
            "rd.toml",
            &format!(
                "[[connection]]\nname = \"rd\"\nkind = \"redshift-data\"\nregion = \"us-east-1\"\n\
                 endpoint_url = \"{}\"\ndatabase = \"{database}\"\n{target}",
                server.url()
            ),
        );
        RedshiftData {
            sandbox,
            config,
            database: database.to_string(),
        }
    }

    /// On the provisioned cluster as a database user.
    fn on_cluster(server: &FakeRedshiftData, pg: &Postgres) -> Self {
        let db = pg.create_database();
        Self::new(
            server,
            &db,
            &format!("cluster_identifier = \"{CLUSTER}\"\ndb_user = \"analyst\"\n"),
        )
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self
            .sandbox
            .command(["--config", self.config.to_str().expect("UTF-8 path")]);
        cmd.args(args).envs(self.sandbox.aws_env());
        cmd
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["run", "-c", "rd"];
        full.extend_from_slice(args);
        let out = run_command(&mut self.command(&full), TIMEOUT);
        out.assert_no_panic();
        out
    }

    /// `run --format jsonl`, which must succeed: the rows.
    #[track_caller]
    fn rows(&self, args: &[&str]) -> Vec<Value> {
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

fn shared_pg() -> &'static Postgres {
    postgres::shared()
}

#[test]
fn every_target_and_auth_combination_is_sent_as_the_service_expects() {
    let pg = shared_pg();
    let server = FakeRedshiftData::start(pg);
    let db = pg.create_database();
    let accepted = [
        (
            format!("cluster_identifier = \"{CLUSTER}\"\ndb_user = \"analyst\"\n"),
            Some("analyst"),
            false,
        ),
        (format!("cluster_identifier = \"{CLUSTER}\"\n"), None, false),
        (
            format!("cluster_identifier = \"{CLUSTER}\"\nsecret_arn = \"{SECRET_ARN}\"\n"),
            None,
            true,
        ),
        (
            format!("workgroup_name = \"{WORKGROUP}\"\nsecret_arn = \"{SECRET_ARN}\"\n"),
            None,
            true,
        ),
        (format!("workgroup_name = \"{WORKGROUP}\"\n"), None, false),
    ];
    for (target, db_user, secret) in &accepted {
        let rd = RedshiftData::new(&server, &db, target);
        let rows = rd.rows(&["SELECT 1 AS one"]);
        assert_eq!(rows, vec![serde_json::json!({"one": 1})], "{target}");
        let sent = server.calls("ExecuteStatement").pop().expect("a call");
        assert_eq!(sent["Database"], db.as_str(), "{target}");
        assert_eq!(sent["DbUser"].as_str(), *db_user, "{target}");
        assert_eq!(sent["SecretArn"].as_str().is_some(), *secret, "{target}");
        let on_cluster = target.contains("cluster_identifier");
        assert_eq!(sent["ClusterIdentifier"].as_str().is_some(), on_cluster);
        assert_eq!(sent["WorkgroupName"].as_str().is_some(), !on_cluster);
        assert!(
            sent["StatementName"]
                .as_str()
                .is_some_and(|n| n.starts_with("quarry:")),
            "{sent}"
        );
        assert!(sent["ClientToken"].as_str().is_some_and(|t| !t.is_empty()));
    }

    // Rejected before anything is sent: the config names the problem.
    let before = server.requests().len();
    let serverless_user = RedshiftData::new(
        &server,
        &db,
        &format!("workgroup_name = \"{WORKGROUP}\"\ndb_user = \"analyst\"\n"),
    );
    let out = serverless_user.run(&["SELECT 1"]);
    out.assert_code(2);
    assert!(out.stderr.contains("IAM identity"), "{out}");
    let both = RedshiftData::new(
        &server,
        &db,
        &format!(
            "cluster_identifier = \"{CLUSTER}\"\nsecret_arn = \"{SECRET_ARN}\"\ndb_user = \"u\"\n"
        ),
    );
    both.run(&["SELECT 1"]).assert_code(2);
    assert_eq!(server.requests().len(), before, "nothing was sent");

    // Rejected by the service: its message, on one line, exit 1.
    let unknown = RedshiftData::new(&server, &db, "cluster_identifier = \"nope\"\n");
    let out = unknown.run(&["SELECT 1"]);
    out.assert_code(1);
    assert!(out.stderr.contains("nope"), "{out}");
    let bad_secret = RedshiftData::new(
        &server,
        &db,
        &format!(
            "cluster_identifier = \"{CLUSTER}\"\nsecret_arn = \"arn:aws:secretsmanager:us-east-1:123456789012:secret:other\"\n"
        ),
    );
    let out = bad_secret.run(&["SELECT 1"]);
    out.assert_code(1);
    assert!(out.stderr.contains("Exception"), "{out}");
}

#[test]
fn a_25000_row_result_streams_across_pages_with_exact_types() {
    let pg = shared_pg();
    let server = FakeRedshiftData::start(pg);
    let rd = RedshiftData::on_cluster(&server, pg);
    let out = rd.run(&[
        "--format",
        "csv",
        "SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 25000) g ORDER BY g",
    ]);
    out.assert_ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 25_001, "header and every row");
    assert_eq!(lines[1], "1,row 1");
    assert_eq!(lines[25_000], "25000,row 25000");
    let pages = server.calls("GetStatementResult");
    assert_eq!(pages.len(), 25, "1,000-row pages followed by NextToken");

    let rows = rd.rows(&[
        "SELECT 7::int2 AS a, 2000000000::int4 AS b, 9007199254740993::int8 AS c, \
         1.5::float4 AS d, 0.1::float8 AS e, 12345678901.125::numeric(15,3) AS f, true AS g, \
         'héllo'::varchar(10) AS h, 'ab'::char(3) AS i, DATE '2024-02-29' AS j, \
         TIMESTAMP '2024-02-29 13:14:15.123456' AS k, \
         TIMESTAMPTZ '2024-02-29 13:14:15.5+02' AS l, '{\"x\": [1, 2]}'::jsonb AS m, \
         NULL::int4 AS n",
    ]);
    let row = &rows[0];
    assert_eq!(row["a"], 7);
    assert_eq!(row["b"], 2_000_000_000);
    assert_eq!(
        row["c"].to_string(),
        "9007199254740993",
        "int8 beyond 2^53 stays exact"
    );
    assert_eq!(row["d"], 1.5);
    assert_eq!(row["e"], 0.1);
    assert_eq!(
        row["f"].to_string().trim_matches('"'),
        "12345678901.125",
        "numeric is exact"
    );
    assert_eq!(row["g"], true);
    assert_eq!(row["h"], "héllo");
    assert_eq!(row["i"], "ab ");
    assert_eq!(row["j"], "2024-02-29");
    assert!(
        row["k"]
            .as_str()
            .is_some_and(|k| k.starts_with("2024-02-29") && k.contains("13:14:15.123456")),
        "{row}"
    );
    assert!(
        row["l"].as_str().is_some_and(|l| l.contains("11:14:15.5")),
        "timestamptz in UTC: {row}"
    );
    let super_value: Value =
        serde_json::from_str(row["m"].as_str().expect("SUPER as JSON text")).expect("valid JSON");
    assert_eq!(super_value, serde_json::json!({"x": [1, 2]}));
    assert!(row["n"].is_null());
}

#[test]
fn named_parameters_go_as_parameters_and_missing_ones_are_a_usage_error() {
    let pg = shared_pg();
    let server = FakeRedshiftData::start(pg);
    let rd = RedshiftData::on_cluster(&server, pg);
    let rows = rd.rows(&[
        "--param",
        "id=2",
        "--param",
        "name=O'Brien",
        "SELECT g AS id, :name AS name FROM generate_series(1, 3) g WHERE g = :id::int",
    ]);
    assert_eq!(rows, vec![serde_json::json!({"id": 2, "name": "O'Brien"})]);
    let sent = server.calls("ExecuteStatement").pop().expect("a call");
    assert_eq!(
        sent["Parameters"],
        serde_json::json!([{"name": "name", "value": "O'Brien"}, {"name": "id", "value": "2"}])
    );
    let out = rd.run(&["SELECT :id"]);
    out.assert_code(2);
    assert!(out.stderr.contains("--param id=VALUE"), "{out}");
    let out = rd.run(&["--param", "other=1", "SELECT 1"]);
    out.assert_code(2);
    assert!(out.stderr.contains("no `:other`"), "{out}");
}

#[test]
fn a_script_runs_in_one_session_that_ends_with_it() {
    let pg = shared_pg();
    let server = FakeRedshiftData::start(pg);
    let rd = RedshiftData::on_cluster(&server, pg);
    let script = rd.sandbox.write(
        "script.sql",
        "CREATE TEMP TABLE scratch AS SELECT 1 AS x;\nINSERT INTO scratch VALUES (2);\n\
         SELECT x FROM scratch ORDER BY x;\n",
    );
    let rows = rd.rows(&["-f", script.to_str().unwrap()]);
    assert_eq!(
        rows,
        vec![serde_json::json!({"x": 1}), serde_json::json!({"x": 2})]
    );
    let calls = server.calls("ExecuteStatement");
    assert!(
        calls[0]["SessionKeepAliveSeconds"]
            .as_i64()
            .is_some_and(|s| s > 0)
    );
    let session = calls[1]["SessionId"]
        .as_str()
        .expect("later statements join the session");
    assert!(calls[1].get("ClusterIdentifier").is_none(), "{}", calls[1]);
    assert_eq!(calls[2]["SessionId"], session);
    // The script's end closes the session instead of leaving it idle on the server.
    let last = calls.last().expect("calls");
    assert_eq!(last["SessionId"], session);
    assert_eq!(last["SessionKeepAliveSeconds"], 0);
    wait_until("the session to end", || server.session_count() == 0);
    // A script's temp table is gone with its session.
    let out = rd.run(&["SELECT * FROM scratch"]);
    out.assert_code(1);
    assert!(out.stderr.contains("scratch"), "{out}");
}

#[test]
fn a_batch_runs_as_one_transaction_and_a_failure_rolls_it_back() {
    let pg = shared_pg();
    let server = FakeRedshiftData::start(pg);
    let rd = RedshiftData::on_cluster(&server, pg);
    rd.run(&["CREATE TABLE ledger (amount int)"]).assert_ok();

    let out = rd.run(&[
        "--batch",
        "--format",
        "jsonl",
        "INSERT INTO ledger VALUES (10); SELECT sum(amount) AS total FROM ledger",
    ]);
    out.assert_ok();
    assert_eq!(out.lines(), vec!["{\"total\":10}"], "{out}");
    let batch = server
        .calls("BatchExecuteStatement")
        .pop()
        .expect("one call");
    assert_eq!(batch["Sqls"].as_array().map(Vec::len), Some(2));

    let out = rd.run(&[
        "--batch",
        "INSERT INTO ledger VALUES (5); SELECT nope FROM ledger",
    ]);
    out.assert_code(1);
    assert!(out.stderr.contains("nope"), "the database's error: {out}");
    assert!(out.stderr.contains("rolled back"), "{out}");
    let total = rd.rows(&["SELECT sum(amount) AS total FROM ledger"]);
    assert_eq!(
        total[0]["total"].to_string().trim_matches('"'),
        "10",
        "the 5 was rolled back"
    );
}

#[test]
fn ctrl_c_cancels_the_statement_on_the_server() {
    let pg = shared_pg();
    let server = FakeRedshiftData::start(pg);
    let rd = RedshiftData::on_cluster(&server, pg);
    let child = rd
        .command(&["run", "-c", "rd", "SELECT pg_sleep(60)"])
        .spawn()
        .expect("start quarry");
    wait_until("quarry to poll the statement", || {
        !server.calls("DescribeStatement").is_empty()
    });
    let started = Instant::now();
    // SAFETY: kill(2) on the pid of our own child, which has not been waited for yet.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "kill(SIGINT) failed");
    let out = wait_child(child, TIMEOUT);
    out.assert_code(130);
    assert!(started.elapsed() < Duration::from_secs(10), "{out}");
    let cancels = server.calls("CancelStatement");
    assert_eq!(cancels.len(), 1, "{out}");
    let id = cancels[0]["Id"].as_str().expect("an id");
    assert_eq!(
        server.calls("ExecuteStatement")[0]
            .get("Sql")
            .and_then(Value::as_str),
        Some("SELECT pg_sleep(60)")
    );
    // The database stopped sleeping: nothing of it runs any more.
    let mut client = pg.client("postgres");
    wait_until("pg_sleep to stop on the server", || {
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'",
                &[],
            )
            .expect("pg_stat_activity");
        row.get::<_, i64>(0) == 0
    });
    assert!(!id.is_empty());
}

#[test]
fn the_browser_lists_databases_schemas_tables_and_columns() {
    let pg = shared_pg();
    let server = FakeRedshiftData::start(pg);
    let rd = RedshiftData::on_cluster(&server, pg);
    let db = rd.database.clone();
    let mut client = pg.client(&db);
    client
        .batch_execute(
            "CREATE SCHEMA sales;
             CREATE TABLE sales.orders (id int PRIMARY KEY, amount numeric(10,2) NOT NULL DEFAULT 0, note varchar(20));
             CREATE TABLE sales.customers (id int);
             CREATE TABLE sales.regions (id int);
             CREATE VIEW sales.big_orders AS SELECT * FROM sales.orders WHERE amount > 100;",
        )
        .expect("create the catalog");
    let ls = |path: &[&str]| {
        let mut args = vec!["ls", "-c", "rd"];
        args.extend_from_slice(path);
        let out = run_command(&mut rd.command(&args), TIMEOUT);
        out.assert_ok();
        out.stdout
    };
    let root = ls(&[]);
    assert!(
        root.lines()
            .any(|l| l.starts_with(&format!("{db}\tdatabase"))),
        "{root}"
    );
    let schemas = ls(&[&db]);
    assert!(
        schemas.contains("sales\tschema") && schemas.contains("public\tschema"),
        "{schemas}"
    );
    let tables = ls(&[&db, "sales"]);
    let names: Vec<&str> = tables
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["big_orders", "customers", "orders", "regions"],
        "paginated, sorted"
    );
    assert!(tables.contains("big_orders\tview"), "{tables}");
    let columns = ls(&[&db, "sales", "orders"]);
    let lines: Vec<&str> = columns.lines().collect();
    assert_eq!(lines.len(), 3, "{columns}");
    assert!(
        lines[1].starts_with("amount\tcolumn\tnumeric(10,2) not null default"),
        "{columns}"
    );
    assert!(
        server.calls("ListTables").len() >= 2,
        "tables come in pages"
    );
}

/// A tab's statements, through the connector the TUI uses: a temp table lives in the tab's
/// session only; an idled-out session is replaced with a warning that its state is gone.
#[test]
fn a_tab_session_keeps_temp_tables_and_an_expired_one_is_replaced_with_a_warning() {
    use quarry::connectors::{Connector, JobEvent, QueryRequest};

    let pg = shared_pg();
    let server = FakeRedshiftData::start(pg);
    let db = pg.create_database();
    let rd = RedshiftData::new(
        &server,
        &db,
        &format!("cluster_identifier = \"{CLUSTER}\"\nsession_keep_alive_seconds = 300\n"),
    );
    let config = quarry::store::config::load(Some(&rd.config)).expect("config");
    let conn = config
        .all_connections()
        .into_iter()
        .find(|c| c.name == "rd")
        .expect("rd");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let connector = runtime.block_on(async {
        let sdk = crate::common::test_sdk_config(&server.url());
        quarry::connectors::redshift_data::RedshiftDataConnector::with_sdk_config(&conn, &sdk)
    });
    let run = |key: &str, sql: &str| -> (Result<u64, String>, Vec<JobEvent>) {
        runtime.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::channel(64);
            let sink = quarry::connectors::JobSink::new(1, tx);
            let request = QueryRequest {
                session_key: Some(key.to_string()),
                label: Some("tab 1".into()),
                ..QueryRequest::new(sql)
            };
            let outcome = connector
                .execute(request, sink, Default::default())
                .await
                .map(|s| s.rows)
                .map_err(|e| e.to_string());
            let mut events = Vec::new();
            while let Ok((_, e)) = rx.try_recv() {
                events.push(e);
            }
            (outcome, events)
        })
    };
    let notices = |events: &[JobEvent]| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                JobEvent::Notice(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    };

    let (created, events) = run("tab-1", "CREATE TEMP TABLE picks AS SELECT 42 AS answer");
    assert_eq!(created, Ok(0));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, JobEvent::Session(s) if s.key == "tab-1")),
        "the tab hears of its session"
    );
    let (read, _) = run("tab-1", "SELECT answer FROM picks");
    assert_eq!(read, Ok(1), "the next run of the tab sees its temp table");
    let (other, _) = run("tab-2", "SELECT answer FROM picks");
    assert!(
        other.as_ref().is_err_and(|e| e.contains("picks")),
        "another tab has its own session: {other:?}"
    );

    server.expire_sessions();
    let (after, events) = run("tab-1", "SELECT answer FROM picks");
    let warned = notices(&events);
    assert_eq!(warned.len(), 1, "{events:?}");
    assert!(warned[0].contains("temp tables"), "{}", warned[0]);
    assert!(after.is_err(), "the temp table went with the old session");
    let (fresh, events) = run("tab-1", "SELECT 1");
    assert_eq!(fresh, Ok(1));
    assert!(notices(&events).is_empty(), "the new session is live");

    let before = server.session_count();
    let ended = runtime
        .block_on(connector.end_session("tab-1"))
        .expect("end_session");
    assert!(ended.is_some());
    wait_until("the session to end", || server.session_count() < before);
}

/// Polls `done` every 50 ms for up to 20 s.
#[track_caller]
/// Issue 16.8: SIGINT while `ExecuteStatement` itself is slow. The statement is accepted (and
/// runs) before its id is known; the cancel waits for the id, cancels it on the server at once
/// and says so, instead of following it and then failing with "may still be running".
#[test]
fn ctrl_c_during_a_slow_start_cancels_the_statement_once_its_id_is_known() {
    let pg = shared_pg();
    let start_delay = Duration::from_secs(3);
    let server = FakeRedshiftData::start_with(
        pg,
        ServerConfig {
            start_delay,
            ..ServerConfig::default()
        },
    );
    let rd = RedshiftData::on_cluster(&server, pg);
    let sql = "SELECT pg_sleep(61)";
    let child = rd
        .command(&["run", "-c", "rd", sql])
        .spawn()
        .expect("start quarry");
    wait_until("quarry to send ExecuteStatement", || {
        !server.calls("ExecuteStatement").is_empty()
    });
    let signalled = Instant::now();
    // SAFETY: kill(2) on the pid of our own child, which has not been waited for yet.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let out = wait_child(child, TIMEOUT);
    out.assert_code(130).assert_no_panic();
    // The start's own answer, then one CancelStatement: no waiting on the statement.
    assert!(
        signalled.elapsed() < start_delay + Duration::from_secs(4),
        "exited after {:?}\n{out}",
        signalled.elapsed()
    );
    let cancels = server.calls("CancelStatement");
    assert_eq!(cancels.len(), 1, "{out}");
    let id = cancels[0]["Id"].as_str().expect("an id").to_string();
    assert!(server.calls("DescribeStatement").len() <= 1, "{out}");
    assert!(
        out.stderr.contains(&id) && out.stderr.contains("cancelled"),
        "names the statement it cancelled once its id was known\n{out}"
    );
    assert!(!out.stderr.contains("may still be running"), "{out}");
    let mut client = pg.client("postgres");
    wait_until("pg_sleep to stop on the server", || {
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query = $1",
                &[&sql],
            )
            .expect("pg_stat_activity");
        row.get::<_, i64>(0) == 0
    });
}

/// A second SIGINT does not wait for the slow start: it exits at once and says the statement
/// may be left running.
#[test]
fn a_second_ctrl_c_during_a_slow_start_exits_at_once() {
    let pg = shared_pg();
    let server = FakeRedshiftData::start_with(
        pg,
        ServerConfig {
            start_delay: Duration::from_secs(20),
            ..ServerConfig::default()
        },
    );
    let rd = RedshiftData::on_cluster(&server, pg);
    let child = rd
        .command(&["run", "-c", "rd", "SELECT 1"])
        .spawn()
        .expect("start quarry");
    wait_until("quarry to send ExecuteStatement", || {
        !server.calls("ExecuteStatement").is_empty()
    });
    let pid = child.id() as libc::pid_t;
    let signalled = Instant::now();
    // SAFETY: kill(2) on the pid of our own child, which has not been waited for yet.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = wait_child(child, TIMEOUT);
    out.assert_code(130).assert_no_panic();
    assert!(signalled.elapsed() < Duration::from_secs(3), "{out}");
    assert!(out.stderr.contains("without waiting"), "{out}");
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_finished_statement_is_reopened_by_its_id_without_running_again() {
    let pg = shared_pg();
    let server = FakeRedshiftData::start(pg);
    let rd = RedshiftData::on_cluster(&server, pg);
    let out = rd.run(&[
        "--stats",
        "--format",
        "jsonl",
        "SELECT g AS n FROM generate_series(1, 3) g",
    ]);
    out.assert_ok();
    let id = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("server id: "))
        .expect("the statement id on stderr")
        .trim()
        .to_string();
    let reopened = rd.run(&["--reopen", &id, "--format", "jsonl"]);
    reopened.assert_ok();
    assert_eq!(reopened.stdout, out.stdout, "the same rows");
    assert_eq!(
        server.calls("ExecuteStatement").len(),
        1,
        "nothing ran again"
    );
}
