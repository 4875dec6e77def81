//! Athena for Apache Spark through the real binary (`quarry spark …`, `quarry run
//! --spark-session`, `quarry ls … spark`), against the in-process Spark fake of
//! `fake_athena_spark` and, for the calculation output it writes, moto's S3.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Output, Sandbox, run_command, wait_child};
use crate::fake_athena_spark::{
    ACCOUNT, AUTH_TOKEN, BIG_ROWS, CALC_DPU_MS, DEGRADE_REASON, DISPLAY_STDERR, FAIL_REASON,
    FakeSpark, REGION, SPARK_ENGINE, SPARK_WG, SQL_WG, WG_MAX_DPUS,
};
use crate::moto::MotoServer;

const TIMEOUT: Duration = Duration::from_secs(120);

/// A sandbox with one Athena connection `athena` on the fake, reading S3 from `s3_url`.
struct Spark {
    sandbox: Sandbox,
    config: PathBuf,
}

impl Spark {
    fn new(fake: &FakeSpark, s3_url: Option<&str>) -> Self {
        let sandbox = Sandbox::new();
        // Without moto, S3 points at a port nobody listens on: nothing may read from it.
        let s3 = s3_url.unwrap_or("http://127.0.0.1:9");
        let config = sandbox.config(
            "spark.toml",
            &format!(
                "[[connection]]\n\
                 name = \"athena\"\n\
                 kind = \"athena\"\n\
                 region = \"{REGION}\"\n\
                 endpoint_url = \"{}\"\n\
                 s3_endpoint_url = \"{s3}\"\n\
                 workgroup = \"{SQL_WG}\"\n\
                 dpu_price_per_hour = 0.5\n",
                fake.url()
            ),
        );
        Spark { sandbox, config }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self
            .sandbox
            .command(["--config", self.config.to_str().expect("UTF-8 path")]);
        cmd.args(args).envs(self.sandbox.aws_env());
        cmd
    }

    /// `quarry <args…>`, which must not panic.
    #[track_caller]
    fn quarry(&self, args: &[&str]) -> Output {
        let out = run_command(&mut self.command(args), TIMEOUT);
        out.assert_no_panic();
        out
    }

    /// `quarry spark <args…> -c athena`.
    #[track_caller]
    fn spark(&self, args: &[&str]) -> Output {
        let mut full = vec!["spark"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["-c", "athena"]);
        self.quarry(&full)
    }

    /// `quarry run -c athena --spark-session <id> <args…>`.
    #[track_caller]
    fn calc(&self, session: &str, args: &[&str]) -> Output {
        let mut full = vec!["run", "-c", "athena", "--spark-session", session];
        full.extend_from_slice(args);
        self.quarry(&full)
    }
}

/// A session started on the fake and already IDLE.
#[track_caller]
fn idle_session(fake: &FakeSpark) -> String {
    let id = fake.start_session_directly("from the test");
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.session_state(&id) != Some("IDLE") {
        assert!(Instant::now() < deadline, "session {id} never got IDLE");
        std::thread::sleep(Duration::from_millis(20));
    }
    id
}

/// The `label: value` lines of stdout.
fn labelled(out: &Output) -> Vec<(String, String)> {
    out.lines()
        .iter()
        .filter_map(|l| l.split_once(": "))
        .map(|(l, v)| (l.to_string(), v.to_string()))
        .collect()
}

#[track_caller]
fn value_of(out: &Output, label: &str) -> String {
    labelled(out)
        .into_iter()
        .find(|(l, _)| l == label)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no `{label}: …` line\n{out}"))
}

