//! The Deno engine against the pinned binary: outputs, the job API, and the sandbox's refusals.

use std::{path::Path, time::Duration};

use jsjob::{
    demo,
    exec::{Deno, Engine, Error, JobInput, Limits},
    tools::Toolchain,
};

async fn engine(limits: Limits) -> Deno {
    let tools = Toolchain::find(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|error| panic!("{error}"));
    Deno::new(&tools.deno, limits).await.unwrap_or_else(|error| panic!("{error}"))
}

async fn run(code: &str, input: &str) -> Result<String, Error> {
    let output = engine(Limits::default())
        .await
        .run(JobInput { code: code.as_bytes(), input: input.as_bytes(), options: None, seed: 7 })
        .await?;
    Ok(String::from_utf8(output.bytes).expect("UTF-8 output"))
}

#[tokio::test]
async fn runs_the_demo_job_to_canonical_json() {
    let deno = engine(Limits::default()).await;
    assert_eq!(deno.id(), "deno/2.9.6");
    let output = deno
        .run(JobInput { code: demo::DEMO_CODE, input: demo::DEMO_INPUT, options: None, seed: 1 })
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
async fn supports_callback_return_and_promise_forms() {
    assert_eq!(
        run("function jsJobRun(i, o, cb) { cb(null, i.toUpperCase()); }", "abc").await.expect("callback"),
        "ABC"
    );
    assert_eq!(
        run("function jsJobRun(i) { return { b: 1, a: [i] }; }", "x").await.expect("return"),
        r#"{"a":["x"],"b":1}"#
    );
    assert_eq!(
        run("async function jsJobRun(i) { await null; return new Uint8Array([104, 105]); }", "")
            .await
            .expect("promise"),
        "hi"
    );
    let error = run("function jsJobRun(i, o, cb) { cb(new Error('no luck')); }", "").await.expect_err("job error");
    assert!(error.to_string().contains("no luck"), "{error}");
    let error = run("var x = 1;", "").await.expect_err("no entry point");
    assert!(error.to_string().contains("defines no function jsJobRun"), "{error}");
}

#[tokio::test]
async fn printing_does_not_change_the_output() {
    let code = "function jsJobRun(i) { console.log('noise'); console.info('more'); return 'out'; }";
    assert_eq!(run(code, "").await.expect("runs"), "out");
}

#[tokio::test]
async fn the_sandbox_denies_files_network_env_and_subprocesses() {
    for (what, body) in [
        ("read", "return Deno.readTextFileSync('/etc/hostname');"),
        ("write", "Deno.writeTextFileSync('/tmp/jsjob-escape', 'x'); return 'written';"),
        ("net", "return (await fetch('http://127.0.0.1:8080/')).status;"),
        ("env", "return Deno.env.get('PATH') ?? 'none';"),
        ("run", "return new Deno.Command('/bin/true').outputSync().code;"),
        ("import", "return (await import('file:///etc/hostname')).default;"),
    ] {
        let code = format!("async function jsJobRun() {{ {body} }}");
        let error = run(&code, "").await.expect_err(what);
        assert!(error.to_string().contains("NotCapable") || error.to_string().contains("Requires"), "{what}: {error}");
    }
    assert!(!Path::new("/tmp/jsjob-escape").exists());
}

#[tokio::test]
async fn runs_are_deterministic_per_seed_in_utc() {
    let code = "function jsJobRun() { return [Math.random(), new Date(0).getHours(), Intl.DateTimeFormat().resolvedOptions().timeZone]; }";
    let first = run(code, "").await.expect("runs");
    assert_eq!(first, run(code, "").await.expect("runs again"));
    assert!(first.ends_with(r#",0,"UTC"]"#), "{first}");
}

#[tokio::test]
async fn limits_time_and_output() {
    let deno = engine(Limits { time: Duration::from_secs(2), output: 1024, heap_mib: 64 }).await;
    let job = |code: &'static str| JobInput { code: code.as_bytes(), input: b"", options: None, seed: 0 };
    let error = deno.run(job("function jsJobRun() { for (;;) {} }")).await.expect_err("endless");
    assert!(matches!(error, Error::Timeout(_)), "{error}");
    let error = deno.run(job("function jsJobRun() { return 'x'.repeat(2000); }")).await.expect_err("too long");
    assert!(matches!(error, Error::OutputTooLarge(1024)), "{error}");
    let error = deno
        .run(job("function jsJobRun() { const a = []; for (;;) a.push(new Array(1e6).fill(1)); }"))
        .await
        .expect_err("heap");
    assert!(matches!(error, Error::Failed { .. } | Error::Timeout(_)), "{error}");
}
