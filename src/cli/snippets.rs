//! `quarry snippets list|import|publish` and `quarry run --snippet`.

use std::io::Write;

use clap::Subcommand;

use super::{EXIT_QUERY, EXIT_USAGE, RunArgs, inert, pick_connection, run};
use crate::connectors::{self, ConnectorError};
use crate::results::{display_line, sanitize_multiline};
use crate::store::config::{Config, ConnectionConfig};
use crate::store::snippets::{Library, LibraryError, SnippetMeta};

/// `quarry snippets …`.
#[derive(Debug, Subcommand)]
pub enum SnippetsCommand {
    /// List the saved snippets (name, connection, tags, description, path). Files that cannot be
    /// parsed are reported on stderr and left as they are.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: SnippetsFormat,
    },
    /// Save the named (saved) queries of an Athena workgroup as snippets (`-c` names the Athena
    /// connection): one per query, named as it is, tagged `athena` and the workgroup. Snippets
    /// of the same name are kept (and reported) unless --overwrite.
    Import {
        /// The workgroup whose named queries to import (default: the connection's).
        #[arg(long, value_name = "NAME")]
        workgroup: Option<String>,
        /// Replace snippets of the same name.
        #[arg(long)]
        overwrite: bool,
    },
    /// Publish the snippet NAME as an Athena named query (CreateNamedQuery, on the connection
    /// `-c`) and print its id. Snippets with `${…}` placeholders cannot be published.
    Publish {
        /// The snippet (its name, or its path in the snippets directory).
        name: String,
        /// The workgroup to save it in (default: the connection's).
        #[arg(long, value_name = "NAME")]
        workgroup: Option<String>,
        /// The database it runs in (default: the connection's; one of them is required).
        #[arg(long, value_name = "DB")]
        database: Option<String>,
    },
}

/// How `quarry snippets list` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SnippetsFormat {
    /// Aligned columns with a header line.
    Table,
    /// One JSON object per line: name, connection, tags, description, path (relative to the
    /// snippets directory), file (absolute).
    Jsonl,
}

pub async fn snippets_command(
    config: &Config,
    connection: Option<&str>,
    command: &SnippetsCommand,
) -> i32 {
    match command {
        SnippetsCommand::List { format } => snippets_list(*format),
        SnippetsCommand::Import {
            workgroup,
            overwrite,
        } => snippets_import(config, connection, workgroup.as_deref(), *overwrite).await,
        SnippetsCommand::Publish {
            name,
            workgroup,
            database,
        } => {
            let (workgroup, database) = (workgroup.as_deref(), database.as_deref());
            snippets_publish(config, connection, name, workgroup, database).await
        }
    }
}

/// The Athena connection `-c` names (else the default one) for `quarry snippets <what>`, or
/// the usage error to print.
async fn athena_for(
    config: &Config,
    connection: Option<&str>,
    what: &str,
) -> Result<(ConnectionConfig, connectors::athena::AthenaConnector), String> {
    let conn = pick_connection(config, connection)?;
    if !conn.kind.capabilities().named_queries {
        return Err(format!(
            "`quarry snippets {what}` works with Athena named queries: connection `{}` is a {} \
             connection; name an Athena connection with -c",
            conn.name, conn.kind
        ));
    }
    let athena = connectors::athena::AthenaConnector::connect(&conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok((conn, athena))
}

/// `quarry snippets import`: each named query of the workgroup becomes a snippet. Exits 0 when
/// every one was imported or kept (an existing snippet of its name), 1 when one could not be
/// saved or the listing failed, 2 on a usage error.
async fn snippets_import(
    config: &Config,
    connection: Option<&str>,
    workgroup: Option<&str>,
    overwrite: bool,
) -> i32 {
    let library = match Library::open_default() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let (conn, athena) = match athena_for(config, connection, "import").await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e));
            return EXIT_USAGE;
        }
    };
    let queries = match athena.named_queries(workgroup).await {
        Ok(q) => q,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_QUERY;
        }
    };
    let existing = library_names(&library);
    let mut import = Import {
        library,
        existing,
        this_run: std::collections::HashSet::new(),
        connection: conn.name.clone(),
        overwrite,
    };
    let (mut imported, mut skipped, mut failed) = (0usize, 0usize, 0usize);
    for q in &queries {
        match import.one(q) {
            Imported::Saved => imported += 1,
            Imported::Skipped => skipped += 1,
            Imported::Failed => failed += 1,
        }
    }
    if failed > 0 {
        println!("imported {imported}, skipped {skipped}, failed {failed}");
        EXIT_QUERY
    } else {
        println!("imported {imported}, skipped {skipped}");
        0
    }
}

