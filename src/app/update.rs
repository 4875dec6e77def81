//! `update(&mut State, Msg) -> Vec<Effect>`: what every key and worker event does.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use super::browser::Children;
use super::editor::{EditorTab, TabSession, TabTransaction};
use super::export_form::{Destination, ExportForm, Scope};
use super::keymap::key_combo;
use super::layout;
use super::monitor::{self, Subject};
use super::params::{ParamForm, ValueSyntax};
use super::pickers::{HistoryPicker, SnippetPicker};
use super::popups::transactions_popup;
use super::results::{ResultTab, RunState, View, ViewKind};
use super::{
    AfterTransactions, Effect, EndingTransactions, ExportRun, Focus, InputPurpose, JobTarget, Msg,
    Popup, State,
};
use super::{quit, spark};
use crate::connectors::spark::SparkOp;
use crate::connectors::{
    GroupMode, JobEvent, NodeAction, NodeKind, QueryRequest, TransactionState,
};
use crate::export::Overwrite;
use crate::model::action::Action;
use crate::model::keys::KeyContext;
use crate::protocol::{
    ExportFailure, ExportTarget, JobOutcome, RowPick, SaveFailure, ViewSpec, WorkerCmd, WorkerEvent,
};
use crate::results::SortOrder;
use crate::store::config::ConnectionKind;
use crate::store::snippets::{Snippet, SnippetMeta};

/// The status bar while a cancel is under way (replaced when the job ends).
pub(super) const CANCELLING: &str = "cancelling…";

/// Drafts are saved this long after the last edit (and on quit).
const DRAFT_DELAY: Duration = Duration::from_millis(800);

/// What happens once at start: the browser opens the first tab's connection when it is the
/// embedded engine (cheap, and it shows a newcomer the sample tables at once).
pub fn on_start(state: &mut State) -> Vec<Effect> {
    let mut fx = Vec::new();
    let conn = state.tab().connection.clone();
    let is_local = state
        .connections
        .iter()
        .any(|c| c.name == conn && c.kind == crate::store::config::ConnectionKind::Local);
    if let Some(i) = state
        .browser
        .roots
        .iter()
        .position(|r| r.connection == conn)
        && is_local
        && let Some(row) = state.browser.rows().iter().position(|r| r.at == [i])
    {
        state.browser.selected = row;
        expand_selected(state, false, &mut fx);
    }
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
        Msg::Tick(now) => {
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
                spark::tick(state, &mut fx);
            }
        }
        Msg::Worker(ev) => on_worker(state, ev, &mut fx),
        Msg::Terminate => quit_now(state, &mut fx),
    }
    fx
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
        super::popups::on_key(state, key, fx);
        return;
    }
    let action = key_combo(&key).and_then(|k| state.keymap.lookup(context(state.focus), &k));
    match action {
        Some(Action::Cancel) if state.focus == Focus::Editor && !tab_has_active_job(state) => {
            // No job to cancel: Ctrl-C keeps its copy meaning in the editor.
            let tab = state.tab_mut();
            if tab.text.selection_range().is_some() {
                tab.text.copy();
                fx.push(Effect::CopyToClipboard(tab.text.yank_text()));
            }
        }
        Some(action) => on_action(state, action, fx),
        None if state.focus == Focus::Editor => on_editor_key(state, key),
        None => {}
    }
}

fn on_editor_key(state: &mut State, key: KeyEvent) {
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

fn on_paste(state: &mut State, text: &str) {
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

fn editor_size(state: &State) -> (usize, usize) {
    let e = state.panes().editor;
    let gutter = state.tab().text.lines().len().to_string().len() + 1;
    (
        layout::editor_rows(e),
        (e.width as usize).saturating_sub(2 + gutter + 1),
    )
}

fn tab_has_active_job(state: &State) -> bool {
    state.tab().results.iter().any(|r| r.state.is_active())
}

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
        Action::NewTab => {
            let conn = state.tab().connection.clone();
            new_tab(state, conn, "");
        }
        Action::CloseTab => {
            let tab = state.tab().id;
            if let Some(popup) = transactions_popup(state, AfterTransactions::CloseTab(tab)) {
                state.popup = Some(popup);
            } else if state.tab().contents().trim().is_empty() {
                close_tab(state, fx);
            } else {
                state.popup = Some(Popup::ConfirmCloseTab);
            }
        }
        Action::NextTab => state.active_tab = (state.active_tab + 1) % state.tabs.len(),
        Action::PrevTab => {
            state.active_tab = (state.active_tab + state.tabs.len() - 1) % state.tabs.len()
        }
        Action::RunStatement | Action::RunAll if state.tab().spark.is_some() => {
            // A Spark tab's code is one calculation: the selection, else the whole tab.
            let tab = state.tab();
            let code = selected_text(tab).unwrap_or_else(|| tab.contents().trim().to_string());
            let starting = tab
                .spark
                .as_deref()
                .and_then(|id| state.spark.get(id))
                .filter(|k| matches!(k.session.state.as_str(), "CREATING" | "CREATED"))
                .map(|k| {
                    (
                        crate::model::format::short_id(&k.session.id).to_string(),
                        k.session.state.clone(),
                    )
                });
            if let Some((id, status)) = starting {
                state.flash(
                    format!("Spark session {id} is still starting ({status}): it runs calculations once IDLE"),
                    true,
                );
            } else if code.is_empty() {
                state.flash("nothing to run: the tab is empty", true);
            } else {
                run_with(state, vec![code], vec![Vec::new()], None, None, fx);
            }
        }
        Action::RunStatement => match state.tab().statement_to_run() {
            Some(sql) => run(state, vec![sql], None, fx),
            None => state.flash("nothing to run: the cursor is not on a statement", true),
        },
        Action::RunAll => {
            let all = state.tab().all_statements();
            if all.is_empty() {
                state.flash("nothing to run: the tab has no statements", true);
            } else {
                // DynamoDB runs a tab's statements in one BatchExecuteStatement.
                let dynamo = state.connection_kind(&state.tab().connection)
                    == Some(ConnectionKind::Dynamodb);
                let group = (dynamo && all.len() > 1).then_some(GroupMode::Batch);
                run(state, all, group, fx);
            }
        }
        Action::RunTransaction => {
            let all = state.tab().all_statements();
            let kind = state.connection_kind(&state.tab().connection);
            if kind == Some(ConnectionKind::Redshift) && !all.is_empty() {
                // The tab's own connection: BEGIN, the statements in turn (a failure skips the
                // rest, leaving the transaction failed for a rollback), COMMIT.
                let wrapped = std::iter::once("BEGIN".to_string())
                    .chain(all)
                    .chain(std::iter::once("COMMIT".to_string()))
                    .collect();
                run(state, wrapped, None, fx);
            } else if !matches!(
                kind,
                Some(ConnectionKind::Dynamodb | ConnectionKind::RedshiftData)
            ) {
                state.flash(
                    "transactions of a tab's statements run on DynamoDB, Redshift Data and direct Redshift/PostgreSQL connections: this tab is on none of them",
                    true,
                );
            } else if all.is_empty() {
                state.flash("nothing to run: the tab has no statements", true);
            } else {
                run(state, all, Some(GroupMode::Transaction), fx);
            }
        }
        Action::Cancel => cancel_tab_jobs(state, fx),
        Action::Export => open_export(state),
        Action::NextResultTab | Action::PrevResultTab => {
            let tab = state.tab_mut();
            let n = tab.results.len();
            if n > 0 {
                tab.active_result = if action == Action::NextResultTab {
                    (tab.active_result + 1) % n
                } else {
                    (tab.active_result + n - 1) % n
                };
            }
        }
        Action::ChooseConnection => {
            let current = state.tab().connection.clone();
            let selected = state
                .connections
                .iter()
                .position(|c| c.name == current)
                .unwrap_or(0);
            state.popup = Some(Popup::ConnectionPicker { selected });
        }
        Action::SetRunLimit => {
            if state.connection_kind(&state.tab().connection) != Some(ConnectionKind::Dynamodb) {
                state.flash("a DynamoDB setting: this tab is not on DynamoDB", true);
                return;
            }
            let text = state.tab().limit.map(|l| l.to_string()).unwrap_or_default();
            state.popup = Some(Popup::Input {
                purpose: InputPurpose::RunLimit,
                text,
            });
        }
        Action::ToggleConsistentRead | Action::ToggleIndexCapacity => {
            if state.connection_kind(&state.tab().connection) != Some(ConnectionKind::Dynamodb) {
                state.flash("a DynamoDB setting: this tab is not on DynamoDB", true);
                return;
            }
            let tab = state.tab_mut();
            let text = if action == Action::ToggleConsistentRead {
                let on = !tab.consistent_read.unwrap_or(false);
                tab.consistent_read = Some(on);
                if on {
                    "consistent reads on for this tab (twice the read capacity)"
                } else {
                    "consistent reads off for this tab (eventually consistent)"
                }
            } else {
                tab.capacity_by_index = !tab.capacity_by_index;
                if tab.capacity_by_index {
                    "consumed capacity per index (INDEXES) for this tab"
                } else {
                    "consumed capacity in total for this tab"
                }
            };
            state.flash(text, false);
        }
        Action::History => {
            state.popup = Some(Popup::History(HistoryPicker::loading()));
            fx.push(Effect::Worker(WorkerCmd::LoadHistory));
        }
        Action::Snippets => {
            state.popup = Some(Popup::Snippets(SnippetPicker::loading()));
            fx.push(Effect::Worker(WorkerCmd::LoadSnippets));
        }
        Action::SaveSnippet => {
            let tab = state.tab();
            let body = selected_text(tab).unwrap_or_else(|| tab.contents());
            if body.trim().is_empty() {
                state.flash("nothing to save: the tab is empty", true);
            } else {
                state.popup = Some(Popup::SaveSnippet {
                    name: String::new(),
                    body,
                });
            }
        }
        Action::ToggleSession => toggle_session(state),
        Action::EndSession => end_session(state, fx),
        Action::Monitor => {
            let first = monitor::entries(state).first().map(|e| e.subject);
            state.popup = Some(Popup::Monitor {
                selected: 0,
                subject: first,
            })
        }
        Action::ToggleResultReuse => {
            let connection = state.tab().connection.clone();
            if state.connection_kind(&connection) != Some(ConnectionKind::Athena) {
                state.flash(
                    "result reuse is an Athena setting: this tab is not on Athena",
                    true,
                );
                return;
            }
            let configured = state
                .connections
                .iter()
                .find(|c| c.name == connection)
                .is_some_and(|c| c.result_reuse);
            let on = !state.tab().result_reuse.unwrap_or(configured);
            state.tab_mut().result_reuse = Some(on);
            state.flash(
                if on {
                    "result reuse on for this tab: a recent result of the same query is shown without scanning again"
                } else {
                    "result reuse off for this tab: every run scans again"
                },
                false,
            );
        }
        _ => match state.focus {
            Focus::Results => grid_action(state, action, fx),
            Focus::Browser => browser_action(state, action, fx),
            Focus::Editor => {}
        },
    }
}

