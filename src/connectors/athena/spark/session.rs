//! Spark workgroups and sessions: the browser's listings, a workgroup's session defaults,
//! StartSession, GetSessionStatus (+ GetSession for DPU figures) and TerminateSession.

use aws_sdk_athena::operation::get_session::GetSessionOutput;
use aws_sdk_athena::types::{EngineConfiguration, EngineVersion, SessionStatus, SessionSummary};

use super::super::AthenaConnector;
use super::{minutes_since, rfc3339, sdk_error, short_time};
use crate::connectors::spark::{SessionSettings, SparkSession};
use crate::connectors::{CatalogNode, ConnectorError, NodeAction, NodeKind};

/// Sessions listed per workgroup at most (ListSessions also returns ended ones).
const SESSION_LIMIT: usize = 500;

/// Whether an engine version names a Spark engine ("PySpark engine version 3").
fn is_spark(engine: Option<&EngineVersion>) -> bool {
    engine_name(engine).is_some_and(|e| e.to_ascii_lowercase().contains("spark"))
}

fn engine_name(engine: Option<&EngineVersion>) -> Option<&str> {
    engine.and_then(|e| {
        e.effective_engine_version()
            .filter(|v| !v.is_empty())
            .or(e.selected_engine_version())
    })
}

pub async fn workgroups(a: &AthenaConnector) -> Result<Vec<CatalogNode>, ConnectorError> {
    let mut pages = a.client.list_work_groups().into_paginator().send();
    let mut nodes = Vec::new();
    while let Some(page) = pages.next().await {
        for wg in page.map_err(sdk_error)?.work_groups() {
            let Some(name) = wg.name() else { continue };
            if !is_spark(wg.engine_version()) {
                continue;
            }
            let detail = [
                engine_name(wg.engine_version()).map(str::to_string),
                wg.state().map(|s| s.as_str().to_string()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            nodes.push(
                CatalogNode::new(name, NodeKind::Workgroup)
                    .with_children()
                    .with_detail(detail)
                    .with_action(NodeAction::SparkWorkgroup(name.to_string())),
            );
        }
    }
    if nodes.is_empty() {
        nodes.push(
            CatalogNode::new("no Spark-enabled workgroup", NodeKind::Property).with_detail(
                "create a workgroup with a PySpark engine to run Spark sessions from here",
            ),
        );
    }
    Ok(nodes)
}

pub async fn list(
    a: &AthenaConnector,
    workgroup: &str,
) -> Result<Vec<CatalogNode>, ConnectorError> {
    let mut pages = a
        .client
        .list_sessions()
        .work_group(workgroup)
        .into_paginator()
        .send();
    let mut sessions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(sdk_error)?;
        sessions.extend(page.sessions().iter().map(|s| {
            let started = s.status().and_then(|st| st.start_date_time()).copied();
            (started, from_summary(workgroup, s))
        }));
        if sessions.len() >= SESSION_LIMIT {
            tracing::info!(workgroup, "ListSessions: listing the first {SESSION_LIMIT}");
            break;
        }
    }
    // Newest first.
    sessions.sort_by_key(|s| std::cmp::Reverse(s.0));
    Ok(sessions
        .into_iter()
        .map(|(_, (session, detail))| {
            CatalogNode::new(session.id.clone(), NodeKind::Session)
                .with_detail(detail)
                .with_action(NodeAction::SparkSession(session))
        })
        .collect())
}

/// A listed session and its one-line detail (`IDLE · idle 15 min · started …`).
fn from_summary(workgroup: &str, s: &SessionSummary) -> (SparkSession, String) {
    let mut session = SparkSession {
        id: s.session_id().unwrap_or_default().to_string(),
        workgroup: workgroup.to_string(),
        description: s.description().map(str::to_string),
        engine_version: engine_name(s.engine_version()).map(str::to_string),
        ..SparkSession::default()
    };
    apply_status(&mut session, s.status());
    (session.clone(), status_detail(&session, s.status()))
}

/// Copies state, reason and times from `status` into `session`.
fn apply_status(session: &mut SparkSession, status: Option<&SessionStatus>) {
    let Some(st) = status else { return };
    if let Some(state) = st.state() {
        session.state = state.as_str().to_string();
    }
    session.reason = st
        .state_change_reason()
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    session.started = st.start_date_time().and_then(rfc3339);
    session.ended = st.end_date_time().and_then(rfc3339);
}

fn status_detail(session: &SparkSession, status: Option<&SessionStatus>) -> String {
    let mut facts = vec![if session.state.is_empty() {
        "UNKNOWN".to_string()
    } else {
        session.state.clone()
    }];
    if let Some(st) = status {
        if session.state == "IDLE"
            && let Some(t) = st.idle_since_date_time()
        {
            facts.push(format!("idle {} min", minutes_since(t)));
        }
        if let Some(t) = st.start_date_time() {
            facts.push(format!("started {}", short_time(t)));
        }
        if let Some(t) = st.end_date_time() {
            facts.push(format!("ended {}", short_time(t)));
        }
    }
    if let Some(r) = &session.reason
        && matches!(session.state.as_str(), "DEGRADED" | "FAILED")
    {
        facts.push(r.clone());
    }
    if let Some(d) = session.description.as_deref().filter(|d| !d.is_empty()) {
        facts.push(d.to_string());
    }
    facts.join(" · ")
}

/// The workgroup's session defaults: its engine configuration; what it lacks (the idle timeout
/// is only ever given to StartSession) is the service's default.
pub async fn defaults(
    a: &AthenaConnector,
    workgroup: &str,
) -> Result<SessionSettings, ConnectorError> {
    let out = a
        .client
        .get_work_group()
        .work_group(workgroup)
        .send()
        .await
        .map_err(sdk_error)?;
    let config = out.work_group().and_then(|w| w.configuration());
    if !is_spark(config.and_then(|c| c.engine_version())) {
        return Err(ConnectorError::Config(format!(
            "workgroup `{workgroup}` is not Spark-enabled (its engine is {}): pick one under \
             the connection's `spark` folder",
            engine_name(config.and_then(|c| c.engine_version())).unwrap_or("not reported")
        )));
    }
    let mut settings = SessionSettings::default();
    if let Some(engine) = config.and_then(|c| c.engine_configuration()) {
        apply_engine(&mut settings, engine);
    }
    Ok(settings)
}

/// Copies the DPU figures `engine` has into `settings`.
fn apply_engine(settings: &mut SessionSettings, engine: &EngineConfiguration) {
    if let Some(n) = engine.coordinator_dpu_size() {
        settings.coordinator_dpu = n;
    }
    if let Some(n) = engine.default_executor_dpu_size() {
        settings.executor_dpu = n;
    }
    // Required in the model, so a missing figure reads as 0.
    if engine.max_concurrent_dpus() > 0 {
        settings.max_concurrent_dpus = engine.max_concurrent_dpus();
    }
}

pub async fn start(
    a: &AthenaConnector,
    workgroup: &str,
    settings: SessionSettings,
    description: Option<String>,
    token: &str,
) -> Result<SparkSession, ConnectorError> {
    let engine = EngineConfiguration::builder()
        .coordinator_dpu_size(settings.coordinator_dpu)
        .default_executor_dpu_size(settings.executor_dpu)
        .max_concurrent_dpus(settings.max_concurrent_dpus)
        .build();
    let out = a
        .client
        .start_session()
        .work_group(workgroup)
        .engine_configuration(engine)
        .session_idle_timeout_in_minutes(settings.idle_timeout_minutes)
        .set_description(description.clone().filter(|d| !d.is_empty()))
        .client_request_token(token)
        .send()
        .await
        .map_err(sdk_error)?;
    let id = out
        .session_id()
        .ok_or_else(|| ConnectorError::Query("Athena returned no session id".into()))?;
    tracing::info!(session = id, workgroup, "spark session started");
    Ok(SparkSession {
        id: id.to_string(),
        workgroup: workgroup.to_string(),
        state: out
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "CREATING".into()),
        settings: Some(settings),
        description,
        ..SparkSession::default()
    })
}

