//! Reading a file back from its DAG, from any [`BlockSource`], verifying every block on the way.
//!
//! The walk is depth-first in link order (file order) with an explicit stack, so memory is bounded by
//! depth × links per node, never by the file's size. Each block is checked against its CID before it is
//! decoded, and the sizes must add up: a node's own bytes plus its `blocksizes` equal its `filesize`, and
//! each child's size equals the parent's `blocksizes` entry for it. A DAG that lies about its size is
//! caught at the first node that does not add up, and the file's size is known from the root, so the
//! size limit is checked before anything else is fetched.

use std::{future::Future, pin::Pin};

use crate::{
    Cid, Codec, Error, Result,
    unixfs::{self, NodeType},
};

/// A boxed future, `Send`, borrowing for `'a`: what the store traits' methods return, so that they can
/// be used as trait objects (`Arc<dyn Store>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where blocks come from: a blockstore, a Kubo node, a gateway.
pub trait BlockSource: Send + Sync {
    /// The bytes of the block `cid` names, as the source has them ([`Error::NotFound`] if it has none).
    /// Not yet verified: [`verified_block`] and the readers check them.
    fn fetch_block<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>>;
}

impl<T: BlockSource + ?Sized> BlockSource for &T {
    fn fetch_block<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>> {
        (**self).fetch_block(cid)
    }
}

impl<T: BlockSource + ?Sized> BlockSource for std::sync::Arc<T> {
    fn fetch_block<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>> {
        (**self).fetch_block(cid)
    }
}

/// The block `cid` names, checked against it.
pub async fn verified_block<S: BlockSource + ?Sized>(source: &S, cid: &Cid) -> Result<Vec<u8>> {
    let block = source.fetch_block(cid).await?;
    if !cid.verifies(&block) {
        return Err(Error::HashMismatch(*cid));
    }
    Ok(block)
}

/// Limits on a DAG read from elsewhere, so that a hostile root cannot make the reader work forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The deepest a link may be below the root (Kubo's layout needs 4 levels for 240 TiB).
    pub max_depth: usize,
    /// The largest file, in bytes.
    pub max_size: u64,
}

impl Default for Limits {
    /// Depth 16 and 16 GiB.
    fn default() -> Self {
        Self { max_depth: 16, max_size: 16 << 30 }
    }
}

/// One verified block of a DAG, in file order.
#[derive(Clone, Debug)]
pub struct Visited {
    /// The block's CID.
    pub cid: Cid,
    /// The block, verified.
    pub block: Vec<u8>,
    /// The file bytes this block holds itself (empty for inner nodes).
    pub data: Vec<u8>,
}

/// A walk over a file's DAG, fetching from `S` (a source, or a reference to one).
#[derive(Debug)]
pub struct DagWalker<S> {
    source: S,
    root: Cid,
    limits: Limits,
    /// Blocks still to visit, the next on top: the CID, its depth, the file bytes its parent says it holds.
    stack: Vec<(Cid, usize, Option<u64>)>,
}

impl<S: BlockSource> DagWalker<S> {
    /// A walk of the file `root` names.
    pub fn new(source: S, root: Cid, limits: Limits) -> Self {
        Self { source, root, limits, stack: vec![(root, 0, None)] }
    }

    /// The next block in file order, verified and checked; `None` at the end.
    pub async fn next_block(&mut self) -> Result<Option<Visited>> {
        let Some((cid, depth, expected)) = self.stack.pop() else { return Ok(None) };
        let block = verified_block(&self.source, &cid).await?;
        let over = |what: String| Error::OverLimit { root: self.root, what };
        let malformed = |reason: String| Error::Malformed { cid, reason };
        let (data, filesize, children) = match cid.codec() {
            Codec::Raw => (block.clone(), block.len() as u64, Vec::new()),
            Codec::DagPb => {
                let node = unixfs::decode(&cid, &block)?;
                match node.kind {
                    NodeType::File | NodeType::Raw => {}
                    NodeType::Directory => return Err(malformed("a directory, not a file".into())),
                    NodeType::Other(code) => return Err(malformed(format!("UnixFS type {code}, not a file"))),
                }
                if node.links.len() != node.blocksizes.len() {
                    return Err(malformed(format!(
                        "{} links but {} block sizes",
                        node.links.len(),
                        node.blocksizes.len()
                    )));
                }
                let sum = node.blocksizes.iter().try_fold(node.data.len() as u64, |a, &b| a.checked_add(b));
                if sum != Some(node.filesize) {
                    return Err(malformed(format!("its sizes do not add up to its filesize {}", node.filesize)));
                }
                let children: Vec<_> = node.links.iter().map(|l| l.cid).zip(node.blocksizes.iter().copied()).collect();
                (node.data, node.filesize, children)
            }
        };
        match expected {
            None if filesize > self.limits.max_size => {
                return Err(over(format!("a file of {filesize} bytes, the limit is {}", self.limits.max_size)));
            }
            Some(size) if size != filesize => {
                return Err(malformed(format!("it holds {filesize} file bytes, its parent says {size}")));
            }
            _ => {}
        }
        if !children.is_empty() && depth + 1 > self.limits.max_depth {
            return Err(over(format!("deeper than {} levels", self.limits.max_depth)));
        }
        self.stack.extend(children.into_iter().rev().map(|(child, size)| (child, depth + 1, Some(size))));
        Ok(Some(Visited { cid, block, data }))
    }

    /// The next non-empty piece of the file; `None` at the end.
    pub async fn next_data(&mut self) -> Result<Option<Vec<u8>>> {
        while let Some(visited) = self.next_block().await? {
            if !visited.data.is_empty() {
                return Ok(Some(visited.data));
            }
        }
        Ok(None)
    }
}

/// The whole file `root` names, every block verified.
pub async fn read_file<S: BlockSource + ?Sized>(source: &S, root: &Cid, limits: Limits) -> Result<Vec<u8>> {
    let mut walker = DagWalker::new(source, *root, limits);
    let mut content = Vec::new();
    while let Some(data) = walker.next_data().await? {
        content.extend_from_slice(&data);
    }
    Ok(content)
}
