//! Whole-screen snapshots on ratatui's TestBackend for the main states, and checks of the
//! styles where colour carries meaning.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use crate::app::tests::{batch, ctrl, deliver, key, state, type_text};
use crate::app::{Msg, State, update};
use crate::model::catalog::{CatalogNode, NodeKind};
use crate::model::job::JobSummary;
use crate::protocol::{JobOutcome, WorkerCmd, WorkerEvent};

use super::{Ui, draw};

fn render(s: &State) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(s.area.width, s.area.height)).unwrap();
    let ui = Ui::loaded();
    t.draw(|f| draw(f, s, &ui)).unwrap();
    t
}

fn start(s: &mut State, sql: &str) -> u64 {
    type_text(s, sql);
    let fx = update(s, ctrl('j'));
    fx.iter()
        .find_map(|e| match e {
            crate::app::Effect::Worker(WorkerCmd::Run { job, .. }) => Some(*job),
            _ => None,
        })
        .unwrap()
}

fn with_tables(s: &mut State) {
    crate::app::update::on_start(s);
    let t = |n: &str| CatalogNode {
        name: n.into(),
        kind: NodeKind::Table,
        detail: None,
        has_children: true,
        query: None,
        action: None,
    };
    update(
        s,
        Msg::Worker(WorkerEvent::Children {
            connection: "local".into(),
            path: vec![],
            result: Ok(vec![t("events"), t("trips"), t("vendors"), t("zones")]),
        }),
    );
}

fn finish(s: &mut State, job: u64, outcome: JobOutcome) {
    update(
        s,
        Msg::Worker(WorkerEvent::JobFinished {
            job,
            outcome,
            elapsed: Duration::from_millis(1234),
        }),
    );
}

#[test]
fn empty_screen() {
    let mut s = state();
    with_tables(&mut s);
    insta::assert_snapshot!(render(&s).backend());
}

#[test]
fn running_screen() {
    let mut s = state();
    with_tables(&mut s);
    start(&mut s, "SELECT * FROM trips");
    insta::assert_snapshot!(render(&s).backend());
}

#[test]
fn results_screen() {
    let mut s = state();
    with_tables(&mut s);
    let job = start(&mut s, "SELECT id, name FROM t");
    deliver(&mut s, job, batch(50));
    finish(&mut s, job, JobOutcome::Succeeded(JobSummary::default()));
    update(&mut s, key(KeyCode::Char('3'), KeyModifiers::ALT));
    update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    let t = render(&s);
    insta::assert_snapshot!(t.backend());
    // NULL is drawn dim and italic, unlike the empty string or text.
    let buf = t.backend().buffer();
    let null_cell = (0..buf.area.height)
        .flat_map(|y| (0..buf.area.width).map(move |x| (x, y)))
        .find(|&(x, y)| {
            buf[(x, y)].symbol() == "N"
                && buf[(x + 1, y)].symbol() == "U"
                && buf[(x + 3, y)].symbol() == "L"
        })
        .expect("a NULL cell on screen");
    assert_eq!(buf[null_cell].fg, Color::DarkGray);
}

#[test]
fn error_screen_is_red() {
    let mut s = state();
    let job = start(&mut s, "SELECT * FROM nope");
    finish(
        &mut s,
        job,
        JobOutcome::Failed(
            "Error during planning: table 'datafusion.public.nope' not found".into(),
        ),
    );
    let t = render(&s);
    insta::assert_snapshot!(t.backend());
    let buf = t.backend().buffer();
    let found = (0..buf.area.height).any(|y| {
        let line: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        line.contains("not found") && {
            let x = line.find("Error during").unwrap_or(0);
            buf[(x as u16, y)].fg == Color::Red
        }
    });
    assert!(found, "the error is shown in red");
}

#[test]
fn help_popup() {
    let mut s = state();
    update(&mut s, key(KeyCode::F(1), KeyModifiers::NONE));
    insta::assert_snapshot!(render(&s).backend());
}

