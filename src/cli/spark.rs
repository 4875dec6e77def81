//! `quarry spark …`: Athena Spark sessions from the command line — start (optionally waiting
//! for IDLE), status, show (the details' `label: value` lines), terminate. Calculations run
//! with `quarry run --spark-session ID`.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use clap::Subcommand;

use super::{EXIT_QUERY, EXIT_USAGE, pick_connection};
use crate::connectors::spark::{SessionSettings, SparkOp, SparkReply, SparkSession, format_dpu};
use crate::connectors::{self, Connector, ConnectorError};
use crate::results::{sanitize_line, sanitize_multiline};
use crate::store::config::Config;

/// How often `--wait` asks, at first and at most.
const WAIT_MIN: Duration = Duration::from_millis(250);
const WAIT_MAX: Duration = Duration::from_secs(2);
/// How long `--wait` waits before giving up (sessions start in about a minute).
const WAIT_LIMIT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Subcommand)]
pub enum SparkCommand {
    /// Start a session in a Spark-enabled workgroup and print its id. Sizes not given are the
    /// workgroup's defaults.
    Start {
        /// The Spark-enabled workgroup (see `quarry ls -c NAME spark`).
        workgroup: String,
        /// DPUs of the coordinator.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
        coordinator_dpu: Option<i32>,
        /// DPUs of each executor.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
        executor_dpu: Option<i32>,
        /// DPUs the session may use at once.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
        max_dpus: Option<i32>,
        /// Minutes without a calculation before the service ends the session.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
        idle_minutes: Option<i32>,
        /// A description the service shows with the session.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// Wait until the session is IDLE (ready); exit 1 if it fails or degrades instead.
        #[arg(long)]
        wait: bool,
    },
    /// The state of a session and its DPU figures, as `label: value` lines.
    Status {
        /// The session id.
        id: String,
    },
    /// Everything about a session (configuration, monitoring, Spark UI links), as
    /// `label: value` lines.
    Show {
        /// The session id.
        id: String,
    },
    /// End a session (TerminateSession).
    Terminate {
        /// The session id.
        id: String,
        /// Wait until the session is TERMINATED.
        #[arg(long)]
        wait: bool,
    },
}

