//! The roles as their users run them: the real `jsjob` binary (worker, verify, post, status, result,
//! withdraw) as child processes against a fresh anvil, the real Deno, the shared content directory.

use alloy::{primitives::U256, providers::Provider};
use jsjob::{
    chain::job::{Outcome, Ruling, Status},
    devnet::DEV_KEYS,
    state::{Role, Step},
    store::Store,
};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::net::{self, ARBITER, CHEAT, Net, OTHER, POSTER, Relay, SLOW_JOB, WORKER, address};

const DEMO_CODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/job.js");
const DEMO_INPUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/input.json");

/// Post → claim → run → submit → window → finalize → withdraw, every step by the binaries; the
/// result is what the pinned Deno computes, and `post --wait`, `status` and `result` show it.
#[tokio::test]
async fn worker_runs_a_posted_job_to_payout() {
    lifecycle(Net::start("lifecycle").await, None).await;
}

/// The same lifecycle with the worker and the poster on anvil's WebSocket endpoint (`ws://`).
#[tokio::test]
async fn worker_runs_a_posted_job_to_payout_over_websocket() {
    let net = Net::start("lifecycle-ws").await;
    // anvil serves HTTP and WebSocket on one port.
    let ws = net.anvil.endpoint().as_str().replacen("http://", "ws://", 1);
    lifecycle(net, Some(&ws)).await;
}

async fn lifecycle(net: Net, rpc: Option<&str>) {
    let mut worker = net.spawn("worker", WORKER, "worker", rpc, &[]);
    // `post --wait` prints the id, then each change of the job, then the result.
    let mut poster = net
        .jsjob(Some(POSTER), "poster", rpc)
        .args(["post", DEMO_CODE, DEMO_INPUT, "--payment", "0.1", "--bond", "0.05", "--window", "60", "--wait"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("post --wait");
    let mut lines = BufReader::new(poster.stdout.take().expect("stdout")).lines();
    let first = lines.next_line().await.expect("read").unwrap_or_default();
    let id: U256 = first.parse().unwrap_or_else(|_| panic!("no job id: {first:?}"));

    let submitted = net.wait_for(id, "Submitted", &[&worker], |view| view.status() == Status::Submitted).await;
    assert_eq!(submitted.record.worker, address(WORKER));
    let expected = net.expected_output(&submitted).await;
    let result = net.store.get(&net::cid(submitted.result_cid.as_deref().expect("result"))).await.expect("stored");
    assert_eq!(result, expected, "the worker submitted another output than Deno computes");

    net.pass_window().await;
    net.wait_closed(id, Outcome::Finalized, &[&worker]).await;

    // payment 0.1 + bond 0.05 is over the 0.01 threshold: the worker withdraws it by itself.
    let payout = U256::from(150_000_000_000_000_000u64);
    net.wait_withdrawn(address(WORKER), payout, &worker).await;
    assert!(net.credit(address(WORKER)).await.is_zero());

    let mut followed = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        followed.push(line);
    }
    let waited = poster.wait().await.expect("post --wait ends");
    assert!(waited.success(), "post --wait failed: {followed:?}");
    let followed = followed.join("\n");
    // It polls: it may miss a short-lived state, never the end.
    assert!(followed.contains("closed (Finalized)"), "{followed}");
    let (_, shown) = followed.split_once("result ").expect("the result is printed");
    assert!(shown.ends_with(&String::from_utf8_lossy(&expected).into_owned()), "{followed}");

    let (ok, stdout, stderr) = net.run(None, &["result", &format!("{id:#x}")]).await;
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim_end().as_bytes(), expected.as_slice());
    let (ok, stdout, stderr) = net.run(Some(POSTER), &["status"]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("closed (Finalized)"), "{stdout}");
    let (ok, stdout, stderr) = net.run(Some(WORKER), &["withdraw"]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("has no credit"), "the worker withdrew already: {stdout}");
    assert!(worker.is_alive());
    assert!(worker.terminate().await, "SIGTERM did not stop the worker cleanly: {}", worker.logs());
    assert!(worker.logs().contains("worker stopped"));

    // The worker's database remembers the job as closed, its bond released and its payout.
    let local = net.jsjob(Some(WORKER), "worker", None).args(["status", "--local"]).output().await.expect("status");
    let shown = String::from_utf8_lossy(&local.stdout);
    assert!(local.status.success(), "{}", String::from_utf8_lossy(&local.stderr));
    assert!(shown.contains("Worker Closed, bond 0 ETH, payout 0.15 ETH"), "{shown}");
    assert!(shown.contains("local: bonds locked 0 ETH, withdrawn 0.15 ETH"), "{shown}");
    let state = net.state(WORKER, "worker");
    let entry = state.job(id).expect("read").expect("the job is known");
    assert_eq!((entry.role, entry.step), (Role::Worker, Step::Closed));
    assert_eq!(entry.payout, payout);
    assert!(state.bonds_locked().expect("sum").is_zero());
    assert_eq!(state.ledger().expect("ledger").iter().filter(|e| e.kind == "withdraw").count(), 1);
    for key in DEV_KEYS {
        assert!(!worker.logs().contains(&key[2..]), "a key was logged");
    }
}

