//! The browser tree under an Athena connection:
//!
//! ```text
//! <catalog> → <database> → <table|view> → <column>      ListDataCatalogs, ListDatabases, ListTableMetadata
//! workgroups → <workgroup> → settings, saved queries, recent queries
//!                                                        ListWorkGroups, GetWorkGroup, ListNamedQueries
//! recent queries → <query>    (the connection's workgroup) ListQueryExecutions, BatchGetQueryExecution
//! spark → <Spark workgroup> → <session>                  ListWorkGroups, GetWorkGroup, ListSessions
//! ```
//!
//! A catalog named `workgroups` or `recent queries` would be hidden by the folders; Athena's
//! catalogs are rarely named so.

use aws_sdk_athena::types::QueryExecution;
use futures::StreamExt;

use super::AthenaConnector;
use crate::connectors::{CatalogNode, CatalogPath, ConnectorError, NodeAction, NodeKind, aws};
use crate::model::format::format_elapsed;
use crate::sql::quote_ident;

pub const WORKGROUPS: &str = "workgroups";
pub const RECENT: &str = "recent queries";
pub const SPARK: &str = "spark";
/// Recent executions listed (one BatchGetQueryExecution holds 50).
const RECENT_LIMIT: i32 = 50;
/// Saved queries listed per workgroup.
const NAMED_LIMIT: usize = 100;

/// An Athena SDK error as a query error of one actionable line.
pub(super) fn sdk_error<E>(
    e: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> ConnectorError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    ConnectorError::Query(aws::describe_sdk_error("Athena", &e))
}

pub async fn children(
    a: &AthenaConnector,
    path: &CatalogPath,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    match path.as_slice() {
        [] => root(a).await,
        [w] if w == WORKGROUPS => workgroups(a).await,
        [w, name] if w == WORKGROUPS => workgroup(a, name).await,
        [w, name, r] if w == WORKGROUPS && r == RECENT => recent(a, Some(name)).await,
        [r] if r == RECENT => recent(a, a.workgroup.as_deref()).await,
        [s] if s == SPARK => super::spark::workgroups(a).await,
        [s, workgroup] if s == SPARK => super::spark::sessions(a, workgroup).await,
        [catalog] => databases(a, catalog).await,
        [catalog, db] => tables(a, catalog, db).await,
        [catalog, db, table] => columns(a, catalog, db, table).await,
        _ => Ok(Vec::new()),
    }
}

async fn root(a: &AthenaConnector) -> Result<Vec<CatalogNode>, ConnectorError> {
    let mut pages = a.client.list_data_catalogs().into_paginator().send();
    let mut nodes = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            // Listing catalogs is a permission of its own: without it, the connection's catalog
            // and the folders are still useful.
            Err(e) => {
                let error = aws::describe_sdk_error("Athena", &e);
                tracing::warn!(%error, "ListDataCatalogs failed");
                break;
            }
        };
        for c in page.data_catalogs_summary() {
            if let Some(name) = c.catalog_name() {
                let mut node = CatalogNode::new(name, NodeKind::Catalog).with_children();
                if let Some(t) = c.r#type() {
                    node = node.with_detail(t.as_str());
                }
                nodes.push(node);
            }
        }
    }
    // The connection's catalog is always there, even where listing catalogs is not allowed.
    if !nodes.iter().any(|n| n.name == a.catalog) {
        nodes.insert(
            0,
            CatalogNode::new(&a.catalog, NodeKind::Catalog).with_children(),
        );
    }
    nodes.push(
        CatalogNode::new(WORKGROUPS, NodeKind::Folder)
            .with_detail("Enter on one: run this tab there")
            .with_children(),
    );
    let whose = a.workgroup.as_deref().unwrap_or("primary");
    nodes.push(
        CatalogNode::new(RECENT, NodeKind::Folder)
            .with_detail(format!(
                "workgroup {whose} · Enter on one: show its results again"
            ))
            .with_children(),
    );
    nodes.push(
        CatalogNode::new(SPARK, NodeKind::Folder)
            .with_detail("Spark-enabled workgroups and their sessions")
            .with_children(),
    );
    Ok(nodes)
}

async fn databases(a: &AthenaConnector, catalog: &str) -> Result<Vec<CatalogNode>, ConnectorError> {
    let mut pages = a
        .client
        .list_databases()
        .catalog_name(catalog)
        .into_paginator()
        .send();
    let mut nodes = Vec::new();
    while let Some(page) = pages.next().await {
        for db in page.map_err(sdk_error)?.database_list() {
            let mut node = CatalogNode::new(db.name(), NodeKind::Database).with_children();
            if let Some(d) = db.description().filter(|d| !d.is_empty()) {
                node = node.with_detail(d);
            }
            nodes.push(node);
        }
    }
    Ok(nodes)
}

