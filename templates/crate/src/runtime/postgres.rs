//! Opening a PostgreSQL connection the way libpq reads its URL: `sslmode` (`disable`, `allow`,
//! `prefer` — the default —, `require`, `verify-ca`, `verify-full`) and `sslrootcert` (a PEM file of
//! the certificate authorities to trust, or `system`), over rustls: no OpenSSL to install.
//!
//! As in libpq, `prefer` and `require` encrypt without checking who answers (`require` checks
//! the chain when `sslrootcert` is given); `verify-ca` checks that the server's certificate was
//! issued by a trusted authority, `verify-full` also that it names the host connected to. Without
//! `sslrootcert` the trusted authorities are the Mozilla set (the roots browsers trust); managed
//! databases whose certificates come from their own authority (Amazon RDS, Cloud SQL, Azure)
//! publish a bundle to name with `sslrootcert`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::ConnectionError;
use diesel_async::async_connection_wrapper::{AsyncConnectionWrapper, BlockOn};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::runtime::db::Prepared;

/// A PostgreSQL connection as a synchronous Diesel connection.
pub type PgConnection = AsyncConnectionWrapper<AsyncPgConnection, PgRuntime>;

/// What the URL asks of the connection, once the options libpq reads and tokio-postgres does not
/// are taken out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL tokio-postgres connects to (its `sslmode` only `disable`, `prefer` or `require`).
    pub url: String,
    pub mode: SslMode,
    /// `sslrootcert`: a PEM file, or none for the Mozilla set (`system` says the same).
    pub root_cert: Option<String>,
}

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Target {
    /// Reads `url`'s `sslmode` and `sslrootcert`; refuses what this server cannot honour (client
    /// certificates), so that nothing asked for is silently dropped.
    pub fn parse(url: &str) -> Result<Target, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let (mut mode, mut root_cert, mut kept) = (None, None, Vec::new());
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => {
                    mode = Some(match value {
                        "disable" => SslMode::Disable,
                        // Encrypting when the server can is never worse than trying without first.
                        "allow" | "prefer" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => {
                            return Err(format!(
                                "DATABASE_URL: unknown sslmode `{other}` (use disable, prefer, require, verify-ca or verify-full)"
                            ))
                        }
                    })
                }
                "sslrootcert" => root_cert = Some(percent_decoded(value)?).filter(|v| v != "system"),
                "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" => {
                    return Err(format!("DATABASE_URL: `{key}` is not supported (client certificates and revocation lists)"))
                }
                _ => kept.push(pair),
            }
        }
        let mode = match (mode, &root_cert) {
            (None, _) => SslMode::Prefer,
            // libpq: `require` with an authority file checks the chain, as `verify-ca` does.
            (Some(SslMode::Require), Some(_)) => SslMode::VerifyCa,
            (Some(mode), _) => mode,
        };
        kept.push(match mode {
            SslMode::Disable => "sslmode=disable",
            SslMode::Prefer => "sslmode=prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "sslmode=require",
        });
        Ok(Target {
            url: format!("{base}?{}", kept.join("&")),
            mode,
            root_cert,
        })
    }

    /// The TLS settings for this target: none when TLS is off.
    fn tls(&self) -> Result<Option<rustls::ClientConfig>, String> {
        // ring has no post-quantum key exchange (rustls deprecates its provider for that); the
        // alternative, aws-lc-rs, adds about a minute of C compilation to every clean build.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match self.mode {
            SslMode::Disable => return Ok(None),
            SslMode::Prefer | SslMode::Require => Arc::new(Unchecked(provider.clone())),
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let mut roots = RootCertStore::empty();
                match &self.root_cert {
                    None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
                    Some(path) => {
                        let certs = CertificateDer::pem_file_iter(path)
                            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                            .map_err(|e| {
                                format!("DATABASE_URL: cannot read sslrootcert `{path}`: {e}")
                            })?;
                        let (added, _) = roots.add_parsable_certificates(certs);
                        if added == 0 {
                            return Err(format!(
                                "DATABASE_URL: sslrootcert `{path}` holds no certificate"
                            ));
                        }
                    }
                }
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| {
                            format!("DATABASE_URL: the trusted authorities are unusable: {e}")
                        })?;
                match self.mode {
                    SslMode::VerifyCa => Arc::new(AnyName(webpki)),
                    _ => webpki,
                }
            }
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Some(config))
    }
}

/// `%XX` escapes decoded (a file path in a URL may hold them).
fn percent_decoded(value: &str) -> Result<String, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or_else(|| format!("DATABASE_URL: bad escape in `{value}`"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("DATABASE_URL: `{value}` is not UTF-8"))
}

/// Opens a connection to `url` (see the module's documentation for its TLS options), for
/// synchronous use: its I/O runs on a runtime of its own, driven by whoever uses it.
pub fn connect(url: &str) -> Result<(PgConnection, SharedRuntime), ConnectionError> {
    let runtime = current_thread()
        .map_err(|e| ConnectionError::BadConnection(format!("cannot start a runtime: {e}")))?;
    let conn = runtime.block_on(establish(url))?;
    // The wrapper takes the runtime the connection's I/O was set up on (see `PgRuntime`).
    let runtime = Arc::new(runtime);
    CONNECTED_ON.with(|next| *next.borrow_mut() = Some(runtime.clone()));
    Ok((PgConnection::from(conn), SharedRuntime(Some(runtime))))
}

