//! Athena Spark from the keyboard, against the in-process Spark fake (moto has no Spark APIs)
//! with its output files in moto's S3: the browser's spark node lists the Spark workgroup, Enter
//! opens the start form with the workgroup's defaults, the session is followed to IDLE, the tab
//! runs its code as a calculation whose `display()` table lands in the grid, and quitting
//! terminates the session on the service.

use super::{CTRL_J, CTRL_Q, DEADLINE, Tui, aws_setup, wait_for_editor};
use crate::fake_athena_spark::{FakeSpark, REGION, SPARK_WG, SQL_WG, WG_MAX_DPUS};
use crate::moto::MotoServer;

#[test]
fn a_spark_session_started_from_the_browser_runs_the_tab_and_ends_at_quit() {
    let moto = MotoServer::start();
    let fake = FakeSpark::start(Some(&moto.url()));
    let toml = format!(
        "[[connection]]\nname = \"athena\"\nkind = \"athena\"\nregion = \"{REGION}\"\n\
         endpoint_url = \"{}\"\ns3_endpoint_url = \"{}\"\nworkgroup = \"{SQL_WG}\"\n",
        fake.url(),
        moto.url()
    );
    let mut tui = Tui::start_with(|sb| aws_setup(sb, &toml, "athena"));
    wait_for_editor(&mut tui);

    // Browser: the athena connection (the last root), expanded; its last child is `spark`.
    tui.send(b"\x1b1");
    tui.wait_for_text("BROWSER");
    tui.send(b"G");
    tui.send(b"\x1b[C");
    tui.wait_for_text("spark Spark");
    tui.send(b"G");
    tui.send(b"\x1b[C");
    tui.wait_for_text(SPARK_WG);
    tui.send(b"j");
    tui.send(b"\r");
    tui.wait_for_text("Start a Spark session in workgroup");
    // The workgroup's own maximum replaces the service's default of 20.
    tui.wait_for_text(&format!("max concurrent DPUs {WG_MAX_DPUS}"));
    tui.send(b"\r");
    tui.wait_for_text("is IDLE: ready");
    let starts = fake.bodies("StartSession");
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert!(starts[0]["ClientRequestToken"].is_string(), "{}", starts[0]);
    assert_eq!(
        starts[0]["EngineConfiguration"]["MaxConcurrentDpus"], WG_MAX_DPUS,
        "{}",
        starts[0]
    );

    // The tab is bound: its code is one calculation, and the display() table is the result.
    tui.send(b"df = spark.sql('SELECT * FROM trips')\rdisplay(df)");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("acme");
    let calcs = fake.bodies("StartCalculationExecution");
    assert_eq!(calcs.len(), 1, "{calcs:?}");
    assert_eq!(
        calcs[0]["CodeBlock"], "df = spark.sql('SELECT * FROM trips')\ndisplay(df)",
        "{}",
        calcs[0]
    );

    // Quit: the session started here is listed, ticked; Enter terminates it.
    tui.send(&[CTRL_Q]);
    tui.wait_for_text("Spark session (started");
    tui.send(b"\r");
    tui.assert_exits_cleanly();
    assert!(
        fake.wait_for("TerminateSession", 1, DEADLINE),
        "{:?}",
        fake.ops()
    );
}
