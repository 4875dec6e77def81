//! Athena for Apache Spark: Spark-enabled workgroups, their sessions (start, status, details,
//! terminate) and calculations, whose output the service writes to S3.
//!
//! - `session`: the browser's listings and the session operations ([`SparkOp`]);
//! - `details`: the labelled lines of a session's details (GetSession, endpoint, Spark UI);
//! - `calc`: one calculation: start, follow, stop when cancelled, stream its output;
//! - `s3`: reading the output files back (capped);
//! - `result`: an output file → an Arrow table, or text lines (`json`: order-keeping JSON).

mod calc;
mod details;
mod json;
pub mod result;
mod s3;
mod session;

/// The browser's `spark` folder (Spark-enabled workgroups) and a workgroup's sessions (newest
/// first); one calculation run in a session.
pub use calc::run as run_calculation;
pub use session::{list as sessions, workgroups};

use aws_config::SdkConfig;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use super::AthenaConnector;
use crate::connectors::ConnectorError;
use crate::connectors::spark::{SparkOp, SparkReply, format_dpu};
use crate::model::format::format_cost;
use crate::store::config::{AthenaConfig, ConnectionConfig, ConnectionDetails};

/// The S3 client that reads calculation output. An explicit `endpoint_url` of the connection is
/// Athena's (a fake, a VPC endpoint), so S3 goes to `s3_endpoint_url` (path-style, as
/// S3-compatible servers want) or to the standard S3 endpoint.
pub fn s3_client(sdk: &SdkConfig, conn: &ConnectionConfig) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(sdk);
    let s3_url = match &conn.details {
        ConnectionDetails::Athena(AthenaConfig {
            s3_endpoint_url, ..
        }) => s3_endpoint_url.clone(),
        _ => None,
    };
    if let Some(url) = s3_url {
        builder = builder.endpoint_url(url).force_path_style(true);
    } else if conn.endpoint_url.is_some() {
        builder.set_endpoint_url(None);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// Runs one session operation.
pub async fn handle(a: &AthenaConnector, op: SparkOp) -> Result<SparkReply, ConnectorError> {
    match op {
        SparkOp::Defaults { workgroup } => session::defaults(a, &workgroup)
            .await
            .map(SparkReply::Defaults),
        SparkOp::Start {
            workgroup,
            settings,
            description,
            token,
        } => session::start(a, &workgroup, settings, description, &token)
            .await
            .map(SparkReply::Session),
        SparkOp::Status { id } => session::status(a, &id).await.map(SparkReply::Session),
        SparkOp::Details { id } => details::details(a, &id).await,
        SparkOp::Terminate { id } => session::terminate(a, &id).await.map(SparkReply::Session),
    }
}

use super::catalog::sdk_error;

/// RFC 3339 (UTC), as [`crate::connectors::spark::SparkSession`] keeps times.
fn rfc3339(t: &DateTime) -> Option<String> {
    t.fmt(Format::DateTime).ok()
}

/// `2026-11-22 13:02 UTC`, for people.
fn short_time(t: &DateTime) -> String {
    match rfc3339(t) {
        Some(s) => format!(
            "{} UTC",
            s.replace('T', " ").chars().take(16).collect::<String>()
        ),
        None => t.secs().to_string(),
    }
}

/// Whole minutes from `t` until now (0 when `t` is in the future).
fn minutes_since(t: &DateTime) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    (now - t.secs()).max(0) / 60
}

/// What `ms` of DPU time costs at the connection's price.
fn dpu_cost(a: &AthenaConnector, ms: i64) -> f64 {
    ms.max(0) as f64 / 3_600_000.0 * a.dpu_price_per_hour
}

/// `0.42 DPU·h (~$0.15)`.
fn dpu_usage(a: &AthenaConnector, ms: i64) -> String {
    format!("{} (~{})", format_dpu(ms), format_cost(dpu_cost(a, ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpu_time_reads_in_hours_or_seconds() {
        assert_eq!(format_dpu(3_600_000), "1.00 DPU·h");
        assert_eq!(format_dpu(1_512_000), "0.42 DPU·h");
        assert_eq!(format_dpu(7_200), "7.2 DPU·s");
        assert_eq!(format_dpu(-5), "0.0 DPU·s");
    }

    #[test]
    fn times_are_short_and_utc() {
        let t = DateTime::from_secs(1_795_352_520);
        assert_eq!(short_time(&t), "2026-11-22 13:02 UTC");
        assert_eq!(rfc3339(&t).as_deref(), Some("2026-11-22T13:02:00Z"));
    }
}
