//! The HTTP face against our own clients, a lying server and a stalled one.

mod common;

use std::time::Duration;

use axum::{Router, routing::any};
use jsjob_store::{
    AddOptions, Cid, ClientOptions, DiskStore, Error, GatewayClient, KuboClient, Limits, Store, car::CarReader, cid_of,
};

fn content(len: usize) -> Vec<u8> {
    common::pseudo_random(len as u64, len)
}

/// Serves `router` on a free loopback port; returns its base URL.
async fn spawn(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

async fn served_store() -> (tempfile::TempDir, DiskStore, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = DiskStore::open(dir.path(), None).expect("open");
    let base = spawn(jsjob_store::http::router(store.clone())).await;
    (dir, store, base)
}

fn quick() -> ClientOptions {
    ClientOptions { read_timeout: Duration::from_secs(5), ..ClientOptions::default() }
}

#[tokio::test]
async fn kubo_client_and_gateway_client_round_trip_through_the_server() {
    let (_dir, store, base) = served_store().await;
    let kubo = KuboClient::new(&base, quick()).expect("client");
    let gateway = GatewayClient::new(&base, quick()).expect("client");
    for (len, options) in
        [(0, AddOptions::V0), (12, AddOptions::V1), (700_000, AddOptions::V0), (700_000, AddOptions::V1)]
    {
        let bytes = content(len);
        let cid = kubo.add(&bytes, options).await.expect("add over RPC");
        assert_eq!(cid, cid_of(&bytes, &options));
        assert!(kubo.has(&cid).await.expect("has"));
        assert_eq!(kubo.get(&cid).await.expect("block by block"), bytes);
        assert_eq!(gateway.get(&cid).await.expect("CAR"), bytes);
        assert!(gateway.has(&cid).await.expect("has"));
        assert_eq!(store.get(&cid).await.expect("local"), bytes);
        kubo.pin(&cid).await.expect("pin");
    }
    let absent = cid_of(b"never added", &AddOptions::V0);
    assert!(!kubo.has(&absent).await.expect("has"));
    assert!(!gateway.has(&absent).await.expect("has"));
    assert!(matches!(gateway.get(&absent).await, Err(Error::NotFound(_))));
    assert!(matches!(gateway.add(b"x", AddOptions::V0).await, Err(Error::Unsupported(_))));
}

#[tokio::test]
async fn gateway_speaks_the_trustless_formats() {
    let (_dir, store, base) = served_store().await;
    let bytes = content(600_000);
    let cid = store.add(&bytes, AddOptions::V1).await.expect("add");
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move {
            let response = http.get(url).send().await.expect("request");
            let status = response.status().as_u16();
            let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_owned());
            (status, kind, response.bytes().await.expect("body").to_vec())
        }
    };
    let (status, _, body) = get(format!("{base}/ipfs/{cid}")).await;
    assert_eq!((status, body.len()), (200, bytes.len()));
    assert_eq!(body, bytes);
    let (status, kind, block) = get(format!("{base}/ipfs/{cid}?format=raw")).await;
    assert_eq!((status, kind.as_deref()), (200, Some("application/vnd.ipld.raw")));
    assert!(cid.verifies(&block));
    let (status, _, car) = get(format!("{base}/ipfs/{cid}?format=car")).await;
    assert_eq!(status, 200);
    let mut reader = CarReader::new(&car).expect("CAR header");
    assert_eq!(reader.roots(), [cid]);
    let mut blocks = 0;
    while reader.next_block().expect("verified block").is_some() {
        blocks += 1;
    }
    assert_eq!(blocks, 4, "3 raw leaves and the root");
    assert_eq!(get(format!("{base}/ipfs/not-a-cid")).await.0, 400);
    assert_eq!(get(format!("{base}/ipfs/{}", cid_of(b"absent", &AddOptions::V1))).await.0, 404);
    assert_eq!(get(format!("{base}/ipfs/{cid}/sub/path")).await.0, 400);
}

