//! The catalog snapshot of each connection (what completion knows of its schemas, tables and
//! columns), kept on disk under `<data dir>/catalogs/` so that the next start completes at once.
//! One JSON file per connection, written atomically, with the time it was fetched. A file that
//! cannot be read is reported to the caller, who goes on as if there were none: the cache is
//! only ever a head start, never a reason to fail. Blocking I/O: callers run it off the UI loop.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::paths::create_private_dir;
use super::{AtomicFile, DataPaths, StoreError};
use crate::model::completion::CatalogSnapshot;

/// A cached snapshot older than this is shown, then fetched again in the background.
pub const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

const VERSION: u32 = 1;

/// A connection's snapshot as cached, with when it was fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedCatalog {
    version: u32,
    /// The connection's name (the file name is an encoding of it).
    pub connection: String,
    /// When the catalog was listed, in milliseconds since the Unix epoch.
    pub fetched_at_ms: u64,
    pub snapshot: CatalogSnapshot,
}

impl CachedCatalog {
    /// `snapshot` of `connection`, fetched now.
    pub fn now(connection: &str, snapshot: CatalogSnapshot) -> CachedCatalog {
        CachedCatalog {
            version: VERSION,
            connection: connection.to_string(),
            fetched_at_ms: unix_ms(SystemTime::now()),
            snapshot,
        }
    }

    /// How long ago it was fetched (zero when the clock went back).
    pub fn age(&self) -> Duration {
        let now = unix_ms(SystemTime::now());
        Duration::from_millis(now.saturating_sub(self.fetched_at_ms))
    }

