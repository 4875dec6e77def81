//! `[[connection]]` tables: what a connection is, and the checks every kind shares (name,
//! kind, keys that belong to another kind, secrets). Each kind's own keys are read by its file,
//! found through [`kinds`](super::kinds).

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ConfigError;
use super::athena::AthenaConfig;
use super::dynamodb::DynamodbConfig;
use super::fields::Fields;
use super::kinds::{AWS_KEYS, all_keys, config_of, owners_of};
use super::local::LocalConfig;
use super::redshift::RedshiftConfig;
use super::redshift_data::RedshiftDataConfig;
use super::values::{Ctx, find, line_column, sorted};
use crate::model::connection::ConnectionKind;

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionConfig {
    pub name: String,
    pub kind: ConnectionKind,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub details: ConnectionDetails,
}

/// What a connection is configured with beyond its name, kind and AWS keys: one variant per
/// kind, each holding the struct its kind's file defines and fills in ([`AthenaConfig`] in
/// athena.rs, …), so adding a key touches only that file. The connectors and the CLI match on
/// the variants.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionDetails {
    Athena(AthenaConfig),
    RedshiftData(RedshiftDataConfig),
    Redshift(RedshiftConfig),
    Dynamodb(DynamodbConfig),
    Local(LocalConfig),
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

impl Ctx<'_> {
    /// The `[[connection]]` tables: the usable ones, and the broken ones with their error (one
    /// wrong connection does not stop the others).
    pub(super) fn connections(
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
            kind,
        };
        let details = (config_of(kind).parse)(&fields)?;
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
        if all_keys(kind).contains(&k) {
            return Ok(());
        }
        let message = if let Some(advice) = secret_advice(k) {
            format!("`{k}` is not allowed in connection `{conn}`: {advice}")
        } else if AWS_KEYS.contains(&k) {
            format!(
                "`{k}` is not a key of kind `{kind}` connections (the local engine reads files and uses no AWS settings)"
            )
        } else {
            let owners: Vec<&str> = owners_of(k).into_iter().map(ConnectionKind::name).collect();
            if owners.is_empty() {
                format!(
                    "unknown key `{k}` in connection `{conn}` (keys of kind `{kind}`: {})",
                    all_keys(kind).join(", ")
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

fn kind_list() -> String {
    ConnectionKind::ALL
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}
