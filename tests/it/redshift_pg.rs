//! The direct Redshift/PostgreSQL connector (`kind = "redshift"`) against a real PostgreSQL
//! (`postgres::shared`): through the binary (`quarry run`, `quarry ls`) and, for what spans
//! several runs of one tab (connections, transactions, cancel), through the library's connector.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quarry::connectors::redshift_pg::RedshiftPgConnector;
use quarry::connectors::{Connector, JobEvent, QueryRequest, TransactionState};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::common::{Output, Sandbox, run_command};
use crate::postgres::{self, SUPERUSER, SUPERUSER_PASSWORD};

const TIMEOUT: Duration = Duration::from_secs(180);
/// The variable the test configs name in `password_env`.
const PASSWORD_VAR: &str = "QUARRY_TEST_PG_PASSWORD";

/// A sandbox with a `pg` connection (`engine = "postgres"`) to a fresh database.
struct Pg {
    sandbox: Sandbox,
    config: PathBuf,
    database: String,
}

impl Pg {
    /// As the superuser, its password from `password_env`.
    fn new() -> Self {
        Self::with("user = \"postgres\"\npassword_env = \"QUARRY_TEST_PG_PASSWORD\"\n")
    }

    /// `pg` on a new database with these `user`/password lines.
    fn with(auth: &str) -> Self {
        let pg = postgres::shared();
        let database = pg.create_database();
        let sandbox = Sandbox::new();
        let config = sandbox.config(
            "pg.toml",
            &format!(
                "[[connection]]\nname = \"pg\"\nkind = \"redshift\"\nengine = \"postgres\"\n\
                 host = \"127.0.0.1\"\nport = {}\ndatabase = \"{database}\"\nsslmode = \"disable\"\n{auth}",
                pg.port()
            ),
        );
        Pg {
            sandbox,
            config,
            database,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self
            .sandbox
            .command(["--config", self.config.to_str().expect("UTF-8 path")]);
        cmd.args(args).env(PASSWORD_VAR, SUPERUSER_PASSWORD);
        cmd
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["run", "-c", "pg"];
        full.extend_from_slice(args);
        let out = run_command(&mut self.command(&full), TIMEOUT);
        out.assert_no_panic();
        out
    }

    /// Runs SQL as the superuser straight on the test database (set-up and checks).
    fn sql(&self, sql: &str) -> Vec<postgres_client::Row> {
        postgres::shared()
            .client(&self.database)
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs statements (several, `;`-separated) as the superuser on the test database.
    fn exec(&self, sql: &str) {
        postgres::shared()
            .client(&self.database)
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The library's connector on this connection.
    fn connector(&self) -> RedshiftPgConnector {
        let config = quarry::store::config::load(Some(&self.config)).expect("config");
        let conn = config
            .all_connections()
            .into_iter()
            .find(|c| c.name == "pg")
            .expect("pg");
        // SAFETY: set before the connector reads it; every test sets the same value.
        unsafe { std::env::set_var(PASSWORD_VAR, SUPERUSER_PASSWORD) };
        RedshiftPgConnector::with_iam(&conn, None).expect("connector")
    }
}

use ::postgres as postgres_client;

/// One run through the library connector: its outcome and every event, drained as it runs.
async fn execute(
    connector: &RedshiftPgConnector,
    key: &str,
    sql: &str,
    cancel: CancellationToken,
) -> (
    Result<quarry::connectors::JobSummary, String>,
    Vec<JobEvent>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let sink = quarry::connectors::JobSink::new(1, tx);
    let request = QueryRequest {
        session_key: Some(key.to_string()),
        ..QueryRequest::new(sql)
    };
    let run = connector.execute(request, sink, cancel);
    let collect = async {
        let mut events = Vec::new();
        while let Some((_, e)) = rx.recv().await {
            events.push(e);
        }
        events
    };
    let (outcome, events) = tokio::join!(run, collect);
    (outcome.map_err(|e| e.to_string()), events)
}

fn rows_of(events: &[JobEvent]) -> usize {
    events
        .iter()
        .map(|e| match e {
            JobEvent::Batch(b) => b.num_rows(),
            _ => 0,
        })
        .sum()
}

fn transactions(events: &[JobEvent]) -> Vec<TransactionState> {
    events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Transaction(t) => Some(*t),
            _ => None,
        })
        .collect()
}

#[test]
fn every_listed_type_round_trips_exactly() {
    let pg = Pg::new();
    pg.exec(
        "CREATE TABLE t (
            i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric(38,10), nu numeric,
            b bool, tx text, vc varchar(20), ch char(3), d date, tm time, ts timestamp,
            tz timestamptz, iv interval, j json, jb jsonb, by bytea, u uuid, a int4[], ta text[])",
    );
    pg.exec(
        "SET TIME ZONE 'UTC'; INSERT INTO t VALUES (
            -32768, 2147483647, -9223372036854775808, 1.5, -2.25,
            1234567890123456789012345678.0123456789, -0.000000000000000000001,
            true, 'naïve \"quoted\", comma', 'v', 'ab', '2024-02-29', '23:59:59.999999',
            '1999-12-31 23:59:59.5', '2024-01-01 12:00:00+02', '1 year 2 mons 3 days 04:05:06',
            '{\"a\": [1, 2.50]}', '{\"b\": null}', '\\x00ff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
            '{{1,NULL},{3,4}}', '{\"x\",\"y z\"}'),
            (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
             NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    );
    let out = pg.run(&[
        "--format",
        "jsonl",
        "SELECT * FROM t ORDER BY i2 NULLS LAST",
    ]);
    out.assert_ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{out}");
    // Numbers are checked in the text: a JSON parser would round the 38-digit decimal.
    assert!(
        lines[0].contains("\"n\":1234567890123456789012345678.0123456789"),
        "{out}"
    );
    let row: Value = serde_json::from_str(lines[0]).expect("json");
    let expected = [
        ("i2", "-32768"),
        ("i4", "2147483647"),
        ("i8", "-9223372036854775808"),
        ("f4", "1.5"),
        ("f8", "-2.25"),
        ("nu", "-0.000000000000000000001"),
        ("b", "true"),
        ("tx", "naïve \"quoted\", comma"),
        ("vc", "v"),
        ("ch", "ab "),
        ("d", "2024-02-29"),
        ("tm", "23:59:59.999999"),
        ("ts", "1999-12-31T23:59:59.500"),
        ("tz", "2024-01-01T10:00:00Z"),
        ("j", "{\"a\": [1, 2.50]}"),
        ("jb", "{\"b\": null}"),
        ("u", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ("a", "[[1,null],[3,4]]"),
        ("ta", "[\"x\",\"y z\"]"),
    ];
    for (column, want) in expected {
        let got = match &row[column] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(got, want, "column {column} in {row}");
    }
    assert_eq!(
        row["iv"], "14 mons 3 days 4 hours 5 mins 6.000000000 secs",
        "interval: {row}"
    );
    assert_eq!(row["by"], "00ff", "bytea: {row}");
    let nulls: Value = serde_json::from_str(lines[1]).expect("json");
    let object = nulls.as_object().expect("object");
    assert!(
        object.values().all(Value::is_null),
        "every NULL stays NULL: {nulls}"
    );
    // CSV shows the exact decimal text and the bytes.
    let csv = pg.run(&[
        "--format",
        "csv",
        "SELECT n, nu, by, iv FROM t WHERE i2 IS NOT NULL",
    ]);
    csv.assert_ok();
    assert!(
        csv.stdout
            .contains("1234567890123456789012345678.0123456789,-0.000000000000000000001"),
        "{csv}"
    );
}

/// A million rows go from the server to the output without the result ever being held: the
/// peak RSS of `quarry run … -o /dev/null` stays far below the result's size (~120 MB).
#[test]
fn a_million_rows_stream_with_bounded_memory() {
    let pg = Pg::new();
    let sql = "SELECT g AS id, repeat('x', 100) || g AS payload FROM generate_series(1, 1000000) g";
    let mut cmd = pg.command(&[
        "run",
        "-c",
        "pg",
        "--stats",
        "--format",
        "csv",
        "-o",
        "/dev/null",
        sql,
    ]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn quarry");
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        assert!(started.elapsed() < TIMEOUT, "quarry run took too long");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = crate::common::wait_child(child, TIMEOUT);
    out.assert_ok();
    assert!(out.stderr.contains("rows: 1000000"), "{out}");
    eprintln!(
        "peak RSS of quarry run over 1 000 000 rows: {} MB",
        peak_kb / 1024
    );
    assert!(peak_kb > 0, "no RSS reading");
    assert!(
        peak_kb < 100 * 1024,
        "peak RSS {} MB: the result is being held in memory",
        peak_kb / 1024
    );
}

#[test]
fn cancel_stops_pg_sleep_within_a_second_and_the_connection_stays_usable() {
    let pg = Pg::new();
    let connector = pg.connector();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            trigger.cancel();
        });
        let started = Instant::now();
        let (outcome, _) = execute(&connector, "tab-1", "SELECT pg_sleep(60)", cancel).await;
        let took = started.elapsed();
        assert_eq!(outcome.err().as_deref(), Some("cancelled"));
        assert!(took < Duration::from_millis(1700), "cancel took {took:?}");
        let (again, events) = execute(
            &connector,
            "tab-1",
            "SELECT 41 + 1 AS n",
            Default::default(),
        )
        .await;
        assert!(again.is_ok(), "{again:?}");
        assert_eq!(rows_of(&events), 1);
    });
    let sleeping = pg.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'",
    );
    assert_eq!(
        sleeping[0].get::<_, i64>(0),
        0,
        "the server stopped the statement"
    );
}

