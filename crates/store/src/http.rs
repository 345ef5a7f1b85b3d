//! The HTTP face of a local store, so that several agents (and ordinary IPFS tools) share it:
//!
//! - the trustless gateway: `GET /ipfs/{cid}` gives the file's bytes, `?format=raw` (or
//!   `Accept: application/vnd.ipld.raw`) one block, `?format=car` (or `application/vnd.ipld.car`) the
//!   file's DAG as a CARv1 in depth-first order without duplicates;
//! - the Kubo RPC subset the agent and common clients use, with Kubo's shapes: `POST /api/v0/add`
//!   (multipart; `cid-version`, `raw-leaves`, `only-hash`, `pin`; one NDJSON line
//!   `{"Name","Hash","Size"}` per file), `cat`, `block/get`, `block/put`, `block/stat`, `pin/add`, each
//!   taking the CID as `?arg=`. Errors are Kubo's JSON `{"Message","Code","Type":"error"}`.
//!
//! It binds where it is told; the CLI's default is 127.0.0.1 (anyone who reaches the port can add).
//! Every block it serves is verified first, so it never passes on a block its disk corrupted.

use std::{collections::HashSet, net::SocketAddr};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, Multipart, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::{
    AddOptions, BlockSink, Cid, Codec, Error, Importer, Version,
    blockstore::Blockstore,
    car,
    reader::{DagWalker, verified_block},
    store::LocalStore,
};

/// The router serving `store`. Uploads are limited to the store's read limit ([`crate::Limits::max_size`]).
pub fn router<B: Blockstore>(store: LocalStore<B>) -> Router {
    let max_upload = usize::try_from(store.limits().max_size).unwrap_or(usize::MAX);
    Router::new()
        .route("/ipfs/{*path}", get(gateway::<B>))
        .route("/api/v0/add", post(add::<B>))
        .route("/api/v0/cat", post(cat::<B>))
        .route("/api/v0/block/get", post(block_get::<B>))
        .route("/api/v0/block/put", post(block_put::<B>))
        .route("/api/v0/block/stat", post(block_stat::<B>))
        .route("/api/v0/pin/add", post(pin_add::<B>))
        .layer(DefaultBodyLimit::max(max_upload))
        .with_state(store)
}

/// Serves `store` on `listener` until `shutdown` resolves.
pub async fn serve<B: Blockstore>(
    listener: tokio::net::TcpListener,
    store: LocalStore<B>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> crate::Result<()> {
    let address: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?address, "serving the store");
    axum::serve(listener, router(store))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::io(format!("serving HTTP on {address:?}"), e))
}

/// An error as the gateway shows it: plain text.
struct GatewayError(Error);

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        (status_of(&self.0), format!("{}\n", self.0)).into_response()
    }
}

/// An error as Kubo's RPC shows it.
struct RpcError(Error);

impl IntoResponse for RpcError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let code = if status == StatusCode::BAD_REQUEST { 1 } else { 0 };
        let body = KuboError { message: self.0.to_string(), code, kind: "error" };
        (status, axum::Json(body)).into_response()
    }
}

/// Kubo's error body, fields in Kubo's order.
#[derive(serde::Serialize)]
struct KuboError {
    #[serde(rename = "Message")]
    message: String,
    #[serde(rename = "Code")]
    code: u8,
    #[serde(rename = "Type")]
    kind: &'static str,
}

/// One line of Kubo's `add` answer, fields in Kubo's order; `Size` is the DAG's cumulative size, as a
/// string.
#[derive(serde::Serialize)]
struct AddLine {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Hash")]
    hash: String,
    #[serde(rename = "Size")]
    size: String,
}

