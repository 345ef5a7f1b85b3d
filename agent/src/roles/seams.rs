//! The seams the roles run through, so that content stores and engines can be swapped without touching
//! the roles:
//!
//! - content: any [`crate::store::Store`] (the on-disk store shared by the agents of one machine, a Kubo
//!   node, or a trustless gateway), every read verified against its CID;
//! - [`Runner`]: run a job in the engine build it names. Implemented for every [`crate::exec::Engine`];
//!   [`Engines`] picks one by the job's `engine` word.

use std::{future::Future, pin::Pin, sync::Arc};

use alloy::primitives::B256;

use crate::exec::{self, Engine, JobInput, Output};

/// A boxed future, so that the seams are object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An engine build that runs jobs.
pub trait Runner: Send + Sync {
    /// Its id, such as `v8/deno-2.9.6`.
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
    B256::from(exec::engine_word(id))
}

/// An engine word shown as text (its ASCII id up to the padding, as the executor reads it), for messages.
pub fn engine_name(word: B256) -> String {
    exec::engine_id_of_word(&word.0).map_or_else(|| word.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_words_round_trip_to_names() {
        assert_eq!(engine_name(engine_word("v8/deno-2.9.6")), "v8/deno-2.9.6");
        assert_eq!(engine_name(B256::repeat_byte(0xff)), B256::repeat_byte(0xff).to_string());
    }
}
