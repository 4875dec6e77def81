//! Issue 15, point 7: values holding terminal escapes (an OSC title, OSC 52 clipboard writes,
//! clear-screen, C1 controls, U+2028, bidi overrides) reach a terminal inert through every
//! `quarry run --format`, the listings and the error messages, and reach a pipe or a file
//! byte for byte.

use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use crate::common::{BIN, Sandbox};

/// One row of hostile values (and a hostile column name), from the embedded engine.
const HOSTILE_SQL: &str = "SELECT chr(27) || ']0;pwned' || chr(7) AS title, \
    chr(27) || ']52;c;cHduZWQ=' || chr(7) AS clip, \
    chr(27) || '[2J' || chr(27) || '[H' AS clear, \
    chr(155) || '31m' || chr(133) || chr(156) AS c1, \
    'a' || chr(8232) || 'b' || chr(8233) AS seps, \
    chr(8238) || 'evil' || chr(8294) || 'x' || chr(8297) || chr(8207) AS bidi, \
    'cr' || chr(13) || 'over' AS cr, \
    'ok' AS \"h\x1b[31mred\"";

/// The values [`HOSTILE_SQL`] selects, by column.
const HOSTILE_VALUES: [(&str, &str); 7] = [
    ("title", "\x1b]0;pwned\x07"),
    ("clip", "\x1b]52;c;cHduZWQ=\x07"),
    ("clear", "\x1b[2J\x1b[H"),
    ("c1", "\u{9b}31m\u{85}\u{9c}"),
    ("seps", "a\u{2028}b\u{2029}"),
    ("bidi", "\u{202e}evil\u{2066}x\u{2069}\u{200f}"),
    ("cr", "cr\rover"),
];

const TEXT_FORMATS: [&str; 6] = ["table", "csv", "tsv", "json", "jsonl", "markdown"];

/// Runs the binary in a pseudo-terminal (stdout and stderr both on it) and returns its exit
/// code and every byte it wrote there.
fn run_in_pty(sandbox: &Sandbox, args: &[&str]) -> (u32, Vec<u8>) {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 50,
            cols: 250,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut cmd = CommandBuilder::new(BIN);
    cmd.args(args);
    cmd.env_clear();
    for (key, value) in sandbox.env_vars() {
        cmd.env(key, value);
    }
    cmd.env("TERM", "xterm-256color");
    cmd.cwd(sandbox.work());
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .expect("spawn quarry in a pty");
    // Only the child holds the slave now: its exit ends our reads.
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 8192];
        // EIO is how Linux reports that the slave side closed.
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            bytes.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(bytes);
    });
    let Ok(bytes) = rx.recv_timeout(Duration::from_secs(120)) else {
        let _ = child.kill();
        panic!("quarry {args:?} did not finish in the pty");
    };
    let status = child.wait().expect("wait for quarry");
    drop(pair.master);
    (status.exit_code(), bytes)
}

