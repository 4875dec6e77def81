//! `kind = "athena"`: Athena SQL (and Athena for Apache Spark) connections.

use super::ConfigError;
use super::ConnectionDetails;
use super::fields::Fields;
use super::kinds::KindConfig;

/// Athena's list price per TB scanned (USD), used for cost estimates unless configured.
pub const DEFAULT_ATHENA_PRICE_PER_TB: f64 = 5.0;
/// Athena for Apache Spark's list price per DPU-hour (USD), for cost estimates unless configured.
pub const DEFAULT_SPARK_PRICE_PER_DPU_HOUR: f64 = 0.35;
/// Athena keeps reusable results up to 7 days.
const RESULT_REUSE_MINUTES: std::ops::Range<i64> = 1..10_081;

/// The Athena catalog used when a connection names none.
pub const DEFAULT_ATHENA_CATALOG: &str = "AwsDataCatalog";

/// What an Athena connection is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct AthenaConfig {
    pub workgroup: Option<String>,
    /// Always `Some`: [`DEFAULT_ATHENA_CATALOG`] when the file names none.
    pub catalog: Option<String>,
    pub database: Option<String>,
    /// `s3://…`; `None` uses the workgroup's result location.
    pub output_location: Option<String>,
    /// Reuse a previous result of the same query up to this age (minutes); `None`: off.
    pub result_reuse_minutes: Option<u32>,
    /// USD per TB scanned, for cost estimates; `None`: [`DEFAULT_ATHENA_PRICE_PER_TB`].
    pub scan_price_per_tb: Option<f64>,
    /// USD per DPU-hour of Spark calculations; `None`: [`DEFAULT_SPARK_PRICE_PER_DPU_HOUR`].
    pub dpu_price_per_hour: Option<f64>,
    /// Where Spark calculation results are read from S3 when not the standard endpoint (an
    /// S3-compatible server, a VPC endpoint); path-style addressing is used then.
    pub s3_endpoint_url: Option<String>,
}

/// The keys only this kind takes (besides `name`, `kind` and the AWS keys), and its parser.
pub(super) const CONFIG: KindConfig = KindConfig {
    keys: &[
        "workgroup",
        "catalog",
        "database",
        "output_location",
        "result_reuse_minutes",
        "scan_price_per_tb",
        "dpu_price_per_hour",
        "s3_endpoint_url",
    ],
    parse,
};

fn parse(f: &Fields<'_, '_>) -> Result<ConnectionDetails, ConfigError> {
    let output_location = match f.spanned_string("output_location")? {
        Some((loc, span)) if !loc.starts_with("s3://") => {
            return Err(f.ctx.error(
                span,
                format!("`output_location` must be an S3 URL starting with s3://, found `{loc}`"),
            ));
        }
        other => other.map(|(l, _)| l),
    };
    Ok(ConnectionDetails::Athena(AthenaConfig {
        workgroup: f.opt_string("workgroup")?,
        catalog: Some(
            f.opt_string("catalog")?
                .unwrap_or_else(|| DEFAULT_ATHENA_CATALOG.to_string()),
        ),
        database: f.opt_string("database")?,
        output_location,
        result_reuse_minutes: f
            .int_in("result_reuse_minutes", RESULT_REUSE_MINUTES)?
            .map(|m| m as u32),
        scan_price_per_tb: f.price("scan_price_per_tb")?,
        dpu_price_per_hour: f.price("dpu_price_per_hour")?,
        s3_endpoint_url: f.url("s3_endpoint_url")?,
    }))
}
