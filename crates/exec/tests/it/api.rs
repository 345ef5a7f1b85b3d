//! The job API and determinism, the same on both engines.

use std::sync::Arc;

use jsjob_exec::{Engines, canonicalize};

use super::*;

#[tokio::test]
async fn engine_ids_name_the_exact_builds_and_unknown_engines_are_refused() {
    let engines =
        engines(ROOMY_LIMITS).await.into_iter().fold(Engines::default(), |set, engine| set.with(Arc::new(engine)));
    let ids = engines.ids();
    assert_eq!(ids[0], "v8/deno-2.9.6");
    assert_eq!(ids[1], format!("quickjs-ng/{}", jsjob_exec::quickjs_version()));
    assert!(ids[1].starts_with("quickjs-ng/0."), "{}", ids[1]);
    assert_eq!(engines.engine_for("v8/deno-2.9.6").expect("runs v8").id(), "v8/deno-2.9.6");
    let error = engines.engine_for("v8/deno-2.9.5").expect_err("another build");
    assert!(matches!(&error, Error::UnknownEngine { wanted, .. } if wanted == "v8/deno-2.9.5"), "{error}");
    let error = engines.engine_for_word(&[0xff; 32]).expect_err("not an id");
    assert!(matches!(error, Error::UnknownEngine { .. }), "{error}");
    let word = jsjob_exec::engine_word(ids[1]);
    assert_eq!(engines.engine_for_word(&word).expect("by word").id(), ids[1]);
    assert!(engines.find(word).is_some() && engines.find([0; 32]).is_none());
    let only = engines.clone().only(&[ids[1].to_owned()]);
    assert_eq!(only.ids(), [ids[1]]);
    assert!(
        matches!(only.engine_for("v8/deno-2.9.6"), Err(Error::UnknownEngine { available, .. }) if available == ids[1])
    );
}

