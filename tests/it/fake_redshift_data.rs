//! A Redshift Data API test server: the real protocol (AWS JSON 1.1 over HTTP/1.1 with
//! keep-alive, operation in `X-Amz-Target: RedshiftData.<Operation>`, timestamps as epoch
//! seconds, errors as HTTP 400 `{"__type": "ValidationException", "message": …}`) in front of a
//! real PostgreSQL (`postgres::shared()`), which runs the SQL. It exists because moto's Redshift
//! Data replies do not parse in the Rust SDK, its statements never finish and its results are
//! canned; here the SQL really runs, fails, is cancelled and pages.
//!
//! What it models (as the service does; see the `redshift_data_server` self-tests):
//!
//! - one provisioned cluster [`CLUSTER`] and one serverless workgroup [`WORKGROUP`], each "holding"
//!   every database of the PostgreSQL server; target and authentication validation (cluster +
//!   `DbUser`, cluster alone = the caller's IAM identity [`IAM_USER`], cluster or workgroup +
//!   [`SECRET_ARN`] (user `secret_user`), workgroup alone). Every mode connects to PostgreSQL as
//!   its superuser; only the reported `DbUser` differs;
//! - `ExecuteStatement` (named `Parameters` substituted as quoted literals, idempotent
//!   `ClientToken`s), `BatchExecuteStatement` (one transaction, `<id>:N` sub-statements),
//!   `DescribeStatement`, `CancelStatement`, `GetStatementResult` (typed `Field`s, pages of
//!   [`ServerConfig::page_rows`], the 64 KB row limit);
//! - the status timeline: SUBMITTED for [`ServerConfig::step`], PICKED for another, STARTED
//!   while PostgreSQL runs it, then FINISHED / FAILED (`Error` = `ERROR: <PostgreSQL message>`)
//!   / ABORTED. Each statement runs on a thread of its own;
//! - sessions (`SessionKeepAliveSeconds`, `SessionId`): one PostgreSQL connection each, so temp
//!   tables and `SET` persist; busy sessions refuse a second statement
//!   (`ActiveStatementsExceededException`); idle sessions expire after their keep-alive;
//! - the catalog: `ListDatabases`, `ListSchemas`, `ListTables` (pages of
//!   [`ServerConfig::list_page`]), `DescribeTable`.
//!
//! Simplifications: `ListTables` without a `SchemaPattern` leaves out `pg_catalog` and
//! `information_schema` (name them in the pattern to list them); `ConnectedDatabase` is checked
//! to exist, but the catalog is read from `Database` (PostgreSQL cannot look across databases);
//! json/jsonb columns are reported as Redshift's `super`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use postgres::{Client, NoTls, SimpleQueryMessage};
use serde_json::{Value, json};

pub use crate::aws_json_server::Recorded;
use crate::aws_json_server::{AwsJsonServer, Reply, Service};
use crate::postgres::Postgres;

/// The one provisioned cluster.
pub const CLUSTER: &str = "quarry-cluster";
/// The one serverless workgroup.
pub const WORKGROUP: &str = "quarry-wg";
/// The one secret the fake knows (its user is [`SECRET_USER`]).
pub const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:quarry-AbCdEf";
/// `DbUser` derived from the caller's IAM identity (cluster or workgroup without `DbUser` or
/// `SecretArn`).
pub const IAM_USER: &str = "IAM:tester";
/// The database user stored in [`SECRET_ARN`].
pub const SECRET_USER: &str = "secret_user";
/// Longest session keep-alive the service accepts (24 h).
pub const MAX_KEEP_ALIVE_SECONDS: i64 = 86_400;
/// A row GetStatementResult can return holds at most this many bytes.
pub const ROW_LIMIT_BYTES: usize = 64 * 1024;
/// Most statements in one BatchExecuteStatement.
const MAX_BATCH: usize = 40;

/// How the fake behaves; `ServerConfig::default()` is close to the service.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Rows per GetStatementResult page.
    pub page_rows: usize,
    /// Items per ListDatabases / ListSchemas / ListTables page.
    pub list_page: usize,
    /// Time a statement spends in each of SUBMITTED and PICKED before it starts.
    pub step: Duration,
    /// How long `ExecuteStatement` takes to answer once the statement is accepted (a slow or
    /// distant service: the statement runs meanwhile, and its id is not known yet).
    pub start_delay: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            page_rows: 1000,
            list_page: 2,
            step: Duration::from_millis(50),
            start_delay: Duration::ZERO,
        }
    }
}

/// The running server; stops accepting connections, cancels running statements and closes its
/// sessions when dropped.
pub struct FakeRedshiftData {
    server: AwsJsonServer,
    state: Arc<State>,
}

impl FakeRedshiftData {
    /// A server with the default [`ServerConfig`].
    pub fn start(pg: &'static Postgres) -> Self {
        Self::start_with(pg, ServerConfig::default())
    }

    pub fn start_with(pg: &'static Postgres, config: ServerConfig) -> Self {
        let state = Arc::new(State {
            pg,
            config,
            inner: Mutex::new(Inner::default()),
            admin: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let handler_state = Arc::clone(&state);
        let server = AwsJsonServer::start(
            Service {
                name: "fake-redshift-data",
                target_prefix: "RedshiftData",
                malformed_error: "SerializationException",
            },
            move |op, body| handle(&handler_state, op, body),
        );
        let weak: Weak<State> = Arc::downgrade(&state);
        let _ = std::thread::Builder::new()
            .name("fake-redshift-data-sessions".to_string())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(20));
                    let Some(state) = weak.upgrade() else { return };
                    if state.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    state.lock().sweep_sessions();
                }
            });
        FakeRedshiftData { server, state }
    }

    /// `http://127.0.0.1:PORT`, for a connection's endpoint URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Every request (operation and parsed body), in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }

    /// The bodies of the requests for `op`, in arrival order.
    pub fn calls(&self, op: &str) -> Vec<Value> {
        self.server.bodies(op)
    }

    /// Every open session idles out now: its connection is closed (a session running a
    /// statement ends as soon as that statement is done).
    pub fn expire_sessions(&self) {
        let mut inner = self.state.lock();
        for session in inner.sessions.values_mut() {
            if session.closed.is_none() {
                if session.busy {
                    session.end_after = true;
                } else {
                    session.close("expired");
                }
            }
        }
    }

    /// Sessions currently open.
    pub fn session_count(&self) -> usize {
        let mut inner = self.state.lock();
        inner.sweep_sessions();
        inner
            .sessions
            .values()
            .filter(|s| s.closed.is_none())
            .count()
    }
}

