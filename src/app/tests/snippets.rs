//! The run history and snippets.

use super::*;

#[test]
fn f8_lists_the_history_and_enter_puts_the_sql_into_the_editor() {
    let mut s = athena_state();
    let fx = update(&mut s, key(KeyCode::F(8), KeyModifiers::NONE));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::LoadHistory)))
    );
    let entries = vec![
        history_entry("ath", "SELECT * FROM sales", Some("q-1")),
        history_entry("local", "SELECT 1", None),
    ];
    update(&mut s, Msg::Worker(WorkerEvent::History(Ok(entries))));
    type_text(&mut s, "sales");
    let Some(Popup::History(picker)) = &s.popup else {
        panic!("the history list");
    };
    assert_eq!(picker.matches(), vec![0]);
    // Ctrl-O reopens the Athena query's results by its id, without running it again.
    let fx = update(&mut s, ctrl('o'));
    let reopened = requests(&fx).pop().expect("a reopen");
    assert_eq!(reopened.reopen.as_deref(), Some("q-1"));

    update(&mut s, key(KeyCode::F(8), KeyModifiers::NONE));
    let entries = vec![history_entry("ath", "SELECT * FROM sales", Some("q-1"))];
    update(&mut s, Msg::Worker(WorkerEvent::History(Ok(entries))));
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(s.popup.is_none());
    assert!(s.tab().contents().contains("SELECT * FROM sales"));
}

#[test]
fn ctrl_s_saves_the_tab_as_a_snippet_and_asks_before_replacing_one() {
    let mut s = state();
    type_text(&mut s, "SELECT 42");
    update(&mut s, ctrl('s'));
    type_text(&mut s, "answer");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let save = fx.iter().find_map(|e| match e {
        Effect::Worker(WorkerCmd::SaveSnippet {
            name,
            text,
            meta,
            overwrite,
        }) => Some((
            name.clone(),
            text.clone(),
            meta.connection.clone(),
            *overwrite,
        )),
        _ => None,
    });
    assert_eq!(
        save,
        Some((
            "answer".into(),
            "SELECT 42".into(),
            Some("local".into()),
            false
        ))
    );
    update(
        &mut s,
        Msg::Worker(WorkerEvent::SnippetSaved {
            name: "answer".into(),
            outcome: Err(crate::protocol::SaveFailure::Exists("/x/answer.sql".into())),
        }),
    );
    assert!(matches!(
        s.popup,
        Some(Popup::ConfirmOverwriteSnippet { .. })
    ));
    let fx = update(&mut s, key(KeyCode::Char('y'), KeyModifiers::NONE));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::SaveSnippet {
            overwrite: true,
            ..
        })
    )));
}

#[test]
fn a_snippet_with_placeholders_asks_for_values_and_runs_them_quoted() {
    let mut s = state();
    update(&mut s, ctrl('p'));
    let snippet = crate::store::snippets::Snippet {
        name: "by vendor".into(),
        rel_path: "by-vendor.sql".into(),
        path: "/x/by-vendor.sql".into(),
        meta: Default::default(),
        text: "SELECT * FROM trips WHERE vendor = ${vendor} LIMIT ${n:10}".into(),
    };
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Snippets {
            snippets: vec![snippet],
            errors: Vec::new(),
        }),
    );
    update(&mut s, ctrl('r'));
    let Some(Popup::Params(form)) = &s.popup else {
        panic!("the placeholder form: {:?}", s.popup);
    };
    assert_eq!(form.syntax, params::ValueSyntax::Template);
    assert_eq!(form.fields[1].value, "10", "the default");
    type_text(&mut s, "O'Brien");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    let run = runs(&fx);
    assert_eq!(
        run[0].1, "SELECT * FROM trips WHERE vendor = 'O''Brien' LIMIT 10",
        "text is quoted, numbers go in bare"
    );
    assert_eq!(
        s.tab().title,
        "by vendor",
        "in a new tab named after the snippet"
    );
}