/// `db.table`, with the catalog only when it is not the connection's.
fn qualified(a: &AthenaConnector, catalog: &str, db: &str, table: &str) -> String {
    let mut parts = Vec::new();
    if catalog != a.catalog {
        parts.push(quote_ident(catalog));
    }
    parts.push(quote_ident(db));
    parts.push(quote_ident(table));
    parts.join(".")
}

async fn tables(
    a: &AthenaConnector,
    catalog: &str,
    db: &str,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    let mut pages = a
        .client
        .list_table_metadata()
        .catalog_name(catalog)
        .database_name(db)
        .into_paginator()
        .send();
    let mut nodes = Vec::new();
    while let Some(page) = pages.next().await {
        for t in page.map_err(sdk_error)?.table_metadata_list() {
            let kind = match t.table_type() {
                Some(ty) if ty.contains("VIEW") => NodeKind::View,
                _ => NodeKind::Table,
            };
            let format = t
                .parameters()
                .and_then(|p| p.get("classification"))
                .map(String::as_str);
            let partitions = t.partition_keys().len();
            let detail = [
                format.map(str::to_string),
                (partitions > 0).then(|| format!("{partitions} partition key(s)")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            let mut node = CatalogNode::new(t.name(), kind)
                .with_children()
                .with_query(format!(
                    "SELECT * FROM {} LIMIT 100",
                    qualified(a, catalog, db, t.name())
                ));
            if !detail.is_empty() {
                node = node.with_detail(detail);
            }
            nodes.push(node);
        }
    }
    Ok(nodes)
}

async fn columns(
    a: &AthenaConnector,
    catalog: &str,
    db: &str,
    table: &str,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    // ListTableMetadata with an expression finds the table with the same permissions the
    // listing needed (GetTableMetadata is a separate grant).
    let mut pages = a
        .client
        .list_table_metadata()
        .catalog_name(catalog)
        .database_name(db)
        .expression(table)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(sdk_error)?;
        if let Some(t) = page
            .table_metadata_list()
            .iter()
            .find(|t| t.name() == table)
        {
            let cols = t.columns().iter().map(|c| {
                CatalogNode::new(c.name(), NodeKind::Column)
                    .with_detail(c.r#type().unwrap_or("?").to_string())
            });
            let keys = t.partition_keys().iter().map(|c| {
                CatalogNode::new(c.name(), NodeKind::Column)
                    .with_detail(format!("{} · partition key", c.r#type().unwrap_or("?")))
            });
            return Ok(cols.chain(keys).collect());
        }
    }
    Err(ConnectorError::Query(format!(
        "table `{db}.{table}` is not in catalog `{catalog}` any more"
    )))
}

async fn workgroups(a: &AthenaConnector) -> Result<Vec<CatalogNode>, ConnectorError> {
    let mut pages = a.client.list_work_groups().into_paginator().send();
    let mut nodes = Vec::new();
    while let Some(page) = pages.next().await {
        for wg in page.map_err(sdk_error)?.work_groups() {
            let Some(name) = wg.name() else { continue };
            let engine = wg
                .engine_version()
                .and_then(|e| e.effective_engine_version().or(e.selected_engine_version()));
            let detail = [
                wg.state().map(|s| s.as_str().to_string()),
                engine.map(str::to_string),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            let mut node = CatalogNode::new(name, NodeKind::Workgroup)
                .with_children()
                .with_action(NodeAction::UseWorkgroup(name.to_string()));
            if a.workgroup.as_deref() == Some(name) {
                node = node.with_detail(format!("{detail} · this connection's"));
            } else if !detail.is_empty() {
                node = node.with_detail(detail);
            }
            nodes.push(node);
        }
    }
    Ok(nodes)
}

fn property(label: &str, value: impl Into<String>) -> CatalogNode {
    CatalogNode::new(label, NodeKind::Property).with_detail(value)
}

async fn workgroup(a: &AthenaConnector, name: &str) -> Result<Vec<CatalogNode>, ConnectorError> {
    let out = a
        .client
        .get_work_group()
        .work_group(name)
        .send()
        .await
        .map_err(sdk_error)?;
    let mut nodes = Vec::new();
    if let Some(wg) = out.work_group() {
        if let Some(s) = wg.state() {
            nodes.push(property("state", s.as_str()));
        }
        if let Some(c) = wg.configuration() {
            if let Some(e) = c.engine_version() {
                let v = e
                    .effective_engine_version()
                    .or(e.selected_engine_version())
                    .unwrap_or("?");
                nodes.push(property("engine version", v));
            }
            let location = c
                .result_configuration()
                .and_then(|r| r.output_location())
                .unwrap_or("none (each connection must set output_location)");
            nodes.push(property("output location", location));
            let cutoff = c
                .bytes_scanned_cutoff_per_query()
                .map(|b| crate::model::format::human_bytes(b.max(0) as u64))
                .unwrap_or_else(|| "none".into());
            nodes.push(property("bytes scanned cutoff", cutoff));
            let enforced = c.enforce_work_group_configuration().unwrap_or(false);
            nodes.push(property(
                "enforce workgroup configuration",
                if enforced {
                    "yes (its settings override the connection's)"
                } else {
                    "no"
                },
            ));
        }
        if let Some(d) = wg.description().filter(|d| !d.is_empty()) {
            nodes.push(property("description", d));
        }
    }
    nodes.extend(named_queries(a, name).await?);
    nodes.push(
        CatalogNode::new(RECENT, NodeKind::Folder)
            .with_detail("in this workgroup")
            .with_children(),
    );
    Ok(nodes)
}

/// The workgroup's saved (named) queries: Enter inserts the SQL.
async fn named_queries(
    a: &AthenaConnector,
    workgroup: &str,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    let mut ids = Vec::new();
    let mut pages = a
        .client
        .list_named_queries()
        .work_group(workgroup)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        ids.extend(page.map_err(sdk_error)?.named_query_ids().iter().cloned());
        if ids.len() >= NAMED_LIMIT {
            break;
        }
    }
    ids.truncate(NAMED_LIMIT);
    // GetNamedQuery one by one (a few at a time): it is what every implementation supports.
    let fetched: Vec<_> = futures::stream::iter(ids)
        .map(|id| a.client.get_named_query().named_query_id(id).send())
        .buffered(8)
        .collect()
        .await;
    let mut nodes = Vec::new();
    for out in fetched {
        // One saved query deleted meanwhile does not hide the others.
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                let error = aws::describe_sdk_error("Athena", &e);
                tracing::warn!(%error, "GetNamedQuery failed");
                continue;
            }
        };
        if let Some(q) = out.named_query() {
            let detail = q
                .description()
                .filter(|d| !d.is_empty())
                .map(|d| format!("saved query · {d}"))
                .unwrap_or_else(|| format!("saved query · {}", q.database()));
            nodes.push(
                CatalogNode::new(q.name(), NodeKind::Query)
                    .with_detail(detail)
                    .with_query(q.query_string()),
            );
        }
    }
    Ok(nodes)
}

/// The last executions of `workgroup` (Athena's default, `primary`, when `None`).
async fn recent(
    a: &AthenaConnector,
    workgroup: Option<&str>,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    let ids = a
        .client
        .list_query_executions()
        .set_work_group(workgroup.map(str::to_string))
        .max_results(RECENT_LIMIT)
        .send()
        .await
        .map_err(sdk_error)?
        .query_execution_ids
        .unwrap_or_default();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let out = a
        .client
        .batch_get_query_execution()
        .set_query_execution_ids(Some(ids.clone()))
        .send()
        .await
        .map_err(sdk_error)?;
    let executions = out.query_executions();
    let unprocessed = out.unprocessed_query_execution_ids().len();
    if unprocessed > 0 {
        tracing::warn!(unprocessed, "BatchGetQueryExecution left executions out");
    }
    // In the listing's order: most recent first.
    Ok(ids
        .iter()
        .filter_map(|id| {
            executions
                .iter()
                .find(|e| e.query_execution_id() == Some(id.as_str()))
        })
        .map(recent_node)
        .collect())
}

fn recent_node(e: &QueryExecution) -> CatalogNode {
    let id = e.query_execution_id().unwrap_or_default();
    let sql = e.query().unwrap_or_default();
    let first = sql
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("");
    let mut name: String = first.chars().take(60).collect();
    if first.chars().count() > 60 {
        name.push('…');
    }
    let status = e.status();
    let mut facts = Vec::new();
    if let Some(s) = status.and_then(|s| s.state()) {
        facts.push(s.as_str().to_string());
    }
    if let Some(t) = status.and_then(|s| s.submission_date_time()) {
        facts.push(
            t.fmt(aws_smithy_types::date_time::Format::DateTime)
                .unwrap_or_default()
                .replace('T', " ")
                .chars()
                .take(16)
                .collect(),
        );
    }
    if let Some(st) = e.statistics() {
        if let Some(b) = st.data_scanned_in_bytes() {
            facts.push(format!(
                "{} scanned",
                crate::model::format::human_bytes(b.max(0) as u64)
            ));
        }
        if let Some(ms) = st.total_execution_time_in_millis() {
            facts.push(format_elapsed(std::time::Duration::from_millis(
                ms.max(0) as u64
            )));
        }
    }
    facts.push(id.to_string());
    CatalogNode::new(name, NodeKind::Query)
        .with_detail(facts.join(" · "))
        .with_query(sql)
        .with_action(NodeAction::OpenResult {
            server_id: id.to_string(),
            sql: sql.to_string(),
        })
}
