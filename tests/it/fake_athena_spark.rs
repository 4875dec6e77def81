//! An in-process fake of Athena for Apache Spark, speaking Athena's real protocol (AWS JSON 1.1,
//! `X-Amz-Target: AmazonAthena.<Operation>`, through `aws_json_server`): moto implements none of
//! the Spark APIs. Calculation output goes to the suite's real S3 peer, moto, exactly where the
//! service would put it, and the fake answers with `s3://` URIs to it.
//!
//! Operations: ListWorkGroups and GetWorkGroup (a Spark workgroup [`SPARK_WG`] with engine
//! defaults, and an SQL one [`SQL_WG`]), StartSession (idempotent on `ClientRequestToken`),
//! GetSession, GetSessionStatus, ListSessions (two a page, oldest first), TerminateSession,
//! GetSessionEndpoint, GetResourceDashboard, StartCalculationExecution,
//! GetCalculationExecution, StopCalculationExecution. Every request is recorded.
//!
//! Life cycles are driven by the clock, in short steps, so a client that polls with backoff sees
//! them as it would on the service:
//!
//! - a session is CREATING for [`SESSION_STEP`], CREATED for another, then IDLE; BUSY while one
//!   of its calculations runs; after TerminateSession, TERMINATING for a step, then TERMINATED
//!   (its running calculations end CANCELED);
//! - a calculation is QUEUED for 100 ms, RUNNING until [`CALC_DONE`], then ends as its code
//!   says (case-insensitive substring, first match):
//!   `stubborn` → RUNNING until stopped, and StopCalculationExecution is refused;
//!   `slow` → RUNNING until stopped, then CANCELING for 200 ms and CANCELED;
//!   `degrade` → FAILED ([`DEGRADE_REASON`]) and the session goes DEGRADED;
//!   `fail` → FAILED ([`FAIL_REASON`]) with a 46-line traceback on stderr;
//!   `csv` → COMPLETED, a CSV result folder (`…/result`, no trailing slash: one part and a
//!   `_SUCCESS` marker), `text/csv`;
//!   `table` → COMPLETED, a table-schema JSON result ([`TABLE_JSON`]);
//!   `big` → COMPLETED, [`BIG_ROWS`] rows of JSON Lines;
//!   `display` → COMPLETED, a JSON array result ([`DISPLAY_JSON`]) and a warning on stderr;
//!   anything else → COMPLETED with stdout: the string literal of each `print("…")`, or `ok`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::aws_json_server::{AwsJsonServer, Reply, Service};
use crate::moto::http_request;

pub const SPARK_WG: &str = "spark-wg";
pub const SQL_WG: &str = "primary";
pub const SPARK_ENGINE: &str = "PySpark engine version 3";
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
/// The workgroup's default maximum of concurrent DPUs (not the service default of 20).
pub const WG_MAX_DPUS: i64 = 16;
/// The endpoint's secret: a client must never show it.
pub const AUTH_TOKEN: &str = "fake-spark-auth-token-7f3a9c-DO-NOT-SHOW";
/// Where calculation output is written on moto.
pub const BUCKET: &str = "quarry-spark-results";
pub const FAIL_REASON: &str = "NameError: name 'nope' is not defined";
pub const DEGRADE_REASON: &str = "Spark driver stopped responding";
/// DPU time each finished calculation reports.
pub const CALC_DPU_MS: i64 = 7_200;
pub const BIG_ROWS: usize = 20_000;
/// The `display` result.
pub const DISPLAY_JSON: &str = r#"[{"vendor":"acme","trips":120331,"share":0.61,"active":true},
{"vendor":"zenith","trips":98004,"share":0.39,"active":false},
{"vendor":"zeta","trips":7,"share":null,"active":null}]"#;
/// The `display` calculation's stderr.
pub const DISPLAY_STDERR: &str = "WARN SparkContext: using the default shuffle partitions\n";
/// The `table` result (pandas `to_json(orient="table")`).
pub const TABLE_JSON: &str = r#"{"schema":{"fields":[{"name":"index","type":"integer"},
{"name":"city","type":"string"},{"name":"pop","type":"number"}],"primaryKey":["index"]},
"data":[{"index":0,"city":"Oslo","pop":0.7},{"index":1,"city":"Lima","pop":10}]}"#;
/// The `csv` result's one part.
pub const CSV_PART: &str = "name,n,ok\nacme,1,true\nzenith,,false\n";

