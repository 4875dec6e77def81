//! Big values stay interactive, end to end: a cell holding JSON-like text nested 20 000 deep
//! opens in the inspector and scrolls at once, and the editor answers keys on a 1 MB
//! single-line statement. The times are wall-clock, from the key written to the pty to the
//! screen showing its effect, on the debug build the suite runs.

use std::time::{Duration, Instant};

use super::{CTRL_J, CTRL_Q, Tui, wait_for_editor};

/// What the issue asks of the inspector on the deep cell.
const OPEN_WITHIN: Duration = Duration::from_millis(200);
const KEY_WITHIN: Duration = Duration::from_millis(50);

/// Sends `bytes` and waits for `ready`; returns how long it took.
#[track_caller]
fn timed(
    tui: &mut Tui,
    bytes: &[u8],
    what: &str,
    ready: impl Fn(&vt100::Screen) -> bool,
) -> Duration {
    let start = Instant::now();
    tui.send(bytes);
    tui.wait_for(what, ready);
    start.elapsed()
}

/// The middle of a sorted list of durations.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[test]
fn a_cell_nested_20000_deep_opens_and_scrolls_at_once() {
    let mut tui = Tui::start();
    wait_for_editor(&mut tui);
    tui.send(b"SELECT repeat('[', 20000) || repeat(']', 20000) AS deep");
    tui.wait_for_text("AS deep");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("[[[[[[[[[[");
    tui.send(b"\x1b3"); // Alt-3: the results
    tui.wait_for_text("RESULTS");
    // 24 indented levels open and close around one compact line: 49 lines.
    let open = timed(&mut tui, b"\r", "the laid-out cell", |s| {
        s.contents().contains("line 1/49")
    });
    assert!(open < OPEN_WITHIN, "the inspector took {open:?} to open");
    let mut keys = Vec::new();
    for line in 2..=11 {
        let shown = format!("line {line}/49");
        keys.push(timed(&mut tui, b"j", &shown.clone(), move |s| {
            s.contents().contains(&shown)
        }));
    }
    // To the end of the longest line (20 000 levels, less the indented ones, twice over, plus
    // their indentation): the closing brackets show.
    keys.push(timed(&mut tui, b"$", "the end of the line", |s| {
        s.contents().contains("/40000 ") && s.contents().contains("]]]]]]]]]]")
    }));
    eprintln!("inspector on the deep cell: opened in {open:?}, keys {keys:?}");
    let typical = median(keys.clone());
    assert!(
        typical < KEY_WITHIN,
        "keys took {typical:?} (median) in the inspector: {keys:?}"
    );
    tui.send(b"\x1b");
    tui.wait_for("the inspector to close", |s| !s.contents().contains("/49 "));
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

/// A bound for the median keystroke on a 1 MB line in the debug build. Measured: about 16 ms
/// (8 ms in a release build), most of it ratatui-textarea refreshing its screen map over the
/// whole text on every edit; the highlighting and drawing are bounded by the visible columns.
/// Before, 0.5 s.
const EDIT_KEY_WITHIN: Duration = Duration::from_millis(50);

#[test]
fn the_editor_answers_keys_on_a_1_mb_single_line_statement() {
    let mut tui = Tui::start();
    wait_for_editor(&mut tui);
    let mut sql = String::from("SELECT 1 AS c");
    while sql.len() < 1_000_000 {
        sql.push_str(" + 1");
    }
    sql.push_str(" -- end:");
    // Bracketed paste, as a terminal sends it.
    let mut paste = b"\x1b[200~".to_vec();
    paste.extend_from_slice(sql.as_bytes());
    paste.extend_from_slice(b"\x1b[201~");
    tui.send(&paste);
    tui.wait_for_text("-- end:");
    let mut keys = Vec::new();
    let mut typed = String::from("-- end:");
    for c in "abcdefghijklmnop".chars() {
        typed.push(c);
        let shown = typed.clone();
        keys.push(timed(
            &mut tui,
            c.to_string().as_bytes(),
            &typed,
            move |s| s.contents().contains(&shown),
        ));
    }
    for _ in 0..4 {
        let before = typed.clone();
        typed.pop();
        keys.push(timed(&mut tui, b"\x7f", "a backspace", move |s| {
            !s.contents().contains(&before)
        }));
    }
    eprintln!("editor on a 1 MB line: keys {keys:?}");
    let typical = median(keys.clone());
    assert!(
        typical < EDIT_KEY_WITHIN,
        "keys took {typical:?} (median) on the 1 MB line: {keys:?}"
    );
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}
