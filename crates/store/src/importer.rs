//! The UnixFS importer: file bytes in, the blocks and CID of `ipfs add` out.
//!
//! Kubo's defaults, reproduced byte for byte: fixed 256 KiB chunks (`size-262144`), the balanced layout
//! with at most 174 links per node, CIDv0 dag-pb leaves holding UnixFS `File` data. With
//! [`AddOptions::V1`] (`--cid-version=1`, which implies `--raw-leaves`) the leaves are raw blocks and the
//! inner nodes CIDv1 dag-pb; a file of one chunk is then its raw leaf.
//!
//! The importer is pushed bytes ([`Importer::write`]) and holds at most one partial chunk and one pending
//! link list per tree level (174 links × depth), so a file of any size streams through bounded memory.
//! Blocks go to a [`BlockSink`] as slices: a dag-pb leaf is hashed and written as header ‖ chunk ‖
//! trailer without copying the chunk.
//!
//! The balanced layout as a sequence: leaves fill level 0; a level that holds 174 links becomes a node
//! of the level above when one more link arrives for it (not before: a file of exactly 174 chunks has a
//! root of 174 links, not a root of one link). At the end, each level from the bottom up becomes a node
//! of the next, until a level holds the single root.

use std::io::Read;

use sha2::{Digest, Sha256};

use crate::{
    Cid, Codec, Result, Version,
    unixfs::{self, put_varint},
};

/// Kubo's default chunk size (`--chunker=size-262144`).
pub const CHUNK_SIZE: usize = 256 * 1024;

/// Kubo's balanced layout: the most links an inner node holds.
pub const MAX_LINKS: usize = 174;

/// How to import a file: the `ipfs add` options that change its CID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddOptions {
    /// CID version of the dag-pb nodes (`--cid-version`).
    pub cid_version: Version,
    /// Leaves as raw blocks (`--raw-leaves`), not dag-pb UnixFS nodes.
    pub raw_leaves: bool,
}

impl AddOptions {
    /// `ipfs add` (Kubo's default): CIDv0, dag-pb leaves.
    pub const V0: Self = Self { cid_version: Version::V0, raw_leaves: false };
    /// `ipfs add --cid-version=1` (which implies `--raw-leaves`).
    pub const V1: Self = Self { cid_version: Version::V1, raw_leaves: true };
}

impl Default for AddOptions {
    fn default() -> Self {
        Self::V0
    }
}

/// What an import made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Added {
    /// The root CID: the file's name.
    pub cid: Cid,
    /// The file's size in bytes.
    pub size: u64,
    /// The DAG's cumulative size, every block counted once per link (Kubo's `Size` in `add` output).
    pub tsize: u64,
}

/// Where an importer's blocks go.
pub trait BlockSink {
    /// Takes the block named `cid`, whose bytes are `parts` joined. `cid` was computed from those bytes.
    fn put_block(&mut self, cid: &Cid, parts: &[&[u8]]) -> Result<()>;
}

/// A sink that keeps nothing: to compute a CID only (`ipfs add --only-hash`).
#[derive(Clone, Copy, Debug, Default)]
pub struct HashOnly;

impl BlockSink for HashOnly {
    fn put_block(&mut self, _: &Cid, _: &[&[u8]]) -> Result<()> {
        Ok(())
    }
}

impl BlockSink for Vec<(Cid, Vec<u8>)> {
    fn put_block(&mut self, cid: &Cid, parts: &[&[u8]]) -> Result<()> {
        self.push((*cid, parts.concat()));
        Ok(())
    }
}

/// A link waiting for its parent: the child's CID, cumulative DAG size and file bytes.
#[derive(Clone, Copy, Debug)]
struct Pending {
    cid: Cid,
    tsize: u64,
    filesize: u64,
}

/// A streaming UnixFS file importer.
#[derive(Debug)]
pub struct Importer {
    options: AddOptions,
    /// The partial chunk.
    partial: Vec<u8>,
    /// Pending links per level; `levels[0]` holds leaves.
    levels: Vec<Vec<Pending>>,
    /// Whether any leaf was made.
    any_leaf: bool,
}

