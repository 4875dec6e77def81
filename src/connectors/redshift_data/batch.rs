//! BatchExecuteStatement: a group of requests run as one transaction, one sink per sub-statement.

use aws_sdk_redshiftdata::operation::describe_statement::DescribeStatementOutput;
use aws_sdk_redshiftdata::types::{StatementStatusString, SubStatementData};
use tokio_util::sync::CancellationToken;

use super::follow::{changed_rows_message, sub_progress};
use super::session::SessionArg;
use super::start::{StartError, Started, statement_name};
use super::{RedshiftDataConnector, in_session, send_start, with_target};
use crate::connectors::{
    ConnectorError, JobEvent, JobSink, JobStats, JobSummary, QueryRequest, aws,
};

impl RedshiftDataConnector {
    /// BatchExecuteStatement: the requests as one transaction, one sink per sub-statement.
    pub(super) async fn run_batch(
        &self,
        requests: &[QueryRequest],
        sinks: &[JobSink],
        cancel: &CancellationToken,
    ) -> Result<Vec<Result<JobSummary, ConnectorError>>, ConnectorError> {
        if requests.iter().any(|r| !r.params.is_empty()) {
            return Err(ConnectorError::Config(
                "a Data API batch takes no parameters (BatchExecuteStatement has none): run the \
                 statements one by one, or write the values into the SQL"
                    .into(),
            ));
        }
        let first = sinks.first().ok_or(ConnectorError::Disconnected)?;
        let session = requests.first().and_then(|r| self.session_of(r));
        let started = self
            .start_batch(requests, sinks, first, session.clone())
            .await?;
        let refs: Vec<&JobSink> = sinks.iter().collect();
        for (i, sink) in sinks.iter().enumerate() {
            sink.send(JobEvent::Stats(JobStats {
                server_id: Some(format!("{}:{}", started.id, i + 1)),
                ..JobStats::default()
            }))
            .await?;
        }
        let followed = self.follow(&started.id, true, &refs, cancel).await;
        self.session_idle(&session, &started, first).await;
        let out = followed?;
        let subs = out.sub_statements();
        let failed_at = subs
            .iter()
            .position(|s| s.status() == Some(&StatementStatusString::Failed));
        let mut outcomes = Vec::new();
        for (i, sink) in sinks.iter().enumerate() {
            let outcome = match subs.get(i) {
                Some(sub) => self.sub_outcome(&out, sub, failed_at, sink, cancel).await,
                None => Err(ConnectorError::Query(format!(
                    "the Data API reported no sub-statement {} of batch {}",
                    i + 1,
                    started.id
                ))),
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Submits the batch (in the first request's session) once every sink says STARTING.
    async fn start_batch(
        &self,
        requests: &[QueryRequest],
        sinks: &[JobSink],
        first: &JobSink,
        session: Option<(String, u32)>,
    ) -> Result<Started, ConnectorError> {
        let sqls: Vec<String> = requests.iter().map(|r| r.sql.clone()).collect();
        let name = requests.first().map(statement_name).unwrap_or_default();
        for sink in sinks {
            sink.send(JobEvent::Status("STARTING".into())).await?;
        }
        let started = self
            .start_in_session(session, first, |arg| {
                let call = self
                    .client
                    .batch_execute_statement()
                    .set_sqls(Some(sqls.clone()))
                    .statement_name(&name)
                    .client_token(uuid::Uuid::new_v4().to_string());
                let call = in_session!(call, &arg, self.target);
                send_start!(call, arg)
            })
            .await?;
        tracing::info!(statement = %started.id, statements = sqls.len(), "redshift-data batch started");
        Ok(started)
    }

    /// What became of one sub-statement of the ended batch `out` (`failed_at`: the one that
    /// failed, which rolled the whole transaction back); its result is streamed into `sink`.
    async fn sub_outcome(
        &self,
        out: &DescribeStatementOutput,
        sub: &SubStatementData,
        failed_at: Option<usize>,
        sink: &JobSink,
        cancel: &CancellationToken,
    ) -> Result<JobSummary, ConnectorError> {
        let stats = sub_progress(sub).1;
        use StatementStatusString as S;
        match (sub.status(), failed_at) {
            (Some(S::Failed), _) => Err(ConnectorError::Query(format!(
                "{}\nthe whole batch was rolled back (it runs as one transaction)",
                sub.error().unwrap_or("the statement failed").trim()
            ))),
            (Some(S::Finished), Some(k)) => Err(ConnectorError::Query(format!(
                "rolled back: statement {} of the batch failed, so none of its work was kept",
                k + 1
            ))),
            (Some(S::Finished), None) => {
                let rows = if sub.has_result_set() == Some(true) {
                    self.fetch(sub.id(), sink, cancel).await?
                } else {
                    0
                };
                Ok(JobSummary {
                    rows,
                    message: (sub.has_result_set() != Some(true))
                        .then(|| changed_rows_message(sub.result_rows())),
                    stats,
                    resume: None,
                })
            }
            (_, Some(k)) => Err(ConnectorError::Query(format!(
                "not run: statement {} of the batch failed and the transaction was rolled back",
                k + 1
            ))),
            (status, None) => Err(ConnectorError::Query(format!(
                "the batch ended {} ({})",
                out.status().map(|s| s.as_str()).unwrap_or("?"),
                status.map(|s| s.as_str()).unwrap_or("no status")
            ))),
        }
    }
}
