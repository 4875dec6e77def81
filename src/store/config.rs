//! The config file: connections, key overrides, UI settings.
//!
//! The file is parsed into toml's spanned document (`DeTable`) and walked by hand rather than
//! through `#[derive(Deserialize)]`: every error then names the file, line and key, says which
//! kind a misplaced key belongs to, and never echoes a secret.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::value::{Error as ValueError, StrDeserializer};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::AtomicFile;
use super::paths::{default_config_path, home_dir};
use crate::model::action::Action;
pub use crate::model::connection::ConnectionKind;
use crate::model::keys::{KeyCombo, KeyContext, KeyOverrides, parse_key};

/// Names the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "QUARRY_CONFIG";

/// The commented example written by `quarry config init`.
pub const EXAMPLE: &str = include_str!("../../config/quarry.toml");

/// The default `[ui] max_column_width`.
pub const DEFAULT_MAX_COLUMN_WIDTH: usize = 40;

/// The default `[ui] max_loaded_rows`: rows a result keeps in memory for the grid.
pub const DEFAULT_MAX_LOADED_ROWS: usize = 2_000_000;

/// The default `[history] max_entries`.
pub const DEFAULT_HISTORY_MAX_ENTRIES: usize = 10_000;

/// The default `[history] max_age_days` (0 would keep runs forever).
pub const DEFAULT_HISTORY_MAX_AGE_DAYS: u32 = 90;

/// Athena's list price per TB scanned (USD), used for cost estimates unless configured.
pub const DEFAULT_ATHENA_PRICE_PER_TB: f64 = 5.0;
/// Athena for Apache Spark's list price per DPU-hour (USD), for cost estimates unless configured.
pub const DEFAULT_SPARK_PRICE_PER_DPU_HOUR: f64 = 0.35;
/// Items per DynamoDB run before pausing.
const DYNAMODB_LIMIT: std::ops::Range<i64> = 1..10_000_001;
/// Athena keeps reusable results up to 7 days.
const RESULT_REUSE_MINUTES: std::ops::Range<i64> = 1..10_081;

/// The Athena catalog used when a connection names none.
pub const DEFAULT_ATHENA_CATALOG: &str = "AwsDataCatalog";

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

/// A `[[connection]]` that cannot be used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenConnection {
    /// Its `name`, when it has a usable one.
    pub name: Option<String>,
    /// The line of the config file the error points at.
    pub line: usize,
    /// `file:line:column: message`, as a whole config error would read.
    pub error: String,
}

impl BrokenConnection {
    fn new(name: Option<String>, error: &ConfigError) -> Self {
        BrokenConnection {
            name,
            line: error.line().unwrap_or_default(),
            error: error.to_string(),
        }
    }

    /// The name to list it under (an unnamed one by its error's place).
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| "(unnamed connection)".to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiConfig {
    /// Widest a result column is drawn initially, in terminal cells.
    pub max_column_width: usize,
    /// Highlighting theme name; `None` uses the built-in default.
    pub theme: Option<String>,
    /// Rows a result keeps for the grid; beyond them the query stops loading (the export of the
    /// whole result fetches it again from the service).
    pub max_loaded_rows: usize,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            max_column_width: DEFAULT_MAX_COLUMN_WIDTH,
            theme: None,
            max_loaded_rows: DEFAULT_MAX_LOADED_ROWS,
        }
    }
}

/// `[history]`: how much of the run history (`history.jsonl`) to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryConfig {
    /// The newest runs kept (1..=10 000 000).
    pub max_entries: usize,
    /// Runs older than this many days are dropped (0..=36 500); 0 keeps them forever.
    pub max_age_days: u32,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            max_entries: DEFAULT_HISTORY_MAX_ENTRIES,
            max_age_days: DEFAULT_HISTORY_MAX_AGE_DAYS,
        }
    }
}

impl HistoryConfig {
    /// The history store's retention.
    pub fn retention(self) -> crate::store::history::Retention {
        crate::store::history::Retention {
            max_entries: self.max_entries,
            max_age_days: self.max_age_days,
        }
    }
}

impl From<HistoryConfig> for crate::store::history::Retention {
    fn from(h: HistoryConfig) -> Self {
        h.retention()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionConfig {
    pub name: String,
    pub kind: ConnectionKind,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub details: ConnectionDetails,
}

impl ConnectionKind {
    /// The keys only this kind takes.
    fn own_keys(self) -> &'static [&'static str] {
        match self {
            ConnectionKind::Athena => &[
                "workgroup",
                "catalog",
                "database",
                "output_location",
                "result_reuse_minutes",
                "scan_price_per_tb",
                "dpu_price_per_hour",
                "s3_endpoint_url",
            ],
            ConnectionKind::RedshiftData => &[
                "cluster_identifier",
                "workgroup_name",
                "database",
                "db_user",
                "secret_arn",
                "session_keep_alive_seconds",
            ],
            ConnectionKind::Redshift => &[
                "host",
                "port",
                "user",
                "database",
                "password_env",
                "sslmode",
                "sslrootcert",
                "engine",
                "connect_timeout_seconds",
                "iam",
                "cluster_identifier",
                "workgroup_name",
                "db_groups",
                "auto_create",
            ],
            ConnectionKind::Dynamodb => &["limit", "consistent_read"],
            ConnectionKind::Local => &["paths"],
        }
    }

    /// Every key a connection of this kind accepts, for error messages.
    fn all_keys(self) -> Vec<&'static str> {
        let mut keys = vec!["name", "kind"];
        if self.is_aws() {
            keys.extend(AWS_KEYS);
        }
        keys.extend(self.own_keys());
        keys
    }
}

/// A value read from the file and where it was.
type WithSpan<T> = (T, Range<usize>);

const AWS_KEYS: [&str; 3] = ["region", "profile", "endpoint_url"];
const SSL_MODES: [&str; 4] = ["disable", "prefer", "require", "verify-full"];
const ENGINES: [&str; 2] = ["redshift", "postgres"];
const MAX_KEEP_ALIVE_SECONDS: i64 = 86_400;
const COLUMN_WIDTH_RANGE: std::ops::RangeInclusive<i64> = 3..=1000;
const LOADED_ROWS_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000_000;
const HISTORY_ENTRIES_RANGE: std::ops::RangeInclusive<i64> = 1..=10_000_000;
const HISTORY_AGE_RANGE: std::ops::RangeInclusive<i64> = 0..=36_500;