impl Importer {
    /// A new importer.
    pub fn new(options: AddOptions) -> Self {
        Self { options, partial: Vec::new(), levels: Vec::new(), any_leaf: false }
    }

    /// Imports the next bytes of the file.
    pub fn write(&mut self, mut data: &[u8], sink: &mut impl BlockSink) -> Result<()> {
        if !self.partial.is_empty() {
            let take = (CHUNK_SIZE - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() < CHUNK_SIZE {
                return Ok(());
            }
            let chunk = std::mem::take(&mut self.partial);
            self.leaf(&chunk, sink)?;
            self.partial = chunk;
            self.partial.clear();
        }
        // Whole chunks straight from the caller's slice.
        while data.len() >= CHUNK_SIZE {
            let (chunk, rest) = data.split_at(CHUNK_SIZE);
            self.leaf(chunk, sink)?;
            data = rest;
        }
        if !data.is_empty() {
            if self.partial.capacity() == 0 {
                self.partial.reserve_exact(CHUNK_SIZE);
            }
            self.partial.extend_from_slice(data);
        }
        Ok(())
    }

    /// Ends the file: makes the last leaf and the inner nodes up to the root.
    pub fn finish(mut self, sink: &mut impl BlockSink) -> Result<Added> {
        if !self.partial.is_empty() || !self.any_leaf {
            let chunk = std::mem::take(&mut self.partial);
            self.leaf(&chunk, sink)?;
        }
        let mut level = 0;
        loop {
            let top = self.levels.len() - 1;
            if level == top && self.levels[level].len() == 1 {
                let root = self.levels[level][0];
                return Ok(Added { cid: root.cid, size: root.filesize, tsize: root.tsize });
            }
            let links = std::mem::take(&mut self.levels[level]);
            let node = self.inner(&links, sink)?;
            self.push(level + 1, node, sink)?;
            level += 1;
        }
    }

    fn leaf(&mut self, chunk: &[u8], sink: &mut impl BlockSink) -> Result<()> {
        self.any_leaf = true;
        let len = chunk.len() as u64;
        let pending = if self.options.raw_leaves {
            let cid = Cid::of_block(Version::V1, Codec::Raw, chunk);
            sink.put_block(&cid, &[chunk])?;
            Pending { cid, tsize: len, filesize: len }
        } else {
            // PBNode { Data: UnixFS { Type: File, Data: chunk, filesize: len } }, hashed in three parts.
            let mut trailer = Vec::with_capacity(11);
            trailer.push(0x18);
            put_varint(&mut trailer, len);
            let mut inner_head = vec![0x08, 0x02];
            if !chunk.is_empty() {
                inner_head.push(0x12);
                put_varint(&mut inner_head, len);
            }
            let unixfs_len = (inner_head.len() + chunk.len() + trailer.len()) as u64;
            let mut head = Vec::with_capacity(16);
            head.push(0x0a);
            put_varint(&mut head, unixfs_len);
            head.extend_from_slice(&inner_head);
            let mut hasher = Sha256::new();
            hasher.update(&head);
            hasher.update(chunk);
            hasher.update(&trailer);
            let cid = Cid::new(self.options.cid_version, Codec::DagPb, hasher.finalize().into())?;
            sink.put_block(&cid, &[&head, chunk, &trailer])?;
            Pending { cid, tsize: (head.len() + chunk.len() + trailer.len()) as u64, filesize: len }
        };
        self.push(0, pending, sink)
    }

    /// Adds a link to a level, first turning the level into a node of the level above if it is full.
    fn push(&mut self, level: usize, pending: Pending, sink: &mut impl BlockSink) -> Result<()> {
        if self.levels.len() <= level {
            self.levels.push(Vec::with_capacity(MAX_LINKS));
        }
        if self.levels[level].len() == MAX_LINKS {
            let links = std::mem::replace(&mut self.levels[level], Vec::with_capacity(MAX_LINKS));
            let node = self.inner(&links, sink)?;
            self.push(level + 1, node, sink)?;
        }
        self.levels[level].push(pending);
        Ok(())
    }

    fn inner(&self, children: &[Pending], sink: &mut impl BlockSink) -> Result<Pending> {
        let links: Vec<(Cid, u64)> = children.iter().map(|c| (c.cid, c.tsize)).collect();
        let blocksizes: Vec<u64> = children.iter().map(|c| c.filesize).collect();
        let filesize = blocksizes.iter().sum();
        let block = unixfs::encode_file(&links, b"", filesize, &blocksizes);
        let cid = Cid::of_block(self.options.cid_version, Codec::DagPb, &block);
        sink.put_block(&cid, &[&block])?;
        let tsize = block.len() as u64 + children.iter().map(|c| c.tsize).sum::<u64>();
        Ok(Pending { cid, tsize, filesize })
    }
}

/// Imports everything `reader` yields, reading one chunk at a time.
pub fn import_reader(mut reader: impl Read, options: &AddOptions, sink: &mut impl BlockSink) -> Result<Added> {
    let mut importer = Importer::new(*options);
    let mut buffer = vec![0u8; CHUNK_SIZE];
    loop {
        // Fill a whole chunk (as Kubo's splitter does with io.ReadFull), so short reads change nothing.
        let mut filled = 0;
        while filled < CHUNK_SIZE {
            match reader.read(&mut buffer[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(crate::Error::io("reading the file to add", e)),
            }
        }
        importer.write(&buffer[..filled], sink)?;
        if filled < CHUNK_SIZE {
            return importer.finish(sink);
        }
    }
}

/// The CID `ipfs add --only-hash` gives `content`.
pub fn cid_of(content: &[u8], options: &AddOptions) -> Cid {
    let mut importer = Importer::new(*options);
    // HashOnly never fails, and CIDs of the options' versions are always valid.
    match importer.write(content, &mut HashOnly).and_then(|()| importer.finish(&mut HashOnly)) {
        Ok(added) => added.cid,
        Err(_) => unreachable_cid(),
    }
}

#[cold]
fn unreachable_cid() -> Cid {
    Cid::of_block(Version::V1, Codec::Raw, b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_match_kubo() {
        // `printf 'hello world\n' | ipfs add -Q` and `… --cid-version=1 -Q` (Kubo; TOOLCHAIN.md).
        assert_eq!(
            cid_of(b"hello world\n", &AddOptions::V0).to_string(),
            "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
        );
        assert_eq!(
            cid_of(b"hello world\n", &AddOptions::V1).to_string(),
            "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
        );
        assert_eq!(cid_of(b"", &AddOptions::V0).to_string(), "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
        assert_eq!(
            cid_of(b"", &AddOptions::V1).to_string(),
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        );
    }

    #[test]
    fn push_sizes_do_not_change_the_dag() {
        let content: Vec<u8> = (0..3 * CHUNK_SIZE + 17).map(|i| (i * 7 + i / 1000) as u8).collect();
        for options in [AddOptions::V0, AddOptions::V1] {
            let whole = cid_of(&content, &options);
            let mut importer = Importer::new(options);
            for piece in content.chunks(100_003) {
                importer.write(piece, &mut HashOnly).expect("hash only");
            }
            assert_eq!(importer.finish(&mut HashOnly).expect("hash only").cid, whole);
            let read = import_reader(&content[..], &options, &mut HashOnly).expect("hash only");
            assert_eq!(read.cid, whole);
            assert_eq!(read.size, content.len() as u64);
        }
    }

    #[test]
    fn tree_shape_is_balanced() {
        // Count the links of each inner node for 174 and 175 leaves (tiny chunks are not possible, so use
        // the real chunk size with zero bytes; hashing 44 MiB is fast).
        for (leaves, root_links) in [(1usize, 0usize), (174, 174), (175, 2)] {
            let content = vec![0u8; leaves * CHUNK_SIZE];
            let mut blocks: Vec<(Cid, Vec<u8>)> = Vec::new();
            let added = import_reader(&content[..], &AddOptions::V1, &mut blocks).expect("in memory");
            let root = blocks.iter().find(|(cid, _)| *cid == added.cid).expect("root stored");
            let links = if root_links == 0 {
                assert_eq!(added.cid.codec(), Codec::Raw);
                0
            } else {
                unixfs::decode(&added.cid, &root.1).expect("dag-pb").links.len()
            };
            assert_eq!(links, root_links, "{leaves} leaves");
            assert_eq!(added.size, content.len() as u64);
        }
    }
}