pub(super) fn new_tab(state: &mut State, connection: String, text: &str) {
    let id = state.next_id();
    let tab = EditorTab::new(id, format!("tab {id}"), connection, text, (0, 0));
    state.tabs.push(tab);
    state.active_tab = state.tabs.len() - 1;
    state.focus = Focus::Editor;
}

pub(super) fn close_tab(state: &mut State, fx: &mut Vec<Effect>) {
    let i = state.active_tab.min(state.tabs.len() - 1);
    state.active_tab = i;
    cancel_tab_jobs(state, fx);
    let tab = state.tabs.remove(i);
    state.jobs.retain(|_, t| t.tab != tab.id);
    state.archive_results(&tab, &tab.results);
    // Its session would idle on the server (holding temp tables) until its keep-alive ends; a
    // direct connection would stay open.
    let direct = state.connection_kind(&tab.connection) == Some(ConnectionKind::Redshift);
    if tab.session.is_some() || direct {
        fx.push(Effect::Worker(WorkerCmd::EndSession {
            connection: tab.connection.clone(),
            key: tab.session_key(),
        }));
    }
    if state.tabs.is_empty() {
        new_tab(state, tab.connection, "");
    }
    state.active_tab = state.active_tab.min(state.tabs.len() - 1);
    state.mark_edited();
}

