//! The jury duty of `jsjob verify --juror` against a real anvil and the deployment's `JuryArbiter`.

use std::time::Duration;

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::SolEvent,
};
use jsjob::chain::{
    bindings::JuryArbiter::{Committed, Rewarded, Withdrawn},
    job::{Outcome, Status},
    jury::{Jury, Phase},
};

use crate::net::{Agent, CHEAT, JURORS, Net, OTHER, PATIENCE, address};

const DEMO_CODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/job.js");
const DEMO_INPUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/input.json");

/// 0.045 ETH: the job's arbiter fee, shared by the three jurors of the majority (0.015 each, above the
/// agents' 0.01 withdraw threshold).
const FEE: u64 = 45_000_000_000_000_000;

/// A cheat's result on a job judged by the jury is challenged by `jsjob verify`; three `jsjob verify
/// --juror` agents are drawn, re-run the job, commit and reveal; the jury upholds the challenger and
/// pays the jurors, who withdraw. One juror is SIGKILLed between its commit and its reveal (the other two
/// are stopped until then, so the reveal phase cannot open before the kill) and reveals after a restart.
#[tokio::test]
async fn jury_of_three_upholds_the_challenger_and_a_killed_juror_reveals_after_restart() {
    let net = Net::start("jury").await;
    let jury = Jury::new(&net.agency, net.deployment.jury_arbiter.expect("the deployment has a jury"));
    let juror = |key: usize| net.spawn("verify", key, &format!("juror{key}"), None, &["--juror", "--sample", "0"]);
    let mut jurors: Vec<Agent> = JURORS.iter().map(|&key| juror(key)).collect();
    for agent in &jurors {
        agent.wait_for_log("joined the jury pool").await;
    }
    // Registering is idempotent: a restarted juror finds its stake and does not stake again.
    for agent in &mut jurors[1..] {
        assert!(agent.terminate().await, "a juror did not stop cleanly: {}", agent.logs());
    }
    let killed = &mut jurors[0];
    let challenger = net.spawn("verify", OTHER, "challenger", None, &[]);

    let fee = alloy::primitives::utils::format_ether(U256::from(FEE));
    let arbiter = jury.address().to_string();
    let id = net.post(DEMO_CODE, DEMO_INPUT, &["--arbiter", &arbiter, "--arbiter-fee", &fee]).await;
    net.cheat(id, br#"{"count":16,"sum":1000000}"#).await;
    let disputed = net.wait_for(id, "Disputed", &[&challenger], |view| view.status() == Status::Disputed).await;
    assert_eq!(disputed.record.challenger, address(OTHER));

    // anvil mines only on transactions: mine until the draw block is past and the challenger has drawn.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while Phase::of(&jury.dispute_of(id).await.expect("disputeOf")) != Phase::Voting {
        assert!(tokio::time::Instant::now() < deadline, "no jury drawn: {}", challenger.logs());
        let _: serde_json::Value = net.provider.raw_request("evm_mine".into(), ()).await.expect("evm_mine");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut drawn = jury.jurors_of(id).await.expect("jurorsOf");
    drawn.sort();
    let mut expected: Vec<Address> = JURORS.iter().map(|&key| address(key)).collect();
    expected.sort();
    assert_eq!(drawn, expected, "the pool is exactly the three jurors");

    killed.wait_for_log("committed as juror").await;
    killed.kill().await;
    let mut rest: Vec<Agent> = JURORS[1..].iter().map(|&key| juror(key)).collect();
    for agent in &rest {
        agent.wait_for_log("revealed as juror").await;
        assert!(agent.logs().contains("in the jury pool"), "restarted juror: {}", agent.logs());
    }
    assert_eq!(jury.dispute_of(id).await.expect("disputeOf").forChallenger, 2, "two votes so far");
    // Its log file goes on from before the kill, when it could not reveal yet.
    assert!(!killed.logs().contains("revealed as juror"));
    let restarted = juror(JURORS[0]);
    restarted.wait_for_log("revealed as juror").await;

    let all: Vec<&Agent> = [&challenger, &restarted].into_iter().chain(&rest).collect();
    net.wait_closed(id, Outcome::ChallengerUpheld, &all).await;
    // The challenger takes the payment and both bonds, less the jury's fee.
    let pot = U256::from(200_000_000_000_000_000u64 - FEE);
    net.wait_withdrawn(address(OTHER), pot, &challenger).await;
    assert!(net.credit(address(CHEAT)).await.is_zero());

    // Each juror committed once, was rewarded a third of the fee, and withdrew it.
    let share = U256::from(FEE / 3);
    let events = |signature| Filter::new().address(jury.address()).event_signature(signature).from_block(0);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for &key in &JURORS {
        let account = address(key);
        let logs = net.provider.get_logs(&events(Committed::SIGNATURE_HASH)).await.expect("logs");
        let commits =
            logs.iter().filter(|log| Committed::decode_log_data(log.data()).is_ok_and(|c| c.juror == account));
        assert_eq!(commits.count(), 1, "juror {key} committed once");
        let logs = net.provider.get_logs(&events(Rewarded::SIGNATURE_HASH)).await.expect("logs");
        let reward =
            logs.iter().filter_map(|log| Rewarded::decode_log_data(log.data()).ok()).find(|r| r.juror == account);
        assert_eq!(reward.map(|r| r.amount), Some(share), "juror {key}'s reward");
        loop {
            let logs = net.provider.get_logs(&events(Withdrawn::SIGNATURE_HASH)).await.expect("logs");
            if logs.iter().filter_map(|log| Withdrawn::decode_log_data(log.data()).ok()).any(|w| w.account == account) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "juror {key} never withdrew: {}", restarted.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // `verify --leave` leaves the pool, then after the cooldown unstakes and withdraws the stake.
    assert!(rest[0].terminate().await);
    let leaver = address(JURORS[1]);
    let (ok, stdout, stderr) = net.run(Some(JURORS[1]), &["verify", "--leave"]).await;
    assert!(ok && stdout.contains("left the jury pool"), "{stdout}{stderr}");
    let (ok, _, stderr) = net.run(Some(JURORS[1]), &["verify", "--leave"]).await;
    assert!(!ok && stderr.contains("JuryArbiter_CoolingDown(unstakeAt: "), "{stderr}");
    jsjob::devnet::advance_time(&net.provider, 7 * 24 * 3600 + 1).await.expect("time travel");
    let (ok, stdout, stderr) = net.run(Some(JURORS[1]), &["verify", "--leave"]).await;
    assert!(ok && stdout.contains("unstaked 0.1 ETH") && stdout.contains("withdrew 0.1 ETH"), "{stdout}{stderr}");
    assert_eq!(jury.verifier_of(leaver).await.expect("verifierOf").stake, alloy::primitives::Uint::ZERO);
}
