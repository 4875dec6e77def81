//! Transactions of direct connections: committing or rolling back before closing or quitting.

use super::*;

#[test]
fn quitting_with_an_open_transaction_commits_or_rolls_back_first() {
    use crate::model::job::TransactionState;
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    run_with_transaction(&mut s, "BEGIN", TransactionState::Open);
    assert!(s.tab().transaction.is_some_and(|t| !t.failed));
    let fx = update(&mut s, ctrl('q'));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Quit)), "asks first");
    let Some(Popup::ConfirmTransactions { tabs, then }) = &s.popup else {
        panic!("{:?}", s.popup);
    };
    assert_eq!(tabs.len(), 1);
    assert_eq!(*then, AfterTransactions::Quit);
    // Esc: keep working, nothing sent.
    let fx = update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert!(fx.is_empty() && s.popup.is_none());

    update(&mut s, ctrl('q'));
    let fx = update(&mut s, key(KeyCode::Char('c'), KeyModifiers::NONE));
    let key_of_tab = s.tab().session_key();
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndTransaction { key, commit: true, connection }) if *key == key_of_tab && connection == "pg"
    )));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Quit)),
        "waits for the server"
    );
    let fx = update(
        &mut s,
        Msg::Worker(WorkerEvent::TransactionEnded {
            key: key_of_tab,
            outcome: Ok("committed".into()),
        }),
    );
    assert!(s.tab().transaction.is_none());
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)), "then quits");
}

#[test]
fn a_failed_transaction_can_only_be_rolled_back_and_a_failed_commit_stays() {
    use crate::model::job::TransactionState;
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    run_with_transaction(
        &mut s,
        "INSERT INTO nope VALUES (1)",
        TransactionState::Failed,
    );
    assert!(s.tab().transaction.is_some_and(|t| t.failed));
    update(&mut s, ctrl('w'));
    assert!(matches!(
        s.popup,
        Some(Popup::ConfirmTransactions {
            then: AfterTransactions::CloseTab(_),
            ..
        })
    ));
    let fx = update(&mut s, key(KeyCode::Char('c'), KeyModifiers::NONE));
    assert!(fx.is_empty(), "no commit of a failed transaction");
    let fx = update(&mut s, key(KeyCode::Char('r'), KeyModifiers::NONE));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndTransaction { commit: false, .. })
    )));
    let key_of_tab = s.tab().session_key();
    let tab_id = s.tab().id;
    // The rollback fails (the connection broke): the tab stays, the user is told.
    update(
        &mut s,
        Msg::Worker(WorkerEvent::TransactionEnded {
            key: key_of_tab.clone(),
            outcome: Err("the connection was lost".into()),
        }),
    );
    assert!(matches!(s.popup, Some(Popup::Message { .. })));
    assert_eq!(s.tab().id, tab_id, "the tab is still there");

    // Rolled back this time: the tab closes and its connection is ended.
    s.popup = None;
    update(&mut s, ctrl('w'));
    update(&mut s, key(KeyCode::Char('r'), KeyModifiers::NONE));
    let fx = update(
        &mut s,
        Msg::Worker(WorkerEvent::TransactionEnded {
            key: key_of_tab.clone(),
            outcome: Ok("rolled back".into()),
        }),
    );
    assert_ne!(s.tab().id, tab_id, "closed");
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndSession { key, .. }) if *key == key_of_tab
    )));
}

#[test]
fn f7_on_a_direct_connection_wraps_the_tab_in_begin_and_commit() {
    let mut s = state_on("pg", ConnectionKind::Redshift, false);
    type_text(
        &mut s,
        "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);",
    );
    let fx = update(&mut s, key(KeyCode::F(7), KeyModifiers::NONE));
    let first = runs(&fx);
    assert_eq!(first.len(), 1, "one at a time");
    assert_eq!(first[0].1, "BEGIN");
    finish(&mut s, first[0].0, ok());
    let sqls: Vec<String> = s.tab().results.iter().map(|r| r.sql.clone()).collect();
    assert_eq!(
        sqls,
        [
            "BEGIN",
            "INSERT INTO t VALUES (1)",
            "INSERT INTO t VALUES (2)",
            "COMMIT"
        ]
    );
}