pub const SESSION_STEP: Duration = Duration::from_millis(300);
const CALC_QUEUED: Duration = Duration::from_millis(100);
pub const CALC_DONE: Duration = Duration::from_millis(400);
const CANCELING: Duration = Duration::from_millis(200);
const SESSIONS_PER_PAGE: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Print,
    Display,
    Table,
    Csv,
    Big,
    Fail,
    Degrade,
    Slow,
    Stubborn,
}

impl Scenario {
    pub fn from_code(code: &str) -> Self {
        let code = code.to_ascii_lowercase();
        [
            ("stubborn", Scenario::Stubborn),
            ("slow", Scenario::Slow),
            ("degrade", Scenario::Degrade),
            ("fail", Scenario::Fail),
            ("csv", Scenario::Csv),
            ("table", Scenario::Table),
            ("big", Scenario::Big),
            ("display", Scenario::Display),
        ]
        .into_iter()
        .find(|(word, _)| code.contains(word))
        .map_or(Scenario::Print, |(_, s)| s)
    }

    fn endless(self) -> bool {
        matches!(self, Scenario::Slow | Scenario::Stubborn)
    }
}

struct Session {
    id: String,
    workgroup: String,
    token: Option<String>,
    description: Option<String>,
    /// The EngineConfiguration StartSession was given (with the workgroup's Spark properties).
    engine: Value,
    idle_minutes: i64,
    started: Instant,
    started_epoch: f64,
    terminated: Option<Instant>,
    /// When it goes DEGRADED (a `degrade` calculation's end).
    degraded: Option<Instant>,
}

struct Calc {
    id: String,
    session: String,
    scenario: Scenario,
    started: Instant,
    started_epoch: f64,
    stopped: Option<Instant>,
    token: Option<String>,
    /// (stdout, stderr, result, result type) URIs, when moto is there.
    uris: Option<(String, String, Option<String>, Option<&'static str>)>,
}

impl Calc {
    /// (state, reason) at `now`; `ended` is when the session was terminated, if it was.
    fn state(&self, now: Instant, ended: Option<Instant>) -> (&'static str, Option<String>) {
        let done_at = self.started + CALC_DONE;
        if let Some(t) = self.stopped {
            return if now < t + CANCELING {
                ("CANCELING", None)
            } else {
                ("CANCELED", Some("Calculation stopped by the user".into()))
            };
        }
        if let Some(t) = ended
            && t <= now
            && (self.scenario.endless() || t < done_at)
        {
            return ("CANCELED", Some("the session was terminated".into()));
        }
        let age = now.saturating_duration_since(self.started);
        if age < CALC_QUEUED {
            ("QUEUED", None)
        } else if age < CALC_DONE || self.scenario.endless() {
            ("RUNNING", None)
        } else if self.scenario == Scenario::Degrade {
            (
                "FAILED",
                Some(format!("Session degraded: {DEGRADE_REASON}")),
            )
        } else if self.scenario == Scenario::Fail {
            ("FAILED", Some(FAIL_REASON.to_string()))
        } else {
            ("COMPLETED", None)
        }
    }
}

fn final_state(state: &str) -> bool {
    matches!(state, "COMPLETED" | "FAILED" | "CANCELED")
}

#[derive(Default)]
struct Inner {
    sessions: Vec<Session>,
    calcs: Vec<Calc>,
    next: u64,
}

impl Inner {
    fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// (state, reason) of session `s` at `now`.
    fn session_state(&self, s: &Session, now: Instant) -> (&'static str, Option<String>) {
        if let Some(t) = s.terminated {
            return if now < t + SESSION_STEP {
                ("TERMINATING", None)
            } else {
                (
                    "TERMINATED",
                    Some("Session was terminated by the user".into()),
                )
            };
        }
        if s.degraded.is_some_and(|t| t <= now) {
            return ("DEGRADED", Some(DEGRADE_REASON.into()));
        }
        let age = now.saturating_duration_since(s.started);
        if age < SESSION_STEP {
            return ("CREATING", None);
        }
        if age < SESSION_STEP * 2 {
            return ("CREATED", None);
        }
        let busy = self
            .calcs
            .iter()
            .any(|c| c.session == s.id && !final_state(c.state(now, None).0));
        if busy { ("BUSY", None) } else { ("IDLE", None) }
    }

