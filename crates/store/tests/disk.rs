//! The on-disk blockstore: atomic writes under kill -9, agents sharing a directory, pins and gc, the size
//! cap, damaged blocks, DAG limits.

mod common;

use std::{process::Command, time::Duration};

use jsjob_store::{
    AddOptions, Blockstore, Cid, Codec, DiskStore, Error, Limits, MemoryStore, Store, Version, cid_of, unixfs,
};

fn content(seed: u64, len: usize) -> Vec<u8> {
    common::pseudo_random(seed, len)
}

/// The child half of `kill_9_leaves_no_torn_block`: adds files to the store in `JSJOB_STORE_WRITER_DIR`
/// until killed. Ignored, so that it only runs when that test starts it.
#[test]
#[ignore = "the child process of kill_9_leaves_no_torn_block"]
fn writer_child() {
    let Ok(dir) = std::env::var("JSJOB_STORE_WRITER_DIR") else { return };
    let store = DiskStore::open(&dir, None).expect("open");
    for seed in 0.. {
        store.add_blocking(&content(seed, 700_000), AddOptions::V1).expect("add");
    }
}

#[test]
fn kill_9_leaves_no_torn_block() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "writer_child", "--ignored", "--nocapture"])
        .env("JSJOB_STORE_WRITER_DIR", dir.path())
        .spawn()
        .expect("spawn the writer");
    // Let it write for a while, then SIGKILL it mid-write.
    let store = DiskStore::open(dir.path(), None).expect("open alongside the writer");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while store.blocks().list().expect("list").len() < 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let blocks = store.blocks().list().expect("list");
    assert!(blocks.len() >= 20, "the writer wrote only {} blocks", blocks.len());
    for cid in blocks {
        let block = store.blocks().get(&cid).expect("read").expect("listed");
        assert!(cid.verifies(&block), "torn block {cid} ({} bytes)", block.len());
    }
}

#[tokio::test]
async fn agents_sharing_a_directory_see_each_others_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = (DiskStore::open(dir.path(), None).expect("a"), DiskStore::open(dir.path(), None).expect("b"));
    let writers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|store| {
            std::thread::spawn(move || store.add_blocking(&content(7, 2_000_000), AddOptions::V0).expect("add"))
        })
        .collect();
    let cids: Vec<Cid> = writers.into_iter().map(|w| w.join().expect("writer").cid).collect();
    assert_eq!(cids[0], cids[1]);
    assert_eq!(b.get(&cids[0]).await.expect("b reads"), content(7, 2_000_000));
    let other = a.add(b"from a", AddOptions::V1).await.expect("add");
    assert_eq!(b.get(&other).await.expect("b reads a's file"), b"from a");
    // gc needs the store to itself while another agent has it open.
    assert!(matches!(a.gc().await, Err(Error::Unsupported(message)) if message.contains("another agent")));
}

#[tokio::test]
async fn gc_keeps_pinned_files_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = DiskStore::open(dir.path(), None).expect("open");
    let kept = store.add(&content(1, 600_000), AddOptions::V0).await.expect("add");
    let dropped = store.add(&content(2, 600_000), AddOptions::V0).await.expect("add");
    assert!(store.unpin(&dropped).expect("unpin"));
    assert!(!store.unpin(&dropped).expect("unpin twice"));
    assert_eq!(store.gc().await.expect("gc"), 4, "3 leaves and a root");
    assert_eq!(store.get(&kept).await.expect("kept"), content(1, 600_000));
    assert!(matches!(store.get(&dropped).await, Err(Error::NotFound(_))));
    // Pinning a file whose blocks are not all here fails.
    assert!(matches!(store.pin(&dropped).await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn the_size_cap_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = DiskStore::open(dir.path(), Some(1 << 20)).expect("open");
    store.add(&content(3, 500_000), AddOptions::V0).await.expect("under the cap");
    let error = store.add(&content(4, 900_000), AddOptions::V0).await.expect_err("over the cap");
    let message = error.to_string();
    assert!(matches!(error, Error::StoreFull { cap: 1_048_576, .. }), "{message}");
    assert!(message.contains("raise the cap"), "{message}");
    assert!(store.blocks().used() <= 1 << 20);
}

#[tokio::test]
async fn a_damaged_block_is_reported_not_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = DiskStore::open(dir.path(), None).expect("open");
    let cid = store.add(&content(5, 300_000), AddOptions::V1).await.expect("add");
    let leaf = cid_of(&content(5, 300_000)[..262_144], &AddOptions::V1);
    let hex: String = leaf.digest().iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.path().join("blocks").join(&hex[..2]).join(&hex);
    let mut bytes = std::fs::read(&path).expect("leaf on disk");
    bytes[1000] ^= 0xff;
    std::fs::write(&path, bytes).expect("damage it");
    assert!(matches!(store.get(&cid).await, Err(Error::HashMismatch(c)) if c == leaf));
}

#[tokio::test]
async fn hostile_dags_are_stopped_by_the_limits() {
    // A chain of single-link nodes, each one level deeper, over one small leaf.
    let store = MemoryStore::default();
    let mut cid = store.add(b"leaf", AddOptions::V1).await.expect("leaf");
    for _ in 0..5 {
        let block = unixfs::encode_file(&[(cid, 4)], b"", 4, &[4]);
        cid = Cid::of_block(Version::V0, Codec::DagPb, &block);
        store.put_block(&cid, &block).expect("verified block");
    }
    assert_eq!(store.get(&cid).await.expect("depth 5 is allowed by default"), b"leaf");
    let shallow = store.clone().with_limits(Limits { max_depth: 4, ..Limits::default() });
    assert!(matches!(shallow.get(&cid).await, Err(Error::OverLimit { .. })));
    // A node that claims more bytes than its children hold.
    let liar = unixfs::encode_file(&[(cid, 4)], b"", 5, &[5]);
    let liar_cid = Cid::of_block(Version::V0, Codec::DagPb, &liar);
    store.put_block(&liar_cid, &liar).expect("verified block");
    assert!(matches!(store.get(&liar_cid).await, Err(Error::Malformed { .. })));
    // A block that does not match its CID never enters the store.
    assert!(matches!(store.put_block(&liar_cid, b"something else"), Err(Error::HashMismatch(_))));
}

#[tokio::test]
async fn car_export_imports_into_another_store_and_bad_cars_store_nothing_unverified() {
    let source = MemoryStore::default();
    let bytes = content(9, 900_000);
    let cid = source.add(&bytes, AddOptions::V0).await.expect("add");
    let car = source.export_car(&cid).await.expect("export");
    let dir = tempfile::tempdir().expect("temp dir");
    let target = DiskStore::open(dir.path(), None).expect("open");
    assert_eq!(target.import_car(&car).await.expect("import"), [cid]);
    assert_eq!(target.get(&cid).await.expect("imported"), bytes);
    // A truncated CAR: the complete blocks before the cut are stored (each verified), the root is not
    // pinned because its DAG is incomplete.
    let other = MemoryStore::default();
    let truncated = &car[..car.len() / 2];
    assert!(matches!(other.import_car(truncated).await, Err(Error::Car(_) | Error::NotFound(_))));
    assert!(other.blocks().pins().expect("pins").is_empty());
    // A flipped byte inside a block: refused, and that block is not stored.
    let mut forged = car.clone();
    let at = forged.len() - 100;
    forged[at] ^= 1;
    let fresh = MemoryStore::default();
    let error = fresh.import_car(&forged).await.expect_err("forged");
    let Error::HashMismatch(bad) = error else { panic!("{error}") };
    assert!(!fresh.blocks().has(&bad).expect("has"));
}
