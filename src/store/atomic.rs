//! Files Quarry writes: a regular file (or a new path) is written to a temporary sibling and
//! renamed into place, so readers see the old file or the complete new one, never a half
//! written one, and a failed write leaves nothing behind. Anything else — a device, a FIFO, a
//! socket, `/dev/stdout` — is never replaced: it is opened and written as a stream, and its
//! errors (`/dev/full`'s ENOSPC) are reported. A symbolic link to a regular file replaces the
//! file it points to and stays a link.
//!
//! Temporaries are named `.<name>.quarry-XXXXXX.tmp` and locked while written: a process that
//! is killed leaves an unlocked one behind, which the next write into that directory removes.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// What marks a temporary file as Quarry's (between the destination's name and the random part).
const TEMP_MARK: &str = "quarry-";
const TEMP_SUFFIX: &str = ".tmp";

/// A file being written; see the module's documentation. [`AtomicFile::commit`] finishes it;
/// dropping it without committing deletes the temporary file (a stream keeps what it was sent).
pub struct AtomicFile {
    inner: Inner,
    dest: PathBuf,
}

enum Inner {
    /// A hidden temporary file next to `target` (same directory, so the rename stays on one
    /// file system and is atomic); locked until it is renamed or removed.
    Temp {
        temp: BufWriter<NamedTempFile>,
        target: PathBuf,
    },
    /// A device, FIFO or socket, written in place.
    Stream(BufWriter<File>),
}

impl AtomicFile {
    /// Starts writing `dest`, a private file (0600 when new: drafts, config). Fails if the
    /// destination's directory does not exist or is not writable, or `dest` is a directory.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        Self::create_with(dest, false)
    }

    /// Starts writing `dest`, a file for the user to share (exports, `quarry run -o`): when new
    /// it gets the mode any other program would give it (0666 less the umask).
    pub fn create_shared(dest: &Path) -> io::Result<AtomicFile> {
        Self::create_with(dest, true)
    }

    fn create_with(dest: &Path, shared: bool) -> io::Result<AtomicFile> {
        let inner = match destination(dest)? {
            Destination::Replace(target) => Inner::Temp {
                temp: BufWriter::new(create_temp(&target, shared)?),
                target,
            },
            Destination::Stream => {
                let file = fs::OpenOptions::new().write(true).open(dest)?;
                Inner::Stream(BufWriter::new(file))
            }
        };
        Ok(AtomicFile {
            inner,
            dest: dest.to_path_buf(),
        })
    }

    /// Where the file lands on commit (as given: a link's path, not its target's).
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Whether this writes into an existing device, FIFO or socket instead of a file.
    pub fn is_stream(&self) -> bool {
        matches!(self.inner, Inner::Stream(_))
    }

    /// Flushes, fsyncs and renames the file into place, replacing any existing file (whose
    /// permissions the new file keeps). A stream is flushed; its write errors are returned.
    pub fn commit(self) -> io::Result<()> {
        match self.inner {
            Inner::Temp { temp, target } => {
                let temp = finish_temp(temp)?;
                if let Ok(meta) = fs::metadata(&target) {
                    // Best effort: a replaced file keeps its mode instead of the new file's.
                    let _ = fs::set_permissions(temp.path(), meta.permissions());
                }
                temp.persist(&target).map_err(|e| e.error)?;
                sync_parent(&target);
                Ok(())
            }
            Inner::Stream(stream) => finish_stream(stream),
        }
    }

    /// Like [`AtomicFile::commit`], but fails with `ErrorKind::AlreadyExists` instead of
    /// replacing an existing file. (A stream replaces nothing: it is committed as is.)
    pub fn commit_no_clobber(self) -> io::Result<()> {
        match self.inner {
            Inner::Temp { temp, target } => {
                let temp = finish_temp(temp)?;
                temp.persist_noclobber(&target).map_err(|e| e.error)?;
                sync_parent(&target);
                Ok(())
            }
            Inner::Stream(stream) => finish_stream(stream),
        }
    }
}

/// How a destination is written.
enum Destination {
    /// Atomically, by renaming a temporary over this regular file (or new path).
    Replace(PathBuf),
    /// In place, as a stream.
    Stream,
}