    fn status_json(&self, s: &Session, now: Instant) -> Value {
        let (state, reason) = self.session_state(s, now);
        let mut status = json!({
            "StartDateTime": s.started_epoch,
            "LastModifiedDateTime": epoch(),
            "State": state,
        });
        if state == "IDLE" {
            status["IdleSinceDateTime"] = json!(s.started_epoch);
        }
        if state == "TERMINATED" {
            status["EndDateTime"] = json!(epoch());
        }
        if let Some(r) = reason {
            status["StateChangeReason"] = json!(r);
        }
        status
    }

    fn dpu_ms(&self, session: &str, now: Instant) -> i64 {
        self.calcs
            .iter()
            .filter(|c| c.session == session && final_state(c.state(now, None).0))
            .count() as i64
            * CALC_DPU_MS
    }
}

struct Shared {
    inner: Mutex<Inner>,
    /// moto, for calculation output.
    s3: Option<SocketAddr>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running fake; stops accepting connections when dropped.
pub struct FakeSpark {
    server: AwsJsonServer,
    shared: Arc<Shared>,
}

impl FakeSpark {
    /// A fake writing calculation output to moto at `s3_url` (its bucket created here); without
    /// one, calculations report no output files.
    pub fn start(s3_url: Option<&str>) -> Self {
        let s3 = s3_url.map(|u| {
            u.trim_start_matches("http://")
                .parse::<SocketAddr>()
                .unwrap_or_else(|e| panic!("moto URL {u}: {e}"))
        });
        if let Some(addr) = s3 {
            s3_request(addr, "PUT", &format!("/{BUCKET}"), b"", None);
        }
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            s3,
        });
        let handler_shared = Arc::clone(&shared);
        let server = AwsJsonServer::start(
            Service {
                name: "fake-athena-spark",
                target_prefix: "AmazonAthena",
                malformed_error: "InvalidRequestException",
            },
            move |op, body| handle(&handler_shared, op, body),
        );
        FakeSpark { server, shared }
    }

    /// `http://127.0.0.1:PORT`, for a connection's `endpoint_url`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn bodies(&self, op: &str) -> Vec<Value> {
        self.server.bodies(op)
    }

    pub fn count(&self, op: &str) -> usize {
        self.server.count(op)
    }

    pub fn ops(&self) -> Vec<String> {
        self.server.ops()
    }

    /// Waits until at least `n` `op` requests arrived; false after `timeout`.
    pub fn wait_for(&self, op: &str, n: usize, timeout: Duration) -> bool {
        self.server.wait_for(op, n, timeout)
    }

    /// Starts a session directly (as another client would), returning its id.
    pub fn start_session_directly(&self, description: &str) -> String {
        let reply = handle(
            &self.shared,
            "StartSession",
            &json!({
                "WorkGroup": SPARK_WG,
                "Description": description,
                "EngineConfiguration": {"MaxConcurrentDpus": WG_MAX_DPUS},
            }),
        );
        let body: Value = serde_json::from_str(&reply.body).expect("StartSession reply");
        body["SessionId"]
            .as_str()
            .expect("a session id")
            .to_string()
    }

    /// The current state of session `id`.
    pub fn session_state(&self, id: &str) -> Option<&'static str> {
        let inner = self.shared.lock();
        let s = inner.session(id)?;
        Some(inner.session_state(s, Instant::now()).0)
    }

    /// The current state of the calculations so far, oldest first.
    pub fn calc_states(&self) -> Vec<&'static str> {
        let inner = self.shared.lock();
        let now = Instant::now();
        inner
            .calcs
            .iter()
            .map(|c| {
                let ended = inner.session(&c.session).and_then(|s| s.terminated);
                c.state(now, ended).0
            })
            .collect()
    }
}

fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn invalid(message: &str) -> Reply {
    Reply::error("InvalidRequestException", message)
}

fn str_field<'a>(body: &'a Value, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or("")
}

fn handle(shared: &Shared, op: &str, body: &Value) -> Reply {
    let mut inner = shared.lock();
    let now = Instant::now();
    match op {
        "ListWorkGroups" => Reply::ok(json!({"WorkGroups": [
            {"Name": SQL_WG, "State": "ENABLED", "Description": "SQL",
             "EngineVersion": {"SelectedEngineVersion": "AUTO",
                               "EffectiveEngineVersion": "Athena engine version 3"}},
            {"Name": SPARK_WG, "State": "ENABLED", "Description": "Spark",
             "EngineVersion": {"SelectedEngineVersion": SPARK_ENGINE,
                               "EffectiveEngineVersion": SPARK_ENGINE}},
        ]})),
        "GetWorkGroup" => match workgroup(str_field(body, "WorkGroup")) {
            Some(wg) => Reply::ok(json!({"WorkGroup": wg})),
            None => invalid("WorkGroup is not found."),
        },
        "StartSession" => start_session(&mut inner, body, now),
        "GetSessionStatus" | "GetSession" | "GetSessionEndpoint" | "TerminateSession" => {
            let id = str_field(body, "SessionId").to_string();
            let Some(pos) = inner.sessions.iter().position(|s| s.id == id) else {
                return invalid(&format!("Session {id} not found"));
            };
            session_op(&mut inner, op, pos, now)
        }
        "ListSessions" => list_sessions(&inner, body, now),
        "GetResourceDashboard" => {
            let arn = str_field(body, "ResourceARN");
            let prefix = format!("arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{SPARK_WG}/session/");
            match arn.strip_prefix(&prefix).and_then(|id| inner.session(id)) {
                Some(s) => Reply::ok(
                    json!({"Url": format!("https://spark-ui.fake-athena.local/{}", s.id)}),
                ),
                None => Reply::error(
                    "ResourceNotFoundException",
                    &format!("no session with ARN {arn}"),
                ),
            }
        }
        "StartCalculationExecution" => start_calc(shared, &mut inner, body, now),
        "GetCalculationExecution" | "StopCalculationExecution" => {
            let id = str_field(body, "CalculationExecutionId").to_string();
            let Some(pos) = inner.calcs.iter().position(|c| c.id == id) else {
                return invalid(&format!("Calculation {id} not found"));
            };
            if op == "GetCalculationExecution" {
                Reply::ok(calc_json(&inner, &inner.calcs[pos], now))
            } else {
                stop_calc(&mut inner, pos, now)
            }
        }
        other => Reply::error(
            "UnknownOperationException",
            &format!("the Spark fake does not implement {other}"),
        ),
    }
}

fn workgroup(name: &str) -> Option<Value> {
    match name {
        SQL_WG => Some(json!({
            "Name": SQL_WG, "State": "ENABLED",
            "Configuration": {
                "EngineVersion": {"SelectedEngineVersion": "AUTO",
                                  "EffectiveEngineVersion": "Athena engine version 3"},
                "ResultConfiguration": {"OutputLocation": "s3://quarry-results/"},
            },
        })),
        SPARK_WG => Some(json!({
            "Name": SPARK_WG, "State": "ENABLED",
            "Configuration": {
                "EngineVersion": {"SelectedEngineVersion": SPARK_ENGINE,
                                  "EffectiveEngineVersion": SPARK_ENGINE},
                "ExecutionRole": format!("arn:aws:iam::{ACCOUNT}:role/quarry-spark"),
                "EngineConfiguration": {
                    "CoordinatorDpuSize": 1,
                    "MaxConcurrentDpus": WG_MAX_DPUS,
                    "DefaultExecutorDpuSize": 1,
                    "SparkProperties": {"spark.sql.shuffle.partitions": "8"},
                },
            },
        })),
        _ => None,
    }
}