#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionDetails {
    Athena {
        workgroup: Option<String>,
        /// Always `Some`: [`DEFAULT_ATHENA_CATALOG`] when the file names none.
        catalog: Option<String>,
        database: Option<String>,
        /// `s3://…`; `None` uses the workgroup's result location.
        output_location: Option<String>,
        /// Reuse a previous result of the same query up to this age (minutes); `None`: off.
        result_reuse_minutes: Option<u32>,
        /// USD per TB scanned, for cost estimates; `None`: [`DEFAULT_ATHENA_PRICE_PER_TB`].
        scan_price_per_tb: Option<f64>,
        /// USD per DPU-hour of Spark calculations; `None`: [`DEFAULT_SPARK_PRICE_PER_DPU_HOUR`].
        dpu_price_per_hour: Option<f64>,
        /// Where Spark calculation results are read from S3 when not the standard endpoint (an
        /// S3-compatible server, a VPC endpoint); path-style addressing is used then.
        s3_endpoint_url: Option<String>,
    },
    RedshiftData {
        /// Exactly one of `cluster_identifier` (provisioned) and `workgroup_name` (serverless).
        cluster_identifier: Option<String>,
        workgroup_name: Option<String>,
        database: String,
        db_user: Option<String>,
        secret_arn: Option<String>,
        session_keep_alive_seconds: Option<u32>,
    },
    Redshift {
        host: String,
        port: Option<u16>,
        /// Required without IAM; with IAM on a cluster it is the `DbUser` to get credentials
        /// for (none: the IAM identity itself, `GetClusterCredentialsWithIAM`).
        user: Option<String>,
        database: String,
        /// The environment variable holding the password (passwords never go in the file).
        password_env: Option<String>,
        /// One of [`SSL_MODES`]; `None`: `prefer`.
        sslmode: Option<String>,
        /// PEM file of the certificates `verify-full` trusts instead of the system's roots
        /// (e.g. Amazon's Redshift CA bundle); `~` expanded, relative to the config file.
        sslrootcert: Option<PathBuf>,
        /// `redshift` or `postgres`; `None`: `redshift`.
        engine: Option<String>,
        connect_timeout_seconds: Option<u32>,
        /// Get temporary credentials from IAM instead of a password.
        iam: bool,
        /// IAM: the cluster or serverless workgroup (else read from an AWS endpoint `host`).
        cluster_identifier: Option<String>,
        workgroup_name: Option<String>,
        /// IAM with a `user`: groups the temporary user joins, and whether it is created.
        db_groups: Vec<String>,
        auto_create: bool,
    },
    Dynamodb {
        /// Items loaded per run before Quarry pauses (the rest on "load more"); `None`: all.
        limit: Option<u32>,
        /// Strongly consistent reads (twice the read capacity).
        consistent_read: bool,
    },
    Local {
        /// Files and directories to register, `~` expanded, relative ones made relative to the
        /// config file's directory. They need not exist yet.
        paths: Vec<PathBuf>,
    },
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
            details: ConnectionDetails::Local { paths: Vec::new() },
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

type Entry<'a, 'i> = (
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
);

/// A table's entries in file order, so the first error reported is the first in the file
/// whatever map type toml was built with.
fn sorted<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<Entry<'a, 'i>> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

fn find<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<Entry<'a, 'i>> {
    table.iter().find(|(k, _)| k.get_ref().as_ref() == key)
}

/// The text being parsed, to turn byte spans into `file:line:column` errors.
struct Ctx<'a> {
    text: &'a str,
    source: &'a Path,
}

