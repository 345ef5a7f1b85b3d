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
