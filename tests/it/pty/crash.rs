//! Issue 15 in the real TUI: hostile statements, signals, a data directory that cannot be
//! written and panics inside the app either keep a usable UI or end with the terminal restored
//! — never half of each.

use super::{CTRL_J, CTRL_N, CTRL_Q, Tui, wait_for_editor};
use crate::crash::{long_sum, make_read_only};

/// Bracketed paste, as a terminal delivers a pasted text.
fn paste(tui: &mut Tui, text: &str) {
    tui.send(b"\x1b[200~");
    tui.send(text.as_bytes());
    tui.send(b"\x1b[201~");
}

#[test]
fn a_three_thousand_term_expression_is_refused_and_the_tui_goes_on() {
    let mut tui = Tui::start();
    wait_for_editor(&mut tui);
    paste(&mut tui, &long_sum(3_000));
    tui.send(&[CTRL_J]);
    tui.wait_for_text("2999 operators");
    // Still answering: a new tab runs a small query.
    tui.send(&[CTRL_N]);
    tui.send(b"SELECT 6 * 7 AS answer");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("42");
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

/// Sends `signal` to the TUI and checks it ended with 128 + signal, the terminal restored.
fn signal_restores(signal: libc::c_int) {
    let mut tui = Tui::start();
    wait_for_editor(&mut tui);
    tui.send(b"SELECT 1");
    tui.wait_for_text("SELECT 1");
    let pid = tui.child.process_id().expect("the child has a pid");
    let pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let status = tui.wait_exit();
    tui.assert_restored();
    assert_eq!(status.exit_code(), 128 + signal as u32, "{status:?}");
}

#[test]
fn sigint_restores_the_terminal() {
    signal_restores(libc::SIGINT);
}

#[test]
fn sigquit_restores_the_terminal() {
    signal_restores(libc::SIGQUIT);
}

#[test]
fn a_read_only_data_dir_warns_and_runs() {
    let mut read_only = None;
    let mut tui = Tui::start_with(|sb| {
        read_only = Some(make_read_only(&sb.data_dir()));
        (Vec::new(), Vec::new())
    });
    // Bound after `tui`, so the mount goes before the sandbox is removed, even on a panic.
    let read_only = read_only;
    wait_for_editor(&mut tui);
    tui.wait_for_text("not saved");
    tui.send(b"SELECT 40 + 2 AS answer");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("42");
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
    drop(read_only);
}

#[test]
fn a_panic_in_a_job_fails_the_job_and_the_ui_goes_on() {
    let mut tui = Tui::start_with(|_| {
        (
            Vec::new(),
            vec![("QUARRY_TEST_PANIC".to_string(), "job".to_string())],
        )
    });
    wait_for_editor(&mut tui);
    tui.send(b"SELECT 1");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("internal error");
    assert!(tui.screen().alternate_screen(), "the TUI left its screen");
    // Still answering keys.
    tui.send(b" AS still_here");
    tui.wait_for_text("still_here");
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

#[test]
fn a_panic_on_a_background_thread_ends_cleanly() {
    let mut tui = Tui::start_with(|_| {
        (
            Vec::new(),
            vec![("QUARRY_TEST_PANIC".to_string(), "drafts".to_string())],
        )
    });
    wait_for_editor(&mut tui);
    // Typing makes the drafts saver (a plain thread) save, and panic.
    tui.send(b"SELECT 1");
    let status = tui.wait_exit();
    tui.assert_restored();
    assert_eq!(status.exit_code(), 101, "{status:?}");
    assert!(
        tui.contents().contains("injected panic"),
        "the message is printed after the restore:\n{}",
        tui.contents()
    );
}
