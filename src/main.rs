//! `quarry`: the TUI, or `quarry run …` for scripts. Parses the command line, loads the config,
//! sets up logging and hands over.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use quarry::app::keymap::Keymap;
use quarry::app::{ConnectionInfo, StateInit};
use quarry::cli::{self, Cli, Command, EXIT_USAGE};
use quarry::store::config::ConnectionDetails;
use quarry::store::{DataPaths, drafts};

fn main() -> ExitCode {
    let args = Cli::parse();
    let code = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(dispatch(args)),
        Err(e) => {
            eprintln!("quarry: cannot start the async runtime: {e}");
            1
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
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
    match &args.command {
        Some(Command::Run(run)) => cli::run(&config, args.connection.as_deref(), run).await,
        Some(Command::Connections) => cli::connections(&config),
        Some(Command::Ls { path }) => cli::ls(&config, args.connection.as_deref(), path).await,
        Some(Command::History(h)) => cli::history(&config, args.connection.as_deref(), h),
        Some(Command::Spark { command }) => {
            cli::spark_command(&config, args.connection.as_deref(), command).await
        }
        Some(Command::Snippets { command }) => {
            cli::snippets_command(&config, args.connection.as_deref(), command).await
        }
        Some(Command::Config { .. }) => 0,
        None => tui(config, args.connection).await,
    }
}

async fn tui(config: quarry::store::Config, connection: Option<String>) -> i32 {
    let keymap = match Keymap::new(&config.keys) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("quarry: keymap: {e}");
            return EXIT_USAGE;
        }
    };
    let initial = connection.or(config.default_connection.clone());
    if let Some(name) = &initial
        && let Err(e) = cli::pick_connection(&config, Some(name))
    {
        eprintln!("quarry: {e}");
        return EXIT_USAGE;
    }
    let paths = match DataPaths::resolve().and_then(|p| p.ensure().map(|_| p)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("quarry: {e}");
            return EXIT_USAGE;
        }
    };
    let _log = init_logging(&paths);
    let drafts = drafts::load(&paths.drafts_file).unwrap_or_else(|e| {
        tracing::warn!("drafts not restored: {e}");
        Vec::new()
    });
    let connections = config.all_connections();
    let infos = connections
        .iter()
        .map(|c| ConnectionInfo {
            name: c.name.clone(),
            kind: c.kind,
            detail: match &c.details {
                ConnectionDetails::Local { paths } if paths.is_empty() => "sample data".into(),
                ConnectionDetails::Local { paths } => format!("{} path(s)", paths.len()),
                ConnectionDetails::Athena { workgroup, .. } => {
                    [c.region.clone(), workgroup.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · ")
                }
                ConnectionDetails::RedshiftData {
                    cluster_identifier,
                    workgroup_name,
                    database,
                    ..
                } => [
                    c.region.clone(),
                    cluster_identifier.clone().or(workgroup_name.clone()),
                    Some(database.clone()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
                ConnectionDetails::Redshift {
                    host,
                    port,
                    database,
                    engine,
                    iam,
                    ..
                } => {
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
            },
            result_reuse: matches!(
                c.details,
                ConnectionDetails::Athena {
                    result_reuse_minutes: Some(_),
                    ..
                }
            ),
            sessions: matches!(
                c.details,
                ConnectionDetails::RedshiftData {
                    session_keep_alive_seconds: Some(1..),
                    ..
                }
            ),
        })
        .collect();
    let init = StateInit {
        connections: infos,
        keymap,
        drafts,
        initial_connection: initial,
        area: Default::default(),
        now: Instant::now(),
        max_column_width: config.ui.max_column_width,
        max_loaded_rows: config.ui.max_loaded_rows,
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
        paths,
        theme: config.ui.theme.clone(),
        stores,
    };
    match quarry::tui::run(opts).await {
        Ok(()) => 0,
        Err(e) => {
            quarry::tui::restore_terminal();
            eprintln!("quarry: terminal error: {e}");
            1
        }
    }
}

/// Logs go to `<data dir>/logs/quarry.log`; the guard flushes them on exit.
fn init_logging(paths: &DataPaths) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let file = tracing_appender::rolling::never(&paths.log_dir, "quarry.log");
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUARRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        // The AWS SDK logs request bodies (SQL, parameter values) at debug and trace: never.
        .add_directive("aws_smithy_runtime=info".parse().expect("valid directive"))
        .add_directive(
            "aws_smithy_runtime_api=info"
                .parse()
                .expect("valid directive"),
        )
        .add_directive("aws_sdk_athena=info".parse().expect("valid directive"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
