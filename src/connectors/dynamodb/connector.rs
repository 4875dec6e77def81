//! The DynamoDB connector: PartiQL statements through ExecuteStatement, paged with `NextToken`
//! and streamed as Arrow batches; the table browser from ListTables and DescribeTable.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::execute_statement::builders::ExecuteStatementFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, KeyType, ProjectionType, ReturnConsumedCapacity,
    TableDescription,
};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::items::ItemsToArrow;
use super::values::{parse_param, write_dynamodb_json, write_plain_json};
use crate::connectors::{
    CatalogNode, CatalogPath, Connector, ConnectorError, GroupMode, ItemJson, JobEvent, JobSink,
    JobStats, JobSummary, NodeKind, QueryRequest, aws,
};
use crate::model::format::human_bytes;
use crate::store::config::{ConnectionConfig, ConnectionDetails, DynamodbConfig};

pub struct DynamoConnector {
    pub(super) client: Client,
    limit: Option<u32>,
    pub(super) consistent_read: bool,
    /// Key attribute names per table, so result columns start with the keys.
    keys: Mutex<HashMap<String, Vec<String>>>,
}

impl DynamoConnector {
    pub async fn connect(conn: &ConnectionConfig) -> Result<Self, ConnectorError> {
        let sdk = aws::load(conn).await?;
        Ok(Self::with_sdk_config(conn, &sdk))
    }

    pub fn with_sdk_config(conn: &ConnectionConfig, sdk: &SdkConfig) -> Self {
        let (limit, consistent_read) = match &conn.details {
            ConnectionDetails::Dynamodb(DynamodbConfig {
                limit,
                consistent_read,
            }) => (*limit, *consistent_read),
            _ => (None, false),
        };
        DynamoConnector {
            client: Client::new(sdk),
            limit,
            consistent_read,
            keys: Mutex::new(HashMap::new()),
        }
    }

    async fn describe(&self, table: &str) -> Result<TableDescription, ConnectorError> {
        self.client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| ConnectorError::Query(aws::describe_sdk_error("DynamoDB", &e)))?
            .table
            .ok_or_else(|| ConnectorError::Query(format!("DynamoDB describes no table `{table}`")))
    }

    /// The table's key attributes (partition, then sort), cached; empty when unknown.
    async fn key_attributes(&self, table: &str) -> Vec<String> {
        if let Some(k) = self.keys.lock().await.get(table) {
            return k.clone();
        }
        let keys = match self.describe(table).await {
            Ok(t) => key_names(&t),
            // Not fatal: the statement itself reports a missing table far more precisely.
            Err(_) => return Vec::new(),
        };
        self.keys
            .lock()
            .await
            .insert(table.to_string(), keys.clone());
        keys
    }

    /// ExecuteStatement for one page of `req` from `token`, asking at most `left` items.
    fn page_request(
        &self,
        req: &QueryRequest,
        params: &[AttributeValue],
        token: Option<String>,
        left: Option<u64>,
    ) -> ExecuteStatementFluentBuilder {
        let consistent = req.consistent_read.unwrap_or(self.consistent_read);
        let capacity_mode = if req.capacity_by_index {
            ReturnConsumedCapacity::Indexes
        } else {
            ReturnConsumedCapacity::Total
        };
        let mut call = self
            .client
            .execute_statement()
            .statement(&req.sql)
            .consistent_read(consistent)
            .return_consumed_capacity(capacity_mode)
            .set_next_token(token);
        if !params.is_empty() {
            call = call.set_parameters(Some(params.to_vec()));
        }
        if let Some(left) = left {
            call = call.limit(i32::try_from(left).unwrap_or(i32::MAX));
        }
        call
    }
}

/// Partition key first, then the sort key.
fn key_names(t: &TableDescription) -> Vec<String> {
    let mut keys: Vec<_> = t.key_schema().iter().collect();
    keys.sort_by_key(|k| k.key_type() != &KeyType::Hash);
    keys.iter()
        .map(|k| k.attribute_name().to_string())
        .collect()
}

