//! Reducer tests of what runs or is held on the servers: the monitor across connections, the
//! quit dialog (what to stop, routed to the right connection), runs whose tab is gone, and
//! Athena Spark sessions (start form, binding, calculations, polling, termination).

use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};

use super::{finish, key, ok, requests, runs, state_on, type_text};
use crate::app::monitor::{self, Subject};
use crate::app::{ConnectionInfo, Effect, Msg, Popup, State, update};
use crate::model::catalog::{CatalogNode, NodeAction, NodeKind};
use crate::model::connection::ConnectionKind;
use crate::model::spark::{SessionSettings, SparkOp, SparkReply, SparkSession};
use crate::protocol::{WorkerCmd, WorkerEvent};

fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, key(code, KeyModifiers::NONE))
}

/// Athena (`ath`, first), Redshift Data with sessions (`rd`) and the embedded engine.
fn three_connections() -> State {
    let mut s = state_on("ath", ConnectionKind::Athena, false);
    s.connections.insert(
        1,
        ConnectionInfo {
            name: "rd".into(),
            kind: ConnectionKind::RedshiftData,
            detail: String::new(),
            result_reuse: false,
            sessions: true,
            broken: None,
        },
    );
    s
}

fn spark(id: &str, state: &str) -> SparkSession {
    SparkSession {
        id: id.into(),
        workgroup: "spark-wg".into(),
        state: state.into(),
        ..SparkSession::default()
    }
}

fn spark_reply(s: &mut State, op: SparkOp, outcome: Result<SparkReply, String>) -> Vec<Effect> {
    update(
        s,
        Msg::Worker(WorkerEvent::Spark {
            connection: "ath".into(),
            op,
            outcome: outcome.map(Box::new),
        }),
    )
}

fn spark_ops(fx: &[Effect]) -> Vec<SparkOp> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Worker(WorkerCmd::Spark { op, .. }) => Some(op.clone()),
            _ => None,
        })
        .collect()
}

/// A running Athena query (tab 1), a Redshift Data session (tab 2), a Spark session started here.
fn busy_state() -> (State, u64) {
    let mut s = three_connections();
    type_text(&mut s, "SELECT * FROM big");
    let athena_job = runs(&update(&mut s, super::ctrl('j')))[0].0;
    update(&mut s, super::ctrl('n'));
    s.tab_mut().connection = "rd".into();
    s.tab_mut().session = Some(crate::app::editor::TabSession {
        id: "rd-session-1".into(),
        keep_alive: Duration::from_secs(300),
        since: s.now,
    });
    s.spark.upsert("ath", spark("spark-1", "IDLE"), true);
    (s, athena_job)
}

#[test]
fn the_monitor_lists_jobs_and_every_kind_of_session() {
    let (mut s, _) = busy_state();
    // A session seen in the browser only is listed too (not offered at quit).
    s.spark.upsert("ath", spark("spark-seen", "BUSY"), false);
    s.spark
        .upsert("ath", spark("spark-gone", "TERMINATED"), false);
    let entries = monitor::entries(&s);
    let lines: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.what.as_str(), e.state.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            ("SELECT * FROM big", "RUNNING"),
            ("Redshift Data session", "300 s left"),
            ("Spark session (started here)", "IDLE"),
            ("Spark session", "BUSY"),
        ]
    );
    // The status bar counts the Redshift Data session and the Spark session started here.
    assert_eq!(monitor::counts(&s), (1, 2, 0));
    // c on the Spark line terminates it on its connection; Enter asks for its details.
    press(&mut s, KeyCode::F(9));
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Down);
    let fx = press(&mut s, KeyCode::Char('c'));
    assert_eq!(
        spark_ops(&fx),
        [SparkOp::Terminate {
            id: "spark-1".into()
        }]
    );
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(
        spark_ops(&fx),
        [SparkOp::Details {
            id: "spark-1".into()
        }]
    );
    assert!(matches!(
        &s.popup,
        Some(Popup::SparkDetails { lines: None, .. })
    ));
    spark_reply(
        &mut s,
        SparkOp::Details {
            id: "spark-1".into(),
        },
        Ok(SparkReply::Details {
            session: spark("spark-1", "IDLE"),
            lines: vec![
                ("engine".into(), "PySpark engine version 3".into()),
                ("Spark UI".into(), "https://example.test/ui".into()),
            ],
        }),
    );
    press(&mut s, KeyCode::Down);
    let fx = press(&mut s, KeyCode::Char('y'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CopyToClipboard(t) if t == "https://example.test/ui")),
        "{fx:?}"
    );
}

#[test]
fn the_monitor_selection_follows_its_line_when_a_job_ends() {
    let (mut s, athena_job) = busy_state();
    // The monitor opens on the running query's line.
    press(&mut s, KeyCode::F(9));
    finish(&mut s, athena_job, ok());
    // The finished query moved below the sessions: c acts on it (nothing to stop), not on
    // the Redshift Data session that is now the first line.
    let fx = press(&mut s, KeyCode::Char('c'));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::EndSession { .. }))),
        "{fx:?}"
    );
    assert!(s.tabs.iter().any(|t| t.session.is_some()));
}