impl Ctx<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        ConfigError::Invalid {
            path: self.source.to_path_buf(),
            line,
            column,
            message: escape_controls(&message.into()),
        }
    }

    fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or(0..0);
        let mut message = format!("invalid TOML: {}", e.message().trim_end());
        // Name what the error points at ("duplicate key" alone does not say which).
        if let Some(at) = self.text.get(span.clone()).map(str::trim)
            && !at.is_empty()
            && at.len() <= 40
            && !at.contains('\n')
        {
            message.push_str(&format!(" (at `{at}`)"));
        }
        self.error(span, message)
    }

    fn type_error(&self, key: &str, want: &str, value: &Spanned<DeValue<'_>>) -> ConfigError {
        self.error(
            value.span(),
            format!(
                "`{key}` must be {want}, found {}",
                value.get_ref().type_str()
            ),
        )
    }

    fn string(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Result<String, ConfigError> {
        match value.get_ref() {
            DeValue::String(s) if s.trim().is_empty() => {
                Err(self.error(value.span(), format!("`{key}` must not be empty")))
            }
            DeValue::String(s) => Ok(s.to_string()),
            _ => Err(self.type_error(key, "a string", value)),
        }
    }

    fn integer(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Result<i64, ConfigError> {
        match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| self.error(value.span(), format!("`{key}` is out of range"))),
            _ => Err(self.type_error(key, "an integer", value)),
        }
    }

    fn boolean(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Result<bool, ConfigError> {
        match value.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            _ => Err(self.type_error(key, "true or false", value)),
        }
    }

    fn table<'a, 'i>(
        &self,
        key: &str,
        value: &'a Spanned<DeValue<'i>>,
    ) -> Result<&'a DeTable<'i>, ConfigError> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(t),
            _ => Err(self.type_error(key, &format!("a table ([{key}])"), value)),
        }
    }

    fn ui(&self, value: &Spanned<DeValue<'_>>) -> Result<UiConfig, ConfigError> {
        let mut ui = UiConfig::default();
        for (key, value) in sorted(self.table("ui", value)?) {
            match key.get_ref().as_ref() {
                "max_column_width" => {
                    let n = self.integer("max_column_width", value)?;
                    if !COLUMN_WIDTH_RANGE.contains(&n) {
                        return Err(self.error(
                            value.span(),
                            format!(
                                "`max_column_width` must be between {} and {}, found {n}",
                                COLUMN_WIDTH_RANGE.start(),
                                COLUMN_WIDTH_RANGE.end()
                            ),
                        ));
                    }
                    ui.max_column_width = usize::try_from(n).unwrap_or(DEFAULT_MAX_COLUMN_WIDTH);
                }
                "max_loaded_rows" => {
                    let n = self.integer("max_loaded_rows", value)?;
                    if !LOADED_ROWS_RANGE.contains(&n) {
                        return Err(self.error(
                            value.span(),
                            format!(
                                "`max_loaded_rows` must be between {} and {}, found {n}",
                                LOADED_ROWS_RANGE.start(),
                                LOADED_ROWS_RANGE.end()
                            ),
                        ));
                    }
                    ui.max_loaded_rows = usize::try_from(n).unwrap_or(DEFAULT_MAX_LOADED_ROWS);
                }
                "theme" => {
                    let theme = self.string("theme", value)?;
                    if !crate::model::themes::THEMES.contains(&theme.as_str()) {
                        return Err(self.error(
                            value.span(),
                            format!(
                                "unknown theme for `theme`: choose one of {}",
                                crate::model::themes::THEMES.join(", ")
                            ),
                        ));
                    }
                    ui.theme = Some(theme);
                }
                other => {
                    return Err(self.error(
                        key.span(),
                        format!(
                            "unknown key `{other}` in [ui] (keys: max_column_width, max_loaded_rows, theme)"
                        ),
                    ));
                }
            }
        }
        Ok(ui)
    }

    /// An integer of `key` within `range`, else an error at the value.
    fn int_within(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        range: &std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ConfigError> {
        let n = self.integer(key, value)?;
        if !range.contains(&n) {
            return Err(self.error(
                value.span(),
                format!(
                    "`{key}` must be between {} and {}, found {n}",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(n)
    }

    fn history(&self, value: &Spanned<DeValue<'_>>) -> Result<HistoryConfig, ConfigError> {
        let mut history = HistoryConfig::default();
        for (key, value) in sorted(self.table("history", value)?) {
            match key.get_ref().as_ref() {
                "max_entries" => {
                    let n = self.int_within("max_entries", value, &HISTORY_ENTRIES_RANGE)?;
                    history.max_entries = usize::try_from(n).unwrap_or(DEFAULT_HISTORY_MAX_ENTRIES);
                }
                "max_age_days" => {
                    let n = self.int_within("max_age_days", value, &HISTORY_AGE_RANGE)?;
                    history.max_age_days = u32::try_from(n).unwrap_or(DEFAULT_HISTORY_MAX_AGE_DAYS);
                }
                other => {
                    return Err(self.error(
                        key.span(),
                        format!(
                            "unknown key `{other}` in [history] (keys: max_entries, max_age_days)"
                        ),
                    ));
                }
            }
        }
        Ok(history)
    }

    fn keys(&self, value: &Spanned<DeValue<'_>>) -> Result<KeyOverrides, ConfigError> {
        let mut overrides = KeyOverrides::new();
        for (key, value) in sorted(self.table("keys", value)?) {
            let name = key.get_ref().as_ref();
            let Some(context) = KeyContext::from_name(name) else {
                return Err(self.error(
                    key.span(),
                    format!(
                        "unknown key table `[keys.{name}]` (tables: {})",
                        KeyContext::table_list()
                    ),
                ));
            };
            let table_name = format!("keys.{name}");
            let bindings = self.bindings(&table_name, self.table(&table_name, value)?)?;
            overrides.insert(context, bindings);
        }
        Ok(overrides)
    }

    fn bindings(
        &self,
        table_name: &str,
        table: &DeTable<'_>,
    ) -> Result<BTreeMap<String, Action>, ConfigError> {
        let mut out = BTreeMap::new();
        let mut seen: Vec<(KeyCombo, String)> = Vec::new();
        for (key, value) in sorted(table) {
            let key_name = key.get_ref().as_ref();
            let combo = parse_key(key_name)
                .map_err(|m| self.error(key.span(), format!("in [{table_name}]: {m}")))?;
            if let Some((_, first)) = seen.iter().find(|(c, _)| *c == combo) {
                return Err(self.error(
                    key.span(),
                    format!("in [{table_name}]: `{key_name}` is the same key as `{first}`"),
                ));
            }
            seen.push((combo, key_name.to_string()));
            let action_name = self.string(key_name, value)?;
            let action = parse_action(&action_name).ok_or_else(|| {
                self.error(value.span(), unknown_action_message(key_name, &action_name))
            })?;
            out.insert(key_name.to_string(), action);
        }
        Ok(out)
    }

    /// The `[[connection]]` tables: the usable ones, and the broken ones with their error (one
    /// wrong connection does not stop the others).
    fn connections(
        &self,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<(Vec<ConnectionConfig>, Vec<BrokenConnection>), ConfigError> {
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.type_error(
                "connection",
                "an array of tables (write each as [[connection]])",
                value,
            ));
        };
        let mut out: Vec<ConnectionConfig> = Vec::new();
        let mut broken = Vec::new();
        let mut first_spans: Vec<Range<usize>> = Vec::new();
        for item in items.iter() {
            let DeValue::Table(table) = item.get_ref() else {
                let error = self.type_error("connection", "a table", item);
                broken.push(BrokenConnection::new(None, &error));
                continue;
            };
            let name = find(table, "name")
                .and_then(|(_, v)| self.string("name", v).ok())
                .filter(|n| !n.chars().any(char::is_control));
            let error = match self.connection(table, item.span()) {
                Ok((conn, name_span)) => match out.iter().position(|c| c.name == conn.name) {
                    None => {
                        first_spans.push(name_span);
                        out.push(conn);
                        continue;
                    }
                    Some(i) => {
                        let (first_line, _) = line_column(self.text, first_spans[i].start);
                        self.error(
                            name_span,
                            format!(
                                "duplicate connection name `{}` (first defined on line \
                                 {first_line})",
                                conn.name
                            ),
                        )
                    }
                },
                Err(e) => e,
            };
            broken.push(BrokenConnection::new(name, &error));
        }
        Ok((out, broken))
    }

    /// One `[[connection]]`; also returns the span of its name (for duplicate errors).
    fn connection(
        &self,
        table: &DeTable<'_>,
        span: Range<usize>,
    ) -> Result<(ConnectionConfig, Range<usize>), ConfigError> {
        let (_, name_value) = find(table, "name").ok_or_else(|| {
            self.error(
                span.clone(),
                "connection has no `name` (every [[connection]] needs name = \"…\")",
            )
        })?;
        let name = self.string("name", name_value)?;
        if name.chars().any(char::is_control) {
            return Err(self.error(
                name_value.span(),
                "connection name must not contain control characters",
            ));
        }
        let kind = self.kind(table, &name, span.clone())?;
        for (key, _) in sorted(table) {
            self.check_key_belongs(key, kind, &name)?;
        }
        let fields = Fields {
            ctx: self,
            table,
            span,
            conn: &name,
        };
        let details = fields.details(kind)?;
        let conn = ConnectionConfig {
            region: fields.opt_string("region")?,
            profile: fields.opt_string("profile")?,
            endpoint_url: fields.endpoint_url()?,
            name,
            kind,
            details,
        };
        Ok((conn, name_value.span()))
    }

    fn kind(
        &self,
        table: &DeTable<'_>,
        name: &str,
        span: Range<usize>,
    ) -> Result<ConnectionKind, ConfigError> {
        let valid = kind_list();
        let (_, value) = find(table, "kind").ok_or_else(|| {
            self.error(
                span,
                format!("connection `{name}` has no `kind` (one of: {valid})"),
            )
        })?;
        let text = self.string("kind", value)?;
        ConnectionKind::from_name(&text).ok_or_else(|| {
            self.error(
                value.span(),
                format!("unknown kind `{text}` for connection `{name}` (valid kinds: {valid})"),
            )
        })
    }

    /// Rejects a key the kind does not take, saying where it does belong.
    fn check_key_belongs(
        &self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        kind: ConnectionKind,
        conn: &str,
    ) -> Result<(), ConfigError> {
        let k = key.get_ref().as_ref();
        if kind.all_keys().contains(&k) {
            return Ok(());
        }
        let message = if let Some(advice) = secret_advice(k) {
            format!("`{k}` is not allowed in connection `{conn}`: {advice}")
        } else if AWS_KEYS.contains(&k) {
            format!(
                "`{k}` is not a key of kind `{kind}` connections (the local engine reads files and uses no AWS settings)"
            )
        } else {
            let owners: Vec<&str> = ConnectionKind::ALL
                .into_iter()
                .filter(|o| o.own_keys().contains(&k))
                .map(ConnectionKind::name)
                .collect();
            if owners.is_empty() {
                format!(
                    "unknown key `{k}` in connection `{conn}` (keys of kind `{kind}`: {})",
                    kind.all_keys().join(", ")
                )
            } else {
                format!(
                    "`{k}` is not a key of kind `{kind}` connections (it belongs to kind {})",
                    owners
                        .iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        };
        Err(self.error(key.span(), message))
    }
}

/// Secrets have no place in the file; say what to use instead (never echo the value).
fn secret_advice(key: &str) -> Option<&'static str> {
    match key {
        "password" | "passwd" | "pass" => Some(
            "passwords are never stored in the config: put it in an environment variable and name that variable with `password_env = \"VAR\"` (kind `redshift`), or use `secret_arn` (kind `redshift-data`)",
        ),
        "aws_access_key_id"
        | "aws_secret_access_key"
        | "aws_session_token"
        | "secret_key"
        | "access_key" => Some(
            "AWS credentials are never stored in the config: name an AWS profile with `profile = \"…\"` or use the standard AWS environment variables",
        ),
        _ => None,
    }
}

/// Typed access to one connection's keys.
struct Fields<'a, 'i> {
    ctx: &'a Ctx<'a>,
    table: &'a DeTable<'i>,
    /// The `[[connection]]` table, where "missing key" errors point.
    span: Range<usize>,
    conn: &'a str,
}

impl Fields<'_, '_> {
    fn opt_string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        find(self.table, key)
            .map(|(_, v)| self.ctx.string(key, v))
            .transpose()
    }

    fn spanned_string(&self, key: &str) -> Result<Option<(String, Range<usize>)>, ConfigError> {
        find(self.table, key)
            .map(|(_, v)| Ok((self.ctx.string(key, v)?, v.span())))
            .transpose()
    }

    fn required(&self, key: &str, kind: ConnectionKind) -> Result<String, ConfigError> {
        self.opt_string(key)?.ok_or_else(|| {
            self.ctx.error(
                self.span.clone(),
                format!(
                    "connection `{}` (kind `{kind}`) is missing the required key `{key}`",
                    self.conn
                ),
            )
        })
    }

    /// An optional string that must be one of `allowed`.
    fn choice(&self, key: &str, allowed: &[&str]) -> Result<Option<String>, ConfigError> {
        match self.spanned_string(key)? {
            Some((v, span)) if !allowed.contains(&v.as_str()) => Err(self.ctx.error(
                span,
                format!("`{key}` must be one of {}, found `{v}`", allowed.join(", ")),
            )),
            other => Ok(other.map(|(v, _)| v)),
        }
    }

    fn int_in(&self, key: &str, range: Range<i64>) -> Result<Option<i64>, ConfigError> {
        let Some((_, v)) = find(self.table, key) else {
            return Ok(None);
        };
        let n = self.ctx.integer(key, v)?;
        if !range.contains(&n) {
            return Err(self.ctx.error(
                v.span(),
                format!(
                    "`{key}` must be between {} and {}, found {n}",
                    range.start,
                    range.end - 1
                ),
            ));
        }
        Ok(Some(n))
    }

    /// A non-negative amount of money (an integer or a float).
    fn price(&self, key: &str) -> Result<Option<f64>, ConfigError> {
        let Some((_, v)) = find(self.table, key) else {
            return Ok(None);
        };
        let amount = match v.get_ref() {
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            DeValue::Integer(_) => Some(self.ctx.integer(key, v)? as f64),
            _ => return Err(self.ctx.type_error(key, "a number (USD)", v)),
        };
        match amount {
            Some(a) if a.is_finite() && a >= 0.0 => Ok(Some(a)),
            _ => Err(self.ctx.error(
                v.span(),
                format!("`{key}` must be a non-negative number of USD"),
            )),
        }
    }

    fn bool_or_false(&self, key: &str) -> Result<(bool, Option<Range<usize>>), ConfigError> {
        match find(self.table, key) {
            Some((_, v)) => Ok((self.ctx.boolean(key, v)?, Some(v.span()))),
            None => Ok((false, None)),
        }
    }

    fn endpoint_url(&self) -> Result<Option<String>, ConfigError> {
        self.url("endpoint_url")
    }

    /// An http(s) URL under `key`.
    fn url(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.spanned_string(key)? {
            Some((url, span)) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                Err(self.ctx.error(
                    span,
                    format!("`{key}` must start with http:// or https://, found `{url}`"),
                ))
            }
            other => Ok(other.map(|(u, _)| u)),
        }
    }

    fn details(&self, kind: ConnectionKind) -> Result<ConnectionDetails, ConfigError> {
        match kind {
            ConnectionKind::Athena => self.athena(),
            ConnectionKind::RedshiftData => self.redshift_data(),
            ConnectionKind::Redshift => self.redshift(),
            ConnectionKind::Dynamodb => Ok(ConnectionDetails::Dynamodb {
                limit: self.int_in("limit", DYNAMODB_LIMIT)?.map(|n| n as u32),
                consistent_read: self.bool_or_false("consistent_read")?.0,
            }),
            ConnectionKind::Local => self.local(),
        }
    }

    fn athena(&self) -> Result<ConnectionDetails, ConfigError> {
        let output_location = match self.spanned_string("output_location")? {
            Some((loc, span)) if !loc.starts_with("s3://") => {
                return Err(self.ctx.error(
                    span,
                    format!(
                        "`output_location` must be an S3 URL starting with s3://, found `{loc}`"
                    ),
                ));
            }
            other => other.map(|(l, _)| l),
        };
        Ok(ConnectionDetails::Athena {
            workgroup: self.opt_string("workgroup")?,
            catalog: Some(
                self.opt_string("catalog")?
                    .unwrap_or_else(|| DEFAULT_ATHENA_CATALOG.to_string()),
            ),
            database: self.opt_string("database")?,
            output_location,
            result_reuse_minutes: self
                .int_in("result_reuse_minutes", RESULT_REUSE_MINUTES)?
                .map(|m| m as u32),
            scan_price_per_tb: self.price("scan_price_per_tb")?,
            dpu_price_per_hour: self.price("dpu_price_per_hour")?,
            s3_endpoint_url: self.url("s3_endpoint_url")?,
        })
    }

    fn redshift_data(&self) -> Result<ConnectionDetails, ConfigError> {
        let kind = ConnectionKind::RedshiftData;
        let cluster = self.spanned_string("cluster_identifier")?;
        let workgroup = self.spanned_string("workgroup_name")?;
        match (&cluster, &workgroup) {
            (None, None) => {
                return Err(self.ctx.error(
                    self.span.clone(),
                    format!(
                        "connection `{}` (kind `{kind}`) needs `cluster_identifier` (provisioned cluster) or `workgroup_name` (Redshift Serverless)",
                        self.conn
                    ),
                ));
            }
            (Some((_, a)), Some((_, b))) => {
                let later = if a.start > b.start { a } else { b };
                return Err(self.ctx.error(
                    later.clone(),
                    format!(
                        "connection `{}` sets both `cluster_identifier` and `workgroup_name`: keep exactly one",
                        self.conn
                    ),
                ));
            }
            _ => {}
        }
        let keep_alive = self
            .int_in("session_keep_alive_seconds", 0..MAX_KEEP_ALIVE_SECONDS + 1)?
            .map(|n| u32::try_from(n).unwrap_or(0));
        let db_user = self.spanned_string("db_user")?;
        let secret_arn = self.opt_string("secret_arn")?;
        if let Some((_, span)) = &db_user {
            // The Data API's own rules: a database user is for temporary credentials of a
            // provisioned cluster; a secret names its user, and serverless derives it from IAM.
            let problem = if workgroup.is_some() {
                Some(
                    "`db_user` works with `cluster_identifier` only: Redshift Serverless derives the database user from your IAM identity (drop `db_user`), or use `secret_arn`",
                )
            } else if secret_arn.is_some() {
                Some(
                    "`db_user` and `secret_arn` are two ways to log in: the secret already holds the user name; keep one of them",
                )
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(self.ctx.error(
                    span.clone(),
                    format!("connection `{}`: {problem}", self.conn),
                ));
            }
        }
        Ok(ConnectionDetails::RedshiftData {
            cluster_identifier: cluster.map(|(c, _)| c),
            workgroup_name: workgroup.map(|(w, _)| w),
            database: self.required("database", kind)?,
            db_user: db_user.map(|(u, _)| u),
            secret_arn,
            session_keep_alive_seconds: keep_alive,
        })
    }

    fn redshift(&self) -> Result<ConnectionDetails, ConfigError> {
        let kind = ConnectionKind::Redshift;
        let host = self.required("host", kind)?;
        let database = self.required("database", kind)?;
        let port = self
            .int_in("port", 1..65_536)?
            .map(|n| u16::try_from(n).unwrap_or(5439));
        let sslmode = self.choice("sslmode", &SSL_MODES)?;
        let sslrootcert = match self.spanned_string("sslrootcert")? {
            Some((raw, span)) => Some(
                expand_path(&raw, self.ctx.source.parent()).map_err(|m| self.ctx.error(span, m))?,
            ),
            None => None,
        };
        let engine = self.choice("engine", &ENGINES)?;
        let connect_timeout_seconds = self
            .int_in("connect_timeout_seconds", 1..3601)?
            .map(|n| n as u32);
        let password_env = self.spanned_string("password_env")?;
        let (iam, iam_span) = self.bool_or_false("iam")?;
        let cluster_identifier = self.spanned_string("cluster_identifier")?;
        let workgroup_name = self.spanned_string("workgroup_name")?;
        let db_groups = self.string_list("db_groups")?;
        let (auto_create, auto_create_span) = self.bool_or_false("auto_create")?;
        let user = self.opt_string("user")?;
        let iam_only = [
            (
                "cluster_identifier",
                cluster_identifier.as_ref().map(|c| c.1.clone()),
            ),
            (
                "workgroup_name",
                workgroup_name.as_ref().map(|w| w.1.clone()),
            ),
            ("db_groups", db_groups.as_ref().map(|g| g.1.clone())),
            ("auto_create", auto_create_span.clone()),
        ];
        match (iam, iam_span) {
            (true, Some(span)) => {
                if password_env.is_some() {
                    return Err(self.ctx.error(
                        span,
                        "`iam = true` gets temporary credentials from IAM: remove `password_env` or set `iam = false`",
                    ));
                }
                if engine.as_deref() == Some("postgres") {
                    return Err(self.ctx.error(
                        span,
                        "`iam = true` works with Amazon Redshift only, not with `engine = \"postgres\"`",
                    ));
                }
            }
            _ => {
                if let Some((key, Some(span))) = iam_only.iter().find(|(_, s)| s.is_some()) {
                    return Err(self.ctx.error(
                        span.clone(),
                        format!("`{key}` is for IAM sign-in: add `iam = true` or remove it"),
                    ));
                }
                if user.is_none() {
                    return Err(self.ctx.error(
                        self.span.clone(),
                        format!(
                            "connection `{}` (kind `{kind}`) is missing the required key `user` (or sign in with `iam = true`)",
                            self.conn
                        ),
                    ));
                }
            }
        }
        if let (Some((_, c)), Some((_, w))) = (&cluster_identifier, &workgroup_name) {
            return Err(self.ctx.error(
                c.start.min(w.start)..c.end.max(w.end),
                "set `cluster_identifier` (provisioned cluster) or `workgroup_name` (Redshift Serverless), not both",
            ));
        }
        if let (Some((_, w)), Some(_)) = (&workgroup_name, &user) {
            return Err(self.ctx.error(
                w.clone(),
                "Redshift Serverless signs you in as your IAM identity: remove `user` (or connect to a cluster)",
            ));
        }
        if user.is_none() {
            for (key, span) in &iam_only[2..] {
                if let Some(span) = span {
                    return Err(self.ctx.error(
                        span.clone(),
                        format!(
                            "`{key}` applies to a database `user`: add `user` or remove `{key}`"
                        ),
                    ));
                }
            }
        }
        Ok(ConnectionDetails::Redshift {
            host,
            port,
            user,
            database,
            password_env: password_env.map(|(p, _)| p),
            sslmode,
            sslrootcert,
            engine,
            connect_timeout_seconds,
            iam,
            cluster_identifier: cluster_identifier.map(|(c, _)| c),
            workgroup_name: workgroup_name.map(|(w, _)| w),
            db_groups: db_groups.map(|(g, _)| g).unwrap_or_default(),
            auto_create,
        })
    }

    /// An optional array of strings, with its span.
    fn string_list(&self, key: &str) -> Result<Option<WithSpan<Vec<String>>>, ConfigError> {
        let Some((_, value)) = find(self.table, key) else {
            return Ok(None);
        };
        let want = "an array of strings";
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.ctx.type_error(key, want, value));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items.iter() {
            let DeValue::String(s) = item.get_ref() else {
                return Err(self.ctx.type_error(key, want, item));
            };
            out.push(s.to_string());
        }
        Ok(Some((out, value.span())))
    }

    fn local(&self) -> Result<ConnectionDetails, ConfigError> {
        let Some((_, value)) = find(self.table, "paths") else {
            return Ok(ConnectionDetails::Local { paths: Vec::new() });
        };
        let want = "an array of strings (e.g. paths = [\"~/data\"])";
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.ctx.type_error("paths", want, value));
        };
        let base = self.ctx.source.parent();
        let mut paths = Vec::with_capacity(items.len());
        for item in items.iter() {
            let DeValue::String(raw) = item.get_ref() else {
                return Err(self.ctx.type_error("paths", want, item));
            };
            let path = expand_path(raw, base).map_err(|m| self.ctx.error(item.span(), m))?;
            paths.push(path);
        }
        Ok(ConnectionDetails::Local { paths })
    }
}

