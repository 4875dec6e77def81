//! Issue 16, point 3, through the binary: the writer's own error (a full disk, a read-only
//! file system, a missing directory) is what `quarry run` reports, naming the file; a closed
//! pipe (`| head -2`) ends the run quietly with status 141.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{Sandbox, wait_child};

/// A small tmpfs mounted for one test (root only), unmounted when dropped.
pub struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` (e.g. "64k") at `path`, with extra mount `options` ("ro").
    pub fn mount(path: &Path, size: &str, options: &str) -> SmallDisk {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        assert!(
            root,
            "this test mounts a small tmpfs to fill it: run the suite as root"
        );
        std::fs::create_dir_all(path).unwrap();
        let mut opts = format!("size={size}");
        if !options.is_empty() {
            opts = format!("{opts},{options}");
        }
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &opts, "tmpfs"])
            .arg(path)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount a tmpfs at {}", path.display());
        SmallDisk {
            path: path.to_path_buf(),
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_full_read_only_or_missing_destination_is_reported_with_its_reason() {
    let sb = Sandbox::new();
    let full = sb.work().join("full");
    let _full = SmallDisk::mount(&full, "64k", "");
    let read_only = sb.work().join("ro");
    let _read_only = SmallDisk::mount(&read_only, "64k", "ro");
    // A destination that cannot be created is refused before anything runs (exit 2); a disk
    // that fills up fails the run (exit 1).
    for (target, reason, code) in [
        ("full/trips.csv", "No space left on device", 1),
        ("ro/trips.csv", "Read-only file system", 2),
        ("missing/trips.csv", "No such file or directory", 2),
    ] {
        let out = sb.run([
            "run",
            "SELECT * FROM trips",
            "--format",
            "csv",
            "-o",
            target,
        ]);
        out.assert_code(code).assert_no_panic();
        assert!(out.stderr.contains(reason), "{target}: {out}");
        assert!(out.stderr.contains(target), "names the file: {out}");
        assert!(!out.stderr.contains("went away"), "{out}");
    }
    // The failed export left nothing behind on the full disk.
    assert!(entries(&full).is_empty(), "{:?}", entries(&full));
}

#[test]
fn a_closed_pipe_ends_the_run_quietly_with_status_141() {
    let sb = Sandbox::new();
    let sql = "SELECT value FROM generate_series(1, 100000000)";
    let mut child = sb.command(["run", sql, "--format", "csv"]).spawn().unwrap();
    let started = Instant::now();
    {
        // `| head -2`: two lines read, then the reader goes.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "value");
        assert_eq!(lines.next().unwrap().unwrap(), "1");
    }
    let out = wait_child(child, Duration::from_secs(30));
    out.assert_code(141).assert_no_panic();
    assert_eq!(out.stderr, "", "nothing on stderr");
    // The query stopped with the pipe instead of producing 100 M rows into nowhere.
    assert!(started.elapsed() < Duration::from_secs(20));
}
