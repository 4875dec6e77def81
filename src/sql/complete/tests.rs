use super::*;
use crate::model::completion::{ColumnEntry, ItemKind, TableEntry};

fn columns(names: &[&str]) -> Option<Vec<ColumnEntry>> {
    Some(
        names
            .iter()
            .map(|n| ColumnEntry {
                name: (*n).to_owned(),
                type_name: Some("varchar".to_owned()),
            })
            .collect(),
    )
}

fn table(schema: &[&str], name: &str, cols: Option<Vec<ColumnEntry>>) -> TableEntry {
    TableEntry {
        schema: schema.iter().map(|s| (*s).to_owned()).collect(),
        name: name.to_owned(),
        view: false,
        columns: cols,
        keys: Vec::new(),
    }
}

fn catalog() -> CatalogSnapshot {
    CatalogSnapshot {
        schemas: vec![vec!["sales".into()], vec!["ops".into()]],
        tables: vec![
            table(
                &["sales"],
                "orders",
                columns(&["id", "customer_id", "total"]),
            ),
            table(&["sales"], "customers", columns(&["id", "name", "city"])),
            table(&["sales"], "items", columns(&["order_id", "sku", "qty"])),
            table(&["sales"], "customer_orders", None),
            table(
                &["ops"],
                "trips",
                columns(&["fare", "fare_class", "distance"]),
            ),
            table(&["ops"], "order", columns(&["Mixed", "my col"])),
            table(&["ops"], "Mixed", None),
            table(&["ops"], "my table", None),
        ],
    }
}

fn at_end(text: &str) -> Completion {
    complete(text, text.len(), ConnectionKind::Athena, &catalog(), &[])
}

fn labels(c: &Completion) -> Vec<&str> {
    c.items.iter().map(|i| i.label.as_str()).collect()
}

fn inserts(c: &Completion) -> Vec<&str> {
    c.items.iter().map(|i| i.insert.as_str()).collect()
}

#[test]
fn aliases_in_a_three_way_join_resolve_to_their_tables() {
    let text = "SELECT c. FROM sales.orders o JOIN sales.customers c ON o.customer_id = c.id \
                JOIN sales.items i ON i.order_id = o.id";
    let got = complete(text, 9, ConnectionKind::Athena, &catalog(), &[]);
    assert_eq!(labels(&got), ["id", "name", "city"]);
    assert_eq!(got.items[0].source, "sales.customers");
    assert_eq!(got.items[0].detail.as_deref(), Some("varchar"));
    assert_eq!(got.replace, 9..9);
    let got = complete(text, 9, ConnectionKind::Athena, &catalog(), &[]);
    assert!(got.items.iter().all(|i| i.kind == ItemKind::Column));
    let text = "SELECT * FROM sales.orders o JOIN sales.items i ON i.";
    assert_eq!(labels(&at_end(text)), ["order_id", "sku", "qty"]);
}

#[test]
fn unqualified_columns_of_every_table_in_scope_nearest_first() {
    let text = "SELECT  FROM ops.trips t JOIN sales.items i ON true";
    let got = complete(text, 7, ConnectionKind::Athena, &catalog(), &[]);
    let l = labels(&got);
    assert_eq!(
        l[..6],
        ["fare", "fare_class", "distance", "order_id", "sku", "qty"]
    );
    assert!(
        l.contains(&"count") && l.contains(&"SELECT"),
        "functions and keywords too"
    );
    let got = at_end("SELECT * FROM ops.trips WHERE fa");
    assert_eq!(
        labels(&got)[..3],
        ["fare", "FALSE", "fare_class"],
        "shorter first"
    );
    assert_eq!(got.items[0].source, "ops.trips");
}

#[test]
fn cte_columns_from_its_select_list() {
    let text = "WITH x AS (SELECT id, total AS amount FROM sales.orders) SELECT x. FROM x";
    let got = complete(text, 66, ConnectionKind::Local, &catalog(), &[]);
    assert_eq!(labels(&got), ["id", "amount"]);
    assert_eq!(got.items[1].source, "x");
    let got = at_end("WITH x(a, b) AS (SELECT 1, 2) SELECT * FROM x");
    assert_eq!(labels(&got)[0], "x", "the CTE is a table after FROM");
    assert_eq!(got.items[0].source, "with");
}