#[test]
fn quitting_stops_what_is_ticked_on_the_right_connection() {
    let (mut s, athena_job) = busy_state();
    update(&mut s, super::ctrl('q'));
    let Some(Popup::ConfirmQuit(form)) = &s.popup else {
        panic!("the quit dialog: {:?}", s.popup);
    };
    let subjects: Vec<Subject> = form.items.iter().map(|i| i.entry.subject).collect();
    assert!(matches!(
        subjects[..],
        [
            Subject::Job { .. },
            Subject::Session { .. },
            Subject::Spark { .. }
        ]
    ));
    assert!(form.items.iter().all(|i| i.stop), "all ticked by default");
    let fx = press(&mut s, KeyCode::Enter);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { job }) if *job == athena_job))
    );
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::EndSession { connection, key }) if connection == "rd" && key.starts_with("tab-")
    )));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Worker(WorkerCmd::Spark { connection, op: SparkOp::Terminate { id } })
            if connection == "ath" && id == "spark-1"
    )));
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
    // The exit waits for the query's end and the two sessions' answers.
    assert_eq!((s.jobs.len(), s.stops_pending), (1, 2));
    update(
        &mut s,
        Msg::Worker(WorkerEvent::SessionEnded {
            key: "tab-2".into(),
            outcome: Ok(Some("rd-session-1".into())),
        }),
    );
    spark_reply(
        &mut s,
        SparkOp::Terminate {
            id: "spark-1".into(),
        },
        Ok(SparkReply::Session(spark("spark-1", "TERMINATING"))),
    );
    assert_eq!(s.stops_pending, 0);
}

#[test]
fn quitting_can_leave_a_session_or_everything_running() {
    let (mut s, _) = busy_state();
    update(&mut s, super::ctrl('q'));
    // Untick the Redshift Data session (second line): it idles out by itself.
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Char(' '));
    let fx = press(&mut s, KeyCode::Char('y'));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::EndSession { .. })))
    );
    assert_eq!(spark_ops(&fx).len(), 1);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { .. })))
    );

    let (mut s, _) = busy_state();
    update(&mut s, super::ctrl('q'));
    let fx = press(&mut s, KeyCode::Char('l'));
    assert!(
        !fx.iter().any(|e| matches!(
            e,
            Effect::Worker(
                WorkerCmd::Cancel { .. } | WorkerCmd::EndSession { .. } | WorkerCmd::Spark { .. }
            )
        )),
        "{fx:?}"
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
    assert!(
        s.jobs.is_empty() && s.stops_pending == 0,
        "nothing to wait for"
    );

    // SIGTERM stops everything without asking.
    let (mut s, _) = busy_state();
    let fx = update(&mut s, Msg::Terminate);
    assert_eq!(spark_ops(&fx).len(), 1);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::EndSession { .. })))
    );
}

#[test]
fn a_session_alone_is_asked_about_at_quit_and_esc_stays() {
    let mut s = three_connections();
    s.spark.upsert("ath", spark("spark-1", "IDLE"), true);
    let fx = update(&mut s, super::ctrl('q'));
    assert!(fx.is_empty() && matches!(s.popup, Some(Popup::ConfirmQuit(_))));
    press(&mut s, KeyCode::Esc);
    assert!(s.popup.is_none() && !s.quitting);
    // Once terminated, nothing is asked.
    s.spark.upsert("ath", spark("spark-1", "TERMINATED"), false);
    let fx = update(&mut s, super::ctrl('q'));
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
}

#[test]
fn runs_whose_tab_is_closed_stay_in_the_monitor_and_run_again() {
    let mut s = three_connections();
    type_text(&mut s, "SELECT 42");
    let job = runs(&update(&mut s, super::ctrl('j')))[0].0;
    finish(&mut s, job, ok());
    update(&mut s, super::ctrl('w'));
    // The tab had text: confirm closing it.
    press(&mut s, KeyCode::Char('y'));
    assert!(s.tabs.iter().all(|t| t.results.is_empty()));
    let entries = monitor::entries(&s);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(matches!(entries[0].subject, Subject::Past { .. }));
    assert_eq!(entries[0].what, "SELECT 42");
    assert!(entries[0].tab_title.ends_with("(closed)"));
    press(&mut s, KeyCode::F(9));
    let fx = press(&mut s, KeyCode::Char('r'));
    let sent = requests(&fx);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].sql, "SELECT 42");
    assert_eq!(s.tab().connection, "ath", "on the connection it ran on");
}

