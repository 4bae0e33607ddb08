//! Opening the connection: TCP to the chosen address, then TLS with the original host as SNI.
//! Each failure is mapped to the class that says where the path is broken.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::error::{ErrorClass, HintContext, ProbeError};

/// A connection the exchange can run on: plain TCP or TLS over it.
pub(crate) trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Opens a TCP connection. The caller bounds the time and maps its own timeout.
pub(crate) async fn tcp(addr: SocketAddr, ctx: &HintContext) -> Result<TcpStream, ProbeError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| connect_error(addr, &e, ctx))?;
    // The request goes out in one write; don't let Nagle hold back a body.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

fn connect_error(addr: SocketAddr, e: &io::Error, ctx: &HintContext) -> ProbeError {
    use io::ErrorKind::*;
    let (class, what) = match e.kind() {
        ConnectionRefused => (ErrorClass::TcpRefused, "refused the connection (RST)"),
        ConnectionReset => (ErrorClass::TcpReset, "reset the connection"),
        TimedOut => (ErrorClass::TcpTimeout, "did not answer the TCP handshake"),
        HostUnreachable | NetworkUnreachable | PermissionDenied | AddrNotAvailable => {
            (ErrorClass::TcpUnreachable, "is unreachable")
        }
        _ => (ErrorClass::TcpUnreachable, "could not be connected"),
    };
    ProbeError::new(class, format!("{addr} {what}: {e}"), ctx)
}

/// Runs the TLS handshake over `stream` with `host` as SNI and for certificate verification.
pub(crate) async fn tls(
    stream: TcpStream,
    host: &str,
    config: Arc<ClientConfig>,
    ctx: &HintContext,
) -> Result<TlsStream<TcpStream>, ProbeError> {
    let name = ServerName::try_from(host.to_owned()).map_err(|_| {
        ProbeError::new(
            ErrorClass::TlsHandshake,
            format!("{host} is not a valid TLS server name"),
            ctx,
        )
    })?;
    TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(|e| tls_error(host, &e, ctx))
}

fn tls_error(host: &str, e: &io::Error, ctx: &HintContext) -> ProbeError {
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let class = match rustls_error {
        Some(rustls::Error::InvalidCertificate(_)) => ErrorClass::TlsCertificate,
        Some(_) => ErrorClass::TlsHandshake,
        None if e.kind() == io::ErrorKind::ConnectionReset => ErrorClass::TcpReset,
        None => ErrorClass::TlsHandshake,
    };
    let message = match (rustls_error, &class) {
        (Some(rustls::Error::InvalidCertificate(c)), _) => {
            format!("the certificate presented for {host} is not accepted: {c:?}")
        }
        (Some(r), _) => format!("TLS handshake with {host} failed: {r}"),
        (None, _) => format!("TLS handshake with {host} failed: {e}"),
    };
    ProbeError::new(class, message, ctx)
}

/// The certificates of `APIGW_CA_FILE`, read and checked once at start-up: a bad file is one of
/// the settings' problems, logged then, not a surprise at the first https probe. The message
/// names the variable, not the path (the operator's layout; the start-up log has it).
pub(crate) fn ca_file_roots(path: &Path) -> Result<rustls::RootCertStore, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("APIGW_CA_FILE cannot be read as PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("APIGW_CA_FILE holds no PEM certificate".into());
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| format!("a certificate in APIGW_CA_FILE is not valid: {e}"))?;
    }
    Ok(roots)
}

/// The client TLS configuration: Mozilla's roots built into the binary (the function image's
/// CA bundle may be old or absent) plus `extra` (the CA file's, [`ca_file_roots`]).
pub(crate) fn tls_config(extra: &rustls::RootCertStore) -> Result<Arc<ClientConfig>, ProbeError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots.extend(extra.roots.iter().cloned());
    // Pick the provider explicitly: more than one may be compiled into the dependency tree.
    let mut provider = rustls::crypto::ring::default_provider();
    // Offer AES-128-GCM first, as browsers and Go do: its SHA-256 runs on the CPU's SHA
    // extensions, where AES-256-GCM's SHA-384 has none. A server that prefers its own order
    // still gets its choice: every suite stays offered.
    provider
        .cipher_suites
        .sort_by_key(|s| !aes_128_gcm(s.suite()));
    let provider = Arc::new(provider);
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::config(format!("TLS configuration failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Every sample measures a whole handshake, as a new caller would see it: a resumed session
    // would make the second sample's `tls` phase a fraction of the first's.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

fn aes_128_gcm(suite: rustls::CipherSuite) -> bool {
    use rustls::CipherSuite as S;
    matches!(
        suite,
        S::TLS13_AES_128_GCM_SHA256
            | S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_128_gcm_is_offered_first_for_each_version() {
        let config = tls_config(&rustls::RootCertStore::empty()).expect("the built-in roots");
        let suites = &config.crypto_provider().cipher_suites;
        let first = |version: &rustls::SupportedProtocolVersion| {
            suites
                .iter()
                .find(|s| s.version() == version)
                .map(|s| s.suite())
        };
        use rustls::CipherSuite as S;
        assert_eq!(
            first(&rustls::version::TLS13),
            Some(S::TLS13_AES_128_GCM_SHA256)
        );
        assert_eq!(
            first(&rustls::version::TLS12),
            Some(S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
        );
        // Reordered, not narrowed: every suite of ring's default provider is still offered.
        assert_eq!(
            suites.len(),
            rustls::crypto::ring::default_provider().cipher_suites.len()
        );
    }
}
