//! What the browser's tree is made of: where a node is, and what kind of thing it is.

/// Path of a catalog node below its connection, e.g. `["sales", "orders"]`.
pub type CatalogPath = Vec<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Catalog,
    Database,
    Schema,
    Table,
    View,
    Column,
    Folder,
    /// An Athena workgroup (Enter makes it the tab's workgroup).
    Workgroup,
    /// A query the service knows: a past execution or a saved (named) query.
    Query,
    /// A setting or figure shown as a leaf ("output location: s3://…").
    Property,
    /// A server-side session (Athena Spark).
    Session,
    /// Something that could not be read (a malformed file): its detail says why.
    Broken,
}

impl NodeKind {
    /// Lower-case name, as `quarry ls` prints it.
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Catalog => "catalog",
            NodeKind::Database => "database",
            NodeKind::Schema => "schema",
            NodeKind::Table => "table",
            NodeKind::View => "view",
            NodeKind::Column => "column",
            NodeKind::Folder => "folder",
            NodeKind::Workgroup => "workgroup",
            NodeKind::Query => "query",
            NodeKind::Property => "property",
            NodeKind::Session => "session",
            NodeKind::Broken => "broken",
        }
    }
}

/// What Enter on a browser node does besides inserting its `query`.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeAction {
    /// Run the tab's next statements in this Athena workgroup.
    UseWorkgroup(String),
    /// Show the results of a past execution without running it again.
    OpenResult { server_id: String, sql: String },
    /// A Spark-enabled workgroup: sessions can be started in it.
    SparkWorkgroup(String),
    /// A Spark session: a tab can be bound to it, it can be described or terminated.
    SparkSession(crate::model::spark::SparkSession),
}

/// One entry of the browser tree, as a connector describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogNode {
    pub name: String,
    pub kind: NodeKind,
    /// Shown dimmed after the name: a column's type, a table's format.
    pub detail: Option<String>,
    pub has_children: bool,
    /// What "open this table" runs or inserts (`SELECT * FROM … LIMIT 100`).
    pub query: Option<String>,
    pub action: Option<NodeAction>,
}

impl CatalogNode {
    /// A node with no detail, children, query or action; the `with_*` methods add them.
    pub fn new(name: impl Into<String>, kind: NodeKind) -> Self {
        CatalogNode {
            name: name.into(),
            kind,
            detail: None,
            has_children: false,
            query: None,
            action: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_children(mut self) -> Self {
        self.has_children = true;
        self
    }

    pub fn with_query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    pub fn with_action(mut self, action: NodeAction) -> Self {
        self.action = Some(action);
        self
    }
}