#[test]
fn spark_start_waits_for_idle_with_the_workgroup_defaults_and_a_token() {
    let fake = FakeSpark::start(None);
    let spark = Spark::new(&fake, None);
    let out = spark.spark(&["start", SPARK_WG, "--wait"]);
    out.assert_ok();
    let id = out.lines()[0].to_string();
    assert_eq!(fake.session_state(&id), Some("IDLE"), "{out}");
    assert!(
        out.stderr.contains("CREATING") && out.stderr.contains("IDLE"),
        "{out}"
    );
    let starts = fake.bodies("StartSession");
    assert_eq!(starts.len(), 1, "{:?}", fake.ops());
    let start = &starts[0];
    assert_eq!(start["WorkGroup"], json!(SPARK_WG), "{start}");
    assert_eq!(
        start["EngineConfiguration"],
        json!({"CoordinatorDpuSize": 1, "DefaultExecutorDpuSize": 1,
               "MaxConcurrentDpus": WG_MAX_DPUS}),
        "{start}"
    );
    assert_eq!(start["SessionIdleTimeoutInMinutes"], json!(15), "{start}");
    let token = start["ClientRequestToken"].as_str().unwrap_or_default();
    assert!(token.len() >= 32, "{start}");
    assert_eq!(fake.bodies("GetWorkGroup")[0]["WorkGroup"], json!(SPARK_WG));

    // Sizes given on the command line win over the workgroup's.
    let out = spark.spark(&[
        "start",
        SPARK_WG,
        "--coordinator-dpu",
        "2",
        "--executor-dpu",
        "4",
        "--max-dpus",
        "8",
        "--idle-minutes",
        "30",
        "--description",
        "nightly",
    ]);
    out.assert_ok();
    let start = &fake.bodies("StartSession")[1];
    assert_eq!(
        start["EngineConfiguration"],
        json!({"CoordinatorDpuSize": 2, "DefaultExecutorDpuSize": 4, "MaxConcurrentDpus": 8}),
        "{start}"
    );
    assert_eq!(start["SessionIdleTimeoutInMinutes"], json!(30), "{start}");
    assert_eq!(start["Description"], json!("nightly"), "{start}");
    assert_ne!(start["ClientRequestToken"], json!(token), "{start}");
}

#[test]
fn spark_start_in_an_sql_workgroup_is_refused() {
    let fake = FakeSpark::start(None);
    let spark = Spark::new(&fake, None);
    let out = spark.spark(&["start", SQL_WG]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("not Spark-enabled") && out.stderr.contains("Athena engine version 3"),
        "{out}"
    );
    assert_eq!(fake.count("StartSession"), 0, "{:?}", fake.ops());
}

#[test]
fn spark_lifecycle_start_calculate_terminate() {
    let moto = MotoServer::start();
    let fake = FakeSpark::start(Some(&moto.url()));
    let spark = Spark::new(&fake, Some(&moto.url()));
    let out = spark.spark(&["start", SPARK_WG, "--wait"]);
    out.assert_ok();
    let id = out.lines()[0].to_string();

    let code = "print(\"hello\")\nx = 1; y = 2\nprint('world')\n";
    let out = spark.calc(&id, &["--format", "csv", "--stats", code]);
    out.assert_ok();
    assert_eq!(out.lines(), vec!["output", "hello", "world"], "{out}");
    // The whole input is one calculation, `;` and all.
    let starts = fake.bodies("StartCalculationExecution");
    assert_eq!(starts.len(), 1, "{:?}", fake.ops());
    assert_eq!(starts[0]["SessionId"], json!(id));
    assert_eq!(starts[0]["CodeBlock"], json!(code));
    assert!(
        starts[0]["ClientRequestToken"].as_str().unwrap_or("").len() >= 32,
        "{}",
        starts[0]
    );
    let stderr_value = |label: &str| {
        out.stderr
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{label}: ")).map(str::to_string))
    };
    assert_eq!(stderr_value("state").as_deref(), Some("SUCCEEDED"), "{out}");
    assert_eq!(stderr_value("dpu").as_deref(), Some("7.2 DPU·s"), "{out}");
    let cost: f64 = stderr_value("cost")
        .and_then(|c| c.trim_start_matches('$').parse().ok())
        .unwrap_or_else(|| panic!("no cost line\n{out}"));
    let expected = CALC_DPU_MS as f64 / 3_600_000.0 * 0.5;
    assert!(
        (cost - expected).abs() < 1e-6,
        "{cost} vs {expected}\n{out}"
    );

    let out = spark.spark(&["status", &id]);
    out.assert_ok();
    assert_eq!(value_of(&out, "state"), "IDLE", "{out}");
    assert_eq!(value_of(&out, "workgroup"), SPARK_WG, "{out}");
    assert_eq!(
        value_of(&out, "max concurrent DPUs"),
        WG_MAX_DPUS.to_string()
    );
    assert_eq!(value_of(&out, "DPU usage"), "7.2 DPU·s", "{out}");

    let out = spark.spark(&["terminate", &id, "--wait"]);
    out.assert_ok();
    assert!(out.stderr.contains("TERMINATED"), "{out}");
    assert_eq!(fake.session_state(&id), Some("TERMINATED"));
    assert_eq!(fake.count("TerminateSession"), 1, "{:?}", fake.ops());
    let out = spark.spark(&["status", &id]);
    assert_eq!(value_of(&out, "state"), "TERMINATED", "{out}");
}

