//! JSON-RPC over TLS: `https://` through a transport on hyper, and `ws://` / `wss://` through a connector
//! of alloy's WebSocket backend; both with rustls on ring and the same trust.
//!
//! alloy's own HTTP transport is reqwest's, and reqwest's TLS features either bring aws-lc-rs (cmake, a C
//! toolchain) or leave rustls without a crypto provider, which makes every reqwest client in the process
//! panic when it is built (the content store's included). This transport names its provider (ring) in its
//! own [`rustls::ClientConfig`], so nothing else changes. alloy's `WsConnect` takes no TLS settings, so
//! [`WsEndpoint`] opens the socket itself with that same config and hands it to alloy's backend. Both trust
//! Mozilla's roots and, when `chain.ca_file` is set, the certificates of that PEM file too (a private
//! node's own CA).

use std::{path::Path, sync::Arc, task, time::Duration};

use alloy::{
    pubsub::{ConnectionHandle, PubSubConnect},
    rpc::json_rpc::{RequestPacket, ResponsePacket},
    transports::{
        TransportError, TransportErrorKind, TransportFut, TransportResult, http::reqwest::Url, ws::WsBackend,
    },
};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use rustls::pki_types::{CertificateDer, pem::PemObject};

/// Errors setting up TLS.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CA file cannot be read, or holds no certificate rustls accepts.
    #[error("chain.ca_file {path}: {reason}; give a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// rustls refuses the protocol versions (not expected with its safe defaults).
    #[error("cannot set up TLS: {0}")]
    Setup(#[from] rustls::Error),
}

/// The TLS client settings of `https://` and `wss://` endpoints: Mozilla's roots, plus the certificates in `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, Error> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = ca_file {
        let shown = path.display().to_string();
        let bad = |reason: String| Error::CaFile { path: shown.clone(), reason };
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no certificate in it".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(format!("a certificate is not usable as a root: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// A JSON-RPC transport to one `https://` endpoint (HTTP/1.1, connections kept alive).
#[derive(Clone, Debug)]
pub struct HttpsTransport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: Url,
}

impl HttpsTransport {
    /// A transport to `url` with the TLS settings `tls` (see [`client_config`]).
    pub fn new(url: Url, tls: rustls::ClientConfig) -> Self {
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http1().build();
        let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Self { client, url }
    }

    async fn request(self, packet: RequestPacket) -> Result<ResponsePacket, TransportError> {
        let body = serde_json::to_vec(&packet).map_err(TransportError::ser_err)?;
        let mut request = hyper::Request::post(self.url.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(TransportErrorKind::custom)?;
        request.headers_mut().extend(packet.headers());
        let response = self.client.request(request).await.map_err(|e| failed(&e))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| failed(&e))?.to_bytes();
        match serde_json::from_slice::<ResponsePacket>(&body) {
            Ok(packet) => Ok(packet),
            Err(_) if !status.is_success() => {
                Err(TransportErrorKind::http_error(status.as_u16(), String::from_utf8_lossy(&body).into_owned()))
            }
            Err(error) => Err(TransportError::deser_err(error, String::from_utf8_lossy(&body))),
        }
    }
}

/// A transport error carrying the whole chain of causes on one line (hyper's own message is only "client
/// error (Connect)"; the reason, such as a certificate from an unknown issuer, is further down), with what
/// to do when TLS refused the node's certificate.
fn failed(error: &(dyn std::error::Error + 'static)) -> TransportError {
    let mut line = crate::report::one_line(error);
    let mut refused = false;
    let mut source = Some(error);
    while let Some(cause) = source {
        refused |= matches!(rustls_error(cause), Some(rustls::Error::InvalidCertificate(_)));
        source = cause.source();
    }
    if refused {
        line.push_str(
            " (TLS refused the node's certificate: if the node uses its own CA, give it with --ca-file or chain.ca_file)",
        );
    }
    TransportErrorKind::custom_str(&line)
}

/// The rustls error inside `error`, which hyper-rustls hands over wrapped in (nested) `io::Error`s.
fn rustls_error<'a>(mut error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        error = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

impl tower::Service<RequestPacket> for HttpsTransport {
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, _: &mut task::Context<'_>) -> task::Poll<Result<(), Self::Error>> {
        // The pooled client takes requests at any time.
        task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, packet: RequestPacket) -> Self::Future {
        Box::pin(self.clone().request(packet))
    }
}

/// How often the WebSocket backend pings an idle connection (alloy's default); a missed pong closes it.
const WS_KEEPALIVE: Duration = Duration::from_secs(10);

/// A `ws://` or `wss://` endpoint for alloy's pubsub client: [`PubSubConnect`] with our TLS settings.
///
/// Each connect (and reconnect) opens the socket with `tls`, then runs alloy's own WebSocket backend on it;
/// retries are alloy's connection manager's.
#[derive(Clone, Debug)]
pub struct WsEndpoint {
    url: Url,
    tls: Arc<rustls::ClientConfig>,
    retry_interval: Duration,
}

impl WsEndpoint {
    /// An endpoint at `url` with the TLS settings `tls` (see [`client_config`]), first retrying after
    /// `retry_interval` when the connection drops (then doubling, up to alloy's cap).
    pub fn new(url: Url, tls: rustls::ClientConfig, retry_interval: Duration) -> Self {
        Self { url, tls: Arc::new(tls), retry_interval }
    }
}

impl PubSubConnect for WsEndpoint {
    fn is_local(&self) -> bool {
        alloy::transports::utils::guess_local_url(self.url.as_str())
    }

    async fn connect(&self) -> TransportResult<ConnectionHandle> {
        let connector = tokio_tungstenite::Connector::Rustls(Arc::clone(&self.tls));
        let (socket, _) =
            tokio_tungstenite::connect_async_tls_with_config(self.url.as_str(), None, false, Some(connector))
                .await
                .map_err(|e| failed(&e))?;
        let (handle, interface) = ConnectionHandle::new();
        WsBackend::from_socket(socket, interface, WS_KEEPALIVE).spawn();
        Ok(handle.with_max_retries(u32::MAX).with_retry_interval(self.retry_interval))
    }
}
