//! The dag-pb node and UnixFS `Data` protobufs, written by hand: two small messages whose canonical byte
//! layout decides every CID, so the encoder spells that layout out rather than trusting a generic
//! protobuf library's field order and empty-field rules.
//!
//! Kubo's layout (go-merkledag / go-unixfs), which the importer must reproduce byte for byte:
//! - `PBNode`: every `Links` entry (field 2) first, then `Data` (field 1).
//! - `PBLink`: `Hash` (1, binary CID), `Name` (2, always present, empty for file chunks), `Tsize` (3).
//! - UnixFS `Data`: `Type` (1), `Data` (2, omitted when empty), `filesize` (3, always present),
//!   `blocksizes` (4, one unpacked varint per link).

use crate::{Cid, Error, Result};

/// UnixFS node types this store reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    /// `Raw` (0): a leaf of file bytes, as very old importers made.
    Raw,
    /// `Directory` (1).
    Directory,
    /// `File` (2).
    File,
    /// Any other type (metadata, symlink, HAMT shard).
    Other(u64),
}

impl NodeType {
    fn from_code(code: u64) -> Self {
        match code {
            0 => Self::Raw,
            1 => Self::Directory,
            2 => Self::File,
            other => Self::Other(other),
        }
    }
}

/// A dag-pb link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The child.
    pub cid: Cid,
    /// The child's name (empty for a file's chunks).
    pub name: String,
    /// The child's cumulative size: its block plus every block below it.
    pub tsize: u64,
}

/// A decoded dag-pb node with UnixFS data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The links, in order.
    pub links: Vec<Link>,
    /// The UnixFS type.
    pub kind: NodeType,
    /// File bytes held in this node itself.
    pub data: Vec<u8>,
    /// The file size the node claims for itself and its children.
    pub filesize: u64,
    /// The file bytes under each link, in order.
    pub blocksizes: Vec<u64>,
}

/// Encodes a UnixFS file node: a leaf (`data` set, no links) or an inner node (links, no data).
pub fn encode_file(links: &[(Cid, u64)], data: &[u8], filesize: u64, blocksizes: &[u64]) -> Vec<u8> {
    let mut unixfs = Vec::with_capacity(data.len() + 16 + 10 * blocksizes.len());
    put_key(&mut unixfs, 1, VARINT);
    put_varint(&mut unixfs, 2);
    if !data.is_empty() {
        put_bytes(&mut unixfs, 2, data);
    }
    put_key(&mut unixfs, 3, VARINT);
    put_varint(&mut unixfs, filesize);
    for &size in blocksizes {
        put_key(&mut unixfs, 4, VARINT);
        put_varint(&mut unixfs, size);
    }
    let mut node = Vec::with_capacity(unixfs.len() + 8 + 48 * links.len());
    let mut link = Vec::with_capacity(64);
    for (cid, tsize) in links {
        link.clear();
        put_bytes(&mut link, 1, cid.as_bytes());
        put_bytes(&mut link, 2, b"");
        put_key(&mut link, 3, VARINT);
        put_varint(&mut link, *tsize);
        put_bytes(&mut node, 2, &link);
    }
    put_bytes(&mut node, 1, &unixfs);
    node
}

/// Decodes a dag-pb block and its UnixFS data. `cid` names the block, for error messages.
pub fn decode(cid: &Cid, block: &[u8]) -> Result<Node> {
    let malformed = |reason: &str| Error::Malformed { cid: *cid, reason: reason.to_owned() };
    let mut links = Vec::new();
    let mut unixfs = None;
    let mut input = block;
    while !input.is_empty() {
        match field(&mut input).map_err(&malformed)? {
            (2, Value::Bytes(bytes)) => links.push(decode_link(bytes).map_err(|r| malformed(&r))?),
            (1, Value::Bytes(bytes)) => unixfs = Some(bytes),
            _ => return Err(malformed("unexpected field in a dag-pb node")),
        }
    }
    let unixfs = unixfs.ok_or_else(|| malformed("a dag-pb node without UnixFS data"))?;
    let (mut kind, mut data, mut filesize, mut blocksizes) = (None, Vec::new(), None, Vec::new());
    let mut input = unixfs;
    while !input.is_empty() {
        match field(&mut input).map_err(&malformed)? {
            (1, Value::Varint(code)) => kind = Some(NodeType::from_code(code)),
            (2, Value::Bytes(bytes)) => data = bytes.to_vec(),
            (3, Value::Varint(size)) => filesize = Some(size),
            (4, Value::Varint(size)) => blocksizes.push(size),
            (4, Value::Bytes(mut packed)) => {
                while !packed.is_empty() {
                    blocksizes.push(varint(&mut packed).map_err(&malformed)?);
                }
            }
            // hashType, fanout, mode, mtime: not used for files.
            (5..=8, _) => {}
            _ => return Err(malformed("unexpected field in UnixFS data")),
        }
    }
    let kind = kind.ok_or_else(|| malformed("UnixFS data without a type"))?;
    let filesize = filesize.unwrap_or(data.len() as u64);
    Ok(Node { links, kind, data, filesize, blocksizes })
}

