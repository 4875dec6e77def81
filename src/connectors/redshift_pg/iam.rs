//! IAM sign-in to Amazon Redshift: temporary database credentials from `GetClusterCredentials`
//! (a cluster and a database user), `GetClusterCredentialsWithIAM` (a cluster, signed in as the
//! caller's IAM identity) or Redshift Serverless `GetCredentials` (a workgroup), kept until
//! shortly before they expire so every connection of one configured connection shares them.

use std::error::Error as StdError;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::Mutex;

use crate::connectors::{ConnectorError, aws};

/// Lifetime asked for: the services' default and minimum (15 minutes). Short-lived secrets
/// are the point of IAM sign-in, and a renewal every ~14 minutes costs one small request.
pub const DURATION_SECONDS: i32 = 900;

/// Credentials expiring sooner than this are renewed before use: a login started with them
/// must still find them valid when the server checks them.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// What to get credentials for.
#[derive(Debug, Clone, PartialEq)]
pub enum IamTarget {
    /// GetClusterCredentials when `db_user` is set, else GetClusterCredentialsWithIAM.
    Cluster {
        cluster_identifier: String,
        db_user: Option<String>,
        db_groups: Vec<String>,
        auto_create: bool,
    },
    /// GetCredentials.
    Serverless { workgroup_name: String },
}

/// Temporary database credentials. Debug does not print the password.
#[derive(Clone)]
pub struct DbCredentials {
    pub user: String,
    pub password: String,
    pub expires: SystemTime,
}

impl fmt::Debug for DbCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbCredentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("expires", &self.expires)
            .finish()
    }
}

/// Whether `held` can still be handed out at `now`: it stays valid past the refresh margin.
pub fn is_fresh(held: &DbCredentials, now: SystemTime) -> bool {
    held.expires > now + REFRESH_MARGIN
}

/// The service call that makes credentials, with its client and parameters.
enum Caller {
    Cluster {
        client: aws_sdk_redshift::Client,
        cluster: String,
        db_user: Option<String>,
        db_groups: Vec<String>,
        auto_create: bool,
    },
    Serverless {
        client: aws_sdk_redshiftserverless::Client,
        workgroup: String,
    },
}

impl Caller {
    /// The operation's name, as in IAM policies and the service's documentation.
    fn operation(&self) -> &'static str {
        match self {
            Caller::Cluster {
                db_user: Some(_), ..
            } => "GetClusterCredentials",
            Caller::Cluster { db_user: None, .. } => "GetClusterCredentialsWithIAM",
            Caller::Serverless { .. } => "GetCredentials",
        }
    }

    /// Who signs in where, for messages: "cluster `c` as `alice`".
    fn subject(&self) -> String {
        match self {
            Caller::Cluster {
                cluster,
                db_user: Some(user),
                ..
            } => format!("cluster `{cluster}` as `{user}`"),
            Caller::Cluster { cluster, .. } => {
                format!("cluster `{cluster}` as your IAM identity")
            }
            Caller::Serverless { workgroup, .. } => {
                format!("Redshift Serverless workgroup `{workgroup}`")
            }
        }
    }
}

/// What a call answered, before checking that everything needed is there.
struct Answer {
    user: Option<String>,
    password: Option<String>,
    expires: Option<aws_smithy_types::DateTime>,
}

/// Fetches credentials and keeps them until shortly before they expire. Shared by every
/// connection of one configured connection: cheap to call concurrently, with at most one
/// fetch in flight (callers arriving meanwhile wait for its result instead of asking again).
pub struct IamAuth {
    caller: Caller,
    database: String,
    region: String,
    cache: Mutex<Option<DbCredentials>>,
    fetches: AtomicU64,
}

impl fmt::Debug for IamAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamAuth")
            .field("operation", &self.caller.operation())
            .field("subject", &self.caller.subject())
            .field("database", &self.database)
            .field("fetches", &self.fetches())
            .finish()
    }
}

