//! An in-process fake of Amazon Athena speaking its real protocol (AWS JSON 1.1 over HTTP/1.1
//! with keep-alive, operation in `X-Amz-Target: AmazonAthena.<Operation>`), for the behaviours
//! the suite's real peer, moto, lacks:
//!
//! - paging of query results (moto returns every row in one page, ignoring `MaxResults` and
//!   `NextToken`, and never adds the header row a SELECT's first page starts with);
//! - queries that end FAILED (with `StateChangeReason` and `AthenaError`) or stay RUNNING until
//!   `StopQueryExecution`, DML update counts, `SubstatementType`, non-zero statistics;
//! - throttling (`TooManyRequestsException`) of `StartQueryExecution`, idempotent
//!   `ClientRequestToken`s;
//! - table metadata (`ListTableMetadata`, paginated, and `GetTableMetadata`);
//! - `BatchGetQueryExecution` and `BatchGetNamedQuery`, workgroup engine versions.
//!
//! Everything is tested against moto where moto can (see `athena.rs`); this fake exists only for
//! the list above. It records every request (operation and parsed JSON body) so tests can assert
//! what the client sent.
//!
//! Behaviour of a query is chosen by its SQL text (case-insensitive substring, first match):
//! `fail` → FAILED; `slow` → RUNNING until stopped, then CANCELLED (`stubborn`: the same, but
//! StopQueryExecution is refused); `big` → a 25,000-row result
//! with eight column types; `insert` → DML with an update count of 3; `create` → DDL, no rows;
//! anything else → two rows `(1, 'a'), (2, NULL)` of `id integer, name varchar`. A query reports
//! QUEUED on its first GetQueryExecution, RUNNING on the second, its final state from the third.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

pub use crate::aws_json_server::Recorded;
use crate::aws_json_server::{AwsJsonServer, Reply, Service};

/// Rows of the `big` result.
pub const BIG_ROWS: usize = 25_000;
/// Rows a `insert` statement reports as changed.
pub const INSERT_UPDATE_COUNT: i64 = 3;
/// `StateChangeReason` of a `fail` query.
pub const FAIL_REASON: &str = "SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved";
/// `AthenaError.ErrorMessage` of a `fail` query.
pub const FAIL_MESSAGE: &str = "Column 'nope' cannot be resolved";
/// Tables per ListTableMetadata page (small, to exercise pagination).
const TABLES_PER_PAGE: usize = 2;

/// When StartQueryExecution answers TooManyRequestsException.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Throttle {
    #[default]
    Never,
    /// The first N calls are throttled, later ones succeed.
    First(usize),
    Always,
}

/// A saved query the fake lists under its workgroup.
#[derive(Debug, Clone)]
pub struct NamedQuery {
    pub name: String,
    pub workgroup: String,
    pub database: String,
    pub sql: String,
}

/// How the fake behaves; `FakeConfig::default()` is a well-behaved Athena.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub throttle_starts: Throttle,
    /// `Statistics.DataScannedInBytes` of every query.
    pub data_scanned_bytes: i64,
    pub named_queries: Vec<NamedQuery>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            throttle_starts: Throttle::Never,
            data_scanned_bytes: 123_456_789,
            named_queries: Vec::new(),
        }
    }
}

impl FakeConfig {
    pub fn throttle(mut self, throttle: Throttle) -> Self {
        self.throttle_starts = throttle;
        self
    }
    pub fn data_scanned(mut self, bytes: i64) -> Self {
        self.data_scanned_bytes = bytes;
        self
    }
    pub fn named_query(mut self, name: &str, workgroup: &str, sql: &str) -> Self {
        self.named_queries.push(NamedQuery {
            name: name.to_string(),
            workgroup: workgroup.to_string(),
            database: "sales".to_string(),
            sql: sql.to_string(),
        });
        self
    }
}

/// What a query does, from its SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Small,
    Big,
    Fail,
    Slow,
    Insert,
    Create,
}

