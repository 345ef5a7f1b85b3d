//! Where blocks are kept: in memory, or in a directory on disk (the zero-set-up default).
//!
//! Blocks are keyed by their sha2-256 digest, so the CIDv0 and CIDv1 of one block share it. A
//! blockstore does not hash what it is given: every caller that received a block from outside checks it
//! first ([`Cid::verifies`]); the importer computes CIDs from the bytes it stores. Reads are verified by
//! the readers, so a damaged disk shows up as [`Error::HashMismatch`], never as wrong content.
//!
//! The disk layout, `DIR/`:
//! - `blocks/ab/abcdef…` — one file per block, named by the digest in hex, sharded by its first byte;
//! - `pins/<CIDv1>` — one empty file per pinned root;
//! - `tmp/` — blocks being written;
//! - `lock` — every open store holds a shared `flock` on it; `gc` needs it exclusively.
//!
//! A block is written to `tmp/`, synced, and renamed into place (the shard directories are synced before
//! the next pin is written, so a pin never outlives its blocks in a crash): a reader
//! (in this process or another agent sharing the directory) sees the whole block or none, even after a
//! `kill -9` or a power cut. Two agents writing the same block write the same bytes, so the last rename
//! wins harmlessly.

use std::{
    collections::{HashMap, HashSet},
    fs::{self, File},
    io::Write,
    path::{Path, PathBuf},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{Cid, Error, Result};

/// A block store.
pub trait Blockstore: Send + Sync + 'static {
    /// The block's bytes as stored, or `None`.
    fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>>;
    /// Whether the block is stored.
    fn has(&self, cid: &Cid) -> Result<bool>;
    /// Stores the block whose bytes are `parts` joined. `cid` must have been computed from, or checked
    /// against, these bytes.
    fn put(&self, cid: &Cid, parts: &[&[u8]]) -> Result<()>;
    /// Removes a block (by `gc`).
    fn remove(&self, cid: &Cid) -> Result<()>;
    /// Every stored block (by `gc`), as raw-codec CIDv1 of its digest.
    fn list(&self) -> Result<Vec<Cid>>;
    /// Records a pin on a root.
    fn pin(&self, root: &Cid) -> Result<()>;
    /// Removes a pin; whether there was one.
    fn unpin(&self, root: &Cid) -> Result<bool>;
    /// The pinned roots.
    fn pins(&self) -> Result<Vec<Cid>>;
    /// Runs `sweep` with every other user of the store shut out, or fails saying why it cannot.
    fn exclusive(&self, sweep: &mut dyn FnMut() -> Result<u64>) -> Result<u64>;
}

/// Blocks in memory: for tests and the single-process demo.
#[derive(Debug, Default)]
pub struct MemoryBlockstore {
    blocks: Mutex<HashMap<[u8; 32], Vec<u8>>>,
    pins: Mutex<HashSet<Cid>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Blockstore for MemoryBlockstore {
    fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        Ok(lock(&self.blocks).get(&cid.digest()).cloned())
    }

    fn has(&self, cid: &Cid) -> Result<bool> {
        Ok(lock(&self.blocks).contains_key(&cid.digest()))
    }

    fn put(&self, cid: &Cid, parts: &[&[u8]]) -> Result<()> {
        lock(&self.blocks).entry(cid.digest()).or_insert_with(|| parts.concat());
        Ok(())
    }

    fn remove(&self, cid: &Cid) -> Result<()> {
        lock(&self.blocks).remove(&cid.digest());
        Ok(())
    }

    fn list(&self) -> Result<Vec<Cid>> {
        Ok(lock(&self.blocks).keys().map(|d| raw_cid(*d)).collect())
    }

    fn pin(&self, root: &Cid) -> Result<()> {
        lock(&self.pins).insert(root.to_v1());
        Ok(())
    }

    fn unpin(&self, root: &Cid) -> Result<bool> {
        Ok(lock(&self.pins).remove(&root.to_v1()))
    }

