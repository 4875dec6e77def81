//! Big values stay interactive: the inspector's layout of a cell nested 20 000 deep and of a
//! 10 MB single-line value, a key plus the frame it draws with either open, and a keystroke
//! plus its frame in the editor on a 1 MB single-line statement.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::StringArray;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use criterion::{Criterion, Throughput};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use quarry::app::{Effect, Msg, State, StateInit, update};
use quarry::connectors::{JobEvent, JobSummary};
use quarry::results::ResultSet;
use quarry::ui::{Ui, draw};
use quarry::worker::{JobOutcome, WorkerCmd, WorkerEvent};

fn deep() -> String {
    format!("{}{}", "[".repeat(20_000), "]".repeat(20_000))
}

fn ten_mb_line() -> String {
    "0123456789abcdef".repeat(10 << 16)
}

fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// A state showing a finished one-column result of `values`, focused on the grid.
fn state_with_values(values: Vec<String>) -> State {
    let mut s = State::new(StateInit::first_start(
        Rect::new(0, 0, 200, 50),
        Instant::now(),
    ));
    for c in "SELECT v".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    let fx = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL)),
    );
    let job = fx
        .iter()
        .find_map(|e| match e {
            Effect::Worker(WorkerCmd::Run { job, .. }) => Some(*job),
            _ => None,
        })
        .expect("a run");
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(values))])
        .expect("batch");
    for ev in [JobEvent::Schema(schema), JobEvent::Batch(batch)] {
        update(&mut s, Msg::Worker(WorkerEvent::Job(job, ev)));
    }
    update(
        &mut s,
        Msg::Worker(WorkerEvent::JobFinished {
            job,
            outcome: JobOutcome::Succeeded(JobSummary::default()),
            elapsed: Duration::from_secs(1),
        }),
    );
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('3'), KeyModifiers::ALT)),
    );
    s
}

/// Opens the inspector on the current cell and answers its layout as the worker would.
fn open_inspector(s: &mut State) {
    let fx = press(s, KeyCode::Enter);
    for e in fx {
        if let Effect::Worker(WorkerCmd::Inspect {
            request,
            rows,
            row,
            col,
            trino_text,
        }) = e
        {
            let text = Arc::new(rows.cell_inspect(row, col, trino_text));
            let outcome = Ok(text);
            update(s, Msg::Worker(WorkerEvent::Inspected { request, outcome }));
        }
    }
}

pub fn inspector(c: &mut Criterion) {
    let (deep, line) = (deep(), ten_mb_line());
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, true)]));
    let mut rs = ResultSet::new(schema.clone());
    let values = StringArray::from(vec![deep.clone(), line.clone()]);
    rs.push_batch(RecordBatch::try_new(schema, vec![Arc::new(values)]).expect("batch"));
    let mut group = c.benchmark_group("inspector");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(deep.len() as u64));
    group.bench_function("layout_json_20000_deep", |b| {
        b.iter(|| black_box(rs.cell_inspect(0, 0, false)))
    });
    group.throughput(Throughput::Bytes(line.len() as u64));
    group.bench_function("layout_10mb_line", |b| {
        b.iter(|| black_box(rs.cell_inspect(1, 0, false)))
    });
    group.throughput(Throughput::Elements(1));
    let ui = Ui::loaded();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    let mut s = state_with_values(vec![deep, line]);
    open_inspector(&mut s);
    group.bench_function("key_and_frame_20000_deep", |b| {
        let mut down = true;
        b.iter(|| {
            press(&mut s, if down { KeyCode::Down } else { KeyCode::Up });
            down = !down;
            terminal.draw(|f| draw(f, &s, &ui)).expect("draw");
        })
    });
    press(&mut s, KeyCode::Esc);
    press(&mut s, KeyCode::Down);
    open_inspector(&mut s);
    press(&mut s, KeyCode::Char('$'));
    group.bench_function("key_and_frame_10mb_line_at_its_end", |b| {
        let mut left = true;
        b.iter(|| {
            press(&mut s, if left { KeyCode::Left } else { KeyCode::Right });
            left = !left;
            terminal.draw(|f| draw(f, &s, &ui)).expect("draw");
        })
    });
    group.finish();
}

pub fn editor_long_line(c: &mut Criterion) {
    let mut s = State::new(StateInit::first_start(
        Rect::new(0, 0, 200, 50),
        Instant::now(),
    ));
    let mut sql = String::from("SELECT 1 AS c");
    while sql.len() < 1_000_000 {
        sql.push_str(" + 1");
    }
    update(&mut s, Msg::Paste(sql));
    let ui = Ui::loaded();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    terminal.draw(|f| draw(f, &s, &ui)).expect("draw");
    let mut group = c.benchmark_group("editor");
    group.sample_size(20);
    group.bench_function("keystroke_and_frame_1mb_line", |b| {
        let mut typing = true;
        b.iter(|| {
            press(
                &mut s,
                if typing {
                    KeyCode::Char('x')
                } else {
                    KeyCode::Backspace
                },
            );
            typing = !typing;
            terminal.draw(|f| draw(f, &s, &ui)).expect("draw");
        })
    });
    group.finish();
}
