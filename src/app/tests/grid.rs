//! The results grid: moving, sorting, filtering.

use super::*;

#[test]
fn grid_moves_and_pages_within_the_result() {
    let (mut s, _) = with_result(1000);
    let plain = |c| key(KeyCode::Char(c), KeyModifiers::NONE);
    update(&mut s, plain('j'));
    update(&mut s, plain('l'));
    let g = &s.tab().results[0].grid;
    assert_eq!((g.row, g.col), (1, 1));
    update(&mut s, plain('G'));
    let g = &s.tab().results[0].grid;
    assert_eq!(g.row, 999);
    assert!(g.top > 900 && g.top <= 999, "the last row is on screen");
    update(&mut s, key(KeyCode::PageUp, KeyModifiers::NONE));
    assert!(s.tab().results[0].grid.row < 999);
    update(&mut s, plain('g'));
    assert_eq!(s.tab().results[0].grid.top, 0);
    update(&mut s, plain('l'));
    update(&mut s, plain('l'));
    assert_eq!(s.tab().results[0].grid.col, 1, "clamped to the last column");
}

#[test]
fn sort_goes_to_the_worker_and_stale_views_are_dropped() {
    let (mut s, _) = with_result(10);
    let fx = update(&mut s, key(KeyCode::Char('s'), KeyModifiers::NONE));
    let (result, gen1) = match &fx[..] {
        [
            Effect::Worker(WorkerCmd::ComputeView {
                result, generation, ..
            }),
        ] => (*result, *generation),
        other => panic!("expected a view computation, got {other:?}"),
    };
    // Pressing again asks for descending: the ascending answer arriving late is stale.
    let fx = update(&mut s, key(KeyCode::Char('s'), KeyModifiers::NONE));
    assert_eq!(fx.len(), 1);
    update(
        &mut s,
        Msg::Worker(WorkerEvent::ViewReady {
            result,
            generation: gen1,
            outcome: Ok(vec![0, 1]),
        }),
    );
    assert!(s.tab().results[0].view.as_ref().unwrap().indices.is_none());
    let desc: Vec<u32> = (0..10).rev().collect();
    update(
        &mut s,
        Msg::Worker(WorkerEvent::ViewReady {
            result,
            generation: gen1 + 1,
            outcome: Ok(desc),
        }),
    );
    let r = &s.tab().results[0];
    assert_eq!(r.data_row(0), 9);
    // Third press: back to the natural order.
    update(&mut s, key(KeyCode::Char('s'), KeyModifiers::NONE));
    assert!(s.tab().results[0].view.is_none());
}

#[test]
fn filter_prompt_and_inspector() {
    let (mut s, _) = with_result(10);
    update(&mut s, key(KeyCode::Char('/'), KeyModifiers::NONE));
    type_text(&mut s, "n1");
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(
        matches!(&fx[..], [Effect::Worker(WorkerCmd::ComputeView { spec: crate::protocol::ViewSpec::Filter { needle }, .. })] if needle == "n1")
    );
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert!(matches!(s.popup, Some(Popup::Inspector { .. })));
    update(&mut s, key(KeyCode::Esc, KeyModifiers::NONE));
    assert!(s.popup.is_none());
}