/// `~` and `~/…` become the home directory; relative paths are taken relative to `base` (the
/// config file's directory), so the file means the same thing whatever the working directory.
fn expand_path(raw: &str, base: Option<&Path>) -> Result<PathBuf, String> {
    if raw.trim().is_empty() {
        return Err("`paths` entries must not be empty".to_string());
    }
    let path = if raw == "~" || raw.starts_with("~/") {
        let home = home_dir().ok_or("cannot expand `~`: no home directory is known")?;
        match raw.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None => home,
        }
    } else if raw.starts_with('~') {
        return Err(format!(
            "`{raw}`: only `~` and `~/…` are expanded; write the full path"
        ));
    } else {
        PathBuf::from(raw)
    };
    if path.is_absolute() {
        return Ok(path);
    }
    let base = base
        .filter(|b| !b.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let joined = base.join(path);
    Ok(std::path::absolute(&joined).unwrap_or(joined))
}

fn kind_list() -> String {
    ConnectionKind::ALL
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_action(name: &str) -> Option<Action> {
    Action::deserialize(StrDeserializer::<ValueError>::new(name)).ok()
}

fn unknown_action_message(key: &str, name: &str) -> String {
    let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
    let hint = names
        .iter()
        .map(|n| (edit_distance(n, name), n))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| format!("did you mean `{n}`? "))
        .unwrap_or_default();
    format!(
        "unknown action `{name}` for key `{key}`; {hint}valid actions: {}",
        names.join(", ")
    )
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Config errors echo keys and values from the file; keep terminal control bytes out.
fn escape_controls(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> &'static Path {
        Path::new("/cfg/quarry.toml")
    }

    /// What is wrong with `text`: the error that stops the whole file, or else the one broken
    /// connection (a wrong `[[connection]]` spares the rest of the file).
    fn err(text: &str) -> Failure {
        match parse(text, path()) {
            Err(e) => Failure {
                line: e.line(),
                text: e.to_string(),
            },
            Ok(c) if c.broken.len() == 1 => Failure {
                line: Some(c.broken[0].line),
                text: c.broken[0].error.clone(),
            },
            Ok(c) => panic!("expected an error, parsed {c:?}"),
        }
    }

    struct Failure {
        line: Option<usize>,
        text: String,
    }

    impl Failure {
        fn line(&self) -> Option<usize> {
            self.line
        }
    }

    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.text)
        }
    }

    #[test]
    fn unknown_theme_lists_the_bundled_ones() {
        assert_err(
            "[ui]\ntheme = \"neon\"\n",
            2,
            &["theme", "base16-ocean.dark"],
        );
        let ok = parse("[ui]\ntheme = \"Solarized (dark)\"\n", path()).unwrap();
        assert_eq!(ok.ui.theme.as_deref(), Some("Solarized (dark)"));
    }

    #[test]
    fn direct_redshift_sign_in_options_are_checked() {
        let base = "[[connection]]\nname = \"dw\"\nkind = \"redshift\"\nhost = \"h\"\ndatabase = \"dev\"\n";
        assert_err(base, 1, &["missing the required key `user`", "iam = true"]);
        assert_err(
            &format!("{base}user = \"a\"\ndb_groups = [\"x\"]\n"),
            7,
            &["`db_groups` is for IAM sign-in"],
        );
        assert_err(
            &format!("{base}iam = true\nworkgroup_name = \"wg\"\nuser = \"a\"\n"),
            7,
            &["Redshift Serverless signs you in as your IAM identity"],
        );
        assert_err(
            &format!("{base}iam = true\ncluster_identifier = \"c\"\nauto_create = true\n"),
            8,
            &["`auto_create` applies to a database `user`"],
        );
        assert_err(
            &format!("{base}iam = true\ncluster_identifier = \"c\"\nworkgroup_name = \"w\"\n"),
            7,
            &["not both"],
        );
        let ok = parse(
            &format!(
                "{base}iam = true\nuser = \"a\"\ndb_groups = [\"r\", \"w\"]\nauto_create = true\nsslrootcert = \"ca.pem\"\n"
            ),
            path(),
        )
        .unwrap();
        match &ok.connections[0].details {
            ConnectionDetails::Redshift {
                user,
                db_groups,
                auto_create,
                sslrootcert,
                ..
            } => {
                assert_eq!(user.as_deref(), Some("a"));
                assert_eq!(db_groups, &["r", "w"]);
                assert!(auto_create);
                assert_eq!(sslrootcert.as_deref(), Some(Path::new("/cfg/ca.pem")));
            }
            other => panic!("{other:?}"),
        }
    }

    /// Asserts the error's line and that its message contains every fragment.
    fn assert_err(text: &str, line: usize, fragments: &[&str]) -> String {
        let e = err(text);
        let msg = e.to_string();
        assert_eq!(e.line(), Some(line), "wrong line in: {msg}");
        assert!(
            msg.starts_with(&format!("/cfg/quarry.toml:{line}:")),
            "no file:line prefix: {msg}"
        );
        for f in fragments {
            assert!(msg.contains(f), "`{f}` not in: {msg}");
        }
        msg
    }

    #[test]
    fn example_config_parses() {
        let c = parse(EXAMPLE, Path::new("/home/u/.config/quarry/config.toml")).unwrap();
        assert_eq!(c.connections.len(), 1);
        let files = &c.connections[0];
        assert_eq!(files.name, "files");
        assert_eq!(files.kind, ConnectionKind::Local);
        match &files.details {
            ConnectionDetails::Local { paths } => {
                assert_eq!(paths.len(), 1);
                assert!(paths[0].is_absolute() && paths[0].ends_with("data"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!c.keys.is_empty());
        assert_eq!(c.ui.max_column_width, 40);
        // The built-in local engine comes first.
        let names: Vec<String> = c.all_connections().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["local", "files"]);
    }

    /// Every commented-out kind in the example is valid once uncommented.
    #[test]
    fn example_aws_sections_parse_when_uncommented() {
        let mut text = String::new();
        for line in EXAMPLE.lines() {
            // `#: ` marks example lines that are meant to be uncommented.
            text.push_str(line.strip_prefix("#: ").unwrap_or(line));
            text.push('\n');
        }
        let c = parse(&text, path()).unwrap();
        assert_eq!(c.history, HistoryConfig::default());
        let kinds: Vec<ConnectionKind> = c.connections.iter().map(|c| c.kind).collect();
        for k in ConnectionKind::ALL {
            assert!(kinds.contains(&k), "example lacks kind {k}: {kinds:?}");
        }
    }

    #[test]
    fn full_valid_file() {
        let text = r#"
default_connection = "prod"

[ui]
max_column_width = 60
theme = "base16-ocean.dark"

[keys.global]
"ctrl-r" = "run-statement"
"f9" = "run-all"

[keys.grid]
"x" = "copy-cell"

[[connection]]
name = "prod"
kind = "athena"
region = "eu-west-1"
profile = "analytics"
workgroup = "primary"
database = "sales"
output_location = "s3://bucket/results/"
result_reuse_minutes = 30
scan_price_per_tb = 6.25

[[connection]]
name = "rs"
kind = "redshift-data"
workgroup_name = "wg"
database = "dev"
session_keep_alive_seconds = 3600

[[connection]]
name = "pg"
kind = "redshift"
host = "localhost"
port = 5439
user = "me"
database = "dev"
password_env = "PGPASSWORD"
sslmode = "require"
engine = "postgres"

[[connection]]
name = "ddb"
kind = "dynamodb"
endpoint_url = "http://127.0.0.1:8000"
limit = 500
consistent_read = true

[[connection]]
name = "rel"
kind = "local"
paths = ["data/x.csv", "/abs/y.parquet"]
"#;
        let c = parse(text, path()).unwrap();
        assert_eq!(c.default_connection.as_deref(), Some("prod"));
        assert_eq!(c.ui.max_column_width, 60);
        assert_eq!(c.ui.theme.as_deref(), Some("base16-ocean.dark"));
        assert_eq!(c.keys[&KeyContext::Global]["ctrl-r"], Action::RunStatement);
        assert_eq!(c.keys[&KeyContext::Grid]["x"], Action::CopyCell);
        assert_eq!(c.connections.len(), 5);
        match &c.connections[0].details {
            ConnectionDetails::Athena {
                catalog,
                workgroup,
                result_reuse_minutes,
                scan_price_per_tb,
                ..
            } => {
                assert_eq!(catalog.as_deref(), Some("AwsDataCatalog"));
                assert_eq!(workgroup.as_deref(), Some("primary"));
                assert_eq!(*result_reuse_minutes, Some(30));
                assert_eq!(*scan_price_per_tb, Some(6.25));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.connections[0].region.as_deref(), Some("eu-west-1"));
        match &c.connections[1].details {
            ConnectionDetails::RedshiftData {
                workgroup_name,
                session_keep_alive_seconds,
                ..
            } => {
                assert_eq!(workgroup_name.as_deref(), Some("wg"));
                assert_eq!(*session_keep_alive_seconds, Some(3600));
            }
            other => panic!("{other:?}"),
        }
        match &c.connections[2].details {
            ConnectionDetails::Redshift { port, iam, .. } => {
                assert_eq!(*port, Some(5439));
                assert!(!iam);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            c.connections[3].details,
            ConnectionDetails::Dynamodb {
                limit: Some(500),
                consistent_read: true
            }
        );
        match &c.connections[4].details {
            ConnectionDetails::Local { paths } => {
                assert_eq!(paths[0], PathBuf::from("/cfg/data/x.csv"));
                assert_eq!(paths[1], PathBuf::from("/abs/y.parquet"));
            }
            other => panic!("{other:?}"),
        }
        // `local` is built in even when not configured.
        assert_eq!(c.all_connections()[0].name, "local");
        assert_eq!(c.all_connections().len(), 6);
    }

    #[test]
    fn user_local_replaces_builtin() {
        let c = parse(
            "[[connection]]\nname = \"local\"\nkind = \"local\"\npaths = [\"/d\"]\n",
            path(),
        )
        .unwrap();
        let all = c.all_connections();
        assert_eq!(all.len(), 1);
        assert!(
            matches!(&all[0].details, ConnectionDetails::Local { paths } if paths == &[PathBuf::from("/d")])
        );
    }

    #[test]
    fn history_section() {
        let c = parse("", path()).unwrap();
        assert_eq!(
            c.history,
            HistoryConfig {
                max_entries: 10_000,
                max_age_days: 90
            }
        );
        assert_eq!(
            crate::store::history::Retention::from(c.history),
            crate::store::history::Retention::default()
        );
        let c = parse("[history]\nmax_entries = 500\nmax_age_days = 0\n", path()).unwrap();
        assert_eq!(c.history.max_entries, 500);
        assert_eq!(c.history.max_age_days, 0);
        let r = c.history.retention();
        assert_eq!((r.max_entries, r.max_age_days), (500, 0));
        let c = parse("[history]\nmax_age_days = 36500\n", path()).unwrap();
        assert_eq!(c.history.max_entries, 10_000);
        assert_eq!(c.history.max_age_days, 36_500);

        assert_err(
            "[history]\nmax_entries = 0\n",
            2,
            &["`max_entries`", "between 1 and 10000000", "found 0"],
        );
        assert_err(
            "[history]\n\nmax_entries = 10000001\n",
            3,
            &["`max_entries`", "between 1 and 10000000"],
        );
        assert_err(
            "[history]\nmax_age_days = -1\n",
            2,
            &["`max_age_days`", "between 0 and 36500"],
        );
        assert_err(
            "[history]\nmax_age_days = 36501\n",
            2,
            &["`max_age_days`", "between 0 and 36500"],
        );
        assert_err(
            "[history]\nmax_age_days = \"90\"\n",
            2,
            &["`max_age_days`", "integer"],
        );
        assert_err(
            "# retention\n[history]\nmax_entries = 5\nkeep = 3\n",
            4,
            &[
                "unknown key `keep`",
                "[history]",
                "max_entries, max_age_days",
            ],
        );
        assert_err("history = 3\n", 1, &["`history`", "table"]);
    }

    #[test]
    fn empty_file_is_defaults_with_builtin_local() {
        let c = parse("", path()).unwrap();
        assert!(c.connections.is_empty());
        assert_eq!(c.ui.max_column_width, DEFAULT_MAX_COLUMN_WIDTH);
        let all = c.all_connections();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].kind, ConnectionKind::Local);
        assert_eq!(Config::builtin_local().name, "local");
    }

    #[test]
    fn malformed_toml() {
        assert_err("[ui]\nmax_column_width = \n", 2, &["invalid TOML"]);
        assert_err("a = 1\nb = \"unterminated\n", 2, &["invalid TOML"]);
        assert_err(
            "[ui]\ntheme = \"a\"\n\n[ui]\n",
            4,
            &["duplicate key", "`ui`"],
        );
    }

    #[test]
    fn unknown_keys() {
        assert_err("\n\nfoo = 1\n", 3, &["unknown key `foo`"]);
        assert_err("[ui]\nmax_width = 3\n", 2, &["`max_width`", "[ui]"]);
        assert_err(
            "[[connection]]\nname = \"a\"\nkind = \"athena\"\nbogus = 1\n",
            4,
            &["unknown key `bogus`", "connection `a`", "workgroup"],
        );
        assert_err(
            "[[connections]]\nname = \"a\"\n",
            1,
            &["`connections`", "[[connection]]"],
        );
    }

    #[test]
    fn key_of_another_kind() {
        assert_err(
            "[[connection]]\nname = \"f\"\nkind = \"local\"\nworkgroup = \"primary\"\n",
            4,
            &[
                "`workgroup` is not a key of kind `local` connections",
                "`athena`",
            ],
        );
        assert_err(
            "[[connection]]\nname = \"f\"\nkind = \"local\"\nregion = \"eu-west-1\"\n",
            4,
            &["`region` is not a key of kind `local`"],
        );
        assert_err(
            "[[connection]]\nname = \"a\"\nkind = \"athena\"\n\nhost = \"h\"\n",
            5,
            &["`host` is not a key of kind `athena`", "`redshift`"],
        );
    }

    #[test]
    fn unknown_kind_lists_valid_ones() {
        assert_err(
            "[[connection]]\nname = \"a\"\nkind = \"mysql\"\n",
            3,
            &[
                "unknown kind `mysql`",
                "athena, redshift-data, redshift, dynamodb, local",
            ],
        );
    }

    #[test]
    fn missing_kind_and_name() {
        assert_err(
            "\n[[connection]]\nname = \"a\"\n",
            2,
            &["connection `a` has no `kind`", "redshift-data"],
        );
        assert_err("\n\n[[connection]]\nkind = \"local\"\n", 3, &["no `name`"]);
    }

    #[test]
    fn one_wrong_connection_is_broken_and_the_others_load() {
        let text = "default_connection = \"bad\"\n\n[[connection]]\nname = \"good\"\n\
                    kind = \"dynamodb\"\n\n[[connection]]\nname = \"bad\"\nkind = \"mysql\"\n\n\
                    [[connection]]\nname = \"local\"\nkind = \"local\"\npaths = 3\n";
        let c = parse(text, path()).expect("a wrong connection spares the file");
        assert_eq!(c.connections.len(), 1);
        assert_eq!(c.connections[0].name, "good");
        assert_eq!(c.default_connection.as_deref(), Some("bad"));
        let bad = c.broken_named("bad").expect("listed as broken");
        assert_eq!(bad.line, 9);
        assert!(
            bad.error.starts_with("/cfg/quarry.toml:9:") && bad.error.contains("mysql"),
            "{}",
            bad.error
        );
        // The user's broken `local` is not silently replaced by the built-in one.
        assert!(c.broken_named("local").is_some());
        let names: Vec<String> = c.all_connections().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["good"]);
        // A syntax error still stops the whole file.
        assert!(parse("[[connection]]\nname = \"a\n", path()).is_err());
    }

    #[test]
    fn duplicate_connection_name() {
        let text = "[[connection]]\nname = \"a\"\nkind = \"dynamodb\"\n\n[[connection]]\nname = \"a\"\nkind = \"local\"\n";
        assert_err(text, 6, &["duplicate connection name `a`", "line 2"]);
    }

    #[test]
    fn missing_required_keys() {
        assert_err(
            "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\ncluster_identifier = \"c\"\n",
            1,
            &["missing the required key `database`"],
        );
        assert_err(
            "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\ndatabase = \"d\"\n",
            1,
            &["`cluster_identifier`", "`workgroup_name`"],
        );
        assert_err(
            "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\ndatabase = \"d\"\ncluster_identifier = \"c\"\nworkgroup_name = \"w\"\n",
            6,
            &["both", "exactly one"],
        );
        assert_err(
            "[[connection]]\nname = \"p\"\nkind = \"redshift\"\nhost = \"h\"\nuser = \"u\"\n",
            1,
            &["missing the required key `database`"],
        );
    }

    #[test]
    fn bad_values() {
        let rs = "[[connection]]\nname = \"p\"\nkind = \"redshift\"\nhost = \"h\"\nuser = \"u\"\ndatabase = \"d\"\n";
        assert_err(
            &format!("{rs}port = 70000\n"),
            7,
            &["`port` must be between 1 and 65535"],
        );
        assert_err(
            &format!("{rs}port = \"5439\"\n"),
            7,
            &["`port` must be an integer, found string"],
        );
        assert_err(&format!("{rs}sslmode = \"always\"\n"), 7, &["verify-full"]);
        assert_err(
            &format!("{rs}engine = \"mysql\"\n"),
            7,
            &["redshift, postgres"],
        );
        assert_err(
            &format!("{rs}password_env = \"P\"\niam = true\n"),
            8,
            &["remove `password_env`"],
        );
        assert_err(
            "[[connection]]\nname = \"a\"\nkind = \"athena\"\noutput_location = \"bucket/x\"\n",
            4,
            &["s3://"],
        );
        assert_err(
            "[[connection]]\nname = \"a\"\nkind = \"athena\"\nscan_price_per_tb = -1\n",
            4,
            &["`scan_price_per_tb`", "non-negative"],
        );
        assert_err(
            "[[connection]]\nname = \"a\"\nkind = \"athena\"\nresult_reuse_minutes = 20000\n",
            4,
            &["between 1 and 10080"],
        );
        assert_err(
            "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\nworkgroup_name = \"w\"\ndatabase = \"d\"\nsession_keep_alive_seconds = 90000\n",
            6,
            &["86400"],
        );
        assert_err(
            "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\nworkgroup_name = \"w\"\ndatabase = \"d\"\ndb_user = \"u\"\n",
            6,
            &[
                "`db_user` works with `cluster_identifier` only",
                "IAM identity",
            ],
        );
        assert_err(
            "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\ncluster_identifier = \"c\"\ndatabase = \"d\"\nsecret_arn = \"arn:s\"\ndb_user = \"u\"\n",
            7,
            &["keep one of them"],
        );
        assert_err("[ui]\nmax_column_width = 0\n", 2, &["between 3 and 1000"]);
        assert_err(
            "[[connection]]\nname = \"l\"\nkind = \"local\"\npaths = \"~/data\"\n",
            4,
            &["array of strings"],
        );
        assert_err("default_connection = \"nope\"\n", 1, &["`nope`", "local"]);
        assert_err(
            "[[connection]]\nname = \"d\"\nkind = \"dynamodb\"\nendpoint_url = \"localhost:8000\"\n",
            4,
            &["http://"],
        );
    }

    #[test]
    fn password_is_refused_without_echo() {
        let msg = assert_err(
            "[[connection]]\nname = \"p\"\nkind = \"redshift\"\nhost = \"h\"\nuser = \"u\"\ndatabase = \"d\"\npassword = \"hunter2\"\n",
            7,
            &["password_env"],
        );
        assert!(!msg.contains("hunter2"), "{msg}");
        let msg = assert_err(
            "[[connection]]\nname = \"a\"\nkind = \"athena\"\naws_secret_access_key = \"SECRETVALUE\"\n",
            4,
            &["profile"],
        );
        assert!(!msg.contains("SECRETVALUE"), "{msg}");
    }

    #[test]
    fn key_override_errors() {
        assert_err(
            "[keys.global]\n\"ctrl-r\" = \"run-statement\"\n\"hyper-x\" = \"quit\"\n",
            3,
            &["[keys.global]", "unknown key `hyper-x`"],
        );
        assert_err(
            "[keys.grid]\n\"x\" = \"run-statment\"\n",
            2,
            &[
                "unknown action `run-statment`",
                "did you mean `run-statement`",
                "copy-cell",
            ],
        );
        assert_err(
            "[keys.popup]\n\"x\" = \"quit\"\n",
            1,
            &["[keys.popup]", "[keys.grid]"],
        );
        assert_err(
            "[keys.global]\n\"ctrl-r\" = \"quit\"\n\"Ctrl-R\" = \"help\"\n",
            3,
            &["same key"],
        );
        assert_err("[keys.grid]\n\"x\" = 3\n", 2, &["must be a string"]);
    }

    #[test]
    fn control_characters_are_escaped_in_errors() {
        let e = err("\"a\\u001b[31m\" = 1\n").to_string();
        assert!(!e.contains('\u{1b}'), "{e:?}");
        assert!(e.contains("\\u{1b}"), "{e:?}");
    }

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(parse_action(a.name()), Some(*a), "{a:?}");
        }
    }

    #[test]
    fn line_column_counts_chars() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 10), (1, 1));
    }

    #[test]
    fn explicit_missing_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let e = load_from(Some(&missing), None, None).unwrap_err();
        assert!(matches!(e, ConfigError::NotFound { .. }));
        assert!(e.to_string().contains("nope.toml") && e.to_string().contains("--config"));
        let e = load_from(None, Some(missing.clone().into()), None).unwrap_err();
        assert!(e.to_string().contains("QUARRY_CONFIG"), "{e}");
        // The default path may be missing.
        let c = load_from(None, None, Some(missing)).unwrap();
        assert!(c.source.is_none());
    }

    #[test]
    fn a_fifo_or_directory_is_refused_without_reading() {
        // Issue 15: reading a FIFO given as the config blocked forever.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let e = load_from(Some(&fifo), None, None).unwrap_err();
        assert!(matches!(e, ConfigError::NotRegular { .. }), "{e}");
        assert!(e.to_string().contains("FIFO"), "{e}");
        let e = load_from(None, Some(dir.path().into()), None).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
    }

    #[test]
    fn load_reads_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("q.toml");
        fs::write(
            &file,
            "[[connection]]\nname = \"l2\"\nkind = \"local\"\npaths = [\"sub\"]\n",
        )
        .unwrap();
        // $QUARRY_CONFIG loses to --config; the default loses to both.
        let c = load_from(Some(&file), Some("/nope".into()), Some("/nope2".into())).unwrap();
        assert_eq!(c.source.as_deref(), Some(file.as_path()));
        match &c.connections[0].details {
            ConnectionDetails::Local { paths } => assert_eq!(paths[0], dir.path().join("sub")),
            other => panic!("{other:?}"),
        }
        let c = load_from(None, Some(file.clone().into()), None).unwrap();
        assert_eq!(c.connections.len(), 1);
    }

    #[test]
    fn init_writes_example_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("new/dir/config.toml");
        let written = init(Some(&target)).unwrap();
        assert_eq!(written, target);
        assert_eq!(fs::read_to_string(&target).unwrap(), EXAMPLE);
        fs::write(&target, "# mine\n").unwrap();
        let e = init(Some(&target)).unwrap_err();
        assert!(matches!(e, ConfigError::AlreadyExists { .. }));
        assert!(e.to_string().contains("config.toml"), "{e}");
        assert!(e.to_string().contains("not overwriting"), "{e}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "# mine\n");
    }

    #[test]
    fn kind_display_matches_toml_names() {
        for k in ConnectionKind::ALL {
            assert_eq!(ConnectionKind::from_name(&k.to_string()), Some(k));
        }
        assert_eq!(ConnectionKind::RedshiftData.to_string(), "redshift-data");
    }
}