/// GetSessionStatus, with GetSession alongside for the DPU sizes and usage (a refused
/// GetSession only leaves those out).
pub async fn status(a: &AthenaConnector, id: &str) -> Result<SparkSession, ConnectorError> {
    let status = a.client.get_session_status().session_id(id).send();
    let full = a.client.get_session().session_id(id).send();
    let (status, full) = tokio::join!(status, full);
    let status = status.map_err(sdk_error)?;
    let mut session = match full {
        Ok(out) => from_session(&out),
        Err(e) => {
            tracing::warn!(session = id, error = %sdk_error(e), "GetSession failed");
            SparkSession {
                id: id.to_string(),
                ..SparkSession::default()
            }
        }
    };
    apply_status(&mut session, status.status());
    Ok(session)
}

/// A session as GetSession describes it.
pub fn from_session(out: &GetSessionOutput) -> SparkSession {
    let mut session = SparkSession {
        id: out.session_id().unwrap_or_default().to_string(),
        workgroup: out.work_group().unwrap_or_default().to_string(),
        description: out.description().map(str::to_string),
        engine_version: out.engine_version().map(str::to_string),
        dpu_ms: out.statistics().and_then(|s| s.dpu_execution_in_millis()),
        ..SparkSession::default()
    };
    apply_status(&mut session, out.status());
    let mut settings = SessionSettings::default();
    if let Some(engine) = out.engine_configuration() {
        apply_engine(&mut settings, engine);
    }
    if let Some(c) = out.session_configuration() {
        if let Some(m) = c.session_idle_timeout_in_minutes() {
            settings.idle_timeout_minutes = m;
        } else if let Some(s) = c.idle_timeout_seconds() {
            settings.idle_timeout_minutes = (s / 60) as i32;
        }
    }
    if out.engine_configuration().is_some() || out.session_configuration().is_some() {
        session.settings = Some(settings);
    }
    session
}

