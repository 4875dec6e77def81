//! An in-process fake of the calls that make temporary Redshift database credentials, on one
//! free loopback port so one `endpoint_url` serves every kind of target:
//!
//! - Redshift `GetClusterCredentials` and `GetClusterCredentialsWithIAM`: the awsQuery protocol
//!   (form-encoded `POST /` with `Action=…&Version=2012-12-01&…`, XML answers in the
//!   `http://redshift.amazonaws.com/doc/2012-12-01/` namespace, errors as HTTP 400
//!   `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code>…`);
//! - Redshift Serverless `GetCredentials`: AWS JSON 1.1 (`X-Amz-Target:
//!   RedshiftServerless.GetCredentials`, camelCase members, `expiration` in epoch seconds,
//!   errors as `{"__type": …, "message": …}`).
//!
//! It exists because moto (5.2.5) implements only `GetClusterCredentials` of these: not
//! `GetClusterCredentialsWithIAM`, and no Redshift Serverless at all. Tests of
//! `GetClusterCredentials` use moto.
//!
//! The test decides what it hands out: [`FakeRedshiftIam::start`]`(user, password)` answers every
//! call with exactly that user and password (the real service derives the user: `IAM:alice`,
//! `IAMA:alice`, `IAMR:role`), valid for the requested `DurationSeconds`. For an end-to-end
//! login, create that role with that password in the test PostgreSQL and point the connection's
//! `endpoint_url` at [`url`](FakeRedshiftIam::url). [`set_credentials`](FakeRedshiftIam::set_credentials),
//! [`set_lifetime`](FakeRedshiftIam::set_lifetime) and [`fail_with`](FakeRedshiftIam::fail_with)
//! change later answers; [`calls`](FakeRedshiftIam::calls) are the requests with their
//! parameters. Requests are not authenticated.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::aws_json_server::{Request, read_request};

/// The Redshift API version awsQuery requests carry.
pub const API_VERSION: &str = "2012-12-01";
const XMLNS: &str = "http://redshift.amazonaws.com/doc/2012-12-01/";

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `GetClusterCredentials`, `GetClusterCredentialsWithIAM` or `GetCredentials`.
    pub op: String,
    /// The parameters as sent: awsQuery form fields (`ClusterIdentifier`,
    /// `DbGroups.DbGroup.1`, `AutoCreate` = `true`, …), or the JSON body's members (`workgroupName`,
    /// numbers as their decimal text).
    pub params: BTreeMap<String, String>,
}

