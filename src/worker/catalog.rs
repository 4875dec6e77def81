//! Where completion's names come from: a connection's catalog listed through the same
//! `Connector::children` calls the browser makes (Glue/Athena metadata, Redshift Data
//! `ListTables`/`DescribeTable`, `pg_catalog`, DynamoDB `ListTables`/`DescribeTable`,
//! DataFusion's catalog) — never by running a statement — and cached on disk per connection.
//!
//! Breadth is bounded: a refresh lists catalogs, databases, schemas and their tables, and stops
//! at the tables; a table's columns are listed when asked for ([`WorkerCmd::LoadColumns`]).
//! Each call that fails is reported and the walk goes on with the rest.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::{Mutex, mpsc};

use super::connect::{ConnectorCache, connector_for};
use super::{WorkerEvent, internal_error_text};
use crate::connectors::{CatalogNode, CatalogPath, Connector, ConnectorError, NodeKind};
use crate::model::completion::{CatalogSnapshot, ColumnEntry, TableEntry};
use crate::panics;
use crate::store::catalog_cache::{CachedCatalog, CatalogCache};
use crate::store::config::ConnectionConfig;

/// At most this many containers (catalogs, databases, schemas) are listed in one refresh: an
/// account with more is completed from the first ones (and says so).
pub const MAX_CONTAINERS: usize = 2000;

/// How many listing calls run at once.
const PARALLEL_CALLS: usize = 4;

/// What a refresh found, and the calls that failed (one line each).
#[derive(Debug, Default)]
pub struct Walk {
    pub snapshot: CatalogSnapshot,
    pub errors: Vec<String>,
}

/// Lists `connector`'s catalog down to its tables. Only a failure of the root listing is an
/// error; a failing listing below it is recorded in [`Walk::errors`].
pub async fn walk_catalog(connector: &dyn Connector) -> Result<Walk, ConnectorError> {
    let mut walk = Walk::default();
    let mut level = vec![(CatalogPath::new(), connector.children(&Vec::new()).await?)];
    let mut listed = 0usize;
    while !level.is_empty() {
        let mut containers = Vec::new();
        for (path, nodes) in level {
            for node in nodes {
                walk.note(&path, node, &mut containers);
            }
        }
        let room = MAX_CONTAINERS.saturating_sub(listed);
        if containers.len() > room {
            walk.errors.push(format!(
                "more than {MAX_CONTAINERS} catalogs, databases and schemas: only the first ones were listed"
            ));
            containers.truncate(room);
        }
        listed += containers.len();
        let results: Vec<_> = futures::stream::iter(containers)
            .map(|path| async move {
                let result = connector.children(&path).await;
                (path, result)
            })
            .buffered(PARALLEL_CALLS)
            .collect()
            .await;
        level = Vec::new();
        for (path, result) in results {
            match result {
                Ok(nodes) => level.push((path, nodes)),
                Err(e) => walk.errors.push(format!("{}: {e}", path.join("."))),
            }
        }
    }
    Ok(walk)
}

impl Walk {
    /// Records `node` (found under `path`): a table or view joins the snapshot, a container
    /// joins the schemas and `containers` (to be listed next). Anything else — workgroups,
    /// past queries, Spark sessions, properties, and Athena's folders that hold only those —
    /// is not a name a statement uses.
    fn note(&mut self, path: &CatalogPath, node: CatalogNode, containers: &mut Vec<CatalogPath>) {
        match node.kind {
            NodeKind::Table | NodeKind::View => self.snapshot.tables.push(TableEntry {
                schema: path.clone(),
                view: node.kind == NodeKind::View,
                name: node.name,
                columns: None,
                keys: Vec::new(),
            }),
            NodeKind::Catalog | NodeKind::Database | NodeKind::Schema => {
                let mut child = path.clone();
                child.push(node.name);
                self.snapshot.schemas.push(child.clone());
                if node.has_children {
                    containers.push(child);
                }
            }
            _ => {}
        }
    }
}

/// The columns of the table at `table` (schema path, then name), and its key attributes.
pub async fn table_columns(
    connector: &dyn Connector,
    table: &[String],
) -> Result<(Vec<ColumnEntry>, Vec<String>), ConnectorError> {
    let nodes = connector.children(&table.to_vec()).await?;
    let mut columns = Vec::new();
    let mut keys = Vec::new();
    for node in nodes.into_iter().filter(|n| n.kind == NodeKind::Column) {
        let (type_name, is_key) = column_detail(node.detail.as_deref());
        if is_key {
            keys.push(node.name.clone());
        }
        columns.push(ColumnEntry {
            name: node.name,
            type_name,
        });
    }
    Ok((columns, keys))
}

