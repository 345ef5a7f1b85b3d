//! Where jobs' code, inputs and outputs are kept, by CID: the content store crate ([`jsjob_store`]).
//!
//! [`Store`] is the seam the roles use (add bytes → CID, get a CID's file verified, has, pin); it is
//! implemented by the in-memory [`MemoryStore`], the on-disk [`DiskStore`], and the clients of a Kubo
//! node ([`KuboClient`]) and of a trustless gateway ([`GatewayClient`]). Every read is verified against its
//! CID, so a store can lose data but not forge it.

pub use jsjob_store::{
    AddOptions, ClientOptions, DiskStore, Error, GatewayClient, KuboClient, LocalStore, MemoryStore, Result, Store,
    cid_of,
};