#[test]
fn spark_display_result_is_a_typed_table() {
    let moto = MotoServer::start();
    let fake = FakeSpark::start(Some(&moto.url()));
    let spark = Spark::new(&fake, Some(&moto.url()));
    let id = idle_session(&fake);
    let out = spark.calc(&id, &["--format", "csv", "display(df)"]);
    out.assert_ok();
    assert_eq!(
        out.lines(),
        vec![
            "vendor,trips,share,active",
            "acme,120331,0.61,true",
            "zenith,98004,0.39,false",
            "zeta,7,,",
        ],
        "{out}"
    );
    // stderr of a successful calculation is a note, not an error.
    assert!(out.stderr.contains(DISPLAY_STDERR.trim()), "{out}");

    let out = spark.calc(&id, &["--format", "jsonl", "display(df)"]);
    out.assert_ok();
    let first: Value = serde_json::from_str(out.lines()[0]).expect("a JSON line");
    assert_eq!(
        first,
        json!({"vendor": "acme", "trips": 120331, "share": 0.61, "active": true}),
        "{out}"
    );
}

#[test]
fn spark_table_schema_csv_folder_and_big_results() {
    let moto = MotoServer::start();
    let fake = FakeSpark::start(Some(&moto.url()));
    let spark = Spark::new(&fake, Some(&moto.url()));
    let id = idle_session(&fake);

    let out = spark.calc(&id, &["--format", "csv", "df.to_json(orient='table')"]);
    out.assert_ok();
    assert_eq!(
        out.lines(),
        vec!["index,city,pop", "0,Oslo,0.7", "1,Lima,10.0"],
        "{out}"
    );

    let out = spark.calc(&id, &["--format", "csv", "df.write.csv(path)"]);
    out.assert_ok();
    assert_eq!(
        out.lines(),
        vec!["name,n,ok", "acme,1,true", "zenith,,false"],
        "{out}"
    );

    let out = spark.calc(&id, &["--format", "csv", "--stats", "big_result()"]);
    out.assert_ok();
    let lines = out.lines();
    assert_eq!(lines.len(), BIG_ROWS + 1, "{}", out.stderr);
    assert_eq!(lines[0], "i,label");
    assert_eq!(lines[BIG_ROWS], format!("{BIG_ROWS},row-{BIG_ROWS}"));
    assert!(
        out.stderr.contains(&format!("rows: {BIG_ROWS}")),
        "{}",
        out.stderr
    );
}

#[test]
fn spark_failed_calculation_reports_the_reason_and_the_end_of_stderr() {
    let moto = MotoServer::start();
    let fake = FakeSpark::start(Some(&moto.url()));
    let spark = Spark::new(&fake, Some(&moto.url()));
    let id = idle_session(&fake);
    let out = spark.calc(&id, &["print(nope)  # fail"]);
    out.assert_code(1);
    assert!(out.stderr.contains(FAIL_REASON), "{out}");
    assert!(
        out.stderr.contains("--- stderr (last 40 lines) ---") && out.stderr.contains("at frame 44"),
        "{out}"
    );
    // Only the tail: the traceback's head is cut.
    assert!(!out.stderr.contains("Traceback"), "{out}");
    assert!(!out.stderr.contains("is now"), "the session is fine\n{out}");
    assert_eq!(fake.session_state(&id), Some("IDLE"));
}

