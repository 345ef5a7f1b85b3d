//! `jsjob devnet` end to end, as a user runs it: the real binary, headless, every example on both engines,
//! with the cheater; then, against the chain and the store it leaves running, checks made here without
//! the devnet's own accounting: every job's final state, every result's bytes (computed again here in the
//! job's engine), ETH conserved over every account from the chain's first block, and the cheater's
//! bonds slashed. Last, Ctrl-C stops it and every child it started.

use std::{collections::HashMap, path::Path, process::Stdio, time::Duration};

use alloy::{
    eips::BlockId,
    primitives::{Address, I256, U256},
    providers::Provider,
};
use jsjob::{
    chain::{self, Agency, Deployment, job::Outcome},
    cid::Cid,
    devnet::{self, DEV_KEYS},
    exec::{self, Engine, JobInput, Limits, Sandbox, Seed},
    market::catalog,
    store::{ClientOptions, KuboClient, Store},
    tools::Toolchain,
};
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long the devnet may take to reach its summary (the forge build is warm in CI: `scripts/test.sh`
/// builds the contracts first).
const START: Duration = Duration::from_secs(240);
/// Dev accounts as the devnet casts them.
const VERIFIER: usize = 2;
const CHEATER: usize = 3;
/// anvil's dev accounts start with 10 000 ETH.
const INITIAL: u128 = 10_000 * 1_000_000_000_000_000_000;
/// The bond the devnet's jobs ask for: 0.005 ETH.
const BOND: u128 = 5_000_000_000_000_000;

#[tokio::test]
async fn devnet_runs_the_examples_on_both_engines_and_slashes_the_cheater() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository").to_owned();
    let tools = Toolchain::at(&root).unwrap_or_else(|error| panic!("{error}"));
    let dir = std::env::temp_dir().join(format!("jsjob-it-devnet-{}", std::process::id()));
    let deploying = crate::anvil::DEPLOYING.lock().await;
    let mut devnet = tokio::process::Command::new(env!("CARGO_BIN_EXE_jsjob"))
        .args(["devnet", "--headless", "--with-cheater", "--fresh", "--keep-running", "--timeout", "180"])
        .args(["--port", "0", "--ipfs-port", "0", "--dir"])
        .arg(&dir)
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start jsjob devnet");
    let mut lines = BufReader::new(devnet.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    let mut deploying = Some(deploying);
    let read = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("contracts ") {
                // forge has written its files: other tests may deploy.
                deploying.take();
            }
            let done = line.contains("export JSJOB_PRIVATE_KEY=");
            seen.push(line);
            if done {
                return true;
            }
        }
        false
    };
    let ready = tokio::time::timeout(START, read).await.unwrap_or(false);
    drop(deploying);
    let output = seen.join("\n");
    assert!(ready, "the devnet did not reach its summary:\n{output}");
    assert!(output.contains("ETH conserved: Σ balance changes + Σ gas fees = 0 wei [ok]"), "{output}");
    let export = |name: &str| {
        let prefix = format!("export {name}=");
        seen.iter()
            .find_map(|line| {
                line.trim().strip_prefix(&prefix).map(|v| v.split_whitespace().next().unwrap_or("").to_owned())
            })
            .unwrap_or_else(|| panic!("no {name} in\n{output}"))
    };
    let pids: Vec<u32> =
        seen.iter().filter_map(|line| line.split("(pid ").nth(1)?.split([',', ')']).next()?.parse().ok()).collect();
    assert_eq!(pids.len(), 5, "anvil, the verifier and 3 workers: {pids:?}\n{output}");

    let provider = chain::connect(export("JSJOB_RPC").parse().expect("rpc url"), []);
    let deployment = Deployment::load(Path::new(&export("JSJOB_DEPLOYMENT"))).expect("deployment");
    let agency = Agency::new(provider.clone(), &deployment);
    let store = KuboClient::new(&export("JSJOB_IPFS_API"), ClientOptions::default()).expect("store client");

    // Every job: its example run found by its code, input and options; closed as it should be; its
    // settled result what the job's engine gives here.
    let runs = catalog::load(&root.join("examples"), &[]).expect("examples");
    let v8 = Sandbox::v8(&tools.deno, Limits::default()).await.expect("deno");
    let quickjs = Sandbox::quickjs(&exec::find_sandbox_binary().expect("jsjob-sandbox"), Limits::default())
        .await
        .expect("quickjs");
    let cheater = devnet::dev_signer(CHEATER).address();
    let verifier = devnet::dev_signer(VERIFIER).address();
    let jobs = agency.jobs().await.expect("jobs");
    assert_eq!(jobs.len(), runs.len() * 2, "each example run once per engine");
    let mut per_engine: HashMap<String, usize> = HashMap::new();
    let mut cheated = 0u128;
    for view in jobs.values() {
        let code = store.get(&Cid::from_bytes(&view.spec.codeCid).expect("cid")).await.expect("code");
        let input = store.get(&Cid::from_bytes(&view.spec.inputCid).expect("cid")).await.expect("input");
        let options = view.spec.options.get(1..).unwrap_or_default().to_vec();
        let run = runs
            .iter()
            .find(|run| {
                std::fs::read(&run.code).ok() == Some(code.clone())
                    && std::fs::read(&run.input).ok() == Some(input.clone())
                    && run.options == options
            })
            .unwrap_or_else(|| panic!("job {:#x} is no example run", view.id));
        let engine = [&v8, &quickjs]
            .into_iter()
            .find(|engine| engine.engine_word() == view.spec.engine.0)
            .unwrap_or_else(|| panic!("job {:#x} names an engine not run here", view.id));
        *per_engine.entry(engine.id().to_owned()).or_default() += 1;
        let settled = if view.record.worker == cheater {
            cheated += 1;
            assert_eq!(view.outcome, Some(Outcome::ChallengerUpheld), "{}: the cheat was not caught", run.label());
            assert_eq!(view.record.challenger, verifier);
            view.challenge_cid.as_deref().expect("revealed")
        } else {
            assert_eq!(view.outcome, Some(Outcome::Finalized), "{}", run.label());
            view.result_cid.as_deref().expect("submitted")
        };
        let result = store.get(&Cid::from_bytes(settled).expect("cid")).await.expect("result");
        let seed = Seed::derive(&view.id.to_be_bytes::<32>(), &view.spec.inputCid);
        let options = (!options.is_empty()).then_some(options.as_slice());
        let expected = engine.run(JobInput { code: &code, input: &input, options, seed }).await.expect("runs").bytes;
        assert!(result == expected, "{} on {}: the settled result is not the job's output", run.label(), engine.id());
    }
    assert_eq!(per_engine.len(), 2, "{per_engine:?}");
    assert!(cheated > 0, "the cheater took no job:\n{output}");
    // The summary ran each example's functional check on the cheater's overturned results: all refused.
    assert_eq!(output.matches("the overturned result, checked: REFUSED").count() as u128, cheated, "{output}");

    // ETH conserved over the whole chain: every dev account and both contracts, every fee since block 0.
    let latest = provider.get_block_number().await.expect("block number");
    let mut fees: HashMap<Address, U256> = HashMap::new();
    for block in 0..=latest {
        let receipts = provider.get_block_receipts(BlockId::number(block)).await.expect("receipts").unwrap_or_default();
        for receipt in receipts {
            *fees.entry(receipt.from).or_default() +=
                U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
        }
    }
    let mut accounts: Vec<(Address, U256)> =
        (0..DEV_KEYS.len()).map(|k| (devnet::dev_signer(k).address(), U256::from(INITIAL))).collect();
    accounts.push((deployment.job_agency, U256::ZERO));
    accounts.push((deployment.trusted_arbiter, U256::ZERO));
    assert!(fees.keys().all(|sender| accounts.iter().any(|(a, _)| a == sender)), "a stranger sent a transaction");
    let mut imbalance = I256::ZERO;
    let mut market = HashMap::new();
    for (address, initial) in &accounts {
        let now = provider.get_balance(*address).await.expect("balance");
        let change = I256::from_raw(now) - I256::from_raw(*initial)
            + I256::from_raw(fees.get(address).copied().unwrap_or_default());
        market.insert(*address, change);
        imbalance += change;
    }
    assert!(imbalance.is_zero(), "ETH not conserved: {imbalance} wei");
    // The cheater lost its bond on every job it took, and nothing else.
    let slashed = I256::from_raw(U256::from(cheated * BOND));
    assert_eq!(market[&cheater], -slashed, "the cheater's balance before gas");
    assert!(agency.credit_of(cheater).await.expect("credit").is_zero());

    // Ctrl-C: the devnet stops every child and exits cleanly.
    let pid = devnet.id().expect("running").to_string();
    let sent = tokio::process::Command::new("kill").args(["-INT", &pid]).status().await.expect("kill -INT");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(60), devnet.wait()).await.expect("stops").expect("status");
    assert!(status.success(), "the devnet failed on Ctrl-C: {status}");
    for pid in pids {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "child {pid} outlived the devnet");
    }
    assert!(dir.join("anvil-state.json").is_file(), "anvil did not keep its state");

    // A second run reuses the directory: the chain (its state file), the deployment, the store, the
    // agents' databases.
    let again = tokio::process::Command::new(env!("CARGO_BIN_EXE_jsjob"))
        .args(["devnet", "--headless", "--example", "sudoku", "--engine", "v8", "--workers", "1"])
        .args(["--port", "0", "--ipfs-port", "0", "--dir"])
        .arg(&dir)
        .current_dir(&root)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let again = tokio::time::timeout(START, again).await.expect("the second run ends").expect("second run");
    let shown = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{shown}{}", String::from_utf8_lossy(&again.stderr));
    assert!(shown.contains("contracts reused from"), "{shown}");
    assert!(shown.contains("= 0 wei [ok]"), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad input is one line on stderr and a non-zero exit, before anything starts.
#[tokio::test]
async fn devnet_bad_input_is_one_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository").to_owned();
    let base = std::env::temp_dir().join(format!("jsjob-it-devnet-bad-{}", std::process::id()));
    std::fs::create_dir_all(&base).expect("test directory");
    let refused = |args: Vec<String>, needle: &'static str| {
        let root = root.clone();
        async move {
            let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_jsjob"))
                .arg("devnet")
                .args(["--headless", "--ipfs-port", "0"])
                .args(&args)
                .current_dir(&root)
                .stdin(Stdio::null())
                .output()
                .await
                .expect("run jsjob devnet");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{args:?} succeeded");
            assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: not one line: {stderr}");
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
        }
    };
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("address").port().to_string();
    let dir = |name: &str| base.join(name).display().to_string();
    refused(vec!["--port".into(), port, "--dir".into(), dir("a")], "is in use").await;
    std::fs::write(base.join("file"), "not a directory").expect("file");
    refused(vec!["--port".into(), "0".into(), "--dir".into(), dir("file")], "is a file").await;
    std::fs::create_dir_all(base.join("mine")).expect("dir");
    std::fs::write(base.join("mine/keep.txt"), "someone's data").expect("file");
    refused(vec!["--port".into(), "0".into(), "--fresh".into(), "--dir".into(), dir("mine")], "not a devnet directory")
        .await;
    assert!(base.join("mine/keep.txt").is_file(), "--fresh cleared a directory that is not the devnet's");
    refused(vec!["--port".into(), "0".into(), "--example".into(), "nope".into()], "no example named \"nope\"").await;
    // A devnet directory whose chain state is broken.
    std::fs::create_dir_all(base.join("broken")).expect("dir");
    std::fs::write(base.join("broken/.jsjob-devnet"), "").expect("marker");
    std::fs::write(base.join("broken/anvil-state.json"), "{not json").expect("state");
    refused(vec!["--port".into(), "0".into(), "--dir".into(), dir("broken")], "pass --fresh").await;
    let _ = std::fs::remove_dir_all(&base);
}