/// Characters that drive or garble a terminal (C0 but tab and newline, DEL, C1, the line and
/// paragraph separators, bidi controls).
fn drives_a_terminal(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t' && c != '\r')
        || matches!(c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{61c}'
            | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Panics unless `bytes` (what reached the pty) is UTF-8 without anything that drives a
/// terminal; '\r' only as the pty's own newline translation. Returns it without the '\r's.
#[track_caller]
fn assert_inert(what: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8(bytes.to_vec())
        .unwrap_or_else(|e| panic!("{what}: not UTF-8 on the terminal: {e}"));
    if let Some(c) = text.chars().find(|&c| drives_a_terminal(c)) {
        panic!(
            "{what}: {c:?} reached the terminal:\n{}",
            text.escape_debug()
        );
    }
    assert!(
        !text.replace("\r\n", "\n").contains('\r'),
        "{what}: a bare '\\r' reached the terminal:\n{}",
        text.escape_debug()
    );
    text.replace("\r\n", "\n")
}

/// The JSON values of `json` or `jsonl` output, one per row.
fn json_rows(format: &str, text: &str) -> Vec<serde_json::Value> {
    let parse = |s: &str| -> serde_json::Value {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("{format}: {e}\n{s}"))
    };
    match format {
        "json" => match parse(text) {
            serde_json::Value::Array(rows) => rows,
            other => panic!("json: not an array: {other}"),
        },
        _ => text.lines().filter(|l| !l.is_empty()).map(parse).collect(),
    }
}

/// To a pipe and to a file (`-o`), the same bytes; the faithful formats hold the values raw.
fn assert_exact_to_pipe_and_file(sb: &Sandbox, format: &str) -> String {
    let piped = sb.run(["run", "--format", format, HOSTILE_SQL]);
    piped.assert_ok().assert_no_panic();
    let file = sb.work().join(format!("out-{format}.txt"));
    let path = file.to_str().expect("UTF-8 path");
    sb.run(["run", "--format", format, "-o", path, HOSTILE_SQL])
        .assert_ok();
    let written = std::fs::read(&file).expect("read the -o file");
    assert_eq!(
        written,
        piped.stdout.as_bytes(),
        "{format}: file and pipe differ"
    );
    match format {
        "json" | "jsonl" => {
            let rows = json_rows(format, &piped.stdout);
            for (column, value) in HOSTILE_VALUES {
                assert_eq!(rows[0][column], value, "{format}: {column}");
            }
        }
        "csv" | "tsv" => {
            for (column, value) in HOSTILE_VALUES {
                let value = match format {
                    "tsv" => value.replace('\r', "\\r"),
                    _ => value.to_string(),
                };
                assert!(piped.stdout.contains(&value), "{format}: {column}\n{piped}");
            }
        }
        _ => {}
    }
    piped.stdout
}

#[test]
fn hostile_cells_reach_a_terminal_inert_in_every_text_format_and_a_pipe_exact() {
    let sb = Sandbox::new();
    for format in TEXT_FORMATS {
        let (code, bytes) = run_in_pty(&sb, &["run", "--format", format, HOSTILE_SQL]);
        let text = assert_inert(format, &bytes);
        assert_eq!(code, 0, "{format}: exit code\n{text}");
        assert!(
            text.contains("pwned") && text.contains("evil"),
            "{format}:\n{text}"
        );
        let piped = assert_exact_to_pipe_and_file(&sb, format);
        match format {
            // Escaped, JSON keeps its values.
            "json" | "jsonl" => assert_eq!(
                json_rows(format, &text),
                json_rows(format, &piped),
                "{format}: the terminal's JSON differs"
            ),
            // Made visible, not dropped.
            _ => assert!(text.contains('␛'), "{format}: ESC not shown\n{text}"),
        }
    }
}

#[test]
fn binary_formats_are_refused_on_a_terminal() {
    let sb = Sandbox::new();
    for (format, magic) in [("parquet", "PAR1"), ("arrow", "ARROW1")] {
        let (code, bytes) = run_in_pty(&sb, &["run", "--format", format, HOSTILE_SQL]);
        let text = assert_inert(format, &bytes);
        assert_eq!(code, 2, "{format}: exit code\n{text}");
        assert!(
            text.contains("binary") && !text.contains(magic),
            "{format}:\n{text}"
        );
    }
}

#[test]
fn listings_and_errors_reach_a_terminal_inert() {
    let sb = Sandbox::new();
    let hostile = "\x1b]0;pwned\x07\x1b[2J\u{9b}\u{202e}";
    // No control characters or `[` in a file name: the local engine's object store refuses the
    // first and reads the second as a glob, failing the whole connection.
    let hostile_file = "pwned\u{202e}\u{2028}\u{2066}x";
    sb.write(&format!("data/{hostile_file}.csv"), "a,b\n1,2\n");
    sb.write("data/plain.csv", "a,b\n1,2\n");
    let data = sb.work().join("data");
    let name = "files\u{202e}\u{2066}evil";
    let config = sb.config(
        "quarry.toml",
        &format!(
            "[[connection]]\nname = \"{name}\"\nkind = \"local\"\npaths = [{:?}]\n",
            data.to_str().expect("UTF-8 path")
        ),
    );
    std::fs::create_dir_all(sb.data_dir().join("snippets")).expect("snippets dir");
    std::fs::write(
        sb.data_dir().join(format!("snippets/{hostile}.sql")),
        format!("-- {hostile}\nSELECT 1 AS \"{hostile}\""),
    )
    .expect("write a snippet");
    let config = config.to_str().expect("UTF-8 path");
    let bad_table = format!("SELECT * FROM \"{hostile}nowhere\"");
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("connections", vec!["--config", config, "connections"]),
        ("ls", vec!["--config", config, "-c", name, "ls"]),
        ("error", vec!["run", &bad_table]),
        ("history", vec!["history"]),
        ("snippets", vec!["snippets", "list"]),
        (
            "snippets jsonl",
            vec!["snippets", "list", "--format", "jsonl"],
        ),
    ];
    for (what, args) in runs {
        let (code, bytes) = run_in_pty(&sb, &args);
        let text = assert_inert(what, &bytes);
        assert!(!text.contains("panicked"), "{what}:\n{text}");
        match what {
            "error" => assert_eq!(code, 1, "{what}:\n{text}"),
            _ => assert_eq!(code, 0, "{what}:\n{text}"),
        }
        match what {
            "connections" => assert!(text.contains("evil"), "{what}:\n{text}"),
            "ls" | "error" | "history" | "snippets" => {
                assert!(text.contains("pwned"), "{what}:\n{text}")
            }
            _ => {}
        }
    }
}
