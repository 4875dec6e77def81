//! Athena Spark sessions as the app knows them — seen in the browser, started here, or bound to
//! a tab — followed until they settle. The form that starts one is in `spark_form.rs`.
//!
//! A session is polled (GetSessionStatus through the worker) every [`POLL_EVERY`] while it is on
//! its way somewhere (CREATING, CREATED, BUSY, TERMINATING), every [`SETTLED_POLL_EVERY`] while
//! a tab is bound to it; expanded Spark
//! workgroups of the browser are listed again every [`REFRESH_EVERY`].

use std::time::{Duration, Instant};

pub use super::spark_form::{FIELDS, FormOutcome, StartForm};
use super::{Effect, Popup, State};
use crate::model::catalog::{CatalogNode, NodeAction, NodeKind};
use crate::model::format::short_id;
use crate::model::spark::{SparkOp, SparkReply, SparkSession};
use crate::protocol::WorkerCmd;

/// How often a changing session's state is asked for.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// How often a settled session bound to a tab is asked for (it may idle out or fail).
pub const SETTLED_POLL_EVERY: Duration = Duration::from_secs(15);
/// How often an expanded Spark workgroup's session list is fetched again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// A session and where Quarry knows it from.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownSession {
    pub connection: String,
    pub session: SparkSession,
    /// Started by this process: offered for termination when quitting.
    pub started_here: bool,
    /// When its state was last asked for, and whether the answer is still awaited.
    pub polled: Option<Instant>,
    pub in_flight: bool,
}

/// Every Spark session known to this process, in the order first seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparkSessions {
    pub list: Vec<KnownSession>,
}

impl SparkSessions {
    pub fn get(&self, id: &str) -> Option<&KnownSession> {
        self.list.iter().find(|k| k.session.id == id)
    }

    /// Records what the service said of a session; keeps what a thinner answer (a list entry,
    /// a status) lacks from an earlier, fuller one.
    pub fn upsert(&mut self, connection: &str, session: SparkSession, started_here: bool) {
        match self.list.iter_mut().find(|k| k.session.id == session.id) {
            Some(known) => {
                let old = std::mem::take(&mut known.session);
                known.session = merge(old, session);
                known.started_here |= started_here;
                known.in_flight = false;
            }
            None => self.list.push(KnownSession {
                connection: connection.to_string(),
                session,
                started_here,
                polled: None,
                in_flight: false,
            }),
        }
    }

    /// A status request failed: ask again at the next poll.
    pub fn poll_failed(&mut self, id: &str) {
        if let Some(k) = self.list.iter_mut().find(|k| k.session.id == id) {
            k.in_flight = false;
        }
    }

    /// Sessions that still run (or bill): listed by the monitor.
    pub fn live(&self) -> impl Iterator<Item = &KnownSession> {
        self.list.iter().filter(|k| k.session.is_live())
    }

    /// Status requests due now for sessions that change or that `bound` (tabs' sessions) names;
    /// marks them in flight.
    pub fn due_polls(&mut self, now: Instant, bound: &[String]) -> Vec<(String, SparkOp)> {
        let mut due = Vec::new();
        for k in &mut self.list {
            let changing = k.session.is_changing();
            let watched = changing || (k.session.is_live() && bound.contains(&k.session.id));
            let every = if changing {
                POLL_EVERY
            } else {
                SETTLED_POLL_EVERY
            };
            let time = k.polled.is_none_or(|t| now.duration_since(t) >= every);
            if watched && time && !k.in_flight {
                k.polled = Some(now);
                k.in_flight = true;
                due.push((
                    k.connection.clone(),
                    SparkOp::Status {
                        id: k.session.id.clone(),
                    },
                ));
            }
        }
        due
    }
}