#[test]
fn each_tab_has_its_own_connection_temp_tables_and_transactions() {
    let pg = Pg::new();
    pg.exec("CREATE TABLE shared_t (id int PRIMARY KEY)");
    let connector = pg.connector();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let run = |key: &'static str, sql: &'static str| {
            execute(&connector, key, sql, Default::default())
        };
        let (created, _) = run("tab-1", "CREATE TEMP TABLE mine AS SELECT 1 AS x").await;
        assert!(created.is_ok(), "{created:?}");
        let (read, events) = run("tab-1", "SELECT x FROM mine").await;
        assert!(read.is_ok() && rows_of(&events) == 1, "{read:?}");
        let (other, _) = run("tab-2", "SELECT x FROM mine").await;
        assert!(
            other.as_ref().is_err_and(|e| e.contains("mine")),
            "{other:?}"
        );

        let (_, events) = run("tab-1", "BEGIN").await;
        assert_eq!(transactions(&events), [TransactionState::Open]);
        let (inserted, events) = run("tab-1", "INSERT INTO shared_t VALUES (1), (2)").await;
        assert_eq!(
            inserted.expect("insert").message.as_deref(),
            Some("INSERT: 2 rows")
        );
        assert!(
            transactions(&events).is_empty(),
            "still open: no change to report"
        );
        let (_, events) = run("tab-2", "SELECT id FROM shared_t").await;
        assert_eq!(rows_of(&events), 0, "not committed yet: tab 2 sees nothing");
        let said = connector
            .end_transaction("tab-1", true)
            .await
            .expect("commit");
        assert_eq!(said, "committed");
        let (_, events) = run("tab-2", "SELECT id FROM shared_t").await;
        assert_eq!(rows_of(&events), 2, "committed: tab 2 sees both rows");

        // A failed statement leaves the transaction failed; "commit" then rolls back.
        let (started, _) = run("tab-1", "START TRANSACTION").await;
        assert!(started.is_ok(), "{started:?}");
        let (inserted, _) = run("tab-1", "INSERT INTO shared_t VALUES (3)").await;
        assert!(inserted.is_ok(), "{inserted:?}");
        let (dup, events) = run("tab-1", "INSERT INTO shared_t VALUES (1)").await;
        assert!(dup.is_err());
        assert_eq!(transactions(&events), [TransactionState::Failed]);
        let said = connector.end_transaction("tab-1", true).await.expect("end");
        assert!(said.contains("rolled back"), "{said}");
        let (_, events) = run("tab-2", "SELECT id FROM shared_t").await;
        assert_eq!(rows_of(&events), 2, "the failed transaction left nothing");
    });
}

