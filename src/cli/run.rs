//! `quarry run`: the options checked against the connection, the statements read and split,
//! their parameters shared out, then each statement (or the group of them) run through the
//! worker's job runner into the output.

use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::output::{self, Output};
use super::statement::{RunError, print_stats, run_end, run_one};
use super::{EXIT_QUERY, EXIT_USAGE, RunArgs, history_retention, params, pick_connection};
use super::{group, signals, snippets};
use crate::connectors::{self, Connector, GroupMode, ItemJson, JobStats, QueryRequest};
use crate::export::Format;
use crate::model::connection::ParamStyle;
use crate::results::sanitize_multiline;
use crate::store::AtomicFile;
use crate::store::config::{Config, ConnectionConfig};
use crate::store::history::{History, NewRun};
use crate::worker::recorder::{Failures, RunRecorder};

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
    let prepared = check_options(&conn, args)
        .and_then(|()| statements(args))
        .and_then(|statements| {
            let params = statement_params(&conn, args, &statements)?;
            let format = output_format(args, statements.len())?;
            Ok((statements, params, format))
        });
    let (statements, params, format) = match prepared {
        Ok(p) => p,
        Err(code) => return code,
    };
    let connector = match connectors::connect(&conn).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let cancel = CancellationToken::new();
    signals::stop_on_signals(cancel.clone());
    let output = match open_output(args, format) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let script = Script {
        conn: &conn,
        connector: &*connector,
        args,
        format,
        cancel,
        // Every statement is recorded before it is sent and completed when it ends.
        history: open_history(config),
        count: statements.len(),
    };
    let statements = statements.into_iter().zip(params).collect();
    if args.batch || args.transaction {
        let code = script.run_group(statements, output).await;
        end_cli_session(&*connector).await;
        return code;
    }
    script.run_each(statements, output).await
}

/// A usage error of the options for `conn`'s kind, said on stderr.
fn check_options(conn: &ConnectionConfig, args: &RunArgs) -> Result<(), i32> {
    let can = conn.kind.capabilities();
    let problem = if (args.batch || args.transaction) && !can.groups {
        Some("--batch and --transaction run on DynamoDB and Redshift Data")
    } else if args.spark_session.is_some() && !can.spark {
        Some("--spark-session runs on Athena")
    } else if args.reopen.is_some() && !can.reopen {
        Some("--reopen fetches Athena and Redshift Data results")
    } else {
        None
    };
    match problem {
        Some(problem) => {
            eprintln!(
                "quarry: {problem}: connection `{}` is kind {}",
                conn.name, conn.kind
            );
            Err(EXIT_USAGE)
        }
        None => Ok(()),
    }
}

/// The statements to run: the SQL split on `;`, a Spark calculation whole, or the one reopened
/// execution.
fn statements(args: &RunArgs) -> Result<Vec<String>, i32> {
    let sql = match &args.reopen {
        // Only the execution id matters; the text is what error messages quote.
        Some(id) => format!("-- results of query execution {id}"),
        None => match read_sql(args) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
                return Err(EXIT_USAGE);
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
        return Err(EXIT_USAGE);
    }
    Ok(statements)
}

/// The `--param` values of each statement, as the connection's kind takes them.
fn statement_params(
    conn: &ConnectionConfig,
    args: &RunArgs,
    statements: &[String],
) -> Result<Vec<Vec<String>>, i32> {
    let given = match conn.kind.capabilities().params {
        Some(ParamStyle::Named) => params::named_param_values(statements, &args.params),
        Some(ParamStyle::SqlLiterals | ParamStyle::Json) if args.spark_session.is_none() => {
            params::split_params(statements, &args.params)
        }
        _ if args.params.is_empty() => Ok(vec![Vec::new(); statements.len()]),
        _ => {
            eprintln!(
                "quarry: connection `{}` (kind {}) takes no --param values: write the values in the SQL",
                conn.name, conn.kind
            );
            return Err(EXIT_USAGE);
        }
    };
    given.map_err(|e| {
        eprintln!("quarry: {e}");
        EXIT_USAGE
    })
}

/// The output format (default: table on a terminal, csv otherwise, or from -o's extension); a
/// binary one only into a file or a pipe, for one result.
fn output_format(args: &RunArgs, statements: usize) -> Result<Format, i32> {
    let format = args.format.unwrap_or_else(|| match &args.output {
        Some(p) => Format::from_path(p).unwrap_or(Format::Csv),
        None if io::stdout().is_terminal() => Format::Table,
        None => Format::Csv,
    });
    if format.is_binary() {
        let problem = if args.output.is_none() && io::stdout().is_terminal() {
            Some("is binary: write it to a file with -o FILE, or redirect stdout")
        } else if statements > 1 || args.batch || args.transaction {
            Some("holds one result: run one statement at a time")
        } else {
            None
        };
        if let Some(problem) = problem {
            eprintln!("quarry: {format} output {problem}");
            return Err(EXIT_USAGE);
        }
    }
    Ok(format)
}

/// Where the results go: `-o FILE` (written atomically), else stdout.
fn open_output(args: &RunArgs, format: Format) -> Result<Output, i32> {
    match &args.output {
        Some(path) => match AtomicFile::create_shared(path) {
            Ok(f) => Ok(Output::File(f)),
            Err(e) => {
                let message = format!("cannot write {}: {e}", path.display());
                eprintln!("quarry: {}", sanitize_multiline(&message));
                Err(EXIT_USAGE)
            }
        },
        None => Ok(Output::stdout(format)),
    }
}