impl Drop for FakeRedshiftData {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        *self.state.admin.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let tokens: Vec<postgres::CancelToken> = {
            let mut inner = self.state.lock();
            for session in inner.sessions.values_mut() {
                session.close("ended");
            }
            inner
                .statements
                .values_mut()
                .filter(|s| s.final_status.is_none())
                .filter_map(|s| {
                    s.cancel_requested = true;
                    s.cancel_token.clone()
                })
                .collect()
        };
        for token in tokens {
            let _ = token.cancel_query(NoTls);
        }
    }
}

// --- State ----------------------------------------------------------------------------------

struct State {
    pg: &'static Postgres,
    config: ServerConfig,
    inner: Mutex<Inner>,
    /// A connection to the `postgres` database for validation.
    admin: Mutex<Option<Client>>,
    stop: AtomicBool,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
struct Inner {
    statements: HashMap<String, Statement>,
    tokens: HashMap<String, Value>,
    sessions: HashMap<String, Session>,
    query_ids: i64,
}

impl Inner {
    /// Closes the idle sessions whose keep-alive ran out.
    fn sweep_sessions(&mut self) {
        let now = Instant::now();
        for session in self.sessions.values_mut() {
            if session.closed.is_none()
                && !session.busy
                && session.expires_at.is_some_and(|at| at <= now)
            {
                session.close("expired");
            }
        }
    }

    fn next_query_id(&mut self) -> i64 {
        self.query_ids += 1;
        self.query_ids
    }
}

/// Where a statement runs and as whom.
#[derive(Debug, Clone)]
struct Target {
    cluster: Option<String>,
    workgroup: Option<String>,
    database: String,
    db_user: String,
    secret_arn: Option<String>,
}

impl Target {
    /// The target members of a reply (`ClusterIdentifier` | `WorkgroupName`, `Database`,
    /// `DbUser`, `SecretArn`).
    fn put(&self, reply: &mut Value) {
        if let Some(c) = &self.cluster {
            reply["ClusterIdentifier"] = json!(c);
        }
        if let Some(w) = &self.workgroup {
            reply["WorkgroupName"] = json!(w);
        }
        reply["Database"] = json!(self.database);
        reply["DbUser"] = json!(self.db_user);
        if let Some(s) = &self.secret_arn {
            reply["SecretArn"] = json!(s);
        }
    }
}

struct Session {
    target: Target,
    /// The session's connection; `None` while a statement uses it (or before the first
    /// statement connected, or once closed).
    client: Option<Client>,
    busy: bool,
    keep_alive: u64,
    /// When an idle session expires.
    expires_at: Option<Instant>,
    /// End the session once the running statement is done.
    end_after: bool,
    /// Why it is closed (`expired`, `ended`), once it is.
    closed: Option<&'static str>,
}

impl Session {
    fn close(&mut self, why: &'static str) {
        self.client = None;
        self.closed = Some(why);
        self.busy = false;
    }
}

/// One SQL statement of a statement (a single ExecuteStatement has one).
struct Sub {
    sql: String,
    /// Set once it started (STARTED) and when it ended.
    status: Option<&'static str>,
    started: Option<Instant>,
    updated_at: Option<f64>,
    duration_ns: i64,
    error: Option<String>,
    result: Option<ResultSet>,
    rows: i64,
    size: i64,
    query_id: i64,
}

impl Sub {
    fn new(sql: String) -> Sub {
        Sub {
            sql,
            status: None,
            started: None,
            updated_at: None,
            duration_ns: -1,
            error: None,
            result: None,
            rows: -1,
            size: -1,
            query_id: 0,
        }
    }

    fn end(&mut self, status: &'static str, error: Option<String>) {
        self.status = Some(status);
        self.updated_at = Some(now());
        self.duration_ns = self
            .started
            .map_or(0, |s| s.elapsed().as_nanos().min(i64::MAX as u128) as i64);
        self.error = error;
    }
}

struct ResultSet {
    columns: Vec<Value>,
    rows: Vec<Vec<Value>>,
    row_bytes: Vec<usize>,
}

struct Statement {
    id: String,
    target: Target,
    session_id: Option<String>,
    parameters: Option<Value>,
    result_format: String,
    created: Instant,
    created_at: f64,
    batch: bool,
    subs: Vec<Sub>,
    started: Option<(Instant, f64)>,
    final_status: Option<&'static str>,
    ended_at: Option<f64>,
    /// Run time (STARTED to the end), once ended.
    duration_ns: i64,
    error: Option<String>,
    query_id: i64,
    pid: i64,
    cancel_requested: bool,
    cancel_token: Option<postgres::CancelToken>,
}

impl Statement {
    fn status(&self, step: Duration) -> &'static str {
        if let Some(s) = self.final_status {
            s
        } else if self.started.is_some() {
            "STARTED"
        } else if self.created.elapsed() < step {
            "SUBMITTED"
        } else {
            "PICKED"
        }
    }

    fn updated_at(&self, step: Duration) -> f64 {
        if let Some(at) = self.ended_at {
            at
        } else if let Some((_, at)) = self.started {
            at
        } else if self.created.elapsed() < step {
            self.created_at
        } else {
            self.created_at + step.as_secs_f64()
        }
    }