impl Scenario {
    pub fn from_sql(sql: &str) -> Self {
        let sql = sql.to_ascii_lowercase();
        if sql.contains("fail") {
            Scenario::Fail
        } else if sql.contains("slow") || sql.contains("stubborn") {
            Scenario::Slow
        } else if sql.contains("big") {
            Scenario::Big
        } else if sql.contains("insert") {
            Scenario::Insert
        } else if sql.contains("create") {
            Scenario::Create
        } else {
            Scenario::Small
        }
    }

    /// (StatementType, SubstatementType).
    fn statement_type(self) -> (&'static str, &'static str) {
        match self {
            Scenario::Insert => ("DML", "INSERT"),
            Scenario::Create => ("DDL", "CREATE_TABLE"),
            _ => ("DML", "SELECT"),
        }
    }

    fn final_state(self) -> State {
        match self {
            Scenario::Fail => State::Failed,
            Scenario::Slow => State::Running,
            _ => State::Succeeded,
        }
    }

    /// (name, Athena type, precision, scale, case sensitive).
    fn columns(self) -> Vec<(&'static str, &'static str, i64, i64, bool)> {
        match self {
            Scenario::Big => vec![
                ("id", "integer", 10, 0, false),
                ("name", "varchar", 2_147_483_647, 0, true),
                ("amount", "decimal", 10, 2, false),
                ("flag", "boolean", 0, 0, false),
                ("day", "date", 0, 0, false),
                ("ts", "timestamp", 3, 0, false),
                ("score", "double", 17, 0, false),
                ("tags", "array", 0, 0, false),
            ],
            Scenario::Small | Scenario::Slow => vec![
                ("id", "integer", 10, 0, false),
                ("name", "varchar", 2_147_483_647, 0, true),
            ],
            Scenario::Fail | Scenario::Insert | Scenario::Create => Vec::new(),
        }
    }

    fn data_len(self) -> usize {
        match self {
            Scenario::Big => BIG_ROWS,
            Scenario::Small | Scenario::Slow => 2,
            Scenario::Fail | Scenario::Insert | Scenario::Create => 0,
        }
    }

    /// Whether the first result row is the header (a SELECT's result, as Athena does it).
    fn has_header(self) -> bool {
        !self.columns().is_empty()
    }

    /// Data row `i` (1-based).
    fn data_row(self, i: usize) -> Vec<Option<String>> {
        match self {
            Scenario::Big => vec![
                Some(i.to_string()),
                (!i.is_multiple_of(10)).then(|| format!("row-{i}")),
                Some(format!("{i}.25")),
                Some(i.is_multiple_of(2).to_string()),
                Some("2024-01-02".to_string()),
                Some("2024-01-02 03:04:05.123".to_string()),
                Some(format!("{i}.5")),
                Some("[a, b]".to_string()),
            ],
            _ => match i {
                1 => vec![Some("1".to_string()), Some("a".to_string())],
                _ => vec![Some("2".to_string()), None],
            },
        }
    }

    fn update_count(self) -> i64 {
        match self {
            Scenario::Insert => INSERT_UPDATE_COUNT,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "QUEUED",
            State::Running => "RUNNING",
            State::Succeeded => "SUCCEEDED",
            State::Failed => "FAILED",
            State::Cancelled => "CANCELLED",
        }
    }
    fn terminal(self) -> bool {
        matches!(self, State::Succeeded | State::Failed | State::Cancelled)
    }
}

struct Execution {
    id: String,
    sql: String,
    scenario: Scenario,
    workgroup: String,
    context: Value,
    output_location: String,
    parameters: Option<Value>,
    /// GetQueryExecution calls so far (drives QUEUED → RUNNING → final).
    polls: u32,
    cancelled: bool,
    submitted: f64,
    completed: Option<f64>,
}

impl Execution {
    fn state(&self) -> State {
        if self.cancelled {
            // Only set while the query was still queued or running.
            return State::Cancelled;
        }
        match self.polls {
            0 | 1 => State::Queued,
            2 => State::Running,
            _ => self.scenario.final_state(),
        }
    }

