//! A real PostgreSQL server for the Redshift tests (the Redshift Data API test server runs its
//! statements on it; the PostgreSQL-wire connector talks to it directly): one server per test
//! process, started on first use by [`shared`], on a free loopback port, in a temporary
//! directory, killed when the test process exits. Each test isolates itself in a database of its
//! own ([`Postgres::create_database`]).
//!
//! The binaries (`initdb`, `postgres`) come from PATH or from Debian's
//! `/usr/lib/postgresql/<version>/bin`; `scripts/test` installs them. The cluster is created with
//! `initdb` (UTF8, locale C, superuser `postgres` whose password is [`SUPERUSER_PASSWORD`],
//! SCRAM over TCP, trust on the Unix socket) and the server binary is started directly (no
//! `pg_ctl`): `postgres -D <data> -p <port> -h 127.0.0.1 -k <socket dir> -c fsync=off
//! -c max_connections=200`.
//!
//! PostgreSQL refuses to run as root: as root the harness runs `initdb` and `postgres` as the
//! unprivileged system user `quarry-test` (which `scripts/test` creates).
//!
//! Lifetime: the server is spawned with `PR_SET_PDEATHSIG = SIGKILL` from a thread that never
//! exits (the signal fires when the *spawning thread* ends), so it dies with the test process
//! however that ends. The temporary directory (`quarry-pg-<pid>-*` under the system temporary
//! directory) is removed by a small watcher shell once the test process and the server are
//! gone; leftovers of test processes that were killed outright are swept by the next start.

use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::moto::free_port;

/// The superuser's password (the superuser is `postgres`).
pub const SUPERUSER_PASSWORD: &str = "quarry-test-superuser";
/// The superuser.
pub const SUPERUSER: &str = "postgres";
/// The unprivileged user the server runs as when the tests run as root.
pub const TEST_USER: &str = "quarry-test";
/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Prefix of the temporary directories (followed by the test process's pid).
const DIR_PREFIX: &str = "quarry-pg-";

/// The running server (see the module docs).
pub struct Postgres {
    port: u16,
    dir: PathBuf,
    /// The postmaster; only polled (it is killed by PDEATHSIG, never by us).
    child: Mutex<Child>,
    /// Held open for the life of the process: the cleanup watcher waits for its EOF.
    _watcher: Option<ChildStdin>,
    databases: AtomicUsize,
}

/// The server of this test process, started on first use.
#[track_caller]
pub fn shared() -> &'static Postgres {
    static SHARED: OnceLock<Postgres> = OnceLock::new();
    SHARED.get_or_init(Postgres::start)
}

impl Postgres {
    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's temporary directory (data in `data/`, the log in `postgres.log`).
    #[allow(dead_code)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the server logged so far (for failure messages).
    #[allow(dead_code)]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }

    /// Creates a fresh, uniquely named, empty database (`t_<n>_<pid>`) and returns its name.
    #[track_caller]
    pub fn create_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::SeqCst) + 1;
        let name = format!("t_{n}_{}", std::process::id());
        let mut client = self.client("postgres");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        name
    }

    /// A new connection to `database` as the superuser (password over TCP, no TLS).
    #[track_caller]
    pub fn client(&self, database: &str) -> postgres::Client {
        self.try_client(database)
            .unwrap_or_else(|e| panic!("connect to PostgreSQL database {database}: {e}"))
    }

    /// Like [`client`](Self::client), returning the error.
    pub fn try_client(&self, database: &str) -> Result<postgres::Client, postgres::Error> {
        self.config(database).connect(postgres::NoTls)
    }

    /// The connection settings for `database` (superuser, 127.0.0.1, this port).
    pub fn config(&self, database: &str) -> postgres::Config {
        client_config(self.port, database)
    }

    #[track_caller]
    fn start() -> Postgres {
        sweep_leftovers();
        let bin = bin_dir();
        let owner = server_user();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
            .tempdir()
            .expect("create PostgreSQL's temporary directory")
            // Removed by the watcher once the server is gone, not on drop.
            .keep();
        let data = dir.join("data");
        let sockets = dir.join("sock");
        let pwfile = dir.join("pwfile");
        std::fs::create_dir(&sockets).expect("create the socket directory");
        std::fs::write(&pwfile, format!("{SUPERUSER_PASSWORD}\n")).expect("write the pwfile");
        if let Some((uid, gid)) = owner {
            for path in [&dir, &sockets, &pwfile] {
                chown(path, Some(uid), Some(gid))
                    .unwrap_or_else(|e| panic!("chown {} to {TEST_USER}: {e}", path.display()));
            }
            make_traversable(&dir);
        }
        let watcher = start_watcher(&dir);
        make_certificates(&dir, owner);

        let initdb_log = dir.join("initdb.log");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "--encoding=UTF8",
                "--locale=C",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "--username",
                SUPERUSER,
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()));
        as_server_user(&mut initdb, owner, &dir);
        let out = initdb
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.join("initdb").display()));
        let _ = std::fs::write(
            &initdb_log,
            [out.stdout.as_slice(), out.stderr.as_slice()].concat(),
        );
        assert!(
            out.status.success(),
            "initdb failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        // The port is free when picked but could be taken before the server binds it: retry.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut child = spawn_server(&bin, &data, &sockets, &dir, port, owner);
            match wait_ready(&mut child, port, &dir) {
                Ok(()) => {
                    return Postgres {
                        port,
                        dir,
                        child: Mutex::new(child),
                        _watcher: watcher,
                        databases: AtomicUsize::new(0),
                    };
                }
                Err(log) if log.contains("could not bind") || log.contains("in use") => {
                    last_log = log;
                }
                Err(log) => panic!("PostgreSQL did not start\n--- server log ---\n{log}"),
            }
        }
        panic!("PostgreSQL could not bind a free port\n--- server log ---\n{last_log}");
    }

    /// The PEM certificate of the CA that signed the server's certificate (for 127.0.0.1 and
    /// localhost), for `sslrootcert`.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// Whether the server process is still running (it should be, for the whole test run).
    #[allow(dead_code)]
    pub fn is_running(&self) -> bool {
        matches!(
            self.child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .try_wait(),
            Ok(None)
        )
    }
}

/// Waits until the server on `port` accepts a connection; `Err(log)` if it exited or timed out.
fn wait_ready(child: &mut Child, port: u16, dir: &Path) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    let log = || std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
    let config = client_config(port, "postgres");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("(server exited: {status})\n{}", log()));
        }
        match config.connect(postgres::NoTls) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                return Err(format!(
                    "(no connection on port {port} within {START_TIMEOUT:?}: {e})\n{}",
                    log()
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Superuser settings for `database` on the local server at `port`.
fn client_config(port: u16, database: &str) -> postgres::Config {
    let mut config = postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user(SUPERUSER)
        .password(SUPERUSER_PASSWORD)
        .dbname(database)
        .connect_timeout(Duration::from_secs(10));
    config
}

/// Starts `postgres` from a thread that never exits (see the module docs) and returns it.
/// A test CA and a server certificate it signs for 127.0.0.1 and localhost, made with the
/// `openssl` command (`scripts/test` installs it); the key is readable by the server only.
fn make_certificates(dir: &Path, owner: Option<(u32, u32)>) {
    let ext = dir.join("server.ext");
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n").expect("write server.ext");
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=quarry-test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    ];
    for args in steps {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl (scripts/test installs it): {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let key = dir.join("server.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod key");
    if let Some((uid, gid)) = owner {
        for name in ["server.key", "server.crt"] {
            chown(dir.join(name), Some(uid), Some(gid)).expect("chown the server certificate");
        }
    }
}

fn spawn_server(
    bin: &Path,
    data: &Path,
    sockets: &Path,
    dir: &Path,
    port: u16,
    owner: Option<(u32, u32)>,
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("postgres.log"))
        .expect("open PostgreSQL's log file");
    let log_err = log.try_clone().expect("clone PostgreSQL's log file");
    let mut command = Command::new(bin.join("postgres"));
    command
        .arg("-D")
        .arg(data)
        .arg("-p")
        .arg(port.to_string())
        .args(["-h", "127.0.0.1", "-k"])
        .arg(sockets)
        .args(["-c", "fsync=off", "-c", "max_connections=200"])
        // TLS offered (not required) with the test CA's server certificate: the sslmode tests.
        .args(["-c", "ssl=on"])
        .arg("-c")
        .arg(format!(
            "ssl_cert_file={}",
            dir.join("server.crt").display()
        ))
        .arg("-c")
        .arg(format!("ssl_key_file={}", dir.join("server.key").display()))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err));
    as_server_user(&mut command, owner, dir);
    // SAFETY: prctl and getppid are async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            // Runs after setuid (which would clear it).
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("postgres-parent".to_string())
        .spawn(move || {
            let _ = tx.send(command.spawn());
            // PDEATHSIG fires when this thread exits: never.
            loop {
                std::thread::park();
            }
        })
        .expect("start the PostgreSQL spawning thread");
    rx.recv()
        .expect("the PostgreSQL spawning thread answers")
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.join("postgres").display()))
}

