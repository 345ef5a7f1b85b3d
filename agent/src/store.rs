//! Where jobs' code, inputs and outputs are kept, by CID.
//!
//! For now an in-memory store that the demo's roles share, standing in for IPFS; the content store
//! (Kubo-identical CIDs on disk, an HTTP gateway face, clients for Kubo and gateways) comes next behind
//! the same trait. Every read is verified against its CID, so a store can lose data but not forge it.

use std::{collections::HashMap, sync::Mutex};

use crate::cid::{self, Cid};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The content cannot be named by a CID this store supports.
    #[error(transparent)]
    Cid(#[from] cid::Error),
    /// The store does not have the content.
    #[error("{0} is not in the store")]
    NotFound(Cid),
    /// The store returned bytes that are not what the CID names.
    #[error("the store returned content that does not match {0}")]
    Corrupt(Cid),
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A content-addressed store.
pub trait Store {
    /// Adds content; returns its CID.
    fn put(&self, content: &[u8]) -> Result<Cid>;

    /// The content a CID names, verified.
    fn get(&self, cid: &Cid) -> Result<Vec<u8>>;
}

/// A store in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    blocks: Mutex<HashMap<Cid, Vec<u8>>>,
}

impl Store for MemoryStore {
    fn put(&self, content: &[u8]) -> Result<Cid> {
        let cid = Cid::raw_leaf(content)?;
        let mut blocks = self.blocks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        blocks.entry(cid.clone()).or_insert_with(|| content.to_vec());
        Ok(cid)
    }

    fn get(&self, cid: &Cid) -> Result<Vec<u8>> {
        let blocks = self.blocks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let content = blocks.get(cid).ok_or_else(|| Error::NotFound(cid.clone()))?;
        if !cid.verifies(content) {
            return Err(Error::Corrupt(cid.clone()));
        }
        Ok(content.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_by_cid() {
        let store = MemoryStore::default();
        let cid = store.put(b"hello world\n").expect("small content");
        assert_eq!(cid.to_string(), "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4");
        assert_eq!(store.get(&cid).expect("stored"), b"hello world\n");
        let other = Cid::raw_leaf(b"other").expect("small content");
        assert!(matches!(store.get(&other), Err(Error::NotFound(_))));
    }
}