#[test]
fn errors_carry_sqlstate_detail_hint_and_position() {
    let pg = Pg::new();
    pg.exec("CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1)");
    let syntax = pg.run(&["SELECT id\nFROM u WHERE id = = 1"]);
    syntax.assert_code(1);
    assert!(syntax.stderr.contains("SQLSTATE 42601"), "{syntax}");
    assert!(syntax.stderr.contains("at line 2, column 19"), "{syntax}");
    let duplicate = pg.run(&["INSERT INTO u VALUES (1)"]);
    assert!(duplicate.stderr.contains("SQLSTATE 23505"), "{duplicate}");
    assert!(
        duplicate
            .stderr
            .contains("DETAIL: Key (id)=(1) already exists."),
        "{duplicate}"
    );
    let hint = pg.run(&["SELECT * FROM u WHERE id = 'x'::text"]);
    assert!(hint.stderr.contains("SQLSTATE 42883"), "{hint}");
    assert!(hint.stderr.contains("HINT: "), "{hint}");
}

#[test]
fn the_browser_lists_schemas_tables_with_primary_keys_and_columns() {
    let pg = Pg::new();
    pg.exec(
        "CREATE SCHEMA sales; CREATE TABLE sales.orders (id bigint PRIMARY KEY, total numeric(10,2) NOT NULL DEFAULT 0)",
    );
    let schemas = run_command(&mut pg.command(&["ls", "-c", "pg"]), TIMEOUT);
    schemas.assert_ok();
    assert!(schemas.stdout.contains("sales"), "{schemas}");
    let tables = run_command(&mut pg.command(&["ls", "-c", "pg", "sales"]), TIMEOUT);
    tables.assert_ok();
    assert!(
        tables.stdout.contains("orders") && tables.stdout.contains("PK (id)"),
        "{tables}"
    );
    let columns = run_command(
        &mut pg.command(&["ls", "-c", "pg", "sales", "orders"]),
        TIMEOUT,
    );
    columns.assert_ok();
    assert!(columns.stdout.contains("numeric(10,2)"), "{columns}");
    assert!(columns.stdout.contains("not null"), "{columns}");
}

