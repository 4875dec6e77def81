//! A session's details as labelled lines: GetSession (engine, configuration, notebook version,
//! monitoring, DPU usage), the endpoint's URL (GetSessionEndpoint) and the Spark UI
//! (GetResourceDashboard). The endpoint's AuthToken is a secret: it is never read here.

use std::collections::HashMap;

use aws_sdk_athena::operation::get_session::GetSessionOutput;
use aws_sdk_athena::types::{
    EngineConfiguration, MonitoringConfiguration, SessionConfiguration, SessionStatus,
};

use super::super::AthenaConnector;
use super::session::from_session;
use super::{dpu_usage, sdk_error, short_time};
use crate::connectors::ConnectorError;
use crate::connectors::aws;
use crate::connectors::spark::SparkReply;

type Lines = Vec<(String, String)>;

fn push(lines: &mut Lines, label: &str, value: impl Into<String>) {
    let value = value.into();
    if !value.is_empty() {
        lines.push((label.to_string(), value));
    }
}

pub async fn details(a: &AthenaConnector, id: &str) -> Result<SparkReply, ConnectorError> {
    let out = a
        .client
        .get_session()
        .session_id(id)
        .send()
        .await
        .map_err(sdk_error)?;
    let session = from_session(&out);
    let mut lines = session_lines(a, &out);
    let (endpoint, dashboard) =
        tokio::join!(endpoint(a, id, session.is_live()), dashboard(a, &out));
    push(&mut lines, "Spark endpoint", endpoint);
    push(&mut lines, "Spark UI", dashboard);
    Ok(SparkReply::Details { session, lines })
}

/// Everything GetSession says, in display order.
fn session_lines(a: &AthenaConnector, out: &GetSessionOutput) -> Lines {
    let mut lines = Lines::new();
    let status = out.status();
    let state = status
        .and_then(|s| s.state())
        .map(|s| s.as_str())
        .unwrap_or("UNKNOWN");
    match status.and_then(|s| s.state_change_reason()) {
        Some(r) if !r.is_empty() => push(&mut lines, "state", format!("{state} ({r})")),
        _ => push(&mut lines, "state", state),
    }
    push(
        &mut lines,
        "workgroup",
        out.work_group().unwrap_or_default(),
    );
    push(
        &mut lines,
        "description",
        out.description().unwrap_or_default(),
    );
    push(
        &mut lines,
        "engine version",
        out.engine_version().unwrap_or_default(),
    );
    push(
        &mut lines,
        "notebook version",
        out.notebook_version().unwrap_or_default(),
    );
    if let Some(e) = out.engine_configuration() {
        engine_lines(&mut lines, e);
    }
    if let Some(c) = out.session_configuration() {
        configuration_lines(&mut lines, c);
    }
    if let Some(st) = status {
        time_lines(&mut lines, st);
    }
    if let Some(ms) = out.statistics().and_then(|s| s.dpu_execution_in_millis()) {
        push(&mut lines, "DPU usage", dpu_usage(a, ms));
    }
    if let Some(m) = out.monitoring_configuration() {
        monitoring_lines(&mut lines, m);
    }
    lines
}

/// The engine's size, Spark properties, extra configuration and classifications.
fn engine_lines(lines: &mut Lines, e: &EngineConfiguration) {
    let dpu = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
    push(lines, "coordinator DPU", dpu(e.coordinator_dpu_size()));
    push(lines, "executor DPU", dpu(e.default_executor_dpu_size()));
    push(
        lines,
        "max concurrent DPUs",
        dpu(Some(e.max_concurrent_dpus()).filter(|n| *n > 0)),
    );
    for (k, v) in sorted(e.spark_properties()) {
        push(lines, &format!("spark property {k}"), v);
    }
    for (k, v) in sorted(e.additional_configs()) {
        push(lines, &format!("additional config {k}"), v);
    }
    for c in e.classifications() {
        let props = sorted(c.properties())
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        push(
            lines,
            &format!("classification {}", c.name().unwrap_or("?")),
            if props.is_empty() { "-".into() } else { props },
        );
    }
}

/// Idle timeout, execution role, working directory and encryption.
fn configuration_lines(lines: &mut Lines, c: &SessionConfiguration) {
    let idle = c
        .session_idle_timeout_in_minutes()
        .map(i64::from)
        .or(c.idle_timeout_seconds().map(|s| s / 60));
    push(
        lines,
        "idle timeout",
        idle.map(|m| format!("{m} min")).unwrap_or_default(),
    );
    push(
        lines,
        "execution role",
        c.execution_role().unwrap_or_default(),
    );
    push(
        lines,
        "working directory",
        c.working_directory().unwrap_or_default(),
    );
    if let Some(enc) = c.encryption_configuration() {
        let key = enc.kms_key().map(|k| format!(" · {k}")).unwrap_or_default();
        push(
            lines,
            "encryption",
            format!("{}{key}", enc.encryption_option().as_str()),
        );
    }
}

