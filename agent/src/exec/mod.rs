//! Running a job's JavaScript: engines behind one interface ([`Engine`]).
//!
//! A job names the engine build that must run it (`JobSpec.engine`), because results are only comparable
//! between identical builds (`Math.*` and number formatting differ across engines and versions). For now
//! there is one engine, V8 through a pinned Deno binary in a zero-permission child process ([`Deno`]).

mod deno;

use std::time::Duration;

use alloy::primitives::B256;

pub use self::deno::Deno;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine's process could not be started.
    #[error("cannot start {engine}: {source}")]
    Spawn {
        /// The engine.
        engine: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The engine binary did not report a version this module understands.
    #[error("{0} did not report its version")]
    Version(String),
    /// Reading from or writing to the engine's process failed.
    #[error("talking to {engine}: {source}")]
    Io {
        /// The engine.
        engine: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The job's code or input is not UTF-8 text.
    #[error("the job's {0} is not UTF-8 text")]
    NotText(&'static str),
    /// The job ran past its time limit and was killed.
    #[error("the job ran longer than {0:?} and was killed")]
    Timeout(Duration),
    /// The job's output is over the size limit.
    #[error("the job's output is over {0} bytes")]
    OutputTooLarge(usize),
    /// The job threw, or the engine failed.
    #[error("the job failed ({status}): {stderr}")]
    Failed {
        /// The process's exit status.
        status: String,
        /// The end of its stderr (the job's error and anything it printed).
        stderr: String,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A job as an engine runs it.
#[derive(Clone, Copy, Debug)]
pub struct JobInput<'a> {
    /// The JavaScript code (UTF-8), defining `jsJobRun(input, options, callback)`.
    pub code: &'a [u8],
    /// The input file (UTF-8), passed as a string.
    pub input: &'a [u8],
    /// Inline options (UTF-8), if any.
    pub options: Option<&'a [u8]>,
    /// Seed of `Math.random` and `crypto.getRandomValues`, the same for every run of the job.
    pub seed: u64,
}

impl JobInput<'_> {
    /// The seed every runner of a job uses: the first 8 bytes of its `specHash`, so that a job that calls
    /// `Math.random` still has one right output.
    pub fn seed_of(spec_hash: B256) -> u64 {
        let mut first = [0u8; 8];
        first.copy_from_slice(&spec_hash[..8]);
        u64::from_be_bytes(first)
    }
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The job's output bytes.
    pub bytes: Vec<u8>,
    /// Wall-clock time of the run, engine start included.
    pub elapsed: Duration,
}

/// Limits on one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time, engine start included.
    pub time: Duration,
    /// Output bytes.
    pub output: usize,
    /// JavaScript heap, in MiB.
    pub heap_mib: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { time: Duration::from_secs(10), output: crate::cid::MAX_RAW_LEAF, heap_mib: 256 }
    }
}

/// A JavaScript engine that runs jobs.
pub trait Engine {
    /// The engine build's id, as jobs name it in `JobSpec.engine` (at most 32 ASCII bytes).
    fn id(&self) -> &str;

    /// Runs a job to its output.
    fn run(&self, job: JobInput<'_>) -> impl Future<Output = Result<Output>> + Send;
}
