//! Completion in the editor: the list opens after a pause or on Ctrl-Space, narrows while
//! typing, accepts with Tab/Enter, closes with Esc; the catalog and a table's columns are asked
//! of the worker (once each), never waited for.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};

use super::super::completion::AUTO_DELAY;
use super::super::*;
use super::{key, state, type_text};
use crate::model::completion::{CatalogSnapshot, ColumnEntry, ItemKind, TableEntry};
use crate::protocol::WorkerCmd;

fn table(name: &str, columns: Option<&[&str]>) -> TableEntry {
    TableEntry {
        schema: vec![],
        name: name.into(),
        view: false,
        columns: columns.map(|cs| {
            cs.iter()
                .map(|c| ColumnEntry {
                    name: c.to_string(),
                    type_name: Some("double".into()),
                })
                .collect()
        }),
        keys: vec![],
    }
}

/// The sample connection with a catalog already known.
fn with_catalog(tables: Vec<TableEntry>) -> State {
    let mut s = state();
    let connection = s.tab().connection.clone();
    s.catalogs.insert(
        connection,
        Arc::new(CatalogSnapshot {
            schemas: vec![],
            tables,
        }),
    );
    s
}

/// Lets typing pause long enough for the list to open by itself.
fn pause(s: &mut State) -> Vec<Effect> {
    let later = s.now + AUTO_DELAY + Duration::from_millis(1);
    update(s, Msg::Tick(later))
}

fn labels(s: &State) -> Vec<String> {
    s.completion
        .list
        .as_ref()
        .map(|l| l.items.iter().map(|i| i.label.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn a_table_name_completes_after_a_pause_and_tab_accepts_it() {
    let mut s = with_catalog(vec![table("trips", None), table("zones", None)]);
    type_text(&mut s, "SELECT * FROM tr");
    assert!(s.completion.list.is_none(), "not before the pause");
    pause(&mut s);
    assert_eq!(labels(&s).first().map(String::as_str), Some("trips"));
    let kind = s.completion.list.as_ref().map(|l| l.items[0].kind);
    assert_eq!(kind, Some(ItemKind::Table));
    update(&mut s, key(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(s.tab().contents(), "SELECT * FROM trips");
    assert!(s.completion.list.is_none());
}

#[test]
fn typing_narrows_the_open_list_and_esc_closes_it_without_touching_the_text() {
    let mut s = with_catalog(vec![table("trips", None), table("tokens", None)]);
    type_text(&mut s, "SELECT * FROM t");
    pause(&mut s);
    assert!(labels(&s).contains(&"tokens".to_string()));
    type_text(&mut s, "r");
    assert_eq!(labels(&s).first().map(String::as_str), Some("trips"));
    assert!(!labels(&s).contains(&"tokens".to_string()));
    update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert!(s.completion.list.is_none());
    assert_eq!(s.tab().contents(), "SELECT * FROM tr");
}

#[test]
fn an_alias_resolves_to_its_table_columns_and_missing_columns_are_asked_for_once() {
    let mut s = with_catalog(vec![table("trips", None)]);
    type_text(&mut s, "SELECT * FROM trips t WHERE t.fa");
    let fx = pause(&mut s);
    let asked: Vec<&Vec<String>> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Worker(WorkerCmd::LoadColumns { table, .. }) => Some(table),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![&vec!["trips".to_string()]]);
    // The columns arrive (as the worker would merge them into the catalog).
    let connection = s.tab().connection.clone();
    s.catalogs.insert(
        connection,
        Arc::new(CatalogSnapshot {
            schemas: vec![],
            tables: vec![table("trips", Some(&["fare_amount", "vendor_id"]))],
        }),
    );
    let fx = update(
        &mut s,
        Msg::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char(' '),
            KeyModifiers::CONTROL,
        )),
    );
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::LoadColumns { .. }))),
        "asked once"
    );
    assert_eq!(labels(&s).first().map(String::as_str), Some("fare_amount"));
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(
        s.tab().contents(),
        "SELECT * FROM trips t WHERE t.fare_amount"
    );
}