fn destination(dest: &Path) -> io::Result<Destination> {
    if dest.as_os_str().is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no file name"));
    }
    // `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N` stand for an open descriptor (maybe a file
    // the shell redirected to): renaming over them would write where nobody reads.
    if is_descriptor_alias(dest) {
        return Ok(Destination::Stream);
    }
    let link = match fs::symlink_metadata(dest) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Destination::Replace(dest.to_path_buf()));
        }
        Err(e) => return Err(e),
    };
    if !link.file_type().is_symlink() {
        return kind_of(dest, &link);
    }
    match fs::metadata(dest) {
        // The link's final target is what gets replaced; the link stays.
        Ok(meta) if meta.is_file() => Ok(Destination::Replace(fs::canonicalize(dest)?)),
        Ok(meta) => kind_of(dest, &meta),
        // A dangling link: the file it names is created.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Destination::Replace(
            resolve_dangling(dest).unwrap_or_else(|| dest.to_path_buf()),
        )),
        Err(e) => Err(e),
    }
}

fn kind_of(dest: &Path, meta: &fs::Metadata) -> io::Result<Destination> {
    if meta.is_file() {
        Ok(Destination::Replace(dest.to_path_buf()))
    } else if meta.is_dir() {
        Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory: give a file name inside it",
        ))
    } else {
        Ok(Destination::Stream)
    }
}

fn is_descriptor_alias(dest: &Path) -> bool {
    ["/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/"]
        .iter()
        .any(|alias| dest.as_os_str().to_string_lossy().starts_with(alias))
}

/// Where a dangling symbolic link (possibly a chain of them) points.
fn resolve_dangling(link: &Path) -> Option<PathBuf> {
    let mut path = link.to_path_buf();
    for _ in 0..40 {
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.file_type().is_symlink() {
            return None;
        }
        let next = fs::read_link(&path).ok()?;
        path = match path.parent() {
            Some(dir) if next.is_relative() => dir.join(next),
            _ => next,
        };
        if fs::symlink_metadata(&path).is_err() {
            return Some(path);
        }
    }
    None
}

/// A new locked temporary next to `target`, after removing stale ones of Quarry's there.
fn create_temp(target: &Path, shared: bool) -> io::Result<NamedTempFile> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    remove_stale_temps(dir);
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    prefix.push(TEMP_MARK);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    if shared {
        use std::os::unix::fs::PermissionsExt;
        // The kernel applies the umask to this mode when it creates the file.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    #[cfg(not(unix))]
    let _ = shared;
    let temp = builder.tempfile_in(dir)?;
    // Held until the file is renamed or removed: an unlocked temporary is a dead writer's.
    temp.as_file().lock()?;
    Ok(temp)
}

/// Removes Quarry's temporaries in `dir` that no live writer holds (left by a killed process).
/// Best effort: anything it cannot read, open or lock is left alone.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if !is_our_temp(name) || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if file.try_lock().is_ok() {
            tracing::info!("removing a stale temporary file: {}", path.display());
            let _ = fs::remove_file(&path);
        }
    }
}

/// `.<name>.quarry-XXXXXX.tmp`.
fn is_our_temp(name: &str) -> bool {
    name.starts_with('.')
        && name.ends_with(TEMP_SUFFIX)
        && name
            .rsplit_once(&format!(".{TEMP_MARK}"))
            .is_some_and(|(_, random)| random.len() == 6 + TEMP_SUFFIX.len())
}

