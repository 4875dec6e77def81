//! Completion in the real binary (issue 18), on the embedded engine's sample data: the list
//! opens by itself while a table name is typed, Tab accepts it, an alias's columns come (loaded
//! lazily on the worker), Esc closes the list and leaves the text alone.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::{CTRL_Q, Tui, athena_setup, wait_for_editor};

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

/// A peer that accepts connections and answers nothing for 3 s (then hangs up): the catalog
/// listing completion asks for is stuck that long, and typing must not wait for it.
fn slow_peer() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(3));
                drop(stream);
            });
        }
    });
    url
}

#[test]
fn completion_never_freezes_typing_while_a_slow_catalog_loads() {
    let url = slow_peer();
    let mut tui = Tui::start_with(|sandbox| athena_setup(sandbox, &url));
    wait_for_editor(&mut tui);
    // The pause after `tr` asks the stuck peer for the catalog.
    tui.send(b"SELECT * FROM tr");
    tui.wait_for_text("SELECT * FROM tr");
    std::thread::sleep(Duration::from_millis(400));
    let mut typed = String::from("SELECT * FROM tr");
    for c in "ipsandmore".chars() {
        typed.push(c);
        let sent = Instant::now();
        tui.send(c.to_string().as_bytes());
        tui.wait_for_text(&typed);
        assert!(
            sent.elapsed() < Duration::from_millis(500),
            "{c:?} echoed after {:?} while the catalog loads",
            sent.elapsed()
        );
    }
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

/// On DynamoDB Local: the attributes a result of a table showed complete in the next statement
/// on that table (no metadata call lists them), next to its key schema.
#[test]
fn completion_offers_dynamodb_attributes_seen_in_a_result() {
    let db = crate::dynamo_local::DynamoLocal::start();
    db.create_table("rocks", ("pk", "S"), Some(("sk", "N")));
    db.put_items(
        "rocks",
        &[serde_json::json!({
            "pk": {"S": "granite"}, "sk": {"N": "1"}, "hardness": {"N": "6"}
        })],
    );
    let toml = format!(
        "[[connection]]\nname = \"ddb\"\nkind = \"dynamodb\"\nregion = \"us-east-1\"\n\
         endpoint_url = \"{}\"\n",
        db.url()
    );
    let mut tui = Tui::start_with(|sb| super::aws_setup(sb, &toml, "ddb"));
    wait_for_editor(&mut tui);
    tui.send(b"SELECT * FROM rocks");
    tui.send(&[super::CTRL_J]);
    tui.wait_for_text("granite");
    tui.send(b"\r");
    tui.wait_for("the list of the first statement to close", |s| {
        !s.contents().contains("Tab accepts")
    });
    tui.send(b"SELECT * FROM rocks WHERE har");
    // The grid's header says `hardness` already: wait for the list itself.
    tui.wait_for_text("Tab accepts");
    tui.send(TAB);
    tui.wait_for_text("WHERE hardness");
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}
