//! Write-then-rename files: readers see the old file or the complete new one, never a half
//! written one, and a failed write leaves nothing behind.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written. Bytes go to a hidden temporary file next to the destination (same
/// directory, so the final rename stays on one file system and is atomic); [`AtomicFile::commit`]
/// moves it into place. Dropping it without committing deletes the temporary file.
pub struct AtomicFile {
    temp: BufWriter<NamedTempFile>,
    dest: PathBuf,
}

impl AtomicFile {
    /// Starts writing `dest`, a private file (0600 when new: drafts, config). Fails if the
    /// destination's directory does not exist or is not writable.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        Self::create_with(dest, false)
    }

    /// Starts writing `dest`, a file for the user to share (exports, `quarry run -o`): when new
    /// it gets the mode any other program would give it (0666 less the umask).
    pub fn create_shared(dest: &Path) -> io::Result<AtomicFile> {
        Self::create_with(dest, true)
    }

    fn create_with(dest: &Path, shared: bool) -> io::Result<AtomicFile> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        if shared {
            use std::os::unix::fs::PermissionsExt;
            // The kernel applies the umask to this mode when it creates the file.
            builder.permissions(fs::Permissions::from_mode(0o666));
        }
        #[cfg(not(unix))]
        let _ = shared;
        let temp = builder.tempfile_in(dir)?;
        Ok(AtomicFile {
            temp: BufWriter::new(temp),
            dest: dest.to_path_buf(),
        })
    }

    /// Where the file lands on commit.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Flushes, fsyncs and renames the file into place, replacing any existing file (whose
    /// permissions the new file keeps).
    pub fn commit(self) -> io::Result<()> {
        let dest = self.dest.clone();
        let temp = self.finish_temp()?;
        if let Ok(meta) = fs::metadata(&dest) {
            // Best effort: a replaced file keeps its mode instead of the new file's.
            let _ = fs::set_permissions(temp.path(), meta.permissions());
        }
        temp.persist(&dest).map_err(|e| e.error)?;
        sync_parent(&dest);
        Ok(())
    }

    /// Like [`AtomicFile::commit`], but fails with `ErrorKind::AlreadyExists` instead of
    /// replacing an existing file.
    pub fn commit_no_clobber(self) -> io::Result<()> {
        let dest = self.dest.clone();
        let temp = self.finish_temp()?;
        temp.persist_noclobber(&dest).map_err(|e| e.error)?;
        sync_parent(&dest);
        Ok(())
    }

    fn finish_temp(self) -> io::Result<NamedTempFile> {
        let temp = self.temp.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_all()?;
        Ok(temp)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// Makes the rename itself durable. Best effort: some file systems refuse to fsync a directory.
fn sync_parent(dest: &Path) {
    #[cfg(unix)]
    if let Some(dir) = dest.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = dest;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_and_shared_ones_follow_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("drafts.json");
        let mut f = AtomicFile::create(&private).unwrap();
        f.write_all(b"{}").unwrap();
        f.commit().unwrap();
        assert_eq!(
            fs::metadata(&private).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let shared = dir.path().join("export.csv");
        let mut f = AtomicFile::create_shared(&shared).unwrap();
        f.write_all(b"a\n").unwrap();
        f.commit().unwrap();
        let mode = fs::metadata(&shared).unwrap().permissions().mode() & 0o777;
        // Whatever the umask, group/other read is only off if the umask says so: compare
        // with a file created the ordinary way.
        let plain = dir.path().join("plain.csv");
        fs::write(&plain, "a\n").unwrap();
        assert_eq!(
            mode,
            fs::metadata(&plain).unwrap().permissions().mode() & 0o777
        );
    }

    #[test]
    fn commit_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.txt");
        fs::write(&dest, "old").unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"new").unwrap();
        // Until commit the old content is what readers see.
        assert_eq!(fs::read_to_string(&dest).unwrap(), "old");
        f.commit().unwrap();
        assert_eq!(fs::read_to_string(&dest).unwrap(), "new");
        assert_eq!(entries(dir.path()), vec!["out.txt"]);
    }

    #[test]
    fn drop_without_commit_removes_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.txt");
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.write_all(b"partial").unwrap();
            assert_eq!(entries(dir.path()).len(), 1);
        }
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn no_clobber_refuses_existing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x");
        fs::write(&dest, "keep").unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"other").unwrap();
        let err = f.commit_no_clobber().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&dest).unwrap(), "keep");
        assert_eq!(entries(dir.path()), vec!["x"]);
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(AtomicFile::create(&dir.path().join("nope/out.txt")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn replaced_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m");
        fs::write(&dest, "a").unwrap();
        fs::set_permissions(&dest, fs::Permissions::from_mode(0o644)).unwrap();
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"b").unwrap();
        f.commit().unwrap();
        let mode = fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
}
