//! The durable query history: concurrent writers (threads and processes) at library level, and
//! `quarry run` recording into it and `quarry history` listing it through the real binary,
//! against the in-process Athena fake (so no embedded engine is needed).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use quarry::connectors::JobStats;
use quarry::store::history::{History, NewRun, Retention, RunEnd, Status};

use crate::common::{Output, Sandbox, run_command, wait_child};
use crate::fake_athena::FakeAthena;

const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs each writer appends.
const RUNS_PER_WRITER: usize = 500;

/// Set in the child processes of `processes_and_threads_append_at_once`: the history file.
const CHILD_PATH_ENV: &str = "QUARRY_IT_HISTORY_CHILD_PATH";
/// The child's writer name.
const CHILD_NAME_ENV: &str = "QUARRY_IT_HISTORY_CHILD_NAME";

/// `RUNS_PER_WRITER` runs (start and end) of writer `name`.
fn append_runs(path: &Path, name: &str) {
    // Unlimited retention: a compaction must never drop anything here.
    let retention = Retention {
        max_entries: 0,
        max_age_days: 0,
    };
    let history = History::open(path, retention).expect("open history");
    for i in 0..RUNS_PER_WRITER {
        let id = history
            .record_start(NewRun {
                connection: name.to_string(),
                tab: None,
                sql: format!("SELECT '{name}', {i}"),
                params: 0,
            })
            .expect("record start");
        history
            .record_end(&id, RunEnd::succeeded(i as u64, &JobStats::default()))
            .expect("record end");
    }
}

/// Not a test on its own: the body of the child processes of
/// `processes_and_threads_append_at_once` (does nothing without their environment).
#[test]
fn append_child() {
    if let (Some(path), Some(name)) = (
        std::env::var_os(CHILD_PATH_ENV),
        std::env::var(CHILD_NAME_ENV).ok(),
    ) {
        append_runs(Path::new(&path), &name);
    }
}