/// `new` over `old`, keeping the fields `new` does not carry.
fn merge(old: SparkSession, new: SparkSession) -> SparkSession {
    SparkSession {
        workgroup: if new.workgroup.is_empty() {
            old.workgroup
        } else {
            new.workgroup
        },
        state: if new.state.is_empty() {
            old.state
        } else {
            new.state
        },
        reason: new.reason.or(old.reason),
        started: new.started.or(old.started),
        ended: new.ended.or(old.ended),
        settings: new.settings.or(old.settings),
        dpu_ms: new.dpu_ms.or(old.dpu_ms),
        description: new.description.or(old.description),
        engine_version: new.engine_version.or(old.engine_version),
        id: new.id,
    }
}

/// The Spark session a tab runs in, and its state, for the status bar.
pub fn tab_label(state: &State) -> Option<String> {
    let id = state.tab().spark.as_deref()?;
    let known = state.spark.get(id);
    let status = known.map(|k| k.session.state.as_str()).unwrap_or("?");
    Some(format!("spark {} {status}", short_id(id)))
}

fn ask(fx: &mut Vec<Effect>, connection: &str, op: SparkOp) {
    fx.push(Effect::Worker(WorkerCmd::Spark {
        connection: connection.to_string(),
        op,
    }));
}

/// Every tick: follow changing and bound sessions, list expanded Spark workgroups again.
pub fn tick(state: &mut State, fx: &mut Vec<Effect>) {
    let bound: Vec<String> = state.tabs.iter().filter_map(|t| t.spark.clone()).collect();
    for (connection, op) in state.spark.due_polls(state.now, &bound) {
        ask(fx, &connection, op);
    }
    let due = state
        .spark_refreshed
        .is_none_or(|t| state.now.duration_since(t) >= REFRESH_EVERY);
    if !due {
        return;
    }
    state.spark_refreshed = Some(state.now);
    for (connection, path) in expanded_spark_workgroups(&state.browser.roots) {
        fx.push(Effect::Worker(WorkerCmd::LoadChildren { connection, path }));
    }
}

/// Expanded, loaded Spark workgroup nodes of the browser (their session lists are shown).
fn expanded_spark_workgroups(nodes: &[super::browser::TreeNode]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for n in nodes {
        if !n.expanded {
            continue;
        }
        if let super::browser::Children::Loaded(children) = &n.children {
            if matches!(n.action, Some(NodeAction::SparkWorkgroup(_))) {
                out.push((n.connection.clone(), n.path.clone()));
            }
            out.extend(expanded_spark_workgroups(children));
        }
    }
    out
}

/// A session list arrived for the browser: remember the sessions it shows.
pub fn seen_in_browser(state: &mut State, connection: &str, nodes: &[CatalogNode]) {
    for node in nodes {
        if let (NodeKind::Session, Some(NodeAction::SparkSession(s))) = (node.kind, &node.action) {
            state.spark.upsert(connection, s.clone(), false);
        }
    }
}

/// Enter on a Spark workgroup (start a session there) or on a session (bind the tab to it).
pub fn on_node(state: &mut State, connection: String, action: NodeAction, fx: &mut Vec<Effect>) {
    match action {
        NodeAction::SparkWorkgroup(workgroup) => {
            ask(
                fx,
                &connection,
                SparkOp::Defaults {
                    workgroup: workgroup.clone(),
                },
            );
            state.popup = Some(Popup::SparkStart(StartForm::new(connection, workgroup)));
        }
        NodeAction::SparkSession(session) => {
            let id = session.id.clone();
            state.spark.upsert(&connection, session, false);
            bind(state, &connection, &id);
        }
        _ => {}
    }
}

/// Makes the active tab (or a new one on `connection`) run its code in session `id`.
fn bind(state: &mut State, connection: &str, id: &str) {
    let Some(known) = state.spark.get(id) else {
        return;
    };
    if !known.session.is_live() {
        let text = format!(
            "Spark session {} is {}: start one from its workgroup (browser: spark → workgroup → Enter)",
            short_id(id),
            known.session.state
        );
        state.flash(text, true);
        return;
    }
    if state.tab().connection != connection {
        super::tabs::new_tab(state, connection.to_string(), "");
    }
    state.tab_mut().spark = Some(id.to_string());
    state.focus = super::Focus::Editor;
    let title = state.tab().title.clone();
    state.flash(
        format!(
            "{title} runs in Spark session {}: Ctrl-J runs the tab (or the selection) as one calculation — PySpark, or %sql",
            short_id(id)
        ),
        false,
    );
}

