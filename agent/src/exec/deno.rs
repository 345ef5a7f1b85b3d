//! V8 through the pinned Deno binary: one child process per job with zero permissions.
//!
//! Without any `--allow-*` flag Deno denies the file system, network, environment, subprocesses and FFI;
//! `--no-remote`, `--no-npm`, `--no-config` and `--no-lock` stop it from fetching or reading anything for
//! module resolution, and `DENO_DIR` points at a path that cannot be created, so nothing is cached or
//! persisted between runs (Deno's `localStorage` would be). The main module is the trusted wrapper
//! (`wrapper.js`, passed as a `data:` URL); the job's code and input reach it on stdin. The child runs
//! with a cleared environment, `TZ=UTC` and `LANG=C`, a V8 heap limit, and is killed at the time limit.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Instant,
};

use alloy::primitives::B256;
use serde::Serialize;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    process::Command,
};

use super::{Engine, Error, JobInput, Limits, Output, Result};

/// The trusted wrapper's source.
const WRAPPER: &str = include_str!("wrapper.js");
/// How much of the job's stderr is kept for an error message.
const KEEP_STDERR: usize = 8 * 1024;
/// A `DENO_DIR` that cannot be created (a path under a character device).
const NO_DENO_DIR: &str = "/dev/null/deno";

/// The Deno engine.
#[derive(Clone, Debug)]
pub struct Deno {
    binary: PathBuf,
    id: String,
    limits: Limits,
    wrapper_url: String,
}

/// What the wrapper reads from stdin.
#[derive(Serialize)]
struct WrapperInput<'a> {
    code: &'a str,
    input: &'a str,
    options: Option<&'a str>,
}

impl Deno {
    /// The engine of the Deno binary at `binary`; its id (`deno/<version>`) comes from `deno --version`.
    pub async fn new(binary: &Path, limits: Limits) -> Result<Self> {
        let output = Command::new(binary)
            .arg("--version")
            .env_clear()
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|source| Error::Spawn { engine: binary.display().to_string(), source })?;
        let text = String::from_utf8_lossy(&output.stdout);
        // "deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)"
        let version = text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("deno "))
            .and_then(|rest| rest.split_whitespace().next())
            .ok_or_else(|| Error::Version(binary.display().to_string()))?;
        let wrapper_url = format!("data:text/javascript;base64,{}", base64(WRAPPER.as_bytes()));
        Ok(Self { binary: binary.to_owned(), id: format!("deno/{version}"), limits, wrapper_url })
    }

    /// The engine id as `JobSpec.engine` holds it: ASCII, right-padded with zero bytes.
    pub fn engine_word(&self) -> B256 {
        B256::right_padding_from(self.id.as_bytes())
    }
}

impl Engine for Deno {
    fn id(&self) -> &str {
        &self.id
    }

    async fn run(&self, job: JobInput<'_>) -> Result<Output> {
        let text = |bytes: &'static str, value: &[u8]| -> Result<String> {
            String::from_utf8(value.to_vec()).map_err(|_| Error::NotText(bytes))
        };
        let code = text("code", job.code)?;
        let input = text("input", job.input)?;
        let options = job.options.map(|options| text("options", options)).transpose()?;
        let payload = serde_json::to_vec(&WrapperInput { code: &code, input: &input, options: options.as_deref() })
            .map_err(|e| Error::Io { engine: self.id.clone(), source: e.into() })?;

        let started = Instant::now();
        let mut child = Command::new(&self.binary)
            .args(["run", "--no-prompt", "--no-remote", "--no-npm", "--no-config", "--no-lock", "--quiet"])
            .arg(format!("--seed={}", job.seed))
            .arg(format!("--v8-flags=--max-old-space-size={}", self.limits.heap_mib))
            .arg(&self.wrapper_url)
            .env_clear()
            .env("TZ", "UTC")
            .env("LANG", "C")
            .env("NO_COLOR", "1")
            .env("DENO_DIR", NO_DENO_DIR)
            .env("DENO_NO_UPDATE_CHECK", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| Error::Spawn { engine: self.id.clone(), source })?;
        let io = |source| Error::Io { engine: self.id.clone(), source };
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(io(std::io::Error::other("child pipes missing")));
        };
        let max_output = self.limits.output;
        let run = async {
            let write = async move {
                // A job that fails at once may close stdin early; its exit status tells why.
                let _ = stdin.write_all(&payload).await;
            };
            let (_, out, err, status) =
                tokio::join!(write, read_capped(stdout, max_output), read_capped(stderr, KEEP_STDERR), child.wait());
            (out, err, status)
        };
        let (out, err, status) = match tokio::time::timeout(self.limits.time, run).await {
            Ok(done) => done,
            // The child is dropped on return, and `kill_on_drop` kills it. It cannot have started other
            // processes (no `--allow-run`), so killing it ends the job.
            Err(_) => return Err(Error::Timeout(self.limits.time)),
        };
        let (stdout, over) = out.map_err(io)?;
        let (stderr, _) = err.map_err(io)?;
        let status = status.map_err(io)?;
        if !status.success() {
            let stderr = String::from_utf8_lossy(&stderr).trim().to_owned();
            return Err(Error::Failed { status: status.to_string(), stderr });
        }
        if over {
            return Err(Error::OutputTooLarge(max_output));
        }
        let output = Output { bytes: stdout, elapsed: started.elapsed() };
        tracing::debug!(engine = %self.id, bytes = output.bytes.len(), elapsed = ?output.elapsed, "job ran");
        Ok(output)
    }
}

/// Reads `pipe` to its end, keeping at most `cap` bytes; says whether there was more.
async fn read_capped(mut pipe: impl AsyncRead + Unpin, cap: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let mut kept = Vec::new();
    let mut over = false;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = pipe.read(&mut buffer).await?;
        if n == 0 {
            return Ok((kept, over));
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
        // Keep draining past the cap so that the child never blocks on a full pipe.
        over |= n > room;
    }
}

/// Standard base64 with padding, for the wrapper's `data:` URL.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[((word >> (18 - 6 * i)) & 63) as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