/// The names of the snippets `library` holds.
fn library_names(library: &Library) -> std::collections::HashSet<String> {
    library.list().0.into_iter().map(|s| s.name).collect()
}

/// What became of one named query of `quarry snippets import`.
enum Imported {
    Saved,
    /// Not imported, on purpose (said on stderr).
    Skipped,
    /// Could not be saved (said on stderr).
    Failed,
}

/// `quarry snippets import` under way.
struct Import {
    library: Library,
    /// The names of the library's snippets (those imported so far too).
    existing: std::collections::HashSet<String>,
    /// The names imported by this run.
    this_run: std::collections::HashSet<String>,
    /// The connection the snippets are for.
    connection: String,
    overwrite: bool,
}

impl Import {
    /// Imports the named query `q` as a snippet.
    fn one(&mut self, q: &connectors::athena::NamedQuery) -> Imported {
        let show = |s: &str| crate::results::sanitize_line(s).into_owned();
        let name = q.name.trim().to_string();
        if !self.this_run.insert(name.clone()) {
            eprintln!(
                "quarry: skipped `{}` ({}): another named query of that name was imported just now",
                show(&name),
                q.id
            );
            return Imported::Skipped;
        }
        let exists = self.existing.contains(&name);
        if exists && !self.overwrite {
            eprintln!(
                "quarry: skipped `{}`: a snippet of that name exists (--overwrite replaces it)",
                show(&name)
            );
            return Imported::Skipped;
        }
        let meta = self.meta(q);
        // Only a snippet of the same name is replaced, never another whose file name collides.
        match self.library.save(&name, &q.sql, &meta, exists) {
            Ok(_) => {
                self.existing.insert(name);
                Imported::Saved
            }
            Err(LibraryError::Exists { path }) => {
                eprintln!(
                    "quarry: skipped `{}`: {} belongs to another snippet",
                    show(&name),
                    path.display()
                );
                Imported::Skipped
            }
            Err(e) => {
                eprintln!(
                    "quarry: named query `{}` ({}) not imported: {}",
                    show(&name),
                    q.id,
                    sanitize_multiline(&e.to_string())
                );
                Imported::Failed
            }
        }
    }

    /// The snippet header of the named query `q`.
    fn meta(&self, q: &connectors::athena::NamedQuery) -> SnippetMeta {
        // A description is one header line.
        let description = q
            .description
            .as_deref()
            .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "));
        let mut tags = vec!["athena".to_string()];
        if q.workgroup != "athena" {
            tags.push(q.workgroup.clone());
        }
        SnippetMeta {
            description,
            connection: Some(self.connection.clone()),
            tags,
        }
    }
}

/// `quarry snippets publish NAME`: CreateNamedQuery with the snippet's text, description and
/// name; prints the new id.
async fn snippets_publish(
    config: &Config,
    connection: Option<&str>,
    name: &str,
    workgroup: Option<&str>,
    database: Option<&str>,
) -> i32 {
    let snippet = match find_snippet(name) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let shown = crate::results::sanitize_line(&snippet.name).into_owned();
    let params = snippet.params();
    if !params.is_empty() {
        let names: Vec<String> = params.iter().map(|p| format!("${{{}}}", p.name)).collect();
        eprintln!(
            "quarry: snippet `{shown}` has placeholders ({}), which an Athena named query cannot \
             hold: fill them in (or publish a copy without them)",
            names.join(", ")
        );
        return EXIT_USAGE;
    }
    let sql = snippet.text.trim();
    if sql.is_empty() {
        eprintln!("quarry: snippet `{shown}` has no SQL to publish");
        return EXIT_USAGE;
    }
    let (_, athena) = match athena_for(config, connection, "publish").await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e));
            return EXIT_USAGE;
        }
    };
    let description = snippet.meta.description.as_deref();
    match athena
        .create_named_query(&snippet.name, description, database, sql, workgroup)
        .await
    {
        Ok(id) => {
            println!("{id}");
            0
        }
        Err(e @ ConnectorError::Config(_)) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            EXIT_USAGE
        }
        Err(e) => {
            eprintln!(
                "quarry: publishing `{shown}`: {}",
                sanitize_multiline(&e.to_string())
            );
            EXIT_QUERY
        }
    }
}

