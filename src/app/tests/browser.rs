//! The browser: lazy loading, filtering, Enter on tables, workgroups and past queries.

use super::*;

#[test]
fn browser_loads_lazily_and_enter_inserts_a_query() {
    let mut s = state();
    let fx = update::on_start(&mut s);
    assert!(
        matches!(&fx[..], [Effect::Worker(WorkerCmd::LoadChildren { connection, path })] if connection == "local" && path.is_empty())
    );
    assert!(s.is_animating(), "a spinner while loading");
    let table = CatalogNode {
        name: "trips".into(),
        kind: NodeKind::Table,
        detail: None,
        has_children: true,
        query: Some("SELECT * FROM trips LIMIT 100".into()),
        action: None,
    };
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "local".into(),
            path: vec![],
            result: Ok(vec![table]),
        }),
    );
    assert!(!s.is_animating());
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Right, KeyModifiers::NONE));
    assert!(
        matches!(&fx[..], [Effect::Worker(WorkerCmd::LoadChildren { path, .. })] if path == &vec!["trips".to_string()])
    );
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(s.focus, Focus::Editor);
    assert_eq!(s.tab().contents(), "SELECT * FROM trips LIMIT 100;");
    // `r` runs it at once.
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    let fx = update(&mut s, key(KeyCode::Char('r'), KeyModifiers::NONE));
    assert_eq!(runs(&fx).len(), 1);
}

#[test]
fn enter_on_a_broken_file_shows_its_whole_error() {
    let mut s = state();
    update::on_start(&mut s);
    let why = "`/data/bad.csv`: is not a readable CSV file: invalid UTF-8 on line 2";
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "local".into(),
            path: vec![],
            result: Ok(vec![
                CatalogNode::new("bad", NodeKind::Broken).with_detail(why),
            ]),
        }),
    );
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(fx.is_empty(), "nothing runs: {fx:?}");
    let flash = s.flash.as_ref().expect("the error is shown");
    assert!(flash.error && flash.text == why, "{:?}", flash.text);
}

#[test]
fn browser_filter_narrows_the_tree() {
    let mut s = state();
    update::on_start(&mut s);
    let node = |n: &str| CatalogNode {
        name: n.into(),
        kind: NodeKind::Table,
        detail: None,
        has_children: false,
        query: None,
        action: None,
    };
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "local".into(),
            path: vec![],
            result: Ok(vec![node("trips"), node("zones")]),
        }),
    );
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    update(&mut s, key(KeyCode::Char('/'), KeyModifiers::NONE));
    type_text(&mut s, "zon");
    assert_eq!(s.browser.rows().len(), 2, "the connection and the match");
    update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(s.browser.rows().len(), 3);
}

#[test]
fn workgroup_and_past_query_nodes_act_on_enter() {
    let mut s = athena_state();
    assert!(
        update::on_start(&mut s).is_empty(),
        "AWS connections are not contacted until opened"
    );
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    let fx = update(&mut s, key(KeyCode::Right, KeyModifiers::NONE));
    assert!(matches!(
        &fx[..],
        [Effect::Worker(WorkerCmd::LoadChildren { .. })]
    ));
    let wg = CatalogNode::new("analysts", NodeKind::Workgroup).with_action(
        crate::model::catalog::NodeAction::UseWorkgroup("analysts".into()),
    );
    let past = CatalogNode::new("SELECT 1", NodeKind::Query).with_action(
        crate::model::catalog::NodeAction::OpenResult {
            server_id: "q-123".into(),
            sql: "SELECT 1".into(),
        },
    );
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "ath".into(),
            path: vec![],
            result: Ok(vec![wg, past]),
        }),
    );
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(s.tab().workgroup.as_deref(), Some("analysts"));
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let req = &requests(&fx)[0];
    assert_eq!(req.reopen.as_deref(), Some("q-123"));
    assert_eq!(req.workgroup.as_deref(), Some("analysts"));
    assert_eq!(s.focus, Focus::Results);
}
