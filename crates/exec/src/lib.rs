#![doc = include_str!("../README.md")]

mod canonical;
mod quickjs;
mod sandbox;
mod wire;
mod zygote;

use std::{pin::Pin, sync::Arc, time::Duration};

use sha2::{Digest, Sha256};

pub use self::{
    canonical::{CanonicalError, canonical_json, canonicalize},
    quickjs::{quickjs_version, sandbox_main},
    sandbox::{Sandbox, find_sandbox_binary},
};

/// Errors of this crate: the outcomes of a job that did not produce an output, and the failures of the
/// sandbox around it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The job threw, failed through its callback or promise, had no `jsJobRun`, never settled, returned a
    /// value with no output form, or its code names `import` (checked before it runs: jobs cannot load
    /// modules). Deterministic: every run of the job fails the same way.
    #[error("the job failed: {0}")]
    JobError(String),
    /// The job ran past its wall-time limit and was stopped.
    #[error("the job ran longer than {0:?} and was stopped")]
    Timeout(Duration),
    /// The job used more memory than its limit.
    #[error("the job used more than its {0} MiB of memory")]
    OutOfMemory(u32),
    /// The job's output is over the size limit.
    #[error("the job's output is over {0} bytes")]
    OutputTooLarge(usize),
    /// The job's code, input or options are over their size limit; the job was not run.
    #[error("the job's {what} is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// "code", "input" or "options".
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The job's code or options are not UTF-8 text; the job was not run.
    #[error("the job cannot run: {0}")]
    BadJob(String),
    /// The engine process died or answered outside the protocol (a crash, a signal, a bug in an engine).
    #[error("the engine {engine} crashed: {detail}")]
    EngineCrash {
        /// The engine id.
        engine: String,
        /// What was seen: exit status and the end of stderr.
        detail: String,
    },
    /// The job names an engine build this worker does not run.
    #[error("this worker does not run engine {wanted:?} (it runs {available})")]
    UnknownEngine {
        /// The engine id the job names.
        wanted: String,
        /// The ids this worker runs, comma-separated.
        available: String,
    },
    /// An engine process could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The engine binary did not report a version this crate understands.
    #[error("{0} did not report its version")]
    Version(String),
    /// The QuickJS sandbox binary is not where it should be.
    #[error(
        "cannot find the jsjob-sandbox binary (tried {tried}): build it with `cargo build -p jsjob-exec` or set JSJOB_SANDBOX"
    )]
    NoSandboxBinary {
        /// The paths tried.
        tried: String,
    },
    /// Talking to the engine's process failed.
    #[error("talking to {engine}: {source}")]
    Io {
        /// The engine id.
        engine: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Whether this is an outcome of the job itself (the same on every honest run with the same limits),
    /// as opposed to a failure of this machine's sandbox or a refusal to run the job.
    pub fn is_job_outcome(&self) -> bool {
        matches!(self, Self::JobError(_) | Self::Timeout(_) | Self::OutOfMemory(_) | Self::OutputTooLarge(_))
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The seed of a job's `Math.random` and `crypto.getRandomValues`: SHA-256 over the job id and the input
/// CID, so every runner of a job draws the same numbers and two jobs draw different ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Seed(pub [u8; 32]);

impl Seed {
    /// The seed of the job `job_id` (e.g. its 32-byte id on chain) with the input `input_cid` (the CID's
    /// bytes). Both are length-prefixed, so no two pairs give the same hash input.
    pub fn derive(job_id: &[u8], input_cid: &[u8]) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"jsjob seed v1");
        for part in [job_id, input_cid] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Self(hash.finalize().into())
    }
}

/// A job as an engine runs it.
#[derive(Clone, Copy, Debug)]
pub struct JobInput<'a> {
    /// The JavaScript code (UTF-8), defining `jsJobRun(input, options, callback)`.
    pub code: &'a [u8],
    /// The input file: the job gets it parsed when it is JSON, as a string when it is other UTF-8 text,
    /// and as a `Uint8Array` otherwise.
    pub input: &'a [u8],
    /// The job's options from its spec (UTF-8; parsed when JSON), or `None` (the job gets `null`).
    pub options: Option<&'a [u8]>,
    /// The seed of the job's randomness.
    pub seed: Seed,
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The job's output bytes.
    pub bytes: Vec<u8>,
    /// Wall-clock time from handing the job to the engine process to its answer.
    pub elapsed: Duration,
    /// The deterministic work count of engines that meter it (QuickJS: interrupt-handler calls, one per
    /// about 10 000 function calls and loop iterations); `None` for V8.
    pub fuel: Option<u64>,
}

/// Limits on one run. The defaults are the published ones; a worker may lower them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time, from handing the job to the engine process.
    pub time: Duration,
    /// Memory of the JavaScript heap (V8's old space; all of QuickJS's allocations), in MiB.
    pub memory_mib: u32,
    /// Output bytes.
    pub output: usize,
    /// Code bytes.
    pub code: usize,
    /// Input bytes (options count against it too).
    pub input: usize,
}