pub async fn terminate(a: &AthenaConnector, id: &str) -> Result<SparkSession, ConnectorError> {
    let out = a
        .client
        .terminate_session()
        .session_id(id)
        .send()
        .await
        .map_err(sdk_error)?;
    tracing::info!(session = id, "spark session terminated");
    Ok(SparkSession {
        id: id.to_string(),
        state: out
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "TERMINATING".into()),
        ..SparkSession::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_athena::types::SessionState;
    use aws_smithy_types::DateTime;

    #[test]
    fn spark_engines_are_told_from_sql_ones() {
        let v = |s: &str| EngineVersion::builder().effective_engine_version(s).build();
        assert!(is_spark(Some(&v("PySpark engine version 3"))));
        assert!(!is_spark(Some(&v("Athena engine version 3"))));
        let selected = EngineVersion::builder()
            .selected_engine_version("PySpark engine version 3")
            .build();
        assert!(is_spark(Some(&selected)));
        assert!(!is_spark(None));
    }

    #[test]
    fn a_listed_session_reads_state_then_times() {
        let summary = SessionSummary::builder()
            .session_id("s-1")
            .description("nightly")
            .status(
                SessionStatus::builder()
                    .state(SessionState::Degraded)
                    .state_change_reason("executor lost")
                    .start_date_time(DateTime::from_secs(1_795_352_520))
                    .build(),
            )
            .build();
        let (session, detail) = from_summary("wg", &summary);
        assert_eq!(session.state, "DEGRADED");
        assert_eq!(session.started.as_deref(), Some("2026-11-22T13:02:00Z"));
        assert_eq!(
            detail,
            "DEGRADED · started 2026-11-22 13:02 UTC · executor lost · nightly"
        );
    }
}