#[test]
fn passwords_come_from_password_env_or_pgpass_and_a_wrong_one_is_named() {
    let pg = Pg::with("user = \"analyst\"\npassword_env = \"QUARRY_TEST_ANALYST_PASSWORD\"\n");
    pg.exec("DO $$ BEGIN CREATE ROLE analyst LOGIN PASSWORD 'right-one'; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    let mut ok = pg.command(&["run", "-c", "pg", "SELECT current_user"]);
    ok.env("QUARRY_TEST_ANALYST_PASSWORD", "right-one");
    let out = run_command(&mut ok, TIMEOUT);
    out.assert_ok();
    assert!(out.stdout.contains("analyst"), "{out}");

    let mut wrong = pg.command(&["run", "-c", "pg", "SELECT 1"]);
    wrong.env("QUARRY_TEST_ANALYST_PASSWORD", "wrong-one");
    let out = run_command(&mut wrong, TIMEOUT);
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.stderr.contains("refused") && out.stderr.contains("analyst"),
        "{out}"
    );
    assert!(out.stderr.contains("SQLSTATE 28P01"), "{out}");
    assert!(
        !out.stderr.contains("wrong-one"),
        "the password never shows: {out}"
    );

    let unset = pg.run(&["SELECT 1"]);
    assert!(
        unset.stderr.contains("QUARRY_TEST_ANALYST_PASSWORD"),
        "{unset}"
    );

    // No password_env: ~/.pgpass (only when private to its owner, as libpq reads it).
    let pgpass = Pg::with("user = \"analyst\"\n");
    let none = pgpass.run(&["SELECT 1"]);
    assert_ne!(none.code, 0, "{none}");
    assert!(
        none.stderr.contains("asks a password for `analyst`") && none.stderr.contains("~/.pgpass"),
        "no password anywhere: says where one can come from: {none}"
    );
    let file = pgpass.sandbox.home().join(".pgpass");
    std::fs::write(
        &file,
        format!(
            "127.0.0.1:{}:*:analyst:right-one\n",
            postgres::shared().port()
        ),
    )
    .expect("write .pgpass");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = pgpass.run(&["SELECT current_user"]);
    out.assert_ok();
    assert!(out.stdout.contains("analyst"), "{out}");
    let _ = SUPERUSER;
}