impl Limits {
    /// The published defaults: 60 s, 512 MiB, 16 MiB of output, 1 MiB of code, 64 MiB of input.
    pub const DEFAULT: Self =
        Self { time: Duration::from_secs(60), memory_mib: 512, output: 16 << 20, code: 1 << 20, input: 64 << 20 };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A JavaScript engine that runs jobs.
pub trait Engine {
    /// The engine build's id, as jobs name it (at most 32 ASCII bytes), e.g. `v8/deno-2.9.6`.
    fn id(&self) -> &str;

    /// The id as a job spec holds it on chain: ASCII, right-padded with zero bytes.
    fn engine_word(&self) -> [u8; 32] {
        engine_word(self.id())
    }

    /// Runs a job to its output, or to the outcome that stopped it.
    fn run(&self, job: JobInput<'_>) -> impl Future<Output = Result<Output>> + Send;
}

/// An engine id as a 32-byte word: ASCII, right-padded with zeros (ids longer than 32 bytes are cut).
pub fn engine_word(id: &str) -> [u8; 32] {
    let mut word = [0u8; 32];
    let len = id.len().min(32);
    word[..len].copy_from_slice(&id.as_bytes()[..len]);
    word
}

/// The engine id in a 32-byte word (the inverse of [`engine_word`]), or `None` when it is not ASCII
/// followed by zero padding.
pub fn engine_id_of_word(word: &[u8; 32]) -> Option<&str> {
    let len = word.iter().position(|&b| b == 0).unwrap_or(32);
    if word[len..].iter().any(|&b| b != 0) || !word[..len].is_ascii() {
        return None;
    }
    std::str::from_utf8(&word[..len]).ok()
}

/// A boxed future, so that [`Runner`] is object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An [`Engine`] as a trait object, so that one [`Engines`] holds engines of different types (and a test
/// its stand-ins). Every `Engine` that is `Send + Sync` is one.
pub trait Runner: Send + Sync {
    /// The engine build's id, such as `v8/deno-2.9.6`.
    fn id(&self) -> &str;

    /// Runs a job to its output, or to the outcome that stopped it.
    fn run<'a>(&'a self, job: JobInput<'a>) -> BoxFuture<'a, Result<Output>>;
}

impl<E: Engine + Send + Sync> Runner for E {
    fn id(&self) -> &str {
        Engine::id(self)
    }

    fn run<'a>(&'a self, job: JobInput<'a>) -> BoxFuture<'a, Result<Output>> {
        Box::pin(Engine::run(self, job))
    }
}

impl std::fmt::Debug for dyn Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.id())
    }
}

/// The engine builds a worker runs, found by the id or the 32-byte word jobs name them with; it refuses
/// jobs for any other build. Cloning shares the engines (and their warm pools).
#[derive(Clone, Default)]
pub struct Engines(Vec<Arc<dyn Runner>>);

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

impl Engines {
    /// Adds an engine.
    pub fn with(mut self, engine: Arc<dyn Runner>) -> Self {
        self.0.push(engine);
        self
    }

    /// Keeps only the engines whose ids are in `ids` (all when `ids` is empty).
    pub fn only(self, ids: &[String]) -> Self {
        if ids.is_empty() {
            return self;
        }
        Self(self.0.into_iter().filter(|engine| ids.iter().any(|id| id == engine.id())).collect())
    }

    /// The engine a job's 32-byte engine word names, if this set runs it.
    pub fn find(&self, word: impl Into<[u8; 32]>) -> Option<&Arc<dyn Runner>> {
        let word = word.into();
        self.0.iter().find(|engine| engine_word(engine.id()) == word)
    }

    /// The engine whose id is exactly `id`, or [`Error::UnknownEngine`].
    pub fn engine_for(&self, id: &str) -> Result<&Arc<dyn Runner>> {
        self.find(engine_word(id)).filter(|engine| engine.id() == id).ok_or_else(|| self.unknown(id.to_owned()))
    }

    /// The engine a job's 32-byte engine word names, or [`Error::UnknownEngine`].
    pub fn engine_for_word(&self, word: &[u8; 32]) -> Result<&Arc<dyn Runner>> {
        self.find(*word).ok_or_else(|| {
            self.unknown(engine_id_of_word(word).map_or_else(
                || format!("0x{}", word.iter().map(|b| format!("{b:02x}")).collect::<String>()),
                str::to_owned,
            ))
        })
    }

    /// The engines' ids.
    pub fn ids(&self) -> Vec<&str> {
        self.0.iter().map(|engine| engine.id()).collect()
    }

    fn unknown(&self, wanted: String) -> Error {
        Error::UnknownEngine { wanted, available: self.ids().join(", ") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_words_round_trip_and_reject_junk() {
        let word = engine_word("v8/deno-2.9.6");
        assert_eq!(engine_id_of_word(&word), Some("v8/deno-2.9.6"));
        let mut junk = word;
        junk[31] = 1;
        assert_eq!(engine_id_of_word(&junk), None);
    }

    #[test]
    fn seeds_depend_on_both_parts_and_their_split() {
        let a = Seed::derive(b"job", b"cid");
        assert_eq!(a, Seed::derive(b"job", b"cid"));
        assert_ne!(a, Seed::derive(b"job", b"cie"));
        assert_ne!(a, Seed::derive(b"jo", b"bcid"));
    }
}