/// Runs `command` as the server's user (when root), from `dir`, with a clean locale.
fn as_server_user(command: &mut Command, owner: Option<(u32, u32)>, dir: &Path) {
    command
        .current_dir(dir)
        .env_remove("PGDATA")
        .env_remove("PGPORT")
        .env("LC_ALL", "C");
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid).env("HOME", dir);
    }
}

/// `Some((uid, gid))` of [`TEST_USER`] when running as root, `None` (the current user) else.
#[track_caller]
fn server_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new(TEST_USER).expect("no NUL in the user name");
    // SAFETY: getpwnam with a valid C string; the result is read at once, before any other
    // getpw* call could reuse its static buffer (only this start-up calls it, once).
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        panic!(
            "the tests run as root and PostgreSQL refuses to: they run it as the user \
             {TEST_USER}, which does not exist; run scripts/test (it creates the user \
             {TEST_USER}) or `useradd --system {TEST_USER}`"
        );
    }
    // SAFETY: non-null pointer returned by getpwnam.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Some((uid, gid))
}

/// Makes `dir`'s ancestors traversable by others (the server user must reach `dir`).
fn make_traversable(dir: &Path) {
    for ancestor in dir.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 {
            let _ =
                std::fs::set_permissions(ancestor, std::fs::Permissions::from_mode(mode | 0o001));
        }
    }
}

/// The directory holding `initdb` and `postgres`: from PATH, else the newest Debian version.
#[track_caller]
fn bin_dir() -> PathBuf {
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("initdb"))
            .find(|p| p.is_file())
    });
    if let Some(initdb) = from_path {
        // Debian links them into PATH: the server binary sits next to the real initdb.
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = real.parent()
            && dir.join("postgres").is_file()
        {
            return dir.to_path_buf();
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file())
                .then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries (initdb, postgres) not found on PATH nor in \
             /usr/lib/postgresql/*/bin: run scripts/test (it installs Debian's postgresql)"
        )
    })
}

/// A shell that removes `dir` once this process is gone (its stdin, our pipe, reaches EOF) and
/// the server too (it waits until nothing has the data directory's pid file's process alive).
fn start_watcher(dir: &Path) -> Option<ChildStdin> {
    let script = r#"
        read -r _ignored
        pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)
        if [ -n "$pid" ]; then
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        fi
        rm -rf "$1"
    "#;
    Command::new("sh")
        .args(["-c", script, "quarry-pg-cleanup"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C aimed at the tests does not skip the cleanup.
        .process_group(0)
        .spawn()
        .ok()
        .and_then(|mut child| child.stdin.take())
}

/// Removes the temporary directories of earlier test processes that no longer run.
fn sweep_leftovers() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let postmaster_alive = std::fs::read_to_string(entry.path().join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
            .is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !Path::new(&format!("/proc/{pid}")).exists() && !postmaster_alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[test]
fn postgres_starts_and_isolates_databases() {
    let pg = shared();
    let a = pg.create_database();
    let b = pg.create_database();
    assert_ne!(a, b);
    let mut ca = pg.client(&a);
    ca.batch_execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)")
        .expect("create a table");
    let n: i64 = ca
        .query_one("SELECT count(*) FROM t", &[])
        .expect("count")
        .get(0);
    assert_eq!(n, 2);
    let mut cb = pg.client(&b);
    let err = cb
        .simple_query("SELECT * FROM t")
        .expect_err("t is not in b");
    let message = err.as_db_error().map(|e| e.message().to_string());
    assert_eq!(
        message.as_deref(),
        Some("relation \"t\" does not exist"),
        "{err:?}"
    );
    // Same server for everyone.
    assert_eq!(shared().port(), pg.port());
    let version: String = cb
        .query_one("SHOW server_version", &[])
        .expect("version")
        .get(0);
    assert!(!version.is_empty());
}

#[test]
fn postgres_requires_the_password_over_tcp() {
    let pg = shared();
    let mut config = pg.config("postgres");
    config.password("wrong");
    let err = config
        .connect(postgres::NoTls)
        .err()
        .expect("a wrong password is refused");
    assert!(
        err.to_string().contains("password") || format!("{err:?}").contains("28P01"),
        "{err:?}"
    );
}
