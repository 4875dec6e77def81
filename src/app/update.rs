//! `update(&mut State, Msg) -> Vec<Effect>`: routes every message to the feature that owns it
//! (keys to the focused pane or the open popup, worker events to `worker_events.rs`).

use std::time::Duration;

use crossterm::event::{KeyEvent, KeyEventKind};

use super::browser_actions::{browser_action, open_embedded_at_start};
use super::editing::{copy_selection, on_editor_key, on_paste};
use super::grid::{grid_action, keep_visible};
use super::keymap::key_combo;
use super::quitting::{quit_now, request_quit};
use super::run::tab_has_active_job;
use super::worker_events::on_worker;
use super::{Effect, Focus, Msg, Popup, State};
use super::{export, monitor, run, sessions, snippets, spark, tab_settings, tabs, transactions};
use crate::model::action::Action;
use crate::model::keys::KeyContext;

// What the popup handlers below use (they move to their own files).
use super::editing::insert_into_editor;
use super::export::start_export;
use super::export_form;
use super::grid::{clear_view, set_view};
use super::monitor::Subject;
use super::params::{FormOutcome, ValueSyntax};
use super::pickers::PickerKey;
use super::quit;
use super::quitting::quit_stopping;
use super::results::{RunState, ViewKind};
use super::run::{CANCELLING, run, run_with};
use super::sessions::end_session;
use super::snippets::{open_snippet, run_template, save_snippet};
use super::tabs::{close_tab, new_tab, show_subject};
use super::transactions::end_transactions;
use super::{AfterTransactions, InputPurpose};
use crate::export::Overwrite;
use crate::model::connection::ConnectionKind;
use crate::model::spark::SparkOp;
use crate::protocol::WorkerCmd;
use crossterm::event::{KeyCode, KeyModifiers};

/// Drafts are saved this long after the last edit (and on quit).
const DRAFT_DELAY: Duration = Duration::from_millis(800);

/// What happens once at start (the browser opens the embedded engine's connection).
pub fn on_start(state: &mut State) -> Vec<Effect> {
    let mut fx = Vec::new();
    open_embedded_at_start(state, &mut fx);
    fx
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => {
            state.flash = None;
            on_key(state, key, &mut fx);
        }
        Msg::Key(_) => {}
        Msg::Paste(text) => on_paste(state, &text),
        Msg::Resize(w, h) => {
            state.area = ratatui::layout::Rect::new(0, 0, w, h);
            keep_visible(state);
        }
        Msg::Tick(now) => on_tick(state, now, &mut fx),
        Msg::Worker(ev) => on_worker(state, ev, &mut fx),
        Msg::Terminate => quit_now(state, &mut fx),
    }
    fx
}

/// Time passes: spinners turn, drafts are saved a moment after the last edit, Spark sessions
/// are polled.
fn on_tick(state: &mut State, now: std::time::Instant, fx: &mut Vec<Effect>) {
    state.now = now;
    state.spinner = state.spinner.wrapping_add(1);
    if state.drafts_dirty
        && state
            .last_edit
            .is_some_and(|t| now.duration_since(t) >= DRAFT_DELAY)
    {
        state.drafts_dirty = false;
        fx.push(Effect::SaveDrafts(state.drafts()));
    }
    if !state.quitting {
        spark::tick(state, fx);
    }
}

fn context(focus: Focus) -> KeyContext {
    match focus {
        Focus::Browser => KeyContext::Browser,
        Focus::Editor => KeyContext::Editor,
        Focus::Results => KeyContext::Grid,
    }
}

fn on_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    if state.popup.is_some() {
        on_popup_key(state, key, fx);
        return;
    }
    let action = key_combo(&key).and_then(|k| state.keymap.lookup(context(state.focus), &k));
    match action {
        // No job to cancel: Ctrl-C keeps its copy meaning in the editor.
        Some(Action::Cancel) if state.focus == Focus::Editor && !tab_has_active_job(state) => {
            copy_selection(state, fx)
        }
        Some(action) => on_action(state, action, fx),
        None if state.focus == Focus::Editor => on_editor_key(state, key),
        None => {}
    }
}