impl Call {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// What the fake answers.
struct Behaviour {
    user: String,
    password: String,
    /// Seconds from the request to the expiry handed out; `None`: the requested duration.
    lifetime: Option<i64>,
    /// Error code and message every call fails with.
    failure: Option<(String, String)>,
    /// How long each answer takes.
    delay: Duration,
}

struct Shared {
    behaviour: Mutex<Behaviour>,
    calls: Mutex<Vec<Call>>,
    stop: AtomicBool,
    next_id: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake; stops accepting connections when dropped.
pub struct FakeRedshiftIam {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl FakeRedshiftIam {
    /// Listens on a free loopback port and hands out `user` / `password` to every call.
    pub fn start(user: &str, password: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake Redshift IAM port");
        let addr = listener.local_addr().expect("fake server address");
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(Behaviour {
                user: user.to_string(),
                password: password.to_string(),
                lifetime: None,
                failure: None,
                delay: Duration::ZERO,
            }),
            calls: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            next_id: Mutex::new(0),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("fake-redshift-iam".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = Arc::clone(&accept_shared);
                    let _ = std::thread::Builder::new()
                        .name("fake-redshift-iam-conn".into())
                        .spawn(move || serve_connection(stream, &shared));
                }
            })
            .expect("start the fake Redshift IAM thread");
        FakeRedshiftIam {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`, for `endpoint_url` (both services).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Later calls hand out `user` / `password`.
    pub fn set_credentials(&self, user: &str, password: &str) {
        let mut b = lock(&self.shared.behaviour);
        b.user = user.to_string();
        b.password = password.to_string();
    }

    /// Later credentials expire `seconds` after the request (0 or less: already expired);
    /// by default they last the requested `DurationSeconds`.
    pub fn set_lifetime(&self, seconds: i64) {
        lock(&self.shared.behaviour).lifetime = Some(seconds);
    }

    /// Later calls fail with error `code` (e.g. `ClusterNotFound`, `AccessDenied`,
    /// `ResourceNotFoundException`, `AccessDeniedException`) and `message`, as HTTP 400.
    pub fn fail_with(&self, code: &str, message: &str) {
        lock(&self.shared.behaviour).failure = Some((code.to_string(), message.to_string()));
    }

    /// Later answers take `delay` (to overlap concurrent callers).
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.shared.behaviour).delay = delay;
    }

    /// Later calls succeed again.
    pub fn succeed(&self) {
        lock(&self.shared.behaviour).failure = None;
    }

    /// Every request so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.shared.calls).clone()
    }

    /// How many `op` requests arrived.
    pub fn count(&self, op: &str) -> usize {
        lock(&self.shared.calls)
            .iter()
            .filter(|c| c.op == op)
            .count()
    }
}

impl Drop for FakeRedshiftIam {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

/// An HTTP answer.
struct Reply {
    status: u16,
    content_type: &'static str,
    /// `x-amzn-ErrorType` (JSON errors).
    error_type: Option<String>,
    body: String,
}

/// Which protocol a request speaks.
#[derive(Clone, Copy)]
enum Protocol {
    Query,
    Json,
}

impl Shared {
    fn request_id(&self) -> String {
        let mut n = lock(&self.next_id);
        *n += 1;
        format!("fake-{:08x}-0000-4000-8000-000000000000", *n)
    }

    fn error(&self, protocol: Protocol, code: &str, message: &str) -> Reply {
        match protocol {
            Protocol::Query => Reply {
                status: 400,
                content_type: "text/xml",
                error_type: None,
                body: format!(
                    "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>Sender</Type>\
                     <Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId>\
                     </ErrorResponse>",
                    xml_escape(code),
                    xml_escape(message),
                    self.request_id()
                ),
            },
            Protocol::Json => Reply {
                status: 400,
                content_type: "application/x-amz-json-1.1",
                error_type: Some(code.to_string()),
                body: json!({"__type": code, "message": message}).to_string(),
            },
        }
    }

    /// Records a call and answers it.
    fn answer(&self, protocol: Protocol, call: Call) -> Reply {
        lock(&self.calls).push(call.clone());
        let (user, password, lifetime, failure, delay) = {
            let b = lock(&self.behaviour);
            (
                b.user.clone(),
                b.password.clone(),
                b.lifetime,
                b.failure.clone(),
                b.delay,
            )
        };
        std::thread::sleep(delay);
        let (target_key, duration_key) = match protocol {
            Protocol::Query => ("ClusterIdentifier", "DurationSeconds"),
            Protocol::Json => ("workgroupName", "durationSeconds"),
        };
        if call.param(target_key).is_none_or(str::is_empty) {
            let code = match protocol {
                Protocol::Query => "MissingParameter",
                Protocol::Json => "ValidationException",
            };
            let message = format!("The request must contain the parameter {target_key}");
            return self.error(protocol, code, &message);
        }
        if call.op == "GetClusterCredentials" && call.param("DbUser").is_none_or(str::is_empty) {
            let message = "The request must contain the parameter DbUser";
            return self.error(protocol, "MissingParameter", message);
        }
        let duration = match call.param(duration_key).map(str::parse::<i64>) {
            None => 900,
            Some(Ok(d)) if (900..=3600).contains(&d) => d,
            Some(_) => {
                let code = match protocol {
                    Protocol::Query => "InvalidParameterValue",
                    Protocol::Json => "ValidationException",
                };
                let message = "Token duration must be between 900 and 3600 seconds";
                return self.error(protocol, code, message);
            }
        };
        if let Some((code, message)) = failure {
            return self.error(protocol, &code, &message);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let expires = now + lifetime.unwrap_or(duration);
        match protocol {
            Protocol::Query => {
                let op = &call.op;
                let expiration = iso8601(expires);
                Reply {
                    status: 200,
                    content_type: "text/xml",
                    error_type: None,
                    body: format!(
                        "<{op}Response xmlns=\"{XMLNS}\"><{op}Result>\
                         <DbUser>{}</DbUser><DbPassword>{}</DbPassword>\
                         <Expiration>{expiration}</Expiration>\
                         <NextRefreshTime>{expiration}</NextRefreshTime>\
                         </{op}Result><ResponseMetadata><RequestId>{}</RequestId>\
                         </ResponseMetadata></{op}Response>",
                        xml_escape(&user),
                        xml_escape(&password),
                        self.request_id()
                    ),
                }
            }
            Protocol::Json => Reply {
                status: 200,
                content_type: "application/x-amz-json-1.1",
                error_type: None,
                body: json!({
                    "dbUser": user,
                    "dbPassword": password,
                    "expiration": expires,
                    "nextRefreshTime": expires,
                })
                .to_string(),
            },
        }
    }

    /// Parses, records and answers one request.
    fn handle(&self, request: &Request) -> Reply {
        if let Some(target) = request.header("x-amz-target") {
            let op = target.strip_prefix("RedshiftServerless.").unwrap_or("");
            let body: Value = if request.body.iter().all(u8::is_ascii_whitespace) {
                json!({})
            } else {
                match serde_json::from_slice(&request.body) {
                    Ok(v) => v,
                    Err(e) => {
                        let message = format!("request body is not JSON: {e}");
                        return self.error(Protocol::Json, "SerializationException", &message);
                    }
                }
            };
            if op != "GetCredentials" {
                let message = format!("the fake does not implement {target}");
                return self.error(Protocol::Json, "UnknownOperationException", &message);
            }
            let params = body
                .as_object()
                .map(|members| {
                    members
                        .iter()
                        .map(|(k, v)| {
                            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                            (k.clone(), text)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let call = Call {
                op: op.to_string(),
                params,
            };
            return self.answer(Protocol::Json, call);
        }
        let mut params = parse_form(&String::from_utf8_lossy(&request.body));
        let action = params.remove("Action").unwrap_or_default();
        let version = params.remove("Version").unwrap_or_default();
        if version != API_VERSION {
            let message = format!("Version must be {API_VERSION}, not `{version}`");
            return self.error(Protocol::Query, "InvalidParameterValue", &message);
        }
        if action != "GetClusterCredentials" && action != "GetClusterCredentialsWithIAM" {
            let message = format!("the fake does not implement the action `{action}`");
            return self.error(Protocol::Query, "InvalidAction", &message);
        }
        let call = Call { op: action, params };
        self.answer(Protocol::Query, call)
    }
}

/// Decodes an `application/x-www-form-urlencoded` body (also used on moto's recorded requests).
pub fn parse_form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            {
                Some(hex) => {
                    let hex = String::from_utf8_lossy(hex);
                    out.push(u8::from_str_radix(&hex, 16).unwrap_or(b'?'));
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `2026-01-02T03:04:05Z` for epoch seconds.
fn iso8601(epoch_seconds: i64) -> String {
    aws_smithy_types::DateTime::from_secs(epoch_seconds)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .expect("a representable time")
}

/// Serves requests on one connection until the peer closes it (keep-alive).
fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while !shared.stop.load(Ordering::SeqCst) {
        let Ok(Some(request)) = read_request(&mut reader, &mut writer) else {
            return;
        };
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let reply = shared.handle(&request);
        let reason = if reply.status == 200 {
            "OK"
        } else {
            "Bad Request"
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             x-amzn-RequestId: {}\r\n",
            reply.status,
            reply.content_type,
            reply.body.len(),
            shared.request_id()
        );
        if let Some(t) = &reply.error_type {
            head.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let sent = writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(reply.body.as_bytes()))
            .and_then(|()| writer.flush());
        if sent.is_err() || close {
            return;
        }
    }
}
