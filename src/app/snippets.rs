//! Snippets and the run history: opening their pickers (loaded by the worker), opening or
//! running a snippet (its `${…}` values asked for first), and saving the tab's text as one.

use super::editing::selected_text;
use super::params::ParamForm;
use super::pickers::{HistoryPicker, SnippetPicker};
use super::run::{run, run_with};
use super::tabs::new_tab;
use super::{Effect, Popup, State};
use crate::model::action::Action;
use crate::model::connection::ParamStyle;
use crate::protocol::{SaveFailure, WorkerCmd};
use crate::store::history;
use crate::store::snippets::{Snippet, SnippetMeta};

/// History (`F8`), snippets (`Ctrl-P`), save as a snippet (`Ctrl-S`).
pub(super) fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
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
        _ => {}
    }
}

/// The run history arrived, for the picker still open.
pub(super) fn on_history(state: &mut State, result: Result<Vec<history::Entry>, String>) {
    if let Some(Popup::History(picker)) = &mut state.popup {
        picker.loaded(result);
    }
}

/// The snippet library arrived, for the picker still open (and completion's names).
pub(super) fn on_snippets(state: &mut State, snippets: Vec<Snippet>, errors: Vec<String>) {
    state.snippet_names = snippets.iter().map(|s| s.name.clone()).collect();
    if let Some(Popup::Snippets(picker)) = &mut state.popup {
        picker.loaded(snippets, errors);
    }
}

/// Saved, or a snippet of that name exists: ask whether to replace it.
pub(super) fn on_saved(state: &mut State, name: String, outcome: Result<Snippet, SaveFailure>) {
    match outcome {
        Ok(snippet) => state.flash(
            format!("saved snippet `{}` ({})", snippet.name, snippet.rel_path),
            false,
        ),
        Err(SaveFailure::Exists(_)) => {
            if let Some(body) = state.snippet_save.take() {
                state.popup = Some(Popup::ConfirmOverwriteSnippet { name, body });
            }
        }
        Err(SaveFailure::Failed(e)) => state.flash(format!("saving `{name}` failed: {e}"), true),
    }
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
    let (sql, values) = match snippet.render(&sets, kind) {
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
    let named = kind.capabilities().params == Some(ParamStyle::Named);
    let params = values_by_statement(&statements, &values, named);
    run_with(state, statements, params, None, None, fx);
}

/// The rendered values of a template, per statement: by name (`name=value`) for `:name`
/// parameters, else in order for each statement's `?`s.
fn values_by_statement(statements: &[String], values: &[String], named: bool) -> Vec<Vec<String>> {
    if named {
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
    } else if !values.is_empty() {
        let mut rest = values;
        statements
            .iter()
            .map(|s| {
                let n = crate::sql::positional_count(s).min(rest.len());
                let (mine, others) = rest.split_at(n);
                rest = others;
                mine.to_vec()
            })
            .collect()
    } else {
        vec![Vec::new(); statements.len()]
    }
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
