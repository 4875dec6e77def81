//! `kind = "redshift-data"`: Redshift through the Data API.

use super::ConfigError;
use super::ConnectionDetails;
use super::fields::Fields;
use super::kinds::KindConfig;

const MAX_KEEP_ALIVE_SECONDS: i64 = 86_400;

/// What a Redshift Data API connection is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct RedshiftDataConfig {
    /// Exactly one of `cluster_identifier` (provisioned) and `workgroup_name` (serverless).
    pub cluster_identifier: Option<String>,
    pub workgroup_name: Option<String>,
    pub database: String,
    pub db_user: Option<String>,
    pub secret_arn: Option<String>,
    pub session_keep_alive_seconds: Option<u32>,
}

/// The keys only this kind takes (besides `name`, `kind` and the AWS keys), and its parser.
pub(super) const CONFIG: KindConfig = KindConfig {
    keys: &[
        "cluster_identifier",
        "workgroup_name",
        "database",
        "db_user",
        "secret_arn",
        "session_keep_alive_seconds",
    ],
    parse,
};

fn parse(f: &Fields<'_, '_>) -> Result<ConnectionDetails, ConfigError> {
    let kind = f.kind;
    let cluster = f.spanned_string("cluster_identifier")?;
    let workgroup = f.spanned_string("workgroup_name")?;
    match (&cluster, &workgroup) {
        (None, None) => {
            return Err(f.ctx.error(
                f.span.clone(),
                format!(
                    "connection `{}` (kind `{kind}`) needs `cluster_identifier` (provisioned cluster) or `workgroup_name` (Redshift Serverless)",
                    f.conn
                ),
            ));
        }
        (Some((_, a)), Some((_, b))) => {
            let later = if a.start > b.start { a } else { b };
            return Err(f.ctx.error(
                later.clone(),
                format!(
                    "connection `{}` sets both `cluster_identifier` and `workgroup_name`: keep exactly one",
                    f.conn
                ),
            ));
        }
        _ => {}
    }
    let keep_alive = f
        .int_in("session_keep_alive_seconds", 0..MAX_KEEP_ALIVE_SECONDS + 1)?
        .map(|n| u32::try_from(n).unwrap_or(0));
    let db_user = f.spanned_string("db_user")?;
    let secret_arn = f.opt_string("secret_arn")?;
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
            return Err(f
                .ctx
                .error(span.clone(), format!("connection `{}`: {problem}", f.conn)));
        }
    }
    Ok(ConnectionDetails::RedshiftData(RedshiftDataConfig {
        cluster_identifier: cluster.map(|(c, _)| c),
        workgroup_name: workgroup.map(|(w, _)| w),
        database: f.required("database")?,
        db_user: db_user.map(|(u, _)| u),
        secret_arn,
        session_keep_alive_seconds: keep_alive,
    }))
}
