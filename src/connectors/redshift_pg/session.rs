//! One caller's connection: the client, the server's notices, and whether a transaction is open.
//!
//! tokio-postgres does not expose the server's transaction status, so it is followed from the
//! statements that succeed or fail: `BEGIN`/`START TRANSACTION` open one, `COMMIT`/`END`/
//! `ROLLBACK`/`ABORT` close it, an error inside one leaves it failed (PostgreSQL and Redshift
//! refuse everything but `ROLLBACK` then), a lost connection ends it.

use tokio::sync::mpsc;
use tokio_postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::connect::Opened;
use super::error::describe_in;
use crate::connectors::{ConnectorError, TransactionState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxState {
    Idle,
    Open,
    /// Open, and a statement in it failed: only a rollback is accepted.
    Failed,
}

impl TxState {
    /// The state after `sql` ran (`ok`: it succeeded) on a connection now `closed` or not.
    pub fn after(self, sql: &str, ok: bool, closed: bool) -> TxState {
        if closed {
            return TxState::Idle;
        }
        if !ok {
            return match self {
                TxState::Idle => TxState::Idle,
                _ => TxState::Failed,
            };
        }
        let words = leading_words(sql);
        let first = words.first().map(String::as_str).unwrap_or("");
        let second = words.get(1).map(String::as_str).unwrap_or("");
        match (first, second) {
            ("BEGIN", _) | ("START", "TRANSACTION") => TxState::Open,
            ("ROLLBACK", "TO") => match self {
                TxState::Idle => TxState::Idle,
                _ => TxState::Open,
            },
            ("COMMIT" | "END" | "ROLLBACK" | "ABORT", _) | ("PREPARE", "TRANSACTION") => {
                TxState::Idle
            }
            _ => self,
        }
    }

    pub fn state(self) -> TransactionState {
        match self {
            TxState::Idle => TransactionState::None,
            TxState::Open => TransactionState::Open,
            TxState::Failed => TransactionState::Failed,
        }
    }
}

/// The first two words of a statement, upper-cased, after blanks and comments.
pub fn leading_words(sql: &str) -> Vec<String> {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map(|(_, r)| r).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map(|(_, r)| r).unwrap_or("");
        } else {
            break;
        }
    }
    rest.split(|c: char| !c.is_ascii_alphabetic() && c != '_')
        .filter(|w| !w.is_empty())
        .take(2)
        .map(str::to_ascii_uppercase)
        .collect()
}

pub struct Session {
    pub client: Client,
    tls: MakeRustlsConnect,
    driver: tokio::task::JoinHandle<()>,
    notices: mpsc::UnboundedReceiver<String>,
    pub tx: TxState,
}

impl Session {
    pub fn new(opened: Opened) -> Self {
        Session {
            client: opened.client,
            tls: opened.tls,
            driver: opened.driver,
            notices: opened.notices,
            tx: TxState::Idle,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed() || self.driver.is_finished()
    }

    /// What the server said besides results (NOTICE, WARNING) since the last call.
    pub fn take_notices(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(n) = self.notices.try_recv() {
            out.push(n);
        }
        out
    }

    /// Sends the protocol's cancel request for the running statement. The caller then drops
    /// the statement's stream: tokio-postgres discards what the server still sends, and the
    /// connection stays usable.
    pub async fn cancel_running(&mut self) -> ConnectorError {
        match self
            .client
            .cancel_token()
            .cancel_query(self.tls.clone())
            .await
        {
            Ok(()) => ConnectorError::Cancelled,
            Err(e) => ConnectorError::StopFailed(format!(
                "cancelled here, but the cancel request did not reach the server ({e}): the statement may still be running — see pg_stat_activity (PostgreSQL) or STV_RECENTS (Redshift) and pg_cancel_backend"
            )),
        }
    }

    /// A failed statement as the user reads it; a lost connection says so.
    pub fn query_error(&self, e: &tokio_postgres::Error, sql: &str) -> ConnectorError {
        if let Some(db) = e.as_db_error() {
            return ConnectorError::Query(describe_in(db, sql));
        }
        if e.is_closed() || self.client.is_closed() {
            return ConnectorError::Query(format!(
                "the connection was lost ({e}): it is opened again on the next run, without this connection's temp tables, SET values or open transaction"
            ));
        }
        ConnectorError::Query(crate::connectors::aws::innermost(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_follow_the_statements() {
        use TxState::*;
        assert_eq!(Idle.after("begin", true, false), Open);
        assert_eq!(
            Idle.after("/* x */ START TRANSACTION READ ONLY", true, false),
            Open
        );
        assert_eq!(Open.after("insert into t values (1)", true, false), Open);
        assert_eq!(
            Open.after("insert into nope values (1)", false, false),
            Failed
        );
        assert_eq!(Failed.after("rollback to savepoint a", true, false), Open);
        assert_eq!(Failed.after("rollback", true, false), Idle);
        assert_eq!(Open.after("-- done\ncommit;", true, false), Idle);
        assert_eq!(Open.after("end", true, false), Idle);
        assert_eq!(Idle.after("select 1", false, false), Idle);
        assert_eq!(Open.after("select 1", true, true), Idle);
        assert_eq!(Idle.after("do $$ begin end $$", true, false), Idle);
    }
}
