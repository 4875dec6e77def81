//! Issue 15, from the command line: hostile input ends with a message and an exit code, never an
//! abort or a panic. (The TUI's side is in `pty/crash.rs`.)

use std::time::Duration;

use crate::common::{Sandbox, run_command};

/// `SELECT 1+1+…+1` with `terms` terms (generated SQL is normal input).
pub fn long_sum(terms: usize) -> String {
    let mut sql = String::from("SELECT 1");
    for _ in 1..terms {
        sql.push_str("+1");
    }
    sql.push_str(" AS total");
    sql
}

#[test]
fn a_ten_thousand_term_expression_fails_with_a_message() {
    let sb = Sandbox::new();
    let file = sb.write("deep.sql", long_sum(10_000));
    let file = file.to_string_lossy().into_owned();
    let out = sb.run(["run", "-f", file.as_str(), "--format", "csv"]);
    out.assert_code(1).assert_no_panic();
    assert!(
        out.stderr.contains("9999 operators") && out.stderr.contains("subqueries"),
        "{out}"
    );
}

#[test]
fn the_longest_chain_allowed_runs_on_the_generous_stack() {
    // 2 000 terms: planned recursively, deeper than tokio's default 2 MiB stack allows in a
    // debug build.
    let sb = Sandbox::new();
    let file = sb.write("deep.sql", long_sum(2_001));
    let file = file.to_string_lossy().into_owned();
    let out = sb.run(["run", "-f", file.as_str(), "--format", "csv"]);
    out.assert_ok().assert_no_panic();
    assert_eq!(out.lines(), ["total", "2001"], "{out}");
}

#[test]
fn deep_parentheses_fail_with_a_message() {
    let sb = Sandbox::new();
    let sql = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let out = sb.run(["run", sql.as_str()]);
    out.assert_code(1).assert_no_panic();
    assert!(out.stderr.contains("nests deeper"), "{out}");
}

#[test]
fn generated_in_lists_and_case_chains_run() {
    let sb = Sandbox::new();
    let list: Vec<String> = (0..5_000).map(|i| i.to_string()).collect();
    let in_list = format!(
        "SELECT count(*) AS n FROM zones WHERE zone_id IN ({})",
        list.join(", ")
    );
    let mut case = String::from("SELECT CASE");
    for i in 0..2_000 {
        case.push_str(&format!(" WHEN zone_id = {i} THEN '{i}'"));
    }
    case.push_str(" END AS c FROM zones LIMIT 1");
    for sql in [in_list, case] {
        let out = sb.run(["run", "--format", "csv", sql.as_str()]);
        out.assert_ok().assert_no_panic();
    }
}

#[test]
fn non_ascii_snippet_names_are_listed_and_used() {
    let sb = Sandbox::new();
    let snippets = sb.data_dir().join("snippets");
    std::fs::create_dir_all(&snippets).unwrap();
    std::fs::write(snippets.join("メモ"), "not a snippet (no .sql)").unwrap();
    std::fs::write(snippets.join("メモ.sql"), "SELECT 'メモ' AS note").unwrap();
    let out = sb.run(["snippets", "list"]);
    out.assert_ok().assert_no_panic();
    assert!(out.stdout.contains("メモ"), "{out}");
    let out = sb.run(["run", "--snippet", "メモ", "--format", "csv"]);
    out.assert_ok().assert_no_panic();
    assert_eq!(out.lines(), ["note", "メモ"], "{out}");
    let out = sb.run(["run", "--snippet", "aé€"]);
    out.assert_code(2).assert_no_panic();
    assert!(out.stderr.contains("aé€"), "{out}");
}

#[test]
fn a_malformed_parquet_file_is_named_not_a_panic() {
    let sb = Sandbox::new();
    let bad = sb.write(
        "data/broken.parquet",
        "PAR1 this is not parquet at all PAR1",
    );
    let dir = bad.parent().unwrap().to_string_lossy().into_owned();
    let config = sb.config(
        "q.toml",
        &format!("[[connection]]\nname = \"files\"\nkind = \"local\"\npaths = [\"{dir}\"]\n"),
    );
    let config = config.to_string_lossy().into_owned();
    let named = |text: &str| text.contains(&*bad.to_string_lossy());
    // The file is its table's problem (issue 16.6): queried, it is an error naming the file…
    let out = sb.run([
        "--config",
        &config,
        "run",
        "-c",
        "files",
        "SELECT * FROM broken",
    ]);
    out.assert_code(1).assert_no_panic();
    assert!(named(&out.stderr), "the error names the file\n{out}");
    // …listed as broken with the reason, and the connection still works.
    let out = sb.run(["--config", &config, "ls", "-c", "files"]);
    out.assert_ok().assert_no_panic();
    assert!(
        out.stdout.contains("broken\tbroken\t") && named(&out.stdout),
        "{out}"
    );
    sb.run(["--config", &config, "run", "-c", "files", "SELECT 1"])
        .assert_ok();
}

#[test]
fn a_fifo_as_config_is_refused_at_once() {
    let sb = Sandbox::new();
    let fifo = sb.work().join("config.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let fifo = fifo.to_string_lossy().into_owned();
    let mut cmd = sb.command(["--config", fifo.as_str(), "connections"]);
    let out = run_command(&mut cmd, Duration::from_secs(20));
    out.assert_code(2).assert_no_panic();
    assert!(out.stderr.contains("FIFO"), "{out}");
}

#[test]
fn a_read_only_data_dir_still_runs_queries() {
    let sb = Sandbox::new();
    let _read_only = make_read_only(&sb.data_dir());
    let out = sb.run(["run", "--format", "csv", "SELECT 42 AS answer"]);
    out.assert_ok().assert_no_panic();
    assert_eq!(out.lines(), ["answer", "42"], "{out}");
}

#[test]
fn a_panic_in_a_command_ends_it_with_a_message() {
    let sb = Sandbox::new();
    let mut cmd = sb.command(["run", "SELECT 1"]);
    cmd.env("QUARRY_TEST_PANIC", "command");
    let out = run_command(&mut cmd, Duration::from_secs(60));
    out.assert_code(101);
    assert!(
        out.stderr.contains("internal error") && out.stderr.contains("injected panic"),
        "{out}"
    );
}

/// `dir` made unwritable for as long as this lives: a read-only bind mount of it when that can
/// be made (root, which ignores permissions), else mode 0555 (which binds everyone else).
pub struct ReadOnlyDir {
    dir: std::path::PathBuf,
    mounted: bool,
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount").arg(&self.dir).status();
        } else {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[track_caller]
pub fn make_read_only(dir: &std::path::Path) -> ReadOnlyDir {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let mount = |args: &[&str]| {
        std::process::Command::new("mount")
            .args(args)
            .arg(dir)
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    // SAFETY: geteuid has no preconditions.
    let mounted = unsafe { libc::geteuid() } == 0 && mount(&["--bind"]) && {
        let ro = mount(&["-o", "remount,bind,ro"]);
        if !ro {
            let _ = std::process::Command::new("umount").arg(dir).status();
        }
        ro
    };
    if !mounted {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let guard = ReadOnlyDir {
        dir: dir.to_path_buf(),
        mounted,
    };
    assert!(
        std::fs::write(dir.join(".probe"), "x").is_err(),
        "{} is still writable: run the tests as root (for a read-only bind mount) or as a user",
        dir.display()
    );
    guard
}
