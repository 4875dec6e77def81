//! The one place that maps a connection kind to its file of config keys and parser: adding a
//! key to a kind touches only that kind's file (athena.rs, redshift_data.rs, …).

use super::fields::Fields;
use super::{ConfigError, ConnectionDetails};
use super::{athena, dynamodb, local, redshift, redshift_data};
use crate::model::connection::ConnectionKind;

/// The keys every AWS kind takes.
pub(super) const AWS_KEYS: [&str; 3] = ["region", "profile", "endpoint_url"];

/// What the config file holds for one kind of connection.
pub(super) struct KindConfig {
    /// The keys only this kind takes.
    pub(super) keys: &'static [&'static str],
    /// Reads and checks those keys (the others were already refused).
    pub(super) parse: fn(&Fields<'_, '_>) -> Result<ConnectionDetails, ConfigError>,
}

/// The kind's keys and parser.
pub(super) fn config_of(kind: ConnectionKind) -> &'static KindConfig {
    match kind {
        ConnectionKind::Athena => &athena::CONFIG,
        ConnectionKind::RedshiftData => &redshift_data::CONFIG,
        ConnectionKind::Redshift => &redshift::CONFIG,
        ConnectionKind::Dynamodb => &dynamodb::CONFIG,
        ConnectionKind::Local => &local::CONFIG,
    }
}

/// Every key a connection of this kind accepts, for error messages.
pub(super) fn all_keys(kind: ConnectionKind) -> Vec<&'static str> {
    let mut keys = vec!["name", "kind"];
    if kind.is_aws() {
        keys.extend(AWS_KEYS);
    }
    keys.extend(config_of(kind).keys);
    keys
}

/// The kinds that take `key` as one of their own, in [`ConnectionKind::ALL`] order.
pub(super) fn owners_of(key: &str) -> Vec<ConnectionKind> {
    ConnectionKind::ALL
        .into_iter()
        .filter(|kind| config_of(*kind).keys.contains(&key))
        .collect()
}
