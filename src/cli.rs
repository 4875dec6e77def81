//! The command line: `quarry` (the TUI), `quarry run …` (scripting, same engine, no TUI),
//! `quarry connections`, `quarry spark …` (Athena Spark sessions) and `quarry config …`.

mod history;
mod inert;
mod output;
mod signals;
mod snippets;
mod spark;

pub use history::history;
pub use snippets::{SnippetsCommand, SnippetsFormat, render_snippet, snippets_command};
pub use spark::{SparkCommand, spark_command};

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::connectors::{self, ConnectorError, JobSink, JobStats, QueryRequest};
use crate::export::Format;
use crate::model::connection::ConnectionKind;
use crate::results::{display_line, sanitize_multiline};
use crate::store::AtomicFile;
use crate::store::config::{self, Config, ConnectionConfig, ConnectionDetails};
use crate::store::history::{History, HistoryError, NewRun, Retention, RunEnd, RunId};
use output::Output;

/// Exit codes: 0 success, 1 a query failed, 2 usage or configuration error.
pub const EXIT_QUERY: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "quarry",
    version,
    about = "Keyboard-driven workbench for Athena, Redshift, DynamoDB and local files"
)]
pub struct Cli {
    /// Config file (default: $QUARRY_CONFIG, else <config dir>/quarry/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Connection to use (the TUI's first tab opens on it; `run` queries it).
    #[arg(short = 'c', long = "connection", global = true, value_name = "NAME")]
    pub connection: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL without the TUI and write the results to stdout or a file.
    Run(RunArgs),
    /// List the configured connections.
    Connections,
    /// List what the browser shows under PATH of a connection (tab-separated: name, kind,
    /// detail), e.g. `quarry ls -c athena AwsDataCatalog sales`.
    Ls {
        /// Names from the connection's root down to the node to list (empty: the root).
        path: Vec<String>,
    },
    /// List recorded runs, newest first (`-c NAME` keeps one connection's).
    History(HistoryArgs),
    /// Athena Spark sessions: start, status, show, terminate (calculations run with
    /// `quarry run --spark-session ID`).
    Spark {
        #[command(subcommand)]
        command: SparkCommand,
    },
    /// Saved snippets: `.sql` files in <data dir>/snippets (QUARRY_DATA_DIR overrides it).
    Snippets {
        #[command(subcommand)]
        command: SnippetsCommand,
    },
    /// Write or locate the config file.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// SQL to run (several statements separated by `;` run in order). Read from stdin when
    /// neither SQL nor --file is given and stdin is not a terminal.
    #[arg(conflicts_with = "file")]
    pub sql: Option<String>,
    /// File with the SQL to run.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Run the saved snippet NAME (its name, or its path in the snippets directory; see
    /// `quarry snippets list`). `-c` defaults to the snippet's `connection:`.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["sql", "file", "params", "reopen"])]
    pub snippet: Option<String>,
    /// With --snippet: a value for its `${NAME}` placeholder; repeat for each. Placeholders
    /// without a value take their default (`${NAME:default}`). Written into the SQL as a
    /// string literal (numbers as they are), except on Redshift Data and DynamoDB where it is
    /// sent as a query parameter.
    #[arg(
        long = "set",
        value_name = "NAME=VALUE",
        requires = "snippet",
        allow_hyphen_values = true
    )]
    pub set: Vec<String>,
    /// Output format (default: table on a terminal, csv otherwise, or from -o's extension).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the results to FILE (atomically: nothing is left behind when a query fails).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A value for the next `?` placeholder, as an SQL literal ('abc', 42); repeat in order.
    /// Redshift Data: `name=value` for each `:name` parameter (plain text, no quotes).
    /// Sent as query parameters, never spliced into the text.
    #[arg(long = "param", value_name = "VALUE", allow_hyphen_values = true)]
    pub params: Vec<String>,
    /// Write each statement's statistics (server id, state, rows, bytes scanned, cost, …) to
    /// stderr as `label: value` lines.
    #[arg(long)]
    pub stats: bool,
    /// Athena: run in this workgroup instead of the connection's.
    #[arg(long, value_name = "NAME")]
    pub workgroup: Option<String>,
    /// Athena: run the whole input as one Spark calculation (PySpark, or `%sql …`) in this
    /// session (see `quarry spark start`); it is not split on `;`.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with_all = ["reopen", "params", "batch", "transaction", "workgroup", "reuse", "no_reuse", "snippet"]
    )]
    pub spark_session: Option<String>,
    /// Athena: reuse a recent result of the same query (max age from the connection, else 60 min).
    #[arg(long, conflicts_with = "no_reuse")]
    pub reuse: bool,
    /// Athena: do not reuse results even when the connection does.
    #[arg(long)]
    pub no_reuse: bool,
    /// Athena, Redshift Data: fetch the results of an earlier query execution (statement) by
    /// its id, without running anything (while the service still holds them).
    #[arg(long, value_name = "QUERY_ID", conflicts_with_all = ["sql", "file", "params"])]
    pub reopen: Option<String>,
    /// DynamoDB: run all statements as one BatchExecuteStatement group (up to 25 per call,
    /// each succeeds or fails on its own; reads and writes go in separate calls).
    /// Redshift Data: run them in one BatchExecuteStatement, which is one transaction.
    #[arg(long, conflicts_with_all = ["transaction", "reopen"])]
    pub batch: bool,
    /// DynamoDB: run all statements as one ExecuteTransaction (all or nothing, up to 100).
    /// Redshift Data: the same as --batch.
    #[arg(long, conflicts_with = "reopen")]
    pub transaction: bool,
    /// DynamoDB: strongly consistent reads for this run.
    #[arg(long)]
    pub consistent_read: bool,
    /// DynamoDB: report consumed capacity per index too (ReturnConsumedCapacity=INDEXES).
    #[arg(long)]
    pub index_capacity: bool,
    /// DynamoDB: stop after N items (overrides the connection's `limit`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// DynamoDB with --format json/jsonl: write items as DynamoDB JSON (typed AttributeValues,
    /// so they round-trip) instead of plain JSON.
    #[arg(long)]
    pub dynamodb_json: bool,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Only runs whose SQL, server query id or error contains TEXT (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
    /// Only runs that ended so (running: started, never ended: still running or interrupted).
    #[arg(long, value_enum)]
    pub status: Option<HistoryStatus>,
    /// At most N runs (the newest).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// table: one line a run; jsonl: one JSON object a run, every recorded field.
    #[arg(long, value_enum, default_value = "table")]
    pub format: HistoryFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryStatus {
    #[value(alias = "succeeded")]
    Ok,
    Failed,
    #[value(alias = "canceled")]
    Cancelled,
    #[value(alias = "interrupted")]
    Running,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryFormat {
    Table,
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write the commented example config (never overwrites).
    Init {
        /// Where to write it (default: the config path in use).
        path: Option<PathBuf>,
    },
    /// Print the path of the config file in use.
    Path,
}

/// Loads the config or prints the error; `Err` carries the exit code.
pub fn load_config(path: Option<&Path>) -> Result<Config, i32> {
    config::load(path).map_err(|e| {
        eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
        EXIT_USAGE
    })
}

/// Finds the connection `name` (or the default one) among the configured ones.
pub fn pick_connection(config: &Config, name: Option<&str>) -> Result<ConnectionConfig, String> {
    let all = config.all_connections();
    let wanted = name
        .map(str::to_string)
        .or_else(|| config.default_connection.clone())
        .unwrap_or_else(|| "local".to_string());
    if let Some(broken) = config.broken_named(&wanted) {
        return Err(format!(
            "connection `{wanted}` is broken in the config: {}",
            broken.error
        ));
    }
    all.iter()
        .find(|c| c.name == wanted)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
            format!(
                "unknown connection `{wanted}` (configured: {})",
                names.join(", ")
            )
        })
}

