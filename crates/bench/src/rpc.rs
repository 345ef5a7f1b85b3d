//! Counting the JSON-RPC calls each client sends: a forwarder in front of anvil, one per client.
//!
//! Each [`Counter`] listens on its own local port and relays every connection to anvil byte for byte, over
//! a connection of its own (so anvil answers each request on the connection it came in on, in order: no
//! response needs parsing). On the way in it reads each HTTP request's body (`Content-Length`, as alloy's
//! reqwest client sends it) and counts the `method` of every call in it (a batch counts each call). The
//! relay costs the bench process a little CPU and each request a local hop; the chain-alone ceiling is
//! measured without it.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use serde::Deserialize;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use crate::{Error, Result};

/// Calls by method.
pub type Counts = BTreeMap<String, u64>;

/// A counting forwarder to one upstream endpoint; stops when dropped.
#[derive(Debug)]
pub struct Counter {
    url: String,
    counts: Arc<Mutex<Counts>>,
    accept: JoinHandle<()>,
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Counter {
    /// Listens on a free local port and relays to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Result<Self> {
        let target = upstream
            .strip_prefix("http://")
            .map(|rest| rest.trim_end_matches('/').to_owned())
            .ok_or_else(|| Error::Run(format!("the RPC counter relays to http:// endpoints only, not {upstream}")))?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::Run(format!("the RPC counter cannot listen on 127.0.0.1: {e}")))?;
        let local = listener.local_addr().map_err(|e| Error::Run(format!("the RPC counter's address: {e}")))?;
        let counts = Arc::new(Mutex::new(Counts::new()));
        let shared = Arc::clone(&counts);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, target.clone(), Arc::clone(&shared)));
            }
        });
        Ok(Self { url: format!("http://{local}"), counts, accept })
    }

    /// The URL clients use instead of the upstream's.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The calls counted so far.
    pub fn counts(&self) -> Counts {
        self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

/// Relays one client connection until either side closes it.
async fn relay(client: TcpStream, target: String, counts: Arc<Mutex<Counts>>) {
    let Ok(upstream) = TcpStream::connect(&target).await else { return };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let back = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
    });
    let mut reader = BufReader::new(client_read);
    while let Ok(Some(request)) = read_request(&mut reader).await {
        count(&counts, &request.body);
        if upstream_write.write_all(&request.head).await.is_err()
            || upstream_write.write_all(&request.body).await.is_err()
        {
            break;
        }
    }
    // The client closed (or sent what this relay does not parse): let the answers in flight drain.
    let _ = upstream_write.shutdown().await;
    let _ = back.await;
}

/// One HTTP request as read: the head (request line and headers, as sent) and the body.
struct Request {
    head: Vec<u8>,
    body: Vec<u8>,
}

/// Reads the next request (`None` at the end of the connection). Only bodies sized by `Content-Length`
/// are read; a chunked request ends the relay (alloy's client never sends one).
async fn read_request(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<Option<Request>> {
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let before = head.len();
        if reader.read_until(b'\n', &mut head).await? == 0 {
            return Ok(None);
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if let Some((name, value)) = text.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| std::io::Error::other("a bad Content-Length"))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(std::io::Error::other("a chunked request"));
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Request { head, body }))
}

/// A JSON-RPC request: one call or a batch.
#[derive(Deserialize)]
#[serde(untagged)]
enum Calls {
    One(Call),
    Batch(Vec<Call>),
}

#[derive(Deserialize)]
struct Call {
    method: String,
}

/// Adds the calls in `body` to `counts` (a body that is not JSON-RPC counts as `(not JSON-RPC)`).
fn count(counts: &Mutex<Counts>, body: &[u8]) {
    let methods = match serde_json::from_slice::<Calls>(body) {
        Ok(Calls::One(call)) => vec![call.method],
        Ok(Calls::Batch(calls)) => calls.into_iter().map(|call| call.method).collect(),
        Err(_) => vec!["(not JSON-RPC)".to_owned()],
    };
    let mut counts = counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for method in methods {
        *counts.entry(method).or_default() += 1;
    }
}

/// The `n` methods with the most calls, most first (ties by name), each with its calls divided by `jobs`,
/// as `method 1.23`.
pub fn top_per_job(counts: &Counts, n: usize, jobs: usize) -> Vec<String> {
    let mut methods: Vec<(&String, &u64)> = counts.iter().collect();
    methods.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    methods
        .iter()
        .take(n)
        .map(|(method, calls)| format!("{method} {:.2}", **calls as f64 / jobs.max(1) as f64))
        .collect()
}

/// The sum of several clients' counts.
pub fn sum<'a>(all: impl IntoIterator<Item = &'a Counts>) -> Counts {
    let mut total = Counts::new();
    for counts in all {
        for (method, calls) in counts {
            *total.entry(method.clone()).or_default() += calls;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_single_calls_batches_and_garbage() {
        let counts = Mutex::new(Counts::new());
        count(&counts, br#"{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}"#);
        count(&counts, br#"[{"id":2,"method":"eth_call"},{"id":3,"method":"eth_blockNumber"}]"#);
        count(&counts, b"GET / HTTP/1.1");
        let counts = counts.into_inner().expect("not poisoned");
        assert_eq!(counts.get("eth_blockNumber"), Some(&2));
        assert_eq!(counts.get("eth_call"), Some(&1));
        assert_eq!(counts.get("(not JSON-RPC)"), Some(&1));
        assert_eq!(sum([&counts, &counts]).get("eth_blockNumber"), Some(&4));
        assert_eq!(top_per_job(&counts, 2, 2), ["eth_blockNumber 1.00", "(not JSON-RPC) 0.50"]);
    }

    /// A real request through the relay to a real anvil is covered by `tests/report.rs` (the tiny run);
    /// here, the relay against a stand-in upstream that answers every request with a fixed body.
    #[tokio::test]
    async fn relays_requests_and_answers_in_order() {
        let upstream = TcpListener::bind("127.0.0.1:0").await.expect("listen");
        let address = upstream.local_addr().expect("address");
        tokio::spawn(async move {
            let (socket, _) = upstream.accept().await.expect("a connection");
            let (read, mut write) = socket.into_split();
            let mut reader = BufReader::new(read);
            while let Ok(Some(request)) = read_request(&mut reader).await {
                let body = format!("{{\"echo\":{}}}", request.body.len());
                let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                write.write_all(answer.as_bytes()).await.expect("answer");
            }
        });
        let counter = Counter::start(&format!("http://{address}")).await.expect("a counter");
        let mut client = TcpStream::connect(counter.url().trim_start_matches("http://")).await.expect("connect");
        let body = r#"{"id":1,"method":"eth_chainId"}"#;
        let request = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        client.write_all(format!("{request}{request}").as_bytes()).await.expect("send");
        let mut seen = String::new();
        let mut buffer = [0u8; 512];
        while seen.matches("echo").count() < 2 {
            let read = client.read(&mut buffer).await.expect("read");
            assert!(read > 0, "the relay closed early: {seen:?}");
            seen.push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
        assert_eq!(seen.matches(&format!("{{\"echo\":{}}}", body.len())).count(), 2, "{seen}");
        assert_eq!(counter.counts().get("eth_chainId"), Some(&2));
    }
}