pub async fn spark_command(
    config: &Config,
    connection: Option<&str>,
    command: &SparkCommand,
) -> i32 {
    let conn = match pick_connection(config, connection) {
        Ok(c) if c.kind.capabilities().spark => c,
        Ok(c) => {
            eprintln!(
                "quarry: Spark sessions are Athena's: connection `{}` is kind {}",
                c.name, c.kind
            );
            return EXIT_USAGE;
        }
        Err(e) => return fail(&ConnectorError::Config(e)),
    };
    let connector = match connectors::connect(&conn).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let c = &*connector;
    let outcome = match command {
        SparkCommand::Start {
            workgroup,
            coordinator_dpu,
            executor_dpu,
            max_dpus,
            idle_minutes,
            description,
            wait,
        } => {
            let given = Given {
                coordinator_dpu: *coordinator_dpu,
                executor_dpu: *executor_dpu,
                max_dpus: *max_dpus,
                idle_minutes: *idle_minutes,
            };
            start(c, workgroup, given, description.clone(), *wait).await
        }
        SparkCommand::Status { id } => session_op(c, SparkOp::Status { id: id.clone() })
            .await
            .map(|s| print_lines(&session_lines(&s))),
        SparkCommand::Show { id } => match c.spark(SparkOp::Details { id: id.clone() }).await {
            Ok(SparkReply::Details { lines, .. }) => Ok(print_lines(&lines)),
            Ok(other) => Err(unexpected(&other)),
            Err(e) => Err(e),
        },
        SparkCommand::Terminate { id, wait } => terminate(c, id, *wait).await,
    };
    match outcome {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

/// The sizes given on the command line (the rest come from the workgroup).
struct Given {
    coordinator_dpu: Option<i32>,
    executor_dpu: Option<i32>,
    max_dpus: Option<i32>,
    idle_minutes: Option<i32>,
}

async fn start(
    c: &dyn Connector,
    workgroup: &str,
    given: Given,
    description: Option<String>,
    wait: bool,
) -> Result<i32, ConnectorError> {
    let defaults = match c
        .spark(SparkOp::Defaults {
            workgroup: workgroup.to_string(),
        })
        .await?
    {
        SparkReply::Defaults(d) => d,
        other => return Err(unexpected(&other)),
    };
    let settings = SessionSettings {
        coordinator_dpu: given.coordinator_dpu.unwrap_or(defaults.coordinator_dpu),
        executor_dpu: given.executor_dpu.unwrap_or(defaults.executor_dpu),
        max_concurrent_dpus: given.max_dpus.unwrap_or(defaults.max_concurrent_dpus),
        idle_timeout_minutes: given.idle_minutes.unwrap_or(defaults.idle_timeout_minutes),
    };
    let op = SparkOp::Start {
        workgroup: workgroup.to_string(),
        settings,
        description: Some(description.unwrap_or_else(|| "started by quarry".into())),
        token: uuid::Uuid::new_v4().simple().to_string(),
    };
    let session = session_op(c, op).await?;
    println!("{}", sanitize_line(&session.id));
    let _ = io::stdout().flush();
    eprintln!("session {}: {}", sanitize_line(&session.id), session.state);
    if !wait {
        return Ok(0);
    }
    let done = |s: &SparkSession| !matches!(s.state.as_str(), "CREATING" | "CREATED");
    let session = follow(c, &session, done).await?;
    match session.state.as_str() {
        "IDLE" | "BUSY" => Ok(0),
        _ => {
            eprintln!(
                "quarry: session {} is {}{}",
                sanitize_line(&session.id),
                session.state,
                why(&session)
            );
            Ok(EXIT_QUERY)
        }
    }
}

async fn terminate(c: &dyn Connector, id: &str, wait: bool) -> Result<i32, ConnectorError> {
    let session = session_op(c, SparkOp::Terminate { id: id.to_string() }).await?;
    eprintln!("session {}: {}", sanitize_line(id), session.state);
    if !wait {
        return Ok(0);
    }
    let session = follow(c, &session, |s| {
        matches!(s.state.as_str(), "TERMINATED" | "FAILED")
    })
    .await?;
    if session.state == "TERMINATED" {
        Ok(0)
    } else {
        eprintln!(
            "quarry: session {} ended {}{}",
            sanitize_line(id),
            session.state,
            why(&session)
        );
        Ok(EXIT_QUERY)
    }
}

/// Asks for the session's status (with backoff, printing each new state on stderr) until
/// `done`; Ctrl-C or the wait limit end the wait with an error.
async fn follow(
    c: &dyn Connector,
    session: &SparkSession,
    done: impl Fn(&SparkSession) -> bool,
) -> Result<SparkSession, ConnectorError> {
    let started = Instant::now();
    let mut delay = WAIT_MIN;
    let mut last = session.state.clone();
    let mut current = session.clone();
    while !done(&current) {
        let stop_waiting = |why: &str| {
            ConnectorError::Query(format!(
                "{why}: session {} is still {} (see `quarry spark status`)",
                current.id, current.state
            ))
        };
        if started.elapsed() > WAIT_LIMIT {
            return Err(stop_waiting("gave up waiting"));
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Err(stop_waiting("stopped waiting")),
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(WAIT_MAX);
        current = session_op(
            c,
            SparkOp::Status {
                id: session.id.clone(),
            },
        )
        .await?;
        if current.state != last {
            eprintln!("session {}: {}", sanitize_line(&current.id), current.state);
            last = current.state.clone();
        }
    }
    Ok(current)
}

async fn session_op(c: &dyn Connector, op: SparkOp) -> Result<SparkSession, ConnectorError> {
    match c.spark(op).await? {
        SparkReply::Session(s) => Ok(s),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(reply: &SparkReply) -> ConnectorError {
    ConnectorError::Query(format!("unexpected answer from the connector: {reply:?}"))
}

fn why(s: &SparkSession) -> String {
    s.reason
        .as_deref()
        .map(|r| format!(": {}", sanitize_multiline(r)))
        .unwrap_or_default()
}

/// A session as `label: value` lines.
fn session_lines(s: &SparkSession) -> Vec<(String, String)> {
    let mut lines = vec![
        ("id".to_string(), s.id.clone()),
        ("state".to_string(), s.state.clone()),
    ];
    let mut add = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            lines.push((label.to_string(), v));
        }
    };
    add("reason", s.reason.clone());
    add("workgroup", Some(s.workgroup.clone()));
    add("description", s.description.clone());
    add("engine version", s.engine_version.clone());
    if let Some(set) = &s.settings {
        add("coordinator DPU", Some(set.coordinator_dpu.to_string()));
        add("executor DPU", Some(set.executor_dpu.to_string()));
        add(
            "max concurrent DPUs",
            Some(set.max_concurrent_dpus.to_string()),
        );
        add(
            "idle timeout",
            Some(format!("{} min", set.idle_timeout_minutes)),
        );
    }
    add("started", s.started.clone());
    add("ended", s.ended.clone());
    add("DPU usage", s.dpu_ms.map(format_dpu));
    lines
}

/// Writes `label: value` lines to stdout (server text made safe for the terminal).
fn print_lines(lines: &[(String, String)]) -> i32 {
    let mut out = io::BufWriter::new(io::stdout());
    for (label, value) in lines {
        let _ = writeln!(out, "{}: {}", sanitize_line(label), sanitize_line(value));
    }
    if out.flush().is_err() {
        return EXIT_QUERY;
    }
    0
}

fn fail(e: &ConnectorError) -> i32 {
    eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
    match e {
        ConnectorError::Config(_) => EXIT_USAGE,
        _ => EXIT_QUERY,
    }
}