/// Two workers race for one job: exactly one claim lands, the loser carries on, the job is paid once.
#[tokio::test]
async fn two_workers_race_for_one_job() {
    let net = Net::start("race").await;
    let mut first = net.spawn("worker", WORKER, "first", None, &["--json"]);
    let mut second = net.spawn("worker", OTHER, "second", None, &[]);
    let id = net.post(DEMO_CODE, DEMO_INPUT, &[]).await;
    let submitted = net.wait_for(id, "Submitted", &[&first, &second], |v| v.status() == Status::Submitted).await;
    let claims = net.claims(id).await;
    assert_eq!(claims, vec![submitted.record.worker], "one claim, by the submitter");
    net.pass_window().await;
    net.wait_closed(id, Outcome::Finalized, &[&first, &second]).await;
    assert!(first.is_alive() && second.is_alive(), "a lost race stopped a worker");
    // `--json`: every log line is one JSON object.
    let logs = first.logs();
    assert!(logs.contains("worker started"));
    for line in logs.lines() {
        let object: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(object.get("fields").is_some(), "{line}");
    }
}

/// A worker SIGKILLed while it runs a claimed job restarts from its database: it does not claim again,
/// it runs the job it holds and submits the right result, and its bond is accounted once.
#[tokio::test]
async fn worker_killed_mid_job_resumes_without_claiming_twice() {
    let net = Net::start("kill").await;
    let code = net.file("slow.js", SLOW_JOB);
    let input = net.file("slow.txt", "20000000");
    let mut worker = net.spawn("worker", WORKER, "worker", None, &[]);
    let id = net.post(&code, &input, &[]).await;
    net.wait_for(id, "Claimed", &[&worker], |view| view.status() == Status::Claimed).await;
    worker.kill().await;
    let killed_logs = worker.logs();
    assert!(!killed_logs.contains("submitted"), "killed too late to test a resume: {killed_logs}");

    let mut restarted = net.spawn("worker", WORKER, "worker", None, &[]);
    let submitted = net.wait_for(id, "Submitted", &[&restarted], |v| v.status() == Status::Submitted).await;
    assert_eq!(net.claims(id).await, vec![address(WORKER)], "claimed twice");
    let expected = net.expected_output(&submitted).await;
    let result = net.store.get(&net::cid(submitted.result_cid.as_deref().expect("result"))).await.expect("stored");
    assert_eq!(result, expected);
    // A clean stop writes every deferred step to disk (after a SIGKILL the file may lag behind the chain).
    assert!(restarted.terminate().await, "the worker did not stop cleanly: {}", restarted.logs());

    let state = net.state(WORKER, "worker");
    let entry = state.job(id).expect("read").expect("known");
    assert_eq!(entry.step, Step::Submitted);
    assert_eq!(entry.intent, None);
    assert_eq!(entry.bond, U256::from(50_000_000_000_000_000u64), "the bond is remembered");
    assert_eq!(state.ledger().expect("ledger").iter().filter(|e| e.kind == "bond").count(), 1);
}

