//! The two seams the roles run through, kept narrow so that the content store and the executor can be
//! swapped without touching the roles:
//!
//! - [`Content`]: put and get bytes by CID, every read verified. Implemented over today's
//!   [`crate::store::Store`] trait ([`Shared`]) and by [`DirStore`].
//! - [`Runner`]: run a job in the engine build it names. Implemented for every [`crate::exec::Engine`];
//!   [`Engines`] picks one by the job's `engine` word.
//!
//! [`DirStore`] is a **stopgap**: a directory with one file per CID, so that separate agent processes on
//! one machine share content before the content-store crate (blockstore, gateway, Kubo client) lands. It
//! verifies every read against the CID, like any store.

use std::{
    future::Future,
    path::{Path, PathBuf},
    pin::Pin,
    sync::Arc,
};

use alloy::primitives::B256;

use crate::{
    cid::Cid,
    exec::{self, Engine, JobInput, Output},
    store::{self, Store},
};

/// A boxed future, so that the seams are object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Errors of the content seam.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Nobody serves the content.
    #[error("{0} is not in the store (nobody serves it)")]
    NotFound(Cid),
    /// The bytes read are not what the CID names.
    #[error("the store returned content that does not match {0}")]
    Corrupt(Cid),
    /// The content cannot be named by a CID this agent supports.
    #[error(transparent)]
    Cid(#[from] crate::cid::Error),
    /// Reading or writing failed.
    #[error("content store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl From<store::Error> for ContentError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::Cid(error) => Self::Cid(error),
            store::Error::NotFound(cid) => Self::NotFound(cid),
            store::Error::Corrupt(cid) => Self::Corrupt(cid),
        }
    }
}

/// Content by CID.
pub trait Content: Send + Sync {
    /// Stores `bytes`; returns their CID.
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<Cid, ContentError>>;

    /// The bytes `cid` names, verified against it.
    fn get<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>, ContentError>>;
}

/// Any [`Store`] as [`Content`].
#[derive(Debug, Default)]
pub struct Shared<S>(pub S);

impl<S: Store + Send + Sync> Content for Shared<S> {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<Cid, ContentError>> {
        Box::pin(async move { Ok(self.0.put(bytes)?) })
    }

    fn get<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>, ContentError>> {
        Box::pin(async move { Ok(self.0.get(cid)?) })
    }
}

/// Stopgap: content in a directory, one file per CID (named by its text form).
#[derive(Clone, Debug)]
pub struct DirStore {
    dir: PathBuf,
}

impl DirStore {
    /// A store in `dir` (created on the first write).
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_owned() }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ContentError + '_ {
        move |source| ContentError::Io { path: path.to_owned(), source }
    }
}

impl Content for DirStore {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<Cid, ContentError>> {
        Box::pin(async move {
            let cid = Cid::raw_leaf(bytes)?;
            tokio::fs::create_dir_all(&self.dir).await.map_err(Self::io(&self.dir))?;
            let path = self.dir.join(cid.to_string());
            // Write then rename: a reader never sees half a file.
            let partial = self.dir.join(format!(".{cid}.{}", std::process::id()));
            tokio::fs::write(&partial, bytes).await.map_err(Self::io(&partial))?;
            tokio::fs::rename(&partial, &path).await.map_err(Self::io(&path))?;
            Ok(cid)
        })
    }

    fn get<'a>(&'a self, cid: &'a Cid) -> BoxFuture<'a, Result<Vec<u8>, ContentError>> {
        Box::pin(async move {
            let path = self.dir.join(cid.to_string());
            let bytes = match tokio::fs::read(&path).await {
                Ok(bytes) => bytes,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    return Err(ContentError::NotFound(cid.clone()));
                }
                Err(error) => return Err(Self::io(&path)(error)),
            };
            if !cid.verifies(&bytes) {
                return Err(ContentError::Corrupt(cid.clone()));
            }
            Ok(bytes)
        })
    }
}

/// An engine build that runs jobs.
pub trait Runner: Send + Sync {
    /// Its id, such as `deno/2.9.6`.
    fn id(&self) -> &str;

    /// Runs a job to its output.
    fn run<'a>(&'a self, job: JobInput<'a>) -> BoxFuture<'a, exec::Result<Output>>;
}

impl<E: Engine + Send + Sync> Runner for E {
    fn id(&self) -> &str {
        Engine::id(self)
    }

    fn run<'a>(&'a self, job: JobInput<'a>) -> BoxFuture<'a, exec::Result<Output>> {
        Box::pin(Engine::run(self, job))
    }
}

/// The engine builds an agent runs, found by the word jobs name them with.
#[derive(Clone, Default)]
pub struct Engines(Vec<Arc<dyn Runner>>);

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|runner| runner.id())).finish()
    }
}

impl Engines {
    /// Adds an engine.
    pub fn with(mut self, runner: Arc<dyn Runner>) -> Self {
        self.0.push(runner);
        self
    }

    /// Keeps only the engines whose ids are in `ids` (all when `ids` is empty).
    pub fn only(self, ids: &[String]) -> Self {
        if ids.is_empty() {
            return self;
        }
        Self(self.0.into_iter().filter(|runner| ids.iter().any(|id| id == runner.id())).collect())
    }

    /// The engine a job's `engine` word names.
    pub fn find(&self, word: B256) -> Option<&Arc<dyn Runner>> {
        self.0.iter().find(|runner| engine_word(runner.id()) == word)
    }

    /// The ids, for messages.
    pub fn ids(&self) -> Vec<&str> {
        self.0.iter().map(|runner| runner.id()).collect()
    }
}

/// An engine id as `JobSpec.engine` holds it: ASCII, right-padded with zero bytes.
pub fn engine_word(id: &str) -> B256 {
    B256::right_padding_from(id.as_bytes())
}

/// An engine word shown as text (its ASCII up to the padding), for messages.
pub fn engine_name(word: B256) -> String {
    let end = word.iter().position(|&b| b == 0).unwrap_or(32);
    match std::str::from_utf8(&word[..end]) {
        Ok(text) if text.bytes().all(|b| b.is_ascii_graphic()) => text.to_owned(),
        _ => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dir_store_round_trips_and_refuses_tampered_content() {
        let dir = std::env::temp_dir().join(format!("jsjob-dirstore-{}", std::process::id()));
        let store = DirStore::new(&dir);
        let cid = store.put(b"hello world\n").await.expect("put");
        assert_eq!(cid.to_string(), "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4");
        assert_eq!(store.get(&cid).await.expect("get"), b"hello world\n");
        std::fs::write(dir.join(cid.to_string()), b"hello w0rld\n").expect("tamper");
        assert!(matches!(store.get(&cid).await, Err(ContentError::Corrupt(_))));
        let missing = Cid::raw_leaf(b"nobody has this").expect("small");
        assert!(matches!(store.get(&missing).await, Err(ContentError::NotFound(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn engine_words_round_trip_to_names() {
        assert_eq!(engine_name(engine_word("deno/2.9.6")), "deno/2.9.6");
        assert_eq!(engine_name(B256::repeat_byte(0xff)), B256::repeat_byte(0xff).to_string());
    }
}