fn start_session(inner: &mut Inner, body: &Value, now: Instant) -> Reply {
    let token = body.get("ClientRequestToken").and_then(Value::as_str);
    if let Some(t) = token
        && let Some(s) = inner
            .sessions
            .iter()
            .find(|s| s.token.as_deref() == Some(t))
    {
        let state = inner.session_state(s, now).0;
        return Reply::ok(json!({"SessionId": s.id, "State": state}));
    }
    let wg = str_field(body, "WorkGroup");
    if wg != SPARK_WG {
        return invalid(&format!(
            "WorkGroup {wg} is not found or does not use an Apache Spark engine"
        ));
    }
    let Some(engine) = body.get("EngineConfiguration").filter(|e| e.is_object()) else {
        return invalid("EngineConfiguration is required");
    };
    if engine
        .get("MaxConcurrentDpus")
        .and_then(Value::as_i64)
        .is_none()
    {
        return invalid("EngineConfiguration.MaxConcurrentDpus is required");
    }
    let mut engine = engine.clone();
    engine["SparkProperties"] = json!({"spark.sql.shuffle.partitions": "8"});
    inner.next += 1;
    let id = format!("5ac6{:04x}-0000-4000-8000-{:012x}", inner.next, inner.next);
    inner.sessions.push(Session {
        id: id.clone(),
        workgroup: wg.to_string(),
        token: token.map(str::to_string),
        description: body
            .get("Description")
            .and_then(Value::as_str)
            .map(str::to_string),
        engine,
        idle_minutes: body
            .get("SessionIdleTimeoutInMinutes")
            .and_then(Value::as_i64)
            .unwrap_or(15),
        started: now,
        started_epoch: epoch(),
        terminated: None,
        degraded: None,
    });
    Reply::ok(json!({"SessionId": id, "State": "CREATING"}))
}

fn session_op(inner: &mut Inner, op: &str, pos: usize, now: Instant) -> Reply {
    let s = &inner.sessions[pos];
    let (state, _) = inner.session_state(s, now);
    match op {
        "GetSessionStatus" => Reply::ok(json!({
            "SessionId": s.id,
            "Status": inner.status_json(s, now),
        })),
        "GetSession" => Reply::ok(json!({
            "SessionId": s.id,
            "Description": s.description,
            "WorkGroup": s.workgroup,
            "EngineVersion": SPARK_ENGINE,
            "EngineConfiguration": s.engine,
            "NotebookVersion": "Athena notebook version 1",
            "SessionConfiguration": {
                "ExecutionRole": format!("arn:aws:iam::{ACCOUNT}:role/quarry-spark"),
                "WorkingDirectory": format!("s3://{BUCKET}/sessions/{}/", s.id),
                "IdleTimeoutSeconds": s.idle_minutes * 60,
                "SessionIdleTimeoutInMinutes": s.idle_minutes,
                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
            },
            "MonitoringConfiguration": {
                "CloudWatchLoggingConfiguration": {
                    "Enabled": true,
                    "LogGroup": "/aws/athena/spark",
                    "LogStreamNamePrefix": "quarry",
                    "LogTypes": {"SPARK_DRIVER": ["STDOUT", "STDERR"]},
                },
                "S3LoggingConfiguration": {
                    "Enabled": true,
                    "LogLocation": format!("s3://{BUCKET}/logs/"),
                },
                "ManagedLoggingConfiguration": {"Enabled": false},
            },
            "Status": inner.status_json(s, now),
            "Statistics": {"DpuExecutionInMillis": inner.dpu_ms(&s.id, now)},
        })),
        "GetSessionEndpoint" => {
            if matches!(state, "TERMINATING" | "TERMINATED" | "FAILED") {
                return invalid("Session is not active");
            }
            Reply::ok(json!({
                "EndpointUrl": format!("https://{}.spark.fake-athena.local", s.id),
                "AuthToken": AUTH_TOKEN,
                "AuthTokenExpirationTime": epoch() + 3600.0,
            }))
        }
        _ => {
            // TerminateSession.
            if !matches!(state, "TERMINATING" | "TERMINATED") {
                inner.sessions[pos].terminated = Some(now);
            }
            let s = &inner.sessions[pos];
            Reply::ok(json!({"State": inner.session_state(s, now).0}))
        }
    }
}

