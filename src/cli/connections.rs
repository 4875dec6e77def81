//! `quarry connections`: the configured connections, the broken ones too.

use std::io::Write;

use super::{EXIT_QUERY, inert};
use crate::results::display_line;
use crate::store::config::{Config, ConnectionDetails, LocalConfig};

pub fn connections(config: &Config) -> i32 {
    let mut out = inert::stdout(inert::Escape::Visible);
    for c in config.all_connections() {
        let detail = match &c.details {
            ConnectionDetails::Local(LocalConfig { paths }) if paths.is_empty() => {
                "sample data".to_string()
            }
            ConnectionDetails::Local(LocalConfig { paths }) => paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            _ => c.region.clone().or(c.profile.clone()).unwrap_or_default(),
        };
        let _ = writeln!(
            out,
            "{} {:<14} {}",
            inert::pad(&display_line(&c.name), 20),
            c.kind.to_string(),
            display_line(&detail)
        );
    }
    for b in &config.broken {
        let _ = writeln!(
            out,
            "{} {:<14} {}",
            inert::pad(&display_line(&b.label()), 20),
            "broken",
            display_line(&b.error)
        );
    }
    match out.flush() {
        Ok(()) => 0,
        Err(_) => EXIT_QUERY,
    }
}