#[tokio::test]
async fn rpc_answers_in_kubos_shapes() {
    let (_dir, _store, base) = served_store().await;
    let http = reqwest::Client::new();
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\n\r\nhello world\n\r\n--XyZ--\r\n";
    let post = |path: &str, body: Option<&'static str>| {
        let mut request = http.post(format!("{base}/api/v0/{path}"));
        if let Some(body) = body {
            request = request.header("content-type", "multipart/form-data; boundary=XyZ").body(body);
        }
        async move {
            let response = request.send().await.expect("request");
            (response.status().as_u16(), response.text().await.expect("text"))
        }
    };
    let (status, text) = post("add", Some(body)).await;
    assert_eq!(status, 200);
    // Kubo's shape, field order included.
    assert_eq!(
        text,
        "{\"Name\":\"hello.txt\",\"Hash\":\"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o\",\"Size\":\"20\"}\n"
    );
    assert_eq!(
        post("cat?arg=QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", None).await,
        (200, "hello world\n".into())
    );
    let (status, text) = post("pin/add?arg=/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", None).await;
    assert_eq!((status, text.as_str()), (200, r#"{"Pins":["QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"]}"#));
    let (status, text) = post("block/put", Some(body)).await;
    assert_eq!(status, 200);
    assert_eq!(text, r#"{"Key":"bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4","Size":12}"#);
    let (status, text) = post("block/get?arg=bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4", None).await;
    assert_eq!((status, text.as_str()), (200, "hello world\n"));
    let (status, text) = post("add?cid-version=1", Some(body)).await;
    assert_eq!(status, 200);
    assert!(text.contains("bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"), "{text}");
    // Errors: Kubo's JSON, naming the problem.
    let (status, text) = post("cat?arg=Qm-nonsense", None).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("{\"Message\":") && text.ends_with(",\"Code\":1,\"Type\":\"error\"}"), "{text}");
    let error: serde_json::Value = serde_json::from_str(&text).expect("JSON error");
    assert!(error["Message"].as_str().unwrap_or("").contains("is not a CID"), "{text}");
    assert_eq!(post("add?chunker=rabin", Some(body)).await.0, 400);
    assert_eq!(post("cat", None).await.0, 400);
}

/// A server that answers every request with the same wrong bytes.
fn liar() -> Router {
    Router::new().fallback(any(|| async { (axum::http::StatusCode::OK, b"not what you asked for".to_vec()) }))
}

#[tokio::test]
async fn clients_refuse_blocks_that_do_not_match() {
    let base = spawn(liar()).await;
    let cid = cid_of(b"hello world\n", &AddOptions::V0);
    let kubo = KuboClient::new(&base, quick()).expect("client");
    assert!(matches!(kubo.get(&cid).await, Err(Error::HashMismatch(c)) if c == cid));
    let gateway = GatewayClient::new(&base, quick()).expect("client");
    assert!(matches!(gateway.get(&cid).await, Err(Error::Car(_))), "not a CAR");
    // The node names the file with another CID than its bytes have: refused.
    let error = kubo.add(b"hello world\n", AddOptions::V0).await.expect_err("lying add");
    assert!(matches!(error, Error::Http { .. }), "{error}");
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    // Accepts connections and never answers.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let options = ClientOptions { read_timeout: Duration::from_millis(300), ..ClientOptions::default() };
    let gateway = GatewayClient::new(&base, options).expect("client");
    let started = std::time::Instant::now();
    let error = gateway.get(&cid_of(b"x", &AddOptions::V0)).await.expect_err("stalled");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn limits_stop_oversized_dags() {
    let (_dir, store, base) = served_store().await;
    let bytes = content(3 * 262_144);
    let cid = store.add(&bytes, AddOptions::V0).await.expect("add");
    let small = ClientOptions { limits: Limits { max_size: 262_144, max_depth: 16 }, ..quick() };
    for client in [
        Box::new(KuboClient::new(&base, small).expect("client")) as Box<dyn Store>,
        Box::new(GatewayClient::new(&base, small).expect("client")),
    ] {
        let error = client.get(&cid).await.expect_err("over the size limit");
        assert!(matches!(error, Error::OverLimit { .. } | Error::Http { .. }), "{error}");
    }
    let shallow = store.clone().with_limits(Limits { max_size: 1 << 30, max_depth: 0 });
    assert!(matches!(shallow.get(&cid).await, Err(Error::OverLimit { .. })));
    assert_eq!(store.get(&cid).await.expect("within limits"), bytes);
    let _: Cid = cid;
}

/// A real trustless-gateway client, `@helia/verified-fetch` (npm, run by Node), reads files from our
/// gateway and verifies them block by block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helia_verified_fetch_reads_from_our_gateway() {
    use sha2::{Digest, Sha256};
    let (_dir, store, base) = served_store().await;
    let files = [content(1000), content(3 * 262_144 + 5)];
    let mut cids = Vec::new();
    for (bytes, options) in files.iter().zip([AddOptions::V0, AddOptions::V1]) {
        cids.push(store.add(bytes, options).await.expect("add").to_string());
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut node = std::process::Command::new("node");
    node.arg(root.join("crates/store/tests/conformance/verified_fetch.mjs")).arg(&base).args(&cids).current_dir(&root);
    // The gateway serves from this runtime's other thread while Node runs.
    let output = tokio::task::spawn_blocking(move || node.output()).await.expect("joined").expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "verified-fetch failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    let expected: Vec<String> =
        files.iter().map(|f| Sha256::digest(f).iter().map(|b| format!("{b:02x}")).collect()).collect();
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected);
}
