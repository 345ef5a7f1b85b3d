#![doc = include_str!("../README.md")]

pub mod blockstore;
pub mod car;
pub mod cid;
pub mod cli;
pub mod client;
mod error;
pub mod http;
pub mod importer;
pub mod reader;
pub mod store;
pub mod unixfs;

pub use blockstore::{Blockstore, DiskBlockstore, MemoryBlockstore};
pub use cid::{Cid, Codec, Version};
pub use client::{ClientOptions, GatewayClient, KuboClient};
pub use error::{Error, Result};
pub use importer::{AddOptions, Added, BlockSink, CHUNK_SIZE, HashOnly, Importer, MAX_LINKS, cid_of, import_reader};
pub use reader::{BlockSource, BoxFuture, DagWalker, Limits, read_file, verified_block};
pub use store::{DiskStore, LocalStore, MemoryStore, Store};
