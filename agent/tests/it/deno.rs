//! The demo's job on the V8 engine (the executor's own tests, in `crates/exec`, cover the engines).

use std::path::Path;

use jsjob::{
    demo,
    exec::{Engine, JobInput, Limits, Sandbox, Seed},
    tools::Toolchain,
};

#[tokio::test]
async fn runs_the_demo_job_to_canonical_json() {
    let tools = Toolchain::find(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|error| panic!("{error}"));
    let engine = Sandbox::v8(&tools.deno, Limits::default()).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(engine.id(), "v8/deno-2.9.6");
    let seed = Seed::derive(&[1; 32], b"input");
    let output = engine
        .run(JobInput { code: demo::DEMO_CODE, input: demo::DEMO_INPUT, options: None, seed })
        .await
        .expect("runs");
    let text = String::from_utf8(output.bytes).expect("UTF-8");
    assert!(
        text.starts_with(
            r#"{"count":16,"longestCollatz":{"n":837799,"steps":524},"primes":[2,3,7,97,1009,7919,65537],"sum":997543,"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn jsjob_run_runs_a_job_file_and_names_its_output_by_cid() {
    let dir = std::env::temp_dir().join(format!("jsjob-run-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (code, input) = (dir.join("job.js"), dir.join("input.json"));
    std::fs::write(&code, "function jsJobRun(input, options) { return { sum: input.a + input.b, options }; }")
        .expect("code");
    std::fs::write(&input, r#"{"b": 2, "a": 1}"#).expect("input");
    let run = jsjob::exec::run_local(jsjob::exec::EngineKind::V8, &code, Some(&input), Some(r#"{"k":true}"#))
        .await
        .expect("runs");
    assert_eq!(run.output.bytes, br#"{"options":{"k":true},"sum":3}"#);
    assert_eq!(run.engine, "v8/deno-2.9.6");
    // One chunk, CIDv1: the raw leaf is the file.
    assert_eq!(run.cid, jsjob::cid::Cid::raw_leaf(&run.output.bytes).expect("cid"));
    let missing = jsjob::exec::run_local(jsjob::exec::EngineKind::V8, &dir.join("none.js"), None, None).await;
    assert!(missing.expect_err("no such file").to_string().contains("none.js"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}
