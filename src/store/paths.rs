//! Where Quarry's files live: `$QUARRY_DATA_DIR`, else the platform's data directory
//! (`~/.local/share/quarry` on Linux); the config in the platform's config directory.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use directories::BaseDirs;

use super::StoreError;

/// Overrides the data directory (tests, portable installs).
pub const DATA_DIR_ENV: &str = "QUARRY_DATA_DIR";

/// The files and directories under the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPaths {
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
    pub drafts_file: PathBuf,
    pub snippets_dir: PathBuf,
    pub history_file: PathBuf,
}

impl DataPaths {
    /// Resolves the data directory from `$QUARRY_DATA_DIR` or the platform default. Creates
    /// nothing: call [`DataPaths::ensure`] before writing.
    pub fn resolve() -> Result<DataPaths, StoreError> {
        Self::resolve_from(std::env::var_os(DATA_DIR_ENV))
    }

    fn resolve_from(env: Option<OsString>) -> Result<DataPaths, StoreError> {
        match env.filter(|v| !v.is_empty()) {
            Some(dir) => Ok(Self::under(PathBuf::from(dir))),
            None => {
                let base = BaseDirs::new().ok_or(StoreError::NoDataDir)?;
                Ok(Self::under(base.data_dir().join("quarry")))
            }
        }
    }

    /// The layout under `data_dir`.
    pub fn under(data_dir: PathBuf) -> DataPaths {
        DataPaths {
            log_dir: data_dir.join("logs"),
            drafts_file: data_dir.join("drafts.json"),
            snippets_dir: data_dir.join("snippets"),
            history_file: data_dir.join("history.jsonl"),
            data_dir,
        }
    }

    /// Creates the directories (private to the user on Unix: drafts and history hold queries).
    pub fn ensure(&self) -> Result<(), StoreError> {
        for dir in [&self.data_dir, &self.log_dir, &self.snippets_dir] {
            create_private_dir(dir)?;
        }
        Ok(())
    }
}

/// Creates `dir` (and its parents) private to the user on Unix: stores may name every table
/// of an account or hold queries.
pub(super) fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| StoreError::io("create directory", dir, e))
}

/// `<platform config dir>/quarry/config.toml` (`~/.config/quarry/config.toml` on Linux), or
/// `None` when there is no home directory.
pub fn default_config_path() -> Option<PathBuf> {
    BaseDirs::new().map(|b| b.config_dir().join("quarry").join("config.toml"))
}

/// The user's home directory, for `~` in configured paths.
pub(crate) fn home_dir() -> Option<PathBuf> {
    BaseDirs::new().map(|b| b.home_dir().to_path_buf())
}

/// A path as typed, with a leading `~/` (or a lone `~`) meaning the home directory ($HOME).
pub fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
        _ if path == "~" => std::env::var_os("HOME")
            .map(Into::into)
            .unwrap_or_else(|| path.into()),
        _ => path.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_override_wins() {
        let p = DataPaths::resolve_from(Some("/tmp/qd".into())).unwrap();
        assert_eq!(p.data_dir, PathBuf::from("/tmp/qd"));
        assert_eq!(p.drafts_file, PathBuf::from("/tmp/qd/drafts.json"));
        assert_eq!(p.log_dir, PathBuf::from("/tmp/qd/logs"));
        assert_eq!(p.snippets_dir, PathBuf::from("/tmp/qd/snippets"));
        assert_eq!(p.history_file, PathBuf::from("/tmp/qd/history.jsonl"));
    }

    #[test]
    fn empty_env_falls_back_to_platform_dir() {
        let p = DataPaths::resolve_from(Some("".into())).unwrap();
        assert!(p.data_dir.ends_with("quarry"), "{:?}", p.data_dir);
    }

    #[test]
    fn ensure_creates_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let p = DataPaths::under(tmp.path().join("a/b"));
        p.ensure().unwrap();
        assert!(p.log_dir.is_dir() && p.snippets_dir.is_dir());
        p.ensure().unwrap(); // idempotent
    }

    #[test]
    fn ensure_reports_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs::write(&file, "").unwrap();
        let err = DataPaths::under(file.join("sub")).ensure().unwrap_err();
        assert!(err.to_string().contains("file/sub"), "{err}");
    }

    #[test]
    fn default_config_path_ends_with_quarry_config() {
        if let Some(p) = default_config_path() {
            assert!(p.ends_with("quarry/config.toml"));
        }
    }
}
