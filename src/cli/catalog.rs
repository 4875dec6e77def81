//! `quarry catalog refresh|show`: the catalog completion knows of a connection, listed through
//! the browser's metadata calls (never a statement) and cached in `<data dir>/catalogs/`.

use std::io::Write;
use std::time::Instant;

use clap::Subcommand;

use super::{EXIT_QUERY, EXIT_USAGE, inert, pick_connection};
use crate::connectors;
use crate::model::completion::TableEntry;
use crate::results::{sanitize_line, sanitize_multiline};
use crate::store::catalog_cache::{CachedCatalog, CatalogCache};
use crate::store::config::Config;
use crate::worker::catalog::{table_columns, walk_catalog};

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List the connection's schemas and tables again (the browser's metadata calls; no
    /// statement is run) and write them to the completion cache.
    Refresh,
    /// Print the cached tables, one per line (tab-separated: qualified name, kind, columns
    /// when loaded).
    Show,
    /// List the columns of the table at PATH (its schema path, then its name, as `quarry ls`
    /// names it) through the browser's call, add them to the cache and print them
    /// (tab-separated: name, type, `key` for a key attribute).
    Columns {
        #[arg(required = true)]
        path: Vec<String>,
    },
}

/// `quarry catalog …` on `connection` (or the default one).
pub async fn catalog_command(
    config: &Config,
    connection: Option<&str>,
    command: &CatalogCommand,
) -> i32 {
    let conn = match pick_connection(config, connection) {
        Ok(c) => c,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let cache = match CatalogCache::open_default() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), EXIT_USAGE),
    };
    match command {
        CatalogCommand::Refresh => refresh(&conn, &cache).await,
        CatalogCommand::Show => show(&conn.name, &cache),
        CatalogCommand::Columns { path } => columns(&conn, &cache, path).await,
    }
}

fn fail(error: &str, code: i32) -> i32 {
    eprintln!("quarry: {}", sanitize_multiline(error));
    code
}

/// Lists the catalog, caches it (keeping the columns already cached) and says what it found.
async fn refresh(conn: &crate::store::config::ConnectionConfig, cache: &CatalogCache) -> i32 {
    let started = Instant::now();
    let connector = match connectors::connect(conn).await {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), EXIT_USAGE),
    };
    let walk = match walk_catalog(connector.as_ref()).await {
        Ok(w) => w,
        Err(e) => return fail(&e.to_string(), EXIT_QUERY),
    };
    for error in &walk.errors {
        eprintln!("quarry: warning: {}", sanitize_multiline(error));
    }
    let mut snapshot = walk.snapshot;
    match cache.load(&conn.name) {
        Ok(Some(older)) => snapshot.keep_columns_of(&older.snapshot),
        Ok(None) => {}
        Err(e) => eprintln!("quarry: warning: {}", sanitize_multiline(&e.to_string())),
    }
    let (schemas, tables) = (snapshot.schemas.len(), snapshot.tables.len());
    let path = match cache.save(&CachedCatalog::now(&conn.name, snapshot)) {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string(), EXIT_QUERY),
    };
    println!(
        "{}: {schemas} schemas, {tables} tables in {:.2} s; cached in {}",
        sanitize_line(&conn.name),
        started.elapsed().as_secs_f64(),
        sanitize_line(&path.display().to_string())
    );
    0
}

/// Lists one table's columns, merges them into the cache and prints them.
async fn columns(
    conn: &crate::store::config::ConnectionConfig,
    cache: &CatalogCache,
    path: &[String],
) -> i32 {
    let connector = match connectors::connect(conn).await {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), EXIT_USAGE),
    };
    let (columns, keys) = match table_columns(connector.as_ref(), path).await {
        Ok(found) => found,
        Err(e) => return fail(&e.to_string(), EXIT_QUERY),
    };
    let mut snapshot = match cache.load(&conn.name) {
        Ok(cached) => cached.map(|c| c.snapshot).unwrap_or_default(),
        Err(e) => {
            eprintln!("quarry: warning: {}", sanitize_multiline(&e.to_string()));
            Default::default()
        }
    };
    snapshot.merge_columns(path, columns.clone(), keys.clone());
    if let Err(e) = cache.save(&CachedCatalog::now(&conn.name, snapshot)) {
        eprintln!("quarry: warning: {}", sanitize_multiline(&e.to_string()));
    }
    let clean = |t: &str| sanitize_line(t).replace('\t', " ");
    let mut out = inert::stdout(inert::Escape::Visible);
    for c in &columns {
        let key = if keys.contains(&c.name) { "\tkey" } else { "" };
        let type_name = clean(c.type_name.as_deref().unwrap_or(""));
        let _ = writeln!(out, "{}\t{type_name}{key}", clean(&c.name));
    }
    if out.flush().is_err() {
        return EXIT_QUERY;
    }
    0
}

/// Prints the cached tables of `name`.
fn show(name: &str, cache: &CatalogCache) -> i32 {
    let cached = match cache.load(name) {
        Ok(Some(c)) => c,
        Ok(None) => {
            let hint =
                format!("no cached catalog for `{name}` (run `quarry catalog refresh -c {name}`)");
            return fail(&hint, EXIT_QUERY);
        }
        Err(e) => return fail(&e.to_string(), EXIT_QUERY),
    };
    let mut out = inert::stdout(inert::Escape::Visible);
    for table in &cached.snapshot.tables {
        let _ = writeln!(out, "{}", table_line(table));
    }
    if out.flush().is_err() {
        return EXIT_QUERY;
    }
    0
}

/// `sales.orders<TAB>table<TAB>id bigint, total decimal(10,2)` (no third field before the
/// columns were loaded).
fn table_line(table: &TableEntry) -> String {
    let clean = |t: &str| sanitize_line(t).replace('\t', " ");
    let qualified: Vec<String> = table
        .schema
        .iter()
        .chain([&table.name])
        .map(|p| clean(p))
        .collect();
    let kind = if table.view { "view" } else { "table" };
    let mut line = format!("{}\t{kind}", qualified.join("."));
    if let Some(columns) = &table.columns {
        let described: Vec<String> = columns
            .iter()
            .map(|c| match &c.type_name {
                Some(t) => format!("{} {}", clean(&c.name), clean(t)),
                None => clean(&c.name),
            })
            .collect();
        line.push('\t');
        line.push_str(&described.join(", "));
    }
    line
}