/// The table a PartiQL statement reads or writes: the first name after FROM, INTO or UPDATE
/// (double-quoted or bare; `"t"."index"` gives `t`).
pub fn statement_table(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    let words = ["from", "into", "update"];
    let start = words
        .iter()
        .filter_map(|w| find_word(&lower, w).map(|i| i + w.len()))
        .min()?;
    let rest = sql[start..].trim_start();
    if let Some(quoted) = rest.strip_prefix('"') {
        let end = quoted.find('"')?;
        Some(quoted[..end].to_string())
    } else {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect();
        let table = name.split('.').next().unwrap_or("").to_string();
        (!table.is_empty()).then_some(table)
    }
}

/// Byte offset of `word` in `text` as a whole word (both texts lower-case ASCII-compatible).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(word).map(|i| i + from) {
        let before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let after = bytes
            .get(i + word.len())
            .is_none_or(|b| !b.is_ascii_alphanumeric());
        if before && after {
            return Some(i);
        }
        from = i + word.len();
    }
    None
}

/// Consumed capacity as the results title shows it.
fn capacity_stats(total: f64, read: f64, write: f64) -> Vec<(String, String)> {
    let mut extra = vec![("capacity".to_string(), format!("{total:.1} units"))];
    if read > 0.0 {
        extra.push(("read".into(), format!("{read:.1} RCU")));
    }
    if write > 0.0 {
        extra.push(("write".into(), format!("{write:.1} WCU")));
    }
    extra
}

/// Running totals of the consumed capacity of a run's pages.
#[derive(Default)]
struct Capacity {
    total: f64,
    read: f64,
    write: f64,
}

impl Capacity {
    fn add(&mut self, c: Option<&ConsumedCapacity>) {
        if let Some(c) = c {
            self.total += c.capacity_units().unwrap_or(0.0);
            self.read += c.read_capacity_units().unwrap_or(0.0);
            self.write += c.write_capacity_units().unwrap_or(0.0);
        }
    }
}

#[async_trait]
impl Connector for DynamoConnector {
    async fn children(&self, path: &CatalogPath) -> Result<Vec<CatalogNode>, ConnectorError> {
        match path.as_slice() {
            [] => {
                let mut pages = self.client.list_tables().into_paginator().send();
                let mut nodes = Vec::new();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| {
                        ConnectorError::Query(aws::describe_sdk_error("DynamoDB", &e))
                    })?;
                    for name in page.table_names() {
                        nodes.push(
                            CatalogNode::new(name, NodeKind::Table)
                                .with_children()
                                .with_query(format!("SELECT * FROM {}", quote(name))),
                        );
                    }
                }
                Ok(nodes)
            }
            [table] => Ok(table_children(&self.describe(table).await?)),
            _ => Ok(Vec::new()),
        }
    }

    async fn execute_group(
        &self,
        mode: GroupMode,
        requests: Vec<QueryRequest>,
        sinks: Vec<JobSink>,
        cancel: CancellationToken,
    ) -> Vec<Result<JobSummary, ConnectorError>> {
        match mode {
            GroupMode::Batch => self.run_batch(&requests, &sinks, &cancel).await,
            GroupMode::Transaction => self.run_transaction(&requests, &sinks, &cancel).await,
        }
    }

    async fn execute(
        &self,
        req: QueryRequest,
        sink: JobSink,
        cancel: CancellationToken,
    ) -> Result<JobSummary, ConnectorError> {
        let params = parse_params(&req)?;
        crate::connectors::check_param_count(&req)?;
        let keys = match statement_table(&req.sql) {
            Some(t) => self.key_attributes(&t).await,
            None => Vec::new(),
        };
        let mut convert = ItemsToArrow::new(keys);
        let mut token: Option<String> = req.resume.clone();
        let limit = req.limit.or(self.limit);
        let mut rows = 0u64;
        let mut capacity = Capacity::default();
        let mut pages = 0u32;
        let mut stats = JobStats::default();
        loop {
            // With a limit, ask for no more than what is left (DynamoDB counts items evaluated,
            // so a filtered statement may need several calls to fill it).
            let left = limit.map(|limit| u64::from(limit).saturating_sub(rows).max(1));
            let call = self.page_request(&req, &params, token.take(), left);
            let page = tokio::select! {
                _ = cancel.cancelled() => return Err(ConnectorError::Cancelled),
                p = call.send() => p.map_err(|e| {
                    ConnectorError::Query(aws::describe_sdk_error("DynamoDB", &e))
                })?,
            };
            pages += 1;
            capacity.add(page.consumed_capacity());
            rows += send_page(&req, &mut convert, page.items(), pages == 1, &sink).await?;
            stats.extra = capacity_stats(capacity.total, capacity.read, capacity.write);
            stats.extra.push(("pages".into(), pages.to_string()));
            sink.send(JobEvent::Stats(stats.clone())).await?;
            match page.next_token() {
                Some(t) if limit.is_none_or(|l| rows < u64::from(l)) => {
                    token = Some(t.to_string());
                }
                Some(t) => {
                    return Ok(JobSummary {
                        rows,
                        message: Some(format!(
                            "paused after {rows} items (limit {}); more remain: load-more \
                             (m in the results) goes on",
                            limit.unwrap_or_default()
                        )),
                        resume: Some(t.to_string()),
                        stats,
                    });
                }
                None => break,
            }
        }
        Ok(JobSummary {
            rows,
            stats,
            ..JobSummary::default()
        })
    }
}