#[test]
fn the_catalog_is_asked_for_once_per_connection_and_tab_indents_with_no_list() {
    let mut s = state();
    type_text(&mut s, "SELECT * FROM x");
    let fx = pause(&mut s);
    let loads = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::Worker(WorkerCmd::LoadCatalog { .. })))
            .count()
    };
    assert_eq!(loads(&fx), 1);
    type_text(&mut s, "y");
    assert_eq!(loads(&pause(&mut s)), 0);
    update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Tab, KeyModifiers::NONE));
    assert!(s.tab().contents().starts_with("SELECT * FROM xy"));
    assert!(
        s.tab().contents().len() > "SELECT * FROM xy".len(),
        "Tab indents"
    );
}

#[test]
fn a_catalog_arriving_after_the_pause_opens_the_list_it_was_typed_for() {
    let mut s = state();
    type_text(&mut s, "SELECT * FROM tr");
    pause(&mut s);
    assert!(s.completion.list.is_none(), "nothing known yet");
    let connection = s.tab().connection.clone();
    update(
        &mut s,
        Msg::Worker(crate::protocol::WorkerEvent::Catalog {
            connection,
            snapshot: Ok(Arc::new(CatalogSnapshot {
                schemas: vec![],
                tables: vec![table("trips", None)],
            })),
            from_cache: true,
        }),
    );
    assert_eq!(labels(&s), vec!["trips".to_string()]);
    // Moving away forgets it: a later catalog opens nothing.
    update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert!(s.completion.list.is_none());
}

#[test]
fn a_number_arms_no_list_and_a_huge_statement_is_not_tokenized() {
    let mut s = with_catalog(vec![table("t42", None)]);
    type_text(&mut s, "SELECT 42");
    assert!(s.completion.pending.is_none(), "a number is not a name");
    let mut s = with_catalog(vec![table("trips", None)]);
    let long = format!("SELECT '{}' FROM tr", "x".repeat(70 * 1024));
    s.tab_mut().text.insert_str(&long);
    update(
        &mut s,
        Msg::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char(' '),
            KeyModifiers::CONTROL,
        )),
    );
    assert!(s.completion.list.is_none());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("too long"))
    );
}

#[test]
fn dynamodb_attributes_seen_in_a_result_complete_next_to_the_key_schema() {
    use arrow::array::StringArray;
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;

    let mut s = super::state_on(
        "dyn",
        crate::model::connection::ConnectionKind::Dynamodb,
        false,
    );
    type_text(&mut s, "SELECT * FROM orders");
    let fx = update(&mut s, super::ctrl('j'));
    let job = super::runs(&fx)[0].0;
    let schema = Arc::new(Schema::new(vec![
        Field::new("pk", DataType::Utf8, true),
        Field::new("customer", DataType::Utf8, true),
    ]));
    let strings = |v: &str| Arc::new(StringArray::from(vec![v])) as _;
    let batch = RecordBatch::try_new(schema, vec![strings("o1"), strings("ann")]).unwrap();
    super::deliver(&mut s, job, batch);
    let orders = |s: &State| {
        s.catalogs["dyn"]
            .find_tables(&[], "orders")
            .next()
            .cloned()
            .expect("orders learned")
    };
    let names = |t: TableEntry| -> Vec<String> {
        t.columns
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(names(orders(&s)), ["pk", "customer"]);
    // The key schema arrives; the attributes seen stay.
    update(
        &mut s,
        Msg::Worker(crate::protocol::WorkerEvent::Columns {
            connection: "dyn".into(),
            table: vec!["orders".into()],
            columns: Ok(vec![
                ColumnEntry {
                    name: "pk".into(),
                    type_name: Some("S".into()),
                },
                ColumnEntry {
                    name: "sk".into(),
                    type_name: Some("N".into()),
                },
            ]),
            keys: vec!["pk".into(), "sk".into()],
        }),
    );
    assert_eq!(names(orders(&s)), ["pk", "sk", "customer"]);
    assert_eq!(orders(&s).keys, ["pk", "sk"]);
    type_text(&mut s, "\nSELECT * FROM orders WHERE cu");
    pause(&mut s);
    assert_eq!(labels(&s).first().map(String::as_str), Some("customer"));
}