#[tokio::test]
async fn the_job_api_forms_and_output_encodings() {
    for engine in engines(ROOMY_LIMITS).await {
        let id = engine.id().to_owned();
        for (code, input, expected) in [
            // callback form; JSON input is parsed
            ("function jsJobRun(i, o, cb) { cb(null, i.a + 1); }", &b"{\"a\":41}"[..], "42"),
            // return value; text input stays a string
            ("function jsJobRun(i) { return i.toUpperCase(); }", b"abc", "ABC"),
            // promise form
            ("async function jsJobRun(i) { await null; return new Uint8Array([104, 105]); }", b"", "hi"),
            ("function jsJobRun() { return new Uint8Array([1, 2, 255]).buffer; }", b"", "\u{1}\u{2}\u{fffd}"),
            // canonical JSON: keys sorted by UTF-16 code units (integer-like keys too), no whitespace,
            // undefined and functions dropped, NaN null, toJSON honoured
            (
                "function jsJobRun() { return {b: [1.5, undefined, NaN, -0, 1e21], 10: 'x', 9: 'y', a: {f() {}, u: undefined, d: new Date(0)}, '\\u{1F600}': 1, '\\uFF61': 2}; }",
                b"",
                "{\"10\":\"x\",\"9\":\"y\",\"a\":{\"d\":\"1970-01-01T00:00:00.000Z\"},\"b\":[1.5,null,null,0,1e+21],\"\u{1F600}\":1,\"\u{FF61}\":2}",
            ),
            // a lone surrogate in JSON is escaped, as JSON.stringify writes it (QuickJS: the Rust encoder
            // declines it, the prelude's writes it)
            ("function jsJobRun() { return { b: 'x\\uD800', a: 1 }; }", b"", "{\"a\":1,\"b\":\"x\\ud800\"}"),
            // lone surrogates leave as U+FFFD, as TextEncoder writes them
            ("function jsJobRun() { return 'a\\uD800b'; }", b"", "a\u{fffd}b"),
            // input that is not UTF-8 arrives as bytes
            ("function jsJobRun(i) { return [i instanceof Uint8Array, i.length, i[0]]; }", b"\xff\xfe", "[true,2,255]"),
            // the options are null when the job has none
            ("function jsJobRun(i, o) { return [o]; }", b"", "[null]"),
            // printing goes to stderr, never into the output
            ("function jsJobRun() { console.log('noise'); console.error('more'); return 'out'; }", b"", "out"),
        ] {
            assert_eq!(
                run(&engine, code, input).await.unwrap_or_else(|e| panic!("{id}: {code}: {e}")),
                expected,
                "{id}: {code}"
            );
        }
        // Nesting deeper than the Rust encoder takes: written by the prelude's.
        let deep = "function jsJobRun() { let v = { b: 1, a: 2 }; for (let i = 0; i < 200; i++) v = [v]; return v; }";
        let want = format!("{}{{\"a\":2,\"b\":1}}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(run(&engine, deep, b"").await.expect("deep"), want, "{id}");
        let options = JobInput {
            code: b"function jsJobRun(i, o) { return o; }",
            input: b"",
            options: Some(b"{\"k\":[2]}"),
            seed: Seed([0; 32]),
        };
        assert_eq!(engine.run(options).await.expect("options").bytes, b"{\"k\":[2]}", "{id}");
    }
}

#[tokio::test]
async fn the_first_settlement_wins() {
    for engine in engines(ROOMY_LIMITS).await {
        let id = engine.id().to_owned();
        for (code, expected) in [
            ("function jsJobRun(i, o, cb) { cb(null, 'first'); cb(null, 'second'); }", Ok("first")),
            ("function jsJobRun(i, o, cb) { cb(null, 'first'); throw new Error('late'); }", Ok("first")),
            (
                "function jsJobRun(i, o, cb) { setTimeout(() => cb(null, 'timer'), 10); return Promise.resolve('promise'); }",
                Ok("promise"),
            ),
            ("function jsJobRun(i, o, cb) { cb(new Error('no luck')); cb(null, 'x'); }", Err("Error: no luck")),
            ("async function jsJobRun() { throw new RangeError('bad'); }", Err("RangeError: bad")),
            ("function jsJobRun() { return Promise.reject('plain'); }", Err("plain")),
        ] {
            let got = run(&engine, code, b"").await;
            match (expected, got) {
                (Ok(want), Ok(got)) => assert_eq!(got, want, "{id}: {code}"),
                (Err(want), Err(Error::JobError(message))) => {
                    assert_eq!(message, want, "{id}: {code}")
                }
                (_, got) => panic!("{id}: {code}: {got:?}"),
            }
        }
    }
}

#[tokio::test]
async fn timers_run_in_virtual_time_in_due_order() {
    let code = "async function jsJobRun() {
        const seen = [];
        setTimeout(() => seen.push(['b', Date.now(), performance.now()]), 20);
        setTimeout(() => seen.push(['a', performance.now()]), 10);
        setTimeout(() => seen.push(['a2', performance.now()]), 10);
        let n = 0;
        const tick = setInterval(() => { seen.push(['i', performance.now()]); if (++n === 3) clearInterval(tick); }, 7);
        await new Promise((done) => setTimeout(done, 1000));
        return seen;
    }";
    for engine in engines(ROOMY_LIMITS).await {
        assert_eq!(
            run(&engine, code, b"").await.expect("runs"),
            r#"[["i",7],["a",10],["a2",10],["i",14],["b",946684800020,20],["i",21]]"#,
            "{}",
            engine.id()
        );
    }
}

/// A job that reads every source of variation a sandbox has to pin down.
const DETERMINISM_PROBE: &str = "function jsJobRun(input) {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    return {
        random: [Math.random(), Math.random()], bytes: Array.from(bytes), uuid: crypto.randomUUID(),
        now: Date.now(), date: new Date().toString(), perf: performance.now(),
        tz: typeof Intl === 'undefined' ? 'no Intl' : Intl.DateTimeFormat().resolvedOptions().timeZone, offset: new Date(0).getTimezoneOffset(),
        text: (1234567.891).toLocaleString(), input,
        globals: ['Deno', 'process', 'navigator', 'Worker', 'localStorage', 'fetch', 'WeakRef', 'eval'].map((n) => typeof globalThis[n]),
    };
}";

