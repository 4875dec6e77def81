//! The connector: callers' connections, statements streamed into Arrow, transactions.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::Mutex;
use tokio_postgres::RowStream;
use tokio_util::sync::CancellationToken;

use super::connect::{OpenError, Settings};
use super::iam::{IamAuth, IamTarget, TargetKind};
use super::session::{Session, TxState};
use super::values::{PgColumn, RawValue, RowsToArrow};
use super::{catalog, connect, iam, session};
use crate::connectors::{
    CatalogNode, CatalogPath, Connector, ConnectorError, JobEvent, JobSink, JobSummary,
    QueryRequest, TransactionState,
};
use crate::store::config::{ConnectionConfig, ConnectionDetails, RedshiftConfig};

/// The first batch goes out small and soon, so a big result starts showing at once.
const FIRST_BATCH_ROWS: usize = 1_000;
const BATCH_ROWS: usize = 16_384;
/// Wide rows are flushed sooner, so a batch stays a few megabytes.
const BATCH_BYTES: usize = 8 << 20;
/// A partly filled batch waits at most this long for more rows.
const BATCH_WAIT: Duration = Duration::from_millis(100);
/// The caller key of statements that name none.
const DEFAULT_KEY: &str = "default";
/// The browser lists the catalog on a connection of its own, never in a tab's transaction.
const BROWSER_KEY: &str = "browser";

pub struct RedshiftPgConnector {
    settings: Settings,
    iam: Option<IamAuth>,
    /// A password entered at Quarry's prompt: kept in memory only.
    prompted: std::sync::Mutex<Option<String>>,
    sessions: Mutex<HashMap<String, Arc<Mutex<Session>>>>,
}

