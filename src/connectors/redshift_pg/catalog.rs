//! The browser tree of a Redshift / PostgreSQL connection, read from `pg_catalog`: schemas →
//! tables and views → columns. Only catalog tables and functions both engines have are used
//! (Redshift's leader node is PostgreSQL 8.0: no `unnest`, no `ANY` over key arrays), so key
//! positions are parsed in Rust from `conkey::text`. Redshift's external (Spectrum, federated)
//! schemas and tables come from its `svv_external_*` views, which are optional: when one cannot
//! be read the listing goes on without it.

use std::collections::HashMap;

use tokio_postgres::types::FromSql;
use tokio_postgres::{Client, Row};

use crate::connectors::{CatalogNode, ConnectorError, NodeKind};
use crate::sql::quote_ident;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Redshift,
    Postgres,
}

const SCHEMAS_SQL: &str = "SELECT n.nspname FROM pg_catalog.pg_namespace n";

const EXTERNAL_SCHEMAS_SQL: &str =
    "SELECT schemaname, eskind::integer, databasename FROM svv_external_schemas";

const IS_EXTERNAL_SQL: &str = "SELECT 1 FROM svv_external_schemas WHERE schemaname = $1";

const TABLES_SQL: &str = "SELECT c.relname, c.relkind, c.reltuples \
     FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";

/// Every column of the schema's tables that have a primary key; the key's columns are picked
/// in Rust (no array operators on Redshift).
const SCHEMA_KEYS_SQL: &str = "SELECT c.relname, con.conkey::text, a.attnum, a.attname \
     FROM pg_catalog.pg_constraint con \
     JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
     WHERE n.nspname = $1 AND con.contype = 'p' AND a.attnum > 0 AND NOT a.attisdropped";

/// Redshift lists a materialized view in `pg_class` as a plain view (relkind 'v'); this view
/// covers every database, hence the filter.
const REDSHIFT_MATVIEWS_SQL: &str = "SELECT trim(name) FROM svv_mv_info \
     WHERE trim(schema_name) = $1 AND trim(database_name) = current_database()";

const EXTERNAL_TABLES_SQL: &str = "SELECT tablename FROM svv_external_tables WHERE schemaname = $1";

const COLUMNS_SQL: &str = "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), \
            a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attnum \
     FROM pg_catalog.pg_attribute a \
     JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
     WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped \
     ORDER BY a.attnum";

const TABLE_KEY_SQL: &str = "SELECT con.conkey::text \
     FROM pg_catalog.pg_constraint con \
     JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = $1 AND c.relname = $2 AND con.contype = 'p'";

const EXTERNAL_COLUMNS_SQL: &str = "SELECT columnname, external_type, is_nullable, part_key \
     FROM svv_external_columns WHERE schemaname = $1 AND tablename = $2 ORDER BY columnnum";

/// Children of `path` below the connection: [] → schemas (plus Redshift external schemas,
/// "external · glue db sales"); [schema] → tables, views, materialized views, foreign and
/// external tables; [schema, table] → columns.
pub async fn children(
    client: &Client,
    engine: Engine,
    path: &[String],
) -> Result<Vec<CatalogNode>, ConnectorError> {
    match path {
        [] => schemas(client, engine).await,
        [schema] => tables(client, engine, schema).await,
        [schema, table] => columns(client, engine, schema, table).await,
        _ => Ok(Vec::new()),
    }
}

/// What "open table" inserts: `SELECT * FROM sales."Mixed Case" LIMIT 100`.
pub fn select_query(schema: &str, table: &str) -> String {
    format!(
        "SELECT * FROM {}.{} LIMIT 100",
        quote_ident(schema),
        quote_ident(table)
    )
}

async fn schemas(client: &Client, engine: Engine) -> Result<Vec<CatalogNode>, ConnectorError> {
    let context = "listing schemas";
    let rows = query(client, SCHEMAS_SQL, &[], context).await?;
    let mut details: HashMap<String, Option<String>> = HashMap::new();
    for row in &rows {
        let name: String = get(row, 0, context)?;
        if !hidden_schema(&name) {
            details.insert(name, None);
        }
    }
    if engine == Engine::Redshift {
        // External schemas are in pg_namespace too; this marks them (and adds any that are not).
        for row in optional(client, EXTERNAL_SCHEMAS_SQL, &[], "external schemas").await {
            let (Ok(name), Ok(kind)) = (row.try_get::<_, String>(0), row.try_get::<_, i32>(1))
            else {
                continue;
            };
            let database: Option<String> = row.try_get(2).ok().flatten();
            let detail = external_schema_detail(kind, database.as_deref().unwrap_or(""));
            details.insert(name, Some(detail));
        }
    }
    let mut nodes: Vec<CatalogNode> = details
        .into_iter()
        .map(|(name, detail)| {
            let node = CatalogNode::new(name, NodeKind::Schema).with_children();
            match detail {
                Some(d) => node.with_detail(d),
                None => node,
            }
        })
        .collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(nodes)
}