/// A column node's detail as the connectors write it — `bigint not null default 0 · PK`,
/// `S · partition key`, `string · partition key` — read back as its type and whether it is
/// a key attribute (DynamoDB's partition or sort key, Athena's partition key).
fn column_detail(detail: Option<&str>) -> (Option<String>, bool) {
    let Some(detail) = detail else {
        return (None, false);
    };
    let mut parts = detail.split(" · ");
    let head = parts.next().unwrap_or_default();
    let is_key = parts.any(|p| p == "partition key" || p == "sort key");
    let type_name = [" not null", " NOT NULL", " default "]
        .iter()
        .filter_map(|cut| head.find(cut))
        .min()
        .map_or(head, |at| &head[..at])
        .trim();
    let type_name = (!type_name.is_empty() && type_name != "?").then(|| type_name.to_string());
    (type_name, is_key)
}

/// What a catalog request of the app needs from the worker.
pub(super) struct CatalogJob {
    pub conn: Result<ConnectionConfig, String>,
    pub connection: String,
    pub connected: ConnectorCache,
    pub events: mpsc::Sender<WorkerEvent>,
    /// `None` when there is no data directory: nothing is cached.
    pub cache: Option<CatalogCache>,
    /// Held while the cache is read, changed and written back.
    pub writes: Arc<Mutex<()>>,
}

/// Answers [`WorkerCmd::LoadCatalog`] in a task of its own.
pub(super) fn spawn_load_catalog(job: CatalogJob, refresh: bool) {
    tokio::spawn(async move {
        let events = job.events.clone();
        let connection = job.connection.clone();
        if let Err(panic) = panics::contained(load_catalog(&job, refresh)).await {
            let snapshot = Err(internal_error_text(&panic));
            let from_cache = false;
            let _ = events
                .send(WorkerEvent::Catalog {
                    connection,
                    snapshot,
                    from_cache,
                })
                .await;
        }
    });
}