/// `quarry snippets list`: exits 0 unless every snippet file failed to parse (1).
fn snippets_list(format: SnippetsFormat) -> i32 {
    let library = match crate::store::snippets::Library::open_default() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let (snippets, errors) = library.list();
    for e in &errors {
        eprintln!("quarry: {} (skipped)", sanitize_multiline(&e.to_string()));
    }
    if snippets.is_empty() && errors.is_empty() {
        eprintln!(
            "quarry: no snippets in {} (save one from the editor, or put .sql files there)",
            library.dir().display()
        );
    }
    let mut out = inert::stdout(match format {
        SnippetsFormat::Table => inert::Escape::Visible,
        SnippetsFormat::Jsonl => inert::Escape::Json,
    });
    match format {
        SnippetsFormat::Table if !snippets.is_empty() => write_table(&mut out, &snippets),
        SnippetsFormat::Table => {}
        SnippetsFormat::Jsonl => {
            for s in &snippets {
                let line = serde_json::json!({
                    "name": s.name,
                    "connection": s.meta.connection,
                    "tags": s.meta.tags,
                    "description": s.meta.description,
                    "path": s.rel_path,
                    "file": s.path.to_string_lossy(),
                });
                let _ = writeln!(out, "{line}");
            }
        }
    }
    if out.flush().is_err() {
        return EXIT_QUERY;
    }
    if snippets.is_empty() && !errors.is_empty() {
        EXIT_QUERY
    } else {
        0
    }
}

/// `quarry snippets list`'s table: a header, then one line a snippet, in aligned columns.
fn write_table(out: &mut impl Write, snippets: &[crate::store::snippets::Snippet]) {
    let clean = |t: &str| display_line(t).into_owned();
    let mut rows = vec![[
        "NAME".to_string(),
        "CONNECTION".into(),
        "TAGS".into(),
        "DESCRIPTION".into(),
        "PATH".into(),
    ]];
    rows.extend(snippets.iter().map(|s| {
        [
            clean(&s.name),
            clean(s.meta.connection.as_deref().unwrap_or("")),
            clean(&s.meta.tags.join(", ")),
            clean(s.meta.description.as_deref().unwrap_or("")),
            clean(&s.rel_path),
        ]
    }));
    let width = crate::results::display_width;
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - width(cell) + 2));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// `quarry run --snippet NAME`: the snippet's text with its `${…}` placeholders filled from
/// `--set` (else their defaults), run as SQL given on the command line would be, on `-c` or
/// else the snippet's `connection:`. See [`render_snippet`] for how values reach the service.
pub(super) async fn run_snippet(
    config: &Config,
    connection: Option<&str>,
    args: &RunArgs,
    name: &str,
) -> i32 {
    let snippet = match find_snippet(name) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let conn = match pick_connection(config, connection.or(snippet.meta.connection.as_deref())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "quarry: snippet `{}`: {}",
                crate::results::sanitize_line(&snippet.name),
                sanitize_multiline(&e)
            );
            return EXIT_USAGE;
        }
    };
    let (sql, params) = match snippet.render(&args.set, conn.kind) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e));
            return EXIT_USAGE;
        }
    };
    let args = RunArgs {
        sql: Some(sql),
        params,
        snippet: None,
        set: Vec::new(),
        ..args.clone()
    };
    Box::pin(run(config, Some(&conn.name), &args)).await
}

/// The saved snippet `name` (its name or its path in the library); a usage error, said on
/// stderr, when the library cannot be opened or holds no such snippet.
fn find_snippet(name: &str) -> Result<crate::store::snippets::Snippet, i32> {
    crate::store::snippets::Library::open_default()
        .map_err(|e| e.to_string())
        .and_then(|l| l.find(name).map_err(|e| e.to_string()))
        .map_err(|e| {
            eprintln!("quarry: {}", sanitize_multiline(&e));
            EXIT_USAGE
        })
}