    pub fn is_stale(&self) -> bool {
        self.age() > STALE_AFTER
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The directory of cached catalogs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogCache {
    dir: PathBuf,
}

impl CatalogCache {
    /// `<data dir>/catalogs`.
    pub fn under(paths: &DataPaths) -> CatalogCache {
        CatalogCache::at(paths.data_dir.join("catalogs"))
    }

    /// The cache of the data directory in use (`$QUARRY_DATA_DIR` or the platform's).
    pub fn open_default() -> Result<CatalogCache, StoreError> {
        DataPaths::resolve().map(|p| CatalogCache::under(&p))
    }

    pub fn at(dir: PathBuf) -> CatalogCache {
        CatalogCache { dir }
    }

    /// The file of `connection`: its name with anything but ASCII letters, digits, `-` and
    /// `_` written as `%XX`, so that every name is one plain file name.
    pub fn path_of(&self, connection: &str) -> PathBuf {
        let mut file = String::new();
        for b in connection.bytes() {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                file.push(char::from(b));
            } else {
                file.push_str(&format!("%{b:02X}"));
            }
        }
        self.dir.join(format!("{file}.json"))
    }

    /// The cached catalog of `connection`; `Ok(None)` when there is none. A file that cannot
    /// be read or parsed is an error saying which and why (the caller logs it and goes on).
    pub fn load(&self, connection: &str) -> Result<Option<CachedCatalog>, StoreError> {
        let path = self.path_of(connection);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io("read the cached catalog", path, e)),
        };
        let invalid = |why: String| {
            let error = io::Error::new(io::ErrorKind::InvalidData, why);
            StoreError::io("read the cached catalog", &path, error)
        };
        let cached: CachedCatalog = serde_json::from_slice(&bytes)
            .map_err(|e| invalid(format!("not a valid cache file ({e})")))?;
        if cached.version > VERSION {
            return Err(invalid(format!(
                "format version {} is newer than this Quarry understands ({VERSION})",
                cached.version
            )));
        }
        Ok(Some(cached))
    }

    /// Writes `cached` atomically (readers see the old file or the new one, never half of
    /// one); returns where.
    pub fn save(&self, cached: &CachedCatalog) -> Result<PathBuf, StoreError> {
        let path = self.path_of(&cached.connection);
        create_private_dir(&self.dir)?;
        let json = serde_json::to_vec(cached)
            .map_err(|e| StoreError::io("encode the cached catalog for", &path, e.into()))?;
        let write = |path: &Path| -> io::Result<()> {
            let mut out = AtomicFile::create(path)?;
            out.write_all(&json)?;
            out.write_all(b"\n")?;
            out.commit()
        };
        write(&path).map_err(|e| StoreError::io("write the cached catalog", &path, e))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::completion::{ColumnEntry, TableEntry};

    fn snapshot() -> CatalogSnapshot {
        CatalogSnapshot {
            schemas: vec![vec!["sales".into()]],
            tables: vec![TableEntry {
                schema: vec!["sales".into()],
                name: "orders".into(),
                view: false,
                columns: None,
                keys: Vec::new(),
            }],
        }
    }

    #[test]
    fn catalog_cache_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = CatalogCache::at(tmp.path().join("catalogs"));
        assert_eq!(cache.load("prod").unwrap(), None);
        let cached = CachedCatalog::now("prod", snapshot());
        let path = cache.save(&cached).unwrap();
        assert_eq!(path, tmp.path().join("catalogs/prod.json"));
        let back = cache.load("prod").unwrap().unwrap();
        assert_eq!(back, cached);
        assert!(!back.is_stale());
        assert!(back.age() < Duration::from_secs(60));
    }

    #[test]
    fn catalog_cache_file_names_encode_the_connection() {
        let cache = CatalogCache::at("/c".into());
        assert_eq!(cache.path_of("a-b_c1"), PathBuf::from("/c/a-b_c1.json"));
        assert_eq!(
            cache.path_of("../x y"),
            PathBuf::from("/c/%2E%2E%2Fx%20y.json")
        );
        assert_ne!(cache.path_of("a.b"), cache.path_of("a_b"));
    }

    #[test]
    fn catalog_cache_corrupt_file_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = CatalogCache::at(tmp.path().to_path_buf());
        fs::write(cache.path_of("prod"), b"{ not json").unwrap();
        let err = cache.load("prod").unwrap_err().to_string();
        assert!(
            err.contains("prod.json") && err.contains("not a valid cache file"),
            "{err}"
        );
        // The next save replaces it.
        cache.save(&CachedCatalog::now("prod", snapshot())).unwrap();
        assert!(cache.load("prod").unwrap().is_some());
    }

    #[test]
    fn catalog_cache_newer_version_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = CatalogCache::at(tmp.path().to_path_buf());
        let mut cached = CachedCatalog::now("prod", snapshot());
        cached.version = VERSION + 1;
        cache.save(&cached).unwrap();
        let err = cache.load("prod").unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
    }

    #[test]
    fn catalog_cache_write_is_atomic() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = CatalogCache::at(tmp.path().to_path_buf());
        cache.save(&CachedCatalog::now("prod", snapshot())).unwrap();
        let mut bigger = snapshot();
        bigger.schemas.push(vec!["hr".into()]);
        cache
            .save(&CachedCatalog::now("prod", bigger.clone()))
            .unwrap();
        assert_eq!(cache.load("prod").unwrap().unwrap().snapshot, bigger);
        // Only the cache file: no temporary is left behind.
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("prod.json")]);
    }

    #[test]
    fn catalog_cache_unwritable_dir_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs::write(&file, "").unwrap();
        let cache = CatalogCache::at(file.join("catalogs"));
        let err = cache
            .save(&CachedCatalog::now("p", snapshot()))
            .unwrap_err();
        assert!(err.to_string().contains("file/catalogs"), "{err}");
    }

    #[test]
    fn catalog_merge_columns_adds_and_keeps() {
        let mut snap = snapshot();
        let cols = vec![ColumnEntry {
            name: "id".into(),
            type_name: Some("bigint".into()),
        }];
        snap.merge_columns(&["sales".into(), "orders".into()], cols.clone(), Vec::new());
        assert_eq!(snap.tables[0].columns.as_ref(), Some(&cols));
        snap.merge_columns(&["t".into()], Vec::new(), vec!["pk".into()]);
        assert_eq!(snap.tables[1].schema, Vec::<String>::new());
        assert_eq!(snap.tables[1].keys, vec!["pk".to_string()]);
        let mut fresh = snapshot();
        fresh.keep_columns_of(&snap);
        assert_eq!(fresh.tables[0].columns.as_ref(), Some(&cols));
    }
}