impl IamAuth {
    /// Clients are built from `sdk` (region, credentials, endpoint overrides such as
    /// `AWS_ENDPOINT_URL_REDSHIFT`); nothing is sent until [`credentials`](Self::credentials).
    pub fn new(sdk: &SdkConfig, target: IamTarget, database: String) -> Self {
        let caller = match target {
            IamTarget::Cluster {
                cluster_identifier,
                db_user,
                db_groups,
                auto_create,
            } => Caller::Cluster {
                client: aws_sdk_redshift::Client::new(sdk),
                cluster: cluster_identifier,
                db_user,
                db_groups,
                auto_create,
            },
            IamTarget::Serverless { workgroup_name } => Caller::Serverless {
                client: aws_sdk_redshiftserverless::Client::new(sdk),
                workgroup: workgroup_name,
            },
        };
        IamAuth {
            caller,
            database,
            region: sdk
                .region()
                .map_or_else(|| "not set".to_string(), |r| r.to_string()),
            cache: Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// Cached credentials, or new ones when none are held or they expire within
    /// [`REFRESH_MARGIN`].
    pub async fn credentials(&self) -> Result<DbCredentials, ConnectorError> {
        let mut held = self.cache.lock().await;
        if let Some(creds) = held.as_ref().filter(|c| is_fresh(c, SystemTime::now())) {
            return Ok(creds.clone());
        }
        match self.fetch().await {
            Ok(fresh) => {
                *held = Some(fresh.clone());
                Ok(fresh)
            }
            // A failed renewal inside the margin need not fail a login the held credentials
            // can still make; the next call asks again.
            Err(e) => match held.as_ref().filter(|c| c.expires > SystemTime::now()) {
                Some(still_valid) => {
                    tracing::warn!("renewing Redshift credentials failed, using held ones: {e}");
                    Ok(still_valid.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Forgets the cached credentials (the server refused them); the next call fetches anew.
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// How many times the service was asked (failed requests included).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Asks the service once.
    async fn fetch(&self) -> Result<DbCredentials, ConnectorError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let asked = SystemTime::now();
        tracing::debug!(
            "{} for {} (database `{}`)",
            self.caller.operation(),
            self.caller.subject(),
            self.database
        );
        let answer = match &self.caller {
            Caller::Cluster {
                client,
                cluster,
                db_user: Some(user),
                db_groups,
                auto_create,
            } => {
                let out = client
                    .get_cluster_credentials()
                    .cluster_identifier(cluster)
                    .db_user(user)
                    .db_name(&self.database)
                    .set_db_groups((!db_groups.is_empty()).then(|| db_groups.clone()))
                    .auto_create(*auto_create)
                    .duration_seconds(DURATION_SECONDS)
                    .send()
                    .await
                    .map_err(|e| self.failed("Redshift", &e))?;
                Answer {
                    user: out.db_user,
                    password: out.db_password,
                    expires: out.expiration,
                }
            }
            Caller::Cluster {
                client,
                cluster,
                db_user: None,
                ..
            } => {
                let out = client
                    .get_cluster_credentials_with_iam()
                    .cluster_identifier(cluster)
                    .db_name(&self.database)
                    .duration_seconds(DURATION_SECONDS)
                    .send()
                    .await
                    .map_err(|e| self.failed("Redshift", &e))?;
                Answer {
                    user: out.db_user,
                    password: out.db_password,
                    expires: out.expiration,
                }
            }
            Caller::Serverless { client, workgroup } => {
                let out = client
                    .get_credentials()
                    .workgroup_name(workgroup)
                    .db_name(&self.database)
                    .duration_seconds(DURATION_SECONDS)
                    .send()
                    .await
                    .map_err(|e| self.failed("Redshift Serverless", &e))?;
                Answer {
                    user: out.db_user,
                    password: out.db_password,
                    expires: out.expiration,
                }
            }
        };
        self.complete(answer, asked)
    }

    /// Checks an answer has what a login needs.
    fn complete(&self, answer: Answer, asked: SystemTime) -> Result<DbCredentials, ConnectorError> {
        let missing = |what: &str| {
            ConnectorError::Query(format!(
                "IAM sign-in to {} failed: {} answered without {what}: the endpoint may not be \
                 Amazon Redshift",
                self.caller.subject(),
                self.caller.operation()
            ))
        };
        let user = answer.user.filter(|u| !u.is_empty());
        let password = answer.password.filter(|p| !p.is_empty());
        let (Some(user), Some(password)) = (user, password) else {
            return Err(missing("a database user and password"));
        };
        // No (or an unrepresentable) expiry: assume the lifetime asked for, counted from the
        // request, which can only be earlier than the service's own count.
        let expires = answer
            .expires
            .and_then(|t| SystemTime::try_from(t).ok())
            .unwrap_or(asked + Duration::from_secs(DURATION_SECONDS.unsigned_abs().into()));
        Ok(DbCredentials {
            user,
            password,
            expires,
        })
    }

    /// One line naming the call, the target, the service's message and what to check. Answers
    /// of the service are configuration problems; not getting one is a query failure.
    fn failed<E>(&self, service: &str, e: &SdkError<E, HttpResponse>) -> ConnectorError
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let op = self.caller.operation();
        let mut text = format!(
            "IAM sign-in to {} failed: {op}: {}",
            self.caller.subject(),
            aws::describe_sdk_error(service, e)
        );
        if let Some(hint) = self.hint(e.code()) {
            text.push_str(" — ");
            text.push_str(&hint);
        }
        match e {
            SdkError::ServiceError(_) => ConnectorError::Config(text),
            _ => ConnectorError::Query(text),
        }
    }

    /// What to check for an error code, when the code says.
    fn hint(&self, code: Option<&str>) -> Option<String> {
        let code = code?;
        let region = &self.region;
        let op = self.caller.operation();
        if code == "ClusterNotFound" || code == "ResourceNotFoundException" {
            return Some(match &self.caller {
                Caller::Cluster { .. } => format!(
                    "check `cluster_identifier` (or the host it is read from) and the region \
                     ({region})"
                ),
                Caller::Serverless { .. } => format!(
                    "check `workgroup_name` (or the host it is read from) and the region \
                     ({region})"
                ),
            });
        }
        let denied = ["AccessDenied", "Unauthorized", "NotAuthorized"];
        if !denied.iter().any(|d| code.contains(d)) {
            return None;
        }
        Some(match &self.caller {
            Caller::Cluster {
                db_user: Some(_), ..
            } => format!(
                "check that your AWS identity may call redshift:{op} for this cluster and \
                 database user"
            ),
            Caller::Cluster { .. } => format!(
                "check that your AWS identity may call redshift:{op} for this cluster and \
                 database `{}`",
                self.database
            ),
            Caller::Serverless { .. } => format!(
                "check that your AWS identity may call redshift-serverless:{op} for this \
                 workgroup"
            ),
        })
    }
}

/// Which kind of Redshift an endpoint host name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Cluster,
    Serverless,
}

/// Guesses the target from an AWS Redshift endpoint host name:
/// `mycluster.abc123xyz.us-east-1.redshift.amazonaws.com` → (Cluster, `mycluster`,
/// `us-east-1`), `mywg.123456789012.us-east-1.redshift-serverless.amazonaws.com` →
/// (Serverless, `mywg`, `us-east-1`); China regions' `.amazonaws.com.cn` too. `None` for other
/// hosts (custom domains, VPC endpoints, IP addresses).
pub fn target_from_host(host: &str) -> Option<(TargetKind, String, String)> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let (name, id, region, service) = match labels.as_slice() {
        [name, id, region, service, "amazonaws", "com"]
        | [name, id, region, service, "amazonaws", "com", "cn"] => (*name, *id, *region, *service),
        _ => return None,
    };
    let kind = match service {
        "redshift" => TargetKind::Cluster,
        // The serverless id is the 12-digit account.
        "redshift-serverless" if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => {
            TargetKind::Serverless
        }
        _ => return None,
    };
    // Regions look like `us-east-1`, `ap-southeast-2`, `us-gov-west-1`.
    let region_like = region.contains('-') && region.ends_with(|c: char| c.is_ascii_digit());
    if name.is_empty() || id.is_empty() || !region_like {
        return None;
    }
    Some((kind, name.to_string(), region.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str) -> Option<(TargetKind, String, String)> {
        target_from_host(host)
    }

    #[test]
    fn cluster_and_workgroup_endpoints_name_their_target_and_region() {
        assert_eq!(
            target("mycluster.abc123xyz.us-east-1.redshift.amazonaws.com"),
            Some((TargetKind::Cluster, "mycluster".into(), "us-east-1".into()))
        );
        assert_eq!(
            target("mywg.123456789012.eu-west-2.redshift-serverless.amazonaws.com"),
            Some((TargetKind::Serverless, "mywg".into(), "eu-west-2".into()))
        );
        // Host names are case-insensitive; a fully qualified trailing dot is allowed.
        assert_eq!(
            target("My-Cluster.ABC123.US-WEST-2.Redshift.AmazonAWS.com."),
            Some((TargetKind::Cluster, "my-cluster".into(), "us-west-2".into()))
        );
        assert_eq!(
            target("c1.abc.cn-north-1.redshift.amazonaws.com.cn"),
            Some((TargetKind::Cluster, "c1".into(), "cn-north-1".into()))
        );
    }

    #[test]
    fn other_hosts_are_not_guessed() {
        for host in [
            "localhost",
            "127.0.0.1",
            "db.example.com",
            "redshift.amazonaws.com",
            "abc123xyz.us-east-1.redshift.amazonaws.com",
            "x.mycluster.abc123xyz.us-east-1.redshift.amazonaws.com",
            "mycluster.abc123xyz.us-east-1.rds.amazonaws.com",
            "mycluster.abc123xyz.useast.redshift.amazonaws.com",
            ".abc123xyz.us-east-1.redshift.amazonaws.com",
            "mywg.notanaccount.us-east-1.redshift-serverless.amazonaws.com",
            "mycluster.abc123xyz.us-east-1.redshift.example.com",
        ] {
            assert_eq!(target(host), None, "{host}");
        }
    }

    fn creds(expires: SystemTime) -> DbCredentials {
        DbCredentials {
            user: "IAM:alice".into(),
            password: "s3cret-Pa55".into(),
            expires,
        }
    }

    #[test]
    fn credentials_are_renewed_inside_the_margin_only() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let secs = Duration::from_secs;
        assert!(is_fresh(&creds(now + secs(900)), now));
        assert!(is_fresh(&creds(now + secs(61)), now));
        assert!(!is_fresh(&creds(now + secs(60)), now));
        assert!(!is_fresh(&creds(now + secs(30)), now));
        assert!(!is_fresh(&creds(now - secs(1)), now));
    }

    #[test]
    fn debug_hides_the_password() {
        let text = format!("{:?}", creds(SystemTime::UNIX_EPOCH));
        assert!(text.contains("IAM:alice"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    fn sdk() -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-1"))
            .build()
    }

    fn cluster(db_user: Option<&str>) -> IamTarget {
        IamTarget::Cluster {
            cluster_identifier: "c".into(),
            db_user: db_user.map(str::to_string),
            db_groups: vec![],
            auto_create: false,
        }
    }

    #[test]
    fn the_target_picks_the_operation() {
        let op = |t: IamTarget| IamAuth::new(&sdk(), t, "dev".into()).caller.operation();
        assert_eq!(op(cluster(Some("alice"))), "GetClusterCredentials");
        assert_eq!(op(cluster(None)), "GetClusterCredentialsWithIAM");
        let wg = IamTarget::Serverless {
            workgroup_name: "wg".into(),
        };
        assert_eq!(op(wg), "GetCredentials");
    }

    #[test]
    fn hints_follow_the_error_code() {
        let auth = IamAuth::new(&sdk(), cluster(Some("alice")), "dev".into());
        let not_found = auth.hint(Some("ClusterNotFound")).unwrap_or_default();
        assert!(not_found.contains("cluster_identifier"), "{not_found}");
        assert!(not_found.contains("eu-west-1"), "{not_found}");
        let denied = auth.hint(Some("AccessDenied")).unwrap_or_default();
        assert!(
            denied.contains("redshift:GetClusterCredentials"),
            "{denied}"
        );
        assert_eq!(auth.hint(Some("InvalidParameterValue")), None);
        assert_eq!(auth.hint(None), None);
    }

    #[test]
    fn an_answer_without_a_password_is_refused() {
        let auth = IamAuth::new(&sdk(), cluster(None), "dev".into());
        let asked = SystemTime::now();
        let answer = |password: Option<&str>| Answer {
            user: Some("IAMR:role".into()),
            password: password.map(str::to_string),
            expires: None,
        };
        let err = auth
            .complete(answer(None), asked)
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("GetClusterCredentialsWithIAM"), "{err}");
        let ok = auth.complete(answer(Some("pw")), asked);
        let expires = ok.map(|c| c.expires).ok();
        assert_eq!(expires, Some(asked + Duration::from_secs(900)));
    }
}
