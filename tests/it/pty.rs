//! End to end: the real binary in a 120×40 pseudo-terminal, driven by keystrokes, its screen read
//! back with `vt100`. Checks that a query runs from the editor and that the terminal is restored
//! (main screen, visible cursor, canonical mode with echo) on quit and on SIGTERM.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use crate::common::{BIN, Sandbox};

const ROWS: u16 = 40;
const COLS: u16 = 120;
/// Longest wait for any one thing to appear (startup of a debug build included).
const DEADLINE: Duration = Duration::from_secs(20);

const CTRL_J: u8 = 0x0a;
const CTRL_Q: u8 = 0x11;
const CTRL_E: u8 = 0x05;
const CTRL_U: u8 = 0x15;
const CTRL_S: u8 = 0x13;
const CTRL_P: u8 = 0x10;
const CTRL_C: u8 = 0x03;
const CTRL_N: u8 = 0x0e;

/// What the master side delivered: bytes, or the end of output.
enum Chunk {
    Bytes(Vec<u8>),
    Eof,
}

/// The binary running in a pty, with its screen mirrored in a vt100 parser.
struct Tui {
    sandbox: Sandbox,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    output: Receiver<Chunk>,
    parser: vt100::Parser,
    eof: bool,
    /// The last bytes seen, so a terminal query split across two reads is still answered.
    tail: Vec<u8>,
}

impl Tui {
    fn start() -> Tui {
        Tui::start_with(|_| (Vec::new(), Vec::new()))
    }

    /// Starts the binary in a fresh sandbox; `setup` may write files into it and returns the
    /// command-line arguments and extra environment variables.
    #[allow(clippy::type_complexity)]
    fn start_with(setup: impl FnOnce(&Sandbox) -> (Vec<String>, Vec<(String, String)>)) -> Tui {
        let sandbox = Sandbox::new();
        let (args, env) = setup(&sandbox);
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(BIN);
        cmd.args(&args);
        cmd.env_clear();
        for (key, value) in sandbox.env_vars().into_iter().chain(env) {
            cmd.env(key, value);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.cwd(sandbox.work());
        let child = pair
            .slave
            .spawn_command(cmd)
            .expect("spawn quarry in the pty");
        // Only the child holds the slave now: its exit closes the pty and ends our reads.
        drop(pair.slave);
        let reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let output = spawn_reader(reader);
        let rows = NonZeroU16::new(ROWS).expect("rows > 0");
        let cols = NonZeroU16::new(COLS).expect("cols > 0");
        Tui {
            sandbox,
            master: pair.master,
            writer,
            child,
            output,
            parser: vt100::Parser::new(rows, cols, 0),
            eof: false,
            tail: Vec::new(),
        }
    }

    fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    fn contents(&self) -> String {
        self.screen().contents()
    }

    /// Feeds whatever output arrives within `wait` into the parser; false once at EOF.
    fn pump(&mut self, wait: Duration) -> bool {
        if self.eof {
            return false;
        }
        match self.output.recv_timeout(wait) {
            Ok(Chunk::Bytes(bytes)) => {
                self.parser.process(&bytes);
                self.answer_queries(&bytes);
                // Take everything else already queued without waiting.
                while let Ok(chunk) = self.output.try_recv() {
                    match chunk {
                        Chunk::Bytes(bytes) => {
                            self.parser.process(&bytes);
                            self.answer_queries(&bytes);
                        }
                        Chunk::Eof => self.eof = true,
                    }
                }
                true
            }
            Ok(Chunk::Eof) | Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                false
            }
            Err(RecvTimeoutError::Timeout) => true,
        }
    }

