//! `quarry ls`: what the browser shows under a path of a connection.

use std::io::Write;

use super::{EXIT_QUERY, EXIT_USAGE, inert, pick_connection};
use crate::connectors;
use crate::results::sanitize_multiline;
use crate::store::config::Config;

/// `quarry ls`: the browser's children of `path`, one per line.
pub async fn ls(config: &Config, connection: Option<&str>, path: &[String]) -> i32 {
    let conn = match pick_connection(config, connection) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e));
            return EXIT_USAGE;
        }
    };
    let connector = match connectors::connect(&conn).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    match connector.children(&path.to_vec()).await {
        Ok(nodes) => {
            let mut out = inert::stdout(inert::Escape::Visible);
            for n in nodes {
                let clean = |t: &str| crate::results::sanitize_line(t).replace('\t', " ");
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}",
                    clean(&n.name),
                    n.kind.name(),
                    clean(n.detail.as_deref().unwrap_or(""))
                );
            }
            if out.flush().is_err() {
                return EXIT_QUERY;
            }
            0
        }
        Err(e) => {
            eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
            EXIT_QUERY
        }
    }
}
