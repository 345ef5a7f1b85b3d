//! The crate's one error type: every failure names the thing at fault and, where there is one, the fix.

use crate::Cid;

/// Errors of the content store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text or bytes are not a CID.
    #[error("`{text}` is not a CID ({reason}); CIDs look like Qm… (v0) or b… (v1)")]
    BadCid {
        /// What was given.
        text: String,
        /// Why it is not a CID.
        reason: String,
    },
    /// A CID of a codec or hash function this store cannot verify.
    #[error("{0}: only sha2-256 CIDs of dag-pb or raw blocks can be verified here")]
    UnsupportedCid(String),
    /// Content over one chunk asked for as a single raw block.
    #[error("content of {size} bytes is over the {max}-byte single-block limit of a raw-leaf CID")]
    TooLarge {
        /// The content's size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The block is not there.
    #[error("{0} is not in the store")]
    NotFound(Cid),
    /// A block whose bytes do not hash to its CID.
    #[error("block {0} does not match its CID (corrupt or forged); it was not used")]
    HashMismatch(Cid),
    /// A block that is not a UnixFS file node, or a DAG that does not add up.
    #[error("block {cid} is not a valid UnixFS file node: {reason}")]
    Malformed {
        /// The block.
        cid: Cid,
        /// What is wrong.
        reason: String,
    },
    /// A DAG over the configured limits.
    #[error("the DAG of {root} is over the limit: {what} (see `Limits`)")]
    OverLimit {
        /// The root.
        root: Cid,
        /// Which limit, and by how much.
        what: String,
    },
    /// Adding would exceed the store's size cap.
    #[error(
        "the store at {dir} is full: {used} bytes used, adding {adding} more passes the cap of {cap} bytes; \
         raise the cap, or unpin content and run gc"
    )]
    StoreFull {
        /// The store's directory.
        dir: String,
        /// Bytes in use.
        used: u64,
        /// Bytes being added.
        adding: u64,
        /// The cap.
        cap: u64,
    },
    /// A CAR file that is malformed, truncated, or holds a block that does not verify.
    #[error("CAR: {0}")]
    Car(String),
    /// The operation is not offered by this kind of store.
    #[error("{0}")]
    Unsupported(String),
    /// An HTTP request failed or a server answered with an error.
    #[error("{url}: {reason}")]
    Http {
        /// The request.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A file system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, and on which path.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An [`Error::Io`] with its context.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