/// Terminates a session (from the monitor, or when quitting).
pub fn terminate(state: &mut State, index: usize, fx: &mut Vec<Effect>) {
    let Some(known) = state.spark.list.get(index) else {
        return;
    };
    let (connection, id) = (known.connection.clone(), known.session.id.clone());
    ask(fx, &connection, SparkOp::Terminate { id: id.clone() });
    state.flash(
        format!("terminating Spark session {}…", short_id(&id)),
        false,
    );
}

/// Opens the details of a session (asked for; shown when they arrive).
pub fn details(state: &mut State, index: usize, fx: &mut Vec<Effect>) {
    let Some(known) = state.spark.list.get(index) else {
        return;
    };
    let (connection, id) = (known.connection.clone(), known.session.id.clone());
    ask(fx, &connection, SparkOp::Details { id: id.clone() });
    state.popup = Some(Popup::SparkDetails {
        id,
        lines: None,
        selected: 0,
    });
}

/// The service answered a [`SparkOp`].
pub fn on_reply(
    state: &mut State,
    connection: String,
    op: SparkOp,
    outcome: Result<SparkReply, String>,
) {
    match (op, outcome) {
        (SparkOp::Defaults { workgroup }, outcome) => {
            on_defaults(state, &connection, &workgroup, outcome)
        }
        (SparkOp::Start { workgroup, .. }, Ok(SparkReply::Session(session))) => {
            on_started(state, &connection, workgroup, session)
        }
        (SparkOp::Start { workgroup, .. }, Err(e)) => {
            state.flash(
                format!("could not start a Spark session in {workgroup}: {e}"),
                true,
            );
        }
        (SparkOp::Status { id }, Ok(SparkReply::Session(session))) => {
            let before = state.spark.get(&id).map(|k| k.session.state.clone());
            let now = session.state.clone();
            state.spark.upsert(&connection, session, false);
            if before.as_deref() != Some(now.as_str()) {
                settled(state, &id, &now);
            }
        }
        (SparkOp::Status { id }, Err(e)) => {
            state.spark.poll_failed(&id);
            tracing::warn!(session = %id, error = %e, "Spark session status failed");
        }
        (SparkOp::Details { id }, outcome) => on_details(state, &connection, &id, outcome),
        (SparkOp::Terminate { id }, outcome) => on_terminated(state, &connection, &id, outcome),
        (op, outcome) => {
            tracing::warn!(?op, ?outcome, "unexpected Spark answer");
        }
    }
}

/// A workgroup's default session settings, for the start form still open on it.
fn on_defaults(
    state: &mut State,
    connection: &str,
    workgroup: &str,
    outcome: Result<SparkReply, String>,
) {
    if let Some(Popup::SparkStart(form)) = &mut state.popup
        && form.connection == connection
        && form.workgroup == workgroup
    {
        match outcome {
            Ok(SparkReply::Defaults(settings)) => form.fill(settings),
            Ok(_) => form.loading = false,
            Err(e) => {
                form.loading = false;
                form.error = Some(format!(
                    "the workgroup's defaults are unavailable ({e}): the service's are shown"
                ));
            }
        }
    }
}

/// A session started here: the active tab is bound to it.
fn on_started(state: &mut State, connection: &str, workgroup: String, mut session: SparkSession) {
    if session.workgroup.is_empty() {
        session.workgroup = workgroup.clone();
    }
    let id = session.id.clone();
    let status = session.state.clone();
    state.spark.upsert(connection, session, true);
    bind(state, connection, &id);
    state.flash(
        format!(
            "Spark session {} {status} in {workgroup}: this tab runs its code there once it is IDLE",
            short_id(&id)
        ),
        false,
    );
}

