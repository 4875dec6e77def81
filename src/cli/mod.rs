//! The command line: `quarry` (the TUI), `quarry run …` (scripting, same engine, no TUI),
//! `quarry connections`, `quarry spark …` (Athena Spark sessions) and `quarry config …`.
//! This file holds the command line's shape (clap) and what every subcommand shares; each
//! subcommand lives in a file of its own.

mod catalog;
mod complete;
mod config;
mod connections;
mod group;
mod history;
mod inert;
mod ls;
mod output;
mod params;
mod run;
mod signals;
mod snippets;
mod spark;
mod statement;

pub use catalog::{CatalogCommand, catalog_command};
pub use complete::{CompleteArgs, complete_command};
pub use config::config_command;
pub use connections::connections;
pub use history::history;
pub use ls::ls;
pub use run::run;
pub use snippets::{SnippetsCommand, SnippetsFormat, snippets_command};
pub use spark::{SparkCommand, spark_command};

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::export::Format;
use crate::results::sanitize_multiline;
use crate::store::config::{Config, ConnectionConfig};
use crate::store::history::Retention;
use statement::RunError;

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
    /// The catalog completion knows of a connection (`-c NAME`): `refresh` lists it again
    /// and caches it, `show` prints the cached tables.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Completion candidates at a cursor (`--sql TEXT --cursor N`), one per line: name, kind,
    /// detail. Names come from the completion cache or the browser's metadata calls; no
    /// statement is run.
    Complete(CompleteArgs),
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
    crate::store::config::load(path).map_err(|e| {
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

/// How much history to keep: the config's `[history] max_entries` / `max_age_days`.
pub fn history_retention(config: &Config) -> Retention {
    config.history.retention()
}
