//! Redshift Data runs: the tab's session, named parameters, batch transactions.

use super::*;

#[test]
fn redshift_data_runs_carry_the_tab_session_and_named_parameters_ask_once() {
    let mut s = state_on("rd", ConnectionKind::RedshiftData, true);
    type_text(&mut s, "SELECT * FROM t WHERE a = :id AND b = :id::int");
    update(&mut s, ctrl('j'));
    let Some(Popup::Params(form)) = &s.popup else {
        panic!("`:id` asks for a value: {:?}", s.popup);
    };
    assert_eq!(form.syntax, params::ValueSyntax::Named);
    assert_eq!(form.fields.len(), 1, "one field per name");
    type_text(&mut s, "42");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let req = requests(&fx).pop().expect("a run");
    assert_eq!(req.params, vec!["42".to_string()]);
    assert_eq!(req.session_key, Some(s.tab().session_key()));
    assert_eq!(req.use_session, None, "the connection decides");
    assert_eq!(req.label.as_deref(), Some(s.tab().title.as_str()));

    // Alt-S: this tab without a session (the connection has them on).
    update(&mut s, key(KeyCode::Char('s'), KeyModifiers::ALT));
    assert_eq!(s.tab().use_session, Some(false));
    let mut local = state();
    update(&mut local, key(KeyCode::Char('s'), KeyModifiers::ALT));
    assert!(
        local.flash.as_ref().is_some_and(|f| f.error),
        "not on Redshift Data"
    );
}

#[test]
fn a_redshift_data_session_shows_in_the_status_and_ends_on_alt_e_or_close() {
    let mut s = state_on("rd", ConnectionKind::RedshiftData, true);
    type_text(&mut s, "CREATE TEMP TABLE x AS SELECT 1");
    let fx = update(&mut s, ctrl('j'));
    let job = runs(&fx)[0].0;
    let info = crate::model::job::SessionInfo {
        key: s.tab().session_key(),
        id: "0123456789abcdef".into(),
        keep_alive: Duration::from_secs(600),
    };
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(job, JobEvent::Session(info))),
    );
    finish(&mut s, job, ok());
    let session = s.tab().session.clone().expect("the tab holds the session");
    assert_eq!(session.time_left(s.now), Duration::from_secs(600));
    assert_eq!(
        session.time_left(s.now + Duration::from_secs(601)),
        Duration::ZERO
    );
    // A notice (an idled-out session was replaced) is shown as a warning.
    let fx = update(&mut s, ctrl('j'));
    let job = runs(&fx)[0].0;
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Job(
            job,
            JobEvent::Notice("temp tables are gone".into()),
        )),
    );
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.error && f.text.contains("temp tables"))
    );
    finish(&mut s, job, ok());

    let fx = update(&mut s, key(KeyCode::Char('e'), KeyModifiers::ALT));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndSession { key, connection }) if *key == s.tab().session_key() && connection == "rd"
    )));
    assert!(s.tab().session.is_none());
    let key_of_tab = s.tab().session_key();
    update(
        &mut s,
        Msg::Worker(WorkerEvent::SessionEnded {
            key: key_of_tab,
            outcome: Ok(Some("0123456789abcdef".into())),
        }),
    );
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("01234567 ended"))
    );

    // Closing a tab that holds a session ends it too.
    s.tab_mut().session = Some(session);
    s.tab_mut().text = ratatui_textarea::TextArea::default();
    let fx = update(&mut s, ctrl('w'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::EndSession { .. }))),
        "{fx:?}"
    );
}

#[test]
fn f7_on_redshift_data_is_one_batch_transaction_in_the_tab_session() {
    let mut s = state_on("rd", ConnectionKind::RedshiftData, true);
    type_text(&mut s, "INSERT INTO t VALUES (1);\nSELECT count(*) FROM t");
    let fx = update(&mut s, key(KeyCode::F(7), KeyModifiers::NONE));
    let (jobs, mode, requests) = group_run(&fx).expect("one group run");
    assert_eq!(mode, crate::model::job::GroupMode::Transaction);
    assert_eq!(jobs.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.session_key == Some(s.tab().session_key()))
    );
    // Running statements on Redshift Data can be cancelled on the server when quitting.
    let form = super::quit::form(&s).expect("asked at quit");
    assert_eq!((form.items.len(), form.local), (2, 0));
}
