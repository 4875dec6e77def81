//! Settings a tab changes for its own runs.

use super::*;

#[test]
fn result_reuse_toggles_per_tab_on_athena_only() {
    let mut s = athena_state();
    update(&mut s, key(KeyCode::Char('r'), KeyModifiers::ALT));
    assert_eq!(s.tab().result_reuse, Some(true));
    type_text(&mut s, "SELECT 1");
    let fx = update(&mut s, ctrl('j'));
    assert_eq!(requests(&fx)[0].result_reuse, Some(true));
    let mut local = state();
    update(&mut local, key(KeyCode::Char('r'), KeyModifiers::ALT));
    assert_eq!(local.tab().result_reuse, None);
    assert!(local.flash.as_ref().is_some_and(|f| f.error));
}