#[test]
fn qualified_tables_part_by_part() {
    let got = at_end("SELECT * FROM sales.");
    assert_eq!(
        labels(&got),
        ["orders", "customers", "items", "customer_orders"]
    );
    assert!(
        got.items
            .iter()
            .all(|i| i.kind == ItemKind::Table && i.source == "sales")
    );
    let got = at_end("SELECT * FROM ");
    assert_eq!(labels(&got)[..2], ["sales", "ops"], "schemas first");
    assert_eq!(got.items[0].kind, ItemKind::Schema);
    let got = at_end("SELECT * FROM sales.orders.");
    assert!(got.items.is_empty(), "no schema under a table");
}

#[test]
fn names_are_quoted_when_they_need_it() {
    let got = at_end("SELECT * FROM ops.");
    let i = inserts(&got);
    for expected in ["trips", "\"order\"", "\"Mixed\"", "\"my table\""] {
        assert!(i.contains(&expected), "{expected} in {i:?}");
    }
    let got = at_end("SELECT * FROM \"my t");
    assert_eq!(inserts(&got)[0], "\"my table\"");
    assert_eq!(got.replace, 14..19);
    let got = at_end("SELECT * FROM ops.trips t JOIN ops.\"order\" o ON o.");
    assert_eq!(inserts(&got), ["\"Mixed\"", "\"my col\""]);
}

#[test]
fn dynamodb_key_attributes_in_where_and_lazy_columns() {
    let mut music = table(&[], "Music", None);
    music.keys = vec!["Artist".into(), "SongTitle".into()];
    let catalog = CatalogSnapshot {
        schemas: Vec::new(),
        tables: vec![music],
    };
    let text = "SELECT * FROM \"Music\" WHERE ";
    let got = complete(text, text.len(), ConnectionKind::Dynamodb, &catalog, &[]);
    assert_eq!(labels(&got)[..2], ["Artist", "SongTitle"]);
    assert_eq!(
        inserts(&got)[..2],
        ["Artist", "SongTitle"],
        "PartiQL keeps case"
    );
    assert_eq!(got.items[0].detail.as_deref(), Some("partition key"));
    assert_eq!(got.wanted_columns_of, [(Vec::new(), "Music".to_owned())]);
    assert!(labels(&got).contains(&"begins_with"));
}

#[test]
fn prefix_matches_before_fuzzy_ones() {
    let got = at_end("SELECT * FROM ord");
    assert_eq!(labels(&got)[..3], ["order", "orders", "customer_orders"]);
    let got = at_end("SELECT * FROM cuor");
    assert_eq!(labels(&got)[0], "customer_orders");
}

#[test]
fn keywords_and_snippets_elsewhere_nothing_in_strings() {
    let snippets = ["daily_report".to_owned()];
    let got = complete("dai", 3, ConnectionKind::Redshift, &catalog(), &snippets);
    assert_eq!(labels(&got), ["daily_report"]);
    assert_eq!(got.items[0].kind, ItemKind::Snippet);
    let got = complete("sel", 3, ConnectionKind::Redshift, &catalog(), &snippets);
    assert_eq!(labels(&got)[0], "SELECT");
    assert!(at_end("SELECT 'ord").items.is_empty());
    let got = at_end("SELECT * FROM sales.customer_orders co WHERE co.");
    assert_eq!(
        got.wanted_columns_of,
        [(vec!["sales".to_owned()], "customer_orders".to_owned())]
    );
}

#[test]
fn never_panics_at_any_cursor() {
    let samples = [
        "WITH x(a AS (SELECT \"é, 'x FROM t) SELECT x. FROM x JOIN \"ü\" u ON u.",
        "SELECT * FROM a., b AS WHERE (( ) ) JOIN ON . . \"\"\" 'it''s' $$ $x$ -- c\n/* d",
        "UPDATE \"Mixed\" SET a = 1 WHERE ż.",
        "",
    ];
    for text in samples {
        for cursor in 0..=text.len() + 2 {
            for kind in ConnectionKind::ALL {
                let got = complete(text, cursor, kind, &catalog(), &["s".to_owned()]);
                assert!(got.replace.start <= got.replace.end && got.replace.end <= text.len());
                assert!(text.is_char_boundary(got.replace.start));
                assert!(text.is_char_boundary(got.replace.end));
            }
        }
    }
}
