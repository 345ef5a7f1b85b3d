//! A sampled CPU profile of anvil and the workers during an end-to-end run (`jsjob-bench --profile`).
//!
//! `perf record -F` [`SAMPLE_HZ`] samples the given processes (user space and kernel as far as
//! `perf_event_paranoid` lets an unprivileged user: here, their user space) for the length of the run;
//! `perf report` then gives each process's share by function (self time: no call graphs, since the
//! release binaries have no frame pointers and stacks unwound without them are not trustworthy). Anvil, as
//! the npm package ships it, keeps its symbols; the agent's release build strips them
//! (`[profile.release] strip = "symbols"`), so its rows name only its libraries and addresses. Too slow and
//! too machine-bound for the test suite.

use std::{path::Path, process::Stdio};

use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};

use crate::{Error, Result};

/// The functions that take the most samples of one process (or group of processes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// What was sampled: `anvil`, `workers`.
    pub process: String,
    /// The top functions, most first.
    pub rows: Vec<ProfileRow>,
}

/// One function's share of a process's samples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileRow {
    /// Percent of the process's samples.
    pub percent: f64,
    /// The binary or library.
    pub dso: String,
    /// The function (or an address, when the binary has no symbols).
    pub symbol: String,
}

/// How many functions a profile keeps per process.
pub const TOP_FUNCTIONS: usize = 15;

/// Samples per second and process: 999 cost up to a whole core on this 2-core machine (105 % of a CPU seen
/// in `ps`), which the measured processes then lacked; 199 still gives thousands of samples per run.
pub const SAMPLE_HZ: u32 = 199;

/// A running `perf record`.
pub struct Recording {
    child: Child,
    data: std::path::PathBuf,
}

/// Starts sampling `pids` into `data`.
pub fn record(pids: &[u32], data: &Path) -> Result<Recording> {
    let child = Command::new("perf")
        .args(["record", "-F", &SAMPLE_HZ.to_string(), "--quiet", "-p", &pid_list(pids), "-o"])
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::Run(format!("cannot start perf (install linux-perf, or run without --profile): {e}")))?;
    Ok(Recording { child, data: data.to_owned() })
}

impl Recording {
    /// Stops sampling (SIGINT: perf writes its file) and reads the top functions of each named group of
    /// pids.
    pub async fn finish(mut self, groups: &[(&str, Vec<u32>)]) -> Result<Vec<Profile>> {
        jsjob::market::signal_then_kill(&mut self.child, libc::SIGINT, std::time::Duration::from_secs(60)).await;
        let mut profiles = Vec::new();
        for (process, pids) in groups {
            let output = Command::new("perf")
                .args(["report", "--stdio", "--no-children", "--percentage", "relative", "--sort", "dso,sym"])
                .args(["--pid", &pid_list(pids), "-i"])
                .arg(&self.data)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .await
                .map_err(|e| Error::Run(format!("perf report: {e}")))?;
            let text = String::from_utf8_lossy(&output.stdout);
            profiles.push(Profile { process: (*process).to_owned(), rows: parse_report(&text, TOP_FUNCTIONS) });
        }
        Ok(profiles)
    }
}

/// `pids` as perf takes them: comma-separated.
fn pid_list(pids: &[u32]) -> String {
    pids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// The first `top` rows of `perf report --stdio --sort dso,sym`: `12.76%  libfoo.so  [.] function name`.
pub fn parse_report(text: &str, top: usize) -> Vec<ProfileRow> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let percent = words.next()?.strip_suffix('%')?.parse().ok()?;
            let dso = words.next()?.to_owned();
            let _kind = words.next().filter(|kind| kind.starts_with('['))?;
            let symbol = words.collect::<Vec<_>>().join(" ");
            Some(ProfileRow { percent, dso, symbol })
        })
        .take(top)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_perf_report_rows() {
        let text = "# Samples: 478\n#\n    12.76%  anvil  [.] revm::interpreter::run\n     9.83%  libc.so.6  [.] <T as core::fmt::Debug>::fmt\n\n";
        let rows = parse_report(text, 5);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            ProfileRow { percent: 12.76, dso: "anvil".into(), symbol: "revm::interpreter::run".into() }
        );
        assert_eq!(rows[1].symbol, "<T as core::fmt::Debug>::fmt");
        assert_eq!(parse_report(text, 1).len(), 1);
    }
}
