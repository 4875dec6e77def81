//! `quarry`: the TUI, or `quarry run …` for scripts. Parses the command line, loads the config,
//! sets up logging and hands over.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use quarry::app::keymap::Keymap;
use quarry::app::{ConnectionInfo, StateInit};
use quarry::cli::{self, Cli, Command, EXIT_USAGE};
use quarry::store::config::{
    AthenaConfig, ConnectionDetails, LocalConfig, RedshiftConfig, RedshiftDataConfig,
};
use quarry::store::{DataPaths, drafts};

fn main() -> ExitCode {
    quarry::panics::install(quarry::tui::restore_terminal);
    let args = Cli::parse();
    let code = match runtime() {
        Ok(rt) => {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rt.block_on(dispatch(args))
            }));
            match run {
                Ok(code) => code,
                Err(_) => {
                    // The hook restored the terminal and printed the message; tasks still
                    // running get a moment, not a wait on whatever they block on.
                    rt.shutdown_timeout(Duration::from_millis(500));
                    quarry::panics::EXIT_PANIC
                }
            }
        }
        Err(e) => {
            eprintln!("quarry: cannot start the async runtime: {e}");
            1
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(quarry::THREAD_STACK)
        .build()
}

async fn dispatch(args: Cli) -> i32 {
    // `config init|path` must work when the config file is broken or missing.
    if let Some(Command::Config { command }) = &args.command {
        return cli::config_command(args.config.as_deref(), command);
    }
    let config = match cli::load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match args.command {
        // The TUI's loop stays on the main thread: a panic there restores the terminal.
        None => tui(config, args.connection).await,
        Some(command) => command_in_task(config, args.connection, command).await,
    }
}

/// Runs a subcommand on a runtime thread (its generous stack plans deep statements) with its
/// panics contained: a bug ends the command with a message and code 101, not an abort.
async fn command_in_task(
    config: quarry::store::Config,
    connection: Option<String>,
    command: Command,
) -> i32 {
    let task = tokio::spawn(quarry::panics::contained(async move {
        quarry::panics::injection_point("command");
        let connection = connection.as_deref();
        match &command {
            Command::Run(run) => cli::run(&config, connection, run).await,
            Command::Connections => cli::connections(&config),
            Command::Ls { path } => cli::ls(&config, connection, path).await,
            Command::History(h) => cli::history(&config, connection, h),
            Command::Spark { command } => cli::spark_command(&config, connection, command).await,
            Command::Snippets { command } => {
                cli::snippets_command(&config, connection, command).await
            }
            Command::Catalog { command } => {
                cli::catalog_command(&config, connection, command).await
            }
            Command::Complete(args) => cli::complete_command(&config, connection, args).await,
            Command::Config { .. } => 0,
        }
    }));
    let panic = match task.await {
        Ok(Ok(code)) => return code,
        Ok(Err(panic)) => panic,
        Err(e) => e.to_string(),
    };
    eprintln!("quarry: internal error: {panic} (please report it)");
    quarry::panics::EXIT_PANIC
}

async fn tui(config: quarry::store::Config, connection: Option<String>) -> i32 {
    let keymap = match Keymap::new(&config.keys) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("quarry: keymap: {e}");
            return EXIT_USAGE;
        }
    };
    // A broken default connection does not keep the TUI from starting: the status bar says
    // why, and tabs open on the first usable one. (`-c` of a broken one is refused.)
    let default = config
        .default_connection
        .clone()
        .filter(|name| config.broken_named(name).is_none());
    let initial = connection.or(default);
    if let Some(name) = &initial
        && let Err(e) = cli::pick_connection(&config, Some(name))
    {
        eprintln!("quarry: {e}");
        return EXIT_USAGE;
    }
    let paths = match DataPaths::resolve() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("quarry: {e}");
            return EXIT_USAGE;
        }
    };
    // A data directory that cannot be written (read-only, full, not ours) costs the log,
    // drafts and history, never the session: the user is told once, in the status bar.
    let mut notice = paths
        .ensure()
        .err()
        .map(|e| format!("drafts, history and the log are not saved: {e}"))
        .or_else(|| broken_notice(&config));
    let _log = match init_logging(&paths) {
        Ok(guard) => guard,
        Err(e) => {
            notice.get_or_insert(format!("the log is not saved: {e}"));
            None
        }
    };
    let drafts = drafts::load(&paths.drafts_file).unwrap_or_else(|e| {
        tracing::warn!("drafts not restored: {e}");
        Vec::new()
    });
    let connections = config.all_connections();
    let infos = connection_infos(&config, &connections);
    let init = StateInit {
        connections: infos,
        keymap,
        drafts,
        initial_connection: initial,
        area: Default::default(),
        now: Instant::now(),
        max_column_width: config.ui.max_column_width,
        max_loaded_rows: config.ui.max_loaded_rows,
        notice,
    };
    // Opening the history may compact it: off the async threads. A store that cannot be
    // opened is logged and left out; it never stops the TUI.
    let retention = cli::history_retention(&config);
    let stores =
        tokio::task::spawn_blocking(move || quarry::worker::Stores::open_default(retention))
            .await
            .unwrap_or_default();
    let opts = quarry::tui::TuiOptions {
        init,
        connections,
        broken: config.broken.clone(),
        paths,
        theme: config.ui.theme.clone(),
        stores,
        worker_runtime: tokio::runtime::Handle::current(),
    };
    run_event_loop(opts)
}

