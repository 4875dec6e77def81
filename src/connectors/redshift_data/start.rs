//! Starting statements: ExecuteStatement in the caller's Data API session (joining, replacing or
//! opening it), and why a start failed.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_redshiftdata::types::SqlParameter;

use super::session::{Lookup, SessionArg};
use super::{RedshiftDataConnector, in_session, send_start, with_target};
use crate::connectors::{ConnectorError, JobEvent, JobSink, QueryRequest, aws};
use crate::model::format::short_id;

/// What a started statement is.
pub(super) struct Started {
    pub(super) id: String,
    pub(super) session: Option<String>,
}

impl RedshiftDataConnector {
    /// Starts a statement (or batch) with `send`, in the caller's session when it has one:
    /// reuses a live session, replaces one that idled out (saying state was lost), and opens one
    /// when there is none. `send` gets how to relate to the session and returns the statement.
    pub(super) async fn start_in_session<F, Fut>(
        &self,
        session: Option<(String, u32)>,
        sink: &JobSink,
        send: F,
    ) -> Result<Started, ConnectorError>
    where
        F: Fn(SessionArg) -> Fut,
        Fut: Future<Output = Result<Started, StartError>>,
    {
        let Some((key, keep_alive)) = session else {
            return send(SessionArg::None).await.map_err(StartError::into_error);
        };
        let keep = Duration::from_secs(keep_alive.into());
        let lost = |secs: u64, id: &str| {
            format!(
                "the Data API session {} idled out (kept {secs} s after its last statement): a \
                 new session was started; temp tables and SET values of the old one are gone",
                short_id(id)
            )
        };
        match self.sessions.take_for_run(&key, Instant::now()) {
            Lookup::Live(id) => match send(SessionArg::Existing(id.clone())).await {
                Ok(mut started) => {
                    // The answer need not repeat the session it ran in.
                    started.session.get_or_insert(id);
                    return Ok(started);
                }
                Err(StartError::SessionGone(_)) => {
                    self.sessions.remove_if(&key, &id);
                    sink.send(JobEvent::Notice(lost(keep.as_secs(), &id)))
                        .await?;
                }
                Err(e) => {
                    // The session itself is fine: it is idle again.
                    self.sessions.mark_idle(&key, &id, Instant::now());
                    return Err(e.into_error());
                }
            },
            Lookup::Expired(secs, id) => sink.send(JobEvent::Notice(lost(secs, &id))).await?,
            Lookup::None => {}
        }
        let started = send(SessionArg::Open(keep_alive as i32))
            .await
            .map_err(StartError::into_error)?;
        if let Some(id) = &started.session {
            self.sessions.set(&key, id.clone(), keep);
        }
        Ok(started)
    }

    /// ExecuteStatement for one request.
    pub(super) async fn start(
        &self,
        req: &QueryRequest,
        session: Option<(String, u32)>,
        sink: &JobSink,
    ) -> Result<Started, ConnectorError> {
        let names = crate::sql::named_params(&req.sql);
        if names.len() != req.params.len() {
            return Err(ConnectorError::Config(format!(
                "the statement has {} `:name` parameter(s) but {} value(s) were given",
                names.len(),
                req.params.len()
            )));
        }
        let parameters: Vec<SqlParameter> = names
            .iter()
            .zip(&req.params)
            .map(|(name, value)| {
                SqlParameter::builder()
                    .name(name)
                    .value(value)
                    .build()
                    .expect("name and value are set")
            })
            .collect();
        let name = statement_name(req);
        self.start_in_session(session, sink, |arg| {
            let call = self
                .client
                .execute_statement()
                .sql(&req.sql)
                .statement_name(&name)
                // One token per attempt: an SDK retry after a lost answer never runs it twice.
                .client_token(uuid::Uuid::new_v4().to_string())
                .set_parameters((!parameters.is_empty()).then(|| parameters.clone()));
            let call = in_session!(call, &arg, self.target);
            send_start!(call, arg)
        })
        .await
    }
}

/// Why a start failed: the caller's session is gone on the server, or anything else.
pub(super) enum StartError {
    SessionGone(String),
    Other(String),
}

impl StartError {
    /// A rejected SessionId reads "Session … is not available / expired / not found".
    pub(super) fn classify(arg: &SessionArg, text: String) -> Self {
        let lower = text.to_ascii_lowercase();
        if matches!(arg, SessionArg::Existing(_))
            && lower.contains("session")
            && [
                "not available",
                "expired",
                "not found",
                "does not exist",
                "invalid",
            ]
            .iter()
            .any(|w| lower.contains(w))
        {
            StartError::SessionGone(text)
        } else {
            StartError::Other(text)
        }
    }

    pub(super) fn into_error(self) -> ConnectorError {
        match self {
            StartError::SessionGone(t) | StartError::Other(t) => ConnectorError::Query(t),
        }
    }
}

/// `quarry:<tab or script>` so the statement is recognisable in the console and ListStatements.
pub(super) fn statement_name(req: &QueryRequest) -> String {
    format!("quarry:{}", req.label.as_deref().unwrap_or("run"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_rejected_session_id_counts_as_a_gone_session() {
        let gone = "ValidationException: Session 1234 is not available".to_string();
        let existing = SessionArg::Existing("1234".into());
        assert!(matches!(
            StartError::classify(&existing, gone.clone()),
            StartError::SessionGone(_)
        ));
        assert!(matches!(
            StartError::classify(&SessionArg::Open(60), gone),
            StartError::Other(_)
        ));
        assert!(matches!(
            StartError::classify(&existing, "ValidationException: syntax".into()),
            StartError::Other(_)
        ));
    }
}
