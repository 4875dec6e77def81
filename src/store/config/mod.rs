//! The config file: connections, key overrides, UI settings.
//!
//! The file is parsed into toml's spanned document (`DeTable`) and walked by hand rather than
//! through `#[derive(Deserialize)]`: every error then names the file, line and key, says which
//! kind a misplaced key belongs to, and never echoes a secret.
//!
//! This file loads the file and walks its top level; each section has its own file, and each
//! kind of connection has one holding its settings struct, its keys, their checks and its parser
//! (see `kinds.rs`).

mod athena;
mod connection;
mod dynamodb;
mod fields;
mod history;
mod keys;
mod kinds;
mod local;
mod redshift;
mod redshift_data;
mod ui;
mod values;

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use super::AtomicFile;
use super::paths::default_config_path;
use crate::model::keys::KeyOverrides;
use values::{Ctx, sorted};

pub use crate::model::connection::ConnectionKind;
pub use athena::{
    AthenaConfig, DEFAULT_ATHENA_CATALOG, DEFAULT_ATHENA_PRICE_PER_TB,
    DEFAULT_SPARK_PRICE_PER_DPU_HOUR,
};
pub use connection::{BrokenConnection, ConnectionConfig, ConnectionDetails};
pub use dynamodb::DynamodbConfig;
pub use history::{DEFAULT_HISTORY_MAX_AGE_DAYS, DEFAULT_HISTORY_MAX_ENTRIES, HistoryConfig};
pub use local::LocalConfig;
pub use redshift::RedshiftConfig;
pub use redshift_data::RedshiftDataConfig;
pub use ui::{DEFAULT_MAX_COLUMN_WIDTH, DEFAULT_MAX_LOADED_ROWS, UiConfig};

/// Names the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "QUARRY_CONFIG";

/// The commented example written by `quarry config init`.
pub const EXAMPLE: &str = include_str!("../../../config/quarry.toml");

/// The name of the built-in embedded-engine connection.
pub const BUILTIN_LOCAL: &str = "local";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: config file not found (it was {origin})", path.display())]
    NotFound { path: PathBuf, origin: &'static str },
    #[error("{}: cannot read the config file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{}: the config file is {what}, not a regular file: give the path of a TOML file",
        path.display()
    )]
    NotRegular { path: PathBuf, what: &'static str },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{}: a config file already exists; not overwriting it (edit it, or move it away first)",
        path.display()
    )]
    AlreadyExists { path: PathBuf },
    #[error(
        "cannot find the config directory (no home directory): give the path to write explicitly"
    )]
    NoConfigDir,
    #[error("{}: cannot write the config file: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ConfigError {
    /// The 1-based line an `Invalid` error points at.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid { line, .. } => Some(*line),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// The file this came from; `None` when no config file exists (all defaults).
    pub source: Option<PathBuf>,
    /// The configured connections, in file order (see [`Config::all_connections`]).
    pub connections: Vec<ConnectionConfig>,
    /// `[[connection]]` tables that are well-formed TOML but wrong (an unknown kind, a missing
    /// key, a duplicate name): listed as broken, refused when used; the others still work.
    pub broken: Vec<BrokenConnection>,
    pub keys: KeyOverrides,
    pub ui: UiConfig,
    /// `[history]`: how much run history to keep.
    pub history: HistoryConfig,
    /// The connection new editor tabs use; checked to name an existing connection.
    pub default_connection: Option<String>,
}

impl Config {
    /// The connections the app can use: the configured ones (but those whose name is broken)
    /// plus a built-in `local` (first), unless the user configured a connection named `local`.
    pub fn all_connections(&self) -> Vec<ConnectionConfig> {
        let mut all = Vec::with_capacity(self.connections.len() + 1);
        // A broken `local` of the user's is not silently replaced by the built-in one.
        let user_local = self.connections.iter().any(|c| c.name == BUILTIN_LOCAL)
            || self.broken_named(BUILTIN_LOCAL).is_some();
        if !user_local {
            all.push(Self::builtin_local());
        }
        all.extend(
            self.connections
                .iter()
                .filter(|c| self.broken_named(&c.name).is_none())
                .cloned(),
        );
        all
    }

    /// The broken connection called `name`. A name that is also a usable connection's (a
    /// duplicate) is broken all the same: which one was meant is not known.
    pub fn broken_named(&self, name: &str) -> Option<&BrokenConnection> {
        self.broken.iter().find(|b| b.name.as_deref() == Some(name))
    }

