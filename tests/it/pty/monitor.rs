//! The jobs and sessions monitor and the quit dialog, end to end against the suite's peers: a
//! long Athena query held QUEUED by moto and a Redshift Data session on the Data API test server
//! (real PostgreSQL behind it). Both are listed, stopped from the monitor (the peers see
//! StopQueryExecution and the session's closing statement), and stopped again by the quit
//! dialog's default.

use super::{CTRL_J, CTRL_N, CTRL_Q, DEADLINE, Tui, aws_setup, wait_for_editor};
use crate::fake_redshift_data::{CLUSTER, FakeRedshiftData};
use crate::moto::MotoServer;

const F9: &[u8] = b"\x1b[20~";
const DOWN: &[u8] = b"\x1b[B";
const F4: &[u8] = b"\x1bOS";
const ALT_LEFT: &[u8] = b"\x1b[1;3D";

/// A config with `athena` on moto and `rd` (sessions on) on the Data API test server.
fn config(moto: &str, rd: &str, db: &str) -> String {
    format!(
        "[[connection]]\nname = \"athena\"\nkind = \"athena\"\nregion = \"us-east-1\"\n\
         endpoint_url = \"{moto}\"\nworkgroup = \"primary\"\n\
         output_location = \"s3://quarry-results/\"\n\n\
         [[connection]]\nname = \"rd\"\nkind = \"redshift-data\"\nregion = \"us-east-1\"\n\
         endpoint_url = \"{rd}\"\ncluster_identifier = \"{CLUSTER}\"\ndatabase = \"{db}\"\n\
         session_keep_alive_seconds = 600\n"
    )
}

/// Opens a tab on `rd` (Ctrl-N, then the connection picker) and holds a session there.
fn hold_a_session(tui: &mut Tui) {
    tui.send(&[CTRL_N]);
    tui.send(F4);
    tui.wait_for_text("rd");
    tui.send(DOWN);
    tui.send(b"\r");
    tui.wait_for_text("now runs on `rd`");
    tui.send(b"CREATE TEMP TABLE picks AS SELECT 42 AS answer;");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("left");
}

/// Sessions closed by a last statement with a keep-alive of 0 (how Quarry ends one).
fn session_ends(server: &FakeRedshiftData) -> usize {
    server
        .calls("ExecuteStatement")
        .iter()
        .filter(|c| c["SessionKeepAliveSeconds"] == 0 && c["SessionId"].is_string())
        .count()
}

#[test]
fn the_monitor_and_the_quit_dialog_stop_queries_and_sessions_on_the_servers() {
    let moto = MotoServer::start();
    // Every Athena query stays QUEUED for a million polls: long enough to stop it.
    moto.manual_athena_transitions(1_000_000);
    let pg = crate::postgres::shared();
    let server = FakeRedshiftData::start(pg);
    let db = pg.create_database();
    let toml = config(&moto.url(), &server.url(), &db);
    let mut tui = Tui::start_with(|sb| aws_setup(sb, &toml, "athena"));
    wait_for_editor(&mut tui);

    tui.send(b"SELECT 'long' AS l");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("QUEUED");
    hold_a_session(&mut tui);
    assert_eq!(server.session_count(), 1);

    // F9: the running query first, then the session; both with their server ids.
    tui.send(F9);
    tui.wait_for_text("Jobs and sessions");
    tui.wait_for_text("Redshift Data session");
    let screen = tui.contents();
    let query_line = screen.find("'long' AS l").expect("the query is listed");
    let session_line = screen.find("Redshift Data session").expect("the session");
    assert!(query_line < session_line, "running first:\n{screen}");

    // c on the query: stopped on the server.
    tui.send(b"c");
    assert!(
        moto.wait_for("StopQueryExecution", 1, DEADLINE),
        "moto never received StopQueryExecution: {:?}\n{}",
        moto.athena_ops(),
        tui.contents()
    );
    tui.wait_for_text("CANCELLED");
    // The cancelled query moved below the session; the selection went with it: up to the
    // session (the first line), and c ends it.
    tui.send(b"kk");
    tui.send(b"c");
    tui.wait_for("the session to end", |_| session_ends(&server) == 1);
    tui.wait_for("the server to close it", |_| server.session_count() == 0);
    tui.send(b"\x1b");
    tui.wait_for("the monitor to close", |s| {
        !s.contents().contains("Jobs and sessions")
    });

    // Again, and this time quit: a new session in this tab, the query again in the first tab
    // (Alt-←); the dialog lists both, ticked, and Enter stops them.
    tui.send(b"\rSELECT 7 AS seven;");
    tui.send(&[CTRL_J]);
    tui.wait_for("a new session", |_| server.session_count() == 1);
    tui.send(ALT_LEFT);
    tui.wait_for_text("'long' AS l");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("QUEUED");
    tui.send(&[CTRL_Q]);
    // The whole dialog (a frame can be read half drawn).
    tui.wait_for("the quit dialog's lines", |s| {
        let text = s.contents();
        text.contains("Still running or held") && text.contains("[x]") && text.contains("Esc stay")
    });
    let screen = tui.contents();
    assert!(
        screen.contains("[x]") && !screen.contains("[ ]"),
        "all ticked:\n{screen}"
    );
    tui.send(b"\r");
    tui.assert_exits_cleanly();
    assert!(
        moto.count("StopQueryExecution") >= 2,
        "{:?}",
        moto.athena_ops()
    );
    assert_eq!(
        session_ends(&server),
        2,
        "the second session was ended at quit"
    );
    assert!(
        super::eventually(|| server.session_count() == 0),
        "the server closes the session once its last statement is done"
    );
}
