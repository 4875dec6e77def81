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
