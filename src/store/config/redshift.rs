//! `kind = "redshift"`: a direct connection to Redshift (or PostgreSQL) over the PostgreSQL
//! protocol, signed in with a password or IAM.

use std::ops::Range;
use std::path::PathBuf;

use super::ConfigError;
use super::ConnectionDetails;
use super::fields::{Fields, WithSpan, expand_path};
use super::kinds::KindConfig;

pub(super) const SSL_MODES: [&str; 4] = ["disable", "prefer", "require", "verify-full"];
const ENGINES: [&str; 2] = ["redshift", "postgres"];

/// What a direct Redshift (or PostgreSQL) connection is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct RedshiftConfig {
    pub host: String,
    pub port: Option<u16>,
    /// Required without IAM; with IAM on a cluster it is the `DbUser` to get credentials
    /// for (none: the IAM identity itself, `GetClusterCredentialsWithIAM`).
    pub user: Option<String>,
    pub database: String,
    /// The environment variable holding the password (passwords never go in the file).
    pub password_env: Option<String>,
    /// One of [`SSL_MODES`]; `None`: `prefer`.
    pub sslmode: Option<String>,
    /// PEM file of the certificates `verify-full` trusts instead of the system's roots
    /// (e.g. Amazon's Redshift CA bundle); `~` expanded, relative to the config file.
    pub sslrootcert: Option<PathBuf>,
    /// `redshift` or `postgres`; `None`: `redshift`.
    pub engine: Option<String>,
    pub connect_timeout_seconds: Option<u32>,
    /// Get temporary credentials from IAM instead of a password.
    pub iam: bool,
    /// IAM: the cluster or serverless workgroup (else read from an AWS endpoint `host`).
    pub cluster_identifier: Option<String>,
    pub workgroup_name: Option<String>,
    /// IAM with a `user`: groups the temporary user joins, and whether it is created.
    pub db_groups: Vec<String>,
    pub auto_create: bool,
}