#[tokio::test]
async fn the_same_job_gives_the_same_bytes_every_run_also_in_parallel() {
    const RUNS: usize = 12;
    let _heavy = HEAVY.lock().await;
    for engine in engines(ROOMY_LIMITS).await {
        let engine = Arc::new(engine.with_pool(4));
        let mut runs = tokio::task::JoinSet::new();
        for _ in 0..RUNS {
            let engine = Arc::clone(&engine);
            runs.spawn(async move { run(&engine, DETERMINISM_PROBE, b"[1,2,3]").await });
        }
        let outputs: Vec<String> = runs.join_all().await.into_iter().map(|output| output.expect("runs")).collect();
        assert!(outputs.iter().all(|output| output == &outputs[0]), "{}: {outputs:?}", engine.id());
        let probe: serde_json::Value = serde_json::from_str(&outputs[0]).expect("JSON");
        assert_eq!(probe["now"], 946684800000u64, "{}", engine.id());
        assert_eq!(probe["perf"], 0, "{}", engine.id());
        assert_eq!(probe["offset"], 0, "{}", engine.id());
        assert!(probe["globals"].as_array().expect("array").iter().all(|t| t == "undefined"), "{probe}");
        // The output the prelude writes is canonical as the Rust side defines it.
        assert_eq!(canonicalize(outputs[0].as_bytes()).expect("JSON"), outputs[0].as_bytes(), "{}", engine.id());
    }
}

#[tokio::test]
async fn randomness_depends_on_the_seed_and_agrees_across_engines() {
    let engines = engines(ROOMY_LIMITS).await;
    let code =
        b"function jsJobRun() { return [Math.random(), Array.from(crypto.getRandomValues(new Uint8Array(4)))]; }";
    let mut outputs = Vec::new();
    for engine in &engines {
        for seed in [Seed::derive(b"job 1", b"cid"), Seed::derive(b"job 2", b"cid")] {
            let job = JobInput { code, input: b"", options: None, seed };
            outputs.push(engine.run(job).await.expect("runs").bytes);
        }
    }
    assert_ne!(outputs[0], outputs[1], "another seed, other numbers");
    // One generator in the shared prelude: both engines draw the same numbers from the same seed.
    assert_eq!(outputs[0], outputs[2]);
    assert_eq!(outputs[1], outputs[3]);
}

/// Every process: (pid, state letter (`R` running, `S` sleeping, `Z` zombie, ...), parent pid, CPU time in
/// clock ticks, command line).
fn processes() -> Vec<(i32, char, i32, u64, Vec<u8>)> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let state = fields.first()?.chars().next()?;
            let parent = fields.get(1)?.parse().ok()?;
            // utime and stime, the 14th and 15th fields of stat(5).
            let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            Some((pid, state, parent, ticks, cmdline))
        })
        .collect()
}

/// The pids of this process's QuickJS zygotes whose command line holds `--memory-mib <memory_mib>`.
fn zygotes(memory_mib: u32) -> Vec<i32> {
    let me = std::process::id() as i32;
    let mark = format!("--zygote\0--memory-mib\0{memory_mib}\0");
    processes()
        .into_iter()
        .filter(|(_, _, parent, _, cmdline)| *parent == me && cmdline.windows(mark.len()).any(|w| w == mark.as_bytes()))
        .map(|(pid, ..)| pid)
        .collect()
}

/// A QuickJS engine with a pool of 1 whose zygote is marked by a memory limit no other test uses (see
/// [`zygotes`]), after one job (so its zygote is running).
async fn marked_quickjs(memory_mib: u32) -> Sandbox {
    let limits = Limits { memory_mib, ..ROOMY_LIMITS };
    let quickjs = Sandbox::quickjs(env!("CARGO_BIN_EXE_jsjob-sandbox").as_ref(), limits)
        .await
        .expect("the QuickJS engine starts")
        .with_pool(1);
    assert_eq!(run(&quickjs, "function jsJobRun() { return 1; }", b"").await.expect("runs"), "1");
    quickjs
}

#[tokio::test]
async fn quickjs_forks_jobs_from_a_zygote_and_restarts_it_when_it_dies() {
    let quickjs = marked_quickjs(91).await;
    let first = zygotes(91);
    assert_eq!(first.len(), 1, "one zygote: {first:?}");
    // SAFETY: kill(2) of a child of this process that is still running; no memory is involved.
    assert_eq!(unsafe { libc::kill(first[0], libc::SIGKILL) }, 0);
    // The job that comes next gets a process: the waiting one, forked by the old zygote, or one forked by
    // a new zygote; either way the engine goes on.
    for _ in 0..3 {
        assert_eq!(run(&quickjs, "function jsJobRun() { return 2; }", b"").await.expect("runs after the kill"), "2");
    }
    let second = zygotes(91);
    assert!(second.len() == 1 && second != first, "a new zygote replaced the killed one: {first:?} then {second:?}");
}

