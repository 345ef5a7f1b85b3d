//! The pinned external tools the agent drives: anvil and forge (Foundry 1.7.1) and Deno, all installed by
//! `npm ci` from the repository's `package-lock.json` into `node_modules/`.
//!
//! The native binaries are used directly, not the `node_modules/.bin` wrappers, to skip a Node start per
//! call. Nothing is looked up on `PATH`: another version of a tool would give other gas figures, another
//! compiler output or another JavaScript engine build.

use std::path::{Path, PathBuf};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No directory up from the start holds the project.
    #[error("cannot find the jsjob repository (a directory with foundry.toml and agent/) above {0}")]
    NoRoot(PathBuf),
    /// A pinned tool is not installed.
    #[error("{tool} is not installed at {path}: run `npm ci` first in {root}")]
    Missing {
        /// The tool's name.
        tool: &'static str,
        /// Where it should be.
        path: PathBuf,
        /// The repository root.
        root: PathBuf,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Paths of the repository and its pinned tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// The repository root (where `foundry.toml` is); forge runs there.
    pub root: PathBuf,
    /// `anvil`.
    pub anvil: PathBuf,
    /// `forge`.
    pub forge: PathBuf,
    /// `deno`.
    pub deno: PathBuf,
}

impl Toolchain {
    /// The tools of the repository at `root`; fails naming the first one missing.
    pub fn at(root: &Path) -> Result<Self> {
        let modules = root.join("node_modules");
        let foundry = |tool: &str| modules.join(format!("@foundry-rs/{tool}-linux-amd64/bin/{tool}"));
        let toolchain = Self {
            root: root.to_owned(),
            anvil: foundry("anvil"),
            forge: foundry("forge"),
            deno: modules.join("@deno/linux-x64-glibc/deno"),
        };
        for (tool, path) in [("anvil", &toolchain.anvil), ("forge", &toolchain.forge), ("deno", &toolchain.deno)] {
            if !path.is_file() {
                return Err(Error::Missing { tool, path: path.clone(), root: root.to_owned() });
            }
        }
        Ok(toolchain)
    }

    /// The tools of the repository containing `start` (or of this crate's repository when `start` is not
    /// in one, so that `cargo test` and `cargo run` work from any directory of a checkout).
    pub fn find(start: &Path) -> Result<Self> {
        let root = find_root(start)
            .or_else(|| find_root(Path::new(env!("CARGO_MANIFEST_DIR"))))
            .ok_or_else(|| Error::NoRoot(start.to_owned()))?;
        Self::at(&root)
    }
}

/// The nearest directory at or above `start` that holds `foundry.toml` and `agent/`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join("foundry.toml").is_file() && dir.join("agent").is_dir()).map(Path::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_repository_from_the_crate() {
        let root = find_root(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the crate is in the repository");
        assert!(root.join("agent/Cargo.toml").is_file());
    }

    #[test]
    fn a_missing_tool_says_to_run_npm_ci() {
        let dir = std::env::temp_dir();
        let error = Toolchain::at(&dir).expect_err("no node_modules in the temp dir");
        assert!(error.to_string().contains("run `npm ci` first"), "{error}");
    }
}