/// The request's parameters as DynamoDB values, or a usage error naming the one that is wrong.
pub(super) fn parse_params(req: &QueryRequest) -> Result<Vec<AttributeValue>, ConnectorError> {
    req.params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            parse_param(p)
                .map_err(|e| ConnectorError::Config(format!("parameter {} (`{p}`): {e}", i + 1)))
        })
        .collect()
}

/// Sends one page of a paged statement: JSON lines when the request asked for them, else a batch
/// through `convert` (the first page always, so an empty result still has its schema). Returns
/// the number of items sent.
async fn send_page(
    req: &QueryRequest,
    convert: &mut ItemsToArrow,
    items: &[HashMap<String, AttributeValue>],
    first: bool,
    sink: &JobSink,
) -> Result<u64, ConnectorError> {
    if let Some(mode) = req.item_json {
        let lines = items.iter().map(|item| item_json(item, mode)).collect();
        sink.send(JobEvent::Json(lines)).await?;
        return Ok(items.len() as u64);
    }
    if items.is_empty() && !first {
        return Ok(0);
    }
    let (schema, batch) = convert.page(items).map_err(ConnectorError::Query)?;
    if let Some(schema) = schema {
        sink.send(JobEvent::Schema(schema)).await?;
    }
    let rows = batch.num_rows() as u64;
    if rows > 0 {
        sink.send(JobEvent::Batch(batch)).await?;
    }
    Ok(rows)
}

/// Sends one statement's items to its result: as JSON text when the request asked for it, else
/// as a batch (keys first). Returns the number of items.
pub(super) async fn send_items(
    c: &DynamoConnector,
    req: &QueryRequest,
    sink: &JobSink,
    items: &[HashMap<String, AttributeValue>],
) -> Result<u64, ConnectorError> {
    if let Some(mode) = req.item_json {
        let lines = items.iter().map(|item| item_json(item, mode)).collect();
        sink.send(JobEvent::Json(lines)).await?;
        return Ok(items.len() as u64);
    }
    let keys = match statement_table(&req.sql) {
        Some(t) => c.key_attributes(&t).await,
        None => Vec::new(),
    };
    let (schema, batch) = ItemsToArrow::new(keys)
        .page(items)
        .map_err(ConnectorError::Query)?;
    if let Some(schema) = schema {
        sink.send(JobEvent::Schema(schema)).await?;
    }
    let rows = batch.num_rows() as u64;
    if rows > 0 {
        sink.send(JobEvent::Batch(batch)).await?;
    }
    Ok(rows)
}

