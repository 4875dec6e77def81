//! Connection kinds and what each can do. [`ConnectionKind::capabilities`] is the one place
//! where kinds are compared: every other layer asks a capability ("can this connection run a
//! group as a transaction?") instead of matching on the kind, so adding a service means filling
//! in one row here.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    Athena,
    RedshiftData,
    Redshift,
    Dynamodb,
    Local,
}

/// How a kind takes the values of a statement's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// `?` placeholders filled with SQL literals (`'abc'`, `42`): Athena.
    SqlLiterals,
    /// `?` placeholders filled with JSON-ish literals that become AttributeValues: DynamoDB.
    Json,
    /// `:name` parameters sent as plain text the server casts: Redshift Data.
    Named,
}

/// How "run all in one transaction" works on a kind, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transactions {
    /// Not offered.
    None,
    /// The statements go to the service together, all or nothing (DynamoDB
    /// `ExecuteTransaction`, Redshift Data `BatchExecuteStatement`).
    Group,
    /// The caller's own connection runs `BEGIN`, the statements, `COMMIT` (direct Redshift).
    OnConnection,
}

/// The SQL dialect a kind speaks, for completion's keywords, functions and quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlDialect {
    /// The embedded engine (DataFusion).
    DataFusion,
    /// Athena's engine (Trino).
    Trino,
    /// Redshift, close to PostgreSQL.
    Postgres,
    /// DynamoDB's PartiQL.
    PartiQl,
}

/// What a connection kind can do, so every layer offers only what works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Cancelling a job also stops the work on the server (and its billing).
    pub server_cancel: bool,
    /// A run may leave work or state on the server worth a question on quit (a running query,
    /// a session holding temp tables, an open connection).
    pub server_side_work: bool,
    /// A tab holds a server-side session (Redshift Data sessions, a direct connection).
    pub sessions: bool,
    /// Session keep-alive can be set per tab (Redshift Data).
    pub session_settings: bool,
    /// Closing a tab's session closes a network connection of its own (direct Redshift).
    pub direct_connection: bool,
    /// How statement parameters are given, if the kind takes any.
    pub params: Option<ParamStyle>,
    /// Run all: the tab's statements go in one batch call by default (DynamoDB).
    pub batch_by_default: bool,
    /// Statements can run as one group call (`--batch`/`--transaction` in `quarry run`).
    pub groups: bool,
    pub transactions: Transactions,
    /// A result's columns can grow as pages arrive (DynamoDB: items need not share
    /// attributes): a later `Schema` event is the union so far.
    pub schema_grows: bool,
    /// Runs page through items with a per-run limit, consistent reads and per-index capacity
    /// (DynamoDB).
    pub item_paging: bool,
    /// Items can be written as (typed) JSON text instead of batches (DynamoDB).
    pub item_json: bool,
    /// A past execution can be reopened by its server id (its results fetched again).
    pub reopen: bool,
    /// Result reuse can be toggled per run (Athena).
    pub result_reuse: bool,
    /// Spark sessions and calculations (Athena for Apache Spark).
    pub spark: bool,
    /// Snippets can be published as the service's named queries (Athena).
    pub named_queries: bool,
    /// Runs in the process on files, with no service behind it.
    pub embedded: bool,
    /// A group can run as a batch whose statements succeed or fail each on its own (DynamoDB
    /// `BatchExecuteStatement`); elsewhere a batch is one transaction (Redshift Data).
    pub independent_batch: bool,
    /// The dialect completion offers keywords and functions of, and quotes names for.
    pub dialect: SqlDialect,
}

impl Capabilities {
    /// Nothing beyond running statements.
    const BASIC: Capabilities = Capabilities {
        server_cancel: false,
        server_side_work: false,
        sessions: false,
        session_settings: false,
        direct_connection: false,
        params: None,
        batch_by_default: false,
        groups: false,
        transactions: Transactions::None,
        schema_grows: false,
        item_paging: false,
        item_json: false,
        reopen: false,
        result_reuse: false,
        spark: false,
        named_queries: false,
        embedded: false,
        independent_batch: false,
        dialect: SqlDialect::DataFusion,
    };
}

impl ConnectionKind {
    pub const ALL: [ConnectionKind; 5] = [
        ConnectionKind::Athena,
        ConnectionKind::RedshiftData,
        ConnectionKind::Redshift,
        ConnectionKind::Dynamodb,
        ConnectionKind::Local,
    ];

    /// The name used in the config file.
    pub fn name(self) -> &'static str {
        match self {
            ConnectionKind::Athena => "athena",
            ConnectionKind::RedshiftData => "redshift-data",
            ConnectionKind::Redshift => "redshift",
            ConnectionKind::Dynamodb => "dynamodb",
            ConnectionKind::Local => "local",
        }
    }

    pub fn from_name(name: &str) -> Option<ConnectionKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the kind talks to AWS (and so takes `region`, `profile`, `endpoint_url`).
    pub fn is_aws(self) -> bool {
        !self.capabilities().embedded
    }

    /// What connections of this kind can do.
    pub const fn capabilities(self) -> Capabilities {
        let basic = Capabilities::BASIC;
        match self {
            ConnectionKind::Athena => Capabilities {
                server_cancel: true,
                server_side_work: true,
                params: Some(ParamStyle::SqlLiterals),
                reopen: true,
                result_reuse: true,
                spark: true,
                named_queries: true,
                dialect: SqlDialect::Trino,
                ..basic
            },
            ConnectionKind::RedshiftData => Capabilities {
                server_cancel: true,
                server_side_work: true,
                sessions: true,
                session_settings: true,
                params: Some(ParamStyle::Named),
                groups: true,
                transactions: Transactions::Group,
                reopen: true,
                dialect: SqlDialect::Postgres,
                ..basic
            },
            ConnectionKind::Redshift => Capabilities {
                server_cancel: true,
                server_side_work: true,
                sessions: true,
                direct_connection: true,
                transactions: Transactions::OnConnection,
                dialect: SqlDialect::Postgres,
                ..basic
            },
            ConnectionKind::Dynamodb => Capabilities {
                params: Some(ParamStyle::Json),
                batch_by_default: true,
                groups: true,
                transactions: Transactions::Group,
                schema_grows: true,
                item_paging: true,
                item_json: true,
                independent_batch: true,
                dialect: SqlDialect::PartiQl,
                ..basic
            },
            ConnectionKind::Local => Capabilities {
                embedded: true,
                dialect: SqlDialect::DataFusion,
                ..basic
            },
        }
    }
}

impl fmt::Display for ConnectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
