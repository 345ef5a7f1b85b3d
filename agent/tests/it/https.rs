//! `https://` and `wss://` endpoints: a TLS-terminating proxy (tokio-rustls, a certificate from the test CA in
//! `tls/`) in front of a real anvil, which speaks both HTTP and WebSocket on one port. The agent trusts the
//! test CA only when told to (`--ca-file`): then it posts and reads through the proxy; without it, or with a
//! file that is not PEM, it stops with one line saying why.

use std::{path::PathBuf, sync::Arc};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::net::{TcpListener, TcpStream};

use crate::net::{Net, POSTER};

const DEMO_CODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/job.js");
const DEMO_INPUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/input.json");

fn tls_file(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/tls")).join(name)
}

/// Serves TLS on a local port and relays the plain bytes to `target` (anvil's `host:port`); returns the
/// proxy's `host:port`. The task ends with the test's runtime.
async fn tls_proxy(target: String) -> String {
    let certs = CertificateDer::pem_file_iter(tls_file("node.pem"))
        .expect("node.pem")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(tls_file("node.key")).expect("node.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let (acceptor, target) = (acceptor.clone(), target.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to relay.
                let Ok(mut inbound) = acceptor.accept(inbound).await else { return };
                if let Ok(mut outbound) = TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    address
}

#[tokio::test]
async fn tls_endpoints_with_a_trusted_ca_post_and_read_and_an_untrusted_one_is_refused() {
    let net = Net::start("https").await;
    let anvil = net.anvil.endpoint();
    let proxy = tls_proxy(format!("{}:{}", anvil.host_str().expect("host"), anvil.port().expect("port"))).await;
    let url = format!("https://{proxy}");
    let ca = tls_file("ca.pem").display().to_string();

    let mut post = net.jsjob(Some(POSTER), "https", Some(&url));
    post.args(["post", DEMO_CODE, DEMO_INPUT, "--payment", "0.1", "--bond", "0.05", "--ca-file", &ca]);
    let output = post.output().await.expect("run");
    assert!(output.status.success(), "post over https failed: {}", String::from_utf8_lossy(&output.stderr));
    let id = String::from_utf8_lossy(&output.stdout).lines().next().unwrap_or_default().to_owned();
    assert_eq!(net.agency.jobs().await.expect("jobs").len(), 1, "no job posted over https");

    let mut status = net.jsjob(None, "https", Some(&url));
    status.args(["status", &id]).env("JSJOB_CA_FILE", &ca);
    let output = status.output().await.expect("run");
    assert!(output.status.success(), "status over https failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains(&id), "status does not show the job");

    let not_pem = net.file("not-a-ca.pem", "hello\n");
    let cases = [
        (
            None,
            "UnknownIssuer (TLS refused the node's certificate: if the node uses its own CA, give it with --ca-file",
        ),
        (Some(not_pem.as_str()), "chain.ca_file"),
        (Some("/nonexistent/ca.pem"), "chain.ca_file /nonexistent/ca.pem"),
    ];
    for (ca_file, expected) in cases {
        let mut status = net.jsjob(None, "https", Some(&url));
        status.arg("status").env("RUST_LOG", "off");
        if let Some(file) = ca_file {
            status.args(["--ca-file", file]);
        }
        let output = status.output().await.expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{ca_file:?}: succeeded");
        assert_eq!(stderr.lines().count(), 1, "{ca_file:?}: not one line: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(expected), "{ca_file:?}: {stderr}");
    }

    // wss:// through the same proxy: the CA is honoured, and its absence named, as over https://.
    let wss = format!("wss://{proxy}");
    let mut status = net.jsjob(None, "https", Some(&wss));
    status.args(["status", &id, "--ca-file", &ca]);
    let output = status.output().await.expect("run");
    assert!(output.status.success(), "status over wss failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains(&id), "status over wss does not show the job");
    let mut status = net.jsjob(None, "https", Some(&wss));
    status.args(["status", &id]).env("RUST_LOG", "off");
    let output = status.output().await.expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "wss without the CA succeeded");
    assert_eq!(stderr.lines().count(), 1, "wss without the CA: not one line: {stderr}");
    assert!(stderr.contains("UnknownIssuer") && stderr.contains("--ca-file"), "wss without the CA: {stderr}");
}
