//! Quitting: what is asked and stopped, and the drafts saved.

use super::*;

#[test]
fn quitting_with_running_jobs_asks_and_cancels() {
    let mut s = state();
    type_text(&mut s, "SELECT 1");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    let fx = update(&mut s, ctrl('q'));
    assert!(fx.is_empty());
    assert!(matches!(
        &s.popup,
        Some(Popup::ConfirmQuit(f)) if f.local == 1 && f.items.is_empty()
    ));
    // "n" keeps working.
    update(&mut s, key(KeyCode::Char('n'), KeyModifiers::NONE));
    assert!(s.popup.is_none() && !s.quitting);
    update(&mut s, ctrl('q'));
    let fx = update(&mut s, key(KeyCode::Char('y'), KeyModifiers::NONE));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { job: j }) if *j == job))
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveDrafts(d) if d[0].text == "SELECT 1"))
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
    assert!(s.quitting);
}

#[test]
fn quitting_idle_saves_drafts_and_quits_at_once() {
    let mut s = state();
    let fx = update(&mut s, ctrl('q'));
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
}

#[test]
fn drafts_are_saved_after_a_pause() {
    let mut s = state();
    type_text(&mut s, "SELECT 42");
    let t0 = s.now;
    let fx = update(&mut s, Msg::Tick(t0 + Duration::from_millis(100)));
    assert!(fx.is_empty());
    let fx = update(&mut s, Msg::Tick(t0 + Duration::from_secs(2)));
    assert!(matches!(&fx[..], [Effect::SaveDrafts(d)] if d[0].text == "SELECT 42"));
    assert!(update(&mut s, Msg::Tick(t0 + Duration::from_secs(3))).is_empty());
}

#[test]
fn quitting_with_athena_queries_can_stop_them_or_leave_them() {
    let mut s = athena_state();
    type_text(&mut s, "SELECT 1");
    assert_eq!(runs(&update(&mut s, ctrl('j'))).len(), 1);
    update(&mut s, ctrl('q'));
    assert!(matches!(
        &s.popup,
        Some(Popup::ConfirmQuit(f)) if f.items.len() == 1 && f.items[0].stop && f.local == 0
    ));
    // `l` leaves it running on the server: no cancel, and nothing to wait for.
    let fx = update(&mut s, key(KeyCode::Char('l'), KeyModifiers::NONE));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Worker(WorkerCmd::Cancel { .. })))
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
    assert!(s.jobs.is_empty() && s.quitting);
}

#[test]
fn asked_to_quit_while_a_job_runs_quits_when_it_ends() {
    let mut s = state();
    type_text(&mut s, "SELECT 1");
    let job = runs(&update(&mut s, ctrl('j')))[0].0;
    update(&mut s, ctrl('q'));
    assert!(matches!(&s.popup, Some(Popup::ConfirmQuit(f)) if f.local == 1));
    let fx = finish(&mut s, job, ok());
    assert!(s.popup.is_none());
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)), "{fx:?}");
}