impl From<Error> for RpcError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::BadCid { .. } | Error::UnsupportedCid(_) | Error::Unsupported(_) | Error::TooLarge { .. } => {
            StatusCode::BAD_REQUEST
        }
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::OverLimit { .. } | Error::StoreFull { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn bad_request(message: impl Into<String>) -> Error {
    Error::Unsupported(message.into())
}

#[derive(Debug, Deserialize)]
struct GatewayQuery {
    format: Option<String>,
}

enum Format {
    File,
    Raw,
    Car,
}

async fn gateway<B: Blockstore>(
    State(store): State<LocalStore<B>>,
    Path(path): Path<String>,
    Query(query): Query<GatewayQuery>,
    headers: HeaderMap,
) -> Result<Response, GatewayError> {
    let (cid, rest) = path.split_once('/').unwrap_or((&path, ""));
    if !rest.is_empty() {
        return Err(GatewayError(bad_request(format!(
            "/ipfs/{path}: paths inside a DAG are not served, only files by CID"
        ))));
    }
    let cid: Cid = cid.parse().map_err(GatewayError)?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match query.format.as_deref() {
        Some("raw") => Format::Raw,
        Some("car") => Format::Car,
        Some(other) => {
            return Err(GatewayError(bad_request(format!("format={other}: this gateway serves raw and car"))));
        }
        None if accept.contains("application/vnd.ipld.raw") => Format::Raw,
        None if accept.contains("application/vnd.ipld.car") => Format::Car,
        None => Format::File,
    };
    let etag = HeaderValue::from_str(&format!("\"{cid}\"")).ok();
    let mut response = match format {
        Format::Raw => {
            let block = verified_block(&store, &cid).await.map_err(GatewayError)?;
            ([(header::CONTENT_TYPE, "application/vnd.ipld.raw")], block).into_response()
        }
        Format::Car => {
            let body = car_stream(store, cid).await.map_err(GatewayError)?;
            ([(header::CONTENT_TYPE, "application/vnd.ipld.car; version=1; order=dfs; dups=n")], body).into_response()
        }
        Format::File => {
            let body = file_stream(store, cid).await.map_err(GatewayError)?;
            ([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response()
        }
    };
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=29030400, immutable"));
    Ok(response)
}

/// The file's bytes as a body. The first block is read before answering, so that a missing or bad root is
/// an HTTP error rather than a cut-off body.
async fn file_stream<B: Blockstore>(store: LocalStore<B>, cid: Cid) -> crate::Result<Body> {
    let limits = store.limits();
    let mut walker = DagWalker::new(store, cid, limits);
    let first = walker.next_data().await?;
    let rest = futures_util::stream::try_unfold(walker, |mut walker| async move {
        Ok::<_, Error>(walker.next_data().await?.map(|data| (Bytes::from(data), walker)))
    });
    let head = futures_util::stream::iter(first.map(|data| Ok(Bytes::from(data))));
    Ok(Body::from_stream(futures_util::StreamExt::chain(head, rest)))
}

/// The file's DAG as a CAR body, each block once.
async fn car_stream<B: Blockstore>(store: LocalStore<B>, cid: Cid) -> crate::Result<Body> {
    let limits = store.limits();
    let mut walker = DagWalker::new(store, cid, limits);
    let mut first = car::header(&cid);
    let root = walker.next_block().await?.ok_or(Error::NotFound(cid))?;
    first.extend_from_slice(&car::section(&root.cid, &root.block));
    let seen = HashSet::from([root.cid.digest()]);
    let rest = futures_util::stream::try_unfold((walker, seen), |(mut walker, mut seen)| async move {
        while let Some(visited) = walker.next_block().await? {
            if seen.insert(visited.cid.digest()) {
                return Ok::<_, Error>(Some((Bytes::from(car::section(&visited.cid, &visited.block)), (walker, seen))));
            }
        }
        Ok(None)
    });
    let head = futures_util::stream::iter([Ok(Bytes::from(first))]);
    Ok(Body::from_stream(futures_util::StreamExt::chain(head, rest)))
}

/// Kubo's RPC arguments used here (names as Kubo spells them).
#[derive(Debug, Default, Deserialize)]
struct RpcQuery {
    arg: Option<String>,
    #[serde(rename = "cid-version")]
    cid_version: Option<String>,
    #[serde(rename = "raw-leaves")]
    raw_leaves: Option<String>,
    #[serde(rename = "only-hash")]
    only_hash: Option<String>,
    pin: Option<String>,
    chunker: Option<String>,
    hash: Option<String>,
    mhtype: Option<String>,
    trickle: Option<String>,
    #[serde(rename = "cid-codec")]
    cid_codec: Option<String>,
    format: Option<String>,
}

impl RpcQuery {
    fn cid(&self) -> crate::Result<Cid> {
        let arg = self.arg.as_deref().ok_or_else(|| bad_request("argument \"arg\" (a CID) is required"))?;
        arg.strip_prefix("/ipfs/").unwrap_or(arg).parse()
    }

    fn add_options(&self) -> crate::Result<AddOptions> {
        let cid_version = match self.cid_version.as_deref() {
            None | Some("0") => Version::V0,
            Some("1") => Version::V1,
            Some(other) => return Err(bad_request(format!("cid-version={other}: only 0 and 1 exist"))),
        };
        let raw_leaves = flag(self.raw_leaves.as_deref(), "raw-leaves")?.unwrap_or(cid_version == Version::V1);
        if !matches!(self.chunker.as_deref(), None | Some("size-262144")) {
            return Err(bad_request("only the default chunker (size-262144) is supported"));
        }
        if !matches!(self.hash.as_deref(), None | Some("sha2-256")) {
            return Err(bad_request("only the sha2-256 hash is supported"));
        }
        if flag(self.trickle.as_deref(), "trickle")? == Some(true) {
            return Err(bad_request("only the balanced layout is supported (trickle=false)"));
        }
        Ok(AddOptions { cid_version, raw_leaves })
    }
}

/// A Go-style boolean argument (`strconv.ParseBool`).
fn flag(value: Option<&str>, name: &str) -> crate::Result<Option<bool>> {
    match value {
        None => Ok(None),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") | Some("") => Ok(Some(true)),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(Some(false)),
        Some(other) => Err(bad_request(format!("{name}={other}: not a boolean"))),
    }
}

/// Blocks made during an upload, written to the store off the async threads.
#[derive(Default)]
struct Pending(Vec<(Cid, Vec<u8>)>);

impl BlockSink for Pending {
    fn put_block(&mut self, cid: &Cid, parts: &[&[u8]]) -> crate::Result<()> {
        self.0.push((*cid, parts.concat()));
        Ok(())
    }
}

async fn flush<B: Blockstore>(store: &LocalStore<B>, pending: &mut Pending) -> crate::Result<()> {
    if pending.0.is_empty() {
        return Ok(());
    }
    let blocks = std::mem::take(&mut pending.0);
    let store = store.clone();
    tokio::task::spawn_blocking(move || blocks.iter().try_for_each(|(cid, block)| store.blocks().put(cid, &[block])))
        .await
        .map_err(|e| Error::io("writing blocks", std::io::Error::other(e)))?
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> Error {
    bad_request(format!("the multipart body: {error}"))
}

async fn add<B: Blockstore>(
    State(store): State<LocalStore<B>>,
    Query(query): Query<RpcQuery>,
    mut multipart: Multipart,
) -> Result<Response, RpcError> {
    let options = query.add_options()?;
    let only_hash = flag(query.only_hash.as_deref(), "only-hash")?.unwrap_or(false);
    let pin = flag(query.pin.as_deref(), "pin")?.unwrap_or(true);
    let mut lines = String::new();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        // Directories (Content-Type application/x-directory) are not files: skip them as entries.
        if field.content_type() == Some("application/x-directory") {
            continue;
        }
        let name = field.file_name().or(field.name()).unwrap_or("").to_owned();
        let mut importer = Importer::new(options);
        let mut pending = Pending::default();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            importer.write(&chunk, &mut pending)?;
            if only_hash {
                pending.0.clear();
            }
            flush(&store, &mut pending).await?;
        }
        let added = importer.finish(&mut pending)?;
        if !only_hash {
            flush(&store, &mut pending).await?;
            if pin {
                store.blocks().pin(&added.cid)?;
            }
        }
        let name = if name.is_empty() { added.cid.to_string() } else { name };
        let line = AddLine { name, hash: added.cid.to_string(), size: added.tsize.to_string() };
        lines.push_str(&serde_json::to_string(&line).map_err(|e| Error::io("encoding JSON", e.into()))?);
        lines.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], lines).into_response())
}