    /// The embedded engine with no extra files (it registers its bundled sample data itself).
    pub fn builtin_local() -> ConnectionConfig {
        ConnectionConfig {
            name: BUILTIN_LOCAL.to_string(),
            kind: ConnectionKind::Local,
            region: None,
            profile: None,
            endpoint_url: None,
            details: ConnectionDetails::Local(LocalConfig { paths: Vec::new() }),
        }
    }
}

/// Loads the config: `cli_path` (from `--config`), else `$QUARRY_CONFIG`, else the default
/// path. An explicitly named file must exist; a missing default file means all defaults.
pub fn load(cli_path: Option<&Path>) -> Result<Config, ConfigError> {
    load_from(
        cli_path,
        std::env::var_os(CONFIG_ENV),
        default_config_path(),
    )
}

fn load_from(
    cli_path: Option<&Path>,
    env: Option<OsString>,
    default: Option<PathBuf>,
) -> Result<Config, ConfigError> {
    let (path, origin) = match (cli_path, env.filter(|v| !v.is_empty()), default) {
        (Some(p), _, _) => (p.to_path_buf(), Some("given with --config")),
        (None, Some(e), _) => (PathBuf::from(e), Some("named by $QUARRY_CONFIG")),
        (None, None, Some(d)) => (d, None),
        (None, None, None) => return Ok(Config::default()),
    };
    // Reading a FIFO or a device would block forever or never end: only regular files (or
    // links to them) are read.
    if let Ok(meta) = fs::metadata(&path)
        && !meta.is_file()
    {
        let what = describe_file_type(&meta.file_type());
        return Err(ConfigError::NotRegular { path, what });
    }
    match fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match origin {
            Some(origin) => Err(ConfigError::NotFound { path, origin }),
            None => Ok(Config::default()),
        },
        Err(source) => Err(ConfigError::Read { path, source }),
    }
}

/// What a file that is not a regular file is, for messages.
fn describe_file_type(kind: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Parses config text; `source` names the file in errors and anchors relative paths.
pub fn parse(text: &str, source: &Path) -> Result<Config, ConfigError> {
    let ctx = Ctx { text, source };
    let root = DeTable::parse(text).map_err(|e| ctx.toml_error(&e))?;
    let mut config = Config {
        source: Some(source.to_path_buf()),
        ..Config::default()
    };
    let mut default_connection = None;
    for (key, value) in sorted(root.get_ref()) {
        match key.get_ref().as_ref() {
            "default_connection" => {
                default_connection = Some((ctx.string("default_connection", value)?, value.span()))
            }
            "ui" => config.ui = ctx.ui(value)?,
            "history" => config.history = ctx.history(value)?,
            "keys" => config.keys = ctx.keys(value)?,
            "connection" => (config.connections, config.broken) = ctx.connections(value)?,
            "connections" => {
                return Err(ctx.error(
                    key.span(),
                    "unknown key `connections`: write each connection as a `[[connection]]` table",
                ));
            }
            other => {
                return Err(ctx.error(
                    key.span(),
                    format!(
                        "unknown key `{other}` (top-level keys: default_connection, [ui], [history], [keys.*], [[connection]])"
                    ),
                ));
            }
        }
    }
    if let Some((name, span)) = default_connection {
        let all = config.all_connections();
        let broken = config.broken_named(&name).is_some();
        if !broken && !all.iter().any(|c| c.name == name) {
            let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
            return Err(ctx.error(
                span,
                format!(
                    "`default_connection` names `{name}`, which is not a connection (connections: {})",
                    names.join(", ")
                ),
            ));
        }
        config.default_connection = Some(name);
    }
    Ok(config)
}

/// `quarry config init`: writes the commented example to `path` (the default path when
/// `None`), creating parent directories. Never overwrites. Returns the path written.
pub fn init(path: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => default_config_path().ok_or(ConfigError::NoConfigDir)?,
    };
    if path.exists() {
        return Err(ConfigError::AlreadyExists { path });
    }
    let write_err = |source| ConfigError::Write {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(write_err)?;
    }
    let mut file = AtomicFile::create(&path).map_err(write_err)?;
    file.write_all(EXAMPLE.as_bytes()).map_err(write_err)?;
    // No-clobber commit: a file created meanwhile is not replaced either.
    file.commit_no_clobber().map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            ConfigError::AlreadyExists { path: path.clone() }
        } else {
            write_err(e)
        }
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests;
