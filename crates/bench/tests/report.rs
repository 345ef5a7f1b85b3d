//! The report writer on a tiny real run: a fresh anvil, the contracts deployed by the forge script, five
//! jobs worked by one real `jsjob worker` (the debug build `cargo test --workspace` makes), and the
//! chain-alone ceiling for five jobs. Checks that every figure came out and the document is well formed,
//! not how fast anything was.

use std::{path::PathBuf, time::Duration};

use jsjob_bench::{Plan, e2e::WorkerSettings};

fn target_dir_binary(name: &str) -> PathBuf {
    // target/debug/deps/report-… → target/debug/<name>
    let exe = std::env::current_exe().expect("the test binary");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/debug");
    dir.join(name)
}

#[tokio::test]
async fn a_tiny_run_gives_a_well_formed_document() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root");
    let jsjob = target_dir_binary("jsjob");
    assert!(jsjob.is_file(), "{} is missing: cargo build -p jsjob (cargo test --workspace builds it)", jsjob.display());
    let work_dir = std::env::temp_dir().join(format!("jsjob-bench-test-{}", std::process::id()));
    let plan = Plan {
        root,
        work_dir: work_dir.clone(),
        jsjob: jsjob.clone(),
        runs: vec![(5, 1)],
        workers: WorkerSettings { poll_ms: 100, max_jobs: 4, binary: jsjob.display().to_string(), engine: "v8".into() },
        patience: Duration::from_secs(60),
        patience_per_job: Duration::ZERO,
        max_patience: Duration::from_secs(60),
        criterion: None,
        libkubo: Err("not part of this test".into()),
        mode: "test".into(),
        command: "cargo test -p jsjob-bench".into(),
        profile: false,
        // Smaller than the jobs: the poster's window fills and moves.
        in_flight: 2,
    };
    let mut lines = Vec::new();
    let mut saves = 0;
    let report = jsjob_bench::measure(&plan, &mut |line: &str| lines.push(line.to_owned()), &mut |_| saves += 1)
        .await
        .unwrap_or_else(|error| panic!("{error}\n{}", lines.join("\n")));

    assert_eq!(saves, 2, "saved after the ceiling and after the run");
    let run = &report.runs[0];
    assert_eq!((run.jobs, run.workers, run.closed), (5, 1, 5), "{run:?}");
    assert!(run.all_final_s.is_some() && run.all_submitted_s <= run.all_final_s, "{run:?}");
    assert!(run.latency_p50_s.is_some_and(|s| s > 0.0) && run.latency_p50_s <= run.latency_p99_s, "{run:?}");
    assert!(run.worker_tx_per_job >= 3.0, "claim, submit and finalize at least: {run:?}");
    assert!(run.peak_rss_mib.len() == 1 && run.peak_rss_mib[0] > 1.0, "{run:?}");
    assert!(run.phases.to_claimed.is_some() && run.phases.run.is_some() && run.phases.submit.is_some(), "{run:?}");
    // Every call went through the counting relays: the workers sent claim, submit and finalize for each job,
    // the poster its five posts, and the bench's watch read logs.
    let sent = |counts: &jsjob_bench::rpc::Counts| counts.get("eth_sendRawTransaction").copied().unwrap_or(0);
    assert!(sent(&run.rpc.workers) >= 15, "{:?}", run.rpc);
    assert_eq!(sent(&run.rpc.poster), 5, "{:?}", run.rpc);
    assert!(run.rpc.watch.get("eth_getLogs").is_some_and(|calls| *calls > 0), "{:?}", run.rpc);
    let ceiling = &report.ceilings[0];
    // The posts are timed too: four transactions a job.
    assert_eq!((ceiling.jobs, ceiling.txs), (5, 20));
    assert!(ceiling.tx_per_s > 0.0 && ceiling.post_tx_per_s > 0.0 && ceiling.blocks > 0, "{ceiling:?}");
    // Five jobs may take less CPU than one clock tick: measured, not necessarily above zero.
    assert!(ceiling.cpu_ms_per_job().is_some_and(|ms| ms >= 0.0), "the ceiling's CPU: {ceiling:?}");
    assert!(run.blocks > 0 && run.bench_cpu_ms_per_job.is_some(), "{run:?}");

    let text = report.render();
    for heading in
        ["# Benchmarks", "## Gas", "## Executor", "## Store", "## End to end on a local anvil", "## How cost grows"]
    {
        assert!(text.contains(heading), "no {heading:?} in:\n{text}");
    }
    assert!(text.contains("| post |") && text.contains("| 5 | 1 |"), "{text}");
    assert!(text.contains("| 5 | 1 | workers |"), "the RPC table: {text}");
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
    // Every table row has as many cells as its header.
    let mut columns = None;
    for line in text.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let cells = line.matches('|').count();
        match columns {
            None => columns = Some(cells),
            Some(expected) => assert_eq!(cells, expected, "ragged table row {line:?} in:\n{text}"),
        }
    }
    let _ = std::fs::remove_dir_all(&work_dir);
}