async fn cat<B: Blockstore>(
    State(store): State<LocalStore<B>>,
    Query(query): Query<RpcQuery>,
) -> Result<Response, RpcError> {
    let body = file_stream(store, query.cid()?).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain")], body).into_response())
}

async fn block_get<B: Blockstore>(
    State(store): State<LocalStore<B>>,
    Query(query): Query<RpcQuery>,
) -> Result<Response, RpcError> {
    let block = verified_block(&store, &query.cid()?).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain")], block).into_response())
}

async fn block_stat<B: Blockstore>(
    State(store): State<LocalStore<B>>,
    Query(query): Query<RpcQuery>,
) -> Result<Response, RpcError> {
    let cid = query.cid()?;
    let block = verified_block(&store, &cid).await?;
    Ok(axum::Json(serde_json::json!({ "Key": cid.to_string(), "Size": block.len() })).into_response())
}

async fn block_put<B: Blockstore>(
    State(store): State<LocalStore<B>>,
    Query(query): Query<RpcQuery>,
    mut multipart: Multipart,
) -> Result<Response, RpcError> {
    if !matches!(query.mhtype.as_deref(), None | Some("sha2-256")) {
        return Err(bad_request("only mhtype=sha2-256 is supported").into());
    }
    // Kubo's `format` (v0 = dag-pb CIDv0) is the older spelling of `cid-codec`; raw is the default.
    let (version, codec) = match (query.cid_codec.as_deref(), query.format.as_deref()) {
        (None | Some("raw"), None | Some("raw")) => (Version::V1, Codec::Raw),
        (Some("dag-pb"), None) | (None, Some("protobuf")) => (Version::V1, Codec::DagPb),
        (None, Some("v0")) => (Version::V0, Codec::DagPb),
        (codec, format) => {
            return Err(bad_request(format!("cid-codec={codec:?} format={format:?}: raw and dag-pb only")).into());
        }
    };
    let field = multipart
        .next_field()
        .await
        .map_err(multipart_error)?
        .ok_or_else(|| bad_request("block/put needs the block as a multipart file"))?;
    let block: Bytes = field.bytes().await.map_err(multipart_error)?;
    if block.len() > 2 << 20 {
        return Err(bad_request(format!("a block of {} bytes is over the 2 MiB block limit", block.len())).into());
    }
    let cid = Cid::of_block(version, codec, &block);
    let writer = store.clone();
    let bytes = block.clone();
    tokio::task::spawn_blocking(move || writer.put_block(&cid, &bytes))
        .await
        .map_err(|e| Error::io("writing a block", std::io::Error::other(e)))??;
    Ok(axum::Json(serde_json::json!({ "Key": cid.to_string(), "Size": block.len() })).into_response())
}

async fn pin_add<B: Blockstore>(
    State(store): State<LocalStore<B>>,
    Query(query): Query<RpcQuery>,
) -> Result<Response, RpcError> {
    let cid = query.cid()?;
    store.pin_local(&cid).await?;
    Ok(axum::Json(serde_json::json!({ "Pins": [cid.to_string()] })).into_response())
}
