//! Content identifiers: the names under which a job's code, input and output live on IPFS.
//!
//! A [`Cid`] here is one that this store can verify: a sha2-256 multihash, with the `dag-pb` codec (the
//! UnixFS nodes `ipfs add` makes) or `raw` (leaves with `--raw-leaves`, and single-chunk files with
//! `--cid-version=1`). CIDv0 is `0x12 0x20 ‖ digest` (text: base58btc, `Qm…`); CIDv1 is
//! `0x01 ‖ codec ‖ 0x12 0x20 ‖ digest` (text: multibase base32, `b…`). The binary form is what the agency
//! stores and checks (`CidLib`). CIDs naming other codecs or hash functions parse into an
//! [`Error::UnsupportedCid`]: a block whose hash we cannot compute is a block we cannot verify.
//!
//! Text and multihash handling come from the `cid` and `multihash` crates; this type keeps the binary
//! form inline (at most 36 bytes), so it is `Copy` and `as_bytes` borrows.

use std::{fmt, str::FromStr};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The largest file that `ipfs add --cid-version=1` names by a single raw block: one chunk.
pub const MAX_RAW_LEAF: usize = crate::CHUNK_SIZE;

/// Multihash code of sha2-256.
const SHA2_256: u64 = 0x12;
/// Length of a sha2-256 digest.
const DIGEST_LEN: usize = 32;

/// CID version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// CIDv0: a bare sha2-256 multihash of a dag-pb block (`Qm…`), Kubo's default.
    V0,
    /// CIDv1: version, codec and multihash (`b…` in base32).
    V1,
}

/// The codec of the block a CID names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codec {
    /// `dag-pb` (0x70): a protobuf node with links and UnixFS data.
    DagPb,
    /// `raw` (0x55): the block is file bytes.
    Raw,
}

impl Codec {
    /// The multicodec code.
    pub const fn code(self) -> u64 {
        match self {
            Self::DagPb => 0x70,
            Self::Raw => 0x55,
        }
    }

    fn from_code(code: u64) -> Option<Self> {
        match code {
            0x70 => Some(Self::DagPb),
            0x55 => Some(Self::Raw),
            _ => None,
        }
    }
}

/// A sha2-256 CID of a dag-pb or raw block.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid {
    /// The binary form, left-aligned.
    bytes: [u8; 36],
    /// 34 (CIDv0) or 36 (CIDv1).
    len: u8,
}

impl Cid {
    /// The CID of `digest` (a sha2-256 digest of the block) in the given version and codec. CIDv0 can only
    /// name dag-pb blocks.
    pub fn new(version: Version, codec: Codec, digest: [u8; 32]) -> Result<Self> {
        let mut bytes = [0u8; 36];
        let len = match version {
            Version::V0 if codec != Codec::DagPb => {
                return Err(Error::UnsupportedCid(format!("CIDv0 of a {codec:?} block (CIDv0 names dag-pb only)")));
            }
            Version::V0 => {
                bytes[..2].copy_from_slice(&[SHA2_256 as u8, DIGEST_LEN as u8]);
                bytes[2..34].copy_from_slice(&digest);
                34
            }
            Version::V1 => {
                bytes[..4].copy_from_slice(&[0x01, codec.code() as u8, SHA2_256 as u8, DIGEST_LEN as u8]);
                bytes[4..].copy_from_slice(&digest);
                36
            }
        };
        Ok(Self { bytes, len })
    }

    /// The CID of `block`: hashes it. CIDv0 is only for dag-pb; a raw block is always CIDv1 (as Kubo
    /// names raw leaves even when the file's CID is CIDv0).
    pub fn of_block(version: Version, codec: Codec, block: &[u8]) -> Self {
        let version = if codec == Codec::Raw { Version::V1 } else { version };
        let digest: [u8; 32] = Sha256::digest(block).into();
        match Self::new(version, codec, digest) {
            Ok(cid) => cid,
            // Unreachable: CIDv0 is only asked for dag-pb above.
            Err(_) => Self::v1_of(codec, digest),
        }
    }

    fn v1_of(codec: Codec, digest: [u8; 32]) -> Self {
        let mut bytes = [0u8; 36];
        bytes[..4].copy_from_slice(&[0x01, codec.code() as u8, SHA2_256 as u8, DIGEST_LEN as u8]);
        bytes[4..].copy_from_slice(&digest);
        Self { bytes, len: 36 }
    }

    /// The CID that `ipfs add --cid-version=1` prints for a file of at most one chunk ([`MAX_RAW_LEAF`]
    /// bytes): the raw block of its bytes. For any size, use [`crate::cid_of`].
    pub fn raw_leaf(content: &[u8]) -> Result<Self> {
        if content.len() > MAX_RAW_LEAF {
            return Err(Error::TooLarge { size: content.len(), max: MAX_RAW_LEAF });
        }
        Ok(Self::of_block(Version::V1, Codec::Raw, content))
    }

