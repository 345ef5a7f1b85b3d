//! Clients of remote stores: a Kubo node's RPC API ([`KuboClient`], also pinning services that speak it)
//! and a trustless gateway ([`GatewayClient`]). Neither is trusted: every block is checked against its
//! CID before use, a node's answer to `add` is checked against the CID computed here, responses are
//! capped in size, and a server that stalls longer than the read timeout is an error, not a hang.

use std::{collections::HashMap, time::Duration};

use crate::{
    AddOptions, Cid, Error, Result, Version,
    car::CarReader,
    cid_of,
    reader::{self, BlockSource, BoxFuture, Limits},
    store::Store,
};

/// The largest block accepted from a server (Kubo refuses blocks over 2 MiB too).
const MAX_BLOCK: usize = 2 << 20;

/// Timeouts and limits of a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// Time to connect.
    pub connect_timeout: Duration,
    /// The longest a server may go without sending anything.
    pub read_timeout: Duration,
    /// Limits on the DAGs read.
    pub limits: Limits,
}

impl Default for ClientOptions {
    /// 10 s to connect, 30 s of silence, the default [`Limits`].
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            limits: Limits::default(),
        }
    }
}

/// What both clients share: the base URL and the HTTP client.
#[derive(Clone, Debug)]
struct Http {
    base: String,
    client: reqwest::Client,
    options: ClientOptions,
}

impl Http {
    fn new(base: &str, options: ClientOptions) -> Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Http { url: base, reason: "not an http:// or https:// URL".into() });
        }
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .build()
            .map_err(|e| Error::Http { url: base.clone(), reason: format!("building the HTTP client: {e}") })?;
        Ok(Self { base, client, options })
    }

    /// Sends a request and reads at most `max` bytes of a successful answer.
    async fn send(&self, request: reqwest::RequestBuilder, url: &str, max: usize) -> Result<Vec<u8>> {
        let failed =
            |e: reqwest::Error| Error::Http { url: url.to_owned(), reason: describe(&e, self.options.read_timeout) };
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > max {
                return Err(Error::Http { url: url.to_owned(), reason: format!("the answer is over {max} bytes") });
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        // Kubo's errors are JSON `{"Message": …}`; gateways answer text.
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("Message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(512)]).trim().to_owned());
        Err(Error::Http { url: url.to_owned(), reason: format!("{status}: {message}") })
    }
}

fn describe(error: &reqwest::Error, read_timeout: Duration) -> String {
    if error.is_timeout() {
        format!("timed out: the server sent nothing for {} s", read_timeout.as_secs_f32())
    } else if error.is_connect() {
        format!("cannot connect: {error}")
    } else {
        error.to_string()
    }
}

/// Whether an error says the content is missing (a 404, or Kubo's "not found").
fn is_not_found(error: &Error) -> bool {
    match error {
        Error::NotFound(_) => true,
        Error::Http { reason, .. } => reason.starts_with("404") || reason.contains("not found"),
        _ => false,
    }
}

/// A client of a Kubo node's RPC API (`http://127.0.0.1:5001` for a local Kubo, or `jsjob ipfs serve`).
#[derive(Clone, Debug)]
pub struct KuboClient {
    http: Http,
}

impl KuboClient {
    /// A client of the RPC API at `base` (without `/api/v0`).
    pub fn new(base: &str, options: ClientOptions) -> Result<Self> {
        Ok(Self { http: Http::new(base, options)? })
    }

    async fn rpc(&self, command: &str, body: Option<Vec<u8>>, boundary: &str, max: usize) -> Result<Vec<u8>> {
        let url = format!("{}/api/v0/{command}", self.http.base);
        let mut request = self.http.client.post(&url);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
                .body(body);
        }
        self.http.send(request, &url, max).await
    }

    /// Adds a file; returns its CID, checked against the one computed here.
    pub async fn add_checked(&self, content: &[u8], options: AddOptions) -> Result<Cid> {
        let expected = cid_of(content, &options);
        let version = if options.cid_version == Version::V0 { 0 } else { 1 };
        let command = format!("add?cid-version={version}&raw-leaves={}&pin=true&quieter=true", options.raw_leaves);
        // The boundary is derived from the content's CID: a body cannot contain a line naming its own hash.
        let boundary = format!("jsjob-{}", &expected.to_v1().to_string()[8..40]);
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let answer = self.rpc(&command, Some(body), &boundary, 1 << 20).await?;
        let url = format!("{}/api/v0/add", self.http.base);
        // NDJSON, one line per entry; the file's is the last.
        let last = answer.split(|&b| b == b'\n').rfind(|l| !l.is_empty()).unwrap_or_default();
        let hash = serde_json::from_slice::<serde_json::Value>(last)
            .ok()
            .and_then(|v| v.get("Hash").and_then(|h| h.as_str()).map(str::to_owned))
            .ok_or_else(|| Error::Http { url: url.clone(), reason: "an add answer without a Hash".into() })?;
        let cid: Cid = hash.parse()?;
        if cid != expected {
            return Err(Error::Http {
                url,
                reason: format!("the node named the file {cid}, but its CID is {expected} (other add settings?)"),
            });
        }
        Ok(cid)
    }
}