/// The keys only this kind takes (besides `name`, `kind` and the AWS keys), and its parser.
pub(super) const CONFIG: KindConfig = KindConfig {
    keys: &[
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
    parse,
};

fn parse(f: &Fields<'_, '_>) -> Result<ConnectionDetails, ConfigError> {
    let host = f.required("host")?;
    let database = f.required("database")?;
    let port = f
        .int_in("port", 1..65_536)?
        .map(|n| u16::try_from(n).unwrap_or(5439));
    let sslmode = f.choice("sslmode", &SSL_MODES)?;
    let sslrootcert = match f.spanned_string("sslrootcert")? {
        Some((raw, span)) => {
            Some(expand_path(&raw, f.ctx.source.parent()).map_err(|m| f.ctx.error(span, m))?)
        }
        None => None,
    };
    let engine = f.choice("engine", &ENGINES)?;
    let connect_timeout_seconds = f
        .int_in("connect_timeout_seconds", 1..3601)?
        .map(|n| n as u32);
    let password_env = f.spanned_string("password_env")?;
    let sign_in = SignIn::read(f)?;
    sign_in.check_method(f, password_env.is_some(), engine.as_deref())?;
    sign_in.check_target(f)?;
    Ok(ConnectionDetails::Redshift(RedshiftConfig {
        host,
        port,
        user: sign_in.user,
        database,
        password_env: password_env.map(|(p, _)| p),
        sslmode,
        sslrootcert,
        engine,
        connect_timeout_seconds,
        iam: sign_in.iam,
        cluster_identifier: sign_in.cluster_identifier.map(|(c, _)| c),
        workgroup_name: sign_in.workgroup_name.map(|(w, _)| w),
        db_groups: sign_in.db_groups.map(|(g, _)| g).unwrap_or_default(),
        auto_create: sign_in.auto_create,
    }))
}

/// How the connection signs in (a password's `user`, or IAM and its options), with where each
/// key is in the file for errors.
struct SignIn {
    iam: bool,
    iam_span: Option<Range<usize>>,
    cluster_identifier: Option<WithSpan<String>>,
    workgroup_name: Option<WithSpan<String>>,
    db_groups: Option<WithSpan<Vec<String>>>,
    auto_create: bool,
    auto_create_span: Option<Range<usize>>,
    user: Option<String>,
}

impl SignIn {
    fn read(f: &Fields<'_, '_>) -> Result<SignIn, ConfigError> {
        let (iam, iam_span) = f.bool_or_false("iam")?;
        let cluster_identifier = f.spanned_string("cluster_identifier")?;
        let workgroup_name = f.spanned_string("workgroup_name")?;
        let db_groups = f.string_list("db_groups")?;
        let (auto_create, auto_create_span) = f.bool_or_false("auto_create")?;
        let user = f.opt_string("user")?;
        Ok(SignIn {
            iam,
            iam_span,
            cluster_identifier,
            workgroup_name,
            db_groups,
            auto_create,
            auto_create_span,
            user,
        })
    }

    /// The keys that mean something only with `iam = true`, and where they are set.
    fn iam_only(&self) -> [(&'static str, Option<Range<usize>>); 4] {
        [
            (
                "cluster_identifier",
                self.cluster_identifier.as_ref().map(|c| c.1.clone()),
            ),
            (
                "workgroup_name",
                self.workgroup_name.as_ref().map(|w| w.1.clone()),
            ),
            ("db_groups", self.db_groups.as_ref().map(|g| g.1.clone())),
            ("auto_create", self.auto_create_span.clone()),
        ]
    }

    /// IAM excludes a password and PostgreSQL; without IAM, a `user` is needed and the IAM
    /// options are refused.
    fn check_method(
        &self,
        f: &Fields<'_, '_>,
        has_password_env: bool,
        engine: Option<&str>,
    ) -> Result<(), ConfigError> {
        match (self.iam, &self.iam_span) {
            (true, Some(span)) => {
                if has_password_env {
                    return Err(f.ctx.error(
                        span.clone(),
                        "`iam = true` gets temporary credentials from IAM: remove `password_env` or set `iam = false`",
                    ));
                }
                if engine == Some("postgres") {
                    return Err(f.ctx.error(
                        span.clone(),
                        "`iam = true` works with Amazon Redshift only, not with `engine = \"postgres\"`",
                    ));
                }
            }
            _ => {
                if let Some((key, Some(span))) = self.iam_only().iter().find(|(_, s)| s.is_some()) {
                    return Err(f.ctx.error(
                        span.clone(),
                        format!("`{key}` is for IAM sign-in: add `iam = true` or remove it"),
                    ));
                }
                if self.user.is_none() {
                    return Err(f.ctx.error(
                        f.span.clone(),
                        format!(
                            "connection `{}` (kind `{}`) is missing the required key `user` (or sign in with `iam = true`)",
                            f.conn, f.kind
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A cluster or a serverless workgroup, not both; serverless takes no `user`; the options
    /// of a database user need one.
    fn check_target(&self, f: &Fields<'_, '_>) -> Result<(), ConfigError> {
        if let (Some((_, c)), Some((_, w))) = (&self.cluster_identifier, &self.workgroup_name) {
            return Err(f.ctx.error(
                c.start.min(w.start)..c.end.max(w.end),
                "set `cluster_identifier` (provisioned cluster) or `workgroup_name` (Redshift Serverless), not both",
            ));
        }
        if let (Some((_, w)), Some(_)) = (&self.workgroup_name, &self.user) {
            return Err(f.ctx.error(
                w.clone(),
                "Redshift Serverless signs you in as your IAM identity: remove `user` (or connect to a cluster)",
            ));
        }
        if self.user.is_none() {
            for (key, span) in &self.iam_only()[2..] {
                if let Some(span) = span {
                    return Err(f.ctx.error(
                        span.clone(),
                        format!(
                            "`{key}` applies to a database `user`: add `user` or remove `{key}`"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}
