//! `kind = "dynamodb"`: DynamoDB through PartiQL.

use super::ConfigError;
use super::ConnectionDetails;
use super::fields::Fields;
use super::kinds::KindConfig;

/// Items per DynamoDB run before pausing.
const DYNAMODB_LIMIT: std::ops::Range<i64> = 1..10_000_001;

/// What a DynamoDB connection is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamodbConfig {
    /// Items loaded per run before Quarry pauses (the rest on "load more"); `None`: all.
    pub limit: Option<u32>,
    /// Strongly consistent reads (twice the read capacity).
    pub consistent_read: bool,
}

/// The keys only this kind takes (besides `name`, `kind` and the AWS keys), and its parser.
pub(super) const CONFIG: KindConfig = KindConfig {
    keys: &["limit", "consistent_read"],
    parse,
};

fn parse(f: &Fields<'_, '_>) -> Result<ConnectionDetails, ConfigError> {
    Ok(ConnectionDetails::Dynamodb(DynamodbConfig {
        limit: f.int_in("limit", DYNAMODB_LIMIT)?.map(|n| n as u32),
        consistent_read: f.bool_or_false("consistent_read")?.0,
    }))
}