/// An action of the keymap, handed to the feature that owns it; the rest go to the focused
/// pane.
fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Quit => request_quit(state, fx),
        Action::Help => state.popup = Some(Popup::Help { scroll: 0 }),
        Action::FocusBrowser => state.focus = Focus::Browser,
        Action::FocusEditor => state.focus = Focus::Editor,
        Action::FocusResults => state.focus = Focus::Results,
        Action::CycleFocus => {
            state.focus = match state.focus {
                Focus::Browser => Focus::Editor,
                Focus::Editor => Focus::Results,
                Focus::Results => Focus::Browser,
            }
        }
        Action::NewTab
        | Action::CloseTab
        | Action::NextTab
        | Action::PrevTab
        | Action::NextResultTab
        | Action::PrevResultTab
        | Action::ChooseConnection => tabs::on_action(state, action, fx),
        Action::RunStatement | Action::RunAll => run::on_action(state, action, fx),
        Action::RunTransaction => transactions::run_transaction(state, fx),
        Action::Cancel => run::cancel_tab_jobs(state, fx),
        Action::Export => export::open_export(state),
        Action::SetRunLimit
        | Action::ToggleConsistentRead
        | Action::ToggleIndexCapacity
        | Action::ToggleResultReuse => tab_settings::on_action(state, action),
        Action::History | Action::Snippets | Action::SaveSnippet => {
            snippets::on_action(state, action, fx)
        }
        Action::ToggleSession => sessions::toggle_session(state),
        Action::EndSession => sessions::end_session(state, fx),
        Action::Monitor => monitor::open(state),
        _ => match state.focus {
            Focus::Results => grid_action(state, action, fx),
            Focus::Browser => browser_action(state, action, fx),
            Focus::Editor => {}
        },
    }
}