#[test]
fn processes_and_threads_append_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.jsonl");
    let exe = std::env::current_exe().expect("the test binary");
    let children: Vec<_> = ["proc-a", "proc-b"]
        .iter()
        .map(|name| {
            Command::new(&exe)
                .args(["history::append_child", "--exact", "--test-threads=1"])
                .env(CHILD_PATH_ENV, &path)
                .env(CHILD_NAME_ENV, name)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start a child writer")
        })
        .collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let writers: Vec<_> = ["thread-a", "thread-b"]
            .iter()
            .map(|name| {
                let path = &path;
                s.spawn(move || append_runs(path, name))
            })
            .collect();
        // Meanwhile the file is rewritten (compacted) again and again: no append may go to a
        // replaced file.
        s.spawn(|| {
            let retention = Retention {
                max_entries: 0,
                max_age_days: 0,
            };
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if path.exists() {
                    History::open(&path, retention)
                        .and_then(|h| h.compact())
                        .expect("compact");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        for w in writers {
            w.join().expect("writer thread");
        }
        for child in children {
            let out = wait_child(child, TIMEOUT);
            out.assert_ok();
            assert!(out.stdout.contains("1 passed"), "the child ran\n{out}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });

    let text = std::fs::read_to_string(&path).expect("read history");
    assert!(text.ends_with('\n'));
    let writers = ["proc-a", "proc-b", "thread-a", "thread-b"];
    assert_eq!(text.lines().count(), 2 * RUNS_PER_WRITER * writers.len());
    for line in text.lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("a damaged line ({e}): {line:?}"));
        assert_eq!(v["v"], 1, "{line}");
    }
    let entries = History::open(&path, Retention::default())
        .expect("open")
        .entries()
        .expect("entries");
    assert_eq!(entries.len(), RUNS_PER_WRITER * writers.len());
    let mut per_writer: HashMap<&str, Vec<bool>> = writers
        .iter()
        .map(|w| (*w, vec![false; RUNS_PER_WRITER]))
        .collect();
    for e in &entries {
        assert_eq!(e.status, Status::Succeeded, "{e:?}");
        let i = e.rows.expect("rows") as usize;
        assert_eq!(e.sql, format!("SELECT '{}', {i}", e.connection));
        let seen = per_writer
            .get_mut(e.connection.as_str())
            .expect("a known writer");
        assert!(!seen[i], "a run recorded twice: {e:?}");
        seen[i] = true;
    }
    assert!(per_writer.values().all(|seen| seen.iter().all(|s| *s)));
}

/// A sandbox with one Athena connection `athena` on the fake.
struct Setup {
    sandbox: Sandbox,
    config: PathBuf,
    _fake: FakeAthena,
}

impl Setup {
    fn new() -> Self {
        let fake = FakeAthena::start();
        let sandbox = Sandbox::new();
        let config = sandbox.config(
            "athena.toml",
            &format!(
                "[[connection]]\n\
                 name = \"athena\"\n\
                 kind = \"athena\"\n\
                 region = \"us-east-1\"\n\
                 endpoint_url = \"{}\"\n\
                 workgroup = \"primary\"\n\
                 database = \"sales\"\n\
                 output_location = \"s3://quarry-results/\"\n",
                fake.url()
            ),
        );
        Setup {
            sandbox,
            config,
            _fake: fake,
        }
    }

    #[track_caller]
    fn quarry(&self, args: &[&str]) -> Output {
        let mut cmd = self
            .sandbox
            .command(["--config", self.config.to_str().expect("UTF-8 path")]);
        cmd.args(args).envs(self.sandbox.aws_env());
        let out = run_command(&mut cmd, TIMEOUT);
        out.assert_no_panic();
        out
    }

    fn history_file(&self) -> PathBuf {
        self.sandbox.data_dir().join("history.jsonl")
    }

    /// `quarry history --format jsonl <args…>`, parsed.
    #[track_caller]
    fn history_jsonl(&self, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["history", "--format", "jsonl"];
        full.extend_from_slice(args);
        let out = self.quarry(&full);
        out.assert_ok();
        out.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{out}")))
            .collect()
    }
}

#[test]
fn run_records_every_statement_and_history_lists_them() {
    let s = Setup::new();
    s.quarry(&[
        "run",
        "-c",
        "athena",
        "SELECT 1 AS first; SELECT 2 AS second",
    ])
    .assert_ok();
    let out = s.quarry(&["run", "-c", "athena", "SELECT nope FROM fail_table"]);
    out.assert_code(1);

    let all = s.history_jsonl(&[]);
    assert_eq!(all.len(), 3, "{all:?}");
    // Newest first.
    assert_eq!(all[0]["sql"], "SELECT nope FROM fail_table");
    assert_eq!(all[0]["status"], "failed");
    assert!(
        all[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot be resolved")),
        "{}",
        all[0]
    );
    for (entry, sql) in all[1..]
        .iter()
        .zip(["SELECT 2 AS second", "SELECT 1 AS first"])
    {
        assert_eq!(entry["sql"], sql);
        assert_eq!(entry["status"], "succeeded");
        assert_eq!(entry["connection"], "athena");
        assert_eq!(entry["rows"], 2);
        assert!(entry["server_id"].is_string(), "{entry}");
        assert!(entry["duration_ms"].is_u64(), "{entry}");
        assert_eq!(entry["params"], 0);
    }
    assert_ne!(all[0]["id"], all[1]["id"]);

    let failed = s.history_jsonl(&["--status", "failed"]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["status"], "failed");
    assert_eq!(
        s.history_jsonl(&["--status", "ok", "--limit", "1"]).len(),
        1
    );
    assert!(s.history_jsonl(&["-c", "elsewhere"]).is_empty());

    // The table: a header and one line a run.
    let out = s.quarry(&["history", "--grep", "AS FIRST"]);
    out.assert_ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{out}");
    for column in [
        "TIME (UTC)",
        "CONNECTION",
        "STATUS",
        "DURATION",
        "ROWS",
        "SQL",
    ] {
        assert!(lines[0].contains(column), "{out}");
    }
    assert!(lines[1].contains("athena"), "{out}");
    assert!(lines[1].contains("succeeded"), "{out}");
    assert!(lines[1].ends_with("SELECT 1 AS first"), "{out}");
}

#[test]
fn parameter_values_are_not_recorded() {
    let s = Setup::new();
    s.quarry(&[
        "run",
        "-c",
        "athena",
        "SELECT * FROM t WHERE token = ?",
        "--param",
        "'hunter2-secret'",
    ])
    .assert_ok();
    let text = std::fs::read_to_string(s.history_file()).expect("history file");
    assert!(!text.contains("hunter2"), "{text}");
    let all = s.history_jsonl(&[]);
    assert_eq!(all[0]["params"], 1);
}

#[test]
fn a_torn_last_line_is_ignored_and_the_next_run_starts_a_fresh_line() {
    let s = Setup::new();
    s.quarry(&["run", "-c", "athena", "SELECT 'before'"])
        .assert_ok();
    let path = s.history_file();
    let mut text = std::fs::read_to_string(&path).expect("history file");
    text.push_str(r#"{"v":1,"id":"torn","event":"start","time":"2026-01-"#);
    std::fs::write(&path, &text).expect("tear the last line");

    assert_eq!(s.history_jsonl(&[]).len(), 1);
    s.quarry(&["run", "-c", "athena", "SELECT 'after'"])
        .assert_ok();
    let all = s.history_jsonl(&[]);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0]["sql"], "SELECT 'after'");
    assert_eq!(all[0]["status"], "succeeded");
    let text = std::fs::read_to_string(&path).expect("history file");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[2].ends_with("\"2026-01-"),
        "the torn line stays alone: {text}"
    );
    for line in &lines[3..] {
        serde_json::from_str::<Value>(line).expect("a whole record");
    }
}

#[test]
fn a_history_that_cannot_be_written_does_not_fail_the_run() {
    let s = Setup::new();
    // A directory where the file should be: neither readable nor appendable as a file.
    std::fs::create_dir_all(s.history_file()).expect("block the history file");
    let out = s.quarry(&["run", "-c", "athena", "--format", "csv", "SELECT 1"]);
    out.assert_ok();
    assert_eq!(out.lines().len(), 3, "a header and two rows\n{out}");
    let notes: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("quarry: note: history: "))
        .collect();
    assert_eq!(notes.len(), 1, "{out}");
}

#[test]
fn history_table_shows_no_control_characters() {
    let s = Setup::new();
    s.quarry(&[
        "run",
        "-c",
        "athena",
        "SELECT 1 -- \u{1b}]0;owned\u{7} \u{1b}[31mred",
    ])
    .assert_ok();
    let out = s.quarry(&["history"]);
    out.assert_ok();
    assert_eq!(out.lines().len(), 2, "{out}");
    assert!(
        !out.stdout.chars().any(|c| c.is_control() && c != '\n'),
        "{out:?}"
    );
    assert!(out.stdout.contains("SELECT 1 --"), "{out}");
}

#[test]
fn empty_history_lists_nothing() {
    let s = Setup::new();
    let out = s.quarry(&["history"]);
    out.assert_ok();
    assert!(out.stdout.is_empty(), "{out}");
    assert!(s.history_jsonl(&["--grep", "x"]).is_empty());
}