    fn query_string(&self) -> String {
        self.subs
            .iter()
            .map(|s| s.sql.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn sub_status(&self, sub: &Sub, step: Duration) -> &'static str {
        match sub.status {
            Some(s) => s,
            None if self.started.is_some() => "SUBMITTED",
            None => self.status(step),
        }
    }

    fn describe(&self, step: Duration) -> Value {
        let status = self.status(step);
        let done = self.final_status.is_some();
        let (rows, size, has_result) = if self.batch {
            let rows = self.subs.iter().map(|s| s.rows.max(0)).sum::<i64>();
            let size = self.subs.iter().map(|s| s.size.max(0)).sum::<i64>();
            (
                if done { rows } else { -1 },
                if done { size } else { -1 },
                self.subs.iter().any(|s| s.result.is_some()),
            )
        } else {
            let sub = &self.subs[0];
            (sub.rows, sub.size, sub.result.is_some())
        };
        let duration = if self.final_status.is_some() {
            self.duration_ns
        } else {
            -1
        };
        let mut reply = json!({
            "Id": self.id,
            "Status": status,
            "QueryString": self.query_string(),
            "CreatedAt": self.created_at,
            "UpdatedAt": self.updated_at(step),
            "Duration": duration,
            "ResultRows": rows,
            "ResultSize": size,
            "RedshiftQueryId": self.query_id,
            "RedshiftPid": self.pid,
            "HasResultSet": has_result,
            "ResultFormat": self.result_format,
        });
        self.target.put(&mut reply);
        if let Some(e) = &self.error {
            reply["Error"] = json!(e);
        }
        if let Some(s) = &self.session_id {
            reply["SessionId"] = json!(s);
        }
        if let Some(p) = &self.parameters {
            reply["QueryParameters"] = p.clone();
        }
        if self.batch {
            reply["SubStatements"] = Value::Array(
                self.subs
                    .iter()
                    .enumerate()
                    .map(|(i, sub)| self.describe_sub(i, sub, step))
                    .collect(),
            );
        }
        reply
    }

    /// A sub-statement as `SubStatementData`.
    fn describe_sub(&self, index: usize, sub: &Sub, step: Duration) -> Value {
        let mut reply = json!({
            "Id": format!("{}:{}", self.id, index + 1),
            "Status": self.sub_status(sub, step),
            "QueryString": sub.sql,
            "CreatedAt": self.created_at,
            "UpdatedAt": sub.updated_at.unwrap_or_else(|| self.updated_at(step)),
            "Duration": sub.duration_ns,
            "ResultRows": sub.rows,
            "ResultSize": sub.size,
            "RedshiftQueryId": sub.query_id,
            "HasResultSet": sub.result.is_some(),
        });
        if let Some(e) = &sub.error {
            reply["Error"] = json!(e);
        }
        reply
    }

    /// DescribeStatement of sub-statement `<id>:N`: the sub-statement with its parent's target.
    fn describe_sub_full(&self, index: usize, step: Duration) -> Value {
        let mut reply = self.describe_sub(index, &self.subs[index], step);
        self.target.put(&mut reply);
        reply["RedshiftPid"] = json!(self.pid);
        reply["ResultFormat"] = json!(self.result_format);
        if let Some(s) = &self.session_id {
            reply["SessionId"] = json!(s);
        }
        reply
    }
}

// --- Requests -------------------------------------------------------------------------------

type Outcome = Result<Value, Reply>;

fn validation(message: &str) -> Reply {
    Reply::error("ValidationException", message)
}

fn not_found(message: &str, resource: &str) -> Reply {
    Reply::error_with(
        400,
        "ResourceNotFoundException",
        json!({"message": message, "ResourceId": resource}),
    )
}

fn handle(state: &Arc<State>, op: &str, body: &Value) -> Reply {
    let outcome = match op {
        "ExecuteStatement" => {
            let accepted = execute(state, body, false);
            std::thread::sleep(state.config.start_delay);
            accepted
        }
        "BatchExecuteStatement" => execute(state, body, true),
        "DescribeStatement" => describe_statement(state, body),
        "GetStatementResult" => statement_result(state, body),
        "CancelStatement" => cancel_statement(state, body),
        "ListDatabases" => list_databases(state, body),
        "ListSchemas" => list_schemas(state, body),
        "ListTables" => list_tables(state, body),
        "DescribeTable" => describe_table(state, body),
        other => Err(validation(&format!("unsupported by the fake: {other}"))),
    };
    match outcome {
        Ok(value) => Reply::ok(value),
        Err(reply) => reply,
    }
}

fn opt_str<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn given(body: &Value, key: &str) -> bool {
    body.get(key).is_some_and(|v| !v.is_null())
}

/// Validates the target and authentication members (no `SessionId`) and returns the target.
fn resolve_target(state: &State, body: &Value) -> Result<Target, Reply> {
    let cluster = opt_str(body, "ClusterIdentifier").map(str::to_string);
    let workgroup = opt_str(body, "WorkgroupName").map(str::to_string);
    let db_user = opt_str(body, "DbUser").map(str::to_string);
    let secret = opt_str(body, "SecretArn").map(str::to_string);
    match (&cluster, &workgroup) {
        (Some(_), Some(_)) => {
            return Err(validation(
                "ClusterIdentifier and WorkgroupName cannot both be specified: give one of them.",
            ));
        }
        (None, None) => {
            return Err(validation(
                "Either ClusterIdentifier or WorkgroupName must be specified.",
            ));
        }
        (Some(c), None) if c != CLUSTER => {
            return Err(validation(&format!("Cluster {c} not found.")));
        }
        (None, Some(w)) if w != WORKGROUP => {
            return Err(validation(&format!("Workgroup {w} not found.")));
        }
        _ => {}
    }
    let Some(database) = opt_str(body, "Database").filter(|d| !d.is_empty()) else {
        return Err(validation("Database is required."));
    };
    if secret.is_some() && db_user.is_some() {
        return Err(validation(
            "SecretArn and DbUser cannot be specified together: the secret holds the user.",
        ));
    }
    if workgroup.is_some() && db_user.is_some() {
        return Err(validation(
            "DbUser is not supported with WorkgroupName: use SecretArn or the IAM identity.",
        ));
    }
    if let Some(arn) = &secret
        && arn != SECRET_ARN
    {
        return Err(not_found(
            "Secrets Manager can't find the specified secret.",
            arn,
        ));
    }
    let reported_user = match (&db_user, &secret) {
        (Some(u), _) => u.clone(),
        (None, Some(_)) => SECRET_USER.to_string(),
        (None, None) => IAM_USER.to_string(),
    };
    if let Some(other) = opt_str(body, "ConnectedDatabase") {
        check_database(state, other)?;
    }
    check_database(state, database)?;
    Ok(Target {
        cluster,
        workgroup,
        database: database.to_string(),
        db_user: reported_user,
        secret_arn: secret,
    })
}

/// `Err` (ValidationException) unless `database` exists on the PostgreSQL server.
fn check_database(state: &State, database: &str) -> Result<(), Reply> {
    let internal = |e: postgres::Error| Reply::error("InternalServerException", &pg_error(&e));
    // One connection for these checks, reopened if it broke.
    let mut admin = state.admin.lock().unwrap_or_else(|e| e.into_inner());
    if admin.as_ref().is_none_or(Client::is_closed) {
        *admin = Some(state.pg.try_client("postgres").map_err(internal)?);
    }
    let client = admin.as_mut().expect("connected above");
    let found = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
        .map_err(internal);
    if found.is_err() {
        *admin = None;
    }
    if found?.is_none() {
        return Err(validation(&format!("Database {database} does not exist.")));
    }
    Ok(())
}

/// ExecuteStatement (`batch` false) and BatchExecuteStatement.
fn execute(state: &Arc<State>, body: &Value, batch: bool) -> Outcome {
    let sqls: Vec<String> = if batch {
        let list: Vec<String> = body
            .get("Sqls")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if list.is_empty() || list.len() > MAX_BATCH {
            return Err(validation(&format!(
                "Sqls must hold 1 to {MAX_BATCH} SQL statements."
            )));
        }
        list
    } else {
        vec![opt_str(body, "Sql").unwrap_or_default().to_string()]
    };
    if sqls.iter().any(|s| s.trim().is_empty()) {
        return Err(validation("The SQL statement text cannot be empty."));
    }
    let parameters = body.get("Parameters").filter(|p| !p.is_null()).cloned();
    let sqls_to_run: Vec<String> = match &parameters {
        None => sqls.clone(),
        Some(params) => {
            let Some(list) = params.as_array().filter(|l| !l.is_empty()) else {
                return Err(validation("Parameters must hold at least one parameter."));
            };
            let mut pairs = Vec::new();
            for p in list {
                match (opt_str(p, "name"), opt_str(p, "value")) {
                    (Some(n), Some(v)) if !n.is_empty() => pairs.push((n, v)),
                    _ => {
                        return Err(validation(
                            "Each parameter needs a non-empty name and a value.",
                        ));
                    }
                }
            }
            let mut used = vec![false; pairs.len()];
            let mut out = Vec::new();
            for sql in &sqls {
                out.push(bind_parameters(sql, &pairs, &mut used).map_err(|m| validation(&m))?);
            }
            if let Some(i) = used.iter().position(|u| !u) {
                return Err(validation(&format!(
                    "Parameter {} is not used in the SQL statement.",
                    pairs[i].0
                )));
            }
            out
        }
    };
    let keep_alive = match body.get("SessionKeepAliveSeconds").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match v.as_i64() {
            Some(n) if (0..=MAX_KEEP_ALIVE_SECONDS).contains(&n) => Some(n as u64),
            _ => {
                return Err(validation(&format!(
                    "SessionKeepAliveSeconds must be between 0 and {MAX_KEEP_ALIVE_SECONDS}."
                )));
            }
        },
    };
    let session_id = opt_str(body, "SessionId").map(str::to_string);
    let target = match &session_id {
        Some(id) => {
            let conflicting: Vec<&str> = [
                "ClusterIdentifier",
                "WorkgroupName",
                "Database",
                "DbUser",
                "SecretArn",
            ]
            .into_iter()
            .filter(|k| given(body, k))
            .collect();
            if !conflicting.is_empty() {
                return Err(validation(&format!(
                    "SessionId cannot be specified together with {}: the session {id} already \
                     has its cluster or workgroup, database and user.",
                    conflicting.join(", ")
                )));
            }
            None
        }
        None => {
            if keep_alive == Some(0) {
                return Err(validation(
                    "SessionKeepAliveSeconds must be between 1 and 86400 to start a session.",
                ));
            }
            Some(resolve_target(state, body)?)
        }
    };