/// A worker that stopped between computing its output and submitting it (its database says Computed,
/// with a Submit intent in flight) resumes by submitting the recorded output, without running the job
/// again and without claiming again.
#[tokio::test]
async fn worker_stopped_after_computing_submits_its_recorded_output() {
    let net = Net::start("resume").await;
    let id = net.post(DEMO_CODE, DEMO_INPUT, &[]).await;
    let open = net.agency.job(id).await.expect("job");
    net.agency.claim(address(WORKER), id, &open.record).await.expect("the worker's claim, before it stopped");
    let output = net.expected_output(&open).await;
    let computed = net.store.put(&output).await.expect("its output, stored before it stopped");
    {
        let state = net.state(WORKER, "worker");
        state
            .update(id, |entry| {
                entry.role = Role::Worker;
                entry.step = Step::Computed;
                entry.output = Some(computed.to_string());
                entry.bond = U256::from(open.record.workerBond);
                entry.intent = Some(jsjob::state::Action::Submit);
            })
            .expect("seed the database");
    }
    let worker = net.spawn("worker", WORKER, "worker", None, &[]);
    let submitted = net.wait_for(id, "Submitted", &[&worker], |v| v.status() == Status::Submitted).await;
    assert_eq!(submitted.result_cid.as_ref().map(|cid| cid.as_ref()), Some(computed.as_bytes()));
    assert_eq!(net.claims(id).await, vec![address(WORKER)]);
    assert!(!worker.logs().contains("ran the job"), "it ran the job again: {}", worker.logs());
}

/// The endpoint goes away (every connection cut, new ones refused) and comes back: the worker rides it
/// out and works the job posted meanwhile. Over HTTP each failed poll is logged and retried.
#[tokio::test]
async fn worker_survives_the_rpc_endpoint_going_away() {
    outage("outage", "http", "poll failed").await;
}

/// Over WebSocket the socket itself reconnects: requests made during the outage wait for it, and the
/// worker works the job posted meanwhile once the endpoint is back.
#[tokio::test]
async fn worker_on_websocket_reconnects_after_the_endpoint_goes_away() {
    outage("outage-ws", "ws", "Reconnect").await;
}

