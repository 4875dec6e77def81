//! The worker's connectors: each connection connects once, on first use, and its connector is
//! then shared by every job of that connection.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::connectors::{self, Connector, ConnectorError};
use crate::store::config::ConnectionConfig;

/// One cell per connection: connecting to one service never waits for another's connect.
pub(super) type ConnectorCache =
    Arc<std::sync::Mutex<HashMap<String, Arc<OnceCell<Arc<dyn Connector>>>>>>;

/// The connector of `name`, connected once and then shared by all jobs of that connection.
pub(super) async fn connector_for(
    conn: Result<ConnectionConfig, String>,
    name: &str,
    cache: &ConnectorCache,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    let conn = conn.map_err(ConnectorError::Config)?;
    let cell = {
        // Held only to find the cell; a poisoned lock still holds a usable map.
        let mut cells = cache.lock().unwrap_or_else(|e| e.into_inner());
        cells.entry(name.to_string()).or_default().clone()
    };
    // Two jobs of one connection connect once; a failure leaves the cell empty for a retry.
    cell.get_or_try_init(|| connectors::connect(&conn))
        .await
        .cloned()
}