/// What the browser and the status bar show of each connection (the broken ones too).
fn connection_infos(
    config: &quarry::store::Config,
    connections: &[quarry::store::config::ConnectionConfig],
) -> Vec<ConnectionInfo> {
    connections
        .iter()
        .map(|c| ConnectionInfo {
            name: c.name.clone(),
            kind: c.kind,
            detail: connection_detail(c),
            result_reuse: matches!(
                c.details,
                ConnectionDetails::Athena(AthenaConfig {
                    result_reuse_minutes: Some(_),
                    ..
                })
            ),
            sessions: matches!(
                c.details,
                ConnectionDetails::RedshiftData(RedshiftDataConfig {
                    session_keep_alive_seconds: Some(1..),
                    ..
                })
            ),
            broken: None,
        })
        .chain(config.broken.iter().map(|b| ConnectionInfo {
            name: b.label(),
            // Its kind may be what is wrong; nothing runs on it, so none is shown.
            kind: quarry::store::config::ConnectionKind::Local,
            detail: String::new(),
            result_reuse: false,
            sessions: false,
            broken: Some(b.error.clone()),
        }))
        .collect()
}

/// A connection's detail in the browser: where it points.
fn connection_detail(c: &quarry::store::config::ConnectionConfig) -> String {
    match &c.details {
        ConnectionDetails::Local(LocalConfig { paths }) if paths.is_empty() => "sample data".into(),
        ConnectionDetails::Local(LocalConfig { paths }) => format!("{} path(s)", paths.len()),
        ConnectionDetails::Athena(AthenaConfig { workgroup, .. }) => {
            [c.region.clone(), workgroup.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ")
        }
        ConnectionDetails::RedshiftData(RedshiftDataConfig {
            cluster_identifier,
            workgroup_name,
            database,
            ..
        }) => [
            c.region.clone(),
            cluster_identifier.clone().or(workgroup_name.clone()),
            Some(database.clone()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · "),
        ConnectionDetails::Redshift(RedshiftConfig {
            host,
            port,
            database,
            engine,
            iam,
            ..
        }) => {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let mut detail = format!("{host}{port}/{database}");
            if engine.as_deref() == Some("postgres") {
                detail.push_str(" · postgres");
            }
            if *iam {
                detail.push_str(" · IAM");
            }
            detail
        }
        _ => c.region.clone().unwrap_or_default(),
    }
}

/// Runs the TUI's event loop until it ends; the process's exit code.
fn run_event_loop(opts: quarry::tui::TuiOptions) -> i32 {
    // The event loop gets a runtime of its own on this (the main) thread: its clock — ticks,
    // signals — never waits for the shared runtime's threads, which the worker and the local
    // engine's CPU-bound work may keep busy.
    let ran = tokio::task::block_in_place(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .and_then(|ui_runtime| ui_runtime.block_on(quarry::tui::run(opts)))
    });
    match ran {
        Ok(code) => code,
        Err(e) => {
            quarry::tui::restore_terminal();
            // The terminal may be gone (a closed window): then so is stderr, and `eprintln!`
            // would panic on it.
            let _ = writeln!(std::io::stderr(), "quarry: terminal error: {e}");
            1
        }
    }
}

/// The status bar's first words when the config has broken connections.
fn broken_notice(config: &quarry::store::Config) -> Option<String> {
    let first = config.broken.first()?;
    Some(match config.broken.len() {
        1 => format!("connection `{}` is broken: {}", first.label(), first.error),
        n => format!(
            "{n} connections are broken in the config (marked in the browser); the first: {}",
            first.error
        ),
    })
}

/// Logs go to `<data dir>/logs/quarry.log`; the guard flushes them on exit. A log file that
/// cannot be opened is an error for the caller to mention; nothing is logged then.
fn init_logging(
    paths: &DataPaths,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>, String> {
    let file = tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::NEVER)
        .filename_prefix("quarry.log")
        .build(&paths.log_dir)
        .map_err(|e| format!("{}: {e}", paths.log_dir.join("quarry.log").display()))?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("QUARRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The AWS SDK logs request bodies (SQL, parameter values) at debug and trace: never.
    for quiet in [
        "aws_smithy_runtime",
        "aws_smithy_runtime_api",
        "aws_sdk_athena",
    ] {
        if let Ok(directive) = format!("{quiet}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    let installed = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(installed.ok().map(|()| guard))
}
