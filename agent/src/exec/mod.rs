//! Running a job's JavaScript: the executor crate `jsjob-exec` (engines behind one interface, sandboxes,
//! limits, canonical output), re-exported so the agent's modules name it as `crate::exec`, and `jsjob run`.

use std::path::{Path, PathBuf};

pub use jsjob_exec::*;

use crate::{
    cid::Cid,
    store::{AddOptions, cid_of},
    tools::Toolchain,
};

/// The engine kinds `jsjob run` offers; each runs the build this agent pins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// V8 through the pinned Deno.
    V8,
    /// QuickJS-ng in the `jsjob-sandbox` binary.
    QuickJs,
}

/// Errors of a local run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The pinned Deno is not installed.
    #[error(transparent)]
    Tools(#[from] crate::tools::Error),
    /// The engine could not start, or the job did not produce an output.
    #[error(transparent)]
    Exec(#[from] Error),
}

/// What a local run produced.
#[derive(Debug)]
pub struct LocalRun {
    /// The engine id.
    pub engine: String,
    /// The output.
    pub output: Output,
    /// The output's CID, as a worker's store names it when it submits (`ipfs add --cid-version=1`).
    pub cid: Cid,
}

/// Runs the job at `code` on the input file at `input` (none: empty input) with inline `options`, as a
/// worker would, under the default limits. A local run has no job id: the seed is derived from an empty
/// job id and the input's CID as the store names it.
pub async fn run_local(
    kind: EngineKind,
    code: &Path,
    input: Option<&Path>,
    options: Option<&str>,
) -> Result<LocalRun, RunError> {
    let read = |path: &Path| std::fs::read(path).map_err(|source| RunError::Read { path: path.to_owned(), source });
    let code = read(code)?;
    let input = input.map(read).transpose()?.unwrap_or_default();
    let engine = match kind {
        EngineKind::V8 => {
            let start = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("."));
            let tools = Toolchain::find(&start).or_else(|_| Toolchain::find(Path::new(".")))?;
            Sandbox::v8(&tools.deno, Limits::default()).await?
        }
        EngineKind::QuickJs => Sandbox::quickjs(&find_sandbox_binary()?, Limits::default()).await?,
    }
    .with_pool(0);
    let seed = Seed::derive(&[], cid_of(&input, &AddOptions::V1).as_bytes());
    let output =
        Engine::run(&engine, JobInput { code: &code, input: &input, options: options.map(str::as_bytes), seed })
            .await?;
    let cid = cid_of(&output.bytes, &AddOptions::V1);
    Ok(LocalRun { engine: Engine::id(&engine).to_owned(), output, cid })
}
