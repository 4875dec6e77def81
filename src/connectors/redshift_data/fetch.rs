//! Reading a finished statement's result: GetStatementResult pages decoded into Arrow batches.

use tokio_util::sync::CancellationToken;

use super::{RedshiftDataConnector, rows};
use crate::connectors::{ConnectorError, JobEvent, JobSink, aws, exact_decimal};

impl RedshiftDataConnector {
    /// Streams the result pages of a finished statement (or sub-statement); returns the rows.
    pub(super) async fn fetch(
        &self,
        id: &str,
        sink: &JobSink,
        cancel: &CancellationToken,
    ) -> Result<u64, ConnectorError> {
        let mut token: Option<String> = None;
        let mut schema: Option<arrow::datatypes::SchemaRef> = None;
        let mut rows = 0u64;
        loop {
            let page = self
                .client
                .get_statement_result()
                .id(id)
                .set_next_token(token.take())
                .send();
            let page = tokio::select! {
                _ = cancel.cancelled() => return Err(ConnectorError::Cancelled),
                p = page => p.map_err(|e| {
                    result_error(aws::describe_sdk_error("Redshift Data API", &e))
                })?,
            };
            let page_schema = exact_decimal::page_schema(
                &schema,
                || rows::schema(page.column_metadata()),
                |s| rows::inexact_decimals(s, page.records()),
                rows::REDSHIFT_TYPE,
                sink,
            )
            .await?;
            let schema = schema.insert(page_schema);
            if !page.records().is_empty() {
                let batch = rows::to_batch(schema, page.records())
                    .map_err(|e| ConnectorError::Query(e.to_string()))?;
                rows += batch.num_rows() as u64;
                sink.send(JobEvent::Batch(batch)).await?;
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(rows)
    }
}

/// GetStatementResult failures, with the service's result limits explained.
fn result_error(text: String) -> ConnectorError {
    let lower = text.to_ascii_lowercase();
    let hint = if lower.contains("64 kb") || lower.contains("row size") {
        Some(
            "a row of this result is larger than the Data API's 64 KB per-row limit: select \
             fewer or narrower columns (e.g. LEFT(col, 1000)), UNLOAD the result to S3, or use a \
             direct `redshift` connection",
        )
    } else if lower.contains("500 mb") || lower.contains("result size") {
        Some(
            "the result is larger than the Data API's 500 MB limit: add a LIMIT or a filter, \
             UNLOAD the result to S3, or use a direct `redshift` connection",
        )
    } else {
        None
    };
    match hint {
        Some(h) => ConnectorError::Query(format!("{text}\n{h}")),
        None => ConnectorError::Query(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_limits_are_explained() {
        let row = result_error("ValidationException: Row size exceeds the 64 KB limit".into());
        assert!(row.to_string().contains("LEFT(col, 1000)"), "{row}");
        let all = result_error("ValidationException: result size exceeds 500 MB".into());
        assert!(all.to_string().contains("UNLOAD"), "{all}");
        let other = result_error("ValidationException: nope".into());
        assert_eq!(other.to_string(), "ValidationException: nope");
    }
}
