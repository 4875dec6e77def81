//! The browser tree of a Redshift Data API connection, loaded lazily and page by page:
//! databases (ListDatabases) → schemas (ListSchemas) → tables and views (ListTables) → columns
//! (DescribeTable). Other databases are listed through the connection's own (`ConnectedDatabase`).

use aws_sdk_redshiftdata::types::ColumnMetadata;

use super::{RedshiftDataConnector, with_target};
use crate::connectors::{CatalogNode, CatalogPath, ConnectorError, NodeKind, aws};
use crate::sql::quote_ident;

/// Runs one paginated list call to the end: `$call` is the builder, `$items` picks a page's
/// items (cloned) from the output.
macro_rules! all_pages {
    ($call:expr, $items:expr) => {{
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = $call
                .clone()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    ConnectorError::Query(aws::describe_sdk_error("Redshift Data API", &e))
                })?;
            items.extend($items(&page));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        items
    }};
}

pub async fn children(
    c: &RedshiftDataConnector,
    path: &CatalogPath,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    match path.as_slice() {
        [] => databases(c).await,
        [db] => schemas(c, db).await,
        [db, schema] => tables(c, db, schema).await,
        [db, schema, table] => columns(c, db, schema, table).await,
        _ => Ok(Vec::new()),
    }
}

/// The databases, the connection's own marked "connected".
async fn databases(c: &RedshiftDataConnector) -> Result<Vec<CatalogNode>, ConnectorError> {
    let t = &c.target;
    let mut names: Vec<String> = all_pages!(
        with_target!(c.client.list_databases(), t),
        |p: &aws_sdk_redshiftdata::operation::list_databases::ListDatabasesOutput| p
            .databases()
            .to_vec()
    );
    names.sort();
    Ok(names
        .into_iter()
        .map(|db| {
            let node = CatalogNode::new(db.clone(), NodeKind::Database).with_children();
            if db == t.database {
                node.with_detail("connected")
            } else {
                node
            }
        })
        .collect())
}

async fn schemas(c: &RedshiftDataConnector, db: &str) -> Result<Vec<CatalogNode>, ConnectorError> {
    let t = &c.target;
    let call = with_target!(c.client.list_schemas(), t)
        .database(db)
        .connected_database(&t.database);
    let mut schemas: Vec<String> = all_pages!(
        call,
        |p: &aws_sdk_redshiftdata::operation::list_schemas::ListSchemasOutput| p.schemas().to_vec()
    );
    schemas.sort();
    Ok(schemas
        .into_iter()
        .map(|s| CatalogNode::new(s, NodeKind::Schema).with_children())
        .collect())
}

/// A schema's tables and views (the pattern is a LIKE: rows of look-alike schemas are dropped).
async fn tables(
    c: &RedshiftDataConnector,
    db: &str,
    schema: &str,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    let t = &c.target;
    let call = with_target!(c.client.list_tables(), t)
        .database(db)
        .connected_database(&t.database)
        .schema_pattern(like_literal(schema));
    let tables = all_pages!(
        call,
        |p: &aws_sdk_redshiftdata::operation::list_tables::ListTablesOutput| p.tables().to_vec()
    );
    let mut nodes: Vec<CatalogNode> = tables
        .iter()
        .filter(|m| m.schema().is_none_or(|s| s == schema))
        .filter_map(|m| {
            let name = m.name()?;
            let ty = m.r#type().unwrap_or("TABLE");
            let kind = if ty.contains("VIEW") {
                NodeKind::View
            } else {
                NodeKind::Table
            };
            Some(
                CatalogNode::new(name, kind)
                    .with_detail(ty.to_ascii_lowercase())
                    .with_children()
                    .with_query(select_query(&t.database, db, schema, name)),
            )
        })
        .collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(nodes)
}

async fn columns(
    c: &RedshiftDataConnector,
    db: &str,
    schema: &str,
    table: &str,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    let t = &c.target;
    let call = with_target!(c.client.describe_table(), t)
        .database(db)
        .connected_database(&t.database)
        .schema(schema)
        .table(table);
    let columns: Vec<ColumnMetadata> = all_pages!(
        call,
        |p: &aws_sdk_redshiftdata::operation::describe_table::DescribeTableOutput| p
            .column_list()
            .to_vec()
    );
    Ok(columns.iter().map(column_node).collect())
}

/// `name  int4 not null default 0`.
fn column_node(c: &ColumnMetadata) -> CatalogNode {
    let mut detail = c.type_name().unwrap_or("?").to_string();
    if matches!(c.type_name(), Some("numeric" | "decimal")) && c.precision() > 0 {
        detail.push_str(&format!("({},{})", c.precision(), c.scale()));
    } else if matches!(c.type_name(), Some("varchar" | "bpchar" | "char")) && c.length() > 0 {
        detail.push_str(&format!("({})", c.length()));
    }
    // JDBC's convention, which the Data API follows: 0 = no NULLs.
    if c.nullable() == 0 {
        detail.push_str(" not null");
    }
    if let Some(default) = c.column_default().filter(|d| !d.is_empty()) {
        detail.push_str(&format!(" default {default}"));
    }
    CatalogNode::new(c.name().unwrap_or("?"), NodeKind::Column).with_detail(detail)
}

/// A schema name as a LIKE pattern matching only itself.
fn like_literal(name: &str) -> String {
    name.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// What "open this table" runs: three-part names for other databases (cross-database query).
fn select_query(connected: &str, db: &str, schema: &str, table: &str) -> String {
    let name = if db == connected {
        format!("{}.{}", quote_ident(schema), quote_ident(table))
    } else {
        format!(
            "{}.{}.{}",
            quote_ident(db),
            quote_ident(schema),
            quote_ident(table)
        )
    };
    format!("SELECT * FROM {name} LIMIT 100;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_show_type_size_nullability_and_default() {
        let c = ColumnMetadata::builder()
            .name("amount")
            .type_name("numeric")
            .precision(12)
            .scale(2)
            .nullable(0)
            .column_default("0")
            .build();
        assert_eq!(
            column_node(&c).detail.as_deref(),
            Some("numeric(12,2) not null default 0")
        );
    }

    #[test]
    fn table_queries_name_other_databases() {
        assert_eq!(
            select_query("dev", "dev", "public", "t"),
            "SELECT * FROM public.t LIMIT 100;"
        );
        assert_eq!(
            select_query("dev", "sales", "public", "Order"),
            "SELECT * FROM sales.public.\"Order\" LIMIT 100;"
        );
        assert_eq!(like_literal("my_schema"), "my\\_schema");
    }
}