fn list_sessions(inner: &Inner, body: &Value, now: Instant) -> Reply {
    let wg = str_field(body, "WorkGroup");
    let all: Vec<&Session> = inner
        .sessions
        .iter()
        .filter(|s| s.workgroup == wg)
        .collect();
    let start: usize = str_field(body, "NextToken").parse().unwrap_or(0);
    let limit = body
        .get("MaxResults")
        .and_then(Value::as_u64)
        .map_or(SESSIONS_PER_PAGE, |m| (m as usize).min(SESSIONS_PER_PAGE));
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|s| {
            json!({
                "SessionId": s.id,
                "Description": s.description,
                "EngineVersion": {"SelectedEngineVersion": SPARK_ENGINE,
                                  "EffectiveEngineVersion": SPARK_ENGINE},
                "NotebookVersion": "Athena notebook version 1",
                "Status": inner.status_json(s, now),
            })
        })
        .collect();
    let mut reply = json!({"Sessions": page});
    if start + limit < all.len() {
        reply["NextToken"] = json!((start + limit).to_string());
    }
    Reply::ok(reply)
}

fn start_calc(shared: &Shared, inner: &mut Inner, body: &Value, now: Instant) -> Reply {
    let token = body.get("ClientRequestToken").and_then(Value::as_str);
    if let Some(t) = token
        && let Some(c) = inner.calcs.iter().find(|c| c.token.as_deref() == Some(t))
    {
        return Reply::ok(json!({"CalculationExecutionId": c.id, "State": "CREATING"}));
    }
    let session = str_field(body, "SessionId").to_string();
    let Some(s) = inner.session(&session) else {
        return invalid(&format!("Session {session} not found"));
    };
    let state = inner.session_state(s, now).0;
    if state != "IDLE" {
        return invalid(&format!(
            "Session {session} is {state}: calculations can only be submitted to an IDLE session"
        ));
    }
    let code = str_field(body, "CodeBlock").to_string();
    let scenario = Scenario::from_code(&code);
    inner.next += 1;
    let id = format!("ca1c{:04x}-0000-4000-8000-{:012x}", inner.next, inner.next);
    let uris = shared
        .s3
        .map(|addr| write_output(addr, &session, &id, scenario, &code));
    if scenario == Scenario::Degrade
        && let Some(s) = inner.sessions.iter_mut().find(|s| s.id == session)
    {
        s.degraded = Some(now + CALC_DONE);
    }
    inner.calcs.push(Calc {
        id: id.clone(),
        session,
        scenario,
        started: now,
        started_epoch: epoch(),
        stopped: None,
        token: token.map(str::to_string),
        uris,
    });
    Reply::ok(json!({"CalculationExecutionId": id, "State": "CREATING"}))
}

fn calc_json(inner: &Inner, c: &Calc, now: Instant) -> Value {
    let ended = inner.session(&c.session).and_then(|s| s.terminated);
    let (state, reason) = c.state(now, ended);
    let mut status = json!({"SubmissionDateTime": c.started_epoch, "State": state});
    if let Some(r) = reason {
        status["StateChangeReason"] = json!(r);
    }
    if final_state(state) {
        status["CompletionDateTime"] = json!(epoch());
    }
    let (dpu, progress) = match state {
        "QUEUED" => (0, "queued"),
        "RUNNING" | "CANCELING" => (1_000, "Stage 1/2"),
        _ => (CALC_DPU_MS, "Stage 2/2"),
    };
    let mut out = json!({
        "CalculationExecutionId": c.id,
        "SessionId": c.session,
        "WorkingDirectory": format!("s3://{BUCKET}/sessions/{}/", c.session),
        "Status": status,
        "Statistics": {"DpuExecutionInMillis": dpu, "Progress": progress},
    });
    if matches!(state, "COMPLETED" | "FAILED")
        && let Some((stdout, stderr, result, kind)) = &c.uris
    {
        let mut result_json = json!({"StdOutS3Uri": stdout, "StdErrorS3Uri": stderr});
        if state == "COMPLETED" {
            if let Some(r) = result {
                result_json["ResultS3Uri"] = json!(r);
            }
            if let Some(k) = kind {
                result_json["ResultType"] = json!(k);
            }
        }
        out["Result"] = result_json;
    }
    out
}

