//! What every AWS connector shares: loading the SDK configuration for a connection (standard
//! credential chain, profile, region, endpoint) and turning SDK errors into one plain line.

use std::error::Error as StdError;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::ConnectorError;
use crate::store::config::ConnectionConfig;

/// Attempts per request (the first plus retries): throttling and transient faults are retried
/// with the SDK's exponential backoff and jitter before a job fails.
pub const MAX_ATTEMPTS: u32 = 5;

/// Loads the SDK configuration of `conn` and makes sure credentials can be had, so a missing or
/// expired login is reported once, plainly, before any request is sent.
pub async fn load(conn: &ConnectionConfig) -> Result<SdkConfig, ConnectorError> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(profile) = &conn.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &conn.region {
        loader = loader.region(Region::new(region.clone()));
    }
    // Without `endpoint_url`, the SDK still honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>.
    if let Some(url) = &conn.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(ConnectorError::Config(format!(
            "connection `{}` has no AWS region: set `region` in its config or AWS_REGION",
            conn.name
        )));
    }
    let Some(provider) = config.credentials_provider() else {
        return Err(ConnectorError::Config(no_credentials(conn, None)));
    };
    if let Err(e) = provider.provide_credentials().await {
        return Err(ConnectorError::Config(credentials_problem(conn, &e)));
    }
    Ok(config)
}

fn profile_of(conn: &ConnectionConfig) -> Option<String> {
    conn.profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok())
}

fn no_credentials(conn: &ConnectionConfig, detail: Option<&str>) -> String {
    let detail = detail.map(|d| format!(" ({d})")).unwrap_or_default();
    match profile_of(conn) {
        Some(p) => format!(
            "no AWS credentials for profile `{p}`{detail}: run `aws sso login --profile {p}` \
             (SSO) or check the profile in ~/.aws/config and ~/.aws/credentials"
        ),
        None => format!(
            "no AWS credentials for connection `{}`{detail}: set `profile` in the connection, \
             AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            conn.name
        ),
    }
}

/// One line for a credentials failure: what failed and what to do.
fn credentials_problem(conn: &ConnectionConfig, e: &CredentialsError) -> String {
    let cause = innermost(e);
    match e {
        CredentialsError::CredentialsNotLoaded(_) => no_credentials(conn, None),
        CredentialsError::ProviderTimedOut(_) => format!(
            "AWS credentials for connection `{}` timed out ({cause}): is the network or the \
             credential process reachable?",
            conn.name
        ),
        _ => no_credentials(conn, Some(&cause)),
    }
}

/// The deepest error message of a chain: the part that says what actually went wrong.
pub fn innermost(e: &(dyn StdError + 'static)) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.trim().is_empty() {
            last = text;
        }
        source = s.source();
    }
    last.lines().next().unwrap_or("").trim().to_string()
}

/// Whether a credentials provider failure is somewhere in `err`'s chain.
fn credentials_failed(err: &(dyn StdError + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Error codes the services use for throttling.
const THROTTLING: [&str; 5] = [
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
];

/// Error codes that mean the credentials were refused.
const CREDENTIALS_REFUSED: [&str; 5] = [
    "ExpiredTokenException",
    "ExpiredToken",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "InvalidClientTokenId",
];

/// Turns an SDK error into one actionable line. `service` names the service ("Athena").
pub fn describe_sdk_error<E>(service: &str, err: &SdkError<E, HttpResponse>) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + StdError + 'static,
{
    if credentials_failed(err) {
        // Resolved fine at connect, then failed to refresh (an SSO session ended, say).
        return format!(
            "AWS credentials could not be refreshed ({}): log in again (e.g. `aws sso login`) \
             or check the connection's profile",
            innermost(err)
        );
    }
    match err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.err();
            let Some(code) = e.code() else {
                // No error code: an answer the SDK could not classify (an HTTP 500 page, …).
                let status = ctx.raw().status().as_u16();
                return format!(
                    "{service} failed with HTTP {status} and no error code ({}): the endpoint may \
                     not support this operation",
                    innermost(err)
                );
            };
            let message = e.message().unwrap_or("").trim();
            if THROTTLING.contains(&code) {
                format!(
                    "{service} is throttling requests and still was after {MAX_ATTEMPTS} attempts \
                     ({code}: {message}): wait a moment, or run fewer queries at once"
                )
            } else if CREDENTIALS_REFUSED.contains(&code) {
                format!(
                    "{service} refused the credentials ({code}: {message}): they may have \
                     expired; log in again (e.g. `aws sso login`)"
                )
            } else if message.is_empty() {
                code.to_string()
            } else {
                format!("{code}: {message}")
            }
        }
        SdkError::TimeoutError(_) => {
            format!("{service} did not answer in time (after {MAX_ATTEMPTS} attempts)")
        }
        SdkError::DispatchFailure(d) => {
            let cause = innermost(err);
            if d.is_io() || d.is_timeout() {
                format!("cannot reach {service}: {cause}")
            } else {
                format!("request to {service} failed: {cause}")
            }
        }
        SdkError::ResponseError(_) => {
            format!(
                "{service} sent an answer Quarry cannot read: {}",
                innermost(err)
            )
        }
        _ => format!("{service}: {}", innermost(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::config::{AthenaConfig, ConnectionDetails, ConnectionKind};

    fn athena(profile: Option<&str>) -> ConnectionConfig {
        ConnectionConfig {
            name: "prod".into(),
            kind: ConnectionKind::Athena,
            region: Some("eu-west-1".into()),
            profile: profile.map(str::to_string),
            endpoint_url: None,
            details: ConnectionDetails::Athena(AthenaConfig {
                workgroup: None,
                catalog: None,
                database: None,
                output_location: None,
                result_reuse_minutes: None,
                scan_price_per_tb: None,
                dpu_price_per_hour: None,
                s3_endpoint_url: None,
            }),
        }
    }

    #[test]
    fn missing_credentials_name_the_profile_and_the_fix() {
        let msg = no_credentials(&athena(Some("prod")), None);
        assert!(msg.contains("profile `prod`"), "{msg}");
        assert!(msg.contains("aws sso login --profile prod"), "{msg}");
    }

    #[test]
    fn innermost_takes_the_deepest_cause() {
        let io = std::io::Error::other("token expired");
        let outer = CredentialsError::provider_error(io);
        assert_eq!(innermost(&outer), "token expired");
    }
}
