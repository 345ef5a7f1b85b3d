//! The transaction layer against anvil with automine off, so that transactions pass simulation together
//! and meet on chain: one nonce manager per key keeps a key's concurrent sends apart, and a transaction
//! that fails on chain is reported with the contract's error, replayed on its block's state.

use std::{sync::Arc, time::Duration};

use alloy::{network::EthereumWallet, providers::Provider};
use jsjob::{
    chain::{
        self, Agency,
        job::Status,
        tx::{Transactions, TxSettings},
    },
    devnet,
};

use crate::net::{self, Net, OTHER, WORKER, address};

const DEMO_CODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/job.js");
const DEMO_INPUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/input.json");

#[tokio::test]
async fn concurrent_sends_get_distinct_nonces_and_a_mined_revert_is_named() {
    let net = Net::start("tx").await;
    let first = net.post(DEMO_CODE, DEMO_INPUT, &[]).await;
    let second = net.post(DEMO_CODE, DEMO_INPUT, &["--claim-within", "3000"]).await;
    let open = [net.agency.job(first).await.expect("job"), net.agency.job(second).await.expect("job")];

    let mut wallet = EthereumWallet::from(devnet::dev_signer(WORKER));
    wallet.register_signer(devnet::dev_signer(OTHER));
    let reader = chain::connect(net.anvil.endpoint().clone(), []);
    let transactions = Arc::new(Transactions::new(reader.clone(), wallet, 31337, TxSettings::default()));
    let agency = Agency::new(reader.clone(), &net.deployment).with_transactions(transactions);

    let _: () = net.provider.raw_request("evm_setAutomine".into(), (false,)).await.expect("automine off");
    let miner = async {
        // Mine once every send has reached the pool (each waits for its receipt until then).
        let deadline = tokio::time::Instant::now() + net::PATIENCE;
        loop {
            let pending: Vec<serde_json::Value> = net
                .provider
                .raw_request::<_, serde_json::Value>("txpool_content".into(), ())
                .await
                .ok()
                .and_then(|content| content.get("pending").cloned())
                .and_then(|pending| pending.as_object().map(|by_sender| by_sender.values().cloned().collect()))
                .unwrap_or_default();
            let count: usize = pending.iter().filter_map(|txs| txs.as_object().map(|txs| txs.len())).sum();
            if count == 3 || tokio::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _: String = net.provider.raw_request("evm_mine".into(), ()).await.expect("mine");
    };
    // WORKER claims both jobs at once (two nonces from one key); OTHER claims the first job too, with the
    // same Open record: all three pass simulation, and whichever claim of the first job comes second in
    // the block fails on chain.
    let (a, b, c, ()) = tokio::join!(
        agency.claim(address(WORKER), first, &open[0].record),
        agency.claim(address(WORKER), second, &open[1].record),
        agency.claim(address(OTHER), first, &open[0].record),
        miner,
    );
    let _: () = net.provider.raw_request("evm_setAutomine".into(), (true,)).await.expect("automine on");

    let b = b.expect("the second job's claim is mined: the key's two sends got distinct nonces");
    assert_eq!(net.agency.job(second).await.expect("job").record.worker, address(WORKER));
    let (won, lost) = match (a, c) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        (a, c) => panic!("exactly one claim of the first job must land: {a:?} / {c:?}"),
    };
    assert_eq!(won.block, b.block, "all three were mined in one block");
    assert!(matches!(lost, chain::Error::RevertedOnChain { .. }), "{lost}");
    assert_eq!(lost.revert().map(|revert| revert.name()), Some("JobAgency_StaleRecord"), "{lost}");
    assert_eq!(net.agency.job(first).await.expect("job").status(), Status::Claimed);
    let nonce = reader.get_transaction_count(address(WORKER)).await.expect("nonce");
    assert_eq!(nonce, 2, "two transactions from the worker's key");
}