    fn to_json(&self, data_scanned: i64) -> Value {
        let state = self.state();
        let (statement, substatement) = self.scenario.statement_type();
        let mut status = json!({
            "State": state.name(),
            "SubmissionDateTime": self.submitted,
        });
        if let Some(done) = self.completed {
            status["CompletionDateTime"] = json!(done);
        }
        match state {
            State::Failed => {
                status["StateChangeReason"] = json!(FAIL_REASON);
                status["AthenaError"] = json!({
                    "ErrorCategory": 2,
                    "ErrorType": 1001,
                    "Retryable": false,
                    "ErrorMessage": FAIL_MESSAGE,
                });
            }
            State::Cancelled => status["StateChangeReason"] = json!("Query cancelled by user"),
            _ => {}
        }
        let mut exec = json!({
            "QueryExecutionId": self.id,
            "Query": self.sql,
            "StatementType": statement,
            "SubstatementType": substatement,
            "WorkGroup": self.workgroup,
            "QueryExecutionContext": self.context,
            "ResultConfiguration": {"OutputLocation": self.output_location},
            "EngineVersion": {
                "SelectedEngineVersion": "AUTO",
                "EffectiveEngineVersion": "Athena engine version 3",
            },
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": 850,
                "DataScannedInBytes": data_scanned,
                "TotalExecutionTimeInMillis": 900,
                "QueryQueueTimeInMillis": 12,
                "QueryPlanningTimeInMillis": 40,
                "ServicePreProcessingTimeInMillis": 5,
                "ServiceProcessingTimeInMillis": 20,
                "ResultReuseInformation": {"ReusedPreviousResult": false},
                "DpuCount": 4.0,
            },
        });
        if let Some(params) = &self.parameters {
            exec["ExecutionParameters"] = params.clone();
        }
        exec
    }
}

#[derive(Default)]
struct Inner {
    /// In start order.
    executions: Vec<Execution>,
    tokens: HashMap<String, String>,
    starts: usize,
}

struct Shared {
    config: FakeConfig,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running fake; stops accepting connections when dropped.
pub struct FakeAthena {
    server: AwsJsonServer,
    shared: Arc<Shared>,
}

impl FakeAthena {
    /// A well-behaved fake.
    pub fn start() -> Self {
        Self::start_with(FakeConfig::default())
    }

    pub fn start_with(config: FakeConfig) -> Self {
        let shared = Arc::new(Shared {
            config,
            inner: Mutex::new(Inner::default()),
        });
        let handler_shared = Arc::clone(&shared);
        let server = AwsJsonServer::start(
            Service {
                name: "fake-athena",
                target_prefix: "AmazonAthena",
                malformed_error: "InvalidRequestException",
            },
            move |op, body| handle(&handler_shared, op, body),
        );
        FakeAthena { server, shared }
    }

    /// `http://127.0.0.1:PORT`, for a connection's `endpoint_url`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Every request so far (operation and parsed body), in arrival order.
    #[allow(dead_code)]
    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }

    /// The bodies of the requests for `op`, in arrival order.
    pub fn bodies(&self, op: &str) -> Vec<Value> {
        self.server.bodies(op)
    }

    /// How many `op` requests arrived.
    pub fn count(&self, op: &str) -> usize {
        self.server.count(op)
    }

    /// The operations received, in order (for failure messages).
    pub fn ops(&self) -> Vec<String> {
        self.server.ops()
    }

    /// Waits until at least `n` `op` requests arrived; false after `timeout`.
    pub fn wait_for(&self, op: &str, n: usize, timeout: Duration) -> bool {
        self.server.wait_for(op, n, timeout)
    }

    /// Ids of the queries started so far, oldest first.
    pub fn query_ids(&self) -> Vec<String> {
        self.shared
            .lock()
            .executions
            .iter()
            .map(|e| e.id.clone())
            .collect()
    }

    /// The current state of query `id`.
    pub fn state(&self, id: &str) -> Option<State> {
        self.shared
            .lock()
            .executions
            .iter()
            .find(|e| e.id == id)
            .map(Execution::state)
    }
}

fn ok(value: Value) -> Reply {
    Reply::ok(value)
}

fn error(kind: &str, message: &str) -> Reply {
    Reply::error(kind, message)
}

fn invalid(message: &str) -> Reply {
    error("InvalidRequestException", message)
}

