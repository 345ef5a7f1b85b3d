//! The seam the agent's roles use: a content-addressed [`Store`] of files, and its local implementation
//! over a [`Blockstore`] (the Kubo RPC and gateway clients implement it too).

use std::{collections::HashSet, path::Path, sync::Arc};

use crate::{
    AddOptions, Added, BlockSink, Cid, Error, Result,
    blockstore::{Blockstore, DiskBlockstore, MemoryBlockstore},
    importer::{self, Importer},
    reader::{self, BlockSource, BoxFuture, DagWalker, Limits},
};

/// A content-addressed store of files. Every read is verified against its CID, so a store can lose
/// content but not forge it.
pub trait Store: Send + Sync {
    /// Adds a file; returns its CID (as `ipfs add` with `options` names it). The content is pinned.
    fn add<'a>(&'a self, content: &'a [u8], options: AddOptions) -> BoxFuture<'a, Result<Cid>>;

    /// The file a CID names, every block verified.
    fn get<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>>;

    /// Whether the store has the root block of `cid` (without fetching the file).
    fn has<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<bool>>;

    /// Pins a file (fetching it whole if need be) so that it is kept.
    fn pin<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<()>>;

    /// Adds a file in the form the agent names job contents by: CIDv1 with raw leaves
    /// (`ipfs add --cid-version=1`), which for content of one chunk is [`Cid::raw_leaf`]. Kubo's default
    /// form (CIDv0) is `add(content, AddOptions::V0)`.
    fn put<'a>(&'a self, content: &'a [u8]) -> BoxFuture<'a, Result<Cid>> {
        self.add(content, AddOptions::V1)
    }
}

/// A store of files over a local [`Blockstore`].
#[derive(Debug)]
pub struct LocalStore<B> {
    blocks: Arc<B>,
    limits: Limits,
}

/// Files in memory.
pub type MemoryStore = LocalStore<MemoryBlockstore>;
/// Files in a directory on disk.
pub type DiskStore = LocalStore<DiskBlockstore>;

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(MemoryBlockstore::default())
    }
}

impl<B> Clone for LocalStore<B> {
    fn clone(&self) -> Self {
        Self { blocks: Arc::clone(&self.blocks), limits: self.limits }
    }
}

impl DiskStore {
    /// Opens (creating if needed) the store in `dir`, with an optional cap on its size in bytes.
    pub fn open(dir: impl Into<std::path::PathBuf>, cap: Option<u64>) -> Result<Self> {
        Ok(Self::new(DiskBlockstore::open(dir, cap)?))
    }
}

/// Writes an importer's blocks into a blockstore.
struct StoreSink<'b, B>(&'b B);

impl<B: Blockstore> BlockSink for StoreSink<'_, B> {
    fn put_block(&mut self, cid: &Cid, parts: &[&[u8]]) -> Result<()> {
        self.0.put(cid, parts)
    }
}

impl<B: Blockstore> LocalStore<B> {
    /// A store over `blocks`, with the default [`Limits`] on reads.
    pub fn new(blocks: B) -> Self {
        Self { blocks: Arc::new(blocks), limits: Limits::default() }
    }

    /// The same store with other limits on the DAGs it reads.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits on reads.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The blockstore.
    pub fn blocks(&self) -> &B {
        &self.blocks
    }

    /// Imports and pins content (blocking: file system writes).
    pub fn add_blocking(&self, content: &[u8], options: AddOptions) -> Result<Added> {
        let mut importer = Importer::new(options);
        importer.write(content, &mut StoreSink(&*self.blocks))?;
        let added = importer.finish(&mut StoreSink(&*self.blocks))?;
        self.blocks.pin(&added.cid)?;
        Ok(added)
    }

    /// Imports and pins a file from disk, streaming it (blocking).
    pub fn add_path(&self, path: &Path, options: AddOptions) -> Result<Added> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let added = importer::import_reader(file, &options, &mut StoreSink(&*self.blocks))?;
        self.blocks.pin(&added.cid)?;
        Ok(added)
    }

    /// Stores one block after checking it against its CID ([`Error::HashMismatch`] otherwise).
    pub fn put_block(&self, cid: &Cid, block: &[u8]) -> Result<()> {
        if !cid.verifies(block) {
            return Err(Error::HashMismatch(*cid));
        }
        self.blocks.put(cid, &[block])
    }

    /// The file's DAG as a CARv1 (depth-first, each block once), every block verified.
    pub async fn export_car(&self, cid: &Cid) -> Result<Vec<u8>> {
        let mut car = crate::car::header(cid);
        let mut seen = HashSet::new();
        let mut walker = DagWalker::new(self, *cid, self.limits);
        while let Some(visited) = walker.next_block().await? {
            if seen.insert(visited.cid.digest()) {
                car.extend_from_slice(&crate::car::section(&visited.cid, &visited.block));
            }
        }
        Ok(car)
    }

    /// Stores the blocks of a CARv1, each checked against its CID first (a block that does not verify
    /// stops the import, and it and the blocks after it are not stored), then pins the roots whose DAGs
    /// are complete here. Returns the roots.
    pub async fn import_car(&self, car: &[u8]) -> Result<Vec<Cid>> {
        let mut reader = crate::car::CarReader::new(car)?;
        while let Some((cid, block)) = reader.next_block()? {
            self.blocks.put(&cid, &[block])?;
        }
        let roots = reader.roots().to_vec();
        for root in &roots {
            self.pin_local(root).await?;
        }
        Ok(roots)
    }

    /// Pins a file whose every block is here (checked by reading the whole DAG).
    pub async fn pin_local(&self, cid: &Cid) -> Result<()> {
        let mut walker = DagWalker::new(self, *cid, self.limits);
        while walker.next_block().await?.is_some() {}
        self.blocks.pin(cid)
    }

    /// Unpins a file; whether it was pinned. Its blocks stay until [`LocalStore::gc`].
    pub fn unpin(&self, cid: &Cid) -> Result<bool> {
        self.blocks.unpin(cid)
    }

    /// Removes every block not reachable from a pin; returns how many were removed. On disk, it needs the
    /// store to itself (no other agent with it open).
    pub async fn gc(&self) -> Result<u64> {
        let mut keep = HashSet::new();
        for root in self.blocks.pins()? {
            let mut walker = DagWalker::new(self, root, self.limits);
            while let Some(visited) = walker.next_block().await? {
                keep.insert(visited.cid.digest());
            }
        }
        let blocks = &self.blocks;
        blocks.exclusive(&mut || {
            let mut removed = 0;
            for cid in blocks.list()? {
                if !keep.contains(&cid.digest()) {
                    blocks.remove(&cid)?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
    }
}

impl<B: Blockstore> BlockSource for LocalStore<B> {
    fn fetch_block<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(async move { self.blocks.get(cid)?.ok_or(Error::NotFound(*cid)) })
    }
}

impl<B: Blockstore> Store for LocalStore<B> {
    fn add<'a>(&'a self, content: &'a [u8], options: AddOptions) -> BoxFuture<'a, Result<Cid>> {
        Box::pin(async move { Ok(self.add_blocking(content, options)?.cid) })
    }

    fn get<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(reader::read_file(self, cid, self.limits))
    }

    fn has<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move { self.blocks.has(cid) })
    }

    fn pin<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.pin_local(cid))
    }
}
