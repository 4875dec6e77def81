//! Self-tests of the Redshift Data API test server (`fake_redshift_data`) through raw AWS JSON
//! 1.1 requests, so the connector tests can trust what it models.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fake_redshift_data::{
    CLUSTER, FakeRedshiftData, IAM_USER, SECRET_ARN, SECRET_USER, ServerConfig, WORKGROUP,
};
use crate::moto::http_request;
use crate::postgres;

/// One reply: HTTP status and parsed body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    /// The error type (`__type`) of an error reply.
    fn error_type(&self) -> &str {
        self.body["__type"].as_str().unwrap_or_default()
    }
    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

/// Sends `RedshiftData.<op>` with `body`.
#[track_caller]
fn call_raw(fake: &FakeRedshiftData, op: &str, body: Value) -> Answer {
    let addr: SocketAddr = fake
        .url()
        .trim_start_matches("http://")
        .parse()
        .expect("the fake's address");
    let target = format!("RedshiftData.{op}");
    let headers = [
        ("X-Amz-Target", target.as_str()),
        ("Content-Type", "application/x-amz-json-1.1"),
    ];
    let resp = http_request(addr, "POST", "/", &headers, body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("{op} request failed: {e}"));
    assert_eq!(
        resp.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    let body = serde_json::from_str(&resp.body)
        .unwrap_or_else(|e| panic!("{op} reply is not JSON ({e}): {resp:?}"));
    Answer {
        status: resp.status,
        body,
    }
}

/// Like [`call_raw`], panicking unless the reply is 200.
#[track_caller]
fn call(fake: &FakeRedshiftData, op: &str, body: Value) -> Value {
    let answer = call_raw(fake, op, body);
    assert_eq!(answer.status, 200, "{op}: {answer:?}");
    answer.body
}

/// Like [`call_raw`], asserting an error of type `kind`; returns its message.
#[track_caller]
fn call_err(fake: &FakeRedshiftData, op: &str, body: Value, kind: &str) -> String {
    let answer = call_raw(fake, op, body.clone());
    assert_eq!(answer.status, 400, "{op} {body}: {answer:?}");
    assert_eq!(answer.error_type(), kind, "{op} {body}: {answer:?}");
    answer.message().to_string()
}

/// ExecuteStatement of `sql` on the cluster (IAM identity) in `db`; returns the Id.
#[track_caller]
fn execute(fake: &FakeRedshiftData, db: &str, sql: &str) -> String {
    let reply = call(
        fake,
        "ExecuteStatement",
        json!({"ClusterIdentifier": CLUSTER, "Database": db, "Sql": sql}),
    );
    reply["Id"].as_str().expect("an Id").to_string()
}

/// Polls DescribeStatement until the statement ended; returns the last description and every
/// status seen.
#[track_caller]
fn wait_done(fake: &FakeRedshiftData, id: &str) -> (Value, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let d = call(fake, "DescribeStatement", json!({"Id": id}));
        let status = d["Status"].as_str().expect("a Status").to_string();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if matches!(status.as_str(), "FINISHED" | "FAILED" | "ABORTED") {
            return (d, seen);
        }
        assert!(Instant::now() < deadline, "{id} never ended: {seen:?} {d}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls until the statement has `status`.
#[track_caller]
fn wait_status(fake: &FakeRedshiftData, id: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let d = call(fake, "DescribeStatement", json!({"Id": id}));
        if d["Status"] == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{id} never reached {status}: {d}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn redshift_data_server_validates_targets_and_auth() {
    let pg = postgres::shared();
    let db = pg.create_database();
    let fake = FakeRedshiftData::start(pg);
    let sql = "SELECT 1";
    // Accepted: (members, reported DbUser).
    let accepted = [
        (
            json!({"ClusterIdentifier": CLUSTER, "DbUser": "alice"}),
            "alice",
        ),
        (json!({"ClusterIdentifier": CLUSTER}), IAM_USER),
        (
            json!({"ClusterIdentifier": CLUSTER, "SecretArn": SECRET_ARN}),
            SECRET_USER,
        ),
        (
            json!({"WorkgroupName": WORKGROUP, "SecretArn": SECRET_ARN}),
            SECRET_USER,
        ),
        (json!({"WorkgroupName": WORKGROUP}), IAM_USER),
    ];
    for (mut body, user) in accepted {
        body["Database"] = json!(db);
        body["Sql"] = json!(sql);
        let reply = call(&fake, "ExecuteStatement", body.clone());
        assert_eq!(reply["DbUser"], user, "{body}: {reply}");
        assert_eq!(reply["Database"], db.as_str());
        assert!(reply["CreatedAt"].is_f64(), "{reply}");
        let id = reply["Id"].as_str().expect("Id");
        let (d, _) = wait_done(&fake, id);
        assert_eq!(d["Status"], "FINISHED", "{d}");
        assert_eq!(d["DbUser"], user);
        for key in ["ClusterIdentifier", "WorkgroupName", "SecretArn"] {
            assert_eq!(d.get(key), body.get(key), "{key} of {d}");
        }
    }
    // Rejected: (members, error type, part of the message).
    let rejected = [
        (
            json!({"ClusterIdentifier": CLUSTER, "WorkgroupName": WORKGROUP, "Database": db}),
            "ValidationException",
            "ClusterIdentifier",
        ),
        (
            json!({"Database": db}),
            "ValidationException",
            "WorkgroupName",
        ),
        (
            json!({"ClusterIdentifier": "quarry-x", "Database": db}),
            "ValidationException",
            "Cluster quarry-x not found",
        ),
        (
            json!({"WorkgroupName": "wg-x", "Database": db}),
            "ValidationException",
            "Workgroup wg-x not found",
        ),
        (
            json!({"ClusterIdentifier": CLUSTER}),
            "ValidationException",
            "Database",
        ),
        (
            json!({"ClusterIdentifier": CLUSTER, "Database": "no_such_db"}),
            "ValidationException",
            "no_such_db",
        ),
        (
            json!({"WorkgroupName": WORKGROUP, "DbUser": "alice", "Database": db}),
            "ValidationException",
            "DbUser is not supported with WorkgroupName",
        ),
        (
            json!({"ClusterIdentifier": CLUSTER, "SecretArn": SECRET_ARN, "DbUser": "alice", "Database": db}),
            "ValidationException",
            "SecretArn and DbUser",
        ),
        (
            json!({"ClusterIdentifier": CLUSTER, "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:other", "Database": db}),
            "ResourceNotFoundException",
            "secret",
        ),
        (
            json!({"SessionId": "5f0c0e5e-0000-4000-8000-000000000000", "Database": db}),
            "ValidationException",
            "SessionId",
        ),
        (
            json!({"SessionId": "5f0c0e5e-0000-4000-8000-000000000000"}),
            "ValidationException",
            "Session 5f0c0e5e-0000-4000-8000-000000000000 is not available",
        ),
        (
            json!({"ClusterIdentifier": CLUSTER, "Database": db, "SessionKeepAliveSeconds": 86_401}),
            "ValidationException",
            "SessionKeepAliveSeconds",
        ),
    ];
    for (mut body, kind, text) in rejected {
        body["Sql"] = json!(sql);
        let message = call_err(&fake, "ExecuteStatement", body.clone(), kind);
        assert!(message.contains(text), "{body}: {message:?}");
    }
    // The catalog validates the same way.
    let message = call_err(
        &fake,
        "ListSchemas",
        json!({"WorkgroupName": WORKGROUP, "DbUser": "alice", "Database": db}),
        "ValidationException",
    );
    assert!(message.contains("DbUser"), "{message}");
    // Unknown statement ids.
    let raw = call_raw(&fake, "DescribeStatement", json!({"Id": "nope"}));
    assert_eq!(raw.error_type(), "ResourceNotFoundException", "{raw:?}");
    assert_eq!(raw.body["ResourceId"], "nope");
    assert_eq!(fake.calls("ExecuteStatement").len(), 5 + 12);
    assert_eq!(fake.requests()[0].op, "ExecuteStatement");
}

#[test]
fn redshift_data_server_runs_statements_to_finished_with_typed_rows() {
    let pg = postgres::shared();
    let db = pg.create_database();
    pg.client(&db)
        .batch_execute(
            "CREATE TABLE items (id int8 NOT NULL, price numeric(10,2), name varchar(20), \
             ok bool, day date, ts timestamp, doc jsonb, raw bytea, score float8); \
             INSERT INTO items VALUES \
             (1, 12.50, 'one', true, '2024-01-02', '2024-01-02 03:04:05.123', '{\"a\": 1}', '\\x0102', 1.5), \
             (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        )
        .expect("create the table");
    // Longer steps than the default: the first DescribeStatement must come within the first.
    let fake = FakeRedshiftData::start_with(
        pg,
        ServerConfig {
            step: Duration::from_millis(300),
            ..ServerConfig::default()
        },
    );
    let id = execute(&fake, &db, "SELECT * FROM items ORDER BY id");
    let first = call(&fake, "DescribeStatement", json!({"Id": id}));
    assert_eq!(first["Status"], "SUBMITTED", "{first}");
    assert_eq!(first["Duration"], -1);
    assert_eq!(first["ResultRows"], -1);
    let message = call_err(
        &fake,
        "GetStatementResult",
        json!({"Id": id}),
        "ValidationException",
    );
    assert!(message.contains("not finished"), "{message}");
    let (d, seen) = wait_done(&fake, &id);
    assert_eq!(d["Status"], "FINISHED", "{d}");
    assert!(seen.contains(&"PICKED".to_string()), "{seen:?}");
    assert_eq!(d["ResultRows"], 2);
    assert_eq!(d["HasResultSet"], true);
    assert!(d["ResultSize"].as_i64().expect("ResultSize") > 0);
    assert!(d["Duration"].as_i64().expect("Duration") >= 0);
    assert!(d["RedshiftQueryId"].as_i64().expect("query id") > 0);
    assert_eq!(d["QueryString"], "SELECT * FROM items ORDER BY id");
    assert!(d["UpdatedAt"].as_f64() >= d["CreatedAt"].as_f64());

    let result = call(&fake, "GetStatementResult", json!({"Id": id}));
    assert_eq!(result["TotalNumRows"], 2);
    assert!(result.get("NextToken").is_none(), "{result}");
    let types: Vec<&str> = result["ColumnMetadata"]
        .as_array()
        .expect("ColumnMetadata")
        .iter()
        .map(|c| c["typeName"].as_str().expect("typeName"))
        .collect();
    assert_eq!(
        types,
        [
            "int8",
            "numeric",
            "varchar",
            "bool",
            "date",
            "timestamp",
            "super",
            "bytea",
            "float8"
        ]
    );
    let meta = &result["ColumnMetadata"];
    assert_eq!(meta[0]["name"], "id");
    assert_eq!(meta[0]["label"], "id");
    assert_eq!(meta[0]["nullable"], 0);
    assert_eq!(meta[0]["tableName"], "items");
    assert_eq!(meta[0]["schemaName"], "public");
    assert_eq!(meta[1]["precision"], 10);
    assert_eq!(meta[1]["scale"], 2);
    assert_eq!(meta[1]["nullable"], 1);
    assert_eq!(meta[2]["precision"], 20);
    assert_eq!(
        result["Records"][0],
        json!([
            {"longValue": 1},
            {"stringValue": "12.50"},
            {"stringValue": "one"},
            {"booleanValue": true},
            {"stringValue": "2024-01-02"},
            {"stringValue": "2024-01-02 03:04:05.123"},
            {"stringValue": "{\"a\": 1}"},
            {"blobValue": "AQI="},
            {"doubleValue": 1.5},
        ])
    );
    let nulls = result["Records"][1].as_array().expect("row 2");
    assert_eq!(nulls[0], json!({"longValue": 2}));
    assert!(
        nulls[1..].iter().all(|f| *f == json!({"isNull": true})),
        "{nulls:?}"
    );

    // An expression's numeric scale comes from the values; DML reports rows affected.
    let id = execute(&fake, &db, "SELECT 1.5 + 1.25 AS x");
    wait_done(&fake, &id);
    let result = call(&fake, "GetStatementResult", json!({"Id": id}));
    assert_eq!(result["ColumnMetadata"][0]["scale"], 2, "{result}");
    let id = execute(&fake, &db, "UPDATE items SET name = 'x'");
    let (d, _) = wait_done(&fake, &id);
    assert_eq!(d["ResultRows"], 2, "{d}");
    assert_eq!(d["HasResultSet"], false);
    let message = call_err(
        &fake,
        "GetStatementResult",
        json!({"Id": id}),
        "ValidationException",
    );
    assert!(
        message.starts_with("Query does not have result"),
        "{message}"
    );
}

#[test]
fn redshift_data_server_reports_failures_parameters_and_tokens() {
    let pg = postgres::shared();
    let db = pg.create_database();
    let fake = FakeRedshiftData::start(pg);
    let id = execute(&fake, &db, "SELECT * FROM nope");
    let (d, _) = wait_done(&fake, &id);
    assert_eq!(d["Status"], "FAILED", "{d}");
    assert_eq!(d["Error"], "ERROR: relation \"nope\" does not exist");
    call_err(
        &fake,
        "GetStatementResult",
        json!({"Id": id}),
        "ValidationException",
    );

    let base = json!({"ClusterIdentifier": CLUSTER, "Database": db});
    let with = |sql: &str, params: Value| {
        let mut body = base.clone();
        body["Sql"] = json!(sql);
        body["Parameters"] = params;
        body
    };
    let reply = call(
        &fake,
        "ExecuteStatement",
        with(
            "SELECT :n::int + 1 AS n, ':n' AS lit, :s AS s -- :nothing",
            json!([{"name": "n", "value": "41"}, {"name": "s", "value": "it's"}]),
        ),
    );
    let id = reply["Id"].as_str().expect("Id");
    let (d, _) = wait_done(&fake, id);
    assert_eq!(d["Status"], "FINISHED", "{d}");
    assert_eq!(d["QueryParameters"][0]["name"], "n");
    let result = call(&fake, "GetStatementResult", json!({"Id": id}));
    assert_eq!(
        result["Records"][0],
        json!([{"longValue": 42}, {"stringValue": ":n"}, {"stringValue": "it's"}])
    );
    let message = call_err(
        &fake,
        "ExecuteStatement",
        with("SELECT :a", json!([{"name": "b", "value": "1"}])),
        "ValidationException",
    );
    assert!(message.contains('a'), "{message}");
    let message = call_err(
        &fake,
        "ExecuteStatement",
        with(
            "SELECT :a",
            json!([{"name": "a", "value": "1"}, {"name": "unused", "value": "1"}]),
        ),
        "ValidationException",
    );
    assert!(message.contains("unused"), "{message}");

    // The same ClientToken runs nothing new.
    let mut body = base.clone();
    body["Sql"] = json!("SELECT 1");
    body["ClientToken"] = json!("token-1");
    let a = call(&fake, "ExecuteStatement", body.clone());
    let b = call(&fake, "ExecuteStatement", body);
    assert_eq!(a["Id"], b["Id"]);
}

#[test]
fn redshift_data_server_sessions_keep_their_connection() {
    let pg = postgres::shared();
    let db = pg.create_database();
    let fake = FakeRedshiftData::start(pg);
    let reply = call(
        &fake,
        "ExecuteStatement",
        json!({
            "WorkgroupName": WORKGROUP, "Database": db, "SessionKeepAliveSeconds": 60,
            "Sql": "CREATE TEMP TABLE scratch AS SELECT 7 AS x",
        }),
    );
    let session = reply["SessionId"]
        .as_str()
        .expect("a SessionId")
        .to_string();
    let (d, _) = wait_done(&fake, reply["Id"].as_str().expect("Id"));
    assert_eq!(d["Status"], "FINISHED", "{d}");
    assert_eq!(d["SessionId"], session.as_str());
    assert_eq!(fake.session_count(), 1);

    // In the session: the temp table is there.
    let reply = call(
        &fake,
        "ExecuteStatement",
        json!({"SessionId": session, "Sql": "SELECT x FROM scratch"}),
    );
    assert_eq!(reply["WorkgroupName"], WORKGROUP);
    let id = reply["Id"].as_str().expect("Id").to_string();
    let (d, _) = wait_done(&fake, &id);
    assert_eq!(d["Status"], "FINISHED", "{d}");
    let result = call(&fake, "GetStatementResult", json!({"Id": id}));
    assert_eq!(result["Records"], json!([[{"longValue": 7}]]));

    // Outside it: not visible.
    let id = execute(&fake, &db, "SELECT x FROM scratch");
    let (d, _) = wait_done(&fake, &id);
    assert_eq!(d["Status"], "FAILED", "{d}");
    assert_eq!(d["Error"], "ERROR: relation \"scratch\" does not exist");

    // Busy: one statement at a time.
    let reply = call(
        &fake,
        "ExecuteStatement",
        json!({"SessionId": session, "Sql": "SELECT pg_sleep(0.5)"}),
    );
    let sleeping = reply["Id"].as_str().expect("Id").to_string();
    call_err(
        &fake,
        "ExecuteStatement",
        json!({"SessionId": session, "Sql": "SELECT 1"}),
        "ActiveStatementsExceededException",
    );
    wait_done(&fake, &sleeping);

    // Expired: the connection is closed and the session refused.
    fake.expire_sessions();
    assert_eq!(fake.session_count(), 0);
    let message = call_err(
        &fake,
        "ExecuteStatement",
        json!({"SessionId": session, "Sql": "SELECT 1"}),
        "ValidationException",
    );
    assert!(
        message.contains("Session") && message.contains(&session) && message.contains("expired"),
        "{message}"
    );

    // Keep-alive 0 with a SessionId ends the session after that statement; a short keep-alive
    // idles out by itself.
    let reply = call(
        &fake,
        "ExecuteStatement",
        json!({"ClusterIdentifier": CLUSTER, "Database": db, "SessionKeepAliveSeconds": 1, "Sql": "SELECT 1"}),
    );
    let short = reply["SessionId"].as_str().expect("SessionId").to_string();
    wait_done(&fake, reply["Id"].as_str().expect("Id"));
    let reply = call(
        &fake,
        "ExecuteStatement",
        json!({"SessionId": short, "SessionKeepAliveSeconds": 0, "Sql": "SELECT 2"}),
    );
    wait_done(&fake, reply["Id"].as_str().expect("Id"));
    assert_eq!(fake.session_count(), 0);
    let reply = call(
        &fake,
        "ExecuteStatement",
        json!({"ClusterIdentifier": CLUSTER, "Database": db, "SessionKeepAliveSeconds": 1, "Sql": "SELECT 1"}),
    );
    wait_done(&fake, reply["Id"].as_str().expect("Id"));
    assert_eq!(fake.session_count(), 1);
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(fake.session_count(), 0);
}

#[test]
fn redshift_data_server_batches_roll_back_on_failure() {
    let pg = postgres::shared();
    let db = pg.create_database();
    pg.client(&db)
        .batch_execute("CREATE TABLE t (id int)")
        .expect("create t");
    let fake = FakeRedshiftData::start(pg);
    let batch = |sqls: &[&str]| {
        let reply = call(
            &fake,
            "BatchExecuteStatement",
            json!({"ClusterIdentifier": CLUSTER, "DbUser": "bob", "Database": db, "Sqls": sqls}),
        );
        reply["Id"].as_str().expect("Id").to_string()
    };
    let id = batch(&[
        "INSERT INTO t VALUES (1)",
        "INSERT INTO nope VALUES (1)",
        "INSERT INTO t VALUES (2)",
    ]);
    let (d, _) = wait_done(&fake, &id);
    assert_eq!(d["Status"], "FAILED", "{d}");
    assert_eq!(d["Error"], "ERROR: relation \"nope\" does not exist");
    let subs = d["SubStatements"].as_array().expect("SubStatements");
    let statuses: Vec<&str> = subs
        .iter()
        .map(|s| s["Status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["FINISHED", "FAILED", "ABORTED"], "{d}");
    assert_eq!(subs[1]["Id"], format!("{id}:2"));
    assert_eq!(subs[1]["Error"], "ERROR: relation \"nope\" does not exist");
    let n: i64 = pg
        .client(&db)
        .query_one("SELECT count(*) FROM t", &[])
        .expect("count")
        .get(0);
    assert_eq!(n, 0, "the batch was rolled back");

    let id = batch(&[
        "INSERT INTO t VALUES (1), (2)",
        "SELECT id FROM t ORDER BY id",
    ]);
    let (d, _) = wait_done(&fake, &id);
    assert_eq!(d["Status"], "FINISHED", "{d}");
    assert_eq!(d["DbUser"], "bob");
    assert_eq!(d["SubStatements"][0]["ResultRows"], 2);
    assert_eq!(d["SubStatements"][1]["HasResultSet"], true);
    let sub = call(&fake, "DescribeStatement", json!({"Id": format!("{id}:2")}));
    assert_eq!(sub["Status"], "FINISHED", "{sub}");
    assert_eq!(sub["QueryString"], "SELECT id FROM t ORDER BY id");
    let result = call(
        &fake,
        "GetStatementResult",
        json!({"Id": format!("{id}:2")}),
    );
    assert_eq!(
        result["Records"],
        json!([[{"longValue": 1}], [{"longValue": 2}]])
    );
}

#[test]
fn redshift_data_server_pages_results_and_catalog() {
    let pg = postgres::shared();
    let db = pg.create_database();
    pg.client(&db)
        .batch_execute(
            "CREATE SCHEMA sales; CREATE TABLE sales.a (id int PRIMARY KEY, note text DEFAULT 'n/a'); \
             CREATE TABLE sales.b (x numeric(8,3) NOT NULL); CREATE VIEW sales.c AS SELECT 1 AS one",
        )
        .expect("create the catalog");
    let fake = FakeRedshiftData::start_with(
        pg,
        ServerConfig {
            page_rows: 1000,
            ..ServerConfig::default()
        },
    );
    let id = execute(
        &fake,
        &db,
        "SELECT n, repeat('x', 10) AS s FROM generate_series(1, 2500) AS n",
    );
    wait_done(&fake, &id);
    let mut token: Option<String> = None;
    let mut pages = Vec::new();
    let mut values = Vec::new();
    loop {
        let mut body = json!({"Id": id});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let page = call(&fake, "GetStatementResult", body);
        assert_eq!(page["TotalNumRows"], 2500);
        let records = page["Records"].as_array().expect("Records");
        pages.push(records.len());
        values.extend(
            records
                .iter()
                .map(|r| r[0]["longValue"].as_i64().expect("n")),
        );
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, [1000, 1000, 500]);
    assert_eq!(values, (1..=2500).collect::<Vec<i64>>());

    // A row above 64 KB cannot be fetched.
    let id = execute(&fake, &db, "SELECT repeat('y', 70000) AS big");
    wait_done(&fake, &id);
    let message = call_err(
        &fake,
        "GetStatementResult",
        json!({"Id": id}),
        "ValidationException",
    );
    assert!(message.contains("64 KB"), "{message}");

    // Catalog pages of two.
    let target = json!({"ClusterIdentifier": CLUSTER, "Database": db});
    let list_all = |op: &str, extra: Value, key: &str| -> Vec<Value> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = target.clone();
            for (k, v) in extra.as_object().expect("an object") {
                body[k] = v.clone();
            }
            if let Some(t) = &token {
                body["NextToken"] = json!(t);
            }
            let page = call(&fake, op, body);
            let list = page[key].as_array().expect("a list");
            assert!(list.len() <= 2, "{page}");
            items.extend(list.iter().cloned());
            match page["NextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => return items,
            }
        }
    };
    let dbs = list_all("ListDatabases", json!({}), "Databases");
    assert!(dbs.contains(&json!(db)), "{dbs:?}");
    assert!(!dbs.contains(&json!("template1")));
    let schemas = list_all("ListSchemas", json!({}), "Schemas");
    assert!(schemas.contains(&json!("sales")) && schemas.contains(&json!("public")));
    assert!(
        !schemas
            .iter()
            .any(|s| s.as_str().unwrap_or("").starts_with("pg_toast"))
    );
    let tables = list_all("ListTables", json!({"SchemaPattern": "sal%"}), "Tables");
    assert_eq!(
        tables,
        [
            json!({"name": "a", "schema": "sales", "type": "TABLE"}),
            json!({"name": "b", "schema": "sales", "type": "TABLE"}),
            json!({"name": "c", "schema": "sales", "type": "VIEW"}),
        ]
    );
    let described = call(
        &fake,
        "DescribeTable",
        json!({"ClusterIdentifier": CLUSTER, "Database": db, "Schema": "sales", "Table": "a"}),
    );
    assert_eq!(described["TableName"], "a");
    let columns = described["ColumnList"].as_array().expect("ColumnList");
    assert_eq!(columns.len(), 2, "{described}");
    assert_eq!(columns[0]["name"], "id");
    assert_eq!(columns[0]["typeName"], "int4");
    assert_eq!(columns[0]["nullable"], 0);
    assert_eq!(columns[1]["typeName"], "text");
    assert_eq!(columns[1]["nullable"], 1);
    assert_eq!(columns[1]["columnDefault"], "'n/a'::text");
    assert_eq!(columns[1]["schemaName"], "sales");
    let described = call(
        &fake,
        "DescribeTable",
        json!({"WorkgroupName": WORKGROUP, "Database": db, "Schema": "sales", "Table": "b"}),
    );
    assert_eq!(described["ColumnList"][0]["precision"], 8);
    assert_eq!(described["ColumnList"][0]["scale"], 3);
}

#[test]
fn redshift_data_server_cancels_a_running_statement() {
    let pg = postgres::shared();
    let db = pg.create_database();
    let fake = FakeRedshiftData::start(pg);
    let id = execute(&fake, &db, "SELECT pg_sleep(30)");
    wait_status(&fake, &id, "STARTED");
    let reply = call(&fake, "CancelStatement", json!({"Id": id}));
    assert_eq!(reply, json!({"Status": true}));
    let cancelled = Instant::now();
    let (d, _) = wait_done(&fake, &id);
    assert!(
        cancelled.elapsed() < Duration::from_secs(1),
        "took {:?}",
        cancelled.elapsed()
    );
    assert_eq!(d["Status"], "ABORTED", "{d}");
    let message = call_err(
        &fake,
        "CancelStatement",
        json!({"Id": id}),
        "ValidationException",
    );
    assert!(message.contains("ABORTED"), "{message}");

    // Cancelled before it started: it never runs.
    let id = execute(&fake, &db, "SELECT pg_sleep(30)");
    call(&fake, "CancelStatement", json!({"Id": id}));
    let (d, seen) = wait_done(&fake, &id);
    assert_eq!(d["Status"], "ABORTED", "{d}");
    assert!(!seen.contains(&"STARTED".to_string()), "{seen:?}");
}