#[test]
fn a_lost_connection_is_reported_and_opened_again() {
    let pg = Pg::new();
    let connector = pg.connector();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (pid, events) = execute(&connector, "tab-1", "CREATE TEMP TABLE gone AS SELECT pg_backend_pid() AS pid", Default::default()).await;
        assert!(pid.is_ok(), "{pid:?} {events:?}");
        tokio::task::block_in_place(|| {
            pg.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'quarry' AND datname = current_database()")
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (first, events) = execute(&connector, "tab-1", "SELECT 1", Default::default()).await;
        match first {
            // The loss is seen before the statement (a notice) or by it (its error).
            Ok(_) => assert!(
                events.iter().any(|e| matches!(e, JobEvent::Notice(n) if n.contains("was lost"))),
                "{events:?}"
            ),
            Err(e) => {
                assert!(e.contains("connection was lost"), "{e}");
                let (second, _) = execute(&connector, "tab-1", "SELECT 1", Default::default()).await;
                assert!(second.is_ok(), "{second:?}");
            }
        }
        let (temp, _) = execute(&connector, "tab-1", "SELECT pid FROM gone", Default::default()).await;
        assert!(temp.is_err(), "a new connection has no temp tables: {temp:?}");
    });
}

/// TLS by `sslmode` against the test server (it offers TLS with a certificate of the test CA):
/// `require` and `prefer` encrypt, `disable` does not, `verify-full` accepts the server only with
/// the CA given as `sslrootcert` and refuses it against the system's roots.
#[test]
fn sslmode_encrypts_and_verify_full_checks_the_certificate() {
    let ssl_in_use = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    for (mode, encrypted) in [
        ("require", "true"),
        ("prefer", "true"),
        ("disable", "false"),
    ] {
        let pg = Pg::new();
        let config = std::fs::read_to_string(&pg.config)
            .expect("config")
            .replace("sslmode = \"disable\"", &format!("sslmode = \"{mode}\""));
        std::fs::write(&pg.config, config).expect("config");
        let out = pg.run(&["--format", "csv", ssl_in_use]);
        out.assert_ok();
        assert_eq!(
            out.lines().get(1).copied(),
            Some(encrypted),
            "{mode}: {out}"
        );
    }
    let ca = postgres::shared().ca_cert();
    let verified = Pg::with(&format!(
        "user = \"postgres\"\npassword_env = \"QUARRY_TEST_PG_PASSWORD\"\nsslrootcert = \"{}\"\n",
        ca.display()
    ));
    let config = std::fs::read_to_string(&verified.config)
        .expect("config")
        .replace("sslmode = \"disable\"", "sslmode = \"verify-full\"");
    std::fs::write(&verified.config, &config).expect("config");
    let out = verified.run(&["--format", "csv", ssl_in_use]);
    out.assert_ok();
    assert_eq!(out.lines().get(1).copied(), Some("true"), "{out}");
    // Without the CA, the system's roots do not know the test CA: refused, and said why.
    std::fs::write(
        &verified.config,
        config.replace(&format!("sslrootcert = \"{}\"\n", ca.display()), ""),
    )
    .expect("config");
    let out = verified.run(&["SELECT 1"]);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("certificate"), "{out}");
}

/// `quarry run -f` runs a script's statements in order on one connection: a temp table and a
/// transaction made by one statement are there for the next.
#[test]
fn a_script_runs_on_one_connection() {
    let pg = Pg::new();
    pg.exec("CREATE TABLE kept (id int)");
    let script = pg.sandbox.write(
        "script.sql",
        "CREATE TEMP TABLE scratch AS SELECT 41 AS n;\n\
         BEGIN;\n\
         INSERT INTO kept SELECT n + 1 FROM scratch;\n\
         COMMIT;\n\
         SELECT id FROM kept;\n",
    );
    let out = pg.run(&[
        "--format",
        "csv",
        "-f",
        script.to_str().expect("UTF-8 path"),
    ]);
    out.assert_ok();
    assert!(out.stdout.lines().any(|l| l == "42"), "{out}");
    assert!(out.stderr.contains("INSERT: 1 row"), "{out}");
}
