//! The executor against the real engines: the pinned Deno binary and this crate's QuickJS sandbox.

mod api;
mod hostile;

use std::{path::PathBuf, time::Duration};

use jsjob_exec::{Engine, Error, JobInput, Limits, Sandbox, Seed};

/// The pinned Deno binary, installed by `npm ci` at the repository root.
fn deno_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/@deno/linux-x64-glibc/deno");
    assert!(path.is_file(), "Deno is not installed at {}: run `npm ci` at the repository root", path.display());
    path
}

/// Low limits, so that hostile jobs end fast.
const TEST_LIMITS: Limits =
    Limits { time: Duration::from_secs(2), memory_mib: 96, output: 1 << 20, code: 64 << 10, input: 1 << 20 };

/// The same with room in time, for jobs that must finish even on a loaded machine.
const ROOMY_LIMITS: Limits = Limits { time: Duration::from_secs(30), ..TEST_LIMITS };

/// Held by the tests that start many engine processes at once, so that they do not starve each other
/// (and the jobs of their time limits) on a 2-core machine.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Both engines under `limits`, each with a small warm pool.
async fn engines(limits: Limits) -> Vec<Sandbox> {
    let v8 = Sandbox::v8(&deno_binary(), limits).await.expect("the V8 engine starts");
    let quickjs = Sandbox::quickjs(env!("CARGO_BIN_EXE_jsjob-sandbox").as_ref(), limits)
        .await
        .expect("the QuickJS engine starts");
    vec![v8, quickjs]
}

/// Runs `code` on `input` with a fixed seed.
async fn run(engine: &Sandbox, code: &str, input: &[u8]) -> Result<String, Error> {
    let job = JobInput { code: code.as_bytes(), input, options: None, seed: Seed::derive(b"job", b"input") };
    let output = engine.run(job).await?;
    Ok(String::from_utf8_lossy(&output.bytes).into_owned())
}