async fn tables(
    client: &Client,
    engine: Engine,
    schema: &str,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    let context = format!("listing tables of `{schema}`");
    if engine == Engine::Redshift && is_external(client, schema).await {
        let mut nodes = Vec::new();
        for row in optional(client, EXTERNAL_TABLES_SQL, &[&schema], "external tables").await {
            if let Ok(name) = row.try_get::<_, String>(0) {
                nodes.push(table_node(schema, name, NodeKind::Table, "external table"));
            }
        }
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        return Ok(nodes);
    }

    let keys = schema_keys(client, schema, &context).await?;
    let matviews: Vec<String> = if engine == Engine::Redshift {
        optional(
            client,
            REDSHIFT_MATVIEWS_SQL,
            &[&schema],
            "materialized views",
        )
        .await
        .iter()
        .filter_map(|row| row.try_get::<_, String>(0).ok())
        .collect()
    } else {
        Vec::new()
    };

    let rows = query(client, TABLES_SQL, &[&schema], &context).await?;
    let mut nodes = Vec::with_capacity(rows.len());
    for row in &rows {
        let name: String = get(row, 0, &context)?;
        let relkind: i8 = get(row, 1, &context)?;
        let (kind, label) = match relkind as u8 {
            b'v' if matviews.contains(&name) => (NodeKind::View, "materialized view"),
            b'v' => (NodeKind::View, "view"),
            b'm' => (NodeKind::View, "materialized view"),
            b'f' => (NodeKind::Table, "foreign table"),
            b'p' => (NodeKind::Table, "partitioned table"),
            _ => (NodeKind::Table, "table"),
        };
        let mut detail = label.to_string();
        if let Some(key) = keys.get(&name) {
            detail.push_str(&format!(" · PK ({})", key.join(", ")));
        }
        // Redshift's reltuples is not maintained the way PostgreSQL's is: it would mislead.
        if engine == Engine::Postgres {
            let estimate: f32 = get(row, 2, &context)?;
            // -1 (never analyzed) and 0 (empty, or unknown before PostgreSQL 14) say nothing.
            if estimate > 0.0 {
                detail.push_str(&format!(" · {}", rows_estimate(f64::from(estimate))));
            }
        }
        nodes.push(table_node(schema, name, kind, detail));
    }
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(nodes)
}

/// Primary-key column names, in key order, of each table of `schema` that has one.
async fn schema_keys(
    client: &Client,
    schema: &str,
    context: &str,
) -> Result<HashMap<String, Vec<String>>, ConnectorError> {
    let rows = query(client, SCHEMA_KEYS_SQL, &[&schema], context).await?;
    // table → (key attnums, attnum → name)
    let mut tables: HashMap<String, (Vec<i16>, HashMap<i16, String>)> = HashMap::new();
    for row in &rows {
        let table: String = get(row, 0, context)?;
        let entry = tables.entry(table).or_insert_with(|| {
            let conkey: Option<String> = row.try_get(1).ok().flatten();
            let key = conkey.as_deref().and_then(parse_conkey).unwrap_or_default();
            (key, HashMap::new())
        });
        let attnum: i16 = get(row, 2, context)?;
        let attname: String = get(row, 3, context)?;
        entry.1.insert(attnum, attname);
    }
    Ok(tables
        .into_iter()
        .filter_map(|(table, (key, names))| {
            let columns: Option<Vec<String>> = key.iter().map(|n| names.get(n).cloned()).collect();
            columns
                .filter(|c| !c.is_empty())
                .map(|columns| (table, columns))
        })
        .collect())
}