    let mut inner = state.lock();
    if let Some(token) = opt_str(body, "ClientToken")
        && let Some(reply) = inner.tokens.get(token)
    {
        // Idempotent: the same token runs nothing new.
        return Ok(reply.clone());
    }
    inner.sweep_sessions();
    let (target, session_id) = match (target, session_id) {
        (Some(target), None) => match keep_alive {
            Some(seconds) => {
                let id = uuid::Uuid::new_v4().to_string();
                inner.sessions.insert(
                    id.clone(),
                    Session {
                        target: target.clone(),
                        client: None,
                        busy: true,
                        keep_alive: seconds,
                        expires_at: None,
                        end_after: false,
                        closed: None,
                    },
                );
                (target, Some(id))
            }
            None => (target, None),
        },
        (_, Some(id)) => {
            let Some(session) = inner.sessions.get_mut(&id) else {
                return Err(validation(&format!(
                    "Session {id} is not available: no such session."
                )));
            };
            if let Some(why) = session.closed {
                return Err(validation(&format!(
                    "Session {id} is not available: it {why} (sessions end when idle for longer \
                     than their SessionKeepAliveSeconds)."
                )));
            }
            if session.busy {
                return Err(Reply::error(
                    "ActiveStatementsExceededException",
                    &format!(
                        "Session {id} is busy: another statement is running in it. Wait until \
                         it finishes."
                    ),
                ));
            }
            session.busy = true;
            session.expires_at = None;
            match keep_alive {
                Some(0) => session.end_after = true,
                Some(n) => session.keep_alive = n,
                None => {}
            }
            (session.target.clone(), Some(id))
        }
        (None, None) => unreachable!("a target or a session"),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let created_at = now();
    let mut reply = json!({"Id": id, "CreatedAt": created_at});
    target.put(&mut reply);
    if let Some(s) = &session_id {
        reply["SessionId"] = json!(s);
    }
    let query_id = inner.next_query_id();
    let subs = sqls.iter().map(|s| Sub::new(s.clone())).collect::<Vec<_>>();
    inner.statements.insert(
        id.clone(),
        Statement {
            id: id.clone(),
            target,
            session_id,
            parameters,
            result_format: opt_str(body, "ResultFormat").unwrap_or("JSON").to_string(),
            created: Instant::now(),
            created_at,
            batch,
            subs,
            started: None,
            final_status: None,
            ended_at: None,
            duration_ns: -1,
            error: None,
            query_id,
            pid: 0,
            cancel_requested: false,
            cancel_token: None,
        },
    );
    if let Some(token) = opt_str(body, "ClientToken") {
        inner.tokens.insert(token.to_string(), reply.clone());
    }
    drop(inner);
    let worker_state = Arc::clone(state);
    let worker_id = id.clone();
    let spawned = std::thread::Builder::new()
        .name("fake-redshift-data-stmt".to_string())
        .spawn(move || run_statement(&worker_state, &worker_id, sqls_to_run));
    if let Err(e) = spawned {
        return Err(Reply::error_with(
            500,
            if batch {
                "BatchExecuteStatementException"
            } else {
                "ExecuteStatementException"
            },
            json!({"message": format!("cannot start the statement: {e}"), "StatementId": id}),
        ));
    }
    Ok(reply)
}

/// Replaces each `:name` (outside quotes, comments and `::` casts) with its value as a quoted
/// literal; marks the parameters used.
fn bind_parameters(
    sql: &str,
    params: &[(&str, &str)],
    used: &mut [bool],
) -> Result<String, String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' => {
                // A quoted literal or identifier; a doubled quote stays inside.
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == c {
                        if chars.get(i + 1) == Some(&c) {
                            out.push(c);
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                out.push_str("/*");
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    out.push(chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    out.push_str("*/");
                    i += 2;
                }
            }
            ':' if chars.get(i + 1) == Some(&':') => {
                out.push_str("::");
                i += 2;
            }
            ':' if chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && ident(chars[end]) {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                let Some(index) = params.iter().position(|(n, _)| *n == name) else {
                    return Err(format!(
                        "No value specified for parameter {name}: add it to Parameters."
                    ));
                };
                used[index] = true;
                out.push('\'');
                out.push_str(&params[index].1.replace('\'', "''"));
                out.push('\'');
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Finds statement `id` or sub-statement `id:N` (index into `subs`).
fn find<'a>(inner: &'a Inner, id: &str) -> Result<(&'a Statement, Option<usize>), Reply> {
    let missing = || not_found("Query does not exist.", id);
    if let Some(s) = inner.statements.get(id) {
        return Ok((s, None));
    }
    let (parent, n) = id.rsplit_once(':').ok_or_else(missing)?;
    let n: usize = n.parse().map_err(|_| missing())?;
    let s = inner.statements.get(parent).ok_or_else(missing)?;
    if !s.batch || n == 0 || n > s.subs.len() {
        return Err(missing());
    }
    Ok((s, Some(n - 1)))
}

fn describe_statement(state: &State, body: &Value) -> Outcome {
    let id = opt_str(body, "Id").unwrap_or_default();
    let inner = state.lock();
    let step = state.config.step;
    match find(&inner, id)? {
        (s, None) => Ok(s.describe(step)),
        (s, Some(i)) => Ok(s.describe_sub_full(i, step)),
    }
}

fn cancel_statement(state: &State, body: &Value) -> Outcome {
    let id = opt_str(body, "Id").unwrap_or_default().to_string();
    let token = {
        let mut inner = state.lock();
        let step = state.config.step;
        let (statement, sub) = find(&inner, &id)?;
        if sub.is_some() {
            return Err(validation(
                "Cancel the batch by its own Id, not a sub-statement's.",
            ));
        }
        let status = statement.status(step);
        if statement.final_status.is_some() {
            return Err(validation(&format!(
                "Could not cancel a query that is already in {status} state with ID: {id}"
            )));
        }
        let statement = inner.statements.get_mut(&id).expect("found above");
        statement.cancel_requested = true;
        statement.cancel_token.clone()
    };
    // The statement's canceller thread repeats this until the statement ended (the query may
    // not have reached PostgreSQL yet); a statement not started yet never starts.
    if let Some(token) = token {
        let _ = token.cancel_query(NoTls);
    }
    Ok(json!({"Status": true}))
}

fn statement_result(state: &State, body: &Value) -> Outcome {
    let id = opt_str(body, "Id").unwrap_or_default();
    let inner = state.lock();
    let step = state.config.step;
    let (statement, index) = find(&inner, id)?;
    let sub = match index {
        Some(i) => &statement.subs[i],
        None if statement.batch => {
            return Err(validation(&format!(
                "Statement {id} is a batch: get the result of one of its sub-statements \
                 ({id}:1 to {id}:{}).",
                statement.subs.len()
            )));
        }
        None => &statement.subs[0],
    };
    let status = match index {
        Some(_) => statement.sub_status(sub, step),
        None => statement.status(step),
    };
    if status != "FINISHED" {
        if matches!(status, "SUBMITTED" | "PICKED" | "STARTED") {
            return Err(validation(&format!(
                "Query {id} is not finished: its status is {status}. Please check query status \
                 with DescribeStatement."
            )));
        }
        return Err(validation(
            "Query does not have result. Please check query status with DescribeStatement.",
        ));
    }
    let Some(result) = &sub.result else {
        return Err(validation(
            "Query does not have result. Please check query status with DescribeStatement.",
        ));
    };
    let offset = match opt_str(body, "NextToken") {
        None => 0,
        Some(token) => token
            .strip_prefix("rows-")
            .and_then(|o| o.parse::<usize>().ok())
            .filter(|o| *o <= result.rows.len())
            .ok_or_else(|| validation("NextToken is not valid for this statement."))?,
    };
    let end = (offset + state.config.page_rows.max(1)).min(result.rows.len());
    if let Some(bytes) = result.row_bytes[offset..end]
        .iter()
        .find(|b| **b > ROW_LIMIT_BYTES)
    {
        return Err(validation(&format!(
            "A row of the result exceeds the 64 KB row limit of GetStatementResult ({bytes} \
             bytes). Use UNLOAD to fetch it."
        )));
    }
    let mut reply = json!({
        "ColumnMetadata": result.columns,
        "Records": result.rows[offset..end],
        "TotalNumRows": result.rows.len(),
    });
    if end < result.rows.len() {
        reply["NextToken"] = json!(format!("rows-{end}"));
    }
    Ok(reply)
}

// --- Running statements ---------------------------------------------------------------------

/// What one SQL string returned.
struct Executed {
    result: Option<ResultSet>,
    rows: i64,
    size: i64,
}

/// How a statement ends.
enum End {
    /// FINISHED or FAILED (with the error).
    Done(&'static str, Option<String>),
    /// Cut short: FAILED with the error if given, else ABORTED; sub-statements not ended yet
    /// are ABORTED.
    Abort(Option<String>),
}

fn run_statement(state: &Arc<State>, id: &str, sqls: Vec<String>) {
    let (client, end) = run(state, id, &sqls);
    // The session is free again before the client can see the statement ended.
    release_session(state, id, client);
    match end {
        End::Done(status, error) => finish(state, id, status, error),
        End::Abort(error) => finish_aborted(state, id, error),
    }
}

/// Runs the statement; returns the connection (for the session) and how it ended.
fn run(state: &Arc<State>, id: &str, sqls: &[String]) -> (Option<Client>, End) {
    let step = state.config.step;
    // SUBMITTED, then PICKED.
    loop {
        let (created, cancelled) = {
            let inner = state.lock();
            let Some(s) = inner.statements.get(id) else {
                return (None, End::Abort(None));
            };
            (s.created, s.cancel_requested)
        };
        if cancelled {
            return (None, End::Abort(None));
        }
        let ready = created + step * 2;
        let now = Instant::now();
        if now >= ready {
            break;
        }
        std::thread::sleep((ready - now).min(Duration::from_millis(10)));
    }
    let (session_id, database, batch) = {
        let inner = state.lock();
        let Some(s) = inner.statements.get(id) else {
            return (None, End::Abort(None));
        };
        (s.session_id.clone(), s.target.database.clone(), s.batch)
    };
    // The session's connection, else a new one.
    let held = session_id.as_ref().and_then(|sid| {
        state
            .lock()
            .sessions
            .get_mut(sid)
            .and_then(|s| s.client.take())
    });
    let mut client = match held {
        Some(c) => c,
        None => match state.pg.try_client(&database) {
            Ok(c) => c,
            Err(e) => return (None, End::Done("FAILED", Some(pg_error(&e)))),
        },
    };
    let pid = client
        .simple_query("SELECT pg_backend_pid()")
        .ok()
        .and_then(|m| {
            m.into_iter().find_map(|m| match m {
                SimpleQueryMessage::Row(r) => r.get(0).and_then(|p| p.parse::<i64>().ok()),
                _ => None,
            })
        })
        .unwrap_or(0);
    {
        let mut inner = state.lock();
        let Some(s) = inner.statements.get_mut(id) else {
            return (Some(client), End::Abort(None));
        };
        s.started = Some((Instant::now(), now()));
        s.pid = pid;
        s.cancel_token = Some(client.cancel_token());
        if s.cancel_requested {
            return (Some(client), End::Abort(None));
        }
    }
    spawn_canceller(state, id);
    let end = if batch {
        run_batch(state, id, &mut client, sqls)
    } else {
        start_sub(state, id, 0);
        let outcome = execute_sql(&mut client, &sqls[0], false);
        match outcome {
            _ if is_cancelled(state, id) => End::Abort(None),
            Ok(done) => {
                end_sub(state, id, 0, "FINISHED", None, Some(done));
                End::Done("FINISHED", None)
            }
            Err(e) => {
                let message = pg_error(&e);
                end_sub(state, id, 0, "FAILED", Some(message.clone()), None);
                End::Done("FAILED", Some(message))
            }
        }
    };
    (Some(client), end)
}

/// BatchExecuteStatement: the statements in one transaction.
fn run_batch(state: &Arc<State>, id: &str, client: &mut Client, sqls: &[String]) -> End {
    if let Err(e) = client.batch_execute("BEGIN") {
        return End::Abort(Some(pg_error(&e)));
    }
    for (i, sql) in sqls.iter().enumerate() {
        start_sub(state, id, i);
        let outcome = execute_sql(client, sql, true);
        let cancelled = is_cancelled(state, id);
        match outcome {
            Ok(done) if !cancelled => end_sub(state, id, i, "FINISHED", None, Some(done)),
            other => {
                let _ = client.batch_execute("ROLLBACK");
                if cancelled {
                    return End::Abort(None);
                }
                let message = other.err().map(|e| pg_error(&e)).unwrap_or_default();
                end_sub(state, id, i, "FAILED", Some(message.clone()), None);
                return End::Abort(Some(message));
            }
        }
    }
    match client.batch_execute("COMMIT") {
        Ok(()) if !is_cancelled(state, id) => End::Done("FINISHED", None),
        Ok(()) => End::Abort(None),
        Err(e) => End::Abort(Some(pg_error(&e))),
    }
}

/// Keeps cancelling a statement whose cancel was requested until it ended (a cancel that
/// reaches PostgreSQL between two queries is lost).
fn spawn_canceller(state: &Arc<State>, id: &str) {
    let weak = Arc::downgrade(state);
    let id = id.to_string();
    let _ = std::thread::Builder::new()
        .name("fake-redshift-data-cancel".to_string())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(20));
                let Some(state) = weak.upgrade() else { return };
                let token = {
                    let inner = state.lock();
                    let Some(s) = inner.statements.get(&id) else {
                        return;
                    };
                    if s.final_status.is_some() {
                        return;
                    }
                    if !s.cancel_requested {
                        continue;
                    }
                    s.cancel_token.clone()
                };
                drop(state);
                if let Some(token) = token {
                    let _ = token.cancel_query(NoTls);
                }
                std::thread::sleep(Duration::from_millis(80));
            }
        });
}