/// `quarry run`'s history, best effort: the first failure prints one `quarry: note: history: …`
/// line and turns recording off for the rest of the run; it never fails the run.
fn open_history(config: &Config) -> RunRecorder {
    match History::open_default(history_retention(config)) {
        Ok(h) => RunRecorder::new(Some(Arc::new(h)), Failures::NoteAndStop),
        Err(e) => {
            let recorder = RunRecorder::new(None, Failures::NoteAndStop);
            recorder.failed("the history", e);
            recorder
        }
    }
}

/// One `quarry run`: what every statement of it shares.
struct Script<'a> {
    conn: &'a ConnectionConfig,
    connector: &'a dyn Connector,
    args: &'a RunArgs,
    format: Format,
    cancel: CancellationToken,
    history: RunRecorder,
    /// How many statements the script has.
    count: usize,
}

impl Script<'_> {
    /// DynamoDB items as JSON keep exact numbers, sets and binary (Arrow would not).
    fn item_json(&self) -> Option<ItemJson> {
        (self.conn.kind.capabilities().item_json
            && matches!(self.format, Format::Json | Format::Jsonl))
        .then_some(if self.args.dynamodb_json {
            ItemJson::Typed
        } else {
            ItemJson::Plain
        })
    }

    /// The request of `sql` with its `params`. Redshift Data: a script's statements share one
    /// session (temp tables carry over); it is ended when the script is done instead of idling
    /// on the server.
    fn request(&self, sql: &str, params: Vec<String>) -> QueryRequest {
        QueryRequest {
            sql: sql.to_string(),
            params,
            item_json: self.item_json(),
            session_key: Some(CLI_SESSION.to_string()),
            use_session: (self.count > 1).then_some(true),
            label: Some(script_label(self.args)),
            ..QueryRequest::default()
        }
    }

    /// The history entry of a statement (parameter values are never stored, only counted).
    fn new_run(&self, request: &QueryRequest) -> Option<NewRun> {
        Some(NewRun {
            connection: self.conn.name.clone(),
            tab: None,
            sql: request.sql.clone(),
            params: request.params.len(),
        })
    }

    /// `--batch` / `--transaction`: every statement in one group call.
    async fn run_group(self, statements: Vec<(String, Vec<String>)>, output: Output) -> i32 {
        let can = self.conn.kind.capabilities();
        // Redshift Data's batch is one transaction.
        let mode = if self.args.batch && can.independent_batch {
            GroupMode::Batch
        } else {
            GroupMode::Transaction
        };
        let requests: Vec<QueryRequest> = statements
            .iter()
            .map(|(sql, params)| self.request(sql, params.clone()))
            .collect();
        let runs = requests.iter().map(|r| self.new_run(r)).collect();
        let run_ids = self.history.start(runs).await;
        group::run_group(
            (self.connector, self.conn.kind),
            mode,
            requests,
            self.format,
            (output, self.args.output.as_deref()),
            self.cancel,
            (&self.history, run_ids),
        )
        .await
    }

    /// Each statement in order, its rows after the previous one's.
    async fn run_each(self, statements: Vec<(String, Vec<String>)>, mut output: Output) -> i32 {
        for (i, (sql, params)) in statements.iter().enumerate() {
            if i > 0
                && matches!(
                    self.format,
                    Format::Csv | Format::Tsv | Format::Table | Format::Markdown
                )
            {
                let _ = writeln!(output);
            }
            output = match self.run_statement(sql, params.clone(), output).await {
                Ok(out) => out,
                Err(e) => return self.failed(i, e).await,
            };
        }
        end_cli_session(self.connector).await;
        if let Err(e) = output.commit() {
            return output_failed(self.args.output.as_deref(), "", &e.to_string());
        }
        0
    }

    /// Runs one statement into `output`, recorded in the history; `--stats` are printed.
    async fn run_statement(
        &self,
        sql: &str,
        params: Vec<String>,
        output: Output,
    ) -> Result<Output, RunError> {
        let args = self.args;
        let request = QueryRequest {
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
            consistent_read: args.consistent_read.then_some(true),
            capacity_by_index: args.index_capacity,
            limit: args.limit,
            ..self.request(sql, params)
        };
        let mut last_stats = JobStats::default();
        let run_id = self.history.start(vec![self.new_run(&request)]).await;
        let ran = run_one(
            (self.connector, self.conn.kind),
            request,
            self.format,
            output,
            self.cancel.clone(),
            &mut last_stats,
        )
        .await;
        let end = run_end(&ran, &last_stats);
        self.history
            .end(vec![(run_id.into_iter().flatten().next(), end)])
            .await;
        match ran {
            Ok((out, summary)) => {
                if args.stats {
                    print_stats("SUCCEEDED", Some(summary.rows), &summary.stats);
                }
                Ok(out)
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
                Err(e)
            }
        }
    }

    /// Statement `i` failed with `e`: said on stderr; the exit code. Dropping the output
    /// discards a half-written file.
    async fn failed(&self, i: usize, e: RunError) -> i32 {
        let n = self.count;
        let which = if n > 1 {
            format!(" (statement {} of {n})", i + 1)
        } else {
            String::new()
        };
        end_cli_session(self.connector).await;
        if let RunError::Output(reason) = &e {
            return output_failed(self.args.output.as_deref(), &which, reason);
        }
        // Server messages echo identifiers and values: never raw control characters.
        let message = e.to_string();
        eprintln!(
            "quarry: query failed{which}: {}",
            sanitize_multiline(&message)
        );
        match e {
            RunError::Cancelled => 130,
            RunError::Usage(_) => EXIT_USAGE,
            _ => EXIT_QUERY,
        }
    }
}

/// Writing the result failed: a closed pipe (`quarry run … | head -2`) ends quietly with the
/// status a shell gives a tool stopped by SIGPIPE, as other Unix tools do; anything else
/// (a full disk, a read-only file system) is reported with the file it was writing.
pub(super) fn output_failed(path: Option<&Path>, which: &str, reason: &str) -> i32 {
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
