//! Adds a file the way `jsjob ipfs add` does and reports the time taken: the Rust side of
//! `benches/vs_libkubo.py`, and the process whose peak memory is measured on a 1 GiB file.
//!
//! `cargo run --release -p jsjob-store --example add_file -- FILE [RUNS] [--store DIR]`
//! prints one line per run: `CID seconds`. Without `--store` it only hashes (`ipfs add --only-hash`).

use std::time::Instant;

use jsjob_store::{AddOptions, DiskStore, HashOnly, import_reader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let store_at = args.iter().position(|a| a == "--store");
    let store = store_at.and_then(|i| args.get(i + 1)).map(|dir| DiskStore::open(dir, None)).transpose()?;
    let positional: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| store_at.is_none_or(|s| *i != s && *i != s + 1))
        .map(|(_, a)| a)
        .collect();
    let file = positional.first().ok_or("usage: add_file FILE [RUNS] [--store DIR]")?;
    let runs: usize = positional.get(1).map(|r| r.parse()).transpose()?.unwrap_or(1);
    for _ in 0..runs {
        let started = Instant::now();
        let cid = match &store {
            Some(store) => store.add_path(file.as_ref(), AddOptions::V0)?.cid,
            None => import_reader(std::fs::File::open(file)?, &AddOptions::V0, &mut HashOnly)?.cid,
        };
        println!("{cid} {:.4}", started.elapsed().as_secs_f64());
    }
    Ok(())
}
