//! The browser tree of a PostgreSQL-wire connection (`redshift_pg::catalog`) against a real
//! PostgreSQL: schemas, tables with their keys and row estimates, views, columns.

use quarry::connectors::redshift_pg::catalog::{Engine, children, select_query};
use quarry::connectors::{CatalogNode, ConnectorError, NodeKind};

use crate::postgres::{SUPERUSER, SUPERUSER_PASSWORD, shared};

const SETUP: &str = r#"
    CREATE SCHEMA sales;
    CREATE TABLE sales.orders (
        id bigserial PRIMARY KEY,
        customer varchar(40) NOT NULL,
        status text NOT NULL DEFAULT 'new',
        amount numeric(12,2)
    );
    CREATE TABLE sales.line_items (
        order_id bigint NOT NULL REFERENCES sales.orders (id),
        line_no smallint NOT NULL,
        sku text,
        PRIMARY KEY (order_id, line_no)
    );
    CREATE TABLE sales."Mixed Case" ("Id" integer);
    CREATE VIEW sales.open_orders AS SELECT id, customer FROM sales.orders WHERE status = 'new';
    CREATE MATERIALIZED VIEW sales.daily AS SELECT status, count(*) AS n FROM sales.orders GROUP BY 1;
    INSERT INTO sales.orders (customer, amount) SELECT 'c' || g, g FROM generate_series(1, 1500) g;
    ANALYZE sales.orders;
    -- Dropped columns must not show (nor shift key positions).
    ALTER TABLE sales.line_items ADD COLUMN gone int;
    ALTER TABLE sales.line_items DROP COLUMN gone;
    CREATE SCHEMA empty;
    CREATE TEMPORARY TABLE scratch (x int);
"#;

fn node(name: &str, kind: NodeKind, detail: &str) -> CatalogNode {
    CatalogNode::new(name, kind).with_detail(detail)
}

fn table(name: &str, kind: NodeKind, detail: &str) -> CatalogNode {
    node(name, kind, detail)
        .with_children()
        .with_query(select_query("sales", name))
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

#[test]
fn redshift_pg_catalog_lists_schemas_tables_and_columns() {
    let pg = shared();
    let db = pg.create_database();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(pg.port())
            .user(SUPERUSER)
            .password(SUPERUSER_PASSWORD)
            .dbname(&db);
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(connection);
        client.batch_execute(SETUP).await.expect("create the tables");

        // The session's temporary schema (pg_temp_N) is hidden like the system ones.
        let schemas = children(&client, Engine::Postgres, &[]).await.expect("schemas");
        assert_eq!(
            schemas,
            ["empty", "public", "sales"]
                .map(|s| CatalogNode::new(s, NodeKind::Schema).with_children())
                .to_vec()
        );

        let tables = children(&client, Engine::Postgres, &path(&["sales"]))
            .await
            .expect("tables");
        assert_eq!(
            tables,
            vec![
                table("Mixed Case", NodeKind::Table, "table"),
                table("daily", NodeKind::View, "materialized view"),
                table("line_items", NodeKind::Table, "table · PK (order_id, line_no)"),
                table("open_orders", NodeKind::View, "view"),
                table("orders", NodeKind::Table, "table · PK (id) · ~1.5 k rows"),
            ]
        );
        assert_eq!(
            tables[0].query.as_deref(),
            Some("SELECT * FROM sales.\"Mixed Case\" LIMIT 100")
        );
        assert_eq!(
            tables[4].query.as_deref(),
            Some("SELECT * FROM sales.orders LIMIT 100")
        );

        let orders = children(&client, Engine::Postgres, &path(&["sales", "orders"]))
            .await
            .expect("columns of orders");
        assert_eq!(
            orders,
            vec![
                node(
                    "id",
                    NodeKind::Column,
                    "bigint not null default nextval('sales.orders_id_seq'::regclass) · PK"
                ),
                node("customer", NodeKind::Column, "character varying(40) not null"),
                node("status", NodeKind::Column, "text not null default 'new'::text"),
                node("amount", NodeKind::Column, "numeric(12,2)"),
            ]
        );

        let items = children(&client, Engine::Postgres, &path(&["sales", "line_items"]))
            .await
            .expect("columns of line_items");
        assert_eq!(
            items,
            vec![
                node("order_id", NodeKind::Column, "bigint not null · PK 1"),
                node("line_no", NodeKind::Column, "smallint not null · PK 2"),
                node("sku", NodeKind::Column, "text"),
            ]
        );

        let view = children(&client, Engine::Postgres, &path(&["sales", "open_orders"]))
            .await
            .expect("columns of the view");
        assert_eq!(
            view,
            vec![
                node("id", NodeKind::Column, "bigint"),
                node("customer", NodeKind::Column, "character varying(40)"),
            ]
        );

        // Empty or unknown levels are empty, not errors; deeper paths have no children.
        let none = children(&client, Engine::Postgres, &path(&["empty"])).await;
        assert_eq!(none.expect("an empty schema"), vec![]);
        let none = children(&client, Engine::Postgres, &path(&["nope", "t"])).await;
        assert_eq!(none.expect("an unknown table"), vec![]);
        let deeper = children(&client, Engine::Postgres, &path(&["sales", "orders", "id"])).await;
        assert_eq!(deeper.expect("below a column"), vec![]);

        // Redshift-only views are optional: on PostgreSQL (where they do not exist) the Redshift
        // listing still works, without their extras.
        let as_redshift = children(&client, Engine::Redshift, &path(&["sales"]))
            .await
            .expect("tables, as Redshift");
        assert_eq!(as_redshift[4].detail.as_deref(), Some("table · PK (id)"));
        let schemas = children(&client, Engine::Redshift, &[]).await;
        assert_eq!(schemas.expect("schemas, as Redshift").len(), 3);

        // A failure of the connection is an error naming what was being listed.
        let err = children_after_close(client).await;
        assert!(
            matches!(&err, ConnectorError::Query(m) if m.starts_with("listing tables of `sales`: ")),
            "{err:?}"
        );
    });
}

/// Lists `sales` on a connection the server has closed.
async fn children_after_close(client: tokio_postgres::Client) -> ConnectorError {
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("backend pid")
        .get(0);
    let _ = client
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await;
    children(&client, Engine::Postgres, &path(&["sales"]))
        .await
        .expect_err("the connection is gone")
}
