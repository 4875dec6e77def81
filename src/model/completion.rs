//! Completion's vocabulary (issue 18): what the catalog of a connection is known to hold, as
//! completion reads it, and what a completion offers. The catalog side is filled on the worker
//! from the same metadata calls the browser makes (never by running a statement) and cached on
//! disk per connection; the editor side ranks and shows items without waiting for either.

use serde::{Deserialize, Serialize};

/// What one completion offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A database or schema (a qualifier of table names).
    Schema,
    Table,
    View,
    Column,
    Keyword,
    Function,
    Snippet,
}

impl ItemKind {
    /// Lower-case name, as `quarry complete` prints it.
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Schema => "schema",
            ItemKind::Table => "table",
            ItemKind::View => "view",
            ItemKind::Column => "column",
            ItemKind::Keyword => "keyword",
            ItemKind::Function => "function",
            ItemKind::Snippet => "snippet",
        }
    }
}

/// One candidate shown in the completion popup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    /// What is inserted: the name, quoted in the dialect's way when it needs it.
    pub insert: String,
    /// What is shown and matched: the bare name.
    pub label: String,
    pub kind: ItemKind,
    /// A column's type, a table's kind of storage, a function's signature.
    pub detail: Option<String>,
    /// Where it comes from: `sales.orders` for a column, `sales` for a table, `keyword`.
    pub source: String,
}

/// A column as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnEntry {
    pub name: String,
    /// The service's type name (`varchar`, `bigint`, `S`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
}

/// A table (or view) as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    /// The qualifiers that lead to it, outermost first (`["sales"]`, `["AwsDataCatalog",
    /// "sales"]`; empty for the embedded engine's and DynamoDB's unqualified tables).
    pub schema: Vec<String>,
    pub name: String,
    #[serde(default)]
    pub view: bool,
    /// `None` until the table's columns were loaded (lazily, when it is first referenced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<ColumnEntry>>,
    /// DynamoDB: the key attributes (partition key first), from the key schema.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// What is known of one connection's catalog: a snapshot completion reads without waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogSnapshot {
    /// Every schema (or database) path known, outermost first.
    #[serde(default)]
    pub schemas: Vec<Vec<String>>,
    #[serde(default)]
    pub tables: Vec<TableEntry>,
}

impl CatalogSnapshot {
    /// The tables named `name` (case-insensitively), optionally under `schema`'s last parts.
    pub fn find_tables<'a>(
        &'a self,
        schema: &'a [String],
        name: &'a str,
    ) -> impl Iterator<Item = &'a TableEntry> + 'a {
        self.tables.iter().filter(move |t| {
            t.name.eq_ignore_ascii_case(name)
                && t.schema.len() >= schema.len()
                && t.schema[t.schema.len() - schema.len()..]
                    .iter()
                    .zip(schema)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        })
    }
}

impl CatalogSnapshot {
    /// Records the columns (and key attributes) of the table at `path` (its schema path, then
    /// its name), adding the table when the snapshot does not know it yet.
    pub fn merge_columns(&mut self, path: &[String], columns: Vec<ColumnEntry>, keys: Vec<String>) {
        let Some((name, schema)) = path.split_last() else {
            return;
        };
        match self
            .tables
            .iter_mut()
            .find(|t| t.name == *name && t.schema == schema)
        {
            Some(table) => {
                table.columns = Some(columns);
                table.keys = keys;
            }
            None => self.tables.push(TableEntry {
                schema: schema.to_vec(),
                name: name.clone(),
                view: false,
                columns: Some(columns),
                keys,
            }),
        }
    }

    /// Adds the column names a result showed to the table at `path` (schema path, then name),
    /// after those already known: DynamoDB items need not share attributes.
    pub fn learn_columns(&mut self, path: &[String], seen: Vec<String>) {
        let Some((name, schema)) = path.split_last() else {
            return;
        };
        let table = match self
            .tables
            .iter()
            .position(|t| t.name == *name && t.schema == schema)
        {
            Some(i) => &mut self.tables[i],
            None => {
                self.tables.push(TableEntry {
                    schema: schema.to_vec(),
                    name: name.clone(),
                    view: false,
                    columns: None,
                    keys: Vec::new(),
                });
                let last = self.tables.len() - 1;
                &mut self.tables[last]
            }
        };
        let columns = table.columns.get_or_insert_with(Vec::new);
        for name in seen {
            if !columns.iter().any(|c| c.name == name) {
                columns.push(ColumnEntry {
                    name,
                    type_name: None,
                });
            }
        }
    }

    /// Keeps the columns `older` had loaded for the tables this snapshot still has (a refresh
    /// lists tables, not their columns).
    pub fn keep_columns_of(&mut self, older: &CatalogSnapshot) {
        for table in self.tables.iter_mut().filter(|t| t.columns.is_none()) {
            if let Some(old) = older
                .tables
                .iter()
                .find(|o| o.name == table.name && o.schema == table.schema)
            {
                table.columns.clone_from(&old.columns);
                table.keys.clone_from(&old.keys);
            }
        }
    }
}