/// The editor's selection, when there is one.
fn selected_text(tab: &EditorTab) -> Option<String> {
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

/// A snippet's connection when it names a configured one, else the tab's.
fn snippet_connection(state: &State, snippet: &Snippet) -> String {
    snippet
        .meta
        .connection
        .clone()
        .filter(|c| state.connection_kind(c).is_some())
        .unwrap_or_else(|| state.tab().connection.clone())
}

/// Opens the snippet in a new tab bound to its connection; runs it when `run_now` (asking for
/// its `${…}` values first).
pub(super) fn open_snippet(
    state: &mut State,
    snippet: Snippet,
    run_now: bool,
    fx: &mut Vec<Effect>,
) {
    let connection = snippet_connection(state, &snippet);
    new_tab(state, connection, &snippet.text);
    state.tab_mut().title = snippet.name.clone();
    if !run_now {
        return;
    }
    match ParamForm::for_template(&snippet.text, &state.param_memory) {
        Some(form) => state.popup = Some(Popup::Params(form)),
        None => {
            let all = state.tab().all_statements();
            run(state, all, None, fx);
        }
    }
}

/// Runs a snippet's text with its `${…}` values: as real parameters where the service has them
/// (Redshift Data `:name`, DynamoDB `?`), else substituted with the quoting rules of
/// `sql::template`.
pub(super) fn run_template(state: &mut State, form: &ParamForm, fx: &mut Vec<Effect>) {
    let Some(text) = form.statements.first() else {
        return;
    };
    let Some(kind) = state.connection_kind(&state.tab().connection) else {
        return;
    };
    let sets: Vec<String> = form
        .fields
        .iter()
        .map(|f| {
            format!(
                "{}={}",
                f.label.trim_start_matches("${").trim_end_matches('}'),
                f.value
            )
        })
        .collect();
    let snippet = Snippet {
        name: state.tab().title.clone(),
        rel_path: String::new(),
        path: std::path::PathBuf::new(),
        meta: Default::default(),
        text: text.clone(),
    };
    let (sql, values) = match crate::cli::render_snippet(&snippet, &sets, kind) {
        Ok(r) => r,
        Err(e) => {
            state.flash(e, true);
            return;
        }
    };
    let statements: Vec<String> = crate::sql::split_statements(&sql)
        .into_iter()
        .map(|s| s.text)
        .collect();
    let params = match kind {
        ConnectionKind::RedshiftData => {
            // `name=value`, as `quarry run --param` takes them.
            let by_name: std::collections::HashMap<&str, &str> =
                values.iter().filter_map(|v| v.split_once('=')).collect();
            statements
                .iter()
                .map(|s| {
                    crate::sql::named_params(s)
                        .iter()
                        .filter_map(|n| by_name.get(n.as_str()).map(|v| v.to_string()))
                        .collect()
                })
                .collect()
        }
        _ if !values.is_empty() => {
            let mut rest = values.as_slice();
            statements
                .iter()
                .map(|s| {
                    let n = crate::sql::positional_count(s).min(rest.len());
                    let (mine, others) = rest.split_at(n);
                    rest = others;
                    mine.to_vec()
                })
                .collect()
        }
        _ => vec![Vec::new(); statements.len()],
    };
    run_with(state, statements, params, None, None, fx);
}

/// Saves `body` as snippet `name` on the worker, bound to the tab's connection; the answer
/// (saved, or exists: confirm) comes back as `SnippetSaved`.
pub(super) fn save_snippet(
    state: &mut State,
    name: String,
    body: String,
    overwrite: bool,
    fx: &mut Vec<Effect>,
) {
    let meta = SnippetMeta {
        connection: Some(state.tab().connection.clone()),
        ..SnippetMeta::default()
    };
    state.snippet_save = Some(body.clone());
    fx.push(Effect::Worker(WorkerCmd::SaveSnippet {
        name,
        text: body,
        meta,
        overwrite,
    }));
}

/// Switches the tab between running in a Data API session and without one.
fn toggle_session(state: &mut State) {
    let connection = state.tab().connection.clone();
    let Some(conn) = state.connections.iter().find(|c| c.name == connection) else {
        return;
    };
    if conn.kind != ConnectionKind::RedshiftData {
        state.flash(
            "sessions are a Redshift Data setting: this tab is not on Redshift Data",
            true,
        );
        return;
    }
    let configured = conn.sessions;
    let on = !state.tab().use_session.unwrap_or(configured);
    state.tab_mut().use_session = Some(on);
    state.flash(
        if on {
            "this tab runs in a session: temp tables and SET last between runs"
        } else {
            "this tab runs without a session: every statement starts afresh"
        },
        false,
    );
}

/// Ends the tab's Data API session on the server (the worker reports back).
pub(super) fn end_session(state: &mut State, fx: &mut Vec<Effect>) {
    let tab = state.tab_mut();
    let Some(session) = tab.session.take() else {
        state.flash("this tab holds no session", false);
        return;
    };
    fx.push(Effect::Worker(WorkerCmd::EndSession {
        connection: tab.connection.clone(),
        key: tab.session_key(),
    }));
    state.flash(
        format!(
            "ending session {}…",
            crate::model::format::short_id(&session.id)
        ),
        false,
    );
}

/// How the connection takes `?` placeholder values (asked for in a form), if it does.
fn parameter_syntax(state: &State, connection: &str) -> Option<ValueSyntax> {
    match state.connection_kind(connection)? {
        ConnectionKind::Athena => Some(ValueSyntax::Sql),
        ConnectionKind::Dynamodb => Some(ValueSyntax::Json),
        ConnectionKind::RedshiftData => Some(ValueSyntax::Named),
        _ => None,
    }
}

/// Starts `statements` in the active tab as one run, first asking for placeholder values when
/// the connection takes parameters and the statements have `?`s.
pub(super) fn run(
    state: &mut State,
    statements: Vec<String>,
    group: Option<GroupMode>,
    fx: &mut Vec<Effect>,
) {
    let connection = state.tab().connection.clone();
    if let Some(syntax) = parameter_syntax(state, &connection)
        && let Some(mut form) = ParamForm::for_run(&statements, &state.param_memory, syntax)
    {
        form.group = group;
        state.popup = Some(Popup::Params(form));
        return;
    }
    let none = vec![Vec::new(); statements.len()];
    run_with(state, statements, none, None, group, fx);
}

/// Starts `statements` (with their parameter values) as one run: one result tab each, in order.
/// `reopen` follows an existing server execution instead of starting the (single) statement.
pub(super) fn run_with(
    state: &mut State,
    statements: Vec<String>,
    params: Vec<Vec<String>>,
    reopen: Option<String>,
    group_mode: Option<GroupMode>,
    fx: &mut Vec<Effect>,
) {
    let group = state.next_id();
    let connection = state.tab().connection.clone();
    let mut ids = Vec::new();
    for (sql, params) in statements.into_iter().zip(params) {
        let id = state.next_id();
        ids.push(id);
        let mut result = ResultTab::new(id, group, sql);
        result.params = params;
        result.reopen = reopen.clone();
        result.service_group = group_mode;
        state.push_result(result);
    }
    // Show the first result of the run; the others follow as they start.
    let tab = state.tab_mut();
    if let Some(first) = ids.first() {
        tab.active_result = tab.results.iter().position(|r| r.id == *first).unwrap_or(0);
    }
    let tab_id = tab.id;
    match group_mode {
        Some(mode) => start_service_group(state, tab_id, &ids, &connection, mode, fx),
        None => {
            if let Some(first) = ids.first() {
                start_result(state, tab_id, *first, &connection, fx);
            }
        }
    }
}

/// Goes on with a paused result from where it stopped, adding to the rows already loaded.
fn load_more(state: &mut State, fx: &mut Vec<Effect>) {
    let tab = state.tab();
    let Some(r) = tab.active_result() else {
        return;
    };
    if r.state.is_active() || r.resume.is_none() {
        state.flash("nothing more to load for this result", false);
        return;
    }
    let (tab_id, result_id, connection) = (tab.id, r.id, tab.connection.clone());
    start_result(state, tab_id, result_id, &connection, fx);
}

/// Starts every result of a group at once: the service runs them in one call.
fn start_service_group(
    state: &mut State,
    tab_id: u64,
    result_ids: &[u64],
    connection: &str,
    mode: GroupMode,
    fx: &mut Vec<Effect>,
) {
    let mut jobs = Vec::new();
    let mut requests = Vec::new();
    // Redshift Data runs the batch in the tab's session (temp tables created earlier are seen).
    let session = state
        .tabs
        .iter()
        .find(|t| t.id == tab_id)
        .map(|t| QueryRequest {
            session_key: Some(t.session_key()),
            use_session: t.use_session,
            label: Some(t.title.clone()),
            ..QueryRequest::default()
        });
    for &result in result_ids {
        let job = state.next_id();
        let now = state.now;
        let Some(r) = state
            .tabs
            .iter_mut()
            .find(|t| t.id == tab_id)
            .and_then(|t| t.results.iter_mut().find(|r| r.id == result))
        else {
            continue;
        };
        r.job = Some(job);
        r.state = RunState::Running {
            service_state: None,
        };
        r.started = Some(now);
        requests.push(QueryRequest {
            sql: r.sql.clone(),
            params: r.params.clone(),
            ..session.clone().unwrap_or_default()
        });
        jobs.push(job);
        state.jobs.insert(
            job,
            JobTarget {
                tab: tab_id,
                result,
            },
        );
    }
    fx.push(Effect::Worker(WorkerCmd::RunGroup {
        jobs,
        connection: connection.to_string(),
        mode,
        requests,
    }));
}

/// When the last statement of a batch or transaction ends: n succeeded / m failed.
fn summarize_service_group(state: &mut State, tab_id: u64, group: u64) {
    let Some(tab) = state.tabs.iter().find(|t| t.id == tab_id) else {
        return;
    };
    let members: Vec<_> = tab.results.iter().filter(|r| r.group == group).collect();
    let Some(mode) = members.first().and_then(|r| r.service_group) else {
        return;
    };
    if members.iter().any(|r| r.state.is_active()) {
        return;
    }
    let ok = members
        .iter()
        .filter(|r| matches!(r.state, RunState::Succeeded { .. }))
        .count();
    let failed = members.len() - ok;
    state.flash(
        format!("{}: {ok} succeeded, {failed} failed", mode.name()),
        failed > 0,
    );
}

fn start_result(
    state: &mut State,
    tab_id: u64,
    result_id: u64,
    connection: &str,
    fx: &mut Vec<Effect>,
) {
    let job = state.next_id();
    let now = state.now;
    let Some(tab) = state.tabs.iter_mut().find(|t| t.id == tab_id) else {
        return;
    };
    let Some(r) = tab.results.iter_mut().find(|r| r.id == result_id) else {
        return;
    };
    r.job = Some(job);
    r.state = RunState::Running {
        service_state: None,
    };
    r.started = Some(now);
    let request = QueryRequest {
        sql: r.sql.clone(),
        params: r.params.clone(),
        workgroup: tab.workgroup.clone(),
        result_reuse: tab.result_reuse,
        reopen: r.reopen.clone(),
        consistent_read: tab.consistent_read,
        capacity_by_index: tab.capacity_by_index,
        limit: tab.limit,
        resume: r.resume.take(),
        session_key: Some(tab.session_key()),
        use_session: tab.use_session,
        label: Some(tab.title.clone()),
        spark_session: tab.spark.clone(),
        ..QueryRequest::default()
    };
    fx.push(Effect::Worker(WorkerCmd::Run {
        job,
        connection: connection.to_string(),
        request,
    }));
    state.jobs.insert(
        job,
        JobTarget {
            tab: tab_id,
            result: result_id,
        },
    );
}

fn cancel_tab_jobs(state: &mut State, fx: &mut Vec<Effect>) {
    let mut any = false;
    for r in &mut state.tab_mut().results {
        match r.state {
            RunState::Running { .. } => {
                if let Some(job) = r.job {
                    fx.push(Effect::Worker(WorkerCmd::Cancel { job }));
                    any = true;
                }
            }
            RunState::Queued => {
                r.state = RunState::Cancelled;
                any = true;
            }
            _ => {}
        }
    }
    if any {
        state.flash(CANCELLING, false);
    } else {
        state.flash("no running job in this tab", false);
    }
}

fn cancel_all_jobs(state: &mut State, fx: &mut Vec<Effect>) {
    for job in state.jobs.keys() {
        fx.push(Effect::Worker(WorkerCmd::Cancel { job: *job }));
    }
}

fn request_quit(state: &mut State, fx: &mut Vec<Effect>) {
    if let Some(popup) = transactions_popup(state, AfterTransactions::Quit) {
        state.popup = Some(popup);
        return;
    }
    match quit::form(state) {
        Some(form) => state.popup = Some(Popup::ConfirmQuit(form)),
        None => quit_now(state, fx),
    }
}

/// Quits, stopping everything still running or held on a server (SIGTERM, or nothing to ask).
fn quit_now(state: &mut State, fx: &mut Vec<Effect>) {
    match quit::form(state) {
        Some(form) => quit_stopping(state, &form, fx),
        None => quit_leaving_jobs(state, fx),
    }
}

/// Quits, stopping what `form` has ticked: queries are cancelled on their service, Redshift Data
/// sessions ended, Spark sessions terminated. What is not ticked keeps running there.
pub(super) fn quit_stopping(state: &mut State, form: &quit::QuitForm, fx: &mut Vec<Effect>) {
    let mut queries = 0;
    let mut sessions = 0;
    for item in &form.items {
        match item.entry.subject {
            Subject::Job { tab, result } => {
                let job = state
                    .jobs
                    .iter()
                    .find(|(_, t)| t.tab == tab && t.result == result)
                    .map(|(job, _)| *job);
                if let Some(job) = job {
                    if item.stop {
                        queries += 1;
                    } else {
                        // Left running: the exit does not wait for it.
                        state.jobs.remove(&job);
                    }
                }
            }
            Subject::Session { tab } if item.stop => {
                if let Some(t) = state.tabs.iter_mut().find(|t| t.id == tab)
                    && t.session.take().is_some()
                {
                    fx.push(Effect::Worker(WorkerCmd::EndSession {
                        connection: t.connection.clone(),
                        key: t.session_key(),
                    }));
                    state.stops_pending += 1;
                    sessions += 1;
                }
            }
            Subject::Spark { index } if item.stop => {
                if let Some(known) = state.spark.list.get(index) {
                    fx.push(Effect::Worker(WorkerCmd::Spark {
                        connection: known.connection.clone(),
                        op: SparkOp::Terminate {
                            id: known.session.id.clone(),
                        },
                    }));
                    state.stops_pending += 1;
                    sessions += 1;
                }
            }
            _ => {}
        }
    }
    // The rest (embedded engine, DynamoDB) end with the process; cancelled, they tidy up.
    cancel_all_jobs(state, fx);
    if queries + sessions > 0 {
        state.flash(
            format!("stopping {queries} query(ies) and {sessions} session(s) on the servers…"),
            false,
        );
    }
    quit_leaving_jobs(state, fx);
}

/// Quits without cancelling anything: queries already on a service keep running there.
fn quit_leaving_jobs(state: &mut State, fx: &mut Vec<Effect>) {
    fx.push(Effect::SaveDrafts(state.drafts()));
    state.drafts_dirty = false;
    state.quitting = true;
    fx.push(Effect::Quit);
}

/// A job ended while the quit dialog was open: its line goes (the ticks of the others stay);
/// with nothing left to ask about, Quarry quits as asked.
fn refresh_quit_form(state: &mut State, old: quit::QuitForm, fx: &mut Vec<Effect>) {
    match quit::form(state) {
        None => {
            state.popup = None;
            quit_now(state, fx);
        }
        Some(mut form) => {
            for item in &mut form.items {
                if let Some(before) = old
                    .items
                    .iter()
                    .find(|o| o.entry.subject == item.entry.subject)
                {
                    item.stop = before.stop;
                }
            }
            form.selected = old.selected.min(form.items.len().saturating_sub(1));
            state.popup = Some(Popup::ConfirmQuit(form));
        }
    }
}

fn session_ended(state: &mut State, outcome: Result<Option<String>, String>) {
    match outcome {
        Ok(Some(id)) => state.flash(
            format!(
                "session {} ended: its temp tables are gone",
                crate::model::format::short_id(&id)
            ),
            false,
        ),
        Ok(None) => {}
        Err(e) => state.flash(e, true),
    }
}

/// Puts the cursor where the server placed an error, when the statement is still in the tab.
fn jump_to_error(state: &mut State, tab: u64, error: &str, sql: &str) {
    let Some((line, column)) = crate::sql::error_location(error) else {
        return;
    };
    let (rows, cols) = editor_size(state);
    let Some(t) = state.tabs.iter_mut().find(|t| t.id == tab) else {
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

/// Commits or rolls back the transactions of `tabs`; `then` follows when the server answered.
pub(super) fn end_transactions(
    state: &mut State,
    tabs: &[(u64, String, bool)],
    commit: bool,
    then: AfterTransactions,
    fx: &mut Vec<Effect>,
) {
    let mut keys = Vec::new();
    for (id, _, _) in tabs {
        if let Some(tab) = state.tabs.iter().find(|t| t.id == *id) {
            keys.push(tab.session_key());
            fx.push(Effect::Worker(WorkerCmd::EndTransaction {
                connection: tab.connection.clone(),
                key: tab.session_key(),
                commit,
            }));
        }
    }
    let busy = tabs.iter().any(|(id, _, _)| {
        state
            .tabs
            .iter()
            .any(|t| t.id == *id && t.results.iter().any(|r| r.state.is_active()))
    });
    let verb = if commit { "committing" } else { "rolling back" };
    let wait = if busy {
        " (after the running statement)"
    } else {
        ""
    };
    state.flash(format!("{verb}…{wait}"), false);
    state.ending_transactions = Some(EndingTransactions { keys, then });
}

/// The server answered a commit or rollback: once all have, do what was asked.
fn transaction_ended(
    state: &mut State,
    key: &str,
    outcome: Result<String, String>,
    fx: &mut Vec<Effect>,
) {
    if outcome.is_ok()
        && let Some(tab) = state.tabs.iter_mut().find(|t| t.session_key() == key)
    {
        tab.transaction = None;
    }
    let Some(mut ending) = state.ending_transactions.take() else {
        return;
    };
    ending.keys.retain(|k| k != key);
    match outcome {
        Err(e) => {
            // Nothing more happens on its own: the user sees why and decides again.
            state.popup = Some(Popup::Message {
                title: "Transaction not ended".into(),
                text: format!(
                    "{e}\n\nThe tab stays open; its transaction state is shown in the status bar."
                ),
            });
            return;
        }
        Ok(what) => state.flash(what, false),
    }
    if !ending.keys.is_empty() {
        state.ending_transactions = Some(ending);
        return;
    }
    match ending.then {
        AfterTransactions::Stay => {}
        AfterTransactions::Quit => request_quit(state, fx),
        AfterTransactions::CloseTab(id) => {
            if let Some(i) = state.tabs.iter().position(|t| t.id == id) {
                state.active_tab = i;
                close_tab(state, fx);
            }
        }
    }
}

fn open_export(state: &mut State) {
    if state.export.is_some() {
        state.popup = Some(Popup::ConfirmCancelExport);
        return;
    }
    let Some(r) = state.tab().active_result() else {
        state.flash("nothing to export: run a query first", true);
        return;
    };
    if r.rows.is_none() {
        state.flash("nothing to export: this result has no rows", true);
        return;
    }
    state.popup = Some(Popup::Export(ExportForm::new(
        r.id,
        r.grid.anchor.is_some(),
    )));
}

/// Starts the export the form describes (in the background, one at a time).
pub(super) fn start_export(
    state: &mut State,
    form: ExportForm,
    overwrite: Overwrite,
    fx: &mut Vec<Effect>,
) {
    let connection = state.tab().connection.clone();
    let dynamo = state.connection_kind(&connection) == Some(ConnectionKind::Dynamodb);
    let Some(r) = state.tab().results.iter().find(|r| r.id == form.result) else {
        state.flash("that result is gone", true);
        return;
    };
    let Some(rows) = r.rows.clone() else {
        return;
    };
    if form.scope == Scope::Whole && r.state.is_active() {
        state.flash(
            "the query is still running: export when it is done (or the view, which is what is loaded)",
            true,
        );
        return;
    }
    if form.destination == Destination::Clipboard && form.format.is_binary() {
        state.flash(
            format!("{} is a binary format: export it to a file", form.format),
            true,
        );
        return;
    }
    let view_order = || -> Vec<u32> {
        (0..r.visible_rows())
            .map(|i| r.data_row(i) as u32)
            .collect()
    };
    let (row_lo, row_hi, col_lo, col_hi) = r.selection();
    let pick = match form.scope {
        Scope::Whole => RowPick::default(),
        Scope::View => RowPick {
            rows: Some(view_order()),
            columns: None,
        },
        Scope::Selection => RowPick {
            rows: Some((row_lo..=row_hi).map(|i| r.data_row(i) as u32).collect()),
            columns: Some((col_lo..=col_hi).collect()),
        },
        Scope::Column => RowPick {
            rows: Some(view_order()),
            columns: Some(vec![r.grid.col]),
        },
        Scope::Row => RowPick {
            rows: Some(vec![r.data_row(r.grid.row) as u32]),
            columns: None,
        },
    };
    // "Whole result" means the whole result on the server: a paused run goes on to its end; a
    // result cut at `max_loaded_rows` is fetched again whole (by its id where the service keeps
    // results, else by running it again) instead of the rows loaded.
    let mut pick = pick;
    let rest = if form.scope != Scope::Whole {
        None
    } else if r.truncated {
        pick.rows = Some(Vec::new());
        let reopen = match state.connection_kind(&connection) {
            Some(ConnectionKind::Athena | ConnectionKind::RedshiftData) => {
                r.stats.server_id.clone()
            }
            _ => None,
        };
        Some((
            connection.clone(),
            QueryRequest {
                sql: r.sql.clone(),
                params: r.params.clone(),
                reopen,
                ..QueryRequest::default()
            },
        ))
    } else if dynamo {
        r.resume.clone().map(|token| {
            let request = QueryRequest {
                sql: r.sql.clone(),
                params: r.params.clone(),
                resume: Some(token),
                ..QueryRequest::default()
            };
            (connection.clone(), request)
        })
    } else {
        None
    };
    let target = match form.destination {
        Destination::File => ExportTarget::File {
            path: crate::store::paths::expand_home(form.path.trim()),
            overwrite,
        },
        Destination::Clipboard => ExportTarget::Clipboard,
    };
    let id = state.next_id();
    let more = if rest.is_some() {
        " and the rest from the service"
    } else {
        ""
    };
    state.flash(format!("exporting {}{more}…", form.scope.label()), false);
    fx.push(Effect::Worker(WorkerCmd::Export {
        id,
        format: form.format,
        rows,
        pick,
        target,
        rest,
    }));
    state.export = Some(ExportRun {
        id,
        form,
        rows: 0,
        bytes: 0,
        started: state.now,
    });
}

// ---------------------------------------------------------------- grid

fn grid_page(state: &State) -> (usize, usize) {
    let r = state.panes().results;
    (layout::grid_rows(r), layout::grid_width(r))
}

fn keep_visible(state: &mut State) {
    let (page, width) = grid_page(state);
    let (rows, cols) = editor_size(state);
    let browser_page = layout::browser_rows(state.panes().browser);
    for tab in &mut state.tabs {
        tab.scroll_to_cursor(rows, cols);
        for r in &mut tab.results {
            r.clamp_cursor(page, width);
        }
    }
    state.browser.clamp(browser_page);
}

fn grid_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    if action == Action::LoadMore {
        load_more(state, fx);
        return;
    }
    if action == Action::Inspect {
        super::inspector::open(state, fx);
        return;
    }
    // Copies of a row or a range go through the export (TSV with its header: it pastes into
    // a spreadsheet), off the UI loop whatever their size.
    let selecting = state
        .tab()
        .active_result()
        .is_some_and(|r| r.grid.anchor.is_some());
    let copy_scope = match action {
        Action::CopyRow => Some(Scope::Row),
        Action::CopyCell if selecting => Some(Scope::Selection),
        _ => None,
    };
    if let Some(scope) = copy_scope {
        let Some(r) = state.tab_mut().active_result_mut() else {
            return;
        };
        if r.num_columns() == 0 || r.visible_rows() == 0 {
            return;
        }
        let mut form = ExportForm::new(r.id, selecting);
        form.format = crate::export::Format::Tsv;
        form.scope = scope;
        form.destination = Destination::Clipboard;
        if state.export.is_some() {
            state.flash("an export is running: copy when it is done", true);
            return;
        }
        start_export(state, form, Overwrite::Replace, fx);
        if let Some(r) = state.tab_mut().active_result_mut() {
            r.grid.anchor = None;
        }
        return;
    }
    let (page, width) = grid_page(state);
    let max_width = state.max_column_width;
    let Some(r) = state.tab_mut().active_result_mut() else {
        return;
    };
    let rows = r.visible_rows();
    let cols = r.num_columns();
    let g = &mut r.grid;
    match action {
        Action::Up => g.row = g.row.saturating_sub(1),
        Action::Down => g.row = (g.row + 1).min(rows.saturating_sub(1)),
        Action::Left => g.col = g.col.saturating_sub(1),
        Action::Right => g.col = (g.col + 1).min(cols.saturating_sub(1)),
        Action::PageUp => g.row = g.row.saturating_sub(page.max(1)),
        Action::PageDown => g.row = (g.row + page.max(1)).min(rows.saturating_sub(1)),
        Action::Top => g.row = 0,
        Action::Bottom => g.row = rows.saturating_sub(1),
        Action::FirstColumn => g.col = 0,
        Action::LastColumn => g.col = cols.saturating_sub(1),
        Action::SelectRange => {
            g.anchor = match g.anchor {
                Some(_) => None,
                None if rows > 0 && cols > 0 => Some((g.row, g.col)),
                None => None,
            };
        }
        Action::WidenColumn | Action::NarrowColumn => {
            if let Some(w) = g.widths.get_mut(g.col) {
                *w = if action == Action::WidenColumn {
                    (*w + 4).min(max_width.max(200))
                } else {
                    w.saturating_sub(4).max(3)
                };
            }
        }
        Action::CopyCell => {
            if let Some(rs) = &r.rows
                && rows > 0
                && cols > 0
            {
                let text = rs
                    .cell_raw(r.data_row(r.grid.row), r.grid.col)
                    .unwrap_or_default();
                fx.push(Effect::CopyToClipboard(text));
                state.flash("copied the cell to the clipboard (OSC 52)", false);
            }
            return;
        }
        Action::Sort => {
            if cols == 0 {
                return;
            }
            let column = r.grid.col;
            let next = match &r.view {
                Some(View {
                    kind:
                        ViewKind::Sort {
                            column: c,
                            order: SortOrder::Ascending,
                        },
                    ..
                }) if *c == column => Some(SortOrder::Descending),
                Some(View {
                    kind:
                        ViewKind::Sort {
                            column: c,
                            order: SortOrder::Descending,
                        },
                    ..
                }) if *c == column => None,
                _ => Some(SortOrder::Ascending),
            };
            match next {
                Some(order) => set_view(r, ViewKind::Sort { column, order }, fx),
                None => clear_view(r),
            }
            return;
        }
        Action::Filter => {
            let text = match &r.view {
                Some(View {
                    kind: ViewKind::Filter { needle },
                    ..
                }) => needle.clone(),
                _ => String::new(),
            };
            state.popup = Some(Popup::Input {
                purpose: InputPurpose::GridFilter,
                text,
            });
            return;
        }
        _ => return,
    }
    r.clamp_cursor(page, width);
}

pub(super) fn set_view(r: &mut ResultTab, kind: ViewKind, fx: &mut Vec<Effect>) {
    let Some(rows) = r.rows.clone() else {
        return;
    };
    r.view_generation += 1;
    let spec = match &kind {
        ViewKind::Sort { column, order } => ViewSpec::Sort {
            column: *column,
            order: *order,
        },
        ViewKind::Filter { needle } => ViewSpec::Filter {
            needle: needle.clone(),
        },
    };
    // Keep showing the old order until the new one is ready.
    let indices = r.view.as_ref().and_then(|v| v.indices.clone());
    r.view = Some(View {
        kind,
        indices,
        rows_seen: rows.num_rows(),
        error: None,
    });
    fx.push(Effect::Worker(WorkerCmd::ComputeView {
        result: r.id,
        generation: r.view_generation,
        rows,
        spec,
    }));
}

pub(super) fn clear_view(r: &mut ResultTab) {
    r.view_generation += 1;
    r.view = None;
    r.grid.row = r.grid.row.min(r.loaded_rows().saturating_sub(1));
}

// ---------------------------------------------------------------- browser

fn browser_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let page = layout::browser_rows(state.panes().browser);
    let n = state.browser.rows().len();
    let b = &mut state.browser;
    match action {
        Action::Up => b.selected = b.selected.saturating_sub(1),
        Action::Down => b.selected = (b.selected + 1).min(n.saturating_sub(1)),
        Action::PageUp => b.selected = b.selected.saturating_sub(page.max(1)),
        Action::PageDown => b.selected = (b.selected + page.max(1)).min(n.saturating_sub(1)),
        Action::Top => b.selected = 0,
        Action::Bottom => b.selected = n.saturating_sub(1),
        Action::Expand => expand_selected(state, false, fx),
        Action::Refresh => expand_selected(state, true, fx),
        Action::Collapse => collapse_selected(state),
        Action::Filter => {
            let text = state.browser.filter.clone();
            state.popup = Some(Popup::Input {
                purpose: InputPurpose::BrowserFilter,
                text,
            });
        }
        Action::Activate | Action::RunTable => {
            let Some(row) = state.browser.selected_row() else {
                return;
            };
            let Some(node) = state.browser.node(&row.at) else {
                return;
            };
            if let Some(node_action) = node.action.clone() {
                let conn = node.connection.clone();
                perform_node_action(state, conn, node_action, fx);
                return;
            }
            match node.query.clone() {
                Some(query) => {
                    let conn = node.connection.clone();
                    open_query(state, conn, &query, action == Action::RunTable, fx)
                }
                None => {
                    // Enter on what failed shows the whole error, which the browser cuts.
                    let problem = match (&node.kind, &node.children) {
                        (Some(NodeKind::Broken), _) => node.detail.clone(),
                        (_, Children::Failed(e)) => Some(e.clone()),
                        _ => None,
                    };
                    let expanded = node.expanded;
                    if let Some(problem) = problem {
                        state.flash(problem, true);
                    }
                    if expanded {
                        collapse_selected(state);
                    } else {
                        expand_selected(state, false, fx);
                    }
                }
            }
        }
        _ => {}
    }
    state.browser.clamp(page);
}

fn expand_selected(state: &mut State, reload: bool, fx: &mut Vec<Effect>) {
    let Some(row) = state.browser.selected_row() else {
        return;
    };
    let Some(node) = state.browser.node_mut(&row.at) else {
        return;
    };
    if !node.expandable {
        return;
    }
    node.expanded = true;
    let load = reload || matches!(node.children, Children::NotLoaded | Children::Failed(_));
    if load && node.children != Children::Loading {
        node.children = Children::Loading;
        fx.push(Effect::Worker(WorkerCmd::LoadChildren {
            connection: node.connection.clone(),
            path: node.path.clone(),
        }));
    }
}

fn collapse_selected(state: &mut State) {
    let Some(row) = state.browser.selected_row() else {
        return;
    };
    let expanded = state.browser.node(&row.at).is_some_and(|n| n.expanded);
    if expanded {
        if let Some(n) = state.browser.node_mut(&row.at) {
            n.expanded = false;
        }
    } else if row.at.len() > 1 {
        // Go to the parent.
        let parent = &row.at[..row.at.len() - 1];
        if let Some(i) = state.browser.rows().iter().position(|r| r.at == parent) {
            state.browser.selected = i;
        }
    }
}

/// Enter on a workgroup or a past query of the browser.
fn perform_node_action(
    state: &mut State,
    connection: String,
    action: NodeAction,
    fx: &mut Vec<Effect>,
) {
    if let NodeAction::SparkWorkgroup(_) | NodeAction::SparkSession(_) = action {
        spark::on_node(state, connection, action, fx);
        return;
    }
    if state.tab().connection != connection {
        new_tab(state, connection.clone(), "");
    }
    match action {
        NodeAction::UseWorkgroup(name) => {
            state.flash(
                format!("this tab now runs in workgroup `{name}` of `{connection}`"),
                false,
            );
            state.tab_mut().workgroup = Some(name);
        }
        NodeAction::OpenResult { server_id, sql } => {
            state.focus = Focus::Results;
            run_with(
                state,
                vec![sql],
                vec![Vec::new()],
                Some(server_id),
                None,
                fx,
            );
        }
        NodeAction::SparkWorkgroup(_) | NodeAction::SparkSession(_) => {}
    }
}

/// Puts a table's query into an editor tab bound to its connection (the active tab when it is
/// bound to that connection, else a new one), and runs it when `run_now`.
fn open_query(
    state: &mut State,
    connection: String,
    query: &str,
    run_now: bool,
    fx: &mut Vec<Effect>,
) {
    if state.tab().connection != connection {
        new_tab(state, connection, "");
    }
    let (rows, cols) = editor_size(state);
    let tab = state.tab_mut();
    let empty = tab.contents().trim().is_empty();
    let ta = &mut tab.text;
    if !empty {
        ta.move_cursor(ratatui_textarea::CursorMove::Bottom);
        ta.move_cursor(ratatui_textarea::CursorMove::End);
        ta.insert_str("\n\n");
    }
    ta.insert_str(format!("{query};"));
    tab.scroll_to_cursor(rows, cols);
    state.mark_edited();
    state.focus = Focus::Editor;
    if run_now {
        run(state, vec![query.to_string()], None, fx);
    }
}

// ---------------------------------------------------------------- worker events

fn find_result(state: &mut State, target: JobTarget) -> Option<&mut ResultTab> {
    state
        .tabs
        .iter_mut()
        .find(|t| t.id == target.tab)?
        .results
        .iter_mut()
        .find(|r| r.id == target.result)
}

fn on_worker(state: &mut State, ev: WorkerEvent, fx: &mut Vec<Effect>) {
    let max_width = state.max_column_width;
    let max_rows = state.max_loaded_rows;
    match ev {
        WorkerEvent::Job(job, event) => {
            // Events of jobs nobody shows any more (tab closed, result dropped) are stale.
            let Some(target) = state.jobs.get(&job).copied() else {
                return;
            };
            match event {
                JobEvent::Session(info) => {
                    let now = state.now;
                    if let Some(tab) = state.tabs.iter_mut().find(|t| t.id == target.tab) {
                        tab.session = Some(TabSession {
                            id: info.id,
                            keep_alive: info.keep_alive,
                            since: now,
                        });
                    }
                    return;
                }
                JobEvent::Notice(text) => {
                    state.flash(text, true);
                    return;
                }
                JobEvent::Transaction(tx) => {
                    let now = state.now;
                    if let Some(tab) = state.tabs.iter_mut().find(|t| t.id == target.tab) {
                        let since = tab.transaction.map_or(now, |t| t.since);
                        tab.transaction = match tx {
                            TransactionState::None => None,
                            TransactionState::Open => Some(TabTransaction {
                                since,
                                failed: false,
                            }),
                            TransactionState::Failed => Some(TabTransaction {
                                since,
                                failed: true,
                            }),
                        };
                    }
                    return;
                }
                _ => {}
            }
            let Some(r) = find_result(state, target) else {
                return;
            };
            match event {
                JobEvent::Status(s) => {
                    r.state = RunState::Running {
                        service_state: Some(s),
                    }
                }
                JobEvent::Schema(schema) => {
                    if let Err(error) = r.widen_schema(schema, max_width) {
                        r.state = RunState::Failed { error };
                    }
                }
                JobEvent::Batch(batch) => {
                    // Beyond `max_loaded_rows` the grid stops loading (memory stays bounded):
                    // the job is cancelled and the whole result remains for the export.
                    let room = max_rows.saturating_sub(r.loaded_rows());
                    if r.truncated || room == 0 {
                        r.truncated = true;
                        fx.push(Effect::Worker(WorkerCmd::Cancel { job }));
                        return;
                    }
                    let full = batch.num_rows() > room;
                    let batch = if full { batch.slice(0, room) } else { batch };
                    if let Err(error) = r.push_batch(batch, max_width) {
                        r.state = RunState::Failed { error };
                    } else if full {
                        r.truncated = true;
                        fx.push(Effect::Worker(WorkerCmd::Cancel { job }));
                    }
                }
                JobEvent::Stats(stats) => r.stats = stats,
                // Only scripts ask for JSON text; sessions and notices are handled above.
                JobEvent::Json(_)
                | JobEvent::Session(_)
                | JobEvent::Notice(_)
                | JobEvent::Transaction(_) => {}
            }
        }
        WorkerEvent::JobFinished {
            job,
            outcome,
            elapsed,
        } => {
            let Some(target) = state.jobs.remove(&job) else {
                return;
            };
            let (page, width) = grid_page(state);
            let Some(r) = find_result(state, target) else {
                return;
            };
            r.elapsed = Some(elapsed);
            r.refresh_widths(max_width);
            let ok = matches!(outcome, JobOutcome::Succeeded(_));
            let cancelled = matches!(outcome, JobOutcome::Cancelled) && !r.truncated;
            let mut failed_at = None;
            r.state = match outcome {
                // Stopped at the row cap (the cancel was ours): a success with a note.
                JobOutcome::Cancelled | JobOutcome::Succeeded(_) if r.truncated => {
                    RunState::Succeeded {
                        message: Some(format!(
                            "stopped loading at {} rows ([ui] max_loaded_rows): Ctrl-E exports the whole result",
                            r.loaded_rows()
                        )),
                    }
                }
                JobOutcome::Succeeded(summary) => {
                    if summary.stats != Default::default() {
                        r.stats = summary.stats;
                    }
                    r.resume = summary.resume;
                    RunState::Succeeded {
                        message: summary.message,
                    }
                }
                JobOutcome::Failed(error) => {
                    failed_at = Some((error.clone(), r.sql.clone()));
                    RunState::Failed { error }
                }
                JobOutcome::Cancelled => RunState::Cancelled,
            };
            // A view computed while rows were still arriving is recomputed over all of them.
            if let Some(v) = &r.view
                && v.rows_seen < r.loaded_rows()
            {
                let kind = v.kind.clone();
                set_view(r, kind, fx);
            }
            r.clamp_cursor(page, width);
            let group = r.group;
            continue_group(state, target.tab, group, ok, fx);
            summarize_service_group(state, target.tab, group);
            if let Some((error, sql)) = failed_at {
                jump_to_error(state, target.tab, &error, &sql);
            }
            // The status bar said a cancel was under way: it is done now.
            if cancelled && state.flash.as_ref().is_some_and(|f| f.text == CANCELLING) {
                state.flash("cancelled", false);
            }
            // Asked to quit while it ran: with nothing left running, quit as asked.
            if let Some(Popup::ConfirmQuit(form)) = &state.popup {
                refresh_quit_form(state, form.clone(), fx);
            }
        }
        // Only while the form still shows what was completed (the user may have typed on).
        WorkerEvent::PathCompleted { typed, completed } => {
            if let Some(Popup::Export(form)) = &mut state.popup
                && form.path == typed
            {
                form.path = completed;
            }
        }
        WorkerEvent::Children {
            connection,
            path,
            result,
        } => {
            if let Ok(nodes) = &result {
                spark::seen_in_browser(state, &connection, nodes);
            }
            if !state
                .browser
                .set_children(&connection, &path, result.clone())
            {
                // A background refresh (Spark sessions) of a list already shown.
                state.browser.replace_loaded(&connection, &path, result);
            }
            let page = layout::browser_rows(state.panes().browser);
            state.browser.clamp(page);
        }
        WorkerEvent::ViewReady {
            result,
            generation,
            outcome,
        } => {
            let (page, width) = grid_page(state);
            let Some(r) = state
                .tabs
                .iter_mut()
                .flat_map(|t| t.results.iter_mut())
                .find(|r| r.id == result)
            else {
                return;
            };
            if r.view_generation != generation {
                return;
            }
            if let Some(v) = &mut r.view {
                match outcome {
                    Ok(ix) => {
                        v.indices = Some(Arc::new(ix));
                        v.error = None;
                    }
                    Err(e) => v.error = Some(e),
                }
            }
            r.clamp_cursor(page, width);
        }
        WorkerEvent::Inspected { request, outcome } => {
            super::inspector::on_layout(state, request, outcome);
        }
        WorkerEvent::History(result) => {
            if let Some(Popup::History(picker)) = &mut state.popup {
                picker.loaded(result);
            }
        }
        WorkerEvent::Snippets { snippets, errors } => {
            if let Some(Popup::Snippets(picker)) = &mut state.popup {
                picker.loaded(snippets, errors);
            }
        }
        WorkerEvent::SnippetSaved { name, outcome } => match outcome {
            Ok(snippet) => state.flash(
                format!("saved snippet `{}` ({})", snippet.name, snippet.rel_path),
                false,
            ),
            Err(SaveFailure::Exists(_)) => {
                if let Some(body) = state.snippet_save.take() {
                    state.popup = Some(Popup::ConfirmOverwriteSnippet { name, body });
                }
            }
            Err(SaveFailure::Failed(e)) => {
                state.flash(format!("saving `{name}` failed: {e}"), true)
            }
        },
        WorkerEvent::TransactionEnded { key, outcome } => {
            transaction_ended(state, &key, outcome, fx)
        }
        WorkerEvent::PasswordNeeded { job, connection } => {
            // The run failed for want of a password: ask, then run it again.
            let rerun = state
                .jobs
                .get(&job)
                .copied()
                .and_then(|target| find_result(state, target).map(|r| r.sql.clone()));
            if state.popup.is_none() {
                state.popup = Some(Popup::Password {
                    connection,
                    text: String::new(),
                    rerun: rerun.into_iter().collect(),
                });
            }
        }
        WorkerEvent::SessionEnded { outcome, .. } => {
            if state.quitting {
                state.stops_pending = state.stops_pending.saturating_sub(1);
            }
            session_ended(state, outcome);
        }
        WorkerEvent::Spark {
            connection,
            op,
            outcome,
        } => spark::on_reply(state, connection, op, outcome.map(|reply| *reply)),
        WorkerEvent::ExportProgress { id, rows, bytes } => {
            if let Some(run) = state.export.as_mut().filter(|r| r.id == id) {
                run.rows = rows;
                run.bytes = bytes;
            }
        }
        WorkerEvent::ExportDone { id, outcome } => {
            let Some(run) = state.export.take_if(|r| r.id == id) else {
                return;
            };
            let secs = state.now.duration_since(run.started).as_secs_f64();
            match outcome {
                Ok(done) => match done.clipboard {
                    Some(text) => {
                        fx.push(Effect::CopyToClipboard(text));
                        state.flash(
                            format!(
                                "copied {} rows as {} to the clipboard",
                                done.rows, run.form.format
                            ),
                            false,
                        );
                    }
                    None => state.flash(
                        format!(
                            "exported {} rows ({}) to {} in {secs:.1} s",
                            done.rows,
                            crate::model::format::human_bytes(done.bytes),
                            run.form.path.trim()
                        ),
                        false,
                    ),
                },
                Err(ExportFailure::Exists(_)) => {
                    state.popup = Some(Popup::ConfirmOverwrite(run.form));
                }
                Err(ExportFailure::Cancelled) => {
                    state.flash("export cancelled: no file was written", false)
                }
                Err(ExportFailure::Failed(e)) => {
                    state.popup = Some(Popup::Message {
                        title: "Export failed".into(),
                        text: format!("{}: {e}", run.form.path.trim()),
                    })
                }
            }
        }
    }
}

/// After a statement of a run ends: start the next queued one, or skip the rest on failure.
fn continue_group(state: &mut State, tab_id: u64, group: u64, ok: bool, fx: &mut Vec<Effect>) {
    let Some(tab) = state.tabs.iter_mut().find(|t| t.id == tab_id) else {
        return;
    };
    let connection = tab.connection.clone();
    let next = tab
        .results
        .iter_mut()
        .filter(|r| r.group == group && r.state == RunState::Queued)
        .map(|r| r.id)
        .next();
    let Some(next) = next else {
        return;
    };
    if ok {
        if let Some(i) = tab.results.iter().position(|r| r.id == next) {
            tab.active_result = i;
        }
        start_result(state, tab_id, next, &connection, fx);
    } else {
        for r in tab
            .results
            .iter_mut()
            .filter(|r| r.group == group && r.state == RunState::Queued)
        {
            r.state = RunState::Skipped;
        }
    }
}