fn hostile_result() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("v", DataType::Utf8, true),
    ]));
    let big = "x".repeat(100 * 1024);
    let values: Vec<Option<&str>> = vec![
        Some("red \x1b[31mALERT\x1b[0m"),
        Some("carriage\rreturn"),
        Some("tab\there"),
        Some(&big),
        Some(""),
        None,
    ];
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5, 6])) as ArrayRef,
            Arc::new(StringArray::from(values)) as ArrayRef,
        ],
    )
    .unwrap()
}

fn assert_no_control_chars(t: &Terminal<TestBackend>) {
    let buf = t.backend().buffer();
    for cell in buf.content() {
        for c in cell.symbol().chars() {
            assert!(!c.is_control(), "control char {c:?} reached the screen");
        }
    }
}

#[test]
fn hostile_data_renders_safely_in_grid_and_inspector() {
    let mut s = state();
    let job = start(&mut s, "SELECT * FROM hostile");
    deliver(&mut s, job, hostile_result());
    finish(&mut s, job, JobOutcome::Succeeded(JobSummary::default()));
    update(&mut s, key(KeyCode::Char('3'), KeyModifiers::ALT));
    update(&mut s, key(KeyCode::Char('l'), KeyModifiers::NONE));
    let t = render(&s);
    assert_no_control_chars(&t);
    insta::assert_snapshot!("hostile_grid", t.backend());
    // Each hostile value in the inspector.
    for row in 0..6 {
        let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
        crate::app::tests::inspector::serve(&mut s, &fx);
        let t = render(&s);
        assert_no_control_chars(&t);
        if row == 0 {
            insta::assert_snapshot!("inspector", t.backend());
        }
        update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
        update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
    }
}

/// The screen's text, row by row.
fn screen_text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_redshift_data_session_counts_down_in_the_status_bar() {
    let mut s = state();
    s.tab_mut().session = Some(crate::app::editor::TabSession {
        id: "0123456789abcdef".into(),
        keep_alive: Duration::from_secs(600),
        since: s.now,
    });
    assert!(screen_text(&render(&s)).contains("session 01234567 10:00 left"));
    s.now += Duration::from_secs(545);
    assert!(screen_text(&render(&s)).contains("session 01234567 55 s left"));
    s.now += Duration::from_secs(60);
    assert!(screen_text(&render(&s)).contains("session 01234567 idled out"));
    s.tab_mut().use_session = Some(false);
    assert!(screen_text(&render(&s)).contains("no session"));
}

#[test]
fn an_open_transaction_shows_in_the_status_bar_and_the_quit_dialog() {
    let mut s = state();
    s.tab_mut().transaction = Some(crate::app::editor::TabTransaction {
        since: s.now,
        failed: false,
    });
    s.now += Duration::from_secs(42);
    assert!(screen_text(&render(&s)).contains("transaction open 42 s"));
    update(&mut s, ctrl('q'));
    insta::assert_snapshot!("quit_with_open_transaction", render(&s).backend());
    // A failed one is red and can only be rolled back.
    s.popup = None;
    s.tab_mut().transaction = Some(crate::app::editor::TabTransaction {
        since: s.now,
        failed: true,
    });
    let t = render(&s);
    let text = screen_text(&t);
    assert!(
        text.contains("transaction failed: ROLLBACK to go on"),
        "{text}"
    );
    update(&mut s, ctrl('q'));
    let text = screen_text(&render(&s));
    assert!(text.contains("[r] roll back and quit"), "{text}");
    assert!(!text.contains("[c] commit"), "{text}");
}