pub fn connections(config: &Config) -> i32 {
    let mut out = inert::stdout(inert::Escape::Visible);
    for c in config.all_connections() {
        let detail = match &c.details {
            ConnectionDetails::Local { paths } if paths.is_empty() => "sample data".to_string(),
            ConnectionDetails::Local { paths } => paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            _ => c.region.clone().or(c.profile.clone()).unwrap_or_default(),
        };
        let _ = writeln!(
            out,
            "{} {:<14} {}",
            inert::pad(&display_line(&c.name), 20),
            c.kind.to_string(),
            display_line(&detail)
        );
    }
    for b in &config.broken {
        let _ = writeln!(
            out,
            "{} {:<14} {}",
            inert::pad(&display_line(&b.label()), 20),
            "broken",
            display_line(&b.error)
        );
    }
    match out.flush() {
        Ok(()) => 0,
        Err(_) => EXIT_QUERY,
    }
}

pub fn config_command(cli_path: Option<&Path>, command: &ConfigCommand) -> i32 {
    match command {
        ConfigCommand::Init { path } => {
            let target = path.as_deref().or(cli_path);
            match config::init(target) {
                Ok(p) => {
                    println!("wrote {}", p.display());
                    0
                }
                Err(e) => {
                    eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
                    EXIT_USAGE
                }
            }
        }
        ConfigCommand::Path => {
            let path = cli_path
                .map(Path::to_path_buf)
                .or_else(|| {
                    std::env::var_os("QUARRY_CONFIG")
                        .filter(|v| !v.is_empty())
                        .map(PathBuf::from)
                })
                .or_else(crate::store::paths::default_config_path);
            match path {
                Some(p) => {
                    println!("{}", p.display());
                    0
                }
                None => {
                    eprintln!("quarry: no config path: there is no home directory; use --config");
                    EXIT_USAGE
                }
            }
        }
    }
}