/// Opens a connection to `url` whose I/O runs on the runtime this is awaited on.
pub async fn establish(url: &str) -> Result<AsyncPgConnection, ConnectionError> {
    let target = Target::parse(url).map_err(ConnectionError::BadConnection)?;
    match target.tls().map_err(ConnectionError::BadConnection)? {
        None => AsyncPgConnection::establish(&target.url).await,
        Some(config) => {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(config);
            let (client, connection) = tokio_postgres::connect(&target.url, tls)
                .await
                .map_err(|e| ConnectionError::BadConnection(explained(&e, &target)))?;
            AsyncPgConnection::try_from_client_and_connection(client, connection).await
        }
    }
}

/// How long a connection of the [`ReadPool`] may stay unused, and live at all, before it is
/// closed (as the main pool's connections: idle ones close, and all are renewed, so the server
/// follows a database that moved or changed its settings).
const READ_IDLE: Duration = Duration::from_secs(600);
const READ_LIFETIME: Duration = Duration::from_secs(1800);

/// The connections reads use on PostgreSQL, awaited on the server's own runtime.
///
/// The main pool's connections are synchronous Diesel connections: every statement moves the
/// request to a blocking thread, which drives the connection's I/O, and back — four thread
/// switches a statement, measured at about 8 per lookup of a post and its author. A read's
/// statement needs no transaction and no synchronous code around it, so it is sent from the
/// request's own task instead, on a connection whose I/O the server's runtime drives.
///
/// Connections open on demand and stay open while used, at most `max_idle` of them kept; how
/// many are in use at once is bounded by the caller (the database's connection permits). One
/// that failed, was cancelled mid-statement (its request ran out of time or went away), or whose
/// server closed it, is dropped instead of kept.
pub struct ReadPool {
    url: String,
    /// Statements that set each new connection up (time zone, statement timeout, read only).
    setup: String,
    max_idle: usize,
    idle: std::sync::Mutex<Vec<(ReadSession, Instant)>>,
}

impl ReadPool {
    pub fn new(url: &str, setup: String, max_idle: usize) -> ReadPool {
        ReadPool {
            url: url.to_string(),
            setup,
            max_idle,
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// An open connection: the one used last, or a new one.
    pub async fn get(&self) -> Result<ReadSession, String> {
        loop {
            let last = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match last {
                Some((mut session, since)) => {
                    if since.elapsed() < READ_IDLE && session.reusable() {
                        return Ok(session);
                    }
                }
                None => break,
            }
        }
        let mut conn = establish(&self.url).await.map_err(|e| e.to_string())?;
        diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, &self.setup)
            .await
            .map_err(|e| e.to_string())?;
        conn.set_instrumentation(crate::runtime::metrics::count_statements);
        Ok(ReadSession {
            conn,
            prepared: Prepared::default(),
            born: Instant::now(),
        })
    }

    /// Takes `session` back after a read, to keep if it may serve another.
    pub fn put(&self, mut session: ReadSession) {
        if !session.reusable() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push((session, Instant::now()));
        }
    }
}

/// A connection of the [`ReadPool`], and the statements it keeps prepared.
pub struct ReadSession {
    conn: AsyncPgConnection,
    prepared: Prepared,
    born: Instant,
}

impl ReadSession {
    /// The connection, about to run the statement `key` identifies as a prepared statement it
    /// may keep (see [`Prepared`]).
    pub fn preparing(&mut self, key: u64) -> &mut AsyncPgConnection {
        if self.prepared.note(key) {
            self.conn
                .set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
            self.conn
                .set_prepared_statement_cache_size(diesel::connection::CacheSize::Unbounded);
        }
        &mut self.conn
    }

    /// Whether the connection may serve another read: open, not in a broken transaction, and
    /// younger than [`READ_LIFETIME`].
    fn reusable(&mut self) -> bool {
        self.born.elapsed() < READ_LIFETIME
            && !diesel_async::pooled_connection::PoolableConnection::is_broken(&mut self.conn)
    }
}

/// Fails at once for what waiting cannot mend — settings this server cannot honour, a certificate
/// it does not trust — where the pool would retry until its timeout; a server that does not
/// answer yet is left to the pool's retries.
pub fn check(url: &str) -> Result<(), String> {
    match connect(url) {
        Err(ConnectionError::BadConnection(e))
            if e.starts_with("DATABASE_URL:") || e.contains("invalid peer certificate") =>
        {
            Err(e)
        }
        _ => Ok(()),
    }
}

/// A connection error, with what to do when the certificate was not trusted.
fn explained(e: &tokio_postgres::Error, target: &Target) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    if text.contains("invalid peer certificate") {
        let hint = match (&target.root_cert, target.mode) {
            (_, SslMode::VerifyFull) if text.contains("not valid for name") => {
                " (the certificate does not name this host: connect by the name it was issued for, or use sslmode=verify-ca)"
            }
            (None, _) => " (not issued by an authority browsers trust: name your provider's bundle with sslrootcert=/path/to/ca.pem)",
            (Some(_), _) => " (not issued by an authority in sslrootcert)",
        };
        text.push_str(hint);
    }
    text
}