#[test]
fn the_password_prompt_never_shows_the_password() {
    let mut s = state();
    s.popup = Some(crate::app::Popup::Password {
        connection: "dw".into(),
        text: String::new(),
        rerun: vec!["SELECT 1".into()],
    });
    type_text(&mut s, "hunter2");
    let text = screen_text(&render(&s));
    assert!(text.contains("Password for `dw`"), "{text}");
    assert!(text.contains("•••••••"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn the_monitor_lists_jobs_and_sessions() {
    let mut s = state();
    let job = start(&mut s, "SELECT * FROM trips");
    let _ = job;
    s.tab_mut().session = Some(crate::app::editor::TabSession {
        id: "0123456789abcdef".into(),
        keep_alive: Duration::from_secs(600),
        since: s.now,
    });
    update(&mut s, key(KeyCode::F(9), KeyModifiers::NONE));
    let t = render(&s);
    let text = screen_text(&t);
    assert!(text.contains("1 session (F9)"), "{text}");
    insta::assert_snapshot!("monitor", t.backend());
}

#[test]
fn the_quit_dialog_ticks_what_runs_or_is_held_on_the_servers() {
    let mut s = state();
    s.connections.insert(
        0,
        crate::app::ConnectionInfo {
            name: "ath".into(),
            kind: crate::store::config::ConnectionKind::Athena,
            detail: String::new(),
            result_reuse: false,
            sessions: false,
            broken: None,
        },
    );
    s.tab_mut().connection = "ath".into();
    start(&mut s, "SELECT * FROM big_table");
    s.spark.upsert(
        "ath",
        crate::model::spark::SparkSession {
            id: "a1b2c3d4-spark-session".into(),
            workgroup: "spark-wg".into(),
            state: "IDLE".into(),
            dpu_ms: Some(1_800_000),
            ..Default::default()
        },
        true,
    );
    update(&mut s, ctrl('q'));
    // Untick the Spark session.
    update(&mut s, key(KeyCode::Down, KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Char(' '), KeyModifiers::NONE));
    let t = render(&s);
    let text = screen_text(&t);
    assert!(text.contains("[x]") && text.contains("[ ]"), "{text}");
    assert!(text.contains("0.50 DPU·h"), "{text}");
    insta::assert_snapshot!("quit_dialog", t.backend());
}

#[test]
fn the_spark_start_form_shows_the_workgroup_defaults() {
    let mut s = state();
    let mut form = crate::app::spark::StartForm::new("ath".into(), "spark-wg".into());
    form.fill(crate::model::spark::SessionSettings {
        max_concurrent_dpus: 40,
        ..Default::default()
    });
    s.popup = Some(crate::app::Popup::SparkStart(form));
    let t = render(&s);
    let text = screen_text(&t);
    assert!(text.contains("max concurrent DPUs 40"), "{text}");
    assert!(text.contains("bills per DPU-hour"), "{text}");
}

/// Values whose clusters terminals draw at different widths, or that stack marks.
fn cluster_result(tag: &str) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("v", DataType::Utf8, true),
        Field::new("after", DataType::Utf8, true),
    ]));
    let zalgo = format!("Z{}algo", "\u{336}\u{34f}\u{35c}".repeat(8));
    let values = vec![
        "👨\u{200d}👩\u{200d}👧\u{200d}👦 family".to_string(),
        "e\u{301}te\u{301} accents".to_string(),
        zalgo,
        "👍🏽 ❤\u{fe0f} 1\u{fe0f}\u{20e3}".to_string(),
        "🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f} 🇫🇷".to_string(),
        "\u{301}leading mark".to_string(),
        "漢字 a\u{200d}b".to_string(),
    ];
    let n = values.len();
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(0..n as i64)) as ArrayRef,
            Arc::new(StringArray::from(values)) as ArrayRef,
            Arc::new(StringArray::from(vec![tag; n])) as ArrayRef,
        ],
    )
    .unwrap()
}