/// `quarry run`: runs each statement in order, streaming its rows into the output.
pub async fn run(config: &Config, connection: Option<&str>, args: &RunArgs) -> i32 {
    if let Some(name) = &args.snippet {
        return snippets::run_snippet(config, connection, args, name).await;
    }
    if !args.set.is_empty() {
        // clap waives `requires` when SQL or -f is given (they conflict with --snippet).
        eprintln!(
            "quarry: --set fills the `${{…}}` placeholders of a snippet: use it with --snippet"
        );
        return EXIT_USAGE;
    }
    let conn = match pick_connection(config, connection) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let redshift_data = conn.kind == config::ConnectionKind::RedshiftData;
    if (args.batch || args.transaction)
        && conn.kind != config::ConnectionKind::Dynamodb
        && !redshift_data
    {
        eprintln!(
            "quarry: --batch and --transaction run on DynamoDB and Redshift Data: connection `{}` is kind {}",
            conn.name, conn.kind
        );
        return EXIT_USAGE;
    }
    if args.spark_session.is_some() && conn.kind != config::ConnectionKind::Athena {
        eprintln!(
            "quarry: --spark-session runs on Athena: connection `{}` is kind {}",
            conn.name, conn.kind
        );
        return EXIT_USAGE;
    }
    if args.reopen.is_some()
        && !matches!(
            conn.kind,
            config::ConnectionKind::Athena | config::ConnectionKind::RedshiftData
        )
    {
        eprintln!(
            "quarry: --reopen fetches Athena and Redshift Data results: connection `{}` is kind {}",
            conn.name, conn.kind
        );
        return EXIT_USAGE;
    }
    let sql = match &args.reopen {
        // Only the execution id matters; the text is what error messages quote.
        Some(id) => format!("-- results of query execution {id}"),
        None => match read_sql(args) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
                return EXIT_USAGE;
            }
        },
    };
    let statements: Vec<String> = match (&args.reopen, &args.spark_session) {
        (Some(_), _) => vec![sql],
        // A Spark calculation is code, not SQL statements: one calculation, whole.
        (None, Some(_)) if sql.trim().is_empty() => Vec::new(),
        (None, Some(_)) => vec![sql],
        (None, None) => crate::sql::split_statements(&sql)
            .into_iter()
            .map(|s| s.text)
            .collect(),
    };
    if statements.is_empty() {
        let what = match args.spark_session {
            Some(_) => "code",
            None => "SQL statement",
        };
        eprintln!("quarry: no {what} to run");
        return EXIT_USAGE;
    }
    let takes_params = matches!(
        conn.kind,
        config::ConnectionKind::Athena | config::ConnectionKind::Dynamodb
    ) && args.spark_session.is_none();
    let params = if redshift_data {
        match named_param_values(&statements, &args.params) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("quarry: {e}");
                return EXIT_USAGE;
            }
        }
    } else if takes_params {
        match split_params(&statements, &args.params) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("quarry: {e}");
                return EXIT_USAGE;
            }
        }
    } else if args.params.is_empty() {
        vec![Vec::new(); statements.len()]
    } else {
        eprintln!(
            "quarry: connection `{}` (kind {}) takes no --param values: write the values in the SQL",
            conn.name, conn.kind
        );
        return EXIT_USAGE;
    };
    let format = args.format.unwrap_or_else(|| match &args.output {
        Some(p) => Format::from_path(p).unwrap_or(Format::Csv),
        None if io::stdout().is_terminal() => Format::Table,
        None => Format::Csv,
    });
    if format.is_binary() {
        let problem = if args.output.is_none() && io::stdout().is_terminal() {
            Some("is binary: write it to a file with -o FILE, or redirect stdout")
        } else if statements.len() > 1 || args.batch || args.transaction {
            Some("holds one result: run one statement at a time")
        } else {
            None
        };
        if let Some(problem) = problem {
            eprintln!("quarry: {format} output {problem}");
            return EXIT_USAGE;
        }
    }
    let connector = match connectors::connect(&conn).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let cancel = CancellationToken::new();
    signals::stop_on_signals(cancel.clone());

    let mut output = match &args.output {
        Some(path) => match AtomicFile::create_shared(path) {
            Ok(f) => Output::File(f),
            Err(e) => {
                let message = format!("cannot write {}: {e}", path.display());
                eprintln!("quarry: {}", sanitize_multiline(&message));
                return EXIT_USAGE;
            }
        },
        None => Output::stdout(format),
    };
    let item_json = (conn.kind == config::ConnectionKind::Dynamodb
        && matches!(format, Format::Json | Format::Jsonl))
    .then_some(if args.dynamodb_json {
        connectors::ItemJson::Typed
    } else {
        connectors::ItemJson::Plain
    });
    // Redshift Data: a script's statements share one session (temp tables carry over); it is
    // ended when the script is done instead of idling on the server.
    let session = |req: QueryRequest| QueryRequest {
        session_key: Some(CLI_SESSION.to_string()),
        use_session: (statements.len() > 1).then_some(true),
        label: Some(script_label(args)),
        ..req
    };
    // Every statement is recorded before it is sent and completed when it ends.
    let mut history = RunHistory::open(config);
    if args.batch || args.transaction {
        let mode = if args.batch && !redshift_data {
            connectors::GroupMode::Batch
        } else {
            connectors::GroupMode::Transaction
        };
        let requests: Vec<QueryRequest> = statements
            .iter()
            .zip(params)
            .map(|(sql, params)| {
                session(QueryRequest {
                    sql: sql.clone(),
                    params,
                    item_json,
                    ..QueryRequest::default()
                })
            })
            .collect();
        let run_ids = requests
            .iter()
            .map(|r| history.start(&conn.name, &r.sql, r.params.len()))
            .collect();
        let code = run_group(
            (&*connector, conn.kind),
            mode,
            requests,
            format,
            (output, args.output.as_deref()),
            cancel,
            (&mut history, run_ids),
        )
        .await;
        end_cli_session(&*connector).await;
        return code;
    }
    for (i, (sql, params)) in statements.iter().zip(params).enumerate() {
        if i > 0
            && matches!(
                format,
                Format::Csv | Format::Tsv | Format::Table | Format::Markdown
            )
        {
            let _ = writeln!(output);
        }
        let request = QueryRequest {
            sql: sql.clone(),
            params,
            workgroup: args.workgroup.clone(),
            result_reuse: if args.reuse {
                Some(true)
            } else if args.no_reuse {
                Some(false)
            } else {
                None
            },
            reopen: args.reopen.clone(),
            spark_session: args.spark_session.clone(),
            // DynamoDB items as JSON keep exact numbers, sets and binary (Arrow would not).
            item_json,
            consistent_read: args.consistent_read.then_some(true),
            capacity_by_index: args.index_capacity,
            limit: args.limit,
            ..session(QueryRequest::default())
        };
        let mut last_stats = JobStats::default();
        let run_id = history.start(&conn.name, sql, request.params.len());
        let ran = run_one(
            (&*connector, conn.kind),
            request,
            format,
            output,
            cancel.clone(),
            &mut last_stats,
        )
        .await;
        history.end(run_id, run_end(&ran, &last_stats));
        match ran {
            Ok((out, summary)) => {
                output = out;
                if args.stats {
                    print_stats("SUCCEEDED", Some(summary.rows), &summary.stats);
                }
            }
            Err(e) => {
                // What a failed or cancelled query scanned (and cost) matters as much.
                if args.stats && last_stats != JobStats::default() {
                    let state = match e {
                        RunError::Cancelled => "CANCELLED",
                        _ => "FAILED",
                    };
                    print_stats(state, None, &last_stats);
                }
                // Dropping the output discards a half-written file.
                let n = statements.len();
                let which = if n > 1 {
                    format!(" (statement {} of {n})", i + 1)
                } else {
                    String::new()
                };
                end_cli_session(&*connector).await;
                if let RunError::Output(reason) = &e {
                    return output_failed(args.output.as_deref(), &which, reason);
                }
                // Server messages echo identifiers and values: never raw control characters.
                let message = e.to_string();
                eprintln!(
                    "quarry: query failed{which}: {}",
                    sanitize_multiline(&message)
                );
                return match e {
                    RunError::Cancelled => 130,
                    RunError::Usage(_) => EXIT_USAGE,
                    _ => EXIT_QUERY,
                };
            }
        }
    }
    end_cli_session(&*connector).await;
    if let Err(e) = output.commit() {
        return output_failed(args.output.as_deref(), "", &e.to_string());
    }
    0
}

