//! Properties: CID and UnixFS round trips, any byte string re-assembles from its DAG, chunk boundaries.

use jsjob_store::{
    AddOptions, CHUNK_SIZE, Cid, Codec, HashOnly, Importer, MemoryStore, Store, Version, cid_of, import_reader, unixfs,
};
use proptest::prelude::*;

fn any_options() -> impl Strategy<Value = AddOptions> {
    (any::<bool>(), any::<bool>())
        .prop_map(|(v1, raw_leaves)| AddOptions { cid_version: if v1 { Version::V1 } else { Version::V0 }, raw_leaves })
}

fn any_cid() -> impl Strategy<Value = Cid> {
    (any::<[u8; 32]>(), any::<bool>(), any::<bool>()).prop_map(|(digest, v1, raw)| {
        let (version, codec) = match (v1, raw) {
            (false, _) => (Version::V0, Codec::DagPb),
            (true, false) => (Version::V1, Codec::DagPb),
            (true, true) => (Version::V1, Codec::Raw),
        };
        Cid::new(version, codec, digest).expect("valid combination")
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn cid_text_and_binary_forms_round_trip(cid in any_cid()) {
        prop_assert_eq!(cid.to_string().parse::<Cid>().expect("own text"), cid);
        prop_assert_eq!(Cid::from_bytes(cid.as_bytes()).expect("own bytes"), cid);
        prop_assert_eq!(cid.to_v1().digest(), cid.digest());
    }

    #[test]
    fn unixfs_nodes_round_trip(
        links in proptest::collection::vec((any_cid(), any::<u64>(), any::<u64>()), 0..20),
        data in proptest::collection::vec(any::<u8>(), 0..300),
        filesize in any::<u64>(),
    ) {
        let pairs: Vec<(Cid, u64)> = links.iter().map(|(c, t, _)| (*c, *t)).collect();
        let sizes: Vec<u64> = links.iter().map(|(_, _, s)| *s).collect();
        let block = unixfs::encode_file(&pairs, &data, filesize, &sizes);
        let cid = Cid::of_block(Version::V0, Codec::DagPb, &block);
        let node = unixfs::decode(&cid, &block).expect("own encoding");
        prop_assert_eq!(node.kind, unixfs::NodeType::File);
        prop_assert_eq!(node.links.iter().map(|l| (l.cid, l.tsize)).collect::<Vec<_>>(), pairs);
        prop_assert_eq!(node.blocksizes, sizes);
        prop_assert_eq!(node.data, data);
        prop_assert_eq!(node.filesize, filesize);
    }

    #[test]
    fn any_bytes_reassemble_from_their_dag(
        pattern in proptest::collection::vec(any::<u8>(), 1..1024),
        len in 0..3 * CHUNK_SIZE,
        options in any_options(),
    ) {
        // Random bytes repeated to a random length: generating megabytes byte by byte would be slow.
        let bytes: Vec<u8> = pattern.iter().copied().cycle().take(len).collect();
        let store = MemoryStore::default();
        let read = runtime().block_on(async {
            let cid = store.add(&bytes, options).await.expect("add");
            assert_eq!(cid, cid_of(&bytes, &options));
            store.get(&cid).await.expect("get")
        });
        prop_assert_eq!(read, bytes);
    }

    #[test]
    fn how_bytes_are_pushed_does_not_change_the_cid(
        len in (CHUNK_SIZE - 300)..(2 * CHUNK_SIZE + 300),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        options in any_options(),
    ) {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
        cuts.sort_unstable();
        let mut importer = Importer::new(options);
        let mut start = 0;
        for cut in cuts.into_iter().chain([len]) {
            importer.write(&bytes[start..cut], &mut HashOnly).expect("hash only");
            start = cut;
        }
        prop_assert_eq!(importer.finish(&mut HashOnly).expect("hash only").cid, cid_of(&bytes, &options));
    }
}

#[test]
fn every_size_near_a_chunk_boundary_reassembles() {
    let store = MemoryStore::default();
    let runtime = runtime();
    let bytes: Vec<u8> = (0..CHUNK_SIZE + 40).map(|i| (i * 31 % 256) as u8).collect();
    let mut seen = std::collections::HashSet::new();
    for len in CHUNK_SIZE - 40..=CHUNK_SIZE + 40 {
        for options in [AddOptions::V0, AddOptions::V1] {
            let content = &bytes[..len];
            let cid = runtime.block_on(store.add(content, options)).expect("add");
            assert!(seen.insert(cid), "{len} bytes: CID {cid} seen before");
            assert_eq!(import_reader(content, &options, &mut HashOnly).expect("hash only").cid, cid);
            assert_eq!(runtime.block_on(store.get(&cid)).expect("get"), content, "{len} bytes");
            // One chunk or less: one leaf; more: a root over two leaves.
            let root = runtime.block_on(jsjob_store::verified_block(&store, &cid)).expect("root");
            let links = match cid.codec() {
                Codec::Raw => 0,
                Codec::DagPb => unixfs::decode(&cid, &root).expect("dag-pb").links.len(),
            };
            assert_eq!(links, if len > CHUNK_SIZE { 2 } else { 0 }, "{len} bytes");
        }
    }
}