/// A key in the jobs and sessions monitor; the popup that stays (if any).
fn on_monitor_key(
    state: &mut State,
    selected: usize,
    subject: Option<Subject>,
    key: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> Option<Popup> {
    let entries = monitor::entries(state);
    let last = entries.len().saturating_sub(1);
    let selected = monitor::selected_index(&entries, selected, subject);
    let at = |i: usize| {
        Some(Popup::Monitor {
            selected: i,
            subject: entries.get(i).map(|e| e.subject),
        })
    };
    let stay = at(selected);
    let entry = entries.get(selected);
    match (key.code, entry) {
        (KeyCode::Esc | KeyCode::Char('q') | KeyCode::F(9), _) => None,
        (KeyCode::Up | KeyCode::Char('k'), _) => at(selected.saturating_sub(1)),
        (KeyCode::Down | KeyCode::Char('j'), _) => at((selected + 1).min(last)),
        (KeyCode::Enter, Some(e)) => match e.subject {
            Subject::Spark { index } => {
                spark::details(state, index, fx);
                state.popup.take()
            }
            Subject::Past { .. } => {
                state.flash("its result tab was closed: r runs it again", false);
                stay
            }
            subject => {
                show_subject(state, subject);
                None
            }
        },
        (KeyCode::Char('y'), Some(e)) => {
            match &e.server_id {
                Some(id) => {
                    fx.push(Effect::CopyToClipboard(id.clone()));
                    state.flash(format!("copied {id}"), false);
                }
                None => state.flash("no server id for this line", true),
            }
            stay
        }
        (KeyCode::Char('c'), Some(e)) => match e.subject {
            Subject::Job { tab, result } => {
                let job = state
                    .tabs
                    .iter_mut()
                    .find(|t| t.id == tab)
                    .and_then(|t| t.results.iter_mut().find(|r| r.id == result))
                    .and_then(|r| match r.state {
                        RunState::Queued => {
                            r.state = RunState::Cancelled;
                            None
                        }
                        RunState::Running { .. } => r.job,
                        _ => None,
                    });
                if let Some(job) = job {
                    fx.push(Effect::Worker(WorkerCmd::Cancel { job }));
                    state.flash(CANCELLING, false);
                }
                stay
            }
            Subject::Session { tab } => {
                show_subject(state, Subject::Session { tab });
                end_session(state, fx);
                stay
            }
            Subject::Transaction { tab } => {
                show_subject(state, Subject::Transaction { tab });
                transactions_popup(state, AfterTransactions::Stay)
            }
            Subject::Spark { index } => {
                spark::terminate(state, index, fx);
                stay
            }
            Subject::Past { .. } => {
                state.flash("finished: nothing to stop", false);
                stay
            }
        },
        (KeyCode::Char('r'), Some(e)) => match e.subject {
            Subject::Job { tab, result } => {
                let sql = state
                    .tabs
                    .iter()
                    .find(|t| t.id == tab)
                    .and_then(|t| t.results.iter().find(|r| r.id == result))
                    .map(|r| r.sql.clone());
                if let Some(sql) = sql {
                    show_subject(state, e.subject);
                    run(state, vec![sql], None, fx);
                }
                None
            }
            Subject::Past { serial } => {
                let past = state.past_jobs.iter().find(|p| p.serial == serial);
                if let Some((connection, sql)) =
                    past.map(|p| (p.entry.connection.clone(), p.sql.clone()))
                {
                    // Its tab is gone: a fresh one on the same connection.
                    new_tab(state, connection, &sql);
                    run(state, vec![sql], None, fx);
                }
                None
            }
            _ => stay,
        },
        _ => stay,
    }
}

/// Asks what to do with open transactions before `then` (quit: all tabs; closing: that tab).
pub(super) fn transactions_popup(state: &State, then: AfterTransactions) -> Option<Popup> {
    let tabs: Vec<(u64, String, bool)> = state
        .tabs
        .iter()
        .filter(|t| match then {
            AfterTransactions::Quit => true,
            AfterTransactions::CloseTab(id) => t.id == id,
            // The monitor asks about the one it points at.
            AfterTransactions::Stay => t.id == state.tab().id,
        })
        .filter_map(|t| t.transaction.map(|tx| (t.id, t.title.clone(), tx.failed)))
        .collect();
    (!tabs.is_empty()).then_some(Popup::ConfirmTransactions { tabs, then })
}

// ---------------------------------------------------------------- popups

fn on_popup_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(popup) = state.popup.take() else {
        return;
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let page = (state.area.height as usize).saturating_sub(6).max(1);
    let popup = match popup {
        Popup::Help { .. } | Popup::Message { .. } if is_close(&key) => None,
        Popup::Help { scroll } => Some(Popup::Help {
            scroll: scroll_key(scroll, &key, page),
        }),
        Popup::Inspector(_) if is_close(&key) => None,
        Popup::Inspector(mut ins) => {
            ins.on_key(&key, state.area, fx);
            Some(Popup::Inspector(ins))
        }
        Popup::Message { title, text } => Some(Popup::Message { title, text }),
        Popup::ConfirmQuit(form) => match form.on_key(&key) {
            quit::QuitChoice::Stay => None,
            quit::QuitChoice::Editing(form) => Some(Popup::ConfirmQuit(form)),
            quit::QuitChoice::Quit(form) => {
                quit_stopping(state, &form, fx);
                None
            }
        },
        Popup::SparkStart(form) => match form.on_key(&key) {
            spark::FormOutcome::Editing(form) => Some(Popup::SparkStart(form)),
            spark::FormOutcome::Cancelled => None,
            spark::FormOutcome::Submitted { connection, op } => {
                if let SparkOp::Start { workgroup, .. } = &op {
                    state.flash(format!("starting a Spark session in {workgroup}…"), false);
                }
                fx.push(Effect::Worker(WorkerCmd::Spark { connection, op }));
                None
            }
        },
        Popup::SparkDetails {
            id,
            lines,
            mut selected,
        } => {
            let last = lines.as_ref().map_or(0, |l| l.len().saturating_sub(1));
            let close = matches!(key.code, KeyCode::Esc | KeyCode::Char('q'));
            match key.code {
                KeyCode::Char('y') => {
                    if let Some((label, value)) = lines.as_ref().and_then(|l| l.get(selected)) {
                        fx.push(Effect::CopyToClipboard(value.clone()));
                        state.flash(format!("copied {label}"), false);
                    }
                }
                KeyCode::Up | KeyCode::Char('k') => selected = selected.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') => selected = (selected + 1).min(last),
                _ => {}
            }
            (!close).then_some(Popup::SparkDetails {
                id,
                lines,
                selected,
            })
        }
        Popup::Export(form) => match form.on_key(&key) {
            export_form::FormOutcome::Editing(form) => Some(Popup::Export(form)),
            export_form::FormOutcome::Complete(form) => {
                fx.push(Effect::Worker(WorkerCmd::CompletePath {
                    typed: form.path.clone(),
                }));
                Some(Popup::Export(form))
            }
            export_form::FormOutcome::Cancelled => None,
            export_form::FormOutcome::Submitted(form) => {
                start_export(state, form, Overwrite::Refuse, fx);
                None
            }
        },
        Popup::ConfirmOverwrite(form) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                start_export(state, form, Overwrite::Replace, fx);
                None
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                // Back to the dialog to choose another name.
                Some(Popup::Export(form))
            }
            _ => Some(Popup::ConfirmOverwrite(form)),
        },
        Popup::ConfirmCancelExport => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                if let Some(run) = &state.export {
                    fx.push(Effect::Worker(WorkerCmd::Cancel { job: run.id }));
                    state.flash("cancelling the export…", false);
                }
                None
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => None,
            _ => Some(Popup::ConfirmCancelExport),
        },
        Popup::History(mut picker) => match picker.on_key(&key) {
            PickerKey::Editing => Some(Popup::History(picker)),
            PickerKey::Close | PickerKey::Run(_) => None,
            PickerKey::Choose(i) => {
                let Some(entry) = picker.entries.as_ref().and_then(|e| e.get(i)).cloned() else {
                    return;
                };
                if state.connection_kind(&entry.connection).is_some()
                    && state.tab().connection != entry.connection
                {
                    new_tab(state, entry.connection.clone(), "");
                }
                insert_into_editor(state, &entry.sql);
                None
            }
            PickerKey::Open(i) => {
                let Some(entry) = picker.entries.as_ref().and_then(|e| e.get(i)).cloned() else {
                    return;
                };
                let reopenable = matches!(
                    state.connection_kind(&entry.connection),
                    Some(ConnectionKind::Athena | ConnectionKind::RedshiftData)
                );
                match entry.server_id.filter(|_| reopenable) {
                    Some(server_id) => {
                        if state.tab().connection != entry.connection {
                            new_tab(state, entry.connection.clone(), "");
                        }
                        state.focus = Focus::Results;
                        run_with(
                            state,
                            vec![entry.sql],
                            vec![Vec::new()],
                            Some(server_id),
                            None,
                            fx,
                        );
                        None
                    }
                    None => {
                        state.flash(
                            "only Athena and Redshift Data results can be reopened (by their query id)",
                            true,
                        );
                        Some(Popup::History(picker))
                    }
                }
            }
        },
        Popup::Snippets(mut picker) => match picker.on_key(&key) {
            PickerKey::Editing => Some(Popup::Snippets(picker)),
            PickerKey::Close => None,
            PickerKey::Choose(i) => {
                let Some(snippet) = picker.snippets.as_ref().and_then(|s| s.get(i)).cloned() else {
                    return;
                };
                insert_into_editor(state, &snippet.text);
                None
            }
            PickerKey::Open(i) => {
                let Some(snippet) = picker.snippets.as_ref().and_then(|s| s.get(i)).cloned() else {
                    return;
                };
                open_snippet(state, snippet, false, fx);
                None
            }
            PickerKey::Run(i) => {
                let Some(snippet) = picker.snippets.as_ref().and_then(|s| s.get(i)).cloned() else {
                    return;
                };
                open_snippet(state, snippet, true, fx);
                // The `${…}` form, when the snippet has placeholders.
                state.popup.take()
            }
        },
        Popup::SaveSnippet { mut name, body } => match key.code {
            KeyCode::Esc => None,
            KeyCode::Enter if !name.trim().is_empty() => {
                save_snippet(state, name.trim().to_string(), body, false, fx);
                None
            }
            KeyCode::Backspace => {
                name.pop();
                Some(Popup::SaveSnippet { name, body })
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                name.push(c);
                Some(Popup::SaveSnippet { name, body })
            }
            _ => Some(Popup::SaveSnippet { name, body }),
        },
        Popup::ConfirmOverwriteSnippet { name, body } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                save_snippet(state, name, body, true, fx);
                None
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                Some(Popup::SaveSnippet { name, body })
            }
            _ => Some(Popup::ConfirmOverwriteSnippet { name, body }),
        },
        Popup::Params(form) => match form.on_key(&key) {
            FormOutcome::Editing(form) => Some(Popup::Params(form)),
            FormOutcome::Cancelled => {
                state.flash("run cancelled: no values given", false);
                None
            }
            FormOutcome::Submitted(form) if form.syntax == ValueSyntax::Template => {
                for f in &form.fields {
                    state
                        .param_memory
                        .insert(f.label.clone(), vec![f.value.clone()]);
                }
                run_template(state, &form, fx);
                None
            }
            FormOutcome::Submitted(form) => {
                let values = form.values_by_statement();
                for (sql, v) in form.statements.iter().zip(&values) {
                    if !v.is_empty() {
                        state.param_memory.insert(sql.clone(), v.clone());
                    }
                }
                run_with(state, form.statements, values, None, form.group, fx);
                None
            }
        },
        Popup::ConfirmTransactions { tabs, then } => match key.code {
            KeyCode::Char('c') | KeyCode::Char('C') if !tabs.iter().any(|t| t.2) => {
                end_transactions(state, &tabs, true, then, fx);
                None
            }
            KeyCode::Char('r') | KeyCode::Char('R') => {
                end_transactions(state, &tabs, false, then, fx);
                None
            }
            KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('N') => None,
            _ => Some(Popup::ConfirmTransactions { tabs, then }),
        },
        Popup::Password {
            connection,
            mut text,
            rerun,
        } => match key.code {
            KeyCode::Esc => None,
            KeyCode::Enter if !text.is_empty() => {
                fx.push(Effect::Worker(WorkerCmd::SetPassword {
                    connection,
                    password: std::mem::take(&mut text),
                }));
                if !rerun.is_empty() {
                    run(state, rerun, None, fx);
                }
                None
            }
            KeyCode::Backspace => {
                text.pop();
                Some(Popup::Password {
                    connection,
                    text,
                    rerun,
                })
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                text.push(c);
                Some(Popup::Password {
                    connection,
                    text,
                    rerun,
                })
            }
            _ => Some(Popup::Password {
                connection,
                text,
                rerun,
            }),
        },
        Popup::Monitor { selected, subject } => on_monitor_key(state, selected, subject, &key, fx),
        Popup::ConfirmCloseTab => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                close_tab(state, fx);
                None
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => None,
            _ => Some(Popup::ConfirmCloseTab),
        },
        Popup::ConnectionPicker { selected } => {
            let n = state.connections.len();
            match key.code {
                KeyCode::Esc => None,
                KeyCode::Up | KeyCode::Char('k') => Some(Popup::ConnectionPicker {
                    selected: selected.saturating_sub(1),
                }),
                KeyCode::Down | KeyCode::Char('j') => Some(Popup::ConnectionPicker {
                    selected: (selected + 1).min(n.saturating_sub(1)),
                }),
                KeyCode::Enter => {
                    if state.tab().transaction.is_some() {
                        state.flash(
                            "this tab has a transaction open: commit or roll back before changing its connection",
                            true,
                        );
                    } else if let Some(c) = state.connections.get(selected) {
                        let name = c.name.clone();
                        let direct = state.connection_kind(&state.tab().connection)
                            == Some(ConnectionKind::Redshift);
                        let tab = state.tab_mut();
                        // The tab's session (or direct connection) belongs to the connection it
                        // leaves: ended there, not left to idle out.
                        if tab.connection != name && (tab.session.take().is_some() || direct) {
                            fx.push(Effect::Worker(WorkerCmd::EndSession {
                                connection: tab.connection.clone(),
                                key: tab.session_key(),
                            }));
                        }
                        tab.connection = name.clone();
                        // A workgroup or reuse choice belonged to the previous connection.
                        tab.workgroup = None;
                        tab.result_reuse = None;
                        tab.spark = None;
                        state.mark_edited();
                        state.flash(format!("this tab now runs on `{name}`"), false);
                    }
                    None
                }
                _ => Some(Popup::ConnectionPicker { selected }),
            }
        }
        Popup::Input { purpose, mut text } => match key.code {
            KeyCode::Esc => {
                if purpose == InputPurpose::BrowserFilter {
                    state.browser.filter.clear();
                }
                None
            }
            KeyCode::Enter => {
                submit_input(state, purpose, text, fx);
                None
            }
            KeyCode::Backspace => {
                text.pop();
                live_input(state, purpose, &text);
                Some(Popup::Input { purpose, text })
            }
            KeyCode::Char('u') if ctrl => {
                text.clear();
                live_input(state, purpose, &text);
                Some(Popup::Input { purpose, text })
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                text.push(c);
                live_input(state, purpose, &text);
                Some(Popup::Input { purpose, text })
            }
            _ => Some(Popup::Input { purpose, text }),
        },
    };
    // An action above may have opened another popup (e.g. a message); keep that one.
    if state.popup.is_none() {
        state.popup = popup;
    }
}