    /// Parses the binary form, as found in the agency's events.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let parsed =
            cid::Cid::try_from(bytes).map_err(|e| Error::BadCid { text: hex(bytes), reason: e.to_string() })?;
        let cid = Self::from_parsed(&parsed)?;
        // `cid` tolerates trailing bytes in some forms; the agency's binary CID must be exact.
        if cid.as_bytes() != bytes {
            return Err(Error::BadCid { text: hex(bytes), reason: "bytes after the CID".into() });
        }
        Ok(cid)
    }

    fn from_parsed(parsed: &cid::Cid) -> Result<Self> {
        let hash = parsed.hash();
        let unsupported = || Error::UnsupportedCid(parsed.to_string());
        if hash.code() != SHA2_256 || hash.size() as usize != DIGEST_LEN {
            return Err(unsupported());
        }
        let codec = Codec::from_code(parsed.codec()).ok_or_else(unsupported)?;
        let digest: [u8; 32] = hash.digest().try_into().map_err(|_| unsupported())?;
        let version = match parsed.version() {
            cid::Version::V0 => Version::V0,
            cid::Version::V1 => Version::V1,
        };
        Self::new(version, codec, digest)
    }

    /// The binary form, as the agency takes it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The CID version.
    pub fn version(&self) -> Version {
        if self.len == 34 { Version::V0 } else { Version::V1 }
    }

    /// The codec of the block it names.
    pub fn codec(&self) -> Codec {
        if self.len == 36 && self.bytes[1] == Codec::Raw.code() as u8 { Codec::Raw } else { Codec::DagPb }
    }

    /// The sha2-256 digest of the block it names.
    pub fn digest(&self) -> [u8; 32] {
        let start = usize::from(self.len) - DIGEST_LEN;
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&self.bytes[start..start + DIGEST_LEN]);
        digest
    }

    /// The same block named by a CIDv1 (the form gateways and CAR files prefer).
    pub fn to_v1(&self) -> Self {
        Self::v1_of(self.codec(), self.digest())
    }

    /// Whether `block` is the block this CID names. Every block read from anywhere goes through this.
    pub fn verifies(&self, block: &[u8]) -> bool {
        Sha256::digest(block)[..] == self.digest()
    }

    fn to_cid(self) -> cid::Cid {
        // A sha2-256 digest always fits the 64-byte multihash.
        let hash = multihash::Multihash::<64>::wrap(SHA2_256, &self.digest()).unwrap_or_default();
        match self.version() {
            Version::V0 => cid::Cid::new_v0(hash).unwrap_or_else(|_| cid::Cid::new_v1(Codec::DagPb.code(), hash)),
            Version::V1 => cid::Cid::new_v1(self.codec().code(), hash),
        }
    }
}

impl fmt::Display for Cid {
    /// CIDv0 in base58btc (`Qm…`), CIDv1 in multibase base32 (`b…`), as Kubo prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_cid(), f)
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl FromStr for Cid {
    type Err = Error;

    /// Parses CIDv0 (`Qm…`) or CIDv1 in any multibase.
    fn from_str(text: &str) -> Result<Self> {
        let parsed =
            cid::Cid::try_from(text).map_err(|e| Error::BadCid { text: text.to_owned(), reason: e.to_string() })?;
        Self::from_parsed(&parsed)
    }
}

impl serde::Serialize for Cid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `0x`-prefixed lowercase hex, for error messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(2 + 2 * bytes.len());
    text.push_str("0x");
    for byte in bytes {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `printf 'hello world\n' | ipfs add --cid-version=1 --raw-leaves -Q` (Kubo).
    const HELLO_V1: &str = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";

    #[test]
    fn raw_leaf_of_hello_world_matches_kubo() {
        let cid = Cid::raw_leaf(b"hello world\n").expect("small content");
        assert_eq!(cid.to_string(), HELLO_V1);
        assert_eq!(hex(cid.as_bytes()), "0x01551220a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
        assert_eq!((cid.version(), cid.codec()), (Version::V1, Codec::Raw));
    }

    #[test]
    fn text_and_binary_forms_round_trip() {
        for text in [
            HELLO_V1,
            "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",
            "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby",
        ] {
            let cid: Cid = text.parse().expect("valid CID");
            assert_eq!(cid.to_string(), text);
            assert_eq!(Cid::from_bytes(cid.as_bytes()).expect("binary form"), cid);
        }
        let v0: Cid = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o".parse().expect("valid");
        assert_eq!(v0.as_bytes().len(), 34);
        assert_eq!(v0.to_v1().to_string(), "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby");
    }

    #[test]
    fn malformed_or_unverifiable_cids_are_refused() {
        for text in ["", "b", "Qm123", "bafkrei!", "hello"] {
            assert!(matches!(text.parse::<Cid>(), Err(Error::BadCid { .. })), "{text} parsed");
        }
        // dag-cbor (0x71) and an identity hash: valid CIDs this store cannot verify.
        for text in ["bafyreibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe", "bafkqablimvwgy3y"] {
            assert!(matches!(text.parse::<Cid>(), Err(Error::UnsupportedCid(_))), "{text}");
        }
        assert!(matches!(Cid::from_bytes(&[0x12, 0x20, 1, 2]), Err(Error::BadCid { .. })));
        let mut long = Cid::raw_leaf(b"x").expect("small").as_bytes().to_vec();
        long.push(0);
        assert!(matches!(Cid::from_bytes(&long), Err(Error::BadCid { .. })));
    }

    #[test]
    fn content_over_one_chunk_is_not_a_raw_leaf() {
        let big = vec![0u8; MAX_RAW_LEAF + 1];
        assert!(
            matches!(Cid::raw_leaf(&big), Err(Error::TooLarge { size, max }) if size == MAX_RAW_LEAF + 1 && max == MAX_RAW_LEAF)
        );
        assert!(Cid::raw_leaf(&big[..MAX_RAW_LEAF]).is_ok());
    }

    #[test]
    fn verifies_only_its_block() {
        let cid = Cid::raw_leaf(b"input").expect("small");
        assert!(cid.verifies(b"input"));
        assert!(!cid.verifies(b"inpu7"));
    }
}