fn finish_temp(temp: BufWriter<NamedTempFile>) -> io::Result<NamedTempFile> {
    let temp = temp.into_inner().map_err(|e| e.into_error())?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

fn finish_stream(stream: BufWriter<File>) -> io::Result<()> {
    let file = stream.into_inner().map_err(|e| e.into_error())?;
    match file.sync_all() {
        // Devices, FIFOs and sockets have nothing to sync (EINVAL, ENOTSUP).
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Temp { temp, .. } => temp.write(buf),
            Inner::Stream(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Temp { temp, .. } => temp.flush(),
            Inner::Stream(stream) => stream.flush(),
        }
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

    fn mknod(path: &Path, mode: libc::mode_t, dev: libc::dev_t) -> bool {
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mknod with a valid NUL-terminated path.
        unsafe { libc::mknod(c.as_ptr(), mode, dev) == 0 }
    }

    #[test]
    fn a_fifo_is_written_as_a_stream_and_stays_a_fifo() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        assert!(mknod(&fifo, libc::S_IFIFO | 0o600, 0), "mkfifo failed");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(&fifo).unwrap())
        };
        let mut f = AtomicFile::create_shared(&fifo).unwrap();
        assert!(f.is_stream());
        f.write_all(b"a,b\n1,2\n").unwrap();
        f.commit_no_clobber().unwrap();
        assert_eq!(reader.join().unwrap(), b"a,b\n1,2\n");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(entries(dir.path()), vec!["pipe"]);
    }

    #[test]
    fn devices_are_never_replaced_and_their_errors_are_reported() {
        use std::os::unix::fs::FileTypeExt;
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "this test makes device nodes with mknod(2) in a temporary directory: run as root"
        );
        let dir = tempfile::tempdir().unwrap();
        let null = dir.path().join("null");
        let full = dir.path().join("full");
        assert!(mknod(&null, libc::S_IFCHR | 0o666, libc::makedev(1, 3)));
        assert!(mknod(&full, libc::S_IFCHR | 0o666, libc::makedev(1, 7)));
        let mut f = AtomicFile::create_shared(&null).unwrap();
        f.write_all(&[b'x'; 100_000]).unwrap();
        f.commit().unwrap();
        assert!(fs::metadata(&null).unwrap().file_type().is_char_device());
        // /dev/full: every write fails with ENOSPC, which must come back.
        let mut f = AtomicFile::create_shared(&full).unwrap();
        let written = f.write_all(&[b'x'; 100_000]).and_then(|()| f.commit());
        let e = written.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull, "{e}");
        assert!(fs::metadata(&full).unwrap().file_type().is_char_device());
        assert_eq!(entries(dir.path()), vec!["full", "null"]);
    }

    #[test]
    fn a_link_to_a_file_replaces_the_file_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("real")).unwrap();
        let target = dir.path().join("real/out.csv");
        fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink("real/out.csv", &link).unwrap();
        let mut f = AtomicFile::create(&link).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        // A dangling link: the file it names is created, the link kept.
        let dangling = dir.path().join("later.csv");
        std::os::unix::fs::symlink("real/later.csv", &dangling).unwrap();
        let mut f = AtomicFile::create(&dangling).unwrap();
        f.write_all(b"made").unwrap();
        f.commit_no_clobber().unwrap();
        assert!(
            fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("real/later.csv")).unwrap(),
            "made"
        );
    }

    #[test]
    fn a_directory_is_refused_up_front() {
        let dir = tempfile::tempdir().unwrap();
        let e = AtomicFile::create(dir.path()).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::IsADirectory, "{e}");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn stale_temporaries_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("big.json");
        // A live writer holds its lock; a dead one's file is unlocked.
        let mut live = AtomicFile::create(&dest).unwrap();
        live.write_all(b"live").unwrap();
        fs::write(dir.path().join(".big.json.quarry-a1B2c3.tmp"), "stale").unwrap();
        fs::write(dir.path().join(".other.tmp"), "not ours").unwrap();
        let mut next = AtomicFile::create(&dir.path().join("next.csv")).unwrap();
        next.write_all(b"n").unwrap();
        let names = entries(dir.path());
        assert!(
            !names.contains(&".big.json.quarry-a1B2c3.tmp".to_string()),
            "{names:?}"
        );
        assert!(names.contains(&".other.tmp".to_string()), "{names:?}");
        assert_eq!(
            names.iter().filter(|n| is_our_temp(n)).count(),
            2,
            "{names:?}"
        );
        live.commit().unwrap();
        next.commit().unwrap();
        assert_eq!(
            entries(dir.path()),
            vec![".other.tmp", "big.json", "next.csv"]
        );
    }
}