    fn pins(&self) -> Result<Vec<Cid>> {
        Ok(lock(&self.pins).iter().copied().collect())
    }

    fn exclusive(&self, sweep: &mut dyn FnMut() -> Result<u64>) -> Result<u64> {
        // One process; the caller's store is the only user.
        sweep()
    }
}

fn raw_cid(digest: [u8; 32]) -> Cid {
    // A raw CIDv1 always exists for a digest.
    Cid::new(crate::Version::V1, crate::Codec::Raw, digest)
        .unwrap_or_else(|_| Cid::of_block(crate::Version::V1, crate::Codec::Raw, b""))
}

/// Blocks in a directory, shareable by several agents (processes) at once.
#[derive(Debug)]
pub struct DiskBlockstore {
    dir: PathBuf,
    /// The size cap in bytes of block data, if any.
    cap: Option<u64>,
    /// Bytes of block data, as last counted plus what this process added since.
    used: AtomicU64,
    /// Held shared while the store is open; `gc` upgrades it to exclusive.
    lock: File,
    /// Shard directories with renames not yet synced: synced before the next pin is written, so that a
    /// pin never survives a crash that the blocks under it did not (one sync per directory per add, not
    /// one per block).
    unsynced: Mutex<HashSet<PathBuf>>,
}

/// Names temporary files uniquely within this process (with the process id: across processes), however
/// many stores it opens on one directory.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl DiskBlockstore {
    /// Opens (creating if needed) the store in `dir`, with an optional cap on the bytes of block data.
    pub fn open(dir: impl Into<PathBuf>, cap: Option<u64>) -> Result<Self> {
        let dir = dir.into();
        for sub in ["blocks", "pins", "tmp"] {
            let path = dir.join(sub);
            fs::create_dir_all(&path).map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        }
        let lock_path = dir.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(format!("opening {}", lock_path.display()), e))?;
        lock.lock_shared().map_err(|e| Error::io(format!("locking {}", lock_path.display()), e))?;
        let store = Self { dir, cap, used: AtomicU64::new(0), lock, unsynced: Mutex::new(HashSet::new()) };
        store.used.store(store.count_used()?, Ordering::Relaxed);
        Ok(store)
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes of block data, as this process last knew them.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    fn block_path(&self, digest: &[u8; 32]) -> PathBuf {
        let hex = hex32(digest);
        self.dir.join("blocks").join(&hex[..2]).join(hex)
    }

    fn pin_path(&self, root: &Cid) -> PathBuf {
        self.dir.join("pins").join(root.to_v1().to_string())
    }

    /// Sums the sizes of every block file (other agents may have added some).
    fn count_used(&self) -> Result<u64> {
        let mut total = 0;
        for (_, path) in self.block_files()? {
            // A block removed by a concurrent gc between listing and stat is simply not counted.
            total += fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        }
        Ok(total)
    }

    fn block_files(&self) -> Result<Vec<([u8; 32], PathBuf)>> {
        let blocks = self.dir.join("blocks");
        let read = |path: &Path| fs::read_dir(path).map_err(|e| Error::io(format!("listing {}", path.display()), e));
        let mut files = Vec::new();
        for shard in read(&blocks)? {
            let shard = shard.map_err(|e| Error::io(format!("listing {}", blocks.display()), e))?.path();
            if !shard.is_dir() {
                continue;
            }
            for entry in read(&shard)? {
                let path = entry.map_err(|e| Error::io(format!("listing {}", shard.display()), e))?.path();
                if let Some(digest) = path.file_name().and_then(|n| n.to_str()).and_then(unhex32) {
                    files.push((digest, path));
                }
            }
        }
        Ok(files)
    }

    fn reserve(&self, adding: u64) -> Result<()> {
        let Some(cap) = self.cap else {
            self.used.fetch_add(adding, Ordering::Relaxed);
            return Ok(());
        };
        if self.used.load(Ordering::Relaxed) + adding > cap {
            // Another agent's gc may have freed space: count again before refusing.
            self.used.store(self.count_used()?, Ordering::Relaxed);
        }
        let used = self.used.fetch_add(adding, Ordering::Relaxed);
        if used + adding > cap {
            self.used.fetch_sub(adding, Ordering::Relaxed);
            return Err(Error::StoreFull { dir: self.dir.display().to_string(), used, adding, cap });
        }
        Ok(())
    }
}