fn handle(shared: &Shared, op: &str, body: &Value) -> Reply {
    let body = body.clone();
    let mut inner = shared.lock();
    let config = &shared.config;
    match op {
        "StartQueryExecution" => start_query(&mut inner, config, &body),
        "GetQueryExecution" => {
            let id = str_field(&body, "QueryExecutionId");
            let Some(exec) = inner.executions.iter_mut().find(|e| e.id == id) else {
                return invalid(&format!("QueryExecution {id} was not found"));
            };
            exec.polls = exec.polls.saturating_add(1);
            if exec.state().terminal() && exec.completed.is_none() {
                exec.completed = Some(now());
            }
            ok(json!({"QueryExecution": exec.to_json(config.data_scanned_bytes)}))
        }
        "GetQueryResults" => query_results(&inner, &body),
        "StopQueryExecution" => {
            let id = str_field(&body, "QueryExecutionId");
            let Some(exec) = inner.executions.iter_mut().find(|e| e.id == id) else {
                return invalid(&format!("QueryExecution {id} was not found"));
            };
            // `stubborn`: a slow query whose stop the service refuses.
            if exec.sql.to_ascii_lowercase().contains("stubborn") {
                return invalid("the fake refuses to stop this query");
            }
            if !exec.state().terminal() {
                exec.cancelled = true;
                exec.completed = Some(now());
            }
            ok(json!({}))
        }
        "BatchGetQueryExecution" => {
            let ids = string_list(&body, "QueryExecutionIds");
            if ids.is_empty() || ids.len() > 50 {
                return invalid("QueryExecutionIds must hold 1 to 50 ids");
            }
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for id in ids {
                match inner.executions.iter().find(|e| e.id == id) {
                    Some(e) => found.push(e.to_json(config.data_scanned_bytes)),
                    None => missing.push(json!({
                        "QueryExecutionId": id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": "QueryExecution was not found",
                    })),
                }
            }
            ok(json!({"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}))
        }
        "ListQueryExecutions" => {
            let workgroup = opt_str(&body, "WorkGroup").unwrap_or("primary");
            let ids: Vec<String> = inner
                .executions
                .iter()
                .rev()
                .filter(|e| e.workgroup == workgroup)
                .map(|e| e.id.clone())
                .collect();
            paged(&body, ids, 50, "QueryExecutionIds")
        }
        "ListDataCatalogs" => ok(json!({"DataCatalogsSummary": [
            {"CatalogName": "AwsDataCatalog", "Type": "GLUE"},
            {"CatalogName": "dynamo", "Type": "LAMBDA"},
        ]})),
        "GetDataCatalog" => match str_field(&body, "Name").as_str() {
            "AwsDataCatalog" => ok(json!({"DataCatalog": {
                "Name": "AwsDataCatalog", "Type": "GLUE", "Parameters": {"catalog-id": "123456789012"},
            }})),
            "dynamo" => ok(json!({"DataCatalog": {"Name": "dynamo", "Type": "LAMBDA"}})),
            other => invalid(&format!("Catalog {other} was not found")),
        },
        "ListDatabases" => match str_field(&body, "CatalogName").as_str() {
            "AwsDataCatalog" => ok(json!({"DatabaseList": [{"Name": "sales"}, {"Name": "web"}]})),
            "dynamo" => ok(json!({"DatabaseList": []})),
            other => error(
                "MetadataException",
                &format!("Catalog {other} was not found"),
            ),
        },
        "GetDatabase" => {
            let db = str_field(&body, "DatabaseName");
            if str_field(&body, "CatalogName") == "AwsDataCatalog" && tables(&db).is_some() {
                ok(json!({"Database": {"Name": db}}))
            } else {
                error("MetadataException", &format!("Database {db} was not found"))
            }
        }
        "ListTableMetadata" => {
            let db = str_field(&body, "DatabaseName");
            match (str_field(&body, "CatalogName").as_str(), tables(&db)) {
                ("AwsDataCatalog", Some(list)) => {
                    paged_values(&body, list, TABLES_PER_PAGE, "TableMetadataList")
                }
                _ => error("MetadataException", &format!("Database {db} was not found")),
            }
        }
        "GetTableMetadata" => {
            let db = str_field(&body, "DatabaseName");
            let table = str_field(&body, "TableName");
            let found = (str_field(&body, "CatalogName") == "AwsDataCatalog")
                .then(|| tables(&db))
                .flatten()
                .and_then(|list| list.into_iter().find(|t| t["Name"] == table.as_str()));
            match found {
                Some(t) => ok(json!({"TableMetadata": t})),
                None => error(
                    "MetadataException",
                    &format!("Table {db}.{table} was not found"),
                ),
            }
        }
        "ListWorkGroups" => ok(json!({"WorkGroups": workgroups()
            .into_iter()
            .map(|w| json!({
                "Name": w["Name"], "State": w["State"], "Description": w["Description"],
                "CreationTime": 1_700_000_000.0,
                "EngineVersion": w["Configuration"]["EngineVersion"],
            }))
            .collect::<Vec<_>>()})),
        "GetWorkGroup" => {
            let name = str_field(&body, "WorkGroup");
            match workgroups()
                .into_iter()
                .find(|w| w["Name"] == name.as_str())
            {
                Some(w) => ok(json!({"WorkGroup": w})),
                None => invalid(&format!("WorkGroup {name} is not found.")),
            }
        }
        "ListNamedQueries" => {
            let workgroup = opt_str(&body, "WorkGroup").unwrap_or("primary");
            let ids: Vec<String> = config
                .named_queries
                .iter()
                .enumerate()
                .filter(|(_, q)| q.workgroup == workgroup)
                .map(|(i, _)| named_query_id(i))
                .collect();
            paged(&body, ids, 50, "NamedQueryIds")
        }
        "BatchGetNamedQuery" => {
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for id in string_list(&body, "NamedQueryIds") {
                match named_query_json(config, &id) {
                    Some(q) => found.push(q),
                    None => missing.push(json!({
                        "NamedQueryId": id, "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": "NamedQuery was not found",
                    })),
                }
            }
            ok(json!({"NamedQueries": found, "UnprocessedNamedQueryIds": missing}))
        }
        "GetNamedQuery" => {
            let id = str_field(&body, "NamedQueryId");
            match named_query_json(config, &id) {
                Some(q) => ok(json!({"NamedQuery": q})),
                None => invalid(&format!("NamedQuery {id} was not found")),
            }
        }
        "ListPreparedStatements" => ok(json!({"PreparedStatements": []})),
        other => invalid(&format!("unsupported by the fake: {other}")),
    }
}

fn start_query(inner: &mut Inner, config: &FakeConfig, body: &Value) -> Reply {
    inner.starts += 1;
    let throttled = match config.throttle_starts {
        Throttle::Never => false,
        Throttle::First(n) => inner.starts <= n,
        Throttle::Always => true,
    };
    if throttled {
        return Reply::error_with(
            400,
            "TooManyRequestsException",
            json!({
                "message": "Rate exceeded",
                "Reason": "CONCURRENT_QUERY_LIMIT_EXCEEDED",
            }),
        );
    }
    let Some(sql) = opt_str(body, "QueryString").filter(|s| !s.is_empty()) else {
        return invalid("QueryString is required");
    };
    let workgroup = opt_str(body, "WorkGroup").unwrap_or("primary").to_string();
    if !workgroups().iter().any(|w| w["Name"] == workgroup.as_str()) {
        return invalid(&format!("WorkGroup {workgroup} is not found."));
    }
    if let Some(token) = opt_str(body, "ClientRequestToken")
        && let Some(id) = inner.tokens.get(token)
    {
        // Idempotent: the same token starts nothing new.
        return ok(json!({"QueryExecutionId": id}));
    }
    let id = uuid_like(inner.executions.len() as u64 + 1);
    if let Some(token) = opt_str(body, "ClientRequestToken") {
        inner.tokens.insert(token.to_string(), id.clone());
    }
    let output_location = body["ResultConfiguration"]["OutputLocation"]
        .as_str()
        .unwrap_or("s3://wg-results/")
        .trim_end_matches('/')
        .to_string();
    inner.executions.push(Execution {
        id: id.clone(),
        sql: sql.to_string(),
        scenario: Scenario::from_sql(sql),
        workgroup,
        context: body
            .get("QueryExecutionContext")
            .cloned()
            .unwrap_or_else(|| json!({})),
        output_location: format!("{output_location}/{id}.csv"),
        parameters: body.get("ExecutionParameters").cloned(),
        polls: 0,
        cancelled: false,
        submitted: now(),
        completed: None,
    });
    ok(json!({"QueryExecutionId": id}))
}

fn query_results(inner: &Inner, body: &Value) -> Reply {
    let id = str_field(body, "QueryExecutionId");
    let Some(exec) = inner.executions.iter().find(|e| e.id == id) else {
        return invalid(&format!("QueryExecution {id} was not found"));
    };
    match exec.state() {
        State::Succeeded => {}
        State::Queued | State::Running => {
            return invalid(&format!(
                "Query has not yet finished. Current state: {}",
                exec.state().name()
            ));
        }
        other => {
            return invalid(&format!(
                "Query did not finish successfully. Final query state: {}",
                other.name()
            ));
        }
    }
    let max = match body.get("MaxResults").map(|v| v.as_u64()) {
        None => 1000,
        Some(Some(n)) if (1..=1000).contains(&n) => n as usize,
        Some(_) => {
            return invalid("MaxResults must be between 1 and 1000");
        }
    };
    let offset = match opt_str(body, "NextToken") {
        None => 0,
        Some(token) => match token
            .strip_prefix(&format!("{id}:"))
            .and_then(|o| o.parse::<usize>().ok())
        {
            Some(o) => o,
            None => return invalid("NextToken is not valid for this query"),
        },
    };
    let scenario = exec.scenario;
    let columns = scenario.columns();
    let header = usize::from(scenario.has_header());
    // Rows as Athena pages them: the header (for a SELECT), then the data.
    let total = header + scenario.data_len();
    let end = (offset + max).min(total);
    let cells = |values: Vec<Option<String>>| -> Value {
        json!({"Data": values
            .into_iter()
            .map(|v| match v {
                Some(v) => json!({"VarCharValue": v}),
                None => json!({}),
            })
            .collect::<Vec<_>>()})
    };
    let rows: Vec<Value> = (offset.min(end)..end)
        .map(|i| {
            if i < header {
                cells(columns.iter().map(|c| Some(c.0.to_string())).collect())
            } else {
                cells(scenario.data_row(i - header + 1))
            }
        })
        .collect();
    let column_info: Vec<Value> = columns
        .iter()
        .map(|(name, ty, precision, scale, case_sensitive)| {
            json!({
                "CatalogName": "hive", "SchemaName": "", "TableName": "",
                "Name": name, "Label": name, "Type": ty,
                "Precision": precision, "Scale": scale,
                "Nullable": "UNKNOWN", "CaseSensitive": case_sensitive,
            })
        })
        .collect();
    let mut reply = json!({
        "ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": column_info}},
        "UpdateCount": scenario.update_count(),
    });
    if end < total {
        reply["NextToken"] = json!(format!("{id}:{end}"));
    }
    ok(reply)
}

/// One page of `items` (strings) under `key`, honouring `MaxResults` (≤ `limit`) and
/// `NextToken` (an offset).
fn paged(body: &Value, items: Vec<String>, limit: usize, key: &str) -> Reply {
    paged_values(
        body,
        items.into_iter().map(Value::String).collect(),
        limit,
        key,
    )
}

fn paged_values(body: &Value, items: Vec<Value>, limit: usize, key: &str) -> Reply {
    let size = body
        .get("MaxResults")
        .and_then(Value::as_u64)
        .map_or(limit, |n| (n as usize).clamp(1, limit));
    let offset = match opt_str(body, "NextToken") {
        None => 0,
        Some(token) => match token
            .strip_prefix("page-")
            .and_then(|o| o.parse::<usize>().ok())
        {
            Some(o) => o,
            None => return invalid("NextToken is not valid"),
        },
    };
    let end = (offset + size).min(items.len());
    let page: Vec<Value> = items.get(offset.min(end)..end).unwrap_or_default().to_vec();
    let mut reply = json!({ key: page });
    if end < items.len() {
        reply["NextToken"] = json!(format!("page-{end}"));
    }
    ok(reply)
}

/// The tables of database `db` (of AwsDataCatalog), `None` for an unknown database.
pub fn tables(db: &str) -> Option<Vec<Value>> {
    let table = |name: &str, kind: &str, columns: &[(&str, &str)], partitions: &[(&str, &str)]| {
        let cols = |list: &[(&str, &str)]| -> Vec<Value> {
            list.iter()
                .map(|(n, t)| json!({"Name": n, "Type": t}))
                .collect()
        };
        json!({
            "Name": name,
            "CreateTime": 1_700_000_000.0,
            "TableType": kind,
            "Columns": cols(columns),
            "PartitionKeys": cols(partitions),
            "Parameters": {"classification": "parquet"},
        })
    };
    match db {
        "sales" => Some(vec![
            table(
                "orders",
                "EXTERNAL_TABLE",
                &[("id", "bigint"), ("total", "decimal(10,2)")],
                &[("dt", "string")],
            ),
            table(
                "customers",
                "EXTERNAL_TABLE",
                &[("id", "bigint"), ("email", "string")],
                &[],
            ),
            table(
                "v_recent",
                "VIRTUAL_VIEW",
                &[("id", "bigint"), ("total", "decimal(10,2)")],
                &[],
            ),
            table(
                "refunds",
                "EXTERNAL_TABLE",
                &[("order_id", "bigint"), ("amount", "double")],
                &[],
            ),
            table("zz_last_page", "EXTERNAL_TABLE", &[("id", "bigint")], &[]),
        ]),
        "web" => Some(vec![table(
            "pageviews",
            "EXTERNAL_TABLE",
            &[("url", "string")],
            &[],
        )]),
        _ => None,
    }
}

/// The workgroups, as GetWorkGroup returns them.
fn workgroups() -> Vec<Value> {
    vec![
        json!({
            "Name": "primary",
            "State": "ENABLED",
            "Description": "",
            "CreationTime": 1_700_000_000.0,
            "Configuration": {
                "ResultConfiguration": {"OutputLocation": "s3://wg-results/"},
                "EnforceWorkGroupConfiguration": true,
                "PublishCloudWatchMetricsEnabled": false,
                "BytesScannedCutoffPerQuery": 10_737_418_240_i64,
                "RequesterPaysEnabled": false,
                "EngineVersion": {
                    "SelectedEngineVersion": "AUTO",
                    "EffectiveEngineVersion": "Athena engine version 3",
                },
            },
        }),
        json!({
            "Name": "analysts",
            "State": "DISABLED",
            "Description": "ad-hoc analysis",
            "CreationTime": 1_700_000_000.0,
            "Configuration": {
                "ResultConfiguration": {"OutputLocation": "s3://analysts-results/"},
                "EnforceWorkGroupConfiguration": false,
                "EngineVersion": {
                    "SelectedEngineVersion": "Athena engine version 2",
                    "EffectiveEngineVersion": "Athena engine version 2",
                },
            },
        }),
    ]
}

fn named_query_id(index: usize) -> String {
    format!("nq-{index:04}-0000-4000-8000-000000000000")
}

fn named_query_json(config: &FakeConfig, id: &str) -> Option<Value> {
    config
        .named_queries
        .iter()
        .enumerate()
        .find(|(i, _)| named_query_id(*i) == id)
        .map(|(_, q)| {
            json!({
                "Name": q.name, "Description": "", "Database": q.database,
                "QueryString": q.sql, "NamedQueryId": id, "WorkGroup": q.workgroup,
            })
        })
}

fn str_field(body: &Value, key: &str) -> String {
    opt_str(body, key).unwrap_or_default().to_string()
}

fn opt_str<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn string_list(body: &Value, key: &str) -> Vec<String> {
    body.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(1.7e9)
}

/// A UUID-shaped id, unique per `n`.
fn uuid_like(n: u64) -> String {
    format!(
        "{:08x}-fa4e-4a7b-8c1d-{:012x}",
        n,
        n.wrapping_mul(2_654_435_761)
    )
}
