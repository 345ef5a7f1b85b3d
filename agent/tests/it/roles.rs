//! The roles as their users run them: the real `jsjob` binary (worker, verify, post, status, result,
//! withdraw) as child processes against a fresh anvil, the real Deno, the shared content directory.

use alloy::primitives::U256;
use jsjob::{
    chain::job::{Outcome, Status},
    devnet::DEV_KEYS,
    roles::seams::Content,
    state::{Identity, Role, State, Step},
};

use crate::net::{self, Net, POSTER, WORKER, address};

const DEMO_CODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/job.js");
const DEMO_INPUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/input.json");

/// Post → claim → run → submit → window → finalize → withdraw, every step by the binaries; the
/// result is what the pinned Deno computes, and `post --wait`, `status` and `result` show it.
#[tokio::test]
async fn worker_runs_a_posted_job_to_payout() {
    let net = Net::start("lifecycle").await;
    let mut worker = net.spawn("worker", WORKER, "worker", None, &[]);
    let id = net.post(DEMO_CODE, DEMO_INPUT, &[]).await;

    let submitted = net.wait_for(id, "Submitted", &[&worker], |view| view.status() == Status::Submitted).await;
    assert_eq!(submitted.record.worker, address(WORKER));
    let expected = net.expected_output(&submitted).await;
    let result = net.store.get(&net::cid(submitted.result_cid.as_deref().expect("result"))).await.expect("stored");
    assert_eq!(result, expected, "the worker submitted another output than Deno computes");

    net.pass_window().await;
    net.wait_closed(id, Outcome::Finalized, &[&worker]).await;

    // payment 0.1 + bond 0.05 is over the 0.01 threshold: the worker withdraws it by itself.
    let payout = U256::from(150_000_000_000_000_000u64);
    let deadline = tokio::time::Instant::now() + net::PATIENCE;
    while net.withdrawn(address(WORKER)).await != payout {
        assert!(tokio::time::Instant::now() < deadline, "no withdrawal: {}", worker.logs());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(net.credit(address(WORKER)).await.is_zero());

    let (ok, stdout, stderr) = net.run(None, &["result", &format!("{id:#x}")]).await;
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim_end().as_bytes(), expected.as_slice());
    let (ok, stdout, stderr) = net.run(Some(POSTER), &["status"]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("closed (Finalized)"), "{stdout}");
    assert!(worker.is_alive());
    worker.kill().await;

    // The worker's database remembers the job as closed, its bond released and its payout.
    let state = State::open(
        &net.dir.join("worker.redb"),
        Identity { chain_id: 31337, agency: net.deployment.job_agency, account: address(WORKER) },
    )
    .expect("the worker's state");
    let entry = state.job(id).expect("read").expect("the job is known");
    assert_eq!((entry.role, entry.step), (Role::Worker, Step::Closed));
    assert_eq!(entry.payout, payout);
    assert!(state.bonds_locked().expect("sum").is_zero());
    assert_eq!(state.ledger().expect("ledger").iter().filter(|e| e.kind == "withdraw").count(), 1);
    for key in DEV_KEYS {
        assert!(!worker.logs().contains(&key[2..]), "a key was logged");
    }
}
