//! `quarry complete -c NAME --sql TEXT --cursor N`: the completion candidates at a cursor, one
//! per line (name, kind, detail — tab-separated), for scripts and editors. The catalog comes
//! from the completion cache, listed (and cached) through the browser's metadata calls when
//! there is none; the columns of the tables in scope are listed the same way when missing.
//! No statement is ever run to complete.

use std::io::Write;

use clap::Args;

use super::{EXIT_QUERY, EXIT_USAGE, inert, pick_connection};
use crate::connectors::{self, Connector};
use crate::model::completion::CatalogSnapshot;
use crate::results::{sanitize_line, sanitize_multiline};
use crate::store::catalog_cache::{CachedCatalog, CatalogCache};
use crate::store::config::{Config, ConnectionConfig};
use crate::worker::catalog::{table_columns, walk_catalog};

#[derive(Debug, Clone, Args)]
pub struct CompleteArgs {
    /// The statement text (the statement under the cursor is completed).
    #[arg(long)]
    pub sql: String,
    /// Where the cursor is: a character offset into `--sql` (default: its end).
    #[arg(long)]
    pub cursor: Option<usize>,
    /// At most this many candidates.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Prints the candidates; exit 0 (even with none), 2 on a usage error, 1 when the catalog
/// could not be listed.
pub async fn complete_command(
    config: &Config,
    connection: Option<&str>,
    args: &CompleteArgs,
) -> i32 {
    let conn = match pick_connection(config, connection) {
        Ok(c) => c,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let chars = args.sql.chars().count();
    let cursor = args.cursor.unwrap_or(chars);
    if cursor > chars {
        let e = format!("--cursor {cursor} is past the end of --sql ({chars} characters)");
        return fail(&e, EXIT_USAGE);
    }
    let at = args
        .sql
        .char_indices()
        .nth(cursor)
        .map_or(args.sql.len(), |(i, _)| i);
    let cache = CatalogCache::open_default().ok();
    let mut session = Session {
        conn: &conn,
        cache: cache.as_ref(),
        connector: None,
    };
    let mut snapshot = match session.catalog().await {
        Ok(s) => s,
        Err(e) => return fail(&e, EXIT_QUERY),
    };
    let (start, end) = match crate::sql::statement_at(&args.sql, at) {
        Some(s) if s.start <= at => (s.start, s.end.max(at)),
        _ => (at, at),
    };
    let statement = &args.sql[start..end];
    let complete = |snapshot: &CatalogSnapshot| {
        crate::sql::complete::complete(statement, at - start, conn.kind, snapshot, &[])
    };
    let mut found = complete(&snapshot);
    if !found.wanted_columns_of.is_empty() {
        session
            .add_columns(&mut snapshot, &found.wanted_columns_of)
            .await;
        found = complete(&snapshot);
    }
    let clean = |t: &str| sanitize_line(t).replace('\t', " ");
    let mut out = inert::stdout(inert::Escape::Visible);
    for item in found.items.iter().take(args.limit) {
        let detail = match &item.detail {
            Some(d) => format!("{d} ({})", item.source),
            None => item.source.clone(),
        };
        let _ = writeln!(
            out,
            "{}\t{}\t{}",
            clean(&item.insert),
            item.kind.name(),
            clean(&detail)
        );
    }
    if out.flush().is_err() {
        return EXIT_QUERY;
    }
    0
}

/// The connection, its cache, and its connector once one was needed.
struct Session<'a> {
    conn: &'a ConnectionConfig,
    cache: Option<&'a CatalogCache>,
    connector: Option<std::sync::Arc<dyn Connector>>,
}

impl Session<'_> {
    async fn connector(&mut self) -> Result<std::sync::Arc<dyn Connector>, String> {
        if let Some(c) = &self.connector {
            return Ok(c.clone());
        }
        let c = connectors::connect(self.conn)
            .await
            .map_err(|e| e.to_string())?;
        self.connector = Some(c.clone());
        Ok(c)
    }

    /// The cached catalog, else one listed now (and cached for the next time).
    async fn catalog(&mut self) -> Result<CatalogSnapshot, String> {
        if let Some(cache) = self.cache {
            match cache.load(&self.conn.name) {
                Ok(Some(cached)) => return Ok(cached.snapshot),
                Ok(None) => {}
                Err(e) => warn(&e.to_string()),
            }
        }
        let connector = self.connector().await?;
        let walk = walk_catalog(connector.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        for error in &walk.errors {
            warn(error);
        }
        self.save(&walk.snapshot);
        Ok(walk.snapshot)
    }

    /// Lists the columns of `tables` (schema path, name) into `snapshot`, and caches them.
    async fn add_columns(
        &mut self,
        snapshot: &mut CatalogSnapshot,
        tables: &[(Vec<String>, String)],
    ) {
        let connector = match self.connector().await {
            Ok(c) => c,
            Err(e) => return warn(&e),
        };
        for (schema, name) in tables {
            let path = [schema.clone(), vec![name.clone()]].concat();
            match table_columns(connector.as_ref(), &path).await {
                Ok((columns, keys)) => snapshot.merge_columns(&path, columns, keys),
                Err(e) => warn(&format!("columns of {}: {e}", path.join("."))),
            }
        }
        self.save(snapshot);
    }

    fn save(&self, snapshot: &CatalogSnapshot) {
        if let Some(cache) = self.cache
            && let Err(e) = cache.save(&CachedCatalog::now(&self.conn.name, snapshot.clone()))
        {
            warn(&e.to_string());
        }
    }
}

fn warn(error: &str) {
    eprintln!("quarry: warning: {}", sanitize_multiline(error));
}

fn fail(error: &str, code: i32) -> i32 {
    eprintln!("quarry: {}", sanitize_multiline(error));
    code
}
