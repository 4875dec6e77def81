//! Issue 16.8 on the embedded engine: a cancel stops the engine's work, not only the wait for
//! it. Measured from the process's own CPU time (/proc/PID/stat), as a user watching `top`
//! would see it.

use std::time::{Duration, Instant};

use crate::common::{Sandbox, wait_child};

/// A CPU-bound statement: 900 M row pairs through a filter that rarely matches.
const CROSS_JOIN: &str = "SELECT count(*) FROM trips a CROSS JOIN trips b \
     WHERE a.payment_type || b.payment_type LIKE '%nomatch%'";

/// User + system CPU time of process `pid` so far; `None` once it has exited.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses: state first.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X")) {
        return None;
    }
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
    Some(Duration::from_millis(ticks * 1000 / hz))
}

/// Waits until `pid` has used `busy` of CPU (the query is well under way).
fn wait_until_busy(pid: u32, busy: Duration) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while cpu_time(pid).unwrap_or_default() < busy {
        assert!(Instant::now() < deadline, "the query never got busy");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigint_stops_a_cpu_bound_cross_join_within_a_second() {
    let sb = Sandbox::new();
    let child = sb.command(["run", CROSS_JOIN]).spawn().unwrap();
    let pid = child.id();
    wait_until_busy(pid, Duration::from_millis(1500));
    let before = cpu_time(pid).unwrap();
    let signalled = Instant::now();
    // SAFETY: kill(2) on our own, not yet reaped child.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) }, 0);
    // The last CPU reading before the process is gone.
    let mut last = before;
    while let Some(now) = cpu_time(pid) {
        last = now;
        if signalled.elapsed() > Duration::from_secs(30) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = wait_child(child, Duration::from_secs(30));
    out.assert_code(130).assert_no_panic();
    let after = last.saturating_sub(before);
    assert!(
        after < Duration::from_secs(1),
        "{after:?} of CPU after SIGINT, exit after {:?}\n{out}",
        signalled.elapsed()
    );
    assert!(out.stderr.contains("cancelled"), "{out}");
}