fn is_cancelled(state: &State, id: &str) -> bool {
    state
        .lock()
        .statements
        .get(id)
        .is_some_and(|s| s.cancel_requested)
}

fn start_sub(state: &State, id: &str, index: usize) {
    let mut inner = state.lock();
    let query_id = inner.next_query_id();
    if let Some(sub) = inner
        .statements
        .get_mut(id)
        .and_then(|s| s.subs.get_mut(index))
    {
        sub.status = Some("STARTED");
        sub.started = Some(Instant::now());
        sub.updated_at = Some(now());
        sub.query_id = query_id;
    }
}

fn end_sub(
    state: &State,
    id: &str,
    index: usize,
    status: &'static str,
    error: Option<String>,
    done: Option<Executed>,
) {
    let mut inner = state.lock();
    if let Some(sub) = inner
        .statements
        .get_mut(id)
        .and_then(|s| s.subs.get_mut(index))
    {
        sub.end(status, error);
        if let Some(done) = done {
            sub.rows = done.rows;
            sub.size = done.size;
            sub.result = done.result;
        }
    }
}

/// Ends the statement with `status`.
fn finish(state: &State, id: &str, status: &'static str, error: Option<String>) {
    let mut inner = state.lock();
    if let Some(s) = inner.statements.get_mut(id) {
        s.final_status = Some(status);
        s.ended_at = Some(now());
        s.duration_ns = s.started.map_or(0, |(start, _)| {
            start.elapsed().as_nanos().min(i64::MAX as u128) as i64
        });
        s.error = error;
        s.cancel_token = None;
    }
}