/// Writing the result failed: a closed pipe (`quarry run … | head -2`) ends quietly with the
/// status a shell gives a tool stopped by SIGPIPE, as other Unix tools do; anything else
/// (a full disk, a read-only file system) is reported with the file it was writing.
fn output_failed(path: Option<&Path>, which: &str, reason: &str) -> i32 {
    if path.is_none() && output::stdout_closed() {
        return output::EXIT_CLOSED_PIPE;
    }
    let destination = match path {
        Some(p) => p.display().to_string(),
        None => "stdout".to_string(),
    };
    let message = format!("writing {destination} failed{which}: {reason}");
    eprintln!("quarry: {}", sanitize_multiline(&message));
    EXIT_QUERY
}

/// How much history to keep: the config's `[history] max_entries` / `max_age_days`.
pub fn history_retention(config: &Config) -> Retention {
    config.history.retention()
}

/// `quarry run`'s history, best effort: the first failure prints one `quarry: note: history: …`
/// line and turns recording off for the rest of the run; it never fails the run.
struct RunHistory(Option<History>);

impl RunHistory {
    fn open(config: &Config) -> RunHistory {
        match History::open_default(history_retention(config)) {
            Ok(h) => RunHistory(Some(h)),
            Err(e) => {
                Self::note(&e);
                RunHistory(None)
            }
        }
    }

