//! The transaction layer against anvil, mostly with automine off, so that transactions pass simulation
//! together and meet on chain: one nonce manager per key keeps a key's concurrent sends apart (consecutive
//! nonces, no gap when a send is refused or the node drops one), and a transaction that fails on chain is
//! reported with the contract's error, replayed on its block's state.

use std::{sync::Arc, time::Duration};

use alloy::{
    consensus::Transaction as _,
    network::EthereumWallet,
    primitives::{U256, bytes},
    providers::Provider,
    rpc::types::{TransactionReceipt, TransactionRequest},
};
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

/// A fresh anvil (no contracts) and a sender holding WORKER's key.
async fn sender() -> (devnet::Anvil, alloy::providers::DynProvider, Arc<Transactions>) {
    sender_with(TxSettings::default()).await
}

/// [`sender`] with `settings`.
async fn sender_with(settings: TxSettings) -> (devnet::Anvil, alloy::providers::DynProvider, Arc<Transactions>) {
    let tools = jsjob::tools::Toolchain::find(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|error| panic!("{error}"));
    let anvil = devnet::Anvil::spawn(&tools.anvil).await.unwrap_or_else(|error| panic!("{error}"));
    let reader = chain::connect(anvil.endpoint().clone(), []);
    let wallet = EthereumWallet::from(devnet::dev_signer(WORKER));
    let transactions = Arc::new(Transactions::new(reader.clone(), wallet, 31337, settings));
    (anvil, reader, transactions)
}

/// WORKER's transaction of `nonce` in anvil's pool, `kind` `pending` (ready) or `queued`: its hash and max fee.
async fn pooled(reader: &alloy::providers::DynProvider, kind: &str, nonce: u64) -> Option<(String, u128)> {
    let content: serde_json::Value = reader.raw_request("txpool_content".into(), ()).await.expect("txpool");
    let by_sender = content[kind].as_object()?;
    let (_, by_nonce) =
        by_sender.iter().find(|(sender, _)| sender.eq_ignore_ascii_case(&address(WORKER).to_string()))?;
    let pooled = &by_nonce[nonce.to_string().as_str()];
    let fee = u128::from_str_radix(pooled["maxFeePerGas"].as_str()?.trim_start_matches("0x"), 16).ok()?;
    Some((pooled["hash"].as_str()?.to_owned(), fee))
}

/// 1 wei from WORKER to OTHER: a transaction a key can send any number of times.
fn transfer() -> TransactionRequest {
    TransactionRequest::default().from(address(WORKER)).to(address(OTHER)).value(U256::from(1))
}

/// The nonces of the mined transactions, sorted.
async fn nonces(reader: &alloy::providers::DynProvider, receipts: &[TransactionReceipt]) -> Vec<u64> {
    let mut nonces = Vec::new();
    for receipt in receipts {
        let tx = reader.get_transaction_by_hash(receipt.transaction_hash).await.expect("rpc").expect("mined");
        nonces.push(tx.nonce());
    }
    nonces.sort_unstable();
    nonces
}

#[tokio::test]
async fn many_concurrent_sends_from_one_key_land_on_consecutive_nonces_and_a_refused_one_leaves_no_gap() {
    let (_anvil, reader, transactions) = sender().await;
    // A contract creation whose code reverts: its simulation fails, so it must take no nonce.
    let reverting = TransactionRequest::default().from(address(WORKER)).input(bytes!("60006000fd").into());
    let mut sends = tokio::task::JoinSet::new();
    for index in 0..24 {
        let transactions = Arc::clone(&transactions);
        let tx = if index == 7 { reverting.clone() } else { transfer() };
        sends.spawn(async move { (index, transactions.send("transfer", tx).await) });
    }
    let mut receipts = Vec::new();
    while let Some(joined) = sends.join_next().await {
        match joined.expect("the send task") {
            (7, result) => assert!(result.is_err(), "the reverting creation was sent: {result:?}"),
            (_, result) => receipts.push(result.expect("every other send lands")),
        }
    }
    assert_eq!(nonces(&reader, &receipts).await, (0..23).collect::<Vec<u64>>(), "no nonce twice, no gap");
    // The next send, with nothing in flight, takes the node's count: the nonce after the last.
    let next = transactions.send("transfer", transfer()).await.expect("the next send");
    assert_eq!(nonces(&reader, &[next]).await, [23]);
}

