//! `jsjob ipfs add / cat / serve`, through the library function the binary calls.

use std::{io::Write, sync::mpsc};

use jsjob_store::{
    AddOptions, ClientOptions, KuboClient, Store, cid_of,
    cli::{IpfsCommand, run},
};

/// Sends each write to a channel, so a test can read what `serve` prints while it runs.
struct Lines(mpsc::Sender<String>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.send(String::from_utf8_lossy(bytes).into_owned());
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn add_then_cat_round_trips_and_prints_kubos_cid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("input");
    let bytes: Vec<u8> = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&file, &bytes).expect("write");
    let store = dir.path().join("store");
    for (cid_version, only_hash, options) in
        [(0, false, AddOptions::V0), (1, false, AddOptions::V1), (0, true, AddOptions::V0)]
    {
        let mut out = Vec::new();
        let add = IpfsCommand::Add {
            file: file.clone(),
            cid_version,
            raw_leaves: None,
            only_hash,
            dir: store.clone(),
            api: None,
        };
        run(add, &mut out, async {}).await.expect("add");
        assert_eq!(String::from_utf8(out).expect("UTF-8"), format!("{}\n", cid_of(&bytes, &options)));
    }
    let mut out = Vec::new();
    let cat = IpfsCommand::Cat {
        cid: cid_of(&bytes, &AddOptions::V1).to_string(),
        dir: store.clone(),
        api: None,
        gateway: None,
    };
    run(cat, &mut out, async {}).await.expect("cat");
    assert_eq!(out, bytes);
    let missing =
        IpfsCommand::Cat { cid: cid_of(b"absent", &AddOptions::V0).to_string(), dir: store, api: None, gateway: None };
    let error = run(missing, &mut Vec::new(), async {}).await.expect_err("not there");
    assert!(error.to_string().contains("is not in the store"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_clients_until_shut_down() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lines, printed) = mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serve = IpfsCommand::Serve { listen: "127.0.0.1:0".into(), dir: dir.path().to_owned(), max_bytes: None };
    let server = tokio::spawn(async move {
        run(serve, &mut Lines(lines), async move {
            let _ = stopped.await;
        })
        .await
    });
    let line = tokio::task::spawn_blocking(move || printed.recv().expect("a line")).await.expect("joined");
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("the address").to_owned();
    let client = KuboClient::new(&url, ClientOptions::default()).expect("client");
    let cid = client.add(b"served", AddOptions::V0).await.expect("add over RPC");
    assert_eq!(client.get(&cid).await.expect("get"), b"served");
    stop.send(()).expect("server running");
    server.await.expect("joined").expect("clean shutdown");
}
