//! Reducer tests of the cell inspector: the layout is asked of the worker, "formatting…" shows
//! until it comes back, stale answers are dropped, and scrolling stays within the text.

use std::sync::Arc;

use arrow::array::StringArray;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use crossterm::event::{KeyCode, KeyModifiers};

use super::{ctrl, deliver, finish, key, ok, runs, state, type_text};
use crate::app::inspector::{self, Body, Inspector};
use crate::app::{Effect, Msg, Popup, State, update};
use crate::protocol::{WorkerCmd, WorkerEvent};
use crate::results::InspectText;

/// Does what the worker does for the `Inspect` command among `fx` and feeds the answer back;
/// returns the layout.
pub(crate) fn serve(s: &mut State, fx: &[Effect]) -> Arc<InspectText> {
    let (request, text) = layout(fx);
    update(
        s,
        Msg::Worker(WorkerEvent::Inspected {
            request,
            outcome: Ok(Arc::clone(&text)),
        }),
    );
    text
}

/// The request among `fx` and the layout the worker would answer it with.
fn layout(fx: &[Effect]) -> (u64, Arc<InspectText>) {
    fx.iter()
        .find_map(|e| match e {
            Effect::Worker(WorkerCmd::Inspect {
                request,
                rows,
                row,
                col,
                trino_text,
            }) => Some((
                *request,
                Arc::new(rows.cell_inspect(*row, *col, *trino_text)),
            )),
            _ => None,
        })
        .expect("an Inspect command")
}

/// A state with a one-column text result of `values`, the grid focused.
pub(crate) fn with_values(values: Vec<String>) -> State {
    let mut s = state();
    type_text(&mut s, "SELECT v");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, true)]));
    let b = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(values))]).unwrap();
    deliver(&mut s, job, b);
    finish(&mut s, job, ok());
    update(&mut s, key(KeyCode::Char('3'), KeyModifiers::ALT));
    s
}

pub(crate) fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, key(code, KeyModifiers::NONE))
}

fn inspector(s: &State) -> &Inspector {
    match &s.popup {
        Some(Popup::Inspector(ins)) => ins,
        other => panic!("the inspector is not open: {other:?}"),
    }
}

#[test]
fn the_layout_is_asked_of_the_worker_and_shown_when_it_comes() {
    let mut s = with_values(vec!["a".into(), r#"{"k":[1,2]}"#.into()]);
    press(&mut s, KeyCode::Down);
    let fx = press(&mut s, KeyCode::Enter);
    assert!(matches!(
        &fx[..],
        [Effect::Worker(WorkerCmd::Inspect {
            row: 1,
            col: 0,
            trino_text: false,
            ..
        })]
    ));
    assert_eq!(inspector(&s).body, Body::Formatting);
    // Keys do nothing but close until the text is there.
    press(&mut s, KeyCode::Down);
    assert_eq!(inspector(&s).top, 0);
    let text = serve(&mut s, &fx);
    assert_eq!(text.to_text(), "{\n  \"k\": [\n    1,\n    2\n  ]\n}");
    assert!(matches!(&inspector(&s).body, Body::Ready(t) if Arc::ptr_eq(t, &text)));
    let fx = press(&mut s, KeyCode::Char('y'));
    assert!(matches!(&fx[..], [Effect::CopyToClipboard(t)] if *t == text.to_text()));
    press(&mut s, KeyCode::Esc);
    assert!(s.popup.is_none());
}

#[test]
fn stale_layouts_are_dropped() {
    let mut s = with_values(vec!["first".into(), "second".into()]);
    let first = press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Esc);
    // Closed: the late answer opens nothing.
    serve(&mut s, &first);
    assert!(s.popup.is_none());
    press(&mut s, KeyCode::Down);
    let second = press(&mut s, KeyCode::Enter);
    // The first cell's answer does not land in the second cell's popup.
    serve(&mut s, &first);
    assert_eq!(inspector(&s).body, Body::Formatting);
    serve(&mut s, &second);
    assert!(matches!(&inspector(&s).body, Body::Ready(t) if t.line(0) == "second"));
}

#[test]
fn a_failed_layout_says_why() {
    let mut s = with_values(vec!["x".into()]);
    let fx = press(&mut s, KeyCode::Enter);
    let (request, _) = layout(&fx);
    update(
        &mut s,
        Msg::Worker(WorkerEvent::Inspected {
            request,
            outcome: Err("boom".into()),
        }),
    );
    assert_eq!(inspector(&s).body, Body::Failed("boom".into()));
}

#[test]
fn scrolling_stays_within_the_text() {
    let lines: Vec<String> = (0..500).map(|i| format!("line {i}")).collect();
    let mut s = with_values(vec![lines.join("\n") + &"x".repeat(1000)]);
    let fx = press(&mut s, KeyCode::Enter);
    serve(&mut s, &fx);
    let (rows, cols) = inspector::view_size(s.area);
    press(&mut s, KeyCode::Char('G'));
    assert_eq!(inspector(&s).top, 500 - rows);
    press(&mut s, KeyCode::PageDown);
    press(&mut s, KeyCode::Down);
    assert_eq!(inspector(&s).top, 500 - rows);
    press(&mut s, KeyCode::Char('$'));
    assert_eq!(inspector(&s).left, "line 499".len() + 1000 - cols);
    press(&mut s, KeyCode::Right);
    assert_eq!(inspector(&s).left, "line 499".len() + 1000 - cols);
    press(&mut s, KeyCode::Char('0'));
    press(&mut s, KeyCode::Left);
    assert_eq!(inspector(&s).left, 0);
    press(&mut s, KeyCode::Right);
    assert_eq!(inspector(&s).left, 8);
    press(&mut s, KeyCode::Char('g'));
    assert_eq!((inspector(&s).top, inspector(&s).left), (0, 0));
}

#[test]
fn json_nested_20000_deep_is_laid_out_with_capped_indentation() {
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let mut s = with_values(vec![deep]);
    let fx = press(&mut s, KeyCode::Enter);
    let text = serve(&mut s, &fx);
    assert_eq!(text.line_count(), 2 * crate::results::INDENT_CAP + 1);
    press(&mut s, KeyCode::Char('$'));
    let (_, cols) = inspector::view_size(s.area);
    assert_eq!(inspector(&s).left, text.widest() - cols);
}