#[tokio::test]
async fn a_transaction_the_node_dropped_is_sent_again_and_leaves_no_gap() {
    let (_anvil, reader, transactions) = sender().await;
    let _: () = reader.raw_request("evm_setAutomine".into(), (false,)).await.expect("automine off");
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let transactions = Arc::clone(&transactions);
        sends.spawn(async move { transactions.send("transfer", transfer()).await });
    }
    // Once the three are in the pool, drop the middle one: the third then waits behind a gap.
    let deadline = tokio::time::Instant::now() + net::PATIENCE;
    let dropped = loop {
        let content: serde_json::Value = reader.raw_request("txpool_content".into(), ()).await.expect("txpool");
        let mine = content["pending"].as_object().and_then(|by_sender| {
            by_sender.iter().find(|(sender, _)| sender.eq_ignore_ascii_case(&address(WORKER).to_string()))
        });
        if let Some((_, by_nonce)) = mine
            && by_nonce.as_object().is_some_and(|txs| txs.len() == 3)
        {
            break by_nonce["1"]["hash"].as_str().expect("a hash").parse::<alloy::primitives::B256>().expect("hash");
        }
        assert!(tokio::time::Instant::now() < deadline, "the three sends never reached the pool: {content}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _: Option<alloy::primitives::B256> =
        reader.raw_request("anvil_dropTransaction".into(), (dropped,)).await.expect("drop");
    let mut receipts = Vec::new();
    while receipts.len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "the sends never all landed");
        let _: String = reader.raw_request("evm_mine".into(), ()).await.expect("mine");
        tokio::select! {
            Some(joined) = sends.join_next() => receipts.push(joined.expect("the send task").expect("each send lands")),
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    assert_eq!(nonces(&reader, &receipts).await, [0, 1, 2]);
    assert!(
        receipts.iter().any(|receipt| receipt.transaction_hash == dropped),
        "the dropped transaction was sent again, the same signed bytes"
    );
    assert_eq!(reader.get_transaction_count(address(WORKER)).await.expect("count"), 3);
}

#[tokio::test]
async fn a_transaction_next_in_line_and_not_mined_is_replaced_at_higher_fees() {
    let settings = TxSettings { replace_after: Duration::from_secs(1), ..TxSettings::default() };
    let (_anvil, reader, transactions) = sender_with(settings).await;
    // Nothing is mined until the test says so: the transfer waits next in line, as one anvil lost track of.
    let _: () = reader.raw_request("evm_setAutomine".into(), (false,)).await.expect("automine off");
    let send = tokio::spawn({
        let transactions = Arc::clone(&transactions);
        async move { transactions.send("transfer", transfer()).await }
    });
    let deadline = tokio::time::Instant::now() + net::PATIENCE;
    let (first, first_fee) = loop {
        if let Some(pooled) = pooled(&reader, "pending", 0).await {
            break pooled;
        }
        assert!(tokio::time::Instant::now() < deadline, "the transfer never reached the pool");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let second = loop {
        match pooled(&reader, "pending", 0).await {
            Some((hash, _)) if hash != first => break hash,
            _ => {}
        }
        assert!(tokio::time::Instant::now() < deadline, "the transfer was never replaced");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _: String = reader.raw_request("evm_mine".into(), ()).await.expect("mine");
    let receipt = send.await.expect("the send task").expect("the transfer lands");
    assert_eq!(receipt.transaction_hash.to_string(), second, "the replacement is the one mined");
    let known = |hash: &str| {
        let reader = reader.clone();
        let hash: alloy::primitives::B256 = hash.parse().expect("a hash");
        async move { reader.get_transaction_by_hash(hash).await.expect("rpc") }
    };
    let mined = known(&second).await.expect("mined").max_fee_per_gas();
    assert!(mined > first_fee + first_fee / 8, "max fee {mined} is not an eighth above the first's {first_fee}");
    assert_eq!(nonces(&reader, &[receipt]).await, [0], "the same nonce");
    assert!(known(&first).await.is_none(), "the replaced transaction is neither mined nor pooled");
    assert_eq!(reader.get_transaction_count(address(WORKER)).await.expect("count"), 1);
}

/// anvil's pool holding a sender's next transaction without ever mining it, as it does under load (the
/// transaction's nonce was read before the previous one was mined, and it joined the pool after that one left
/// it): made here by hand. The pool gets the agent's nonce-1 transaction while nothing provides nonce 0, then
/// the account's nonce is set to 1.
#[tokio::test]
async fn a_transaction_next_in_line_that_blocks_leave_out_is_replaced_after_a_few() {
    // Far longer than the test: only the blocks can make it replace.
    let settings = TxSettings { replace_after: Duration::from_secs(600), ..TxSettings::default() };
    let (_anvil, reader, transactions) = sender_with(settings).await;
    let wallet = EthereumWallet::from(devnet::dev_signer(WORKER));
    let _: () = reader.raw_request("evm_setAutomine".into(), (false,)).await.expect("automine off");
    // Nonce 0 waits in the pool, so that the agent's transfer takes nonce 1.
    let mut zero = transfer().nonce(0).gas_limit(21_000).max_fee_per_gas(10_000_000_000).max_priority_fee_per_gas(1);
    zero.chain_id = Some(31337);
    let zero = alloy::network::NetworkTransactionBuilder::build(zero, &wallet).await.expect("signs");
    let zero_hash = *reader
        .send_raw_transaction(&alloy::eips::eip2718::Encodable2718::encoded_2718(&zero))
        .await
        .expect("nonce 0 taken")
        .tx_hash();
    let send = tokio::spawn({
        let transactions = Arc::clone(&transactions);
        async move { transactions.send("transfer", transfer()).await }
    });
    let deadline = tokio::time::Instant::now() + net::PATIENCE;
    while pooled(&reader, "pending", 1).await.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "the transfer never reached the pool");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Dropping nonce 0 drops the transfer that waits on it; the agent sends it again, and it waits for a
    // nonce 0 that no longer comes.
    let _: Option<alloy::primitives::B256> =
        reader.raw_request("anvil_dropTransaction".into(), (zero_hash,)).await.expect("drop");
    let stuck = loop {
        if let Some((hash, _)) = pooled(&reader, "queued", 1).await {
            break hash;
        }
        assert!(tokio::time::Instant::now() < deadline, "the dropped transfer was not sent again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _: () = reader.raw_request("anvil_setNonce".into(), (address(WORKER), U256::from(1))).await.expect("nonce");
    // Next in line now, and left out of every block: the blocks mined until the send lands.
    let mut blocks = 0;
    while !send.is_finished() {
        assert!(tokio::time::Instant::now() < deadline, "the stuck transfer was never replaced");
        let _: String = reader.raw_request("evm_mine".into(), ()).await.expect("mine");
        blocks += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let receipt = send.await.expect("the send task").expect("the transfer lands");
    assert_ne!(receipt.transaction_hash.to_string(), stuck, "a replacement is the one mined");
    assert_eq!(nonces(&reader, &[receipt]).await, [1], "the same nonce");
    assert!(blocks > 3, "replaced after {blocks} blocks: before it was left out of 3");
}
