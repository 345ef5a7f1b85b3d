//! What the benchmark ran on: CPU, cores, memory, OS, load, and the tools' versions.

use std::{path::Path, process::Command};

use serde::{Deserialize, Serialize};

/// The machine and the tools of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// `model name` in `/proc/cpuinfo`.
    pub cpu: String,
    /// Cores this process may use.
    pub cores: usize,
    /// `MemTotal`, in GiB.
    pub ram_gib: f64,
    /// `PRETTY_NAME` in `/etc/os-release`, and the kernel release.
    pub os: String,
    /// `/proc/loadavg` when the run started (1, 5, 15 minutes).
    pub load: String,
    /// (tool, version line).
    pub tools: Vec<(String, String)>,
}

/// Describes this machine; `root` is the repository (for its pinned tools).
pub fn describe(root: &Path) -> Machine {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|line| line.strip_prefix("model name").and_then(|rest| rest.split(':').nth(1)))
        .map_or_else(|| "unknown".to_owned(), |name| name.trim().to_owned());
    let ram_kib: f64 = read("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_default();
    let pretty = read("/etc/os-release")
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map_or_else(|| "unknown OS".to_owned(), |name| name.trim_matches('"').to_owned());
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let load = read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let modules = root.join("node_modules");
    let tools = [
        ("rustc", root.join("rustc"), vec!["--version"]),
        ("anvil", modules.join("@foundry-rs/anvil-linux-amd64/bin/anvil"), vec!["--version"]),
        ("forge", modules.join("@foundry-rs/forge-linux-amd64/bin/forge"), vec!["--version"]),
        ("deno", modules.join("@deno/linux-x64-glibc/deno"), vec!["--version"]),
        ("python", root.join(".venv/bin/python"), vec!["--version"]),
    ]
    .into_iter()
    .map(|(name, path, args)| {
        // rustc is the one on PATH (the toolchain cargo uses); the others are the repository's pinned ones.
        let program = if name == "rustc" { "rustc".into() } else { path };
        let version = Command::new(&program)
            .args(&args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.lines().next().map(str::to_owned))
            .unwrap_or_else(|| "not found".to_owned());
        (name.to_owned(), version)
    })
    .collect();
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        ram_gib: ram_kib / (1024.0 * 1024.0),
        os: format!("{pretty}, Linux {kernel}"),
        load,
        tools,
    }
}