/// Ends a statement whose run was cut short: FAILED with `error` if given, else ABORTED; every
/// sub-statement not ended yet is ABORTED.
fn finish_aborted(state: &State, id: &str, error: Option<String>) {
    {
        let mut inner = state.lock();
        if let Some(s) = inner.statements.get_mut(id) {
            for sub in &mut s.subs {
                if !matches!(sub.status, Some("FINISHED" | "FAILED" | "ABORTED")) {
                    sub.end("ABORTED", None);
                }
            }
        }
    }
    match error {
        Some(e) => finish(state, id, "FAILED", Some(e)),
        None => finish(state, id, "ABORTED", None),
    }
}

/// Gives the session its connection back (or closes it); drops a non-session connection.
fn release_session(state: &State, id: &str, client: Option<Client>) {
    let mut inner = state.lock();
    let Some(session_id) = inner.statements.get(id).and_then(|s| s.session_id.clone()) else {
        return;
    };
    let Some(session) = inner.sessions.get_mut(&session_id) else {
        return;
    };
    if session.closed.is_some() {
        return;
    }
    session.busy = false;
    match client {
        Some(c) if !c.is_closed() && !session.end_after && !state.stop.load(Ordering::SeqCst) => {
            session.client = Some(c);
            session.expires_at = Some(Instant::now() + Duration::from_secs(session.keep_alive));
        }
        _ => session.close(if session.end_after {
            "ended"
        } else {
            "expired"
        }),
    }
}

