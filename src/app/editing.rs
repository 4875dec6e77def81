//! Typing in the editor: keys, paste, inserting text, the selection, and moving the cursor to
//! where the server placed an error.

use crossterm::event::{KeyCode, KeyEvent};

use super::editor::EditorTab;
use super::{Effect, Focus, Popup, State, layout};

/// Ctrl-C with no job to cancel keeps its copy meaning in the editor.
pub(super) fn copy_selection(state: &mut State, fx: &mut Vec<Effect>) {
    let tab = state.tab_mut();
    if tab.text.selection_range().is_some() {
        tab.text.copy();
        fx.push(Effect::CopyToClipboard(tab.text.yank_text()));
    }
}

/// A key the keymap does not bind, typed into the editor (Esc drops the selection).
pub(super) fn on_editor_key(state: &mut State, key: KeyEvent) {
    if key.code == KeyCode::Esc {
        state.tab_mut().text.cancel_selection();
        return;
    }
    let (rows, cols) = editor_size(state);
    let tab = state.tab_mut();
    let changed = tab.text.input(key);
    tab.scroll_to_cursor(rows, cols);
    if changed {
        state.mark_edited();
    }
}

/// Pasted text goes to the open text field, else into the editor.
pub(super) fn on_paste(state: &mut State, text: &str) {
    let clean = text.replace("\r\n", "\n").replace('\r', "\n");
    match &mut state.popup {
        Some(Popup::Input { text: input, .. }) | Some(Popup::Password { text: input, .. }) => {
            input.push_str(clean.lines().next().unwrap_or(""));
        }
        Some(Popup::Params(form)) => form.paste(&clean),
        Some(Popup::Export(form)) => form.paste(&clean),
        None if state.focus == Focus::Editor => {
            let (rows, cols) = editor_size(state);
            let tab = state.tab_mut();
            tab.text.insert_str(&clean);
            tab.scroll_to_cursor(rows, cols);
            state.mark_edited();
        }
        _ => {}
    }
}

/// The editor's text area: lines, and columns right of the line numbers.
pub(super) fn editor_size(state: &State) -> (usize, usize) {
    let e = state.panes().editor;
    let gutter = state.tab().text.lines().len().to_string().len() + 1;
    (
        layout::editor_rows(e),
        (e.width as usize).saturating_sub(2 + gutter + 1),
    )
}

/// The editor's selection, when there is one.
pub(super) fn selected_text(tab: &EditorTab) -> Option<String> {
    let ((r0, c0), (r1, c1)) = tab.text.selection_range()?;
    let text = tab.contents();
    let a = crate::sql::byte_offset(&text, r0, c0);
    let b = crate::sql::byte_offset(&text, r1, c1);
    let selected = text.get(a.min(b)..a.max(b))?.trim();
    (!selected.is_empty()).then(|| selected.to_string())
}

/// Inserts `text` at the cursor of the active tab and focuses the editor.
pub(super) fn insert_into_editor(state: &mut State, text: &str) {
    let (rows, cols) = editor_size(state);
    let tab = state.tab_mut();
    tab.text.insert_str(text);
    tab.scroll_to_cursor(rows, cols);
    state.mark_edited();
    state.focus = Focus::Editor;
}

/// Puts the cursor where the server placed an error, when the statement is still in the tab.
pub(super) fn jump_to_error(state: &mut State, tab: u64, error: &str, sql: &str) {
    let Some((line, column)) = crate::sql::error_location(error) else {
        return;
    };
    let (rows, cols) = editor_size(state);
    let Some(t) = state.tab_by_id_mut(tab) else {
        return;
    };
    let Some((row, col)) = crate::sql::locate_in(&t.contents(), sql, line, column) else {
        return;
    };
    t.text.cancel_selection();
    t.text.move_cursor(ratatui_textarea::CursorMove::Jump(
        u16::try_from(row).unwrap_or(u16::MAX),
        u16::try_from(col).unwrap_or(u16::MAX),
    ));
    t.scroll_to_cursor(rows, cols);
}