impl BlockSource for KuboClient {
    fn fetch_block<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(async move {
            self.rpc(&format!("block/get?arg={cid}"), None, "", MAX_BLOCK)
                .await
                .map_err(|e| if is_not_found(&e) { Error::NotFound(*cid) } else { e })
        })
    }
}

impl Store for KuboClient {
    fn add<'a>(&'a self, content: &'a [u8], options: AddOptions) -> BoxFuture<'a, Result<Cid>> {
        Box::pin(self.add_checked(content, options))
    }

    fn get<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>> {
        // Block by block, so that each is verified (`cat` would hand over unverifiable bytes).
        Box::pin(reader::read_file(self, cid, self.http.options.limits))
    }

    fn has<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            // `offline`: a real Kubo would otherwise look for the block on the network.
            match self.rpc(&format!("block/stat?arg={cid}&offline=true"), None, "", 1 << 16).await {
                Ok(_) => Ok(true),
                Err(e) if is_not_found(&e) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    fn pin<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.rpc(&format!("pin/add?arg={cid}"), None, "", 1 << 16).await.map(drop) })
    }
}

/// A client of a trustless gateway (`GET /ipfs/{cid}?format=raw|car`): read-only.
#[derive(Clone, Debug)]
pub struct GatewayClient {
    http: Http,
}

impl GatewayClient {
    /// A client of the gateway at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, options: ClientOptions) -> Result<Self> {
        Ok(Self { http: Http::new(base, options)? })
    }

    async fn fetch(&self, cid: &Cid, format: &str, max: usize) -> Result<Vec<u8>> {
        let url = format!("{}/ipfs/{cid}?format={format}", self.http.base);
        let request =
            self.http.client.get(&url).header(reqwest::header::ACCEPT, format!("application/vnd.ipld.{format}"));
        self.http.send(request, &url, max).await.map_err(|e| if is_not_found(&e) { Error::NotFound(*cid) } else { e })
    }

    /// The file `cid` names, fetched as one CAR and checked block by block.
    pub async fn get_via_car(&self, cid: &Cid) -> Result<Vec<u8>> {
        let limits = self.http.options.limits;
        // File bytes plus the DAG's overhead (well under 1 % with 256 KiB chunks) and the header.
        let max = usize::try_from(limits.max_size.saturating_add(limits.max_size / 64).saturating_add(1 << 20))
            .unwrap_or(usize::MAX);
        let car = self.fetch(cid, "car", max).await?;
        let mut reader = CarReader::new(&car)?;
        let mut blocks = HashMap::new();
        while let Some((block_cid, block)) = reader.next_block()? {
            blocks.insert(block_cid.digest(), block);
        }
        reader::read_file(&CarBlocks(blocks), cid, limits).await.map_err(|e| match e {
            Error::NotFound(missing) => Error::Car(format!("the gateway's CAR for {cid} lacks block {missing}")),
            other => other,
        })
    }
}

/// Blocks of a CAR, already checked.
struct CarBlocks<'a>(HashMap<[u8; 32], &'a [u8]>);

impl BlockSource for CarBlocks<'_> {
    fn fetch_block<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(async move { self.0.get(&cid.digest()).map(|b| b.to_vec()).ok_or(Error::NotFound(*cid)) })
    }
}

impl BlockSource for GatewayClient {
    fn fetch_block<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(self.fetch(cid, "raw", MAX_BLOCK))
    }
}

impl Store for GatewayClient {
    fn add<'a>(&'a self, _: &'a [u8], _: AddOptions) -> BoxFuture<'a, Result<Cid>> {
        Box::pin(async move {
            Err(Error::Unsupported(format!(
                "{} is a trustless gateway, which is read-only: add through a Kubo RPC endpoint or the local store",
                self.http.base
            )))
        })
    }

    fn get<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(self.get_via_car(cid))
    }

    fn has<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            match reader::verified_block(self, cid).await {
                Ok(_) => Ok(true),
                Err(Error::NotFound(_)) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    fn pin<'a>(&'a self, _: &'a Cid) -> BoxFuture<'a, Result<()>> {
        Box::pin(
            async move { Err(Error::Unsupported(format!("{} is a trustless gateway: it cannot pin", self.http.base))) },
        )
    }
}