fn current_thread() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
}

thread_local! {
    /// The runtime `connect` just set a connection up on, for the wrapper to take.
    static CONNECTED_ON: std::cell::RefCell<Option<Arc<tokio::runtime::Runtime>>> = const { std::cell::RefCell::new(None) };
}

/// A connection's runtime, shared by its synchronous wrapper and whoever drives the connection's
/// futures directly (a whole result read in one `block_on`, not one per row).
pub struct SharedRuntime(Option<Arc<tokio::runtime::Runtime>>);

impl SharedRuntime {
    /// Runs `f` to completion on the connection's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.0
            .as_ref()
            .expect("a runtime until dropped")
            .block_on(f)
    }
}

/// A runtime may not be dropped the ordinary way on an async thread, where the pool can let go of
/// a connection (a server stopping, or giving up at start-up): the last holder shuts it down
/// without waiting, which is allowed anywhere (its only task, the connection's driver, has nothing
/// left to do).
impl Drop for SharedRuntime {
    fn drop(&mut self) {
        if let Some(Ok(runtime)) = self.0.take().map(Arc::try_unwrap) {
            runtime.shutdown_background();
        }
    }
}

/// The runtime a PostgreSQL connection's I/O runs on: a current-thread runtime of its own, driven
/// whenever the connection is used (as diesel-async's default wrapper does). It is built before
/// connecting, so a connection made with TLS keeps the runtime its driver was spawned on.
pub struct PgRuntime(SharedRuntime);

impl BlockOn for PgRuntime {
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }

    fn get_runtime() -> PgRuntime {
        let runtime = match CONNECTED_ON.with(|next| next.borrow_mut().take()) {
            Some(runtime) => runtime,
            // Only `Connection::establish` gets here (tests' own connections, without TLS).
            None => Arc::new(current_thread().expect("a current-thread runtime")),
        };
        PgRuntime(SharedRuntime(Some(runtime)))
    }
}

/// Encrypts without checking the certificate (libpq's `prefer` and `require`); the handshake's
/// signatures are still checked.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
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
        rustls::crypto::verify_tls13_signature(
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

/// Checks the chain but not the name (libpq's `verify-ca`).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        Target::parse(url).unwrap()
    }

    #[test]
    fn libpq_ssl_options_are_read_and_taken_out() {
        let t = target("postgres://u:p@db.example.com:5432/app");
        assert_eq!(
            (t.url.as_str(), t.mode, t.root_cert),
            (
                "postgres://u:p@db.example.com:5432/app?sslmode=prefer",
                SslMode::Prefer,
                None
            )
        );
        let t = target("postgres://u@h/app?application_name=api&sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20bundle.pem");
        assert_eq!(
            t.url,
            "postgres://u@h/app?application_name=api&sslmode=require"
        );
        assert_eq!(
            (t.mode, t.root_cert.as_deref()),
            (SslMode::VerifyFull, Some("/etc/ca bundle.pem"))
        );
        assert_eq!(
            target("postgres://h/app?sslmode=disable").url,
            "postgres://h/app?sslmode=disable"
        );
        assert_eq!(
            target("postgres://h/app?sslmode=allow").mode,
            SslMode::Prefer
        );
        assert_eq!(
            target("postgres://h/app?sslmode=require").mode,
            SslMode::Require
        );
        assert_eq!(
            target("postgres://h/app?sslmode=require&sslrootcert=ca.pem").mode,
            SslMode::VerifyCa,
            "as libpq does"
        );
        assert_eq!(
            target("postgres://h/app?sslmode=verify-ca&sslrootcert=system").root_cert,
            None
        );
    }

    #[test]
    fn what_cannot_be_honoured_is_refused() {
        assert!(Target::parse("postgres://h/app?sslmode=maybe")
            .unwrap_err()
            .contains("unknown sslmode `maybe`"));
        assert!(Target::parse("postgres://h/app?sslcert=c.pem&sslkey=k.pem")
            .unwrap_err()
            .contains("`sslcert` is not supported"));
        assert!(Target::parse("postgres://h/app?sslrootcert=%zz")
            .unwrap_err()
            .contains("bad escape"));
        let missing =
            target("postgres://h/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
                .tls()
                .unwrap_err();
        assert!(
            missing.contains("cannot read sslrootcert `/nonexistent/ca.pem`"),
            "{missing}"
        );
    }

    #[test]
    fn every_mode_but_disable_builds_a_tls_setting() {
        assert!(target("postgres://h/app?sslmode=disable")
            .tls()
            .unwrap()
            .is_none());
        for mode in ["prefer", "require", "verify-ca", "verify-full"] {
            assert!(
                target(&format!("postgres://h/app?sslmode={mode}"))
                    .tls()
                    .unwrap()
                    .is_some(),
                "{mode}"
            );
        }
    }
}