impl Blockstore for DiskBlockstore {
    fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        let path = self.block_path(&cid.digest());
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    fn has(&self, cid: &Cid) -> Result<bool> {
        Ok(self.block_path(&cid.digest()).is_file())
    }

    fn put(&self, cid: &Cid, parts: &[&[u8]]) -> Result<()> {
        let digest = cid.digest();
        let path = self.block_path(&digest);
        if path.is_file() {
            return Ok(());
        }
        let len: u64 = parts.iter().map(|p| p.len() as u64).sum();
        self.reserve(len)?;
        let io = |what: &str, path: &Path, e| Error::io(format!("{what} {}", path.display()), e);
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join("tmp").join(format!("{}.{}.{n}", hex32(&digest), std::process::id()));
        let write = || -> Result<()> {
            let mut file = File::create(&tmp).map_err(|e| io("creating", &tmp, e))?;
            for part in parts {
                file.write_all(part).map_err(|e| io("writing", &tmp, e))?;
            }
            file.sync_data().map_err(|e| io("syncing", &tmp, e))?;
            let shard = path.parent().unwrap_or(&self.dir);
            fs::create_dir_all(shard).map_err(|e| io("creating", shard, e))?;
            fs::rename(&tmp, &path).map_err(|e| io("moving a block to", &path, e))?;
            // The rename is durable once the directory is synced: before the next pin.
            lock(&self.unsynced).insert(shard.to_owned());
            Ok(())
        };
        write().inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
            self.used.fetch_sub(len, Ordering::Relaxed);
        })
    }

    fn remove(&self, cid: &Cid) -> Result<()> {
        let path = self.block_path(&cid.digest());
        let len = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        match fs::remove_file(&path) {
            Ok(()) => {
                self.used.fetch_sub(len.min(self.used()), Ordering::Relaxed);
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("removing {}", path.display()), e)),
        }
    }

    fn list(&self) -> Result<Vec<Cid>> {
        Ok(self.block_files()?.into_iter().map(|(digest, _)| raw_cid(digest)).collect())
    }

    fn pin(&self, root: &Cid) -> Result<()> {
        let shards: Vec<PathBuf> = lock(&self.unsynced).drain().collect();
        for shard in shards {
            File::open(&shard)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::io(format!("syncing {}", shard.display()), e))?;
        }
        let path = self.pin_path(root);
        File::create(&path)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(format!("pinning at {}", path.display()), e))
    }

    fn unpin(&self, root: &Cid) -> Result<bool> {
        let path = self.pin_path(root);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(format!("unpinning {}", path.display()), e)),
        }
    }

    fn pins(&self) -> Result<Vec<Cid>> {
        let dir = self.dir.join("pins");
        let entries = fs::read_dir(&dir).map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
        let mut pins = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
            if let Some(cid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
                pins.push(cid);
            }
        }
        Ok(pins)
    }

    fn exclusive(&self, sweep: &mut dyn FnMut() -> Result<u64>) -> Result<u64> {
        // Upgrade this process's shared lock; another open store (another agent) holds its own shared lock.
        match self.lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Unsupported(format!(
                    "gc needs the store at {} to itself: another agent has it open; stop it and retry",
                    self.dir.display()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io("locking the store for gc", e)),
        }
        let swept = sweep();
        let relocked = self.lock.lock_shared().map_err(|e| Error::io("re-locking the store after gc", e));
        let freed = swept?;
        relocked?;
        self.used.store(self.count_used()?, Ordering::Relaxed);
        Ok(freed)
    }
}

fn hex32(digest: &[u8; 32]) -> String {
    crate::cid::hex(digest)[2..].to_owned()
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(digest)
}