    fn note(e: &HistoryError) {
        eprintln!(
            "quarry: note: history: {}",
            crate::results::sanitize_line(&e.to_string())
        );
    }

    /// Records a statement about to be sent (parameter values are never stored, only counted).
    fn start(&mut self, connection: &str, sql: &str, params: usize) -> Option<RunId> {
        let history = self.0.as_ref()?;
        let run = NewRun {
            connection: connection.to_string(),
            tab: None,
            sql: sql.to_string(),
            params,
        };
        match history.record_start(run) {
            Ok(id) => Some(id),
            Err(e) => {
                Self::note(&e);
                self.0 = None;
                None
            }
        }
    }

    fn end(&mut self, id: Option<RunId>, outcome: RunEnd) {
        if let (Some(history), Some(id)) = (&self.0, id)
            && let Err(e) = history.record_end(&id, outcome)
        {
            Self::note(&e);
            self.0 = None;
        }
    }
}

/// How a statement of `quarry run` ended, for the history.
fn run_end(
    ran: &Result<(Output, connectors::JobSummary), RunError>,
    last_stats: &JobStats,
) -> RunEnd {
    match ran {
        Ok((_, summary)) => RunEnd::succeeded(summary.rows, &summary.stats),
        Err(RunError::Cancelled) => RunEnd::cancelled(last_stats),
        Err(e) => RunEnd::failed(e.to_string(), last_stats),
    }
}

