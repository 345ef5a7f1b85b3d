//! The jury duty of `jsjob verify --juror` against a real anvil and the deployment's `JuryArbiter`.

use std::time::Duration;

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::SolEvent,
};
use jsjob::{
    chain::{
        bindings::JuryArbiter::{Committed, Rewarded, Withdrawn},
        job::{Outcome, Status},
        jury::{Jury, Phase},
    },
    state::{Seat, SeatStep},
};

use crate::net::{Agent, CHEAT, JURORS, Net, OTHER, PATIENCE, POSTER, address};

const DEMO_CODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/job.js");
const DEMO_INPUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/input.json");

/// 0.045 ETH: the job's arbiter fee, shared by the three jurors of the majority (0.015 each, above the
/// agents' 0.01 withdraw threshold).
const FEE: u64 = 45_000_000_000_000_000;

/// A cheat's result on a job judged by the jury is challenged by `jsjob verify`; three `jsjob verify
/// --juror` agents are drawn, re-run the job, commit and reveal; the jury upholds the challenger and
/// pays the jurors, who withdraw. One juror is SIGKILLed between its commit and its reveal (the other two
/// are not started until then, so the reveal phase cannot open before the kill) and reveals after a restart,
/// although its database lost the commit's record (set back to Drawn, as a crash between the commit's receipt
/// and its record would leave it) and the commit deadline has passed meanwhile: it finds its commitment in
/// the jury's log.
#[tokio::test]
async fn jury_of_three_upholds_the_challenger_and_a_killed_juror_reveals_after_restart() {
    let net = Net::start("jury").await;
    let jury = Jury::new(&net.agency, net.deployment.jury_arbiter.expect("the deployment has a jury"));
    // Registering is idempotent: every juror is stopped after joining and restarted later, and finds its
    // stake.
    for mut agent in start_jurors(&net).await {
        assert!(agent.terminate().await, "a juror did not stop cleanly: {}", agent.logs());
    }
    let challenger = net.spawn("verify", OTHER, "challenger", None, &[]);
    let id = post_for_jury(&net, &jury, "0").await;
    net.cheat(id, br#"{"count":16,"sum":1000000}"#).await;
    let disputed = net.wait_for(id, "Disputed", &[&challenger], |view| view.status() == Status::Disputed).await;
    assert_eq!(disputed.record.challenger, address(OTHER));

    let mut killed = juror(&net, JURORS[0]);
    mine_until_drawn(&net, &jury, id, &challenger).await;
    killed.wait_for_log("committed as juror").await;
    killed.kill().await;
    let mut rest: Vec<Agent> = JURORS[1..].iter().map(|&key| juror(&net, key)).collect();
    for agent in &rest {
        agent.wait_for_log("revealed as juror").await;
        assert!(agent.logs().contains("in the jury pool"), "restarted juror: {}", agent.logs());
    }
    assert_eq!(jury.dispute_of(id).await.expect("disputeOf").forChallenger, 2, "two votes so far");
    // Its log file goes on from before the kill, when it could not reveal yet.
    assert!(!killed.logs().contains("revealed as juror"));
    {
        let state = net.state(JURORS[0], &format!("juror{}", JURORS[0]));
        let seat = state.job(id).expect("read").and_then(|entry| entry.seat).expect("the killed juror's seat");
        assert_eq!(seat.step, SeatStep::Committed, "recorded before the kill");
        state
            .update(id, |entry| entry.seat = Some(Seat { step: SeatStep::Drawn, ..seat }))
            .expect("forget the commit's record");
    }
    let dispute = jury.dispute_of(id).await.expect("disputeOf");
    let now = jsjob::devnet::chain_time(&net.provider).await.expect("chain time");
    let (commit_deadline, reveal_deadline) = (dispute.commitDeadline.to::<u64>(), dispute.revealDeadline.to::<u64>());
    assert!(commit_deadline + 1 < reveal_deadline, "no room between the deadlines: {dispute:?}");
    jsjob::devnet::advance_time(&net.provider, (commit_deadline + 1).saturating_sub(now)).await.expect("time travel");
    let restarted = juror(&net, JURORS[0]);
    restarted.wait_for_log("committed as juror before a restart").await;
    restarted.wait_for_log("revealed as juror").await;

    let all: Vec<&Agent> = [&challenger, &restarted].into_iter().chain(&rest).collect();
    net.wait_closed(id, Outcome::ChallengerUpheld, &all).await;
    // The challenger takes the payment and both bonds, less the jury's fee.
    let pot = U256::from(200_000_000_000_000_000u64 - FEE);
    net.wait_withdrawn(address(OTHER), pot, &challenger).await;
    assert!(net.credit(address(CHEAT)).await.is_zero());

    // Each juror committed once, was rewarded a third of the fee, and withdrew it.
    for &key in &JURORS {
        let account = address(key);
        let commits = jury_events::<Committed>(&net, &jury).await.into_iter().filter(|c| c.juror == account);
        assert_eq!(commits.count(), 1, "juror {key} committed once");
        let reward = jury_events::<Rewarded>(&net, &jury).await.into_iter().find(|r| r.juror == account);
        assert_eq!(reward.map(|r| r.amount), Some(U256::from(FEE / 3)), "juror {key}'s reward");
    }
    wait_jurors_withdrew(&net, &jury, &restarted).await;
    // `verify --leave` leaves the pool, then after the cooldown unstakes and withdraws the stake; run on the
    // juror's own database, it records both.
    rest[0].wait_for_log("recorded jury pay").await;
    assert!(rest[0].terminate().await);
    let leaver = address(JURORS[1]);
    let (ok, stdout, stderr) = juror_run(&net, JURORS[1], &["verify", "--leave"]).await;
    assert!(ok && stdout.contains("left the jury pool"), "{stdout}{stderr}");
    let (ok, _, stderr) = juror_run(&net, JURORS[1], &["verify", "--leave"]).await;
    assert!(!ok && stderr.contains("JuryArbiter_CoolingDown(unstakeAt: "), "{stderr}");
    assert!(stderr.contains("run `jsjob verify --leave` again from chain time"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    jsjob::devnet::advance_time(&net.provider, 7 * 24 * 3600 + 1).await.expect("time travel");
    let (ok, stdout, stderr) = juror_run(&net, JURORS[1], &["verify", "--leave"]).await;
    assert!(ok && stdout.contains("unstaked 0.1 ETH") && stdout.contains("withdrew 0.1 ETH"), "{stdout}{stderr}");
    assert!(!stdout.contains("not recorded"), "{stdout}");
    assert_eq!(jury.verifier_of(leaver).await.expect("verifierOf").stake, alloy::primitives::Uint::ZERO);
    let (ok, stdout, stderr) = juror_run(&net, JURORS[1], &["verify", "--leave"]).await;
    assert!(ok && stdout.contains("has no stake in the jury"), "{stdout}{stderr}");
    // Its ledger: the stake, the reward (a third of the fee), and both withdrawals (reward, then stake).
    let (ok, stdout, stderr) = juror_run(&net, JURORS[1], &["status", "--local"]).await;
    assert!(ok, "{stderr}");
    let expected = "local jury: staked 0.1 ETH, unstaked 0.1 ETH, jury rewards 0.015 ETH, audit rewards 0 ETH, \
                    slashed 0 ETH, withdrawn 0.115 ETH";
    assert!(stdout.lines().any(|line| line == expected), "{stdout}");
}

/// `jsjob ARGS` as juror `key` on its own state database (the agent must be stopped): (success, stdout, stderr).
async fn juror_run(net: &Net, key: usize, args: &[&str]) -> (bool, String, String) {
    let output = net.jsjob(Some(key), &format!("juror{key}"), None).args(args).output().await.expect("run jsjob");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

/// A lazy worker (the cheat) submits a made-up result for a job the jury judges. The audit draw selects it
/// (the test ages the draw's block hash out, past 256 blocks, which selects any job: waiting never avoids an
/// audit), and three `jsjob verify --juror` agents run the audit by themselves: `drawAudit`, `openAudit`, draw,
/// re-run, commit, reveal, settle. The audit fails: the poster gets the payment and the worker's bond less the
/// jury's fee, the jurors are rewarded and withdraw, the worker gets nothing.
#[tokio::test]
async fn lazy_worker_is_caught_by_an_audit_run_by_juror_agents() {
    let net = Net::start("audit").await;
    let jury = Jury::new(&net.agency, net.deployment.jury_arbiter.expect("the deployment has a jury"));
    let jurors = start_jurors(&net).await;
    let id = post_for_jury(&net, &jury, "0.001").await;
    net.cheat(id, b"made up").await;
    let submitted = net.agency.job(id).await.expect("job");
    assert_ne!(submitted.record.auditBlock, alloy::primitives::Uint::ZERO, "the job carries an audit fee");
    let _: serde_json::Value =
        net.provider.raw_request("anvil_mine".into(), (U256::from(300),)).await.expect("anvil_mine");
    let agents: Vec<&Agent> = jurors.iter().collect();
    net.wait_for(id, "Audited", &agents, |view| view.status() == Status::Audited).await;
    mine_until_drawn(&net, &jury, id, &jurors[0]).await;
    let failed = net.wait_closed(id, Outcome::AuditFailed, &agents).await;

    let spec = (U256::from(failed.record.payment), U256::from(failed.record.workerBond));
    assert_eq!(net.credit(address(POSTER)).await, spec.0 + spec.1 - U256::from(FEE), "the poster's refund");
    assert!(net.credit(address(CHEAT)).await.is_zero());
    assert!(net.withdrawn(address(CHEAT)).await.is_zero(), "the lazy worker got paid");
    let rewarded = jury_events::<Rewarded>(&net, &jury).await;
    assert_eq!(rewarded.len(), 3, "every juror voted with the majority: {rewarded:?}");
    assert!(rewarded.iter().all(|r| r.amount >= U256::from(FEE / 3)), "{rewarded:?}");
    wait_jurors_withdrew(&net, &jury, &jurors[0]).await;
    // Its database counts the reward as an audit's, and the withdrawal.
    let mut first = jurors.into_iter().next().expect("a juror");
    first.wait_for_log("recorded jury pay").await;
    assert!(first.terminate().await);
    let reward = rewarded.iter().find(|r| r.juror == address(JURORS[0])).expect("rewarded").amount;
    let (ok, stdout, stderr) = juror_run(&net, JURORS[0], &["status", "--local"]).await;
    assert!(ok, "{stderr}");
    let reward = jsjob::chain::bindings::format_eth(reward);
    let expected = format!(
        "local jury: staked 0.1 ETH, unstaked 0 ETH, jury rewards 0 ETH, audit rewards {reward} ETH, slashed 0 ETH, \
         withdrawn {reward} ETH"
    );
    assert!(stdout.lines().any(|line| line == expected), "{stdout}");
}

/// `jsjob verify --juror --sample 0` as dev account `key` (state in `juror<key>.redb`).
fn juror(net: &Net, key: usize) -> Agent {
    net.spawn("verify", key, &format!("juror{key}"), None, &["--juror", "--sample", "0"])
}

/// The three jurors, each once it has joined the pool.
async fn start_jurors(net: &Net) -> Vec<Agent> {
    let jurors: Vec<Agent> = JURORS.iter().map(|&key| juror(net, key)).collect();
    for agent in &jurors {
        agent.wait_for_log("joined the jury pool").await;
    }
    jurors
}

/// The demo job, judged by the jury with an arbiter fee of [`FEE`] and an audit fee of `audit_fee` ETH (zero:
/// never audited).
async fn post_for_jury(net: &Net, jury: &Jury, audit_fee: &str) -> U256 {
    let fee = alloy::primitives::utils::format_ether(U256::from(FEE));
    let jury = jury.address().to_string();
    net.post(DEMO_CODE, DEMO_INPUT, &["--arbiter", &jury, "--arbiter-fee", &fee, "--audit-fee", audit_fee]).await
}

/// anvil mines only on transactions: mines until the draw block is past and an agent has drawn the jury,
/// then checks that the jury is the three jurors (the whole pool).
async fn mine_until_drawn(net: &Net, jury: &Jury, id: U256, agent: &Agent) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while Phase::of(&jury.dispute_of(id).await.expect("disputeOf")) != Phase::Voting {
        assert!(tokio::time::Instant::now() < deadline, "no jury drawn: {}", agent.logs());
        let _: serde_json::Value = net.provider.raw_request("evm_mine".into(), ()).await.expect("evm_mine");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut drawn = jury.jurors_of(id).await.expect("jurorsOf");
    drawn.sort();
    let mut expected: Vec<Address> = JURORS.iter().map(|&key| address(key)).collect();
    expected.sort();
    assert_eq!(drawn, expected, "the pool is exactly the three jurors");
}

/// Every `E` the jury emitted.
async fn jury_events<E: SolEvent>(net: &Net, jury: &Jury) -> Vec<E> {
    let filter = Filter::new().address(jury.address()).event_signature(E::SIGNATURE_HASH).from_block(0);
    let logs = net.provider.get_logs(&filter).await.expect("logs");
    logs.iter().map(|log| E::decode_log_data(log.data()).expect("a jury event")).collect()
}

/// Waits until each juror has withdrawn its jury credit.
async fn wait_jurors_withdrew(net: &Net, jury: &Jury, agent: &Agent) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for &key in &JURORS {
        let account = address(key);
        while !jury_events::<Withdrawn>(net, jury).await.iter().any(|w| w.account == account) {
            assert!(tokio::time::Instant::now() < deadline, "juror {key} never withdrew: {}", agent.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
