//! Completion in the real binary (issue 18), on the embedded engine's sample data: the list
//! opens by itself while a table name is typed, Tab accepts it, an alias's columns come (loaded
//! lazily on the worker), Esc closes the list and leaves the text alone.

use super::{CTRL_Q, Tui, wait_for_editor};

const TAB: &[u8] = b"\t";
const ESC: &[u8] = b"\x1b";

#[test]
fn completion_of_a_table_and_an_aliased_column_in_the_editor() {
    let mut tui = Tui::start();
    wait_for_editor(&mut tui);
    tui.send(b"SELECT * FROM tr");
    tui.wait_for_text("Tab accepts");
    tui.send(TAB);
    tui.wait_for_text("SELECT * FROM trips");
    tui.send(b" t WHERE t.fa");
    tui.wait_for_text("fare_amount");
    tui.send(ESC);
    tui.wait_for("the list to close", |s| {
        !s.contents().contains("Tab accepts")
    });
    assert!(
        tui.contents().contains("SELECT * FROM trips t WHERE t.fa"),
        "{}",
        tui.contents()
    );
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}