/// A row of a ratatui buffer as a terminal shows it: the cells a wide symbol covers skipped.
fn buffer_row(buf: &ratatui::buffer::Buffer, y: u16) -> String {
    let mut row = String::new();
    let mut x = 0;
    while x < buf.area.width {
        let symbol = buf[(x, y)].symbol();
        row.push_str(symbol);
        x += unicode_width::UnicodeWidthStr::width(symbol).max(1) as u16;
    }
    row.trim_end().to_string()
}

/// Bytes written through the backend, shared with the test that reads them.
#[derive(Clone, Default)]
struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The crossterm backend drawing into a terminal emulator that measures char by char (vt100,
/// like xterm and most terminals).
struct Emulated {
    terminal: Terminal<ratatui::backend::CrosstermBackend<Shared>>,
    written: Shared,
    screen: vt100::Parser,
    ui: Ui,
    frames: usize,
}

impl Emulated {
    fn new(s: &State) -> Emulated {
        let area = ratatui::layout::Rect::new(0, 0, s.area.width, s.area.height);
        let written = Shared::default();
        let terminal = Terminal::with_options(
            ratatui::backend::CrosstermBackend::new(written.clone()),
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(area),
            },
        )
        .unwrap();
        Emulated {
            terminal,
            written,
            screen: vt100::Parser::new(
                std::num::NonZeroU16::new(area.height).unwrap(),
                std::num::NonZeroU16::new(area.width).unwrap(),
                0,
            ),
            ui: Ui::loaded(),
            frames: 0,
        }
    }

    /// Draws `s` (only what changed reaches the terminal) and checks that the terminal shows
    /// exactly what ratatui's buffer holds: nothing shifted, no stale fragments.
    fn frame(&mut self, s: &State) {
        let ui = &self.ui;
        self.terminal.draw(|f| draw(f, s, ui)).unwrap();
        let bytes = std::mem::take(&mut *self.written.0.borrow_mut());
        self.screen.process(&bytes);
        let expected = render(s);
        let buf = expected.backend().buffer();
        let shown: Vec<String> = self.screen.screen().rows(0, buf.area.width).collect();
        for y in 0..buf.area.height {
            assert_eq!(
                shown[y as usize].trim_end(),
                buffer_row(buf, y),
                "frame {}, row {y}: the terminal differs from the buffer",
                self.frames
            );
        }
        self.frames += 1;
    }
}

#[test]
fn joiners_and_combining_marks_keep_grid_separators_aligned() {
    let mut s = state();
    let mut terminal = Emulated::new(&s);
    let job = start(&mut s, "SELECT * FROM clusters");
    deliver(&mut s, job, cluster_result("end"));
    finish(&mut s, job, JobOutcome::Succeeded(JobSummary::default()));
    update(&mut s, key(KeyCode::Char('3'), KeyModifiers::ALT));
    terminal.frame(&s);
    // On the terminal, every row's separators are in the header's columns.
    let screen = terminal.screen.screen();
    let separators = |row: u16| -> Vec<u16> {
        (0..s.area.width)
            .filter(|&col| screen.cell(row, col).is_some_and(|c| c.contents() == "│"))
            .collect()
    };
    let header = (0..s.area.height)
        .find(|&row| {
            screen
                .contents_between(row, 0, row, s.area.width)
                .contains("after")
        })
        .expect("the grid's header");
    assert!(separators(header).len() >= 3, "{}", screen.contents());
    for row in header + 1..header + 8 {
        assert_eq!(separators(row), separators(header), "{}", screen.contents());
    }
    // Moved through, then replaced by other values: nothing of a frame is left behind.
    for _ in 0..3 {
        update(&mut s, key(KeyCode::Char('j'), KeyModifiers::NONE));
        terminal.frame(&s);
    }
    update(&mut s, key(KeyCode::Char('2'), KeyModifiers::ALT));
    let job = start(&mut s, ";SELECT 2");
    deliver(&mut s, job, cluster_result("again"));
    finish(&mut s, job, JobOutcome::Succeeded(JobSummary::default()));
    terminal.frame(&s);
}