/// The key a script's session is kept under.
const CLI_SESSION: &str = "cli";

/// `StatementName` of a script's statements: `quarry:<file name>`, or `quarry:cli`.
fn script_label(args: &RunArgs) -> String {
    args.file
        .as_deref()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| CLI_SESSION.to_string())
}

/// Ends the script's server-side session, if it opened one (a failure only warns: the session
/// idles out by itself).
async fn end_cli_session(connector: &dyn connectors::Connector) {
    if let Err(e) = connector.end_session(CLI_SESSION).await {
        eprintln!("quarry: note: {}", sanitize_multiline(&e.to_string()));
    }
}

/// `--param name=value` values for the `:name` parameters of each statement (Redshift Data).
fn named_param_values(
    statements: &[String],
    params: &[String],
) -> Result<Vec<Vec<String>>, String> {
    let mut given: Vec<(&str, &str)> = Vec::new();
    for p in params {
        let Some((name, value)) = p.split_once('=') else {
            return Err(format!(
                "--param `{p}`: Redshift Data parameters are given as name=value (for `:name`)"
            ));
        };
        given.push((name.trim().trim_start_matches(':'), value));
    }
    let mut used = vec![false; given.len()];
    let mut all = Vec::new();
    for sql in statements {
        let mut values = Vec::new();
        for name in crate::sql::named_params(sql) {
            let Some(i) = given.iter().position(|(n, _)| *n == name) else {
                return Err(format!(
                    "the SQL uses `:{name}` but no --param {name}=VALUE was given"
                ));
            };
            used[i] = true;
            values.push(given[i].1.to_string());
        }
        all.push(values);
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(format!(
            "--param {}: the SQL has no `:{}` parameter",
            params[i], given[i].0
        ));
    }
    Ok(all)
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("{0}")]
    Query(String),
    #[error("cancelled")]
    Cancelled,
    /// The request itself was wrong (a parameter value, a count): nothing ran.
    #[error("{0}")]
    Usage(String),
    /// Writing the result failed (a full disk, a closed pipe): the reason, without the
    /// destination, which the caller names.
    #[error("{0}")]
    Output(String),
}