fn decode_link(mut input: &[u8]) -> std::result::Result<Link, String> {
    let (mut cid, mut name, mut tsize) = (None, String::new(), 0);
    while !input.is_empty() {
        match field(&mut input)? {
            (1, Value::Bytes(bytes)) => cid = Some(Cid::from_bytes(bytes).map_err(|e| format!("link: {e}"))?),
            (2, Value::Bytes(bytes)) => {
                name = String::from_utf8(bytes.to_vec()).map_err(|_| "a link name that is not UTF-8".to_owned())?
            }
            (3, Value::Varint(size)) => tsize = size,
            _ => return Err("unexpected field in a dag-pb link".into()),
        }
    }
    Ok(Link { cid: cid.ok_or("a dag-pb link without a hash")?, name, tsize })
}

const VARINT: u64 = 0;
const BYTES: u64 = 2;

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn field<'a>(input: &mut &'a [u8]) -> std::result::Result<(u64, Value<'a>), &'static str> {
    let key = varint(input)?;
    match key & 7 {
        VARINT => Ok((key >> 3, Value::Varint(varint(input)?))),
        BYTES => {
            let len = usize::try_from(varint(input)?).map_err(|_| "length overflow")?;
            if len > input.len() {
                return Err("a field runs past the end of the block");
            }
            let (bytes, rest) = input.split_at(len);
            *input = rest;
            Ok((key >> 3, Value::Bytes(bytes)))
        }
        _ => Err("unsupported protobuf wire type"),
    }
}

/// Reads an unsigned LEB128 varint of at most 64 bits.
pub(crate) fn varint(input: &mut &[u8]) -> std::result::Result<u64, &'static str> {
    let mut value = 0u64;
    for (i, &byte) in input.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if i == 9 && byte > 1 {
                break;
            }
            *input = &input[i + 1..];
            return Ok(value);
        }
    }
    Err("a truncated or overlong varint")
}

/// Appends an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_key(out: &mut Vec<u8>, field: u64, wire: u64) {
    put_varint(out, (field << 3) | wire);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_key(out, field, BYTES);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Codec, Version};

    #[test]
    fn empty_file_node_is_kubos() {
        // Kubo's empty file, QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH: `0a 04 08 02 18 00`.
        let block = encode_file(&[], b"", 0, &[]);
        assert_eq!(block, [0x0a, 0x04, 0x08, 0x02, 0x18, 0x00]);
        let cid = Cid::of_block(Version::V0, Codec::DagPb, &block);
        assert_eq!(cid.to_string(), "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
    }

    #[test]
    fn inner_node_round_trips() {
        let child = Cid::raw_leaf(b"abc").expect("small");
        let block = encode_file(&[(child, 3), (child, 3)], b"", 6, &[3, 3]);
        let cid = Cid::of_block(Version::V1, Codec::DagPb, &block);
        let node = decode(&cid, &block).expect("valid");
        assert_eq!(node.kind, NodeType::File);
        assert_eq!((node.filesize, node.blocksizes.as_slice(), node.data.as_slice()), (6, &[3, 3][..], &b""[..]));
        assert_eq!(node.links.iter().map(|l| (l.cid, l.tsize)).collect::<Vec<_>>(), [(child, 3), (child, 3)]);
    }

    #[test]
    fn truncated_blocks_are_malformed() {
        let block = encode_file(&[], b"hello", 5, &[]);
        let cid = Cid::of_block(Version::V0, Codec::DagPb, &block);
        for end in 0..block.len() {
            assert!(decode(&cid, &block[..end]).is_err(), "prefix of {end} bytes decoded");
        }
    }
}