/// Runs one SQL string and collects its result (the last row-returning statement's rows).
fn execute_sql(
    client: &mut Client,
    sql: &str,
    in_transaction: bool,
) -> Result<Executed, postgres::Error> {
    let messages = client.simple_query(sql)?;
    let mut names: Option<Vec<String>> = None;
    let mut rows: Vec<Vec<Option<String>>> = Vec::new();
    let mut count = 0_i64;
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(columns) => {
                names = Some(columns.iter().map(|c| c.name().to_string()).collect());
                rows.clear();
            }
            SimpleQueryMessage::Row(row) => {
                rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                );
            }
            SimpleQueryMessage::CommandComplete(n) => count = n as i64,
            _ => {}
        }
    }
    let Some(names) = names else {
        return Ok(Executed {
            result: None,
            rows: count,
            size: 0,
        });
    };
    let described = describe_columns(client, sql, in_transaction);
    let columns: Vec<ColumnType> = match described {
        Some(cols) if cols.len() == names.len() => cols,
        _ => names
            .iter()
            .map(|n| ColumnType {
                name: n.clone(),
                type_name: "varchar".to_string(),
                typmod: -1,
                table: None,
                not_null: false,
            })
            .collect(),
    };
    let mut size = 0_i64;
    let mut records = Vec::with_capacity(rows.len());
    let mut row_bytes = Vec::with_capacity(rows.len());
    for row in &rows {
        let bytes: usize = row.iter().flatten().map(String::len).sum();
        size += bytes as i64;
        row_bytes.push(bytes);
        records.push(
            row.iter()
                .zip(&columns)
                .map(|(v, c)| field(&c.type_name, v.as_deref()))
                .collect(),
        );
    }
    let metadata = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let max_scale = rows
                .iter()
                .filter_map(|r| r[i].as_deref())
                .map(|v| v.split_once('.').map_or(0, |(_, f)| f.len()))
                .max()
                .unwrap_or(0);
            let max_digits = rows
                .iter()
                .filter_map(|r| r[i].as_deref())
                .map(|v| v.chars().filter(char::is_ascii_digit).count())
                .max()
                .unwrap_or(0);
            column_metadata(c, max_digits, max_scale)
        })
        .collect();
    Ok(Executed {
        rows: rows.len() as i64,
        result: Some(ResultSet {
            columns: metadata,
            rows: records,
            row_bytes,
        }),
        size,
    })
}

/// A result column's type, as PostgreSQL describes it.
struct ColumnType {
    name: String,
    type_name: String,
    typmod: i32,
    /// (schema, table) of a table column.
    table: Option<(String, String)>,
    not_null: bool,
}

/// The result columns' types (`prepare` of the statement, plus the catalog for table
/// columns); `None` when it cannot be described (several statements, …).
fn describe_columns(
    client: &mut Client,
    sql: &str,
    in_transaction: bool,
) -> Option<Vec<ColumnType>> {
    // In a transaction a failed prepare would abort it: fence it with a savepoint.
    if in_transaction {
        client
            .batch_execute("SAVEPOINT quarry_fake_describe")
            .ok()?;
    }
    let prepared = client.prepare(sql);
    if in_transaction {
        let undo = if prepared.is_ok() {
            "RELEASE SAVEPOINT quarry_fake_describe"
        } else {
            "ROLLBACK TO SAVEPOINT quarry_fake_describe; RELEASE SAVEPOINT quarry_fake_describe"
        };
        client.batch_execute(undo).ok()?;
    }
    let statement = prepared.ok()?;
    let oids: Vec<u32> = statement
        .columns()
        .iter()
        .filter_map(|c| c.table_oid())
        .filter(|o| *o != 0)
        .collect();
    // (table oid, column number) → (schema, table, not null).
    let mut tables: HashMap<(u32, i16), (String, String, bool)> = HashMap::new();
    if !oids.is_empty() {
        let rows = client
            .query(
                "SELECT c.oid, a.attnum, n.nspname::text, c.relname::text, a.attnotnull \
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE a.attrelid = ANY($1) AND a.attnum > 0",
                &[&oids],
            )
            .unwrap_or_default();
        for row in rows {
            tables.insert(
                (row.get(0), row.get(1)),
                (row.get(2), row.get(3), row.get(4)),
            );
        }
    }
    Some(
        statement
            .columns()
            .iter()
            .map(|c| {
                let known = c
                    .table_oid()
                    .zip(c.column_id())
                    .and_then(|key| tables.get(&key));
                ColumnType {
                    name: c.name().to_string(),
                    type_name: c.type_().name().to_string(),
                    typmod: c.type_modifier(),
                    table: known.map(|(s, t, _)| (s.clone(), t.clone())),
                    not_null: known.is_some_and(|(_, _, n)| *n),
                }
            })
            .collect(),
    )
}

/// Redshift's name for a PostgreSQL type.
fn reported_type(type_name: &str) -> &str {
    match type_name {
        "json" | "jsonb" => "super",
        other => other,
    }
}

/// `ColumnMetadata` of a column (`max_digits` / `max_scale`: seen in numeric values, for a
/// numeric without a declared precision).
fn column_metadata(c: &ColumnType, max_digits: usize, max_scale: usize) -> Value {
    let (precision, scale, length) = type_size(&c.type_name, c.typmod, max_digits, max_scale);
    let (schema, table) = c.table.clone().unwrap_or_default();
    json!({
        "name": c.name,
        "label": c.name,
        "typeName": reported_type(&c.type_name),
        "length": length,
        "precision": precision,
        "scale": scale,
        "nullable": if c.not_null { 0 } else { 1 },
        "isSigned": is_signed(&c.type_name),
        "isCaseSensitive": is_text(&c.type_name),
        "isCurrency": c.type_name == "money",
        "schemaName": schema,
        "tableName": table,
    })
}

/// (precision, scale, length) of a type with modifier `typmod` (-1: none).
fn type_size(type_name: &str, typmod: i32, max_digits: usize, max_scale: usize) -> (i64, i64, i64) {
    match type_name {
        "int2" => (5, 0, 0),
        "int4" => (10, 0, 0),
        "int8" => (19, 0, 0),
        "float4" => (8, 8, 0),
        "float8" => (17, 17, 0),
        "bool" => (1, 0, 0),
        "date" => (13, 0, 0),
        "time" => (15, 6, 0),
        "timestamp" => (29, 6, 0),
        "timestamptz" => (35, 6, 0),
        "numeric" if typmod >= 4 => {
            let m = i64::from(typmod - 4);
            ((m >> 16) & 0xffff, m & 0xffff, 0)
        }
        "numeric" => (max_digits.max(1) as i64, max_scale as i64, 0),
        "varchar" | "bpchar" if typmod >= 4 => {
            let n = i64::from(typmod - 4);
            (n, 0, n)
        }
        _ => (0, 0, 0),
    }
}

