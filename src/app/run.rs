//! Running statements: a run is one result tab per statement, started one after the other (or
//! together when the service runs them as a group); parameters are asked for first. Also
//! cancelling and loading more of a paused result.

use super::editing::selected_text;
use super::params::{ParamForm, ValueSyntax};
use super::results::{ResultTab, RunState};
use super::{Effect, JobTarget, Popup, State};
use crate::model::action::Action;
use crate::model::connection::ParamStyle;
use crate::model::job::{GroupMode, QueryRequest};
use crate::protocol::WorkerCmd;

/// The status bar while a cancel is under way (replaced when the job ends).
pub(super) const CANCELLING: &str = "cancelling…";

/// Run the statement at the cursor, or all of the tab's.
pub(super) fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    if state.tab().spark.is_some() {
        run_spark_calculation(state, fx);
        return;
    }
    match action {
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
                let batch = state.tab_capabilities().is_some_and(|c| c.batch_by_default);
                let group = (batch && all.len() > 1).then_some(GroupMode::Batch);
                run(state, all, group, fx);
            }
        }
        _ => {}
    }
}

/// A Spark tab's code is one calculation: the selection, else the whole tab.
fn run_spark_calculation(state: &mut State, fx: &mut Vec<Effect>) {
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
            format!(
                "Spark session {id} is still starting ({status}): it runs calculations once IDLE"
            ),
            true,
        );
    } else if code.is_empty() {
        state.flash("nothing to run: the tab is empty", true);
    } else {
        run_with(state, vec![code], vec![Vec::new()], None, None, fx);
    }
}

/// Whether the active tab has a job queued or running.
pub(super) fn tab_has_active_job(state: &State) -> bool {
    state.tab().results.iter().any(|r| r.state.is_active())
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

/// How the connection takes `?` placeholder values (asked for in a form), if it does.
fn parameter_syntax(state: &State, connection: &str) -> Option<ValueSyntax> {
    Some(match state.capabilities(connection)?.params? {
        ParamStyle::SqlLiterals => ValueSyntax::Sql,
        ParamStyle::Json => ValueSyntax::Json,
        ParamStyle::Named => ValueSyntax::Named,
    })
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
        tab.active_result = tab.result_index(*first).unwrap_or(0);
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
pub(super) fn load_more(state: &mut State, fx: &mut Vec<Effect>) {
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
    let session = state.tab_by_id(tab_id).map(|t| QueryRequest {
        session_key: Some(t.session_key()),
        use_session: t.use_session,
        label: Some(t.title.clone()),
        ..QueryRequest::default()
    });
    for &result in result_ids {
        let job = state.next_id();
        let now = state.now;
        let Some(r) = state.result_mut(JobTarget {
            tab: tab_id,
            result,
        }) else {
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

/// Starts one result of a run as a job of the worker.
fn start_result(
    state: &mut State,
    tab_id: u64,
    result_id: u64,
    connection: &str,
    fx: &mut Vec<Effect>,
) {
    let job = state.next_id();
    let now = state.now;
    let Some(tab) = state.tab_by_id_mut(tab_id) else {
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

/// Cancels the active tab's running jobs (on the server too) and drops its queued ones.
pub(super) fn cancel_tab_jobs(state: &mut State, fx: &mut Vec<Effect>) {
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

/// Cancels every job of every tab.
pub(super) fn cancel_all_jobs(state: &mut State, fx: &mut Vec<Effect>) {
    for job in state.jobs.keys() {
        fx.push(Effect::Worker(WorkerCmd::Cancel { job: *job }));
    }
}

/// After a statement of a run ends: start the next queued one, or skip the rest on failure.
pub(super) fn continue_group(
    state: &mut State,
    tab_id: u64,
    group: u64,
    ok: bool,
    fx: &mut Vec<Effect>,
) {
    let Some(tab) = state.tab_by_id_mut(tab_id) else {
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
        if let Some(i) = tab.result_index(next) {
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

/// When the last statement of a batch or transaction ends: n succeeded / m failed.
pub(super) fn summarize_service_group(state: &mut State, tab_id: u64, group: u64) {
    let Some(tab) = state.tab_by_id(tab_id) else {
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
