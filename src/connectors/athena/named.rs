//! Athena named (saved) queries as whole records: listing a workgroup's (ListNamedQueries, then
//! BatchGetNamedQuery 50 at a time) and creating one (CreateNamedQuery). `quarry snippets
//! import` and `quarry snippets publish` are built on these.

use aws_sdk_athena::config::retry::RetryConfig;

use super::AthenaConnector;
use crate::connectors::{ConnectorError, aws};

/// BatchGetNamedQuery takes at most this many ids per call.
const BATCH: usize = 50;
/// ListNamedQueries page size (its maximum).
const LIST_PAGE: i32 = 50;
/// Athena's workgroup when a request names none.
const DEFAULT_WORKGROUP: &str = "primary";

/// One saved query of a workgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedQuery {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The database it runs in (Athena requires one).
    pub database: String,
    pub sql: String,
    pub workgroup: String,
}

impl NamedQuery {
    fn from_sdk(q: &aws_sdk_athena::types::NamedQuery, id: &str, workgroup: &str) -> Self {
        NamedQuery {
            id: q.named_query_id().unwrap_or(id).to_string(),
            name: q.name().to_string(),
            description: q
                .description()
                .filter(|d| !d.trim().is_empty())
                .map(str::to_string),
            database: q.database().to_string(),
            sql: q.query_string().to_string(),
            workgroup: q.work_group().unwrap_or(workgroup).to_string(),
        }
    }
}

fn sdk_error<E>(
    op: &str,
    e: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> ConnectorError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    ConnectorError::Query(format!("{op}: {}", aws::describe_sdk_error("Athena", &e)))
}

impl AthenaConnector {
    /// The named queries of `workgroup` (default: the connection's, else Athena's `primary`),
    /// in the order ListNamedQueries gives their ids.
    ///
    /// They are fetched with BatchGetNamedQuery, 50 at a time. Where that fails (an endpoint
    /// without it, such as moto, or a policy allowing only GetNamedQuery), the rest are fetched
    /// one by one with GetNamedQuery; ids the batch reports unprocessed are fetched so too.
    pub async fn named_queries(
        &self,
        workgroup: Option<&str>,
    ) -> Result<Vec<NamedQuery>, ConnectorError> {
        let workgroup = workgroup
            .map(str::to_string)
            .or_else(|| self.workgroup.clone());
        let ids = self.named_query_ids(workgroup.as_deref()).await?;
        let wg = workgroup.as_deref().unwrap_or(DEFAULT_WORKGROUP);
        let mut queries = Vec::with_capacity(ids.len());
        let mut batch_works = true;
        for chunk in ids.chunks(BATCH) {
            let mut missing: Vec<&String> = chunk.iter().collect();
            if batch_works {
                match self.batch_get(chunk, wg).await {
                    Ok(mut found) => {
                        // In the listing's order, whatever order the batch answered in; what it
                        // left out (unprocessed, or not mentioned at all) is fetched on its own.
                        missing.clear();
                        for id in chunk {
                            match found.iter().position(|q| &q.id == id) {
                                Some(i) => queries.push(found.swap_remove(i)),
                                None => missing.push(id),
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "BatchGetNamedQuery failed: using GetNamedQuery");
                        batch_works = false;
                    }
                }
            }
            for id in missing {
                queries.push(self.get_one(id, wg).await?);
            }
        }
        Ok(queries)
    }

    /// Every id ListNamedQueries gives for `workgroup`, across pages.
    async fn named_query_ids(
        &self,
        workgroup: Option<&str>,
    ) -> Result<Vec<String>, ConnectorError> {
        let mut ids = Vec::new();
        let mut pages = self
            .client
            .list_named_queries()
            .set_work_group(workgroup.map(str::to_string))
            .max_results(LIST_PAGE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("ListNamedQueries", e))?;
            for id in page.named_query_ids() {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        Ok(ids)
    }

    /// One BatchGetNamedQuery: the queries found (the unprocessed ids are logged). Not retried
    /// by the SDK: the caller's fallback (GetNamedQuery, with retries) is the retry.
    async fn batch_get(
        &self,
        ids: &[String],
        workgroup: &str,
    ) -> Result<Vec<NamedQuery>, ConnectorError> {
        let out = self
            .client
            .batch_get_named_query()
            .set_named_query_ids(Some(ids.to_vec()))
            .customize()
            .config_override(
                aws_sdk_athena::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|e| sdk_error("BatchGetNamedQuery", e))?;
        for u in out.unprocessed_named_query_ids() {
            tracing::warn!(
                id = u.named_query_id().unwrap_or("?"),
                code = u.error_code().unwrap_or("?"),
                message = u.error_message().unwrap_or(""),
                "BatchGetNamedQuery left a named query unprocessed"
            );
        }
        Ok(out
            .named_queries()
            .iter()
            .map(|q| NamedQuery::from_sdk(q, "", workgroup))
            .collect())
    }

    async fn get_one(&self, id: &str, workgroup: &str) -> Result<NamedQuery, ConnectorError> {
        let out = self
            .client
            .get_named_query()
            .named_query_id(id)
            .send()
            .await
            .map_err(|e| {
                let e = sdk_error("GetNamedQuery", e);
                ConnectorError::Query(format!("named query {id}: {e}"))
            })?;
        out.named_query()
            .map(|q| NamedQuery::from_sdk(q, id, workgroup))
            .ok_or_else(|| ConnectorError::Query(format!("Athena returned no named query `{id}`")))
    }

    /// Creates a named query and returns its id. `database` defaults to the connection's
    /// (CreateNamedQuery requires one), `workgroup` to the connection's (else Athena's
    /// `primary`). One client request token per call: a create the SDK retries after a lost
    /// answer does not make a second copy.
    pub async fn create_named_query(
        &self,
        name: &str,
        description: Option<&str>,
        database: Option<&str>,
        sql: &str,
        workgroup: Option<&str>,
    ) -> Result<String, ConnectorError> {
        let database = database
            .filter(|d| !d.trim().is_empty())
            .map(str::to_string)
            .or_else(|| self.database.clone())
            .ok_or_else(|| {
                ConnectorError::Config(
                    "an Athena named query needs a database, and neither a database was given \
                     nor does the connection set one: pass --database DB, or set `database = \
                     \"…\"` in the connection"
                        .into(),
                )
            })?;
        let token = uuid::Uuid::new_v4().simple().to_string();
        let out = self
            .client
            .create_named_query()
            .name(name)
            .set_description(
                description
                    .filter(|d| !d.trim().is_empty())
                    .map(str::to_string),
            )
            .database(database)
            .query_string(sql)
            .client_request_token(token)
            .set_work_group(
                workgroup
                    .map(str::to_string)
                    .or_else(|| self.workgroup.clone()),
            )
            .send()
            .await
            .map_err(|e| sdk_error("CreateNamedQuery", e))?;
        out.named_query_id()
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ConnectorError::Query("Athena returned no named query id".into()))
    }
}