/// A worker on a relay to anvil, through `scheme`, rides out an outage; its logs then show `noticed`.
async fn outage(name: &str, scheme: &str, noticed: &str) {
    let net = Net::start(name).await;
    let relay = Relay::start(net.anvil.endpoint().as_str()).await;
    let url = relay.url.replacen("http", scheme, 1);
    let mut worker = net.spawn("worker", WORKER, "worker", Some(&url), &[]);
    worker.wait_for_log("worker started").await;
    relay.down().await;
    let id = net.post(DEMO_CODE, DEMO_INPUT, &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(net.agency.job(id).await.expect("job").status(), Status::Open);
    assert!(worker.is_alive(), "the outage stopped the worker: {}", worker.logs());
    if scheme == "http" {
        // Some poll fails while the endpoint is away. (The round under way when it went may be waiting out
        // the transaction layer's retries, on a loaded machine past the 1.5 s above.)
        worker.wait_for_log(noticed).await;
    }
    relay.up();
    net.wait_for(id, "Submitted", &[&worker], |view| view.status() == Status::Submitted).await;
    assert!(worker.logs().contains(noticed), "the outage was not noticed ({noticed}): {}", worker.logs());
}

/// A reorg replaces the blocks holding the worker's claim and result after its cursor read them: the
/// cursor notices the replaced block by its hash, rolls back, and the worker, finding the job Open again,
/// claims and works it again on the new chain.
#[tokio::test]
async fn reorg_around_a_claim_is_undone_and_the_job_redone() {
    let net = Net::start("reorg").await;
    let code = net.file("slow.js", SLOW_JOB);
    let input_text = "1000";
    // Named as `store.put` (and `ipfs add`) names it, so that serving it below makes it fetchable.
    let input_cid = jsjob::store::cid_of(input_text.as_bytes(), &jsjob::store::AddOptions::V1).to_string();
    let worker = net.spawn("worker", WORKER, "worker", None, &[]);
    // The input is not served yet, so the worker cannot claim before the snapshot.
    let id = net.post(&code, &input_cid, &[]).await;
    let snapshot: String = net.provider.raw_request("evm_snapshot".into(), ()).await.expect("snapshot");
    net.store.put(input_text.as_bytes()).await.expect("serve the input");
    net.wait_for(id, "Submitted", &[&worker], |view| view.status() == Status::Submitted).await;
    // Let the worker's cursor read the blocks up to the head, then replace them.
    let head = net.provider.get_block_number().await.expect("head");
    let deadline = tokio::time::Instant::now() + net::PATIENCE;
    while cursor(&worker.logs()) < head {
        assert!(tokio::time::Instant::now() < deadline, "the cursor never reached {head}: {}", worker.logs());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let reverted: bool = net.provider.raw_request("evm_revert".into(), (snapshot,)).await.expect("revert");
    assert!(reverted);
    let _: String = net.provider.raw_request("evm_mine".into(), ()).await.expect("mine");
    assert_eq!(net.agency.job(id).await.expect("job").status(), Status::Open, "the reorg kept the claim");

    let submitted = net.wait_for(id, "Submitted again", &[&worker], |v| v.status() == Status::Submitted).await;
    assert_eq!(net.claims(id).await, vec![address(WORKER)]);
    let expected = net.expected_output(&submitted).await;
    let result = net.store.get(&net::cid(submitted.result_cid.as_deref().expect("result"))).await.expect("stored");
    assert_eq!(result, expected);
    let logs = worker.logs();
    assert!(logs.contains("rolling back the event cursor"), "{logs}");
    assert!(logs.contains("our claim is gone"), "{logs}");
}

/// The newest block an agent's log says its cursor has read.
fn cursor(logs: &str) -> u64 {
    logs.lines()
        .filter(|line| line.contains("events read"))
        .filter_map(|line| line.split("block=").nth(1)?.split_whitespace().next()?.parse().ok())
        .max()
        .unwrap_or_default()
}

/// A cheat claims and submits a made-up result; `jsjob verify` re-runs the job, challenges with a sealed
/// result, reveals; the trusted arbiter rules for it; it is paid the payment and both bonds and withdraws
/// them, and the cheat's bond is gone.
#[tokio::test]
async fn cheating_worker_is_challenged_by_verify_and_slashed() {
    let net = Net::start("cheat").await;
    let mut verifier = net.spawn("verify", OTHER, "verifier", None, &[]);
    let id = net.post(DEMO_CODE, DEMO_INPUT, &[]).await;
    net.cheat(id, br#"{"count":16,"sum":1000000}"#).await;

    let disputed = net.wait_for(id, "Disputed", &[&verifier], |view| view.status() == Status::Disputed).await;
    assert_eq!(disputed.record.challenger, address(OTHER));
    let expected = net.expected_output(&disputed).await;
    let revealed =
        net.store.get(&net::cid(disputed.challenge_cid.as_deref().expect("revealed"))).await.expect("stored");
    assert_eq!(revealed, expected, "the verifier revealed another result than Deno computes");

    net.agency.rule(address(ARBITER), id, &disputed.record, Ruling::ChallengerRight).await.expect("rule");
    net.wait_closed(id, Outcome::ChallengerUpheld, &[&verifier]).await;
    let pot = U256::from(200_000_000_000_000_000u64);
    net.wait_withdrawn(address(OTHER), pot, &verifier).await;
    assert!(net.credit(address(CHEAT)).await.is_zero());
    assert!(net.withdrawn(address(CHEAT)).await.is_zero(), "the cheat got its bond back");
    let (ok, stdout, stderr) = net.run(None, &["result", &format!("{id:#x}")]).await;
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim_end().as_bytes(), expected.as_slice(), "result shows the upheld challenger's output");
    assert!(verifier.is_alive());
}

/// With `--sample 0` the verifier draws no job: it looks at the cheat's result and leaves it alone.
#[tokio::test]
async fn verifier_checks_only_the_sampled_fraction() {
    let net = Net::start("sample").await;
    let verifier = net.spawn("verify", OTHER, "verifier", None, &["--sample", "0"]);
    let id = net.post(DEMO_CODE, DEMO_INPUT, &[]).await;
    net.cheat(id, b"made up").await;
    verifier.wait_for_log("not drawn for verification").await;
    assert_eq!(net.agency.job(id).await.expect("job").status(), Status::Submitted);
    assert!(!verifier.logs().contains("ran the job"), "{}", verifier.logs());
}

/// `jsjob verify --max-jobs 2` re-runs two slow jobs at once and never three, and a job whose input nobody
/// serves is noted and skipped without holding up the others: every cheat is challenged.
#[tokio::test]
async fn verifier_reruns_jobs_concurrently_within_its_bound_and_past_a_bad_job() {
    let net = Net::start("verify-concurrent").await;
    let code = net.file("slow.js", SLOW_JOB);
    let nobody = jsjob::cid::Cid::raw_leaf(b"nobody serves this").expect("small").to_string();
    let bad = net.post(DEMO_CODE, &nobody, &[]).await;
    net.cheat(bad, b"made up").await;
    let mut slow = Vec::new();
    for n in 0..3 {
        let input = net.file(&format!("slow{n}.txt"), &format!("{}", 20_000_000 + n));
        let id = net.post(&code, &input, &[]).await;
        net.cheat(id, b"made up").await;
        slow.push(id);
    }
    let mut verifier = net.spawn("verify", OTHER, "verifier", None, &["--max-jobs", "2"]);
    for &id in &slow {
        net.wait_for(id, "Disputed", &[&verifier], |view| view.status() == Status::Disputed).await;
    }
    verifier.wait_for_log(&format!("{nobody} is not in the store")).await;
    let logs = verifier.logs();
    let (mut at_once, mut most) = (0i32, 0i32);
    for line in logs.lines() {
        if line.contains("re-run started") {
            at_once += 1;
        } else if line.contains("re-run finished") {
            at_once -= 1;
        }
        most = most.max(at_once);
    }
    assert_eq!(most, 2, "re-runs at once, with --max-jobs 2:\n{logs}");
    assert!(verifier.is_alive());
}

/// A job whose input nobody serves and one whose engine the worker does not run are left alone (no bond
/// risked), and the worker goes on to work the next job.
#[tokio::test]
async fn unserved_input_and_foreign_engine_are_skipped_without_stopping_the_worker() {
    let net = Net::start("skips").await;
    let mut worker = net.spawn("worker", WORKER, "worker", None, &[]);
    let nobody = jsjob::cid::Cid::raw_leaf(b"nobody serves this").expect("small").to_string();
    let unserved = net.post(DEMO_CODE, &nobody, &[]).await;
    let foreign = net.post(DEMO_CODE, DEMO_INPUT, &["--engine", "quickjs/0.0.0"]).await;
    let good = net.post(DEMO_CODE, DEMO_INPUT, &["--options", "{}"]).await;
    net.wait_for(good, "Submitted", &[&worker], |view| view.status() == Status::Submitted).await;
    for id in [unserved, foreign] {
        assert_eq!(net.agency.job(id).await.expect("job").status(), Status::Open);
        assert!(net.claims(id).await.is_empty());
    }
    worker.wait_for_log(&format!("{nobody} is not in the store")).await;
    worker.wait_for_log("engine quickjs/0.0.0 is not run here").await;
    assert!(worker.is_alive());
}

/// A worker whose account pays gas but not a job's bond says so, every 15 s rather than at every poll,
/// claims nothing and keeps running; funded, it takes the job.
#[tokio::test]
async fn worker_short_of_the_bond_says_so_and_claims_once_funded() {
    let net = Net::start("short-of-bond").await;
    let set_balance = |wei: U256| net.provider.raw_request::<_, ()>("anvil_setBalance".into(), (address(OTHER), wei));
    // 0.01 ETH: the gas of many jobs, a fifth of the 0.05 ETH bond `net.post` asks for.
    set_balance(U256::from(10_000_000_000_000_000u64)).await.expect("anvil_setBalance");
    let mut worker = net.spawn("worker", OTHER, "worker", None, &[]);
    let id = net.post(DEMO_CODE, DEMO_INPUT, &[]).await;
    worker.wait_for_log("less than the bond and gas this job needs").await;
    assert_eq!(net.agency.job(id).await.expect("job").status(), Status::Open);
    assert!(net.claims(id).await.is_empty(), "a claim it could not pay for was sent");
    assert!(worker.is_alive());
    set_balance(U256::from(10u64).pow(U256::from(18u64))).await.expect("anvil_setBalance");
    net.wait_for(id, "Submitted", &[&worker], |view| view.status() == Status::Submitted).await;
}

/// Bad input reaches the user as one line naming the problem, with a non-zero exit, and nothing is sent.
#[tokio::test]
async fn bad_input_is_one_clear_line_and_nothing_is_lost() {
    let net = Net::start("bad-input").await;
    let bad_toml = net.file("bad.toml", "[chain\nrpc = 1\n");
    let zero_key = format!("0x{}", "0".repeat(64));
    // Valid keys whose accounts hold nothing, and 0.05 ETH: enough for gas, not for the jury's 0.1 ETH stake.
    let poor_key = format!("0x{}2", "0".repeat(63));
    let modest_key = format!("0x{}3", "0".repeat(63));
    let modest = modest_key.parse::<alloy::signers::local::PrivateKeySigner>().expect("a key").address();
    let _: () = net
        .provider
        .raw_request("anvil_setBalance".into(), (modest, U256::from(50_000_000_000_000_000u64)))
        .await
        .expect("anvil_setBalance");
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (vec!["status", "--config", &bad_toml], None, "the config file"),
        (vec!["status", "--rpc", "http://127.0.0.1:1"], None, "cannot reach the JSON-RPC endpoint http://127.0.0.1:1/"),
        (vec!["status", "--chain-id", "1"], None, "is chain 31337, but chain 1 is configured"),
        (vec!["status", "--deployment", "/nonexistent/deployment.json"], None, "no deployment for chain 31337"),
        (vec!["post", DEMO_CODE, DEMO_INPUT, "--payment", "100000"], Some(DEV_KEYS[POSTER]), "needs 100000 ETH"),
        (vec!["post", "bafkreinotacid", DEMO_INPUT], Some(DEV_KEYS[POSTER]), "is neither a file nor a CID"),
        (vec!["post", DEMO_CODE, DEMO_INPUT], None, "no key: set JSJOB_PRIVATE_KEY"),
        (vec!["post", DEMO_CODE, DEMO_INPUT], Some(&zero_key), "JSJOB_PRIVATE_KEY does not hold a private key"),
        (vec!["result", "0x1234"], None, "job 0x1234 was never posted"),
        (vec!["status", "--rpc", "ftp://127.0.0.1:1"], None, "setting chain.rpc: \"ftp://127.0.0.1:1\" is not a URL"),
        (vec!["post", DEMO_CODE, DEMO_INPUT, "--payment", "lots"], Some(DEV_KEYS[POSTER]), "--payment \"lots\" is not"),
        (vec!["worker", "--max-jobs", "0"], Some(DEV_KEYS[WORKER]), "--max-jobs must be at least 1"),
        (vec!["worker"], Some(&poor_key), "has 0 ETH but needs"),
        (vec!["verify"], Some(&poor_key), "(the gas of one job's challenge and reveal; bonds come on top)"),
        (vec!["verify", "--juror"], Some(&modest_key), "has 0.05 ETH but needs 0.1 ETH (the jury's stake)"),
        (vec!["verify", "--leave", "--sample", "2"], Some(DEV_KEYS[OTHER]), "--sample 2 is not in 0..=1"),
    ];
    for (args, key, expected) in cases {
        let mut command = net.jsjob(None, "cli", None);
        command.args(&args).env("RUST_LOG", "off");
        if let Some(key) = key {
            command.env("JSJOB_PRIVATE_KEY", key);
        }
        let output = command.output().await.expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: not one line: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains(&zero_key[2..]) && !stderr.contains(&DEV_KEYS[POSTER][2..]), "a key was shown");
    }
    assert!(net.agency.jobs().await.expect("jobs").is_empty(), "a failed command posted a job");

    // An encrypted keystore (written by `cast wallet import`) with its password from the environment.
    let keystores = net.dir.join("keystores");
    let cast = net.tools.root.join("node_modules/@foundry-rs/cast-linux-amd64/bin/cast");
    let imported = tokio::process::Command::new(&cast)
        .args(["wallet", "import", "poster", "--private-key", DEV_KEYS[POSTER], "--unsafe-password", "hunter2"])
        .arg("--keystore-dir")
        .arg(&keystores)
        .output()
        .await
        .expect("cast");
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let keystore = keystores.join("poster");
    let run = |password: &'static str| {
        let mut command = net.jsjob(None, "cli", None);
        command.args(["status", "--keystore"]).arg(&keystore).env("JSJOB_KEYSTORE_PASSWORD", password);
        command.output()
    };
    let output = run("hunter2").await.expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains(&format!("account {}", address(POSTER))));
    let output = run("wrong").await.expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot decrypt the keystore"));
}