    /// Answers the queries a real terminal would (cursor position, primary device
    /// attributes), so the app never sits out a timeout waiting for a reply.
    fn answer_queries(&mut self, bytes: &[u8]) {
        const CPR: &[u8] = b"\x1b[6n";
        const DA1: &[&[u8]] = &[b"\x1b[c", b"\x1b[0c"];
        let mut text = std::mem::take(&mut self.tail);
        text.extend_from_slice(bytes);
        let mut replies = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            if rest.starts_with(CPR) {
                let (row, col) = self.screen().cursor_position();
                replies.extend_from_slice(format!("\x1b[{};{}R", row + 1, col + 1).as_bytes());
                i += CPR.len();
            } else if let Some(q) = DA1.iter().find(|q| rest.starts_with(q)) {
                replies.extend_from_slice(b"\x1b[?62;22c");
                i += q.len();
            } else if rest.len() < CPR.len()
                && (CPR.starts_with(rest) || DA1.iter().any(|q| q.starts_with(rest)))
            {
                // A query cut in two by the read: keep its start for the next chunk.
                self.tail = rest.to_vec();
                break;
            } else {
                i += 1;
            }
        }
        if !replies.is_empty() {
            self.send(&replies);
        }
    }

    /// Waits until `ready(screen)` holds; fails with the screen contents after [`DEADLINE`].
    #[track_caller]
    fn wait_for(&mut self, what: &str, ready: impl Fn(&vt100::Screen) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while !ready(self.screen()) {
            if Instant::now() > deadline {
                panic!(
                    "timed out after {DEADLINE:?} waiting for {what}; the screen shows:\n{}",
                    self.contents()
                );
            }
            if !self.pump(Duration::from_millis(50)) {
                if ready(self.screen()) {
                    break;
                }
                let status = self.child.try_wait().ok().flatten();
                panic!(
                    "quarry exited (status {status:?}) while waiting for {what}; the screen shows:\n{}",
                    self.contents()
                );
            }
        }
    }

    #[track_caller]
    fn wait_for_text(&mut self, text: &str) {
        let needle = text.to_string();
        self.wait_for(&format!("{text:?} on screen"), move |s| {
            s.contents().contains(&needle)
        });
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// Waits for the child to exit and for its last output to be parsed.
    #[track_caller]
    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "quarry did not exit within {DEADLINE:?}; the screen shows:\n{}",
                    self.contents()
                );
            }
            self.pump(Duration::from_millis(50));
        };
        // Drain what it wrote before exiting (the restore sequences above all).
        let drain_deadline = Instant::now() + Duration::from_secs(5);
        while self.pump(Duration::from_millis(50)) && Instant::now() < drain_deadline {}
        status
    }

    /// Waits for the exit, which must be a success with the terminal restored.
    #[track_caller]
    fn assert_exits_cleanly(&mut self) {
        let status = self.wait_exit();
        assert!(
            status.success(),
            "exit status {status:?}\n{}",
            self.contents()
        );
        self.assert_restored();
    }

    /// Asserts the terminal is as the shell left it: main screen, cursor shown, cooked mode.
    #[track_caller]
    fn assert_restored(&self) {
        let screen = self.screen();
        assert!(
            !screen.alternate_screen(),
            "still on the alternate screen:\n{}",
            self.contents()
        );
        assert!(!screen.hide_cursor(), "the cursor is still hidden");
        let lflag = self.local_flags();
        assert!(
            lflag & libc::ICANON != 0,
            "ICANON is still off (raw mode left on)"
        );
        assert!(
            lflag & libc::ECHO != 0,
            "ECHO is still off (raw mode left on)"
        );
    }
}