fn stop_calc(inner: &mut Inner, pos: usize, now: Instant) -> Reply {
    let ended = {
        let c = &inner.calcs[pos];
        inner.session(&c.session).and_then(|s| s.terminated)
    };
    let c = &mut inner.calcs[pos];
    if c.scenario == Scenario::Stubborn {
        return invalid("the fake refuses to stop this calculation");
    }
    let (state, _) = c.state(now, ended);
    if !final_state(state) && c.stopped.is_none() {
        c.stopped = Some(now);
    }
    Reply::ok(json!({"State": c.state(now, ended).0}))
}

/// Writes the calculation's stdout, stderr and result to moto; returns their URIs and the
/// result's type.
fn write_output(
    addr: SocketAddr,
    session: &str,
    id: &str,
    scenario: Scenario,
    code: &str,
) -> (String, String, Option<String>, Option<&'static str>) {
    let dir = format!("calculations/{session}/{id}");
    let put = |name: &str, body: &str, kind: &str| {
        let key = format!("{dir}/{name}");
        s3_request(
            addr,
            "PUT",
            &format!("/{BUCKET}/{key}"),
            body.as_bytes(),
            Some(kind),
        );
        format!("s3://{BUCKET}/{key}")
    };
    let stdout_text = match scenario {
        Scenario::Print => print_literals(code),
        _ => String::new(),
    };
    let stderr_text = match scenario {
        Scenario::Fail => {
            let mut t = String::from("Traceback (most recent call last):\n");
            for i in 1..=44 {
                t.push_str(&format!("  at frame {i}\n"));
            }
            t.push_str(FAIL_REASON);
            t.push('\n');
            t
        }
        Scenario::Degrade => format!("ERROR {DEGRADE_REASON}\n"),
        Scenario::Display => DISPLAY_STDERR.to_string(),
        _ => String::new(),
    };
    let stdout = put("stdout.txt", &stdout_text, "text/plain");
    let stderr = put("stderr.txt", &stderr_text, "text/plain");
    let (result, kind) = match scenario {
        Scenario::Display => (
            Some(put("result.json", DISPLAY_JSON, "application/json")),
            Some("application/json"),
        ),
        Scenario::Table => (
            Some(put("result.json", TABLE_JSON, "application/json")),
            Some("application/vnd.dataresource+json"),
        ),
        Scenario::Big => {
            let lines: Vec<String> = (1..=BIG_ROWS)
                .map(|i| format!("{{\"i\":{i},\"label\":\"row-{i}\"}}"))
                .collect();
            (
                Some(put("result.jsonl", &lines.join("\n"), "application/json")),
                Some("application/json"),
            )
        }
        Scenario::Csv => {
            put("result/part-00000.csv", CSV_PART, "text/csv");
            put("result/_SUCCESS", "", "application/octet-stream");
            // A folder, named as one without the trailing slash.
            (
                Some(format!("s3://{BUCKET}/{dir}/result")),
                Some("text/csv"),
            )
        }
        _ => (None, None),
    };
    (stdout, stderr, result, kind)
}

/// The string literal of each `print("…")` / `print('…')`, one per line; `ok` when none.
fn print_literals(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("print(") {
        rest = &rest[at + "print(".len()..];
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let body = &rest[1..];
        if let Some(end) = body.find(quote) {
            out.push_str(&body[..end]);
            out.push('\n');
            rest = &body[end + 1..];
        }
    }
    if out.is_empty() {
        out.push_str("ok\n");
    }
    out
}

/// One request to moto's S3 (path-style; moto picks the service from the credential scope).
fn s3_request(addr: SocketAddr, method: &str, path: &str, body: &[u8], kind: Option<&str>) {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/s3/aws4_request, \
         SignedHeaders=host, Signature=x"
    );
    let mut headers = vec![("Authorization", auth.as_str())];
    if let Some(k) = kind {
        headers.push(("Content-Type", k));
    }
    let resp = http_request(addr, method, path, &headers, body)
        .unwrap_or_else(|e| panic!("S3 {method} {path} on moto failed: {e}"));
    assert!(
        (200..300).contains(&resp.status),
        "S3 {method} {path} on moto: {resp:?}"
    );
}
