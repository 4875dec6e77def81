//! Issue 16, points 1 and 2, through the binary: `-o` never replaces what is not a regular
//! file (devices and FIFOs are written as streams, links keep pointing where they did), and
//! a run stopped by a signal leaves no temporary file behind.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{Sandbox, wait_child};

fn mknod(path: &Path, mode: libc::mode_t, dev: libc::dev_t) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mknod with a valid NUL-terminated path.
    let rc = unsafe { libc::mknod(c.as_ptr(), mode, dev) };
    assert_eq!(
        rc,
        0,
        "mknod {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
}

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn devices_fifos_and_links_are_written_not_replaced() {
    let sb = Sandbox::new();
    let work = sb.work();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root,
        "this test makes device nodes with mknod(2): run the suite as root"
    );
    let null = work.join("null");
    let full = work.join("full");
    mknod(&null, libc::S_IFCHR | 0o666, libc::makedev(1, 3));
    mknod(&full, libc::S_IFCHR | 0o666, libc::makedev(1, 7));
    let out = sb.run([
        "run",
        "SELECT * FROM zones",
        "--format",
        "csv",
        "-o",
        "null",
    ]);
    out.assert_ok().assert_no_panic();
    assert!(
        std::fs::metadata(&null)
            .unwrap()
            .file_type()
            .is_char_device()
    );
    // /dev/full: the disk-full error is reported, the device kept.
    let out = sb.run([
        "run",
        "SELECT * FROM zones",
        "--format",
        "csv",
        "-o",
        "full",
    ]);
    out.assert_code(1).assert_no_panic();
    assert!(out.stderr.contains("No space left"), "{out}");
    assert!(
        std::fs::metadata(&full)
            .unwrap()
            .file_type()
            .is_char_device()
    );

    // A FIFO: a reader gets the whole result.
    let fifo = work.join("pipe");
    mknod(&fifo, libc::S_IFIFO | 0o600, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = sb.run([
        "run",
        "SELECT 1 AS a, 2 AS b",
        "--format",
        "csv",
        "-o",
        "pipe",
    ]);
    out.assert_ok();
    assert_eq!(reader.join().unwrap(), "a,b\n1,2\n");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    // A link to a regular file: the file gets the result, the link stays a link.
    std::fs::create_dir(work.join("exports")).unwrap();
    std::fs::write(work.join("exports/latest.csv"), "old").unwrap();
    std::os::unix::fs::symlink("exports/latest.csv", work.join("latest.csv")).unwrap();
    let out = sb.run([
        "run",
        "SELECT 1 AS a",
        "--format",
        "csv",
        "-o",
        "latest.csv",
    ]);
    out.assert_ok();
    let link = std::fs::symlink_metadata(work.join("latest.csv")).unwrap();
    assert!(link.file_type().is_symlink());
    let written = std::fs::read_to_string(work.join("exports/latest.csv")).unwrap();
    assert_eq!(written, "a\n1\n");
    // A directory is refused, not replaced.
    let out = sb.run(["run", "SELECT 1", "-o", "exports"]);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("directory"), "{out}");
    assert!(work.join("exports").is_dir());
    assert!(temporaries(&work).is_empty(), "{:?}", temporaries(&work));
}

/// Starts a long export to `big.json`, waits until its temporary exists, sends `signal` and
/// checks that nothing is left.
fn signal_leaves_no_temporary(signal: libc::c_int) {
    let sb = Sandbox::new();
    let sql = "SELECT value, value * 2 AS d FROM generate_series(1, 300000000)";
    let child = sb
        .command(["run", sql, "--format", "json", "-o", "big.json"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while temporaries(&sb.work()).is_empty() {
        assert!(Instant::now() < deadline, "no temporary file appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own, not yet reaped child.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let out = wait_child(child, Duration::from_secs(30));
    out.assert_code(130).assert_no_panic();
    let left: Vec<_> = std::fs::read_dir(sb.work()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}\n{out}");
}

#[test]
fn sigterm_mid_export_leaves_no_temporary() {
    signal_leaves_no_temporary(libc::SIGTERM);
}

#[test]
fn sighup_mid_export_leaves_no_temporary() {
    signal_leaves_no_temporary(libc::SIGHUP);
}

#[test]
fn a_killed_runs_temporary_is_removed_by_the_next_export_there() {
    let sb = Sandbox::new();
    // What SIGKILL leaves: an unlocked temporary of Quarry's naming.
    let stale = sb.write(".big.json.quarry-Ab12Cd.tmp", "half an export");
    let foreign = sb.write(".notes.swp.tmp", "someone else's");
    let out = sb.run(["run", "SELECT 1 AS a", "--format", "csv", "-o", "small.csv"]);
    out.assert_ok();
    assert!(!stale.exists(), "the stale temporary is still there");
    assert!(
        foreign.exists(),
        "a file not of Quarry's naming was removed"
    );
}

/// Issue 16, point 5: RFC 4180 files whose quoted values hold line breaks, larger than the
/// engine's split size (~1 MB), with `\r\n` and with `\n` line ends.
#[test]
fn a_csv_with_quoted_newlines_is_read_whole() {
    for eol in ["\r\n", "\n"] {
        let sb = Sandbox::new();
        let mut csv = format!("id,note,amount{eol}");
        for i in 0..3_000 {
            let note = format!(
                "line one of {i}{eol}line two, with a comma{eol}\"quoted\" {}",
                "x".repeat(300)
            );
            csv.push_str(&format!("{i},\"{}\",{i}.5{eol}", note.replace('"', "\"\"")));
        }
        assert!(csv.len() > 1_000_000);
        let file = sb.write("data/notes.csv", &csv);
        let dir = file.parent().unwrap().to_string_lossy().into_owned();
        let config = sb.config(
            "q.toml",
            &format!("[[connection]]\nname = \"files\"\nkind = \"local\"\npaths = [\"{dir}\"]\n"),
        );
        let config = config.to_string_lossy().into_owned();
        let sql = "SELECT count(*) AS n, sum(id) AS ids, \
                   max(length(note) - length(replace(note, chr(10), ''))) AS breaks FROM notes";
        let out = sb.run([
            "--config",
            config.as_str(),
            "run",
            "-c",
            "files",
            "--format",
            "csv",
            sql,
        ]);
        out.assert_ok().assert_no_panic();
        assert_eq!(out.lines(), ["n,ids,breaks", "3000,4498500,2"], "{out}");
    }
}
