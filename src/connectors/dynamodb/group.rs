//! Several PartiQL statements in one call: BatchExecuteStatement (each statement succeeds or
//! fails on its own, up to 25 per call, reads and writes never mixed) and ExecuteTransaction
//! (all or nothing, up to 100). A 200 answer does not mean success: every statement carries its
//! own error, which goes to that statement's result.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::execute_transaction::ExecuteTransactionError;
use aws_sdk_dynamodb::types::{
    AttributeValue, BatchStatementRequest, BatchStatementResponse, CancellationReason,
    ParameterizedStatement, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure,
};
use tokio_util::sync::CancellationToken;

use super::connector::{DynamoConnector, parse_params, send_items};
use super::values::write_plain_json;
use crate::connectors::{ConnectorError, JobSink, JobSummary, QueryRequest, aws};

/// BatchExecuteStatement takes at most this many statements.
pub const BATCH_MAX: usize = 25;
/// ExecuteTransaction takes at most this many.
pub const TRANSACTION_MAX: usize = 100;

type Outcome = Result<JobSummary, ConnectorError>;

/// Whether a statement only reads (batch calls never mix reads and writes).
fn is_read(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("select"))
}

/// Consecutive statements of the same kind, at most [`BATCH_MAX`] each: index ranges.
pub fn batch_chunks(statements: &[&str]) -> Vec<std::ops::Range<usize>> {
    let mut chunks: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, sql) in statements.iter().enumerate() {
        match chunks.last_mut() {
            Some(c) if c.len() < BATCH_MAX && is_read(statements[c.start]) == is_read(sql) => {
                c.end = i + 1
            }
            _ => chunks.push(i..i + 1),
        }
    }
    chunks
}

fn parameters(req: &QueryRequest) -> Result<Option<Vec<AttributeValue>>, ConnectorError> {
    if req.params.is_empty() {
        return Ok(None);
    }
    parse_params(req).map(Some)
}

/// A statement's error line, with the item a failed condition returned (ALL_OLD).
fn statement_error(
    code: &str,
    message: Option<&str>,
    item: Option<&HashMap<String, AttributeValue>>,
) -> ConnectorError {
    let mut text = match message.filter(|m| !m.is_empty()) {
        Some(m) => format!("{code}: {m}"),
        None => code.to_string(),
    };
    if let Some(item) = item.filter(|i| !i.is_empty()) {
        let mut json = String::new();
        write_plain_json(&mut json, &AttributeValue::M(item.clone()));
        text.push_str(&format!(" (item: {json})"));
    }
    ConnectorError::Query(text)
}

fn done(rows: u64) -> JobSummary {
    JobSummary {
        rows,
        message: (rows == 0).then(|| "done".to_string()),
        ..JobSummary::default()
    }
}

/// The same error for every statement of a group that failed as a whole.
fn all_fail(count: usize, e: ConnectorError) -> Vec<Outcome> {
    let text = e.to_string();
    let config = matches!(e, ConnectorError::Config(_));
    (0..count)
        .map(|_| {
            Err(if config {
                ConnectorError::Config(text.clone())
            } else {
                ConnectorError::Query(text.clone())
            })
        })
        .collect()
}

/// The requests as the statements of one transaction (the first that cannot be built fails it).
fn transaction_statements(
    requests: &[QueryRequest],
) -> Result<Vec<ParameterizedStatement>, ConnectorError> {
    requests
        .iter()
        .map(|r| {
            parameters(r).and_then(|params| {
                ParameterizedStatement::builder()
                    .statement(&r.sql)
                    .set_parameters(params)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(|e| ConnectorError::Config(e.to_string()))
            })
        })
        .collect()
}

/// Each statement's outcome in a cancelled transaction: its own reason, or "not applied".
fn cancellation_outcomes(count: usize, reasons: &[CancellationReason]) -> Vec<Outcome> {
    (0..count)
        .map(|i| match reasons.get(i) {
            Some(r) if r.code().is_some_and(|c| c != "None") => Err(statement_error(
                r.code().unwrap_or("Error"),
                r.message(),
                r.item(),
            )),
            _ => Err(ConnectorError::Query(
                "not applied (the transaction was cancelled)".into(),
            )),
        })
        .collect()
}

impl DynamoConnector {
    pub(super) async fn run_batch(
        &self,
        requests: &[QueryRequest],
        sinks: &[JobSink],
        cancel: &CancellationToken,
    ) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = (0..requests.len()).map(|_| None).collect();
        let texts: Vec<&str> = requests.iter().map(|r| r.sql.as_str()).collect();
        for chunk in batch_chunks(&texts) {
            if cancel.is_cancelled() {
                break;
            }
            let (statements, members) = self.batch_statements(requests, chunk, &mut outcomes);
            if statements.is_empty() {
                continue;
            }
            let call = self
                .client
                .batch_execute_statement()
                .set_statements(Some(statements))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send();
            let answer = tokio::select! {
                _ = cancel.cancelled() => break,
                a = call => a,
            };
            match answer {
                Err(e) => {
                    let text = aws::describe_sdk_error("DynamoDB", &e);
                    for &i in &members {
                        outcomes[i] = Some(Err(ConnectorError::Query(text.clone())));
                    }
                }
                Ok(out) => {
                    let responses = out.responses();
                    for (k, &i) in members.iter().enumerate() {
                        let outcome = self
                            .batch_response(responses.get(k), &requests[i], &sinks[i])
                            .await;
                        outcomes[i] = Some(outcome);
                    }
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Err(ConnectorError::Cancelled)))
            .collect()
    }