#[test]
fn spark_degraded_session_is_reported() {
    let moto = MotoServer::start();
    let fake = FakeSpark::start(Some(&moto.url()));
    let spark = Spark::new(&fake, Some(&moto.url()));
    let id = idle_session(&fake);
    let out = spark.calc(&id, &["degrade_the_driver()"]);
    out.assert_code(1);
    assert!(out.stderr.contains("Session degraded"), "{out}");
    assert!(
        out.stderr
            .contains(&format!("session {id} is now DEGRADED: {DEGRADE_REASON}")),
        "{out}"
    );
    let out = spark.spark(&["status", &id]);
    out.assert_ok();
    assert_eq!(value_of(&out, "state"), "DEGRADED", "{out}");
    assert_eq!(value_of(&out, "reason"), DEGRADE_REASON, "{out}");
    let out = spark.quarry(&["ls", "-c", "athena", "spark", SPARK_WG]);
    out.assert_ok();
    assert!(
        out.lines()[0].contains(&format!("{id}\tsession\tDEGRADED")),
        "{out}"
    );
    // A degraded session takes no calculation.
    let out = spark.calc(&id, &["print('again')"]);
    out.assert_code(1);
    assert!(out.stderr.contains("DEGRADED"), "{out}");
}

/// `quarry run --spark-session <id> <code>`, interrupted with SIGINT once it polls.
#[track_caller]
fn interrupt_calculation(spark: &Spark, fake: &FakeSpark, id: &str, code: &str) -> Output {
    let child = spark
        .command(&["run", "-c", "athena", "--spark-session", id, code])
        .spawn()
        .expect("start quarry");
    let polling = fake.wait_for("GetCalculationExecution", 2, Duration::from_secs(60));
    // SAFETY: kill(2) on the pid of our own child, which has not been waited for yet.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "kill(SIGINT) failed");
    let out = wait_child(child, Duration::from_secs(60));
    assert!(polling, "never polled: {:?}\n{out}", fake.ops());
    out.assert_no_panic();
    out
}

#[test]
fn spark_sigint_stops_the_calculation() {
    let fake = FakeSpark::start(None);
    let spark = Spark::new(&fake, None);
    let id = idle_session(&fake);
    let out = interrupt_calculation(&spark, &fake, &id, "slow_job()");
    out.assert_code(130);
    let stops = fake.bodies("StopCalculationExecution");
    assert_eq!(stops.len(), 1, "{:?}\n{out}", fake.ops());
    let calc = fake.bodies("StartCalculationExecution").len();
    assert_eq!(calc, 1);
    assert!(
        matches!(fake.calc_states()[0], "CANCELING" | "CANCELED"),
        "{:?}",
        fake.calc_states()
    );
}

#[test]
fn spark_a_refused_stop_says_the_calculation_may_still_run() {
    let fake = FakeSpark::start(None);
    let spark = Spark::new(&fake, None);
    let id = idle_session(&fake);
    let out = interrupt_calculation(&spark, &fake, &id, "stubborn_job()");
    out.assert_code(1);
    assert!(
        out.stderr.contains("may still be running and billing")
            && out.stderr.contains("stop-calculation-execution"),
        "{out}"
    );
    assert_eq!(fake.calc_states(), vec!["RUNNING"]);
}