impl RedshiftPgConnector {
    /// Reads the settings of `conn`; with IAM sign-in also loads its AWS configuration. Nothing
    /// is opened until the first statement or listing.
    pub async fn connect(conn: &ConnectionConfig) -> Result<Self, ConnectorError> {
        let settings = Settings::from_config(conn)?;
        let iam = match iam_target(conn, &settings)? {
            Some(target) => {
                // An AWS endpoint name carries its region: used when the config names none.
                let mut conn = conn.clone();
                if conn.region.is_none() && std::env::var_os("AWS_REGION").is_none() {
                    conn.region = iam::target_from_host(&settings.host).map(|(_, _, r)| r);
                }
                let sdk = crate::connectors::aws::load(&conn).await?;
                Some(IamAuth::new(&sdk, target, settings.database.clone()))
            }
            None => None,
        };
        Ok(RedshiftPgConnector {
            settings,
            iam,
            prompted: std::sync::Mutex::new(None),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// A connector with its IAM sign-in already set up (tests point it at their own servers).
    pub fn with_iam(conn: &ConnectionConfig, iam: Option<IamAuth>) -> Result<Self, ConnectorError> {
        Ok(RedshiftPgConnector {
            settings: Settings::from_config(conn)?,
            iam,
            prompted: std::sync::Mutex::new(None),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// The caller's connection, opened (or re-opened after it was lost) when needed.
    async fn session(
        &self,
        key: &str,
        sink: Option<&JobSink>,
    ) -> Result<Arc<Mutex<Session>>, ConnectorError> {
        // The map is not held while connecting: a slow connect of one tab holds up no other.
        let existing = self.sessions.lock().await.get(key).cloned();
        if let Some(s) = existing {
            let lost = s.lock().await.is_closed();
            if !lost {
                return Ok(s);
            }
            self.sessions.lock().await.remove(key);
            if let Some(sink) = sink {
                sink.send(JobEvent::Notice(format!(
                    "the connection to {}:{} was lost and is opened again: temp tables, SET values and any open transaction are gone",
                    self.settings.host, self.settings.port
                )))
                .await?;
                sink.send(JobEvent::Transaction(TransactionState::None))
                    .await?;
            }
        }
        let session = Arc::new(Mutex::new(self.open().await?));
        self.sessions
            .lock()
            .await
            .insert(key.to_string(), session.clone());
        Ok(session)
    }

    /// Opens a connection: as the IAM temporary user, else as the configured user with the
    /// first password found (config'd variable, ~/.pgpass, the prompt) or none.
    async fn open(&self) -> Result<Session, ConnectorError> {
        if let Some(iam) = &self.iam {
            let creds = iam.credentials().await?;
            return match connect::open(&self.settings, &creds.user, Some(&creds.password)).await {
                Ok(opened) => Ok(Session::new(opened)),
                // Refused: the credentials may have been revoked or expired early; once more
                // with new ones.
                Err(OpenError::Refused(_)) => {
                    iam.invalidate().await;
                    let creds = iam.credentials().await?;
                    let opened =
                        connect::open(&self.settings, &creds.user, Some(&creds.password)).await?;
                    Ok(Session::new(opened))
                }
                Err(e) => Err(e.into()),
            };
        }
        let user = self.settings.user.clone().unwrap_or_default();
        let (password, typed) = match self.settings.stored_password(&user)? {
            Some(p) => (Some(p), false),
            None => (
                self.prompted.lock().map(|p| p.clone()).unwrap_or(None),
                true,
            ),
        };
        match connect::open(&self.settings, &user, password.as_deref()).await {
            Ok(opened) => Ok(Session::new(opened)),
            // A typed password the server refused is forgotten and asked for again.
            Err(OpenError::Refused(m)) if typed && password.is_some() => {
                if let Ok(mut p) = self.prompted.lock() {
                    *p = None;
                }
                Err(ConnectorError::PasswordRequired(m))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Runs `sql` as one statement on `session`, streaming its rows into `sink`.
    async fn stream(
        &self,
        session: &mut Session,
        sql: &str,
        sink: &JobSink,
        cancel: &CancellationToken,
    ) -> Result<JobSummary, ConnectorError> {
        let statement = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(session.cancel_running().await),
            r = session.client.prepare(sql) => r.map_err(|e| session.query_error(&e, sql))?,
        };
        let columns = columns_of(&statement);
        let has_rows = !columns.is_empty();
        let mut rows = RowsToArrow::new(columns);
        if has_rows {
            sink.send(JobEvent::Schema(rows.schema())).await?;
        }
        let no_params: [&(dyn tokio_postgres::types::ToSql + Sync); 0] = [];
        let stream = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(session.cancel_running().await),
            r = session.client.query_raw(&statement, no_params) =>
                r.map_err(|e| session.query_error(&e, sql))?,
        };
        futures::pin_mut!(stream);
        let total = read_batches(session, stream.as_mut(), &mut rows, sql, sink, cancel).await?;
        if !rows.is_empty() {
            sink.send(JobEvent::Batch(rows.finish())).await?;
        }
        for note in rows.take_notes() {
            sink.send(JobEvent::Notice(note)).await?;
        }
        let message = (!has_rows).then(|| command_message(sql, stream.rows_affected()));
        Ok(JobSummary {
            rows: total,
            message,
            ..JobSummary::default()
        })
    }
}

/// The result columns a prepared statement describes.
fn columns_of(statement: &tokio_postgres::Statement) -> Vec<PgColumn> {
    statement
        .columns()
        .iter()
        .map(|c| PgColumn {
            name: c.name().to_string(),
            type_: c.type_().clone(),
            type_modifier: c.type_modifier(),
        })
        .collect()
}

/// Reads the statement's rows into `rows`, sending a batch whenever it is full (the first one
/// small) or has waited long enough for more; returns how many rows were read. What is left in
/// `rows` at the end is the caller's to send.
async fn read_batches(
    session: &mut Session,
    mut stream: Pin<&mut RowStream>,
    rows: &mut RowsToArrow,
    sql: &str,
    sink: &JobSink,
    cancel: &CancellationToken,
) -> Result<u64, ConnectorError> {
    let mut total: u64 = 0;
    let mut target = FIRST_BATCH_ROWS;
    let mut deadline = None::<tokio::time::Instant>;
    loop {
        let wait = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(session.cancel_running().await),
            _ = wait => None,
            next = stream.next() => Some(next),
        };
        let flush = match next {
            // The wait for more rows ended: show what there is.
            None => true,
            Some(None) => break,
            Some(Some(Err(e))) => return Err(session.query_error(&e, sql)),
            Some(Some(Ok(row))) => {
                let values =
                    (0..row.len()).map(|i| row.try_get::<_, RawValue>(i).ok().and_then(|v| v.0));
                if let Err(e) = rows.push_row(values) {
                    // The server would go on sending the rest for nothing.
                    let _ = session.cancel_running().await;
                    return Err(ConnectorError::Query(e.to_string()));
                }
                total += 1;
                if deadline.is_none() {
                    deadline = Some(tokio::time::Instant::now() + BATCH_WAIT);
                }
                rows.len() >= target || rows.buffered_bytes() >= BATCH_BYTES
            }
        };
        if flush
            && !rows.is_empty()
            && let Err(e) = sink.send(JobEvent::Batch(rows.finish())).await
        {
            // Nobody takes the rows any more: stop the statement on the server.
            let _ = session.cancel_running().await;
            return Err(e);
        }
        if flush {
            target = BATCH_ROWS;
            deadline = None;
        }
    }
    Ok(total)
}

/// What IAM sign-in asks for, from the config or the endpoint's host name; `None` without IAM.
fn iam_target(
    conn: &ConnectionConfig,
    settings: &Settings,
) -> Result<Option<IamTarget>, ConnectorError> {
    let ConnectionDetails::Redshift(RedshiftConfig {
        iam: true,
        user,
        cluster_identifier,
        workgroup_name,
        db_groups,
        auto_create,
        ..
    }) = &conn.details
    else {
        return Ok(None);
    };
    let from_host = iam::target_from_host(&settings.host);
    let target = match (cluster_identifier, workgroup_name, from_host) {
        (Some(c), _, _) => IamTarget::Cluster {
            cluster_identifier: c.clone(),
            db_user: user.clone(),
            db_groups: db_groups.clone(),
            auto_create: *auto_create,
        },
        (None, Some(w), _) => IamTarget::Serverless {
            workgroup_name: w.clone(),
        },
        (None, None, Some((TargetKind::Cluster, name, _))) => IamTarget::Cluster {
            cluster_identifier: name,
            db_user: user.clone(),
            db_groups: db_groups.clone(),
            auto_create: *auto_create,
        },
        (None, None, Some((TargetKind::Serverless, name, _))) => IamTarget::Serverless {
            workgroup_name: name,
        },
        (None, None, None) => {
            return Err(ConnectorError::Config(format!(
                "connection `{}` signs in with IAM but `{}` is not an AWS Redshift endpoint name: set `cluster_identifier` or `workgroup_name`",
                conn.name, settings.host
            )));
        }
    };
    if matches!(target, IamTarget::Serverless { .. }) && user.is_some() {
        return Err(ConnectorError::Config(format!(
            "connection `{}`: Redshift Serverless signs you in as your IAM identity: remove `user`",
            conn.name
        )));
    }
    Ok(Some(target))
}

/// What a statement without rows did: `INSERT: 3 rows`, `BEGIN`.
fn command_message(sql: &str, affected: Option<u64>) -> String {
    let words = session::leading_words(sql);
    let command = words.first().map(String::as_str).unwrap_or("done");
    match (command, affected) {
        ("INSERT" | "UPDATE" | "DELETE" | "MERGE" | "COPY" | "FETCH" | "MOVE", Some(n)) => {
            format!("{command}: {n} row{}", if n == 1 { "" } else { "s" })
        }
        ("SELECT" | "CREATE", Some(n)) if n > 0 => format!("{command}: {n} rows"),
        _ => command.to_string(),
    }
}

#[async_trait]
impl Connector for RedshiftPgConnector {
    async fn children(&self, path: &CatalogPath) -> Result<Vec<CatalogNode>, ConnectorError> {
        let session = self.session(BROWSER_KEY, None).await?;
        let s = session.lock().await;
        catalog::children(&s.client, self.settings.engine, path).await
    }

    async fn execute(
        &self,
        req: QueryRequest,
        sink: JobSink,
        cancel: CancellationToken,
    ) -> Result<JobSummary, ConnectorError> {
        if req.reopen.is_some() {
            return Err(ConnectorError::Config(
                "a direct connection cannot reopen an earlier result: run the statement again"
                    .into(),
            ));
        }
        let key = req.session_key.as_deref().unwrap_or(DEFAULT_KEY);
        // Connecting (or waiting for the tab's previous statement) is cancellable too.
        let session = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(ConnectorError::Cancelled),
            s = self.session(key, Some(&sink)) => s?,
        };
        let mut s = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(ConnectorError::Cancelled),
            s = session.lock() => s,
        };
        sink.send(JobEvent::Status("RUNNING".into())).await?;
        let started = Instant::now();
        let result = self.stream(&mut s, &req.sql, &sink, &cancel).await;
        tracing::debug!(
            "statement on `{}` took {:?}",
            self.settings.name,
            started.elapsed()
        );
        let before = s.tx;
        s.tx = s.tx.after(&req.sql, result.is_ok(), s.is_closed());
        for notice in s.take_notices() {
            sink.send(JobEvent::Notice(notice)).await?;
        }
        if s.tx != before {
            sink.send(JobEvent::Transaction(s.tx.state())).await?;
        }
        result
    }

    async fn end_transaction(&self, key: &str, commit: bool) -> Result<String, ConnectorError> {
        let session = match self.sessions.lock().await.get(key) {
            Some(s) => s.clone(),
            None => return Ok("no open transaction".into()),
        };
        let mut s = session.lock().await;
        let failed = s.tx == TxState::Failed;
        let sql = if commit && !failed {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        s.client
            .batch_execute(sql)
            .await
            .map_err(|e| s.query_error(&e, sql))?;
        s.tx = TxState::Idle;
        Ok(match (commit, failed) {
            (true, false) => "committed".into(),
            (true, true) => "the transaction had failed: rolled back".into(),
            (false, _) => "rolled back".into(),
        })
    }

    async fn end_session(&self, key: &str) -> Result<Option<String>, ConnectorError> {
        // Dropping the client closes the connection; the server rolls back what was open.
        // There is no server-side session id to report (the tab that held it is gone).
        self.sessions.lock().await.remove(key);
        Ok(None)
    }

    fn set_password(&self, password: String) {
        if let Ok(mut p) = self.prompted.lock() {
            *p = Some(password);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_messages() {
        assert_eq!(
            command_message("insert into t values (1)", Some(1)),
            "INSERT: 1 row"
        );
        assert_eq!(
            command_message(" -- x\n delete from t", Some(3)),
            "DELETE: 3 rows"
        );
        assert_eq!(command_message("begin", Some(0)), "BEGIN");
        assert_eq!(command_message("create table t (a int)", Some(0)), "CREATE");
    }
}
