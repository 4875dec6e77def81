//! A moto server (PyPI `moto[server]`, the pinned version `scripts/test` installs into
//! `target/test-tools/venv`) on a free loopback port, for the Athena tests: started per test,
//! killed when dropped. Also a tiny blocking HTTP/1.1 client (no extra dependencies) used to
//! drive moto's `/moto-api/` endpoints and to send raw Athena requests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

/// How long moto may take to answer its first request (Python imports are slow on a busy box).
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The account and region moto uses for unsigned-looking requests signed with `testing`.
pub const ACCOUNT_ID: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// A running `moto_server`; killed on drop.
pub struct MotoServer {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    recording: PathBuf,
    _dir: TempDir,
}

impl MotoServer {
    /// Starts moto on a free port and waits until it answers.
    #[track_caller]
    pub fn start() -> Self {
        let exe = moto_executable();
        let dir = tempfile::Builder::new()
            .prefix("quarry-moto-")
            .tempdir()
            .expect("create moto's temporary directory");
        let log = dir.path().join("moto.log");
        let log_file = std::fs::File::create(&log).expect("create moto's log file");
        let log_err = log_file.try_clone().expect("clone moto's log file");
        let recording = dir.path().join("recording.jsonl");
        let port = free_port();
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // moto's recorder appends every request it serves to this file: tests read it to
            // see which Athena operations the client sent.
            .env("MOTO_ENABLE_RECORDING", "true")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(log_err))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut server = MotoServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
            recording,
            _dir: dir,
        };
        server.wait_ready();
        server
    }

    /// `http://127.0.0.1:PORT`, for a connection's `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What moto printed so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The Athena operations moto served so far, in order (from moto's recorder; includes the
    /// test's own [`call`](Self::call)s).
    pub fn athena_ops(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|entry| {
                let headers = entry.get("headers")?.as_object()?;
                headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-target"))
                    .and_then(|(_, v)| v.as_str())
                    .and_then(|t| t.strip_prefix("AmazonAthena."))
                    .map(str::to_string)
            })
            .collect()
    }

    /// How many `op` requests moto served.
    pub fn count(&self, op: &str) -> usize {
        self.athena_ops().iter().filter(|o| *o == op).count()
    }

    /// Waits until moto served at least `n` `op` requests; false after `timeout`.
    pub fn wait_for(&self, op: &str, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.count(op) >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.count(op) >= n
    }

    #[track_caller]
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "moto_server exited during start-up ({status})\n--- moto log ---\n{}",
                    self.log()
                );
            }
            if let Ok(resp) = http_request(self.addr, "GET", "/moto-api/", &[], b"")
                && resp.status < 500
            {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "moto_server did not answer on {} within {START_TIMEOUT:?}\n--- moto log ---\n{}",
                    self.addr,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sets the state-transition model of `model` (e.g. `athena::execution`): `transition` is
    /// e.g. `{"progression": "manual", "times": 2}`.
    #[track_caller]
    pub fn set_transition(&self, model: &str, transition: Value) {
        let body = json!({"model_name": model, "transition": transition});
        let resp = self.post_json("/moto-api/state-manager/set-transition", &body);
        assert!(
            resp.status == 200 || resp.status == 201,
            "set-transition failed: {resp:?}"
        );
    }

    /// Athena query executions move QUEUED → RUNNING → SUCCEEDED, one step per `times`
    /// GetQueryExecution calls.
    #[track_caller]
    pub fn manual_athena_transitions(&self, times: u64) {
        self.set_transition(
            "athena::execution",
            json!({"progression": "manual", "times": times}),
        );
    }

    /// Queues one result set for the next query execution moto starts. `rows` are the cells of
    /// each row (`None` = NULL) exactly as GetQueryResults returns them (so a SELECT's header
    /// row must be included by the caller); `columns` are (name, Athena type) pairs, the type
    /// with its precision and scale for a decimal (`decimal(10,2)`).
    #[track_caller]
    pub fn queue_results(&self, rows: &[Vec<Option<&str>>], columns: &[(&str, &str)]) {
        let rows: Vec<Value> = rows
            .iter()
            .map(|row| {
                let data: Vec<Value> = row
                    .iter()
                    .map(|cell| match cell {
                        Some(v) => json!({"VarCharValue": v}),
                        None => json!({}),
                    })
                    .collect();
                json!({"Data": data})
            })
            .collect();
        let column_info: Vec<Value> = columns
            .iter()
            .map(|(name, ty)| {
                // `decimal(10,2)`: Athena sends the type's name, its precision and its scale.
                let (ty, precision, scale) = match ty.strip_prefix("decimal(") {
                    Some(args) => {
                        let (p, s) = args.trim_end_matches(')').split_once(',').unwrap();
                        (
                            "decimal",
                            p.trim().parse().unwrap(),
                            s.trim().parse().unwrap(),
                        )
                    }
                    None => (*ty, 0, 0),
                };
                json!({
                    "Name": name, "Label": name, "Type": ty, "CatalogName": "hive",
                    "SchemaName": "", "TableName": "", "Nullable": "UNKNOWN",
                    "CaseSensitive": ty == "varchar", "Precision": precision, "Scale": scale,
                })
            })
            .collect();
        let body = json!({
            "account_id": ACCOUNT_ID,
            "region": REGION,
            "results": [{"rows": rows, "column_info": column_info}],
        });
        let resp = self.post_json("/moto-api/static/athena/query-results", &body);
        assert_eq!(resp.status, 201, "queueing Athena results failed: {resp:?}");
    }

    /// Sends one raw Athena JSON 1.1 request (`op` e.g. `CreateWorkGroup`) and returns the
    /// parsed reply; panics unless moto answered 2xx.
    #[track_caller]
    pub fn call(&self, op: &str, body: Value) -> Value {
        let resp = self.call_raw(op, body);
        assert!(
            (200..300).contains(&resp.status),
            "Athena {op} on moto failed: {resp:?}"
        );
        if resp.body.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&resp.body)
            .unwrap_or_else(|e| panic!("moto's {op} reply is not JSON ({e}): {resp:?}"))
    }

    /// Like [`call`](Self::call) but returns the raw response whatever its status.
    #[track_caller]
    pub fn call_raw(&self, op: &str, body: Value) -> HttpResponse {
        let target = format!("AmazonAthena.{op}");
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/athena/aws4_request, \
             SignedHeaders=host, Signature=x"
        );
        let headers = [
            ("X-Amz-Target", target.as_str()),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Authorization", auth.as_str()),
        ];
        http_request(
            self.addr,
            "POST",
            "/",
            &headers,
            body.to_string().as_bytes(),
        )
        .unwrap_or_else(|e| panic!("Athena {op} request to moto failed: {e}"))
    }

    #[track_caller]
    fn post_json(&self, path: &str, body: &Value) -> HttpResponse {
        http_request(
            self.addr,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
        .unwrap_or_else(|e| panic!("POST {path} to moto failed: {e}"))
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `moto_server` executable: `$QUARRY_MOTO_SERVER`, else the venv `scripts/test` creates.
#[track_caller]
fn moto_executable() -> PathBuf {
    let path = std::env::var_os("QUARRY_MOTO_SERVER")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-tools/venv/bin/moto_server")
        });
    assert!(
        path.is_file(),
        "moto is not installed: run scripts/test (it installs moto into target/test-tools/venv); \
         looked for {}",
        path.display()
    );
    path
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").port()
}

/// One HTTP reply.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal blocking HTTP/1.1 request (`Connection: close`, reply read to the end).
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<HttpResponse> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers in the reply"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body).ok_or_else(|| bad("bad chunked body"))?;
    } else if let Some(len) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Ok(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}
