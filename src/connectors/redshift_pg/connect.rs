//! Opening one PostgreSQL-protocol connection: the settings of a `redshift` connection, where
//! its password comes from (`password_env`, `~/.pgpass`, a prompt — never the config text), TLS
//! by `sslmode` (rustls), and readable connect errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::catalog::Engine;
use super::error::describe;
use crate::connectors::ConnectorError;
use crate::store::config::{ConnectionConfig, ConnectionDetails, RedshiftConfig};

pub const REDSHIFT_PORT: u16 = 5439;
pub const POSTGRES_PORT: u16 = 5432;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    Disable,
    /// TLS when the server offers it, without checking its certificate (libpq's `prefer`).
    Prefer,
    /// TLS or nothing, without checking the certificate (libpq's `require`).
    Require,
    /// TLS with the certificate checked against the system's roots and the host name.
    VerifyFull,
}

/// Everything needed to open a connection, read once from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    /// `None` with IAM sign-in (the temporary user is used).
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub tls: Tls,
    /// `verify-full` trusts these certificates (PEM) instead of the system's roots.
    pub root_cert: Option<PathBuf>,
    pub engine: Engine,
    pub connect_timeout: Duration,
}

impl Settings {
    pub fn from_config(conn: &ConnectionConfig) -> Result<Settings, ConnectorError> {
        let ConnectionDetails::Redshift(RedshiftConfig {
            host,
            port,
            user,
            database,
            password_env,
            sslmode,
            sslrootcert,
            engine,
            connect_timeout_seconds,
            ..
        }) = &conn.details
        else {
            return Err(ConnectorError::Config(format!(
                "connection `{}` is not a `redshift` connection",
                conn.name
            )));
        };
        let engine = match engine.as_deref() {
            Some("postgres") => Engine::Postgres,
            _ => Engine::Redshift,
        };
        let tls = match sslmode.as_deref() {
            Some("disable") => Tls::Disable,
            Some("require") => Tls::Require,
            Some("verify-full") => Tls::VerifyFull,
            _ => Tls::Prefer,
        };
        let default_port = match engine {
            Engine::Redshift => REDSHIFT_PORT,
            Engine::Postgres => POSTGRES_PORT,
        };
        Ok(Settings {
            name: conn.name.clone(),
            host: host.clone(),
            port: port.unwrap_or(default_port),
            database: database.clone(),
            user: user.clone(),
            password_env: password_env.clone(),
            tls,
            root_cert: sslrootcert.clone(),
            engine,
            connect_timeout: connect_timeout_seconds
                .map(|s| Duration::from_secs(u64::from(s)))
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        })
    }

    /// The password for `user` without asking anyone: `password_env`, else `~/.pgpass`.
    /// `Err` when `password_env` names a variable that is not set (a config mistake).
    pub fn stored_password(&self, user: &str) -> Result<Option<String>, ConnectorError> {
        if let Some(var) = &self.password_env {
            return match std::env::var(var) {
                Ok(p) => Ok(Some(p)),
                Err(_) => Err(ConnectorError::Config(format!(
                    "connection `{}` takes its password from the environment variable `{var}` (`password_env`), which is not set",
                    self.name
                ))),
            };
        }
        Ok(pgpass_file().and_then(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            pgpass_lookup(&text, &self.host, self.port, &self.database, user)
        }))
    }
}

/// `$PGPASSFILE`, else `~/.pgpass` — ignored, like libpq does, when others may read it.
fn pgpass_file() -> Option<PathBuf> {
    let path = match std::env::var_os("PGPASSFILE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => directories::BaseDirs::new()?.home_dir().join(".pgpass"),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                "{} is readable by group or others: ignored (chmod 0600 it)",
                path.display()
            );
            return None;
        }
    }
    Some(path)
}

/// The password of the first `hostname:port:database:username:password` line matching, `*`
/// matching anything, `\:` and `\\` escaped, as libpq reads it.
pub fn pgpass_lookup(
    text: &str,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Option<String> {
    let port = port.to_string();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(pgpass_fields)
        .find(|f| {
            let want = [host, port.as_str(), database, user];
            f[..4]
                .iter()
                .zip(want)
                .all(|(field, want)| field == "*" || field == want)
        })
        .map(|mut f| f.swap_remove(4))
}

fn pgpass_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut()?.push(chars.next().unwrap_or('\\')),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    (fields.len() == 5).then_some(fields)
}

/// An open connection: the client, the task driving its socket (ends when the client is
/// dropped or the server goes away), and the server's notices it forwards.
pub struct Opened {
    pub client: tokio_postgres::Client,
    pub tls: MakeRustlsConnect,
    pub driver: tokio::task::JoinHandle<()>,
    pub notices: tokio::sync::mpsc::UnboundedReceiver<String>,
}

/// Why a connection was not opened: the server refused the sign-in (the caller may retry with
/// other credentials), or anything else.
#[derive(Debug)]
pub enum OpenError {
    Refused(String),
    Failed(ConnectorError),
}

impl From<ConnectorError> for OpenError {
    fn from(e: ConnectorError) -> Self {
        OpenError::Failed(e)
    }
}

impl From<OpenError> for ConnectorError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Refused(m) => ConnectorError::Query(m),
            OpenError::Failed(e) => e,
        }
    }
}

