//! Completion's catalog (issue 18) against real peers: `quarry catalog refresh|columns|show`
//! list the catalog through the browser's metadata calls and cache it under the data directory.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::common::{Output, Sandbox, run_command};
use crate::dynamo_local::DynamoLocal;
use crate::postgres::{self, SUPERUSER_PASSWORD};

const TIMEOUT: Duration = Duration::from_secs(180);

/// A sandbox with one connection `c` configured by `toml` lines, plus `env`.
struct Peer {
    sandbox: Sandbox,
    config: PathBuf,
    env: Vec<(String, String)>,
}

impl Peer {
    fn new(toml: &str, env: Vec<(String, String)>) -> Peer {
        let sandbox = Sandbox::new();
        let config = sandbox.config("c.toml", &format!("[[connection]]\nname = \"c\"\n{toml}"));
        Peer {
            sandbox,
            config,
            env,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self
            .sandbox
            .command(["--config", self.config.to_str().expect("UTF-8 path")]);
        cmd.args(args).envs(self.env.iter().cloned());
        cmd
    }

    /// `quarry catalog ARGS -c c`, which must succeed.
    #[track_caller]
    fn catalog(&self, args: &[&str]) -> Output {
        let mut full = vec!["catalog"];
        full.extend_from_slice(args);
        full.extend(["-c", "c"]);
        let out = run_command(&mut self.command(&full), TIMEOUT);
        out.assert_no_panic().assert_ok();
        out
    }
}

#[test]
fn catalog_of_the_embedded_engine_is_cached_and_shown() {
    let sandbox = Sandbox::new();
    let show = sandbox.run(["catalog", "show", "-c", "local"]);
    show.assert_code(1);
    assert!(
        show.stderr.contains("quarry catalog refresh -c local"),
        "{show}"
    );

    let out = sandbox.run(["catalog", "refresh", "-c", "local"]);
    out.assert_ok();
    let cache = sandbox.data_dir().join("catalogs").join("local.json");
    assert!(out.stdout.contains("0 schemas, 4 tables"), "{out}");
    assert!(out.stdout.contains(cache.to_str().unwrap()), "{out}");
    assert!(cache.is_file());

    let show = sandbox.run(["catalog", "show", "-c", "local"]);
    show.assert_ok();
    assert_eq!(
        show.lines(),
        [
            "events\ttable",
            "trips\ttable",
            "vendors\ttable",
            "zones\ttable"
        ],
        "{show}"
    );

    let columns = sandbox.run(["catalog", "columns", "-c", "local", "trips"]);
    columns.assert_ok();
    assert!(columns.lines().contains(&"trip_id\tInt64"), "{columns}");
    // The columns join the cache, and a refresh keeps them.
    sandbox
        .run(["catalog", "refresh", "-c", "local"])
        .assert_ok();
    let show = sandbox.run(["catalog", "show", "-c", "local"]);
    assert!(
        show.stdout
            .contains("trips\ttable\ttrip_id Int64, vendor_id Int32"),
        "{show}"
    );
}

#[test]
fn catalog_corrupt_cache_is_reported_and_replaced() {
    let sandbox = Sandbox::new();
    let dir = sandbox.data_dir().join("catalogs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("local.json"), "{ not json").unwrap();
    let show = sandbox.run(["catalog", "show", "-c", "local"]);
    show.assert_code(1);
    assert!(show.stderr.contains("not a valid cache file"), "{show}");
    let out = sandbox.run(["catalog", "refresh", "-c", "local"]);
    out.assert_ok();
    assert!(out.stderr.contains("not a valid cache file"), "{out}");
    let show = sandbox.run(["catalog", "show", "-c", "local"]);
    show.assert_ok();
    assert_eq!(show.lines().len(), 4, "{show}");
}

#[test]
fn catalog_of_postgresql_lists_schemas_tables_views_and_columns() {
    let pg = postgres::shared();
    let database = pg.create_database();
    pg.client(&database)
        .batch_execute(
            "CREATE SCHEMA sales;
             CREATE TABLE sales.orders (id bigint PRIMARY KEY, total numeric(10,2) NOT NULL DEFAULT 0);
             CREATE VIEW sales.big AS SELECT id FROM sales.orders WHERE total > 100;
             CREATE TABLE public.\"Mixed Case\" (\"Id\" integer);",
        )
        .expect("create the tables");
    let peer = Peer::new(
        &format!(
            "kind = \"redshift\"\nengine = \"postgres\"\nhost = \"127.0.0.1\"\nport = {}\n\
             database = \"{database}\"\nsslmode = \"disable\"\nuser = \"postgres\"\n\
             password_env = \"QUARRY_TEST_PG_PASSWORD\"\n",
            pg.port()
        ),
        vec![("QUARRY_TEST_PG_PASSWORD".into(), SUPERUSER_PASSWORD.into())],
    );
    let out = peer.catalog(&["refresh"]);
    assert!(out.stdout.contains("3 tables"), "{out}");
    let show = peer.catalog(&["show"]);
    for line in [
        "sales.orders\ttable",
        "sales.big\tview",
        "public.Mixed Case\ttable",
    ] {
        assert!(show.lines().contains(&line), "{line}\n{show}");
    }
    let columns = peer.catalog(&["columns", "sales", "orders"]);
    assert_eq!(
        columns.lines(),
        ["id\tbigint", "total\tnumeric(10,2)"],
        "{columns}"
    );
    let show = peer.catalog(&["show"]);
    assert!(
        show.lines()
            .contains(&"sales.orders\ttable\tid bigint, total numeric(10,2)"),
        "{show}"
    );
}

#[test]
fn catalog_of_dynamodb_lists_tables_and_key_attributes() {
    let db = DynamoLocal::start();
    db.create_table_with_gsi(
        "orders",
        ("pk", "S"),
        Some(("sk", "N")),
        "by_customer",
        ("customer", "S"),
        None,
    );
    db.create_table("customers", ("id", "S"), None);
    let mut peer = Peer::new(
        &format!(
            "kind = \"dynamodb\"\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\n",
            db.url()
        ),
        Vec::new(),
    );
    peer.env = peer.sandbox.aws_env();
    let out = peer.catalog(&["refresh"]);
    assert!(out.stdout.contains("0 schemas, 2 tables"), "{out}");
    let show = peer.catalog(&["show"]);
    assert_eq!(
        show.lines(),
        ["customers\ttable", "orders\ttable"],
        "{show}"
    );
    // The key schema; the index is not a column.
    let columns = peer.catalog(&["columns", "orders"]);
    assert_eq!(columns.lines(), ["pk\tS\tkey", "sk\tN\tkey"], "{columns}");
    let cache = std::fs::read_to_string(peer.sandbox.data_dir().join("catalogs/c.json")).unwrap();
    assert!(cache.contains(r#""keys":["pk","sk"]"#), "{cache}");
    // Completion offers the tables, and the key attributes where a filter goes.
    let tables = peer.complete("SELECT * FROM ord", "ord");
    assert_eq!(first(&tables), "orders\ttable", "{tables:?}");
    let keys = peer.complete("SELECT * FROM orders WHERE p", "WHERE p");
    assert_eq!(first(&keys), "pk\tcolumn", "{keys:?}");
}

#[test]
fn catalog_of_athena_uses_metadata_calls_only() {
    let fake = crate::fake_athena::FakeAthena::start();
    let mut peer = Peer::new(
        &format!(
            "kind = \"athena\"\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\n\
             workgroup = \"primary\"\ndatabase = \"sales\"\n\
             output_location = \"s3://quarry-results/\"\n",
            fake.url()
        ),
        Vec::new(),
    );
    peer.env = peer.sandbox.aws_env();
    let out = peer.catalog(&["refresh"]);
    let show = peer.catalog(&["show"]);
    let sales = crate::fake_athena::tables("sales").expect("sales exists");
    let listed = show
        .lines()
        .iter()
        .filter(|l| l.starts_with("AwsDataCatalog.sales."))
        .count();
    assert_eq!(
        listed,
        sales.len(),
        "every table of every page\n{out}\n{show}"
    );
    let columns = peer.catalog(&["columns", "AwsDataCatalog", "sales", "orders"]);
    assert_eq!(
        columns.lines(),
        ["id\tbigint", "total\tdecimal(10,2)", "dt\tstring\tkey"],
        "{columns}"
    );
    // Completion from the command line reads the same catalog.
    let tables = peer.complete("SELECT * FROM sales.or", "sales.or");
    assert_eq!(first(&tables), "orders\ttable", "{tables:?}");
    let columns = peer.complete("SELECT o.to FROM sales.orders o", "o.to");
    assert_eq!(first(&columns), "total\tcolumn", "{columns:?}");
    // No statement is run for completion, and the folders of workgroups, past queries and
    // Spark sessions are not walked.
    let ops = fake.ops();
    for op in [
        "StartQueryExecution",
        "ListWorkGroups",
        "ListQueryExecutions",
    ] {
        assert!(!ops.iter().any(|o| o == op), "{op} was called: {ops:?}");
    }
    assert!(ops.iter().any(|o| o == "ListTableMetadata"), "{ops:?}");
}

impl Peer {
    /// `quarry complete -c c --sql SQL --cursor N` (the cursor after `before`): its lines.
    #[track_caller]
    fn complete(&self, sql: &str, before: &str) -> Vec<String> {
        let cursor = sql.find(before).expect("the cursor's text") + before.len();
        let cursor = sql[..cursor].chars().count().to_string();
        let args = ["complete", "-c", "c", "--sql", sql, "--cursor", &cursor];
        let out = run_command(&mut self.command(&args), TIMEOUT);
        out.assert_no_panic().assert_ok();
        out.lines().iter().map(|l| l.to_string()).collect()
    }
}

/// The first candidate's name and kind.
fn first(lines: &[String]) -> String {
    lines
        .first()
        .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join("\t"))
        .unwrap_or_default()
}

#[test]
fn catalog_completion_of_the_embedded_engine_from_the_command_line() {
    let sandbox = Sandbox::new();
    let run = |sql: &str, cursor: usize| {
        let cursor = cursor.to_string();
        let out = sandbox.run(["complete", "-c", "local", "--sql", sql, "--cursor", &cursor]);
        out.assert_no_panic().assert_ok();
        out.lines()
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
    };
    // No cache yet: listed through the engine's catalog, then cached.
    assert_eq!(first(&run("SELECT * FROM tr", 16)), "trips\ttable");
    let columns = run("SELECT t.fa FROM trips t", 11);
    assert_eq!(first(&columns), "fare_amount\tcolumn");
    assert!(columns[0].contains("(trips)"), "{columns:?}");
    assert_eq!(first(&run("SELE", 4)), "SELECT\tkeyword");
    let past = sandbox.run(["complete", "-c", "local", "--sql", "x", "--cursor", "9"]);
    past.assert_code(2);
    assert!(past.stderr.contains("--cursor 9 is past the end"), "{past}");
}

#[test]
fn catalog_completion_of_postgresql_resolves_aliases_ctes_and_quotes_names() {
    let pg = postgres::shared();
    let database = pg.create_database();
    pg.client(&database)
        .batch_execute(
            "CREATE SCHEMA sales;
             CREATE TABLE sales.customers (id bigint PRIMARY KEY, name text);
             CREATE TABLE sales.orders (id bigint PRIMARY KEY, customer_id bigint, total numeric(10,2));
             CREATE TABLE sales.items (order_id bigint, sku text);
             CREATE TABLE public.\"Mixed Case\" (\"Id\" integer);",
        )
        .expect("create the tables");
    let peer = Peer::new(
        &format!(
            "kind = \"redshift\"\nengine = \"postgres\"\nhost = \"127.0.0.1\"\nport = {}\n\
             database = \"{database}\"\nsslmode = \"disable\"\nuser = \"postgres\"\n\
             password_env = \"QUARRY_TEST_PG_PASSWORD\"\n",
            pg.port()
        ),
        vec![("QUARRY_TEST_PG_PASSWORD".into(), SUPERUSER_PASSWORD.into())],
    );
    assert_eq!(
        first(&peer.complete("SELECT * FROM sales.or", "sales.or")),
        "orders\ttable"
    );
    let join = "SELECT c.na, i. FROM sales.customers c JOIN sales.orders o ON o.customer_id = c.id \
                JOIN sales.items i ON i.order_id = o.id";
    assert_eq!(first(&peer.complete(join, "c.na")), "name\tcolumn");
    let items = peer.complete(join, "i.");
    let names: Vec<&str> = items.iter().filter_map(|l| l.split('\t').next()).collect();
    assert_eq!(names, ["order_id", "sku"], "{items:?}");
    let cte = "WITH big AS (SELECT id AS order_id, total FROM sales.orders) SELECT b.to FROM big b";
    assert_eq!(first(&peer.complete(cte, "b.to")), "total\tcolumn");
    assert_eq!(
        first(&peer.complete("SELECT * FROM Mix", "Mix")),
        "\"Mixed Case\"\ttable"
    );
}

#[test]
fn catalog_completion_of_a_directory_of_user_files() {
    let sandbox = Sandbox::new();
    let orders = sandbox.write("files/orders.csv", "order_id,total\n1,9.5\n");
    sandbox.write("files/customers.csv", "customer_id,name\n1,ann\n");
    let dir = orders.parent().expect("the files' directory").to_path_buf();
    let mut peer = Peer::new(
        &format!("kind = \"local\"\npaths = [\"{}\"]\n", dir.display()),
        Vec::new(),
    );
    peer.env = Vec::new();
    assert_eq!(
        first(&peer.complete("SELECT * FROM ord", "ord")),
        "orders\ttable"
    );
    let columns = peer.complete("SELECT o.to FROM orders o JOIN customers c", "o.to");
    assert_eq!(first(&columns), "total\tcolumn", "{columns:?}");
    let names = peer.complete("SELECT c.na FROM orders o JOIN customers c", "c.na");
    assert_eq!(first(&names), "name\tcolumn", "{names:?}");
}