/// Splits the `--param` values among the statements by their `?` counts.
fn split_params(statements: &[String], params: &[String]) -> Result<Vec<Vec<String>>, String> {
    let counts: Vec<usize> = statements
        .iter()
        .map(|s| crate::sql::positional_count(s))
        .collect();
    if params.iter().any(|p| p.trim().is_empty()) {
        return Err("a --param value is empty: give an SQL literal such as '' or NULL".into());
    }
    let total: usize = counts.iter().sum();
    if total != params.len() {
        return Err(format!(
            "the SQL has {total} `?` placeholder(s) but {} --param value(s) were given",
            params.len()
        ));
    }
    let mut rest = params;
    Ok(counts
        .into_iter()
        .map(|n| {
            let (mine, others) = rest.split_at(n);
            rest = others;
            mine.to_vec()
        })
        .collect())
}

/// `--stats`: one `label: value` line each, on stderr (stdout holds the rows).
fn print_stats(state: &str, rows: Option<u64>, s: &JobStats) {
    let mut lines = Vec::new();
    if let Some(id) = &s.server_id {
        lines.push(format!("server id: {id}"));
    }
    lines.push(format!("state: {state}"));
    if let Some(rows) = rows {
        lines.push(format!("rows: {rows}"));
    }
    if let Some(b) = s.bytes_scanned {
        lines.push(format!("bytes scanned: {b}"));
    }
    if let Some(c) = s.cost_usd {
        lines.push(format!("cost: ${c:.6}"));
    }
    for (label, value) in &s.extra {
        lines.push(format!("{label}: {value}"));
    }
    for line in lines {
        eprintln!("{}", crate::results::sanitize_line(&line));
    }
}

/// `quarry ls`: the browser's children of `path`, one per line.
pub async fn ls(config: &Config, connection: Option<&str>, path: &[String]) -> i32 {
    let conn = match pick_connection(config, connection) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e));
            return EXIT_USAGE;
        }
    };
    let connector = match connectors::connect(&conn).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    match connector.children(&path.to_vec()).await {
        Ok(nodes) => {
            let mut out = inert::stdout(inert::Escape::Visible);
            for n in nodes {
                let clean = |t: &str| crate::results::sanitize_line(t).replace('\t', " ");
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}",
                    clean(&n.name),
                    n.kind.name(),
                    clean(n.detail.as_deref().unwrap_or(""))
                );
            }
            if out.flush().is_err() {
                return EXIT_QUERY;
            }
            0
        }
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            EXIT_QUERY
        }
    }
}

async fn run_one(
    (connector, kind): (&dyn connectors::Connector, ConnectionKind),
    request: QueryRequest,
    format: Format,
    output: Output,
    cancel: CancellationToken,
    last_stats: &mut JobStats,
) -> Result<(Output, connectors::JobSummary), RunError> {
    let (tx, rx) = mpsc::channel(8);
    let sink = JobSink::new(0, tx);
    let shape = (
        request.item_json.is_some(),
        kind.capabilities().schema_grows,
    );
    // A writer that fails (a full disk, a closed pipe) stops the query, on the server too.
    let job_cancel = cancel.child_token();
    let stop_on_failure = job_cancel.clone();
    // The writer runs as a task of its own: formatting rows (CSV, Parquet…) on one core while
    // the connector receives and converts the next ones on the other.
    let consume = tokio::spawn(async move {
        let mut stats = JobStats::default();
        let written = output::write_events(rx, format, output, shape, &mut stats).await;
        if written.is_err() {
            stop_on_failure.cancel();
        }
        (written, stats)
    });
    let result = connector.execute(request, sink, job_cancel).await;
    let written = match consume.await {
        Ok((written, stats)) => {
            *last_stats = stats;
            written
        }
        Err(e) => Err(RunError::Output(format!("the output writer failed: {e}"))),
    };
    finish(result, written, cancel.is_cancelled())
}