/// When the session started, idled, last changed and ended.
fn time_lines(lines: &mut Lines, st: &SessionStatus) {
    let time = |t: Option<&aws_smithy_types::DateTime>| t.map(short_time).unwrap_or_default();
    push(lines, "started", time(st.start_date_time()));
    push(lines, "idle since", time(st.idle_since_date_time()));
    push(lines, "last change", time(st.last_modified_date_time()));
    push(lines, "ended", time(st.end_date_time()));
}

fn monitoring_lines(lines: &mut Lines, m: &MonitoringConfiguration) {
    let on = |enabled: bool| if enabled { "enabled" } else { "disabled" }.to_string();
    if let Some(c) = m.cloud_watch_logging_configuration() {
        let mut facts = vec![on(c.enabled())];
        if let Some(g) = c.log_group() {
            facts.push(format!("log group {g}"));
        }
        if let Some(p) = c.log_stream_name_prefix() {
            facts.push(format!("stream prefix {p}"));
        }
        for (kind, types) in sorted_lists(c.log_types()) {
            facts.push(format!("{kind}: {}", types.join("/")));
        }
        push(lines, "CloudWatch logging", facts.join(" · "));
    }
    if let Some(c) = m.s3_logging_configuration() {
        let mut facts = vec![on(c.enabled())];
        facts.extend(c.log_location().map(str::to_string));
        facts.extend(c.kms_key().map(|k| format!("KMS key {k}")));
        push(lines, "S3 logging", facts.join(" · "));
    }
    if let Some(c) = m.managed_logging_configuration() {
        let mut facts = vec![on(c.enabled())];
        facts.extend(c.kms_key().map(|k| format!("KMS key {k}")));
        push(lines, "managed logging", facts.join(" · "));
    }
}

fn sorted(map: Option<&HashMap<String, String>>) -> Vec<(&str, &str)> {
    let mut v: Vec<(&str, &str)> = map
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    v.sort();
    v
}

fn sorted_lists(map: Option<&HashMap<String, Vec<String>>>) -> Vec<(&str, &[String])> {
    let mut v: Vec<(&str, &[String])> = map
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    v.sort();
    v
}

/// The session endpoint's URL, or why there is none. Only `EndpointUrl` is read: the
/// `AuthToken` next to it grants access to the session.
async fn endpoint(a: &AthenaConnector, id: &str, live: bool) -> String {
    if !live {
        return "not available (the session has ended)".into();
    }
    match a.client.get_session_endpoint().session_id(id).send().await {
        Ok(out) => out.endpoint_url().to_string(),
        Err(e) => format!("not available ({})", aws::describe_sdk_error("Athena", &e)),
    }
}

/// The Spark UI (live, or the persistence UI of an ended session), or why there is none.
async fn dashboard(a: &AthenaConnector, out: &GetSessionOutput) -> String {
    let arn = match session_arn(a, out) {
        Ok(arn) => arn,
        Err(why) => return format!("not available ({why})"),
    };
    match a
        .client
        .get_resource_dashboard()
        .resource_arn(&arn)
        .send()
        .await
    {
        Ok(d) => d.url().to_string(),
        Err(e) => format!("not available ({})", aws::describe_sdk_error("Athena", &e)),
    }
}

/// The session's ARN for GetResourceDashboard. The API returns none, so it is built from the
/// region, the workgroup and the session id, with the partition and account of the session's
/// execution role (`arn:aws:iam::123456789012:role/…`).
fn session_arn(a: &AthenaConnector, out: &GetSessionOutput) -> Result<String, String> {
    let region = a
        .client
        .config()
        .region()
        .map(|r| r.to_string())
        .ok_or("no region")?;
    let role = out
        .session_configuration()
        .and_then(|c| c.execution_role())
        .ok_or("the session reports no execution role to take the account from")?;
    let parts: Vec<&str> = role.split(':').collect();
    let (partition, account) = match parts.as_slice() {
        ["arn", partition, "iam", _, account, ..] if !account.is_empty() => (*partition, *account),
        _ => return Err(format!("cannot read the account of role `{role}`")),
    };
    let workgroup = out.work_group().ok_or("the session names no workgroup")?;
    let id = out.session_id().ok_or("the session has no id")?;
    Ok(format!(
        "arn:{partition}:athena:{region}:{account}:workgroup/{workgroup}/session/{id}"
    ))
}