#[tokio::test]
async fn quickjs_reports_deterministic_fuel() {
    let quickjs = engines(ROOMY_LIMITS).await.pop().expect("quickjs");
    let job = JobInput {
        code: b"function jsJobRun() { let s = 0; for (let i = 0; i < 1e6; i++) s += i; return s; }",
        input: b"",
        options: None,
        seed: Seed([0; 32]),
    };
    let first = quickjs.run(job).await.expect("runs");
    let second = quickjs.run(job).await.expect("runs again");
    let fuel = first.fuel.expect("QuickJS meters fuel");
    assert!(fuel >= 50, "a million iterations take at least 50 interrupt checks, got {fuel}");
    assert_eq!(second.fuel, Some(fuel));
}

#[tokio::test]
async fn jobs_over_the_limits_or_outside_the_api_are_refused_before_running() {
    for engine in engines(ROOMY_LIMITS).await {
        let big = vec![b' '; ROOMY_LIMITS.code + 1];
        let job =
            |code: &'static [u8], input: &'static [u8]| JobInput { code, input, options: None, seed: Seed([0; 32]) };
        let error = engine.run(JobInput { code: &big, ..job(b"", b"") }).await.expect_err("code too large");
        assert!(matches!(error, Error::TooLarge { what: "code", .. }), "{error}");
        let input = vec![0u8; ROOMY_LIMITS.input + 1];
        let error = engine
            .run(JobInput { input: &input, ..job(b"function jsJobRun() { return 1; }", b"") })
            .await
            .expect_err("input too large");
        assert!(matches!(error, Error::TooLarge { what: "input", .. }), "{error}");
        let error = engine.run(job(b"function jsJobRun() { return 1; } \xff", b"")).await.expect_err("not UTF-8");
        assert!(matches!(error, Error::BadJob(_)), "{error}");
        assert!(!error.is_job_outcome());
    }
}

/// The processes whose parent is `parent`, with their state letter and CPU ticks.
fn children_of(parent: i32) -> Vec<(i32, char, u64)> {
    processes()
        .into_iter()
        .filter(|&(_, _, of, ..)| of == parent)
        .map(|(pid, state, _, ticks, _)| (pid, state, ticks))
        .collect()
}

#[tokio::test]
async fn a_quickjs_job_process_ended_by_a_signal_reports_that_signal() {
    let quickjs = marked_quickjs(93).await;
    let zygote = zygotes(93)[0];
    // The job process spins (running, its CPU time growing) where the waiting ones sleep on their stdin (after
    // a few milliseconds of preparation): it gets the signal, until
    // it is gone. (Rust's runtime in the sandbox catches a first SIGSEGV: its stack-overflow handler puts
    // the default action back and returns, so that a real fault faults again and ends the process.)
    let signal_the_job = |signal: i32| async move {
        let mut job = None;
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let children = children_of(zygote);
            job = job.or_else(|| children.iter().find(|&&(_, state, ticks)| state == 'R' && ticks >= 5).map(|c| c.0));
            let Some(pid) = job else { continue };
            if !children.iter().any(|&(child, state, _)| child == pid && state != 'Z') {
                return;
            }
            // SAFETY: kill(2) of a child of this test's zygote, not reaped yet; no memory is involved.
            unsafe { libc::kill(pid, signal) };
        }
    };
    let spin = "function jsJobRun() { for (;;) {} }";
    let (crashed, ()) = tokio::join!(run(&quickjs, spin, b""), signal_the_job(libc::SIGSEGV));
    match crashed {
        Err(Error::EngineCrash { detail, .. }) => assert!(detail.contains("SIGSEGV"), "{detail}"),
        other => panic!("a job process ended by SIGSEGV: {other:?}"),
    }
    // RLIMIT_CPU ends a process with SIGXCPU: that is the job's time running out, as on the exec'd path.
    let started = std::time::Instant::now();
    let (stopped, ()) = tokio::join!(run(&quickjs, spin, b""), signal_the_job(libc::SIGXCPU));
    assert!(matches!(stopped, Err(Error::Timeout(_))), "{stopped:?}");
    // Ended by the signal, not by the 30 s limit.
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    // And the engine goes on.
    assert_eq!(run(&quickjs, "function jsJobRun() { return 3; }", b"").await.expect("runs after"), "3");
}