/// A finished statement: its message on stderr, or the error it ended with. When the writer
/// failed, its reason (ENOSPC, a closed pipe) is the error: the connector only saw its
/// receiver go, or the stop that followed — unless the user cancelled first.
fn finish(
    result: Result<connectors::JobSummary, ConnectorError>,
    written: Result<Output, RunError>,
    user_cancelled: bool,
) -> Result<(Output, connectors::JobSummary), RunError> {
    match (result, written) {
        (Err(ConnectorError::Cancelled), _) if user_cancelled => Err(RunError::Cancelled),
        (Ok(_) | Err(ConnectorError::Cancelled | ConnectorError::Disconnected), Err(e)) => Err(e),
        (Ok(summary), Ok(out)) => {
            if let Some(m) = &summary.message {
                eprintln!("{}", sanitize_multiline(m));
            }
            Ok((out, summary))
        }
        (Err(ConnectorError::Cancelled), _) => Err(RunError::Cancelled),
        (Err(ConnectorError::Config(e)), _) => Err(RunError::Usage(e)),
        (Err(e), _) => Err(RunError::Query(e.to_string())),
    }
}

/// `--batch` / `--transaction`: every statement in one group call (DynamoDB). Each statement's
/// rows are written in order; failures are reported per statement, then a summary line.
async fn run_group(
    (connector, kind): (&dyn connectors::Connector, ConnectionKind),
    mode: connectors::GroupMode,
    requests: Vec<QueryRequest>,
    format: Format,
    (mut output, destination): (Output, Option<&Path>),
    cancel: CancellationToken,
    (history, run_ids): (&mut RunHistory, Vec<Option<RunId>>),
) -> i32 {
    let mut run_ids = run_ids.into_iter();
    let shape = (
        requests.iter().any(|r| r.item_json.is_some()),
        kind.capabilities().schema_grows,
    );
    let mut sinks = Vec::new();
    let mut receivers = Vec::new();
    for i in 0..requests.len() {
        // Each statement of a group yields a handful of events (≤ 1 item): they all fit.
        let (tx, rx) = mpsc::channel(16);
        sinks.push(JobSink::new(i as u64, tx));
        receivers.push(rx);
    }
    let outcomes = connector.execute_group(mode, requests, sinks, cancel).await;
    let (mut ok, mut failed, mut usage) = (0, 0, false);
    for (i, (rx, outcome)) in receivers.into_iter().zip(outcomes).enumerate() {
        let mut stats = JobStats::default();
        let written = output::write_events(rx, format, output, shape, &mut stats).await;
        let end = match (&outcome, &written) {
            (Ok(summary), Ok(_)) => RunEnd::succeeded(summary.rows, &summary.stats),
            (Ok(summary), Err(e)) => RunEnd::failed(e.to_string(), &summary.stats),
            (Err(ConnectorError::Cancelled), _) => RunEnd::cancelled(&stats),
            (Err(e), _) => RunEnd::failed(e.to_string(), &stats),
        };
        history.end(run_ids.next().flatten(), end);
        output = match written {
            Ok(out) => out,
            Err(e) => {
                for id in run_ids {
                    history.end(id, RunEnd::failed(e.to_string(), &JobStats::default()));
                }
                if let RunError::Output(reason) = &e {
                    return output_failed(destination, "", reason);
                }
                eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
                return EXIT_QUERY;
            }
        };
        match outcome {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                usage |= matches!(e, ConnectorError::Config(_));
                eprintln!(
                    "statement {}: {}",
                    i + 1,
                    sanitize_multiline(&e.to_string())
                );
            }
        }
    }
    eprintln!("{}: {ok} succeeded, {failed} failed", mode.name());
    if let Err(e) = output.commit() {
        return output_failed(destination, "", &e.to_string());
    }
    match (failed, usage) {
        (0, _) => 0,
        (_, true) => EXIT_USAGE,
        _ => EXIT_QUERY,
    }
}

fn read_sql(args: &RunArgs) -> Result<String, String> {
    match (&args.sql, &args.file) {
        (Some(sql), _) => Ok(sql.clone()),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        (None, None) if !io::stdin().is_terminal() => {
            let mut s = String::new();
            io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            Ok(s)
        }
        (None, None) => Err("give the SQL to run, or -f FILE (see `quarry run --help`)".into()),
    }
}