#[test]
fn spark_ls_lists_spark_workgroups_and_their_sessions_newest_first() {
    let fake = FakeSpark::start(None);
    let spark = Spark::new(&fake, None);
    let out = spark.quarry(&["ls", "-c", "athena", "spark"]);
    out.assert_ok();
    assert_eq!(
        out.lines(),
        vec![format!("{SPARK_WG}\tworkgroup\t{SPARK_ENGINE} · ENABLED").as_str()],
        "{out}"
    );

    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(fake.start_session_directly(&format!("session {i}")));
        std::thread::sleep(Duration::from_millis(30));
    }
    let out = spark.spark(&["terminate", &ids[0], "--wait"]);
    out.assert_ok();
    let out = spark.quarry(&["ls", "-c", "athena", "spark", SPARK_WG]);
    out.assert_ok();
    let lines = out.lines();
    let listed: Vec<&str> = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest_first, "{out}");
    assert!(
        lines
            .iter()
            .all(|l| l.split('\t').nth(1) == Some("session")),
        "{out}"
    );
    assert!(lines[2].contains("\tTERMINATED · started "), "{out}");
    assert!(lines[2].ends_with("session 0"), "{out}");
    // Three sessions, two a page.
    assert_eq!(fake.count("ListSessions"), 2, "{:?}", fake.ops());
}

#[test]
fn spark_show_gives_details_and_links_but_never_the_auth_token() {
    let fake = FakeSpark::start(None);
    let spark = Spark::new(&fake, None);
    let id = idle_session(&fake);
    let out = spark.spark(&["show", &id]);
    out.assert_ok();
    for (label, value) in [
        ("state", "IDLE".to_string()),
        ("workgroup", SPARK_WG.to_string()),
        ("engine version", SPARK_ENGINE.to_string()),
        ("notebook version", "Athena notebook version 1".to_string()),
        ("max concurrent DPUs", WG_MAX_DPUS.to_string()),
        (
            "spark property spark.sql.shuffle.partitions",
            "8".to_string(),
        ),
        ("idle timeout", "15 min".to_string()),
        (
            "execution role",
            format!("arn:aws:iam::{ACCOUNT}:role/quarry-spark"),
        ),
        ("encryption", "SSE_S3".to_string()),
        (
            "CloudWatch logging",
            "enabled · log group /aws/athena/spark · stream prefix quarry · SPARK_DRIVER: \
             STDOUT/STDERR"
                .to_string(),
        ),
        ("managed logging", "disabled".to_string()),
        (
            "Spark endpoint",
            format!("https://{id}.spark.fake-athena.local"),
        ),
        (
            "Spark UI",
            format!("https://spark-ui.fake-athena.local/{id}"),
        ),
    ] {
        assert_eq!(value_of(&out, label), value, "{label}\n{out}");
    }
    assert!(
        value_of(&out, "S3 logging").starts_with("enabled · s3://"),
        "{out}"
    );
    assert!(!out.stdout.contains(AUTH_TOKEN) && !out.stderr.contains(AUTH_TOKEN));
    assert_eq!(fake.count("GetSessionEndpoint"), 1, "{:?}", fake.ops());
    assert_eq!(
        fake.bodies("GetResourceDashboard")[0]["ResourceARN"],
        json!(format!(
            "arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{SPARK_WG}/session/{id}"
        ))
    );

    // An ended session has no endpoint to ask for.
    spark.spark(&["terminate", &id, "--wait"]).assert_ok();
    let out = spark.spark(&["show", &id]);
    out.assert_ok();
    assert_eq!(
        value_of(&out, "Spark endpoint"),
        "not available (the session has ended)",
        "{out}"
    );
    assert_eq!(fake.count("GetSessionEndpoint"), 1, "{:?}", fake.ops());
    assert!(!out.stdout.contains(AUTH_TOKEN) && !out.stderr.contains(AUTH_TOKEN));
}

#[test]
fn spark_session_flag_needs_an_athena_connection_and_no_params() {
    let fake = FakeSpark::start(None);
    let spark = Spark::new(&fake, None);
    let out = spark.quarry(&[
        "run",
        "-c",
        "athena",
        "--spark-session",
        "x",
        "--param",
        "1",
        "print(1)",
    ]);
    out.assert_code(2);
    let out = spark.quarry(&["run", "-c", "local", "--spark-session", "x", "print(1)"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("--spark-session runs on Athena"),
        "{out}"
    );
    assert!(fake.ops().is_empty(), "{:?}", fake.ops());
}