/// `result --check` runs an example's functional check (`examples/primes/check.js`) in the job's engine:
/// the worker's honest result passes; a cheat's result that leaves out a prime is refused, with the
/// check's reason and a non-zero exit.
#[tokio::test]
async fn result_check_passes_an_honest_result_and_refuses_a_made_up_one() {
    let net = Net::start("check").await;
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/primes");
    let (code, input, check) =
        (format!("{example}/job.js"), format!("{example}/inputs/small.json"), format!("{example}/check.js"));
    let wrong = std::fs::read(format!("{example}/wrong/small-missing-7.json")).expect("the wrong output");
    // The cheat takes the first job before any worker runs.
    let cheated = net.post(&code, &input, &[]).await;
    net.cheat(cheated, &wrong).await;
    let worker = net.spawn("worker", WORKER, "worker", None, &[]);
    let honest = net.post(&code, &input, &[]).await;
    net.wait_for(honest, "Submitted", &[&worker], |view| view.status() == Status::Submitted).await;

    let (ok, stdout, stderr) = net.run(None, &["result", &format!("{honest:#x}"), "--check", &check]).await;
    assert!(ok, "the honest result failed its check: {stderr}");
    assert!(stdout.starts_with("check passed: {"), "{stdout}");
    let (ok, stdout, stderr) = net.run(None, &["result", &format!("{cheated:#x}"), "--check", &check]).await;
    assert!(!ok, "a result without the prime 7 passed its check: {stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("the result fails its check") && stderr.contains('7'), "{stderr}");
}
