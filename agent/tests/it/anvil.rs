//! The agent against a real chain: a fresh anvil per test, the contracts deployed by the repository's
//! forge script.

use std::path::Path;

use alloy::primitives::{B256, U256};
use jsjob::{
    chain::{
        self, Agency,
        job::{self, Outcome, Status},
    },
    cid::Cid,
    demo::{self, Cast},
    devnet::{self, Anvil, DEV_KEYS},
    tools::Toolchain,
};
use tokio::sync::Mutex;

/// forge writes `deployments/31337.json` and its broadcast files in the repository: one deployment at a
/// time.
pub(crate) static DEPLOYING: Mutex<()> = Mutex::const_new(());

const ETHER: u64 = 1_000_000_000_000_000_000;

fn eth(numerator: i64, denominator: i64) -> alloy::primitives::I256 {
    alloy::primitives::I256::try_from(numerator * (ETHER as i64 / denominator)).expect("small amount")
}

fn toolchain() -> Toolchain {
    Toolchain::find(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|error| panic!("{error}"))
}

#[tokio::test]
async fn demo_settles_both_jobs_and_conserves_eth() {
    let _deploying = DEPLOYING.lock().await;
    let options = demo::Options { start_dir: Some(env!("CARGO_MANIFEST_DIR").into()) };
    let mut lines = Vec::new();
    let mut say = |line: &str| lines.push(line.to_owned());
    let (report, anvil) = demo::run(&options, &mut say).await.unwrap_or_else(|error| panic!("demo failed: {error}"));
    anvil.stop().await;
    let transcript = lines.join("\n");

    assert_eq!(report.outcomes.get(&report.happy_job), Some(&Outcome::Finalized), "{transcript}");
    assert_eq!(report.outcomes.get(&report.disputed_job), Some(&Outcome::ChallengerUpheld), "{transcript}");
    assert!(report.agency_balance.is_zero());
    assert!(report.credit_left.is_zero());
    assert!(report.imbalance().is_zero(), "ETH not conserved: {}\n{transcript}", report.imbalance());

    // What the market paid or took from each role, gas aside: the poster paid two jobs, the honest worker
    // earned one payment, the challenger one payment and the cheat's bond, which the cheat lost.
    let market = |role: &str| report.account(role).unwrap_or_else(|| panic!("no {role}")).market();
    assert_eq!(market("poster"), -eth(2, 10));
    assert_eq!(market("worker"), eth(1, 10));
    assert_eq!(market("challenger"), eth(1, 10) + eth(1, 20));
    assert_eq!(market("cheat"), -eth(1, 20));
    assert_eq!(market("keeper"), eth(0, 1));
    assert_eq!(market("arbiter"), eth(0, 1));
    for account in &report.accounts {
        let is_contract = account.role == "JobAgency" || account.role == "TrustedArbiter";
        assert_eq!(account.fees.is_zero(), is_contract, "{} paid {} wei of gas", account.role, account.fees);
    }
    // Keys are never printed.
    for key in DEV_KEYS {
        assert!(!transcript.contains(&key[2..]), "a private key was printed");
    }
    assert!(transcript.contains("JobAgency_NoCredit()"), "{transcript}");
}