fn is_signed(type_name: &str) -> bool {
    matches!(
        type_name,
        "int2" | "int4" | "int8" | "float4" | "float8" | "numeric" | "money"
    )
}

fn is_text(type_name: &str) -> bool {
    matches!(type_name, "varchar" | "bpchar" | "text" | "name" | "char")
}

/// A `Field` for a value in PostgreSQL's text form.
fn field(type_name: &str, value: Option<&str>) -> Value {
    let Some(v) = value else {
        return json!({"isNull": true});
    };
    match type_name {
        "int2" | "int4" | "int8" => match v.parse::<i64>() {
            Ok(n) => json!({"longValue": n}),
            Err(_) => json!({"stringValue": v}),
        },
        "float4" | "float8" => match v.parse::<f64>() {
            Ok(n) if n.is_finite() => json!({"doubleValue": n}),
            _ => json!({"stringValue": v}),
        },
        "bool" => json!({"booleanValue": v == "t"}),
        "bytea" => match v.strip_prefix("\\x").and_then(decode_hex) {
            Some(bytes) => {
                json!({"blobValue": base64::engine::general_purpose::STANDARD.encode(bytes)})
            }
            None => json!({"stringValue": v}),
        },
        _ => json!({"stringValue": v}),
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `ERROR: <message>` for a database error, the error's text else.
fn pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

// --- Catalog --------------------------------------------------------------------------------

/// One page of `items` under `key`: `MaxResults` (capped by `limit`), `NextToken` (an offset).
fn paged(body: &Value, items: Vec<Value>, limit: usize, key: &str) -> Outcome {
    let size = match body.get("MaxResults").and_then(Value::as_i64) {
        None | Some(0) => limit,
        Some(n) if n > 0 => (n as usize).min(limit),
        Some(_) => return Err(validation("MaxResults must not be negative.")),
    };
    let offset = match opt_str(body, "NextToken") {
        None => 0,
        Some(token) => token
            .strip_prefix("page-")
            .and_then(|o| o.parse::<usize>().ok())
            .filter(|o| *o <= items.len())
            .ok_or_else(|| validation("NextToken is not valid."))?,
    };
    let end = (offset + size.max(1)).min(items.len());
    let mut reply = json!({ key: items[offset..end] });
    if end < items.len() {
        reply["NextToken"] = json!(format!("page-{end}"));
    }
    Ok(reply)
}

/// Runs a catalog query on `database`.
fn catalog_query(
    state: &State,
    database: &str,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<postgres::Row>, Reply> {
    let internal = |e: postgres::Error| Reply::error("DatabaseConnectionException", &pg_error(&e));
    let mut client = state.pg.try_client(database).map_err(internal)?;
    client.query(sql, params).map_err(internal)
}

fn list_databases(state: &State, body: &Value) -> Outcome {
    let target = resolve_target(state, body)?;
    let rows = catalog_query(
        state,
        &target.database,
        "SELECT datname::text FROM pg_database WHERE NOT datistemplate ORDER BY datname",
        &[],
    )?;
    let names = rows.iter().map(|r| json!(r.get::<_, String>(0))).collect();
    paged(body, names, state.config.list_page, "Databases")
}

fn list_schemas(state: &State, body: &Value) -> Outcome {
    let target = resolve_target(state, body)?;
    let pattern = opt_str(body, "SchemaPattern").unwrap_or("%");
    let rows = catalog_query(
        state,
        &target.database,
        "SELECT nspname::text FROM pg_namespace \
         WHERE nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%' \
         AND nspname LIKE $1 ORDER BY nspname",
        &[&pattern],
    )?;
    let names = rows.iter().map(|r| json!(r.get::<_, String>(0))).collect();
    paged(body, names, state.config.list_page, "Schemas")
}

fn list_tables(state: &State, body: &Value) -> Outcome {
    let target = resolve_target(state, body)?;
    let schema_pattern = opt_str(body, "SchemaPattern");
    let table_pattern = opt_str(body, "TablePattern").unwrap_or("%");
    let rows = catalog_query(
        state,
        &target.database,
        "SELECT c.relname::text, n.nspname::text, c.relkind::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') \
         AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' \
         AND ($1::text IS NOT NULL OR n.nspname NOT IN ('pg_catalog', 'information_schema')) \
         AND n.nspname LIKE coalesce($1::text, '%') AND c.relname LIKE $2 \
         ORDER BY n.nspname, c.relname",
        &[&schema_pattern, &table_pattern],
    )?;
    let tables = rows
        .iter()
        .map(|r| {
            let kind: String = r.get(2);
            json!({
                "name": r.get::<_, String>(0),
                "schema": r.get::<_, String>(1),
                "type": if kind == "v" || kind == "m" { "VIEW" } else { "TABLE" },
            })
        })
        .collect();
    paged(body, tables, state.config.list_page, "Tables")
}

fn describe_table(state: &State, body: &Value) -> Outcome {
    let target = resolve_target(state, body)?;
    let schema = opt_str(body, "Schema");
    let table = opt_str(body, "Table");
    let rows = catalog_query(
        state,
        &target.database,
        "SELECT a.attname::text, t.typname::text, a.atttypmod, a.attnotnull, \
         pg_get_expr(d.adbin, d.adrelid), n.nspname::text, c.relname::text \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
         AND n.nspname = coalesce($1::text, n.nspname) AND c.relname = coalesce($2::text, c.relname) \
         AND ($1::text IS NOT NULL OR n.nspname NOT IN ('pg_catalog', 'information_schema')) \
         AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' \
         ORDER BY n.nspname, c.relname, a.attnum",
        &[&schema, &table],
    )?;
    let columns: Vec<Value> = rows
        .iter()
        .map(|r| {
            let column = ColumnType {
                name: r.get(0),
                type_name: r.get(1),
                typmod: r.get(2),
                table: Some((r.get(5), r.get(6))),
                not_null: r.get(3),
            };
            let mut meta = column_metadata(&column, 0, 0);
            if let Some(default) = r.get::<_, Option<String>>(4) {
                meta["columnDefault"] = json!(default);
            }
            meta
        })
        .collect();
    let size = match body.get("MaxResults").and_then(Value::as_i64) {
        Some(n) if n > 0 => n as usize,
        _ => columns.len().max(1),
    };
    let mut reply = paged(body, columns, size, "ColumnList")?;
    reply["TableName"] = json!(table.unwrap_or_default());
    Ok(reply)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or(1.7e9)
}
