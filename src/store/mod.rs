//! Everything Quarry keeps on disk: the config file, the data directory (logs, snippets,
//! history) and the autosaved editor drafts.

pub mod atomic;
pub mod catalog_cache;
pub mod config;
pub mod drafts;
pub mod history;
pub mod paths;
pub mod snippets;

use std::io;
use std::path::PathBuf;

pub use atomic::AtomicFile;
pub use config::{Config, ConfigError};
pub use drafts::Draft;
pub use paths::DataPaths;

/// Errors of the data directory and the files in it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot find the home directory to place Quarry's data in: set $QUARRY_DATA_DIR to a directory"
    )]
    NoDataDir,
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: drafts file is not valid ({source}); {}", path.display(), kept_note(kept))]
    CorruptDrafts {
        path: PathBuf,
        /// Where the unreadable file was moved so that nothing is lost.
        kept: Option<PathBuf>,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot encode the drafts: {0}")]
    Encode(#[source] serde_json::Error),
}

fn kept_note(kept: &Option<PathBuf>) -> String {
    match kept {
        Some(p) => format!("it was kept as {}", p.display()),
        None => "it could not be renamed and was left in place".to_string(),
    }
}

impl StoreError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