#[tokio::test]
async fn stale_record_is_refused_by_name_and_hashes_match_the_contract() {
    let _deploying = DEPLOYING.lock().await;
    let tools = toolchain();
    let anvil = Anvil::spawn(&tools.anvil).await.unwrap_or_else(|error| panic!("{error}"));
    let cast = Cast::dev();
    let provider = chain::connect(anvil.endpoint().clone(), cast.all().map(|actor| actor.signer.clone()));
    let deployment = devnet::deploy(&tools, anvil.endpoint(), 31337, DEV_KEYS[0], &provider)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let agency = Agency::new(provider.clone(), &deployment);

    let code = Cid::raw_leaf(demo::DEMO_CODE).expect("small");
    let input = Cid::raw_leaf(demo::DEMO_INPUT).expect("small");
    let now = devnet::chain_time(&provider).await.expect("chain time");
    let spec =
        demo::demo_spec(&code, &input, B256::right_padding_from(b"v8/deno-2.9.6"), deployment.trusted_arbiter, now);
    let (job_id, sent) = agency.post(cast.poster.address(), spec.clone()).await.expect("post");

    // The helpers agree with the contract's own views.
    let open = agency.job(job_id).await.expect("rebuilt and checked against jobHash");
    assert_eq!(open.status(), Status::Open);
    assert_eq!(job::hash_job(&open.record), agency.hash_job_on_chain(&open.record).await.expect("hashJob"));
    assert_eq!(job::hash_job(&open.record), agency.job_hash(job_id).await.expect("jobHash"));
    assert_eq!(job::job_id(cast.poster.address(), sent.block, job::hash_spec(&spec)), job_id);

    agency.claim(cast.worker.address(), job_id, &open.record).await.expect("claim");

    // The Open record is stale now: another worker's claim with it is refused, by name.
    let error = agency.claim(cast.cheat.address(), job_id, &open.record).await.expect_err("stale record accepted");
    let revert = error.revert().unwrap_or_else(|| panic!("not a revert: {error}"));
    assert_eq!(revert.name(), "JobAgency_StaleRecord");
    assert_eq!(error.to_string(), format!("claim reverted: JobAgency_StaleRecord(jobId: {job_id})"));

    // With the current record the status check speaks instead.
    let claimed = agency.job(job_id).await.expect("rebuilt");
    assert_eq!(claimed.status(), Status::Claimed);
    let error = agency.claim(cast.cheat.address(), job_id, &claimed.record).await.expect_err("claimed twice");
    assert_eq!(error.to_string(), "claim reverted: JobAgency_WrongStatus(status: 2 (Claimed))");

    // An arbiter error bubbles up by name too.
    let error = agency
        .rule(cast.poster.address(), job_id, &claimed.record, job::Ruling::WorkerRight)
        .await
        .expect_err("not the owner");
    assert_eq!(error.revert().map(|revert| revert.name()), Some("TrustedArbiter_Unauthorized"), "{error}");
    assert_eq!(agency.credit_of(cast.worker.address()).await.expect("creditOf"), U256::ZERO);
    anvil.stop().await;
}

#[tokio::test]
async fn back_to_back_mining_takes_every_ready_transaction_and_keeps_the_clock_going() {
    use alloy::{
        eips::eip2718::Encodable2718,
        network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
        primitives::Address,
        providers::Provider,
        rpc::types::TransactionRequest,
    };
    const TRANSFERS: u64 = 200;
    let tools = toolchain();
    let options = devnet::AnvilOptions { mine_back_to_back: true, ..Default::default() };
    let anvil = Anvil::spawn_with(&tools.anvil, &options).await.unwrap_or_else(|error| panic!("{error}"));
    let provider = chain::connect(anvil.endpoint().clone(), []);

    // No transaction: blocks still come, one per `MINE_IDLE`, so the chain's clock moves.
    let start = provider.get_block_number().await.expect("block number");
    tokio::time::sleep(devnet::MINE_IDLE * 3).await;
    let idle = provider.get_block_number().await.expect("block number");
    assert!(idle > start, "no block in {:?} without transactions ({start} → {idle})", devnet::MINE_IDLE * 3);

    // Transfers signed ahead and sent together are all mined, several to a block.
    let signer = devnet::dev_signer(7);
    let from = signer.address();
    let wallet = EthereumWallet::from(signer);
    let mut raw = Vec::new();
    for nonce in 0..TRANSFERS {
        let tx = TransactionRequest::default()
            .with_from(from)
            .with_to(Address::with_last_byte(0xee))
            .with_value(U256::from(1))
            .with_nonce(nonce)
            .with_gas_limit(21_000)
            .with_max_fee_per_gas(10_000_000_000)
            .with_max_priority_fee_per_gas(1)
            .with_chain_id(31337);
        raw.push(tx.build(&wallet).await.expect("signs").encoded_2718());
    }
    let mut sends = tokio::task::JoinSet::new();
    for bytes in raw {
        let provider = provider.clone();
        sends.spawn(async move { *provider.send_raw_transaction(&bytes).await.expect("anvil takes it").tx_hash() });
    }
    let hashes = sends.join_all().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while provider.get_transaction_count(from).await.expect("nonce") < TRANSFERS {
        assert!(tokio::time::Instant::now() < deadline, "the transfers were not all mined within 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut blocks = std::collections::BTreeSet::new();
    for hash in hashes {
        let receipt = provider.get_transaction_receipt(hash).await.expect("receipt").expect("mined");
        assert!(receipt.status(), "transfer {hash} failed");
        blocks.insert(receipt.block_number.expect("a block"));
    }
    assert!(blocks.len() < TRANSFERS as usize, "{TRANSFERS} transfers took {} blocks: one each", blocks.len());
    assert_eq!(anvil.miner_trouble(), None);
    anvil.stop().await;
}
