//! Gathering the candidates that fit a context: names from the catalog snapshot and the
//! statement's scope, words of the dialect, snippet names.

use super::dialect::{functions, keywords};
use super::quote::{quote_name, quoted};
use super::rank::may_match;
use super::scope::{Scope, TableRef};
use crate::model::completion::{CatalogSnapshot, CompletionItem, ItemKind, TableEntry};
use crate::model::connection::SqlDialect;

/// The candidates gathered so far, and the tables whose columns are not loaded yet.
pub struct Found<'a> {
    pub dialect: SqlDialect,
    /// The typed word opened a quote: names are inserted quoted whatever they are.
    pub force_quotes: bool,
    pub catalog: &'a CatalogSnapshot,
    /// What was typed: names that cannot match it are not gathered at all (a catalog of
    /// 20 000 tables would otherwise cost 20 000 items per keystroke).
    pub typed: &'a str,
    pub items: Vec<CompletionItem>,
    pub wanted_columns_of: Vec<(Vec<String>, String)>,
}

impl Found<'_> {
    fn name(&mut self, label: &str, kind: ItemKind, detail: Option<String>, source: String) {
        if !may_match(label, self.typed) {
            return;
        }
        let insert = if self.force_quotes {
            quoted(label)
        } else {
            quote_name(self.dialect, label)
        };
        self.items.push(CompletionItem {
            insert,
            label: label.to_owned(),
            kind,
            detail,
            source,
        });
    }

    fn word(&mut self, word: &str, kind: ItemKind, source: &str) {
        if !may_match(word, self.typed) {
            return;
        }
        self.items.push(CompletionItem {
            insert: word.to_owned(),
            label: word.to_owned(),
            kind,
            detail: None,
            source: source.to_owned(),
        });
    }

    pub fn keywords(&mut self) {
        for k in keywords(self.dialect) {
            self.word(k, ItemKind::Keyword, "keyword");
        }
    }

    pub fn functions(&mut self) {
        for f in functions(self.dialect) {
            self.word(f, ItemKind::Function, "function");
        }
    }

    pub fn snippets(&mut self, snippets: &[String]) {
        for s in snippets {
            self.word(s, ItemKind::Snippet, "snippet");
        }
    }

    /// Schemas and tables under `qualifier` (all of them when it is empty), the statement's
    /// CTEs first when unqualified.
    pub fn tables(&mut self, scope: &Scope, qualifier: &[String]) {
        if qualifier.is_empty() {
            for cte in &scope.ctes {
                self.name(&cte.name, ItemKind::Table, None, "with".to_owned());
            }
        }
        let catalog = self.catalog;
        let mut schemas: Vec<&str> = Vec::new();
        for path in &catalog.schemas {
            let Some((child, parent)) = path.split_last() else {
                continue;
            };
            if ends_with_ignore_case(parent, qualifier) && !schemas.contains(&child.as_str()) {
                schemas.push(child);
                self.name(child, ItemKind::Schema, None, parent.join("."));
            }
        }
        for t in &catalog.tables {
            if may_match(&t.name, self.typed) && ends_with_ignore_case(&t.schema, qualifier) {
                let kind = if t.view {
                    ItemKind::View
                } else {
                    ItemKind::Table
                };
                self.name(&t.name, kind, None, t.schema.join("."));
            }
        }
    }

    /// The columns of the tables in scope, nearest the cursor first.
    pub fn scope_columns(&mut self, scope: &Scope) {
        for table in &scope.tables {
            self.columns_of_ref(scope, table);
        }
    }

    /// The columns of what `qualifier` names: a table's alias or name in scope, a CTE, or a
    /// catalog table (`db.tab.`).
    pub fn qualified_columns(&mut self, scope: &Scope, qualifier: &[String]) {
        if let [name] = qualifier
            && let Some(table) = scope.tables.iter().find(|t| t.answers_to(name))
        {
            return self.columns_of_ref(scope, table);
        }
        let Some((name, schema)) = qualifier.split_last() else {
            return;
        };
        if let (Some(cte), true) = (scope.cte(name), schema.is_empty()) {
            return self.cte_columns(&cte.name.clone(), &cte.columns.clone());
        }
        if let Some(entry) = self.catalog.find_tables(schema, name).next() {
            self.table_columns(entry);
        }
    }

    fn columns_of_ref(&mut self, scope: &Scope, table: &TableRef) {
        let Some((name, schema)) = table.path.split_last() else {
            return;
        };
        if let (Some(cte), true) = (scope.cte(name), schema.is_empty()) {
            return self.cte_columns(&cte.name.clone(), &cte.columns.clone());
        }
        if let Some(entry) = self.catalog.find_tables(schema, name).next() {
            self.table_columns(entry);
        }
    }

    fn cte_columns(&mut self, cte: &str, columns: &[String]) {
        for c in columns {
            self.name(c, ItemKind::Column, None, cte.to_owned());
        }
    }

    /// A catalog table's key attributes (DynamoDB) and columns; a table whose columns are not
    /// loaded yet is noted for the caller to load.
    fn table_columns(&mut self, entry: &TableEntry) {
        let source = entry
            .schema
            .iter()
            .chain([&entry.name])
            .cloned()
            .collect::<Vec<_>>()
            .join(".");
        for (n, key) in entry.keys.iter().enumerate() {
            let role = if n == 0 { "partition key" } else { "sort key" };
            self.name(key, ItemKind::Column, Some(role.to_owned()), source.clone());
        }
        let Some(columns) = &entry.columns else {
            let wanted = (entry.schema.clone(), entry.name.clone());
            if !self.wanted_columns_of.contains(&wanted) {
                self.wanted_columns_of.push(wanted);
            }
            return;
        };
        for c in columns.iter().filter(|c| !entry.keys.contains(&c.name)) {
            self.name(
                &c.name,
                ItemKind::Column,
                c.type_name.clone(),
                source.clone(),
            );
        }
    }
}

/// Whether `path` ends with `suffix`, part by part, ignoring case.
fn ends_with_ignore_case(path: &[String], suffix: &[String]) -> bool {
    path.len() >= suffix.len()
        && path[path.len() - suffix.len()..]
            .iter()
            .zip(suffix)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}