/// One item as a JSON object in `mode`.
fn item_json(item: &HashMap<String, AttributeValue>, mode: ItemJson) -> String {
    let mut out = String::new();
    match mode {
        ItemJson::Plain => write_plain_json(&mut out, &AttributeValue::M(item.clone())),
        ItemJson::Typed => {
            // An item is its attributes' map itself, not `{"M": …}`.
            out.push('{');
            let mut names: Vec<_> = item.keys().collect();
            names.sort();
            for (i, name) in names.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(name).unwrap_or_default());
                out.push(':');
                write_dynamodb_json(&mut out, &item[name]);
            }
            out.push('}');
        }
    }
    out
}

/// A PartiQL identifier, always double-quoted (table names may hold `-` and `.`).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Keys, indexes and figures of one table.
fn table_children(t: &TableDescription) -> Vec<CatalogNode> {
    let name = t.table_name().unwrap_or_default();
    let attr_type = |attr: &str| {
        t.attribute_definitions()
            .iter()
            .find(|d| d.attribute_name() == attr)
            .map(|d| d.attribute_type().as_str().to_string())
            .unwrap_or_else(|| "?".into())
    };
    let key_text = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        let mut keys: Vec<_> = schema.iter().collect();
        keys.sort_by_key(|k| k.key_type() != &KeyType::Hash);
        keys.iter()
            .map(|k| format!("{} ({})", k.attribute_name(), attr_type(k.attribute_name())))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut nodes = Vec::new();
    for k in t.key_schema() {
        let role = if k.key_type() == &KeyType::Hash {
            "partition key"
        } else {
            "sort key"
        };
        nodes.push(
            CatalogNode::new(k.attribute_name(), NodeKind::Column)
                .with_detail(format!("{} · {role}", attr_type(k.attribute_name()))),
        );
    }
    let projection = |p: Option<&aws_sdk_dynamodb::types::Projection>| match p
        .and_then(|p| p.projection_type())
    {
        Some(ProjectionType::All) => "all attributes".to_string(),
        Some(ProjectionType::KeysOnly) => "keys only".to_string(),
        Some(other) => other.as_str().to_lowercase(),
        None => "?".to_string(),
    };
    for g in t.global_secondary_indexes() {
        let index = g.index_name().unwrap_or_default();
        nodes.push(
            CatalogNode::new(index, NodeKind::View)
                .with_detail(format!(
                    "GSI · {} · {}",
                    key_text(g.key_schema()),
                    projection(g.projection())
                ))
                .with_query(format!("SELECT * FROM {}.{}", quote(name), quote(index))),
        );
    }
    for l in t.local_secondary_indexes() {
        let index = l.index_name().unwrap_or_default();
        nodes.push(
            CatalogNode::new(index, NodeKind::View)
                .with_detail(format!(
                    "LSI · {} · {}",
                    key_text(l.key_schema()),
                    projection(l.projection())
                ))
                .with_query(format!("SELECT * FROM {}.{}", quote(name), quote(index))),
        );
    }
    let billing = t
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .map(|b| b.as_str().to_string())
        .unwrap_or_else(|| "PROVISIONED".into());
    nodes.push(CatalogNode::new("billing mode", NodeKind::Property).with_detail(billing));
    if let Some(n) = t.item_count() {
        nodes.push(
            CatalogNode::new("items", NodeKind::Property)
                .with_detail(format!("{n} (updated about every 6 hours)")),
        );
    }
    if let Some(b) = t.table_size_bytes() {
        nodes.push(
            CatalogNode::new("size", NodeKind::Property).with_detail(human_bytes(b.max(0) as u64)),
        );
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_statement_table() {
        assert_eq!(
            statement_table("SELECT * FROM \"orders\" WHERE pk = ?").as_deref(),
            Some("orders")
        );
        assert_eq!(
            statement_table("select * from \"t-1\".\"gsi\"").as_deref(),
            Some("t-1")
        );
        assert_eq!(
            statement_table("INSERT INTO users VALUE {'pk': 'a'}").as_deref(),
            Some("users")
        );
        assert_eq!(
            statement_table("UPDATE t SET a = 1 WHERE pk = 'x'").as_deref(),
            Some("t")
        );
        assert_eq!(
            statement_table("SELECT fromage FROM cheese").as_deref(),
            Some("cheese")
        );
        assert_eq!(statement_table("EXISTS"), None);
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
