//! Content identifiers: the names under which a job's code, input and output live on IPFS. They come from
//! the content store crate ([`jsjob_store::cid`]): CIDv0 and CIDv1, dag-pb and raw, sha2-256; the binary
//! form ([`Cid::as_bytes`]) is what the agency stores and checks.

pub use jsjob_store::{
    Error, Result,
    cid::{Cid, Codec, MAX_RAW_LEAF, Version},
};
