//! The HTTP side of the suite's in-process AWS fakes (`fake_athena`, `fake_redshift_data`): an
//! HTTP/1.1 server with keep-alive on std threads (one per connection) that speaks AWS JSON 1.1
//! — `POST /`, the operation in `X-Amz-Target: <prefix>.<Operation>`, a JSON body, replies as
//! `application/x-amz-json-1.1`, errors as `{"__type": ..., "message": ...}` with the type also
//! in `x-amzn-ErrorType`. It records every request (operation and parsed body) and hands it to
//! the fake's handler; it stops accepting connections when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

/// One request a fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The operation (`StartQueryExecution`, `ExecuteStatement`, …).
    pub op: String,
    /// The parsed JSON body (`{}` for an empty one).
    pub body: Value,
}

/// A handler's answer: HTTP status, error type (for `x-amzn-ErrorType`), JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub error_type: Option<String>,
    pub body: String,
}

impl Reply {
    /// 200 with `value`.
    pub fn ok(value: Value) -> Reply {
        Reply {
            status: 200,
            error_type: None,
            body: value.to_string(),
        }
    }

    /// 400 `{"__type": kind, "message": message}`.
    pub fn error(kind: &str, message: &str) -> Reply {
        Reply::error_with(400, kind, json!({"message": message}))
    }

    /// `status` with `fields` (an object: `message` and any modelled members) plus `__type`.
    pub fn error_with(status: u16, kind: &str, fields: Value) -> Reply {
        let mut body = json!({"__type": kind});
        if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
            body.extend(fields);
        }
        Reply {
            status,
            error_type: Some(kind.to_string()),
            body: body.to_string(),
        }
    }
}

/// What distinguishes one service's endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// Thread names (`fake-athena`, …).
    pub name: &'static str,
    /// `X-Amz-Target` prefix before the `.` and the operation (`AmazonAthena`, `RedshiftData`).
    pub target_prefix: &'static str,
    /// The error type of a body that is not JSON (not recorded, not handled).
    pub malformed_error: &'static str,
}

type Handler = dyn Fn(&str, &Value) -> Reply + Send + Sync;

struct Shared {
    service: Service,
    handler: Box<Handler>,
    requests: Mutex<Vec<Recorded>>,
    stop: AtomicBool,
    replies: AtomicU64,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Vec<Recorded>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running server; stops accepting connections when dropped.
pub struct AwsJsonServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl AwsJsonServer {
    /// Listens on a free loopback port; every request goes to `handler(operation, body)` (the
    /// operation is the `X-Amz-Target` without the service's prefix, `""` when missing).
    pub fn start<H>(service: Service, handler: H) -> Self
    where
        H: Fn(&str, &Value) -> Reply + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("bind the {} server: {e}", service.name));
        let addr = listener.local_addr().expect("fake server address");
        let shared = Arc::new(Shared {
            service,
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            replies: AtomicU64::new(0),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name(service.name.to_string())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = Arc::clone(&accept_shared);
                    let _ = std::thread::Builder::new()
                        .name(format!("{}-conn", accept_shared.service.name))
                        .spawn(move || serve_connection(stream, &shared));
                }
            })
            .unwrap_or_else(|e| panic!("start the {} thread: {e}", service.name));
        AwsJsonServer {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests().clone()
    }

    /// The bodies of the requests for `op`, in arrival order.
    pub fn bodies(&self, op: &str) -> Vec<Value> {
        self.shared
            .requests()
            .iter()
            .filter(|r| r.op == op)
            .map(|r| r.body.clone())
            .collect()
    }

    /// How many `op` requests arrived.
    pub fn count(&self, op: &str) -> usize {
        self.shared.requests().iter().filter(|r| r.op == op).count()
    }

    /// Waits until at least `n` `op` requests arrived; false after `timeout`.
    pub fn wait_for(&self, op: &str, n: usize, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if self.count(op) >= n {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        self.count(op) >= n
    }

    /// The operations received, in order.
    pub fn ops(&self) -> Vec<String> {
        self.shared
            .requests()
            .iter()
            .map(|r| r.op.clone())
            .collect()
    }
}

impl Drop for AwsJsonServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

/// A parsed request (also used by the other test servers that speak HTTP/1.1).
pub struct Request {
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Serves requests on one connection until the peer closes it (keep-alive).
fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let request = match read_request(&mut reader, &mut writer) {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => return,
        };
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let reply = handle(shared, &request);
        let reason = match reply.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            _ => "Error",
        };
        let n = shared.replies.fetch_add(1, Ordering::SeqCst) + 1;
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\n\
             Content-Length: {}\r\nx-amzn-RequestId: fake-{n:08x}-0000-4000-8000-{:012x}\r\n",
            reply.status,
            reply.body.len(),
            reply.body.len()
        );
        if let Some(t) = &reply.error_type {
            head.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err()
            || writer.write_all(reply.body.as_bytes()).is_err()
            || writer.flush().is_err()
        {
            return;
        }
        if close {
            return;
        }
    }
}

/// Parses, records and hands one request to the service's handler.
fn handle(shared: &Shared, request: &Request) -> Reply {
    let body: Value = if request.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&request.body) {
            Ok(v) => v,
            Err(e) => {
                return Reply::error(
                    shared.service.malformed_error,
                    &format!("request body is not JSON: {e}"),
                );
            }
        }
    };
    let op = request
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix(shared.service.target_prefix))
        .and_then(|t| t.strip_prefix('.'))
        .unwrap_or("")
        .to_string();
    shared.requests().push(Recorded {
        op: op.clone(),
        body: body.clone(),
    });
    (shared.handler)(&op, &body)
}

/// Reads one request (`Content-Length` or chunked body; `Expect: 100-continue` answered on
/// `writer`); `None` when the peer closed the connection between requests.
pub fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    // The request line (skipping stray empty lines between requests).
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut request = Request {
        headers,
        body: Vec::new(),
    };
    if request
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        writer.flush()?;
    }
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size_text = line.trim().split(';').next().unwrap_or("0").to_string();
            let size = usize::from_str_radix(&size_text, 16).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunk size")
            })?;
            if size == 0 {
                // Trailers until the empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            request.body.extend_from_slice(&chunk);
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else if let Some(len) = request
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        request.body = body;
    }
    Ok(Some(request))
}