async fn columns(
    client: &Client,
    engine: Engine,
    schema: &str,
    table: &str,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    let context = format!("listing columns of `{schema}.{table}`");
    if engine == Engine::Redshift && is_external(client, schema).await {
        return Ok(external_columns(client, schema, table).await);
    }
    let key = query(client, TABLE_KEY_SQL, &[&schema, &table], &context)
        .await?
        .first()
        .and_then(|row| row.try_get::<_, Option<String>>(0).ok().flatten())
        .and_then(|text| parse_conkey(&text))
        .unwrap_or_default();
    let rows = query(client, COLUMNS_SQL, &[&schema, &table], &context).await?;
    let mut nodes = Vec::with_capacity(rows.len());
    for row in &rows {
        let name: String = get(row, 0, &context)?;
        let mut detail: String = get(row, 1, &context)?;
        if get::<bool>(row, 2, &context)? {
            detail.push_str(" not null");
        }
        if let Some(default) = get::<Option<String>>(row, 3, &context)? {
            detail.push_str(&format!(" default {default}"));
        }
        let attnum: i16 = get(row, 4, &context)?;
        if let Some(pos) = key.iter().position(|&k| k == attnum) {
            detail.push_str(&format!(" · {}", key_label("PK", pos, key.len())));
        }
        nodes.push(CatalogNode::new(name, NodeKind::Column).with_detail(detail));
    }
    Ok(nodes)
}

/// Columns of a Redshift external table: type, nullability where known, partition keys.
async fn external_columns(client: &Client, schema: &str, table: &str) -> Vec<CatalogNode> {
    let rows = optional(
        client,
        EXTERNAL_COLUMNS_SQL,
        &[&schema, &table],
        "external columns",
    )
    .await;
    let part_keys = rows
        .iter()
        .filter(|r| r.try_get::<_, i32>(3).is_ok_and(|k| k > 0))
        .count();
    rows.iter()
        .filter_map(|row| {
            let name: String = row.try_get(0).ok()?;
            let ty: Option<String> = row.try_get(1).ok().flatten();
            let mut detail = ty.unwrap_or_else(|| "?".to_string());
            let nullable: Option<String> = row.try_get(2).ok().flatten();
            if nullable.as_deref() == Some("false") {
                detail.push_str(" not null");
            }
            if let Ok(k) = row.try_get::<_, i32>(3)
                && k > 0
            {
                let pos = usize::try_from(k - 1).unwrap_or(0);
                detail.push_str(&format!(
                    " · {}",
                    key_label("partition key", pos, part_keys)
                ));
            }
            Some(CatalogNode::new(name, NodeKind::Column).with_detail(detail))
        })
        .collect()
}

fn table_node(
    schema: &str,
    name: String,
    kind: NodeKind,
    detail: impl Into<String>,
) -> CatalogNode {
    let query = select_query(schema, &name);
    CatalogNode::new(name, kind)
        .with_detail(detail)
        .with_children()
        .with_query(query)
}

/// Whether `schema` is a Redshift external schema (false when that cannot be told).
async fn is_external(client: &Client, schema: &str) -> bool {
    !optional(client, IS_EXTERNAL_SQL, &[&schema], "external schemas")
        .await
        .is_empty()
}

/// System schemas: PostgreSQL reserves the `pg_` prefix (pg_catalog, pg_toast, pg_temp_N,
/// Redshift's pg_internal and pg_automv…), plus the SQL-standard information schema.
fn hidden_schema(name: &str) -> bool {
    name.starts_with("pg_") || name == "information_schema"
}

/// `external · glue db sales`, from `svv_external_schemas.eskind` and its external database.
fn external_schema_detail(kind: i32, database: &str) -> String {
    let source = match kind {
        1 => "glue",
        2 => "hive",
        3 => "postgres",
        4 | 5 => "redshift",
        6 => "system",
        8 => "mysql",
        9 => "kinesis",
        10 => "kafka",
        _ => "",
    };
    match (source, database) {
        ("", "") => "external".to_string(),
        (s, "") => format!("external · {s}"),
        ("", db) => format!("external · db {db}"),
        (s, db) => format!("external · {s} db {db}"),
    }
}

/// `PK` for a single-column key, `PK 2` for the second column of a composite one.
fn key_label(label: &str, pos: usize, len: usize) -> String {
    if len <= 1 {
        label.to_string()
    } else {
        format!("{label} {}", pos + 1)
    }
}

/// `conkey::text` (`{1,3}`) as attribute numbers; `None` when it is not such a list.
fn parse_conkey(text: &str) -> Option<Vec<i16>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?.trim();
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner.split(',').map(|n| n.trim().parse().ok()).collect()
}