async fn load_catalog(job: &CatalogJob, refresh: bool) {
    let cached = read_cache(job).await;
    if let Some(c) = &cached {
        job.send_catalog(Ok(Arc::new(c.snapshot.clone())), true)
            .await;
    }
    if !refresh && cached.as_ref().is_some_and(|c| !c.is_stale()) {
        return;
    }
    let outcome = match connector_for(job.conn.clone(), &job.connection, &job.connected).await {
        Ok(c) => walk_catalog(c.as_ref()).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let outcome = match outcome {
        Ok(walk) => {
            for error in &walk.errors {
                tracing::warn!(connection = %job.connection, %error, "listing the catalog");
            }
            Ok(Arc::new(job.store_refreshed(walk.snapshot).await))
        }
        Err(e) => Err(e),
    };
    job.send_catalog(outcome, false).await;
}

/// The cached catalog, if there is a readable one (an unreadable one is logged and ignored).
async fn read_cache(job: &CatalogJob) -> Option<CachedCatalog> {
    let cache = job.cache.clone()?;
    let name = job.connection.clone();
    match tokio::task::spawn_blocking(move || cache.load(&name)).await {
        Ok(Ok(cached)) => cached,
        Ok(Err(e)) => {
            tracing::warn!("catalog cache ignored: {e}");
            None
        }
        Err(e) => {
            tracing::warn!("catalog cache ignored: {e}");
            None
        }
    }
}

impl CatalogJob {
    async fn send_catalog(&self, snapshot: Result<Arc<CatalogSnapshot>, String>, from_cache: bool) {
        let connection = self.connection.clone();
        let _ = self
            .events
            .send(WorkerEvent::Catalog {
                connection,
                snapshot,
                from_cache,
            })
            .await;
    }

    /// Applies `change` to the cached snapshot (an empty one when none is readable) and writes
    /// it back; returns the snapshot changed. Writing is best effort: a failure is logged.
    async fn update_cache(
        &self,
        change: impl FnOnce(&mut CatalogSnapshot) + Send + 'static,
    ) -> Option<CatalogSnapshot> {
        let cache = self.cache.clone()?;
        let _writing = self.writes.lock().await;
        let name = self.connection.clone();
        let written = tokio::task::spawn_blocking(move || {
            let mut snapshot = match cache.load(&name) {
                Ok(Some(c)) => c.snapshot,
                Ok(None) => CatalogSnapshot::default(),
                Err(e) => {
                    tracing::warn!("catalog cache ignored: {e}");
                    CatalogSnapshot::default()
                }
            };
            change(&mut snapshot);
            if let Err(e) = cache.save(&CachedCatalog::now(&name, snapshot.clone())) {
                tracing::warn!("catalog cache not written: {e}");
            }
            snapshot
        })
        .await;
        written.ok()
    }

    /// Caches a refreshed snapshot, keeping the columns already loaded for its tables.
    async fn store_refreshed(&self, fresh: CatalogSnapshot) -> CatalogSnapshot {
        let kept = fresh.clone();
        let merged = self
            .update_cache(move |cached| {
                let mut fresh = fresh;
                fresh.keep_columns_of(cached);
                *cached = fresh;
            })
            .await;
        merged.unwrap_or(kept)
    }
}

/// Answers [`WorkerCmd::LoadColumns`] in a task of its own.
pub(super) fn spawn_load_columns(job: CatalogJob, table: Vec<String>) {
    tokio::spawn(async move {
        let asked = table.clone();
        let outcome = panics::contained(async {
            match connector_for(job.conn.clone(), &job.connection, &job.connected).await {
                Ok(c) => table_columns(c.as_ref(), &asked)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
        .unwrap_or_else(|panic| Err(internal_error_text(&panic)));
        let (columns, keys) = match outcome {
            Ok((columns, keys)) => {
                let (c, k, path) = (columns.clone(), keys.clone(), table.clone());
                job.update_cache(move |s| s.merge_columns(&path, c, k))
                    .await;
                (Ok(columns), keys)
            }
            Err(e) => (Err(e), Vec::new()),
        };
        let connection = job.connection.clone();
        let _ = job
            .events
            .send(WorkerEvent::Columns {
                connection,
                table,
                columns,
                keys,
            })
            .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_column_details_read_back() {
        let read = |d: &str| column_detail(Some(d));
        assert_eq!(read("S · partition key"), (Some("S".into()), true));
        assert_eq!(read("N · sort key"), (Some("N".into()), true));
        assert_eq!(
            read("integer not null default 0 · PK"),
            (Some("integer".into()), false)
        );
        assert_eq!(read("Int64 NOT NULL"), (Some("Int64".into()), false));
        assert_eq!(read("varchar(20)"), (Some("varchar(20)".into()), false));
        assert_eq!(read("?"), (None, false));
        assert_eq!(column_detail(None), (None, false));
    }

    fn job(dir: &std::path::Path) -> (CatalogJob, mpsc::Receiver<WorkerEvent>) {
        let (events, rx) = mpsc::channel(8);
        let conn = crate::store::config::Config::builtin_local();
        let job = CatalogJob {
            connection: conn.name.clone(),
            conn: Ok(conn),
            connected: ConnectorCache::default(),
            events,
            cache: Some(CatalogCache::at(dir.to_path_buf())),
            writes: Arc::default(),
        };
        (job, rx)
    }

    fn tables(ev: WorkerEvent) -> (Vec<String>, bool) {
        match ev {
            WorkerEvent::Catalog {
                snapshot: Ok(s),
                from_cache,
                ..
            } => (
                s.tables.iter().map(|t| t.name.clone()).collect(),
                from_cache,
            ),
            other => panic!("not a catalog: {other:?}"),
        }
    }

    #[cfg(feature = "local")]
    #[tokio::test]
    async fn catalog_load_answers_from_the_cache_then_refreshes() {
        let tmp = tempfile::tempdir().unwrap();
        let (job, mut rx) = job(tmp.path());
        // No cache yet: listed once, then cached.
        load_catalog(&job, false).await;
        let names: Vec<String> = ["events", "trips", "vendors", "zones"]
            .map(String::from)
            .to_vec();
        assert_eq!(tables(rx.try_recv().unwrap()), (names.clone(), false));
        assert!(rx.try_recv().is_err());
        // A fresh cache answers alone.
        load_catalog(&job, false).await;
        assert_eq!(tables(rx.try_recv().unwrap()), (names.clone(), true));
        assert!(rx.try_recv().is_err());
        // Columns join the cache; a refresh answers from the cache first and keeps them.
        spawn_load_columns(job_clone(&job), vec!["trips".into()]);
        match rx.recv().await.unwrap() {
            WorkerEvent::Columns { columns, keys, .. } => {
                assert!(columns.unwrap().iter().any(|c| c.name == "fare_amount"));
                assert!(keys.is_empty());
            }
            other => panic!("not columns: {other:?}"),
        }
        load_catalog(&job, true).await;
        assert_eq!(tables(rx.try_recv().unwrap()), (names.clone(), true));
        match rx.try_recv().unwrap() {
            WorkerEvent::Catalog {
                snapshot: Ok(s),
                from_cache: false,
                ..
            } => assert!(
                s.tables
                    .iter()
                    .any(|t| t.name == "trips" && t.columns.is_some())
            ),
            other => panic!("not a refreshed catalog: {other:?}"),
        }
    }

    fn job_clone(job: &CatalogJob) -> CatalogJob {
        CatalogJob {
            conn: job.conn.clone(),
            connection: job.connection.clone(),
            connected: job.connected.clone(),
            events: job.events.clone(),
            cache: job.cache.clone(),
            writes: job.writes.clone(),
        }
    }

    #[tokio::test]
    async fn catalog_load_of_an_unknown_connection_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut job, mut rx) = job(tmp.path());
        job.conn = Err("no connection named `nope`".into());
        job.connection = "nope".into();
        load_catalog(&job, false).await;
        match rx.try_recv().unwrap() {
            WorkerEvent::Catalog {
                snapshot: Err(e), ..
            } => assert!(e.contains("nope"), "{e}"),
            other => panic!("not an error: {other:?}"),
        }
    }
}