#[test]
fn a_spark_workgroup_starts_a_session_that_the_tab_then_runs_in() {
    let mut s = three_connections();
    // Enter on the Spark workgroup node of the browser: the form, and the workgroup's defaults.
    let wg = CatalogNode::new("spark-wg", NodeKind::Workgroup)
        .with_action(NodeAction::SparkWorkgroup("spark-wg".into()));
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    press(&mut s, KeyCode::Right);
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "ath".into(),
            path: vec![],
            result: Ok(vec![wg]),
        }),
    );
    press(&mut s, KeyCode::Char('j'));
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(
        spark_ops(&fx),
        [SparkOp::Defaults {
            workgroup: "spark-wg".into()
        }]
    );
    spark_reply(
        &mut s,
        SparkOp::Defaults {
            workgroup: "spark-wg".into(),
        },
        Ok(SparkReply::Defaults(SessionSettings {
            max_concurrent_dpus: 40,
            ..SessionSettings::default()
        })),
    );
    let Some(Popup::SparkStart(form)) = &s.popup else {
        panic!("{:?}", s.popup);
    };
    assert_eq!(form.values[2], "40");
    let fx = press(&mut s, KeyCode::Enter);
    let [
        SparkOp::Start {
            settings, token, ..
        },
    ] = &spark_ops(&fx)[..]
    else {
        panic!("{fx:?}");
    };
    assert_eq!(settings.max_concurrent_dpus, 40);
    assert!(!token.is_empty());
    // The service answers CREATING: the tab is bound and the session followed.
    spark_reply(
        &mut s,
        spark_ops(&fx)[0].clone(),
        Ok(SparkReply::Session(SparkSession {
            workgroup: String::new(),
            ..spark("spark-new", "CREATING")
        })),
    );
    assert_eq!(s.tab().spark.as_deref(), Some("spark-new"));
    assert_eq!(
        s.spark.get("spark-new").unwrap().session.workgroup,
        "spark-wg"
    );
    // Still starting: nothing runs yet.
    type_text(&mut s, "print(1)");
    assert!(requests(&update(&mut s, super::ctrl('j'))).is_empty());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("still starting"))
    );
    s.tab_mut().text = ratatui_textarea::TextArea::default();
    let later = s.now + Duration::from_secs(3);
    let fx = update(&mut s, Msg::Tick(later));
    assert_eq!(
        spark_ops(&fx),
        [SparkOp::Status {
            id: "spark-new".into()
        }]
    );
    spark_reply(
        &mut s,
        SparkOp::Status {
            id: "spark-new".into(),
        },
        Ok(SparkReply::Session(spark("spark-new", "IDLE"))),
    );
    assert!(s.flash.as_ref().unwrap().text.contains("IDLE"));
    // Ctrl-J runs the whole tab as one calculation in the session, not statement by statement.
    s.focus = crate::app::Focus::Editor;
    type_text(&mut s, "df = spark.range(3)\ndisplay(df); print(1)");
    let fx = update(&mut s, super::ctrl('j'));
    let sent = requests(&fx);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].spark_session.as_deref(), Some("spark-new"));
    assert_eq!(sent[0].sql, "df = spark.range(3)\ndisplay(df); print(1)");
    // Terminated elsewhere: the tab runs Athena SQL again.
    spark_reply(
        &mut s,
        SparkOp::Status {
            id: "spark-new".into(),
        },
        Ok(SparkReply::Session(spark("spark-new", "TERMINATED"))),
    );
    assert_eq!(s.tab().spark, None);
}

#[test]
fn a_listed_session_binds_the_tab_and_an_ended_one_is_refused() {
    let mut s = three_connections();
    let live = CatalogNode::new("spark-1", NodeKind::Session)
        .with_action(NodeAction::SparkSession(spark("spark-1", "IDLE")));
    let ended = CatalogNode::new("spark-0", NodeKind::Session)
        .with_action(NodeAction::SparkSession(spark("spark-0", "TERMINATED")));
    update(&mut s, key(KeyCode::Char('1'), KeyModifiers::ALT));
    press(&mut s, KeyCode::Right);
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "ath".into(),
            path: vec![],
            result: Ok(vec![live, ended]),
        }),
    );
    assert_eq!(
        s.spark.list.len(),
        2,
        "sessions seen in the browser are known"
    );
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Enter);
    assert!(s.flash.as_ref().is_some_and(|f| f.error));
    assert_eq!(s.tab().spark, None);
    press(&mut s, KeyCode::Char('k'));
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.tab().spark.as_deref(), Some("spark-1"));
    assert_eq!(s.tab().connection, "ath");
    // A refreshed list replaces the loaded one without collapsing it.
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Children {
            connection: "ath".into(),
            path: vec![],
            result: Ok(vec![
                CatalogNode::new("spark-1", NodeKind::Session)
                    .with_action(NodeAction::SparkSession(spark("spark-1", "BUSY"))),
            ]),
        }),
    );
    assert_eq!(s.spark.get("spark-1").unwrap().session.state, "BUSY");
    let names: Vec<String> = s
        .browser
        .rows()
        .iter()
        .filter_map(|r| s.browser.node(&r.at).map(|n| n.name.clone()))
        .collect();
    assert_eq!(names, ["ath", "spark-1", "local"], "still expanded");
}
