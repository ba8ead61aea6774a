//! The TLS client configuration, built once per run from `http.tls` and shared by every
//! connection: rustls with the ring provider.
//!
//! Defaults are a browser's on the morning: the platform's trust roots, TLS 1.2 and 1.3 (1.3
//! is what servers pick), ALPN offering h2 and http/1.1, and no session resumption, so every
//! per-user connection pays a full handshake. `tls.resumption: true` keeps one session cache
//! for the run (returning browsers); `tls.insecure: true` accepts any certificate but still
//! checks the handshake's signatures, so the CPU spent is a real handshake's.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::HttpError;
use crate::scenario::{HttpVersion, TlsSettings};

/// Build the run's TLS configuration.
pub fn config(settings: &TlsSettings, version: HttpVersion) -> Result<Arc<ClientConfig>, HttpError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = if settings.insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
    } else if !settings.ca.is_empty() {
        // Like curl's --cacert: the given anchors replace the platform's, so a private CA's
        // test target is trusted and nothing else is.
        let mut roots = RootCertStore::empty();
        for cert in &settings.ca {
            roots.add(cert.clone()).map_err(|e| HttpError::Ca(e.to_string()))?;
        }
        builder.with_root_certificates(roots)
    } else {
        use rustls_platform_verifier::BuilderVerifierExt;
        builder.with_platform_verifier()?
    };
    let mut config = match &settings.identity {
        Some(identity) => builder.with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = match version {
        HttpVersion::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
        HttpVersion::Http2 => vec![b"h2".to_vec()],
    };
    if !settings.resumption {
        config.resumption = Resumption::disabled();
    }
    Ok(Arc::new(config))
}

/// `tls.insecure`: any certificate for any name, signatures still verified.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Why a handshake failed, in words that say what to change.
pub fn explain(error: &rustls::Error, server: &str) -> String {
    use rustls::{CertificateError, Error};
    match error {
        Error::InvalidMessage(_) | Error::InappropriateHandshakeMessage { .. } | Error::InappropriateMessage { .. } => {
            format!("{server} does not speak TLS (a plain-HTTP port?): use http:// or the HTTPS port")
        }
        Error::InvalidCertificate(CertificateError::Expired | CertificateError::ExpiredContext { .. }) => {
            format!("the certificate of {server} has expired")
        }
        Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!("the certificate of {server} is not valid for that name (set `tls.server_name`?)"),
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            format!("the certificate of {server} is signed by an unknown authority (give it with `tls.ca`)")
        }
        Error::InvalidCertificate(other) => format!("the certificate of {server} was refused: {other:?}"),
        Error::AlertReceived(alert) => format!("{server} refused the handshake ({alert:?})"),
        other => format!("TLS with {server} failed: {other}"),
    }
}