    /// One call's statements (the requests in `chunk`) and the index of each; a statement that
    /// cannot be built gets its error as its outcome and is left out.
    fn batch_statements(
        &self,
        requests: &[QueryRequest],
        chunk: std::ops::Range<usize>,
        outcomes: &mut [Option<Outcome>],
    ) -> (Vec<BatchStatementRequest>, Vec<usize>) {
        let mut statements = Vec::new();
        let mut members = Vec::new();
        for i in chunk {
            let built = parameters(&requests[i]).and_then(|params| {
                BatchStatementRequest::builder()
                    .statement(&requests[i].sql)
                    .set_parameters(params)
                    .consistent_read(self.consistent_read && is_read(&requests[i].sql))
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(|e| ConnectorError::Config(e.to_string()))
            });
            match built {
                Ok(s) => {
                    statements.push(s);
                    members.push(i);
                }
                Err(e) => outcomes[i] = Some(Err(e)),
            }
        }
        (statements, members)
    }

    /// One statement's outcome from its answer in a batch: its own error, or its item sent.
    async fn batch_response(
        &self,
        response: Option<&BatchStatementResponse>,
        req: &QueryRequest,
        sink: &JobSink,
    ) -> Outcome {
        match response {
            None => Err(ConnectorError::Query(
                "DynamoDB sent no answer for this statement".into(),
            )),
            Some(r) => match r.error() {
                Some(e) => Err(statement_error(
                    e.code().map(|c| c.as_str()).unwrap_or("Error"),
                    e.message(),
                    e.item(),
                )),
                None => self.finish_statement(req, sink, r.item()).await,
            },
        }
    }

    pub(super) async fn run_transaction(
        &self,
        requests: &[QueryRequest],
        sinks: &[JobSink],
        cancel: &CancellationToken,
    ) -> Vec<Outcome> {
        if requests.len() > TRANSACTION_MAX {
            return all_fail(
                requests.len(),
                ConnectorError::Config(format!(
                    "a transaction takes at most {TRANSACTION_MAX} statements, this one has {}",
                    requests.len()
                )),
            );
        }
        let statements = match transaction_statements(requests) {
            Ok(statements) => statements,
            Err(e) => return all_fail(requests.len(), e),
        };
        let call = self
            .client
            .execute_transaction()
            .set_transact_statements(Some(statements))
            // One token per run: a retried call never applies the transaction twice.
            .client_request_token(uuid::Uuid::new_v4().simple().to_string())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let answer = tokio::select! {
            _ = cancel.cancelled() => return requests.iter().map(|_| Err(ConnectorError::Cancelled)).collect(),
            a = call => a,
        };
        match answer {
            Ok(out) => {
                let mut outcomes = Vec::new();
                for (i, r) in requests.iter().enumerate() {
                    let item = out.responses().get(i).and_then(|resp| resp.item());
                    outcomes.push(self.finish_statement(r, &sinks[i], item).await);
                }
                outcomes
            }
            Err(e) => {
                if let Some(ExecuteTransactionError::TransactionCanceledException(t)) =
                    e.as_service_error()
                {
                    return cancellation_outcomes(requests.len(), t.cancellation_reasons());
                }
                all_fail(
                    requests.len(),
                    ConnectorError::Query(aws::describe_sdk_error("DynamoDB", &e)),
                )
            }
        }
    }

    /// Sends a succeeded statement's item (reads return at most one) to its result.
    async fn finish_statement(
        &self,
        req: &QueryRequest,
        sink: &JobSink,
        item: Option<&HashMap<String, AttributeValue>>,
    ) -> Outcome {
        let items: Vec<HashMap<String, AttributeValue>> = item.cloned().into_iter().collect();
        let rows = if is_read(&req.sql) {
            send_items(self, req, sink, &items).await?
        } else {
            0
        };
        Ok(done(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_reads_from_writes_and_at_25() {
        let mut s = vec!["INSERT INTO t VALUE {'pk': 1}"; 30];
        s.insert(3, "SELECT * FROM t WHERE pk = 1");
        s.insert(4, "select * FROM t WHERE pk = 2");
        let chunks = batch_chunks(&s);
        assert_eq!(chunks, vec![0..3, 3..5, 5..30, 30..32]);
    }
}
