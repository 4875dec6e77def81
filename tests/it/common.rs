//! Shared helpers: run the real `quarry` binary in an isolated environment (its own HOME, XDG
//! directories and data directory, no inherited `QUARRY_*` or `AWS_*` variables) and capture
//! what it printed.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The binary under test, built by cargo for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_quarry");

/// How long one CLI invocation may take before the test fails (a debug build of DataFusion is
/// slow, but nothing here should take more than a few seconds).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// A private HOME and friends for one test; removed when dropped.
pub struct Sandbox {
    root: TempDir,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Output {
    /// Exit code; `-1` when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Panics with everything printed unless the run exited with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }

    /// Panics unless the run succeeded.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        self.assert_code(0)
    }

    /// Panics if anything printed looks like a Rust panic.
    #[track_caller]
    pub fn assert_no_panic(&self) -> &Self {
        for text in [&self.stdout, &self.stderr] {
            assert!(
                !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
                "the binary panicked\n{self}"
            );
        }
        self
    }

    /// Non-empty stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Parses stdout as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{self}"))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("quarry-it-")
            .tempdir()
            .expect("create the test's temporary directory");
        let sandbox = Sandbox { root };
        for dir in [
            sandbox.home(),
            sandbox.config_home(),
            sandbox.data_home(),
            sandbox.data_dir(),
            sandbox.work(),
        ] {
            std::fs::create_dir_all(&dir).expect("create sandbox directory");
        }
        sandbox
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }
    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }
    pub fn config_home(&self) -> PathBuf {
        self.root().join("config")
    }
    pub fn data_home(&self) -> PathBuf {
        self.root().join("data")
    }
    /// `$QUARRY_DATA_DIR`.
    pub fn data_dir(&self) -> PathBuf {
        self.root().join("quarry-data")
    }
    /// A scratch directory for the test's own files (SQL files, outputs, data files).
    pub fn work(&self) -> PathBuf {
        self.root().join("work")
    }

    /// Writes `contents` to `work/<name>` and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.work().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// Writes a config file at `work/<name>` and returns its path (pass it with `--config`).
    pub fn config(&self, name: &str, toml: &str) -> PathBuf {
        self.write(name, toml)
    }

    /// The isolated environment as (name, value) pairs, also used by the pty tests.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("HOME".to_string(), path_str(&self.home())),
            ("XDG_CONFIG_HOME".to_string(), path_str(&self.config_home())),
            ("XDG_DATA_HOME".to_string(), path_str(&self.data_home())),
            (
                "XDG_CACHE_HOME".to_string(),
                path_str(&self.root().join("cache")),
            ),
            (
                "XDG_STATE_HOME".to_string(),
                path_str(&self.root().join("state")),
            ),
            ("QUARRY_DATA_DIR".to_string(), path_str(&self.data_dir())),
            ("LANG".to_string(), "C.UTF-8".to_string()),
            // Never reach for instance metadata or real credentials from a test.
            ("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string()),
        ];
        if let Some(path) = std::env::var_os("PATH") {
            vars.push(("PATH".to_string(), path.to_string_lossy().into_owned()));
        }
        vars
    }

    /// Test AWS credentials and no ~/.aws (the AWS files point into the sandbox, where there
    /// are none), for the AWS connection kinds on local peers.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        let aws = self.root().join("aws");
        vec![
            ("AWS_ACCESS_KEY_ID".to_string(), "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_CONFIG_FILE".into(), path_str(&aws.join("config"))),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                path_str(&aws.join("credentials")),
            ),
        ]
    }

    /// A `Command` for the binary with the isolated environment (everything else cleared, so
    /// `QUARRY_CONFIG`, `AWS_PROFILE` etc. of the developer's shell never leak in).
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .envs(self.env_vars())
            .current_dir(self.work())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs the binary with `args` (stdout is a pipe, stdin is empty) and captures the result.
    #[track_caller]
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(args);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        wait_with_timeout(child, RUN_TIMEOUT)
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

fn path_str(p: &Path) -> String {
    p.to_str()
        .expect("temporary paths are valid UTF-8")
        .to_string()
}

fn drain<R: Read + Send + 'static>(reader: Option<R>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut r) = reader {
            let _ = r.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child`, reading its pipes in threads so a chatty child never blocks; kills it and
/// fails the test after `timeout`.
#[track_caller]
fn wait_with_timeout(mut child: Child, timeout: Duration) -> Output {
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait for the binary") {
            Some(status) => break status,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let output = Output {
                    code: -1,
                    stdout: out.join().unwrap_or_default(),
                    stderr: err.join().unwrap_or_default(),
                };
                panic!("the binary did not exit within {timeout:?}\n{output}");
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Runs a prepared command (e.g. [`Sandbox::command`] with extra environment variables) and
/// captures the result; kills it and fails the test after `timeout`.
#[track_caller]
pub fn run_command(cmd: &mut Command, timeout: Duration) -> Output {
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
    wait_with_timeout(child, timeout)
}

/// Waits for a child started from [`Sandbox::command`] (stdout and stderr piped) and captures
/// what it printed; kills it and fails the test after `timeout`.
#[track_caller]
pub fn wait_child(child: Child, timeout: Duration) -> Output {
    wait_with_timeout(child, timeout)
}

/// Static test credentials and the test server's endpoint, over the same HTTP client as Quarry.
pub fn test_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(http)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("testing", "testing", None, None, "tests"),
            ),
        )
        .build()
}

/// Connection `name` of the config `toml`, written into `sandbox` and loaded as Quarry does.
pub fn load_connection(
    sandbox: &Sandbox,
    name: &str,
    toml: &str,
) -> quarry::store::config::ConnectionConfig {
    let path = sandbox.config(&format!("{name}.toml"), toml);
    let config = quarry::store::config::load(Some(&path)).expect("a valid config");
    config
        .all_connections()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no connection `{name}` in the config"))
}
