//! Editor tabs autosaved on change and restored on the next start.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AtomicFile, StoreError};

/// One editor tab as saved.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Draft {
    pub title: String,
    /// The connection's name; the app falls back to another one if it no longer exists.
    pub connection: String,
    pub text: String,
    /// (row, column) of the cursor.
    pub cursor: (usize, usize),
}

/// The file's shape: versioned so a later format can still read old drafts.
#[derive(Serialize, Deserialize)]
struct DraftsFile {
    version: u32,
    drafts: Vec<Draft>,
}

const VERSION: u32 = 1;

/// Writes all drafts to `path` atomically: a crash mid-save keeps the previous drafts.
pub fn save(path: &Path, drafts: &[Draft]) -> Result<(), StoreError> {
    let file = DraftsFile {
        version: VERSION,
        drafts: drafts.to_vec(),
    };
    let json = serde_json::to_vec_pretty(&file).map_err(StoreError::Encode)?;
    let write = || -> io::Result<()> {
        let mut out = AtomicFile::create(path)?;
        out.write_all(&json)?;
        out.write_all(b"\n")?;
        out.commit()
    };
    write().map_err(|e| StoreError::io("save drafts to", path, e))
}

/// Reads the drafts. A missing file means no drafts. An unreadable file is renamed to
/// `<path>.corrupt` (so the next save does not destroy what may be recoverable by hand) and
/// reported as [`StoreError::CorruptDrafts`]; the caller decides whether to start empty.
pub fn load(path: &Path) -> Result<Vec<Draft>, StoreError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("read drafts from", path, e)),
    };
    match serde_json::from_slice::<DraftsFile>(&bytes) {
        Ok(file) if file.version <= VERSION => Ok(file.drafts),
        Ok(file) => Err(StoreError::CorruptDrafts {
            kept: set_aside(path),
            path: path.to_path_buf(),
            source: serde::de::Error::custom(format!(
                "format version {} is newer than this Quarry understands ({VERSION})",
                file.version
            )),
        }),
        Err(source) => Err(StoreError::CorruptDrafts {
            kept: set_aside(path),
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Renames `path` to the first free `<path>.corrupt`, `<path>.corrupt.1`, … and returns it.
fn set_aside(path: &Path) -> Option<PathBuf> {
    let base = {
        let mut s = path.as_os_str().to_os_string();
        s.push(".corrupt");
        PathBuf::from(s)
    };
    let candidates = std::iter::once(base.clone()).chain((1..100).map(|i| {
        let mut s = base.as_os_str().to_os_string();
        s.push(format!(".{i}"));
        PathBuf::from(s)
    }));
    for candidate in candidates {
        if candidate.exists() {
            continue;
        }
        return fs::rename(path, &candidate).ok().map(|()| candidate);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Draft> {
        vec![
            Draft {
                title: "1".into(),
                connection: "local".into(),
                text: "SELECT 1;\n-- ünïcode \u{1b} and \"quotes\"".into(),
                cursor: (1, 4),
            },
            Draft {
                title: "scratch".into(),
                connection: "athena-prod".into(),
                text: String::new(),
                cursor: (0, 0),
            },
        ]
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drafts.json");
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), sample());
        save(&path, &[]).unwrap();
        assert!(load(&path).unwrap().is_empty());
    }

    #[test]
    fn missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(&dir.path().join("none.json")).unwrap().is_empty());
    }

    #[test]
    fn corrupt_file_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drafts.json");
        fs::write(&path, "{ not json").unwrap();
        let err = load(&path).unwrap_err();
        let kept = dir.path().join("drafts.json.corrupt");
        match &err {
            StoreError::CorruptDrafts { kept: Some(k), .. } => assert_eq!(k, &kept),
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("drafts.json.corrupt"), "{err}");
        assert_eq!(fs::read_to_string(&kept).unwrap(), "{ not json");
        assert!(!path.exists());
        // A second corrupt file does not overwrite the first one.
        fs::write(&path, "[]").unwrap();
        assert!(load(&path).is_err());
        assert!(dir.path().join("drafts.json.corrupt.1").exists());
        assert_eq!(fs::read_to_string(&kept).unwrap(), "{ not json");
    }

    #[test]
    fn newer_version_is_not_silently_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drafts.json");
        fs::write(&path, r#"{"version": 99, "drafts": []}"#).unwrap();
        let err = load(&path).unwrap_err();
        assert!(err.to_string().contains("version 99"), "{err}");
    }

    #[test]
    fn save_into_missing_dir_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/drafts.json");
        let err = save(&path, &sample()).unwrap_err();
        assert!(err.to_string().contains("no/drafts.json"), "{err}");
    }
}
