//! SQL completion (issue 18): what the cursor is in, which tables are in scope, which names and
//! words fit there, quoted and ranked. Pure: no I/O; the catalog is a snapshot the caller holds,
//! and the tables whose columns it lacks are reported for the caller to load in the background.

mod candidates;
pub mod context;
pub mod dialect;
mod lex;
pub mod quote;
pub mod rank;
pub mod scope;

use std::ops::Range;

use crate::model::completion::{CatalogSnapshot, CompletionItem};
use crate::model::connection::ConnectionKind;
use candidates::Found;
use context::{Wanted, context_at};
use scope::scope_of;

/// What completion offers at a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The bytes of the statement an accepted item replaces.
    pub replace: Range<usize>,
    /// The candidates, best first.
    pub items: Vec<CompletionItem>,
    /// Tables in scope (schema path, name) whose columns the snapshot does not hold yet.
    pub wanted_columns_of: Vec<(Vec<String>, String)>,
}

/// The completion of `statement` (the one under the cursor) at byte offset `cursor`, for a
/// connection of `kind` whose catalog is known as `catalog`; `snippets` are the names of the
/// user's snippets, offered where keywords are.
pub fn complete(
    statement: &str,
    cursor: usize,
    kind: ConnectionKind,
    catalog: &CatalogSnapshot,
    snippets: &[String],
) -> Completion {
    let ctx = context_at(statement, cursor);
    let scope = scope_of(statement, cursor, ctx.replace.clone());
    let mut found = Found {
        dialect: kind.capabilities().dialect,
        force_quotes: ctx.quoted,
        catalog,
        typed: &ctx.typed,
        items: Vec::new(),
        wanted_columns_of: Vec::new(),
    };
    match ctx.wanted {
        Wanted::Tables => found.tables(&scope, &ctx.qualifier),
        Wanted::Columns | Wanted::Keywords if !ctx.qualifier.is_empty() => {
            found.qualified_columns(&scope, &ctx.qualifier)
        }
        Wanted::Columns => {
            found.scope_columns(&scope);
            found.functions();
            found.keywords();
        }
        Wanted::Keywords => {
            found.keywords();
            found.snippets(snippets);
        }
        Wanted::Nothing => {}
    }
    let mut slots: Vec<Option<CompletionItem>> = found.items.into_iter().map(Some).collect();
    let order = rank::rank_labels(
        &ctx.typed,
        slots
            .iter()
            .map(|s| s.as_ref().map_or("", |i| i.label.as_str())),
    );
    Completion {
        replace: ctx.replace,
        items: order.into_iter().filter_map(|i| slots[i].take()).collect(),
        wanted_columns_of: found.wanted_columns_of,
    }
}

#[cfg(test)]
mod tests;
