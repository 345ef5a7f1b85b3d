//! The event cursor against anvil: the confirmation depth holds back fresh blocks, and a replaced block
//! is found by its hash and rolled back to the newest checkpoint still on the chain.

use alloy::providers::Provider;
use jsjob::{
    chain::{
        job::Status,
        watch::{self, Step},
    },
    roles::Watcher,
    state::{Identity, State},
};

use crate::net::{Net, WORKER, address};

const DEMO_CODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/job.js");
const DEMO_INPUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/input.json");

async fn mine(net: &Net) {
    let _: String = net.provider.raw_request("evm_mine".into(), ()).await.expect("mine");
}

#[tokio::test]
async fn confirmations_hold_back_fresh_blocks_and_a_replaced_block_is_rolled_back() {
    let net = Net::start("watch").await;
    let identity = Identity { chain_id: 31337, agency: net.deployment.job_agency, account: address(WORKER) };
    let state = State::open(&net.dir.join("watch.redb"), identity).expect("state");
    let source = watch::Source {
        agency: net.deployment.job_agency,
        deploy_block: net.deployment.deploy_block,
        confirmations: 2,
        max_range: 3,
    };
    let mut watcher = Watcher::new(source, &state).expect("watcher");

    let id = net.post(DEMO_CODE, DEMO_INPUT, &[]).await;
    let mut changed = std::collections::BTreeSet::new();
    watcher.sync(&net.provider, &state, &mut changed).await.expect("sync");
    assert!(!watcher.jobs().contains_key(&id), "a block with fewer than 2 on top was read");
    assert!(changed.is_empty(), "{changed:?} changed before anything was read");
    for _ in 0..4 {
        mine(&net).await;
    }
    watcher.sync(&net.provider, &state, &mut changed).await.expect("sync");
    assert_eq!(watcher.jobs().get(&id).map(|view| view.status()), Some(Status::Open));
    assert_eq!(changed, [id].into(), "the post is what changed");
    changed.clear();
    let head = net.provider.get_block_number().await.expect("head");
    assert_eq!(state.checkpoints().expect("read")[0].block, head - 2, "read up to head - confirmations");

    // Replace the last 3 blocks (not the post's): the cursor's newest checkpoint, head - 2, is one of them.
    let checkpoints = state.checkpoints().expect("read");
    let newest = checkpoints[0];
    let _: bool = net
        .provider
        .raw_request("anvil_reorg".into(), (3u64, Vec::<serde_json::Value>::new()))
        .await
        .map(|_: serde_json::Value| true)
        .expect("anvil_reorg");
    let step = watch::step(&net.provider, &source, &checkpoints).await.expect("step");
    let Step::Reorg { to } = step else { panic!("the replaced block went unnoticed: {step:?}") };
    assert!(to.is_none_or(|to| to.block < newest.block), "rolled back to {to:?}");
    watcher.sync(&net.provider, &state, &mut changed).await.expect("sync after the reorg");
    assert!(changed.contains(&id), "a reorg changes every job known: {changed:?}");
    let after = state.checkpoints().expect("read")[0];
    let hash = net.provider.get_block_by_number(after.block.into()).await.expect("block").expect("exists").header.hash;
    assert_eq!(after.hash, hash, "the cursor is on the new chain");
    // The post is older than the reorg: the job is still known.
    assert!(watcher.jobs().contains_key(&id));
}