impl Tui {
    /// The pty's termios local flags (on Linux the master reports the slave's settings).
    #[track_caller]
    fn local_flags(&self) -> libc::tcflag_t {
        let fd = self
            .master
            .as_raw_fd()
            .expect("the pty master has a file descriptor");
        // SAFETY: `termios` is plain data, fully written by a successful tcgetattr on a live fd.
        let mut termios: libc::termios = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::tcgetattr(fd, &mut termios) };
        assert_eq!(
            rc,
            0,
            "tcgetattr failed: {}",
            std::io::Error::last_os_error()
        );
        termios.c_lflag
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads the master in a thread so the test itself never blocks on a read.
fn spawn_reader(mut reader: Box<dyn Read + Send>) -> Receiver<Chunk> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                // EIO is how Linux reports that the slave side closed.
                Ok(0) | Err(_) => {
                    let _ = tx.send(Chunk::Eof);
                    break;
                }
                Ok(n) => {
                    if tx.send(Chunk::Bytes(buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// The TUI is up: alternate screen and the editor pane drawn.
#[track_caller]
fn wait_for_editor(tui: &mut Tui) {
    tui.wait_for("the editor", |s| {
        s.alternate_screen() && s.contents().contains("Editor")
    });
}

#[test]
fn run_a_query_and_quit_restores_the_terminal() {
    let mut tui = Tui::start();
    wait_for_editor(&mut tui);
    // The restore check below only means something if raw mode is seen while the TUI runs.
    let raw = tui.local_flags() & (libc::ICANON | libc::ECHO);
    assert_eq!(raw, 0, "the TUI should run with ICANON and ECHO off");
    tui.send(b"SELECT zone_id, zone FROM zones ORDER BY zone_id LIMIT 3");
    tui.wait_for_text("ORDER BY zone_id LIMIT 3");
    tui.send(&[CTRL_J]);
    // Zones 1-3 of assets/sample/zones.csv.
    tui.wait_for_text("Newark Airport");
    tui.wait_for_text("Jamaica Bay");
    tui.wait_for_text("Allerton/Pelham Gardens");
    assert!(
        !tui.contents().contains("Alphabet City"),
        "zone 4 shown despite LIMIT 3:\n{}",
        tui.contents()
    );
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

#[test]
fn sigterm_exits_and_restores_the_terminal() {
    let mut tui = Tui::start();
    wait_for_editor(&mut tui);
    let pid = tui.child.process_id().expect("the child has a pid");
    let pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(rc, 0, "kill failed: {}", std::io::Error::last_os_error());
    let _status = tui.wait_exit();
    tui.assert_restored();
}

/// Arguments and environment for a TUI on `connection`, configured by `toml`, with test AWS
/// credentials and no ~/.aws.
fn aws_setup(
    sandbox: &Sandbox,
    toml: &str,
    connection: &str,
) -> (Vec<String>, Vec<(String, String)>) {
    let config = sandbox.config("aws.toml", toml);
    let args = vec![
        "--config".to_string(),
        config.to_string_lossy().into_owned(),
        "-c".into(),
        connection.into(),
    ];
    (args, sandbox.aws_env())
}

/// The Athena connection of the pty test, pointed at `endpoint` (moto).
fn athena_setup(sandbox: &Sandbox, endpoint: &str) -> (Vec<String>, Vec<(String, String)>) {
    let toml = format!(
        "[[connection]]\nname = \"athena\"\nkind = \"athena\"\nregion = \"us-east-1\"\n\
         endpoint_url = \"{endpoint}\"\nworkgroup = \"primary\"\n\
         output_location = \"s3://quarry-results/\"\n"
    );
    aws_setup(sandbox, &toml, "athena")
}

/// On moto: a query reaches SUCCEEDED with its rows; a second one, held QUEUED by moto's state
/// manager, is cancelled with Ctrl-C, shows CANCELLED, and moto received StopQueryExecution.
#[test]
fn athena_query_succeeds_and_ctrl_c_stops_the_next_on_the_server() {
    let moto = crate::moto::MotoServer::start();
    moto.manual_athena_transitions(1);
    moto.queue_results(
        &[
            vec![Some("id"), Some("name")],
            vec![Some("1"), Some("granite")],
            vec![Some("2"), Some("basalt")],
        ],
        &[("id", "integer"), ("name", "varchar")],
    );
    let endpoint = moto.url();
    let mut tui = Tui::start_with(|sb| athena_setup(sb, &endpoint));
    wait_for_editor(&mut tui);
    tui.send(b"SELECT id, name FROM rocks");
    tui.wait_for_text("FROM rocks");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("SUCCEEDED");
    tui.wait_for_text("granite");
    tui.wait_for_text("basalt");
    // Athena's header row is not data: two rows, not three.
    tui.wait_for_text("2 rows");

    // The next execution stays QUEUED for a million polls: long enough to cancel it.
    moto.manual_athena_transitions(1_000_000);
    tui.send(&[CTRL_N]);
    tui.send(b"SELECT 'slow' AS s");
    tui.wait_for_text("'slow' AS s");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("QUEUED");
    assert!(
        moto.wait_for("GetQueryExecution", 3, DEADLINE),
        "the client polls: {:?}",
        moto.athena_ops()
    );
    tui.send(&[CTRL_C]);
    tui.wait_for_text("CANCELLED");
    assert!(
        moto.wait_for("StopQueryExecution", 1, DEADLINE),
        "moto never received StopQueryExecution: {:?}",
        moto.athena_ops()
    );
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

/// On DynamoDB Local: expand the connection in the browser, Enter on a table inserts its SELECT,
/// Ctrl-J runs it, the item shows in the grid and its nested map opens as JSON in the inspector.
#[test]
fn dynamodb_browse_run_and_inspect_a_nested_map() {
    let db = crate::dynamo_local::DynamoLocal::start();
    db.create_table("rocks", ("pk", "S"), Some(("sk", "N")));
    db.put_items(
        "rocks",
        &[serde_json::json!({
            "pk": {"S": "granite"}, "sk": {"N": "1"},
            "m": {"M": {"inner": {"M": {"deep": {"BOOL": true}}}}}
        })],
    );
    let endpoint = db.url();
    let toml = format!(
        "[[connection]]\nname = \"ddb\"\nkind = \"dynamodb\"\nregion = \"us-east-1\"\n\
         endpoint_url = \"{endpoint}\"\n"
    );
    let mut tui = Tui::start_with(|sb| aws_setup(sb, &toml, "ddb"));
    wait_for_editor(&mut tui);
    tui.send(b"\x1b1"); // Alt-1: the browser
    tui.wait_for_text("BROWSER");
    tui.send(b"j");
    tui.send(b"\x1b[C"); // →: expand `ddb`
    tui.wait_for_text("rocks");
    tui.send(b"j");
    tui.send(b"\r"); // Enter: insert the table's SELECT
    tui.wait_for_text("SELECT * FROM \"rocks\"");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("granite");
    tui.wait_for_text("1 rows");
    tui.send(b"\x1b3"); // Alt-3: the results
    tui.wait_for_text("RESULTS");
    tui.send(b"$"); // last column: `m`
    tui.send(b"\r");
    tui.wait_for_text("\"deep\": true");
    tui.send(b"\x1b");
    // Esc on its own, or the next key would read as Alt+key.
    tui.wait_for("the inspector to close", |s| {
        !s.contents().contains("\"deep\": true")
    });
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

/// On the Redshift Data test server (real PostgreSQL behind it): a tab with a session runs two
/// statements one after the other, and the second reads the temp table the first created.
#[test]
fn redshift_data_session_tab_reads_its_own_temp_table() {
    use crate::fake_redshift_data::{CLUSTER, FakeRedshiftData};
    let pg = crate::postgres::shared();
    let server = FakeRedshiftData::start(pg);
    let db = pg.create_database();
    let toml = format!(
        "[[connection]]\nname = \"rd\"\nkind = \"redshift-data\"\nregion = \"us-east-1\"\n\
         endpoint_url = \"{}\"\ncluster_identifier = \"{CLUSTER}\"\ndatabase = \"{db}\"\n\
         session_keep_alive_seconds = 300\n",
        server.url()
    );
    let mut tui = Tui::start_with(|sb| aws_setup(sb, &toml, "rd"));
    wait_for_editor(&mut tui);
    tui.send(b"CREATE TEMP TABLE picks AS SELECT 42 AS answer;");
    tui.send(&[CTRL_J]);
    // The status bar counts the session down once the statement is done.
    tui.wait_for_text("left");
    tui.send(b"\rSELECT answer * 10 AS tenfold FROM picks;");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("420");
    let calls = server.calls("ExecuteStatement");
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0]["SessionKeepAliveSeconds"] == 300, "{}", calls[0]);
    assert!(calls[1]["SessionId"].is_string(), "{}", calls[1]);
    // Quitting asks about the held session (ticked): Enter ends it on the server.
    tui.send(&[CTRL_Q]);
    tui.wait_for_text("Redshift Data session");
    tui.send(b"\r");
    tui.assert_exits_cleanly();
    assert!(
        eventually(|| server.session_count() == 0),
        "the session was ended at quit"
    );
}

/// Whether `condition` holds within [`DEADLINE`] (for what a peer does after Quarry is gone).
fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

/// On the embedded engine: a result exported to CSV and then to Parquet with the export dialog,
/// from the keyboard only; both files read back whole.
#[test]
fn export_a_result_to_csv_and_parquet_from_the_keyboard() {
    let mut tui = Tui::start();
    wait_for_editor(&mut tui);
    tui.send(b"SELECT zone_id, zone FROM zones ORDER BY zone_id LIMIT 5");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("Alphabet City");
    tui.send(&[CTRL_E]);
    tui.wait_for_text("Tab completes the path");
    tui.send(&[CTRL_U]); // the path field has the focus: clear the suggested name
    tui.send(b"zones.csv");
    tui.wait_for_text("zones.csv");
    tui.send(b"\r");
    tui.wait_for_text("exported 5 rows");
    // Again, as Parquet: up to the format, two steps left (CSV → Arrow → Parquet); the
    // suggested name follows the format.
    tui.send(&[CTRL_E]);
    tui.wait_for_text("Tab completes the path");
    for _ in 0..3 {
        tui.send(b"\x1b[A");
    }
    tui.send(b"\x1b[D");
    tui.send(b"\x1b[D");
    tui.wait_for_text(".parquet");
    tui.send(b"\r");
    tui.wait_for_text(".parquet in");
    let work = tui.sandbox.work();
    let csv = std::fs::read_to_string(work.join("zones.csv")).expect("zones.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 6, "{csv}");
    assert_eq!(lines[0], "zone_id,zone");
    assert!(lines[1].contains("Newark Airport"), "{csv}");
    let parquet = std::fs::read_dir(&work)
        .expect("work dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .expect("a .parquet file");
    let file = std::fs::File::open(&parquet).expect("open the parquet file");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("a parquet file")
        .build()
        .expect("reader");
    let rows: usize = reader.map(|b| b.expect("a batch").num_rows()).sum();
    assert_eq!(rows, 5);
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

/// Issue 16.3 in the TUI: a full disk shows its reason, a second export of a large result to
/// the same file asks to replace it (not "cancelled"), and a directory is refused.
#[test]
fn export_errors_say_why_and_an_existing_file_is_offered_for_replacement() {
    let mut tui = Tui::start();
    let work = tui.sandbox.work();
    let _full = crate::output_errors::SmallDisk::mount(&work.join("full"), "64k", "");
    wait_for_editor(&mut tui);
    // Many batches: more than the writer's channel holds, so a writer that fails at once
    // (the file exists) used to leave the feeder to report "cancelled".
    tui.send(b"SELECT value, value * 2 AS twice FROM generate_series(1, 300000)");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("SUCCEEDED");
    let export_to = |tui: &mut Tui, path: &str| {
        tui.send(&[CTRL_E]);
        tui.wait_for_text("Tab completes the path");
        tui.send(&[CTRL_U]);
        tui.send(path.as_bytes());
        tui.wait_for_text(path);
        tui.send(b"\r");
    };
    export_to(&mut tui, "full/big.csv");
    tui.wait_for_text("No space left on device");
    tui.send(b"\x1b");
    tui.wait_for("the message closed", |s| {
        !s.contents().contains("Export failed")
    });
    export_to(&mut tui, "big.csv");
    tui.wait_for_text("exported 300000 rows");
    export_to(&mut tui, "big.csv");
    tui.wait_for_text("big.csv already exists.");
    tui.send(b"y");
    tui.wait_for_text("exported 300000 rows");
    export_to(&mut tui, "full");
    tui.wait_for_text("is a directory");
    assert!(work.join("full").is_dir());
    tui.send(b"\x1b");
    tui.wait_for("the message closed", |s| {
        !s.contents().contains("Export failed")
    });
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

/// Snippets outlive the process: one TUI saves the tab as a snippet (`Ctrl-S`), a fresh one finds
/// it through the picker (`Ctrl-P`), inserts it and runs it.
#[test]
fn a_saved_snippet_is_found_again_through_the_picker_in_a_fresh_process() {
    let data = tempfile::tempdir().expect("a data dir");
    let data_dir = data.path().to_string_lossy().into_owned();
    let env = move || vec![("QUARRY_DATA_DIR".to_string(), data_dir.clone())];
    let first_env = env();
    let mut tui = Tui::start_with(move |_| (Vec::new(), first_env));
    wait_for_editor(&mut tui);
    tui.send(b"SELECT 42 AS answer");
    tui.wait_for_text("SELECT 42 AS answer");
    tui.send(&[CTRL_S]);
    tui.wait_for_text("Save as snippet");
    tui.send(b"answers/meaning");
    tui.send(b"\r");
    tui.wait_for_text("saved snippet `answers/meaning`");
    tui.send(&[CTRL_Q]);
    assert!(tui.wait_exit().success());

    let second_env = env();
    let mut tui = Tui::start_with(move |_| (Vec::new(), second_env));
    wait_for_editor(&mut tui);
    // The first process's tab comes back as a draft: work in a new, empty tab.
    tui.send(&[CTRL_N]);
    tui.wait_for_text("[2:local]");
    tui.send(&[CTRL_P]);
    tui.wait_for_text("Snippets");
    tui.send(b"meaning");
    tui.wait_for_text("answers/meaning");
    tui.send(b"\r"); // insert at the cursor
    tui.wait_for("the picker to close", |s| {
        !s.contents().contains("Ctrl-R runs")
    });
    tui.send(&[CTRL_J]);
    tui.wait_for_text("1 rows");
    assert!(tui.contents().contains("42"), "{}", tui.contents());
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
    let saved = std::fs::read_to_string(data.path().join("snippets/answers/meaning.sql"))
        .expect("the snippet file, in <data dir>/snippets/");
    assert!(saved.contains("SELECT 42 AS answer"), "{saved}");
}

/// On a real PostgreSQL through the direct connection: `BEGIN` and an insert in a tab, then
/// Ctrl-Q asks to commit or roll back the open transaction; `c` commits it and Quarry quits.
#[test]
fn quitting_with_an_open_transaction_asks_to_commit_or_roll_back() {
    let pg = crate::postgres::shared();
    let db = pg.create_database();
    let mut check = pg.client(&db);
    check
        .batch_execute("CREATE TABLE picks (id int)")
        .expect("create table");
    let toml = format!(
        "[[connection]]\nname = \"pg\"\nkind = \"redshift\"\nengine = \"postgres\"\n\
         host = \"127.0.0.1\"\nport = {}\ndatabase = \"{db}\"\nuser = \"postgres\"\n\
         password_env = \"QUARRY_TEST_PG_PASSWORD\"\nsslmode = \"disable\"\n",
        pg.port()
    );
    let mut tui = Tui::start_with(|sb| {
        let (args, _) = aws_setup(sb, &toml, "pg");
        let env = vec![(
            "QUARRY_TEST_PG_PASSWORD".to_string(),
            crate::postgres::SUPERUSER_PASSWORD.to_string(),
        )];
        (args, env)
    });
    wait_for_editor(&mut tui);
    tui.send(b"BEGIN;");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("transaction open");
    tui.send(b"\rINSERT INTO picks VALUES (7);");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("INSERT: 1 row");
    let seen = check.query("SELECT id FROM picks", &[]).expect("select");
    assert!(
        seen.is_empty(),
        "not committed yet, so not visible elsewhere"
    );
    tui.send(&[CTRL_Q]);
    tui.wait_for_text("[c] commit and quit");
    tui.send(b"c");
    tui.assert_exits_cleanly();
    let rows = check.query("SELECT id FROM picks", &[]).expect("select");
    assert_eq!(rows.len(), 1, "committed on quit");
    assert_eq!(rows[0].get::<_, i32>(0), 7);
}

/// No password configured: the server's request for one opens a masked prompt; the typed
/// password signs in and the statement runs again (the password never shows on screen).
#[test]
fn the_tui_asks_for_a_password_the_server_wants_and_runs_again() {
    let pg = crate::postgres::shared();
    let db = pg.create_database();
    pg.client(&db)
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE prompted_user LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\
             ALTER ROLE prompted_user PASSWORD 'typed-Pa55'",
        )
        .expect("create role");
    let toml = format!(
        "[[connection]]\nname = \"pg\"\nkind = \"redshift\"\nengine = \"postgres\"\n\
         host = \"127.0.0.1\"\nport = {}\ndatabase = \"{db}\"\nuser = \"prompted_user\"\n\
         sslmode = \"disable\"\n",
        pg.port()
    );
    let mut tui = Tui::start_with(|sb| aws_setup(sb, &toml, "pg"));
    wait_for_editor(&mut tui);
    tui.send(b"SELECT current_user AS who");
    tui.send(&[CTRL_J]);
    tui.wait_for_text("Password for `pg`");
    tui.send(b"typed-Pa55");
    tui.wait_for_text("••••••••••");
    assert!(!tui.contents().contains("typed-Pa55"), "{}", tui.contents());
    tui.send(b"\r");
    tui.wait_for_text("prompted_user");
    tui.send(&[CTRL_Q]);
    tui.assert_exits_cleanly();
}

mod completion;
mod crash;
mod inspector;
mod monitor;
mod spark;