/// A session's details, for the details popup still open on it.
fn on_details(state: &mut State, connection: &str, id: &str, outcome: Result<SparkReply, String>) {
    let lines = match outcome {
        Ok(SparkReply::Details { session, lines }) => {
            state.spark.upsert(connection, session, false);
            lines
        }
        Ok(_) => Vec::new(),
        Err(e) => vec![("error".to_string(), e)],
    };
    if let Some(Popup::SparkDetails {
        id: shown,
        lines: slot,
        ..
    }) = &mut state.popup
        && *shown == id
    {
        *slot = Some(lines);
    }
}

/// The service answered a terminate (when quitting, one stop fewer to wait for).
fn on_terminated(
    state: &mut State,
    connection: &str,
    id: &str,
    outcome: Result<SparkReply, String>,
) {
    if state.quitting {
        state.stops_pending = state.stops_pending.saturating_sub(1);
    }
    match outcome {
        Ok(SparkReply::Session(session)) => {
            let now = session.state.clone();
            state.spark.upsert(connection, session, false);
            settled(state, id, &now);
        }
        Ok(_) => {}
        Err(e) => state.flash(
            format!(
                "could not terminate Spark session {}: {e} — it bills until its idle timeout",
                short_id(id)
            ),
            true,
        ),
    }
}

/// A session changed state: say so when it matters, and free tabs bound to an ended one.
fn settled(state: &mut State, id: &str, now: &str) {
    let short = short_id(id).to_string();
    match now {
        "IDLE" => state.flash(format!("Spark session {short} is IDLE: ready"), false),
        "TERMINATING" => state.flash(format!("Spark session {short} is terminating…"), false),
        "TERMINATED" | "FAILED" | "DEGRADED" => {
            let reason = state
                .spark
                .get(id)
                .and_then(|k| k.session.reason.clone())
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            let error = now != "TERMINATED";
            if now != "DEGRADED" {
                for tab in &mut state.tabs {
                    if tab.spark.as_deref() == Some(id) {
                        tab.spark = None;
                    }
                }
            }
            state.flash(format!("Spark session {short} is {now}{reason}"), error);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, state: &str) -> SparkSession {
        SparkSession {
            id: id.into(),
            workgroup: "wg".into(),
            state: state.into(),
            ..SparkSession::default()
        }
    }

    #[test]
    fn changing_sessions_are_polled_often_and_bound_ones_now_and_then() {
        let mut known = SparkSessions::default();
        let t0 = Instant::now();
        known.upsert("athena", session("creating", "CREATING"), true);
        known.upsert("athena", session("idle", "IDLE"), false);
        known.upsert("athena", session("bound", "IDLE"), false);
        known.upsert("athena", session("gone", "TERMINATED"), false);
        let due = known.due_polls(t0, &["bound".to_string(), "gone".to_string()]);
        let ids: Vec<_> = due
            .iter()
            .map(|(_, op)| match op {
                SparkOp::Status { id } => id.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(ids, ["creating", "bound"]);
        // In flight: not asked again until answered.
        assert!(known.due_polls(t0 + POLL_EVERY, &[]).is_empty());
        known.upsert("athena", session("creating", "IDLE"), false);
        assert!(known.get("creating").unwrap().started_here);
        assert!(known.due_polls(t0 + POLL_EVERY, &[]).is_empty());
        // Bound and IDLE: asked again only after the longer interval.
        known.upsert("athena", session("bound", "IDLE"), false);
        let bound = ["bound".to_string()];
        assert!(known.due_polls(t0 + POLL_EVERY, &bound).is_empty());
        assert_eq!(known.due_polls(t0 + SETTLED_POLL_EVERY, &bound).len(), 1);
        // Busy (a calculation runs): followed closely again.
        known.upsert("athena", session("bound", "BUSY"), false);
        let later = t0 + SETTLED_POLL_EVERY;
        assert!(
            known
                .due_polls(later + Duration::from_secs(1), &[])
                .is_empty()
        );
        assert_eq!(known.due_polls(later + POLL_EVERY, &[]).len(), 1);
    }
}
