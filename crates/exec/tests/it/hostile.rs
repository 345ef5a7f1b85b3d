//! The hostile battery: jobs that try to hang, exhaust, escape, leak or fool the sandbox. Each must end in
//! its outcome within its limit on both engines, and the job after it must run clean.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use super::*;

/// The outcome a hostile job must end in.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Output exactly this.
    Output(&'static str),
    /// A job error whose message contains this.
    JobError(&'static str),
    Timeout,
    OutOfMemory,
    OutputTooLarge,
    /// Out of memory on one engine, a job error with this text on the other (string limits differ).
    OutOfMemoryOrJobError(&'static str),
}

/// What the refusal of a job that names `import` says.
const IMPORT: &str = "names `import`";

const BATTERY: &[(&str, &str, Expect)] = &[
    // ---- hanging and exhausting
    ("infinite loop", "function jsJobRun() { for (;;) {} }", Expect::Timeout),
    (
        "exponential recursion without loops",
        "function f(n) { return n < 2 ? n : f(n - 1) + f(n - 2); } function jsJobRun() { return f(80); }",
        Expect::Timeout,
    ),
    (
        "deep recursion",
        "function f(n) { return f(n + 1) + 1; } function jsJobRun() { return f(0); }",
        Expect::JobError(""),
    ),
    (
        "heap bomb",
        "function jsJobRun() { const a = []; for (;;) a.push(new Array(100000).fill(a.length)); }",
        Expect::OutOfMemory,
    ),
    (
        "array buffer bomb",
        "function jsJobRun() { const a = []; for (;;) a.push(new ArrayBuffer(8 << 20)); }",
        Expect::OutOfMemory,
    ),
    (
        "string doubling",
        "function jsJobRun() { let s = 'xy'; for (;;) { s += s; s.charCodeAt(s.length - 1); } }",
        Expect::OutOfMemoryOrJobError("string"),
    ),
    ("huge output", "function jsJobRun() { return 'x'.repeat(2 << 20); }", Expect::OutputTooLarge),
    (
        "huge JSON output",
        "function jsJobRun() { return new Array(40000).fill('abcdefghijklmnopqrstuvwxyz'); }",
        Expect::OutputTooLarge,
    ),
    (
        "a promise that never settles",
        "function jsJobRun() { return new Promise(() => {}); }",
        Expect::JobError("never settled"),
    ),
    ("an interval that never ends", "function jsJobRun(i, o, cb) { setInterval(() => {}, 1); }", Expect::Timeout),
    (
        "blocking wait on shared memory",
        "function jsJobRun() { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); return 'woke'; }",
        Expect::JobError(""),
    ),
    // ---- the callback protocol
    ("callback twice", "function jsJobRun(i, o, cb) { cb(null, 1); cb(null, 2); }", Expect::Output("1")),
    ("callback never", "function jsJobRun(i, o, cb) { }", Expect::JobError("never settled")),
    (
        "callback then a throw",
        "function jsJobRun(i, o, cb) { cb(null, 'kept'); throw new Error('late'); }",
        Expect::Output("kept"),
    ),
    (
        "callback then an endless loop",
        "function jsJobRun(i, o, cb) { cb(null, 'kept'); for (;;) {} }",
        Expect::Output("kept"),
    ),
    // ---- files
    (
        "Deno file API",
        "function jsJobRun() { return Deno.readTextFileSync('/etc/hostname'); }",
        Expect::JobError("Deno"),
    ),
    (
        "import of a local path",
        "async function jsJobRun() { return (await import('file:///etc/hostname')).default; }",
        Expect::JobError(IMPORT),
    ),
    (
        "fetch of a file URL",
        "async function jsJobRun() { return await (await fetch('file:///etc/passwd')).text(); }",
        Expect::JobError("fetch"),
    ),
    (
        "node:fs",
        "async function jsJobRun() { return (await import('node:fs')).readFileSync('/etc/passwd', 'utf8'); }",
        Expect::JobError(IMPORT),
    ),
    (
        "require('fs')",
        "function jsJobRun() { return require('fs').readFileSync('/etc/passwd', 'utf8'); }",
        Expect::JobError("require"),
    ),
    // ---- network
    (
        "fetch",
        "async function jsJobRun() { return (await fetch('http://127.0.0.1:9/')).status; }",
        Expect::JobError("fetch"),
    ),
    (
        "WebSocket",
        "function jsJobRun() { new WebSocket('ws://127.0.0.1:9/'); return 'open'; }",
        Expect::JobError("WebSocket"),
    ),
    (
        "node:net",
        "async function jsJobRun() { (await import('node:net')).connect(9, '127.0.0.1'); return 'connected'; }",
        Expect::JobError(IMPORT),
    ),
    (
        "import of a URL",
        "async function jsJobRun() { return (await import('https://example.com/x.js')).default; }",
        Expect::JobError(IMPORT),
    ),
    (
        "static import",
        "import { readFileSync } from 'node:fs'; function jsJobRun() { return readFileSync('/etc/passwd', 'utf8'); }",
        Expect::JobError(IMPORT),
    ),
    ("import.meta", "function jsJobRun() { return import.meta.url; }", Expect::JobError(IMPORT)),
    (
        "import after a non-ASCII space",
        "async function jsJobRun() { return (await\u{a0}import('node:os')).hostname(); }",
        Expect::JobError(IMPORT),
    ),
    (
        "import spelled with an escape",
        "async function jsJobRun() { return (await \\u0069mport('node:os')).hostname(); }",
        Expect::JobError(""),
    ),
    (
        "import built by eval at the top level",
        "const os = eval('imp' + 'ort(\"node:os\")'); async function jsJobRun() { return (await os).hostname(); }",
        Expect::JobError("eval"),
    ),
    (
        "import built by Function at the top level",
        "const os = Function('return imp' + 'ort(\"node:os\")')(); async function jsJobRun() { return (await os).hostname(); }",
        Expect::JobError("code generation"),
    ),
    // ---- environment, processes, threads, storage
    ("Deno env", "function jsJobRun() { return Deno.env.get('PATH'); }", Expect::JobError("Deno")),
    ("process.env", "function jsJobRun() { return process.env.PATH; }", Expect::JobError("process")),
    (
        "subprocess",
        "function jsJobRun() { return new Deno.Command('/bin/true').outputSync().code; }",
        Expect::JobError("Deno"),
    ),
    (
        "Worker",
        "function jsJobRun() { new Worker('data:text/javascript,postMessage(1)', { type: 'module' }); return 'started'; }",
        Expect::JobError("Worker"),
    ),
    (
        "localStorage",
        "function jsJobRun() { localStorage.setItem('left', 'behind'); return 'stored'; }",
        Expect::JobError("localStorage"),
    ),
    // ---- code generation, wrapper internals
    ("eval", "function jsJobRun() { return eval('1 + 1'); }", Expect::JobError("eval")),
    (
        "Function constructor by prototype",
        "function jsJobRun() { return (function () {}).constructor('return 1')(); }",
        Expect::JobError("code generation"),
    ),
    (
        "async Function constructor",
        "function jsJobRun() { return (async function () {}).constructor('return 1')(); }",
        Expect::JobError("code generation"),
    ),
    (
        "wrapper internals by name",
        "function jsJobRun() { return [typeof prelude, typeof job, typeof finish, typeof host, typeof channel, typeof writeStdout]; }",
        Expect::Output(r#"["undefined","undefined","undefined","undefined","undefined","undefined"]"#),
    ),
    (
        "wrapper internals by caller",
        "function jsJobRun() { return [jsJobRun.caller == null, arguments.callee.caller == null]; }",
        Expect::Output("[true,true]"),
    ),
    // ---- polluted built-ins must not change how the output is written
    (
        "polluted JSON.stringify, Object.keys and sort",
        "function jsJobRun() { JSON.stringify = () => '\"fake\"'; Object.keys = () => []; Array.prototype.sort = function () { return this.reverse(); }; return { b: 1, a: 2 }; }",
        Expect::Output(r#"{"a":2,"b":1}"#),
    ),
    (
        "polluted Promise.prototype.then",
        "async function jsJobRun() { Promise.prototype.then = function (ok) { return ok('fake'); }; return 'real'; }",
        Expect::Output("real"),
    ),
    (
        "thenable Object.prototype",
        "function jsJobRun(i, o, cb) { Object.prototype.then = function (ok) { ok('fake'); }; cb(null, { v: 'real' }); }",
        Expect::Output(r#"{"v":"real"}"#),
    ),
    (
        "polluted typed arrays and encoders",
        "function jsJobRun() { Uint8Array.prototype.set = () => {}; Uint8Array.prototype.subarray = () => new Uint8Array(0); Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), 'length', { get: () => 0 }); if (typeof TextEncoder !== 'undefined') TextEncoder.prototype.encode = () => new Uint8Array(0); String.prototype.toWellFormed = () => 'fake'; return 'real'; }",
        Expect::Output("real"),
    ),
    (
        "polluted array iterator",
        "function jsJobRun() { Array.prototype[Symbol.iterator] = function* () { yield 'fake'; }; return [1, 2]; }",
        Expect::Output("[1,2]"),
    ),
    // ---- malformed jobs
    ("syntax error", "function jsJobRun( { return 1; }", Expect::JobError("SyntaxError")),
    ("no jsJobRun", "var answer = 42;", Expect::JobError("defines no function jsJobRun")),
    // V8 parses the body alone (a SyntaxError); QuickJS-ng runs it as global code, which is what any job's
    // code is anyway: either way no jsJobRun, and nothing outlives the process.
    ("closing the function body early", "}); globalThis.escaped = 1; (function () {", Expect::JobError("")),
    ("a result with no JSON form", "function jsJobRun() { const a = {}; a.self = a; return a; }", Expect::JobError("")),
    ("a BigInt result", "function jsJobRun() { return { n: 10n }; }", Expect::JobError("")),
    ("an undefined result", "function jsJobRun(i, o, cb) { cb(null, undefined); }", Expect::JobError("undefined")),
];

/// What a job sees of its sandbox; every job after a hostile one must see exactly this.
const CLEAN: &str = "function jsJobRun() {
    return [typeof localStorage, typeof globalThis.escaped, typeof Object.prototype.then, typeof Object.prototype.polluted,
        JSON.stringify({ b: 1, a: 2 }), Math.random() < 1, typeof Deno];
}";
const CLEAN_OUTPUT: &str = r#"["undefined","undefined","undefined","undefined","{\"b\":1,\"a\":2}",true,"undefined"]"#;

/// Input that is not UTF-8 reaches the job as bytes, and the job after a leaky one runs clean.
#[tokio::test]
async fn state_does_not_outlive_a_job() {
    for engine in engines(ROOMY_LIMITS).await {
        let leak = "function jsJobRun() { globalThis.escaped = 1; Object.prototype.polluted = 1; return 'left'; }";
        assert_eq!(run(&engine, leak, b"\xc3\x28").await.expect("runs"), "left");
        assert_eq!(run(&engine, CLEAN, b"").await.expect("clean"), CLEAN_OUTPUT, "{}", engine.id());
    }
}

#[tokio::test]
async fn every_hostile_job_ends_in_its_outcome_within_its_limit() {
    assert!(BATTERY.len() >= 30);
    let _heavy = HEAVY.lock().await;
    let mut failures = Vec::new();
    // Jobs that must time out get the low limit; the others get room (on a loaded 2-core machine a heap
    // bomb may take seconds of garbage collection), and must end by themselves well inside it.
    let (fast, roomy) =
        (engines(TEST_LIMITS).await, engines(Limits { time: Duration::from_secs(15), ..TEST_LIMITS }).await);
    for (fast, roomy) in fast.into_iter().zip(roomy) {
        let (fast, roomy) = (Arc::new(fast.with_pool(2)), Arc::new(roomy.with_pool(2)));
        // Two at a time: on 2 cores, dozens of engines at once would starve the clean jobs of their time.
        let slots = Arc::new(tokio::sync::Semaphore::new(2));
        let mut jobs = tokio::task::JoinSet::new();
        for (name, code, expect) in BATTERY.iter().copied() {
            let engine = Arc::clone(if matches!(expect, Expect::Timeout) { &fast } else { &roomy });
            let slots = Arc::clone(&slots);
            jobs.spawn(async move {
                let _slot = slots.acquire_owned().await;
                let started = Instant::now();
                let got = run(&engine, code, b"").await;
                let took = started.elapsed();
                let clean = run(&engine, CLEAN, b"").await;
                (name, expect, got, took, engine.limits().time, clean)
            });
        }
        let id = fast.id().to_owned();
        for (name, expect, got, took, limit, clean) in jobs.join_all().await {
            let right = match (expect, &got) {
                (Expect::Output(want), Ok(out)) => out == want,
                (Expect::JobError(part), Err(Error::JobError(message))) => message.contains(part),
                (Expect::Timeout, Err(Error::Timeout(_))) => true,
                (Expect::OutOfMemory | Expect::OutOfMemoryOrJobError(_), Err(Error::OutOfMemory(_))) => true,
                (Expect::OutOfMemoryOrJobError(part), Err(Error::JobError(message))) => message.contains(part),
                (Expect::OutputTooLarge, Err(Error::OutputTooLarge(_))) => true,
                _ => false,
            };
            if !right {
                failures.push(format!("{id}: {name}: expected {expect:?}, got {got:?}"));
            }
            // The time limit plus the kill and a loaded machine's slack.
            if took > limit + Duration::from_secs(3) {
                failures.push(format!("{id}: {name}: took {took:?}"));
            }
            if clean.as_deref().ok() != Some(CLEAN_OUTPUT) {
                failures.push(format!("{id}: after {name}: the next job saw {clean:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