/// Connects as `user` with `password` (none: the server must not ask for one).
pub async fn open(
    settings: &Settings,
    user: &str,
    password: Option<&str>,
) -> Result<Opened, OpenError> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&settings.host)
        .port(settings.port)
        .dbname(&settings.database)
        .user(user)
        .application_name("quarry")
        .connect_timeout(settings.connect_timeout)
        .ssl_mode(match settings.tls {
            Tls::Disable => SslMode::Disable,
            Tls::Prefer => SslMode::Prefer,
            Tls::Require | Tls::VerifyFull => SslMode::Require,
        });
    if let Some(p) = password {
        config.password(p);
    }
    let tls = make_tls(settings.tls, settings.root_cert.as_deref())?;
    let connecting = config.connect(tls.clone());
    let (client, connection) = match tokio::time::timeout(
        settings.connect_timeout + Duration::from_secs(1),
        connecting,
    )
    .await
    {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return Err(connect_error(settings, user, password.is_some(), &e)),
        Err(_) => {
            return Err(OpenError::Failed(ConnectorError::Query(format!(
                "cannot connect to {}:{} within {} s (`connect_timeout_seconds`): is the host reachable from here (VPN, security group, publicly accessible cluster)?",
                settings.host,
                settings.port,
                settings.connect_timeout.as_secs()
            ))));
        }
    };
    let (notice_tx, notices) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut connection = connection;
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = futures::StreamExt::next(&mut messages).await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notice(n)) => {
                    let _ = notice_tx.send(format!("{}: {}", n.severity(), n.message()));
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("PostgreSQL connection ended: {e}");
                    break;
                }
            }
        }
    });
    Ok(Opened {
        client,
        tls,
        driver,
        notices,
    })
}

fn connect_error(
    settings: &Settings,
    user: &str,
    had_password: bool,
    e: &tokio_postgres::Error,
) -> OpenError {
    // The cause ("password missing") is in the source chain, not the top-level message.
    let text = crate::connectors::aws::innermost(e);
    if !had_password && text.contains("password missing") {
        return OpenError::Failed(ConnectorError::PasswordRequired(format!(
            "connection `{}`: the server asks a password for `{user}`: set `password_env`, add a line to ~/.pgpass, or enter it when Quarry asks (TUI)",
            settings.name
        )));
    }
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        // 28P01 invalid_password, 28000 invalid_authorization_specification
        if code == "28P01" || code == "28000" {
            return OpenError::Refused(format!(
                "sign-in to {}:{} as `{user}` refused: {} (SQLSTATE {code}) — check the user name and password (`password_env`, ~/.pgpass) or the server's pg_hba rules",
                settings.host,
                settings.port,
                db.message()
            ));
        }
        return OpenError::Failed(ConnectorError::Query(format!(
            "cannot connect to {}:{}/{}: {}",
            settings.host,
            settings.port,
            settings.database,
            describe(db)
        )));
    }
    let hint = if text.contains("server does not support TLS") {
        " — the server has no TLS: use `sslmode = \"prefer\"` or `\"disable\"`"
    } else if text.contains("certificate") || text.contains("Certificate") {
        " — the server's certificate was not accepted (`sslmode = \"verify-full\"` checks it against `sslrootcert` or the system's roots, and the host name)"
    } else {
        ""
    };
    OpenError::Failed(ConnectorError::Query(format!(
        "cannot connect to {}:{}: {text}{hint}",
        settings.host, settings.port
    )))
}

/// The TLS connector for `mode` (unused when TLS is off, but one type keeps the code simple);
/// `verify-full` trusts `root_cert` (PEM) when given, else the system's roots.
pub fn make_tls(mode: Tls, root_cert: Option<&Path>) -> Result<MakeRustlsConnect, ConnectorError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectorError::Config(format!("TLS set-up failed: {e}")))?;
    let config = match mode {
        Tls::VerifyFull => {
            let mut roots = rustls::RootCertStore::empty();
            match root_cert {
                Some(path) => {
                    let certs = CertificateDer::pem_file_iter(path)
                        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                        .map_err(|e| {
                            ConnectorError::Config(format!(
                                "`sslrootcert` {}: cannot read certificates: {e}",
                                path.display()
                            ))
                        })?;
                    for cert in certs {
                        roots.add(cert).map_err(|e| {
                            ConnectorError::Config(format!(
                                "`sslrootcert` {}: a certificate is not usable: {e}",
                                path.display()
                            ))
                        })?;
                    }
                }
                None => {
                    for cert in rustls_native_certs::load_native_certs().certs {
                        // A root the system has but rustls cannot parse is skipped, as
                        // browsers do.
                        let _ = roots.add(cert);
                    }
                }
            }
            if roots.is_empty() {
                return Err(ConnectorError::Config(
                    "`sslmode = \"verify-full\"` needs the system's root certificates, and none were found (install ca-certificates)".into(),
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        _ => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

/// `prefer`/`require` encrypt without checking who answers (as libpq does); signatures are
/// still checked so the handshake itself is sound.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_matches_like_libpq() {
        let text = "# comment\n\
                    other:5432:*:*:nope\n\
                    db.example.com:5439:dev:alice:s\\:ecret\\\\x\n\
                    *:*:*:bob:bobs:pass\n";
        assert_eq!(
            pgpass_lookup(text, "db.example.com", 5439, "dev", "alice").as_deref(),
            Some("s:ecret\\x")
        );
        assert_eq!(
            pgpass_lookup(text, "db.example.com", 5432, "dev", "alice"),
            None
        );
        // The password is the rest of the line: unescaped colons belong to it.
        assert_eq!(
            pgpass_lookup(text, "h", 1, "d", "bob").as_deref(),
            Some("bobs:pass")
        );
        assert_eq!(pgpass_lookup("a:b:c\n", "a", 1, "c", "d"), None);
    }
}