/// `~950 rows`, `~1.2 k rows`, `~12 k rows`, `~3 M rows`.
fn rows_estimate(n: f64) -> String {
    let n = n.round();
    if n < 999.5 {
        let unit = if n == 1.0 { "row" } else { "rows" };
        return format!("~{n} {unit}");
    }
    let mut v = n;
    let mut unit = "";
    for u in ["k", "M", "G", "T"] {
        if v < 999.5 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    let figure = if v < 9.95 {
        let s = format!("{v:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    } else {
        format!("{v:.0}")
    };
    format!("~{figure} {unit} rows")
}

async fn query(
    client: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    context: &str,
) -> Result<Vec<Row>, ConnectorError> {
    client
        .query(sql, params)
        .await
        .map_err(|e| ConnectorError::Query(format!("{context}: {}", describe(&e))))
}

/// Rows of a query on an optional view: none (and a warning) when it fails.
async fn optional(
    client: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    what: &str,
) -> Vec<Row> {
    match client.query(sql, params).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!("cannot read Redshift {what}: {}", describe(&e));
            Vec::new()
        }
    }
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize, context: &str) -> Result<T, ConnectorError> {
    row.try_get(idx)
        .map_err(|e| ConnectorError::Query(format!("{context}: {}", describe(&e))))
}

/// The server's own message when there is one (`relation "x" does not exist`).
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_query_quotes_only_when_needed() {
        assert_eq!(
            select_query("sales", "orders"),
            "SELECT * FROM sales.orders LIMIT 100"
        );
        assert_eq!(
            select_query("sales", "Mixed Case"),
            "SELECT * FROM sales.\"Mixed Case\" LIMIT 100"
        );
        assert_eq!(
            select_query("My\"Schema", "t_1"),
            "SELECT * FROM \"My\"\"Schema\".t_1 LIMIT 100"
        );
        assert_eq!(
            select_query("_s9", "1st"),
            "SELECT * FROM _s9.\"1st\" LIMIT 100"
        );
        assert_eq!(
            select_query("s", "caf\u{e9}"),
            "SELECT * FROM s.\"caf\u{e9}\" LIMIT 100"
        );
    }

    #[test]
    fn conkey_text_parses_to_attribute_numbers() {
        assert_eq!(parse_conkey("{1}"), Some(vec![1]));
        assert_eq!(parse_conkey("{1,3}"), Some(vec![1, 3]));
        assert_eq!(parse_conkey(" { 2 , 7 } "), Some(vec![2, 7]));
        assert_eq!(parse_conkey("{}"), Some(vec![]));
        assert_eq!(parse_conkey("1,3"), None);
        assert_eq!(parse_conkey("{1,x}"), None);
        assert_eq!(parse_conkey("{70000}"), None);
    }

    #[test]
    fn key_labels_number_composite_keys_only() {
        assert_eq!(key_label("PK", 0, 1), "PK");
        assert_eq!(key_label("PK", 0, 2), "PK 1");
        assert_eq!(key_label("PK", 1, 2), "PK 2");
    }

    #[test]
    fn system_schemas_are_hidden() {
        for s in [
            "pg_catalog",
            "information_schema",
            "pg_toast",
            "pg_temp_3",
            "pg_toast_temp_3",
            "pg_internal",
            "pg_automv",
        ] {
            assert!(hidden_schema(s), "{s}");
        }
        for s in ["public", "sales", "pgsales", "PG_x"] {
            assert!(!hidden_schema(s), "{s}");
        }
    }

    #[test]
    fn external_schemas_name_their_source() {
        assert_eq!(
            external_schema_detail(1, "sales"),
            "external · glue db sales"
        );
        assert_eq!(external_schema_detail(9, ""), "external · kinesis");
        assert_eq!(external_schema_detail(42, "x"), "external · db x");
        assert_eq!(external_schema_detail(42, ""), "external");
    }

    #[test]
    fn row_estimates_are_short() {
        assert_eq!(rows_estimate(1.0), "~1 row");
        assert_eq!(rows_estimate(950.0), "~950 rows");
        assert_eq!(rows_estimate(1234.0), "~1.2 k rows");
        assert_eq!(rows_estimate(12_345.0), "~12 k rows");
        assert_eq!(rows_estimate(999_600.0), "~1 M rows");
        assert_eq!(rows_estimate(3_400_000.0), "~3.4 M rows");
        assert_eq!(rows_estimate(2.0e9), "~2 G rows");
    }
}