fn is_close(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Esc | KeyCode::Char('q') | KeyCode::F(1))
        || (key.code == KeyCode::Enter)
}

fn scroll_key(scroll: usize, key: &KeyEvent, page: usize) -> usize {
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => scroll + 1,
        KeyCode::PageUp => scroll.saturating_sub(page),
        KeyCode::PageDown | KeyCode::Char(' ') => scroll + page,
        KeyCode::Home | KeyCode::Char('g') => 0,
        _ => scroll,
    }
}

/// Applies input as it is typed where that is cheap (the browser filter).
fn live_input(state: &mut State, purpose: InputPurpose, text: &str) {
    if purpose == InputPurpose::BrowserFilter {
        state.browser.filter = text.to_string();
        state.browser.selected = 0;
        state.browser.top = 0;
    }
}

fn submit_input(state: &mut State, purpose: InputPurpose, text: String, fx: &mut Vec<Effect>) {
    match purpose {
        InputPurpose::BrowserFilter => live_input(state, purpose, &text),
        InputPurpose::GridFilter => {
            let Some(r) = state.tab_mut().active_result_mut() else {
                return;
            };
            r.grid.row = 0;
            r.grid.top = 0;
            if text.is_empty() {
                clear_view(r);
            } else {
                set_view(r, ViewKind::Filter { needle: text }, fx);
            }
        }
        InputPurpose::RunLimit => match text.trim() {
            "" => {
                state.tab_mut().limit = None;
                state.flash("this tab uses the connection's limit again", false);
            }
            t => match t.parse::<u32>() {
                Ok(n) if n > 0 => {
                    state.tab_mut().limit = Some(n);
                    state.flash(format!("this tab pauses after {n} items"), false);
                }
                _ => state.flash(format!("`{t}` is not a number of items (1 or more)"), true),
            },
        },
    }
}
