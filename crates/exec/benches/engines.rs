//! Engines against their bare selves, measured in one run (`cargo bench -p jsjob-exec`):
//!
//! - per-job overhead of a trivial job: `v8` with its warm pool, and without, against a bare `deno run` of
//!   the same code; `quickjs` with its warm pool against bare QuickJS (a fresh runtime in this process),
//!   back to back and after the same pause as the pooled job (`bare_quickjs_paused`);
//! - fib(30), a 1 MB JSON transform and SHA-256 in JavaScript over 10 MiB: each engine against its bare
//!   self (`deno run` of the job with a two-line driver; QuickJS evaluating it in this process).
//!
//! The pooled benchmarks wait between jobs, outside the timed part, until the pool has refilled: a worker's
//! pool is there to be ready ahead of its jobs, not to be drained by back-to-back runs. `back_to_back`
//! (trivial job only) runs jobs with no pause, so the refill after each job competes with the next one: it
//! measures a worker's throughput under a stream of tiny jobs rather than the overhead of one job.

use std::{
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use jsjob_exec::{Engine, JobInput, Limits, Sandbox, Seed};

const TRIVIAL: &str = "function jsJobRun() { return 1; }";
const FIB: &str = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
function jsJobRun() { return fib(30); }";
const JSON_TRANSFORM: &str = "function jsJobRun(input) {
  const byCity = {};
  for (const person of input) {
    const city = (byCity[person.city] ??= { count: 0, ages: 0, tags: {} });
    city.count++;
    city.ages += person.age;
    for (const tag of person.tags) city.tags[tag] = (city.tags[tag] ?? 0) + 1;
  }
  return input.filter((p) => p.age % 3 === 0).map((p) => ({ id: p.id, name: p.name.toUpperCase(), city: byCity[p.city].count })).concat([byCity]);
}";
const SHA256: &str = "function sha256(bytes) {
  const K = new Uint32Array([0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2]);
  const H = new Uint32Array([0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19]);
  const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 4, bytes.length * 8);
  view.setUint32(padded.length - 8, Math.floor(bytes.length / 0x20000000));
  const W = new Uint32Array(64);
  for (let at = 0; at < padded.length; at += 64) {
    for (let t = 0; t < 16; t++) W[t] = view.getUint32(at + 4 * t);
    for (let t = 16; t < 64; t++) {
      const a = W[t - 15], b = W[t - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      W[t] = W[t - 16] + s0 + W[t - 7] + s1;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
  return Array.from(H, (x) => x.toString(16).padStart(8, '0')).join('');
}
function jsJobRun() {
  const data = new Uint8Array(10 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 255;
  return sha256(data);
}";

/// The 1 MB JSON input of the transform: generated, the same every run.
fn json_input() -> String {
    let cities = ["Lisbon", "Porto", "Braga", "Faro", "Coimbra", "Aveiro", "Evora"];
    let tags = ["a", "bb", "ccc", "dddd", "e"];
    let mut people = Vec::new();
    let mut text_len = 0;
    let mut id = 0u64;
    while text_len < 1 << 20 {
        let person = serde_json::json!({
            "id": id, "name": format!("person number {id}"), "age": (id * 7919) % 90,
            "city": cities[(id % 7) as usize], "tags": [tags[(id % 5) as usize], tags[(id * 3 % 5) as usize]],
        });
        text_len += person.to_string().len() + 1;
        people.push(person);
        id += 1;
    }
    serde_json::Value::Array(people).to_string()
}

fn deno_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/@deno/linux-x64-glibc/deno")
}

/// A bare `deno run` of the job: its code and a two-line driver that reads the input file and prints the
/// result, in a file (the way a person runs a script), with read permission for the input only.
struct BareDeno {
    script: PathBuf,
    input: PathBuf,
}

impl BareDeno {
    fn new(name: &str, code: &str, input: &str) -> Self {
        let dir = std::env::temp_dir().join("jsjob-bench");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (script, input_path) = (dir.join(format!("{name}.js")), dir.join(format!("{name}.input")));
        std::fs::write(&input_path, input).expect("write input");
        let driver = "\nconst text = Deno.readTextFileSync(Deno.args[0]);\n\
            let input; try { input = JSON.parse(text); } catch { input = text; }\n\
            const result = await jsJobRun(input, null, () => {});\n\
            Deno.stdout.writeSync(new TextEncoder().encode(typeof result === 'string' ? result : JSON.stringify(result)));\n";
        std::fs::write(&script, format!("{code}{driver}")).expect("write script");
        Self { script, input: input_path }
    }

    fn run(&self) -> Vec<u8> {
        let output = Command::new(deno_binary())
            .args(["run", "--quiet", "--no-prompt", "--no-config", "--no-lock"])
            .arg(format!("--allow-read={}", self.input.display()))
            .arg(&self.script)
            .arg(&self.input)
            .env("DENO_NO_UPDATE_CHECK", "1")
            .output()
            .expect("deno runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    }
}

/// Bare QuickJS: a fresh runtime and context in this process, the job's code and a driver evaluated.
fn bare_quickjs(code: &str, input: &str) -> String {
    let runtime = rquickjs::Runtime::new().expect("runtime");
    let context = rquickjs::Context::full(&runtime).expect("context");
    context.with(|ctx| {
        let globals = ctx.globals();
        globals.set("inputText", input).expect("input");
        let source = format!(
            "{code}\n;(() => {{ let input; try {{ input = JSON.parse(inputText); }} catch {{ input = inputText; }}\n\
             const result = jsJobRun(input, null, () => {{}});\n\
             return typeof result === 'string' ? result : JSON.stringify(result); }})()"
        );
        ctx.eval::<String, _>(source).expect("runs")
    })
}

fn job<'a>(code: &'a str, input: &'a str) -> JobInput<'a> {
    JobInput { code: code.as_bytes(), input: input.as_bytes(), options: None, seed: Seed([7; 32]) }
}

/// Times `engine.run` per job, letting the pool refill for `settle` between jobs (not timed). The pause is
/// spent in the runtime, so that the sandbox's own tasks (the refill) run meanwhile.
fn pooled(
    runtime: &tokio::runtime::Runtime,
    engine: &Sandbox,
    job: JobInput<'_>,
    iters: u64,
    settle: Duration,
) -> Duration {
    timed(
        iters,
        || runtime.block_on(async { tokio::time::sleep(settle).await }),
        || runtime.block_on(engine.run(job)).expect("the job runs"),
    )
}

/// Times `run` per call, after `pause` (not timed) before each.
fn timed<T>(iters: u64, mut pause: impl FnMut(), mut run: impl FnMut() -> T) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        pause();
        let started = Instant::now();
        std::hint::black_box(run());
        total += started.elapsed();
    }
    total
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let limits = Limits::default();
    let (v8, v8_cold, quickjs) = runtime.block_on(async {
        let sandbox = PathBuf::from(env!("CARGO_BIN_EXE_jsjob-sandbox"));
        (
            Sandbox::v8(&deno_binary(), limits).await.expect("v8").with_pool(1),
            Sandbox::v8(&deno_binary(), limits).await.expect("v8").with_pool(0),
            Sandbox::quickjs(&sandbox, limits).await.expect("quickjs").with_pool(1),
        )
    });
    let input = json_input();
    let cases = [
        ("trivial", TRIVIAL, ""),
        ("fib30", FIB, ""),
        ("json_1mb", JSON_TRANSFORM, input.as_str()),
        ("sha256_10mib", SHA256, ""),
    ];
    // The same output on both sides of each comparison, checked once before timing.
    for (name, code, input) in cases {
        let bare = BareDeno::new(name, code, input).run();
        let ours = runtime.block_on(v8.run(job(code, input))).expect("v8 runs").bytes;
        if name != "json_1mb" {
            assert_eq!(bare, ours, "{name}: v8 and bare deno disagree");
        }
    }

    let mut group = c.benchmark_group("v8");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (name, code, input) in cases {
        let bare = BareDeno::new(name, code, input);
        group.bench_function(BenchmarkId::new("bare_deno_run", name), |b| b.iter(|| bare.run()));
        // Few iterations, each after a pause: the pause, not the job, is most of a pooled benchmark's time. The
        // trivial job's overhead, the figure that matters here, gets 100 single-job samples.
        let (samples, time) = if name == "trivial" { (100, 11_000) } else { (10, 500) };
        group.sampling_mode(SamplingMode::Flat).sample_size(samples).measurement_time(Duration::from_millis(time));
        group.bench_function(BenchmarkId::new("pooled", name), |b| {
            b.iter_custom(|iters| pooled(&runtime, &v8, job(code, input), iters, Duration::from_millis(100)))
        });
        group.sampling_mode(SamplingMode::Auto).sample_size(10).measurement_time(Duration::from_secs(3));
        if name == "trivial" {
            group.bench_function(BenchmarkId::new("unpooled", name), |b| {
                b.iter_custom(|iters| pooled(&runtime, &v8_cold, job(code, input), iters, Duration::ZERO))
            });
            group.bench_function(BenchmarkId::new("back_to_back", name), |b| {
                b.iter_custom(|iters| pooled(&runtime, &v8, job(code, input), iters, Duration::ZERO))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("quickjs");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (name, code, input) in cases {
        group.bench_function(BenchmarkId::new("bare_quickjs", name), |b| b.iter(|| bare_quickjs(code, input)));
        let (samples, time) = if name == "trivial" { (100, 3_500) } else { (10, 300) };
        group.sampling_mode(SamplingMode::Flat).sample_size(samples).measurement_time(Duration::from_millis(time));
        group.bench_function(BenchmarkId::new("pooled", name), |b| {
            b.iter_custom(|iters| pooled(&runtime, &quickjs, job(code, input), iters, Duration::from_millis(30)))
        });
        if name == "trivial" {
            // Bare QuickJS after the same pause: what the pause alone costs a job (cold caches), so that the
            // pooled job's overhead after a pause is pooled − this, not pooled − a back-to-back bare job.
            group.bench_function(BenchmarkId::new("bare_quickjs_paused", name), |b| {
                let pause = || std::thread::sleep(Duration::from_millis(30));
                b.iter_custom(|iters| timed(iters, pause, || bare_quickjs(code, input)))
            });
        }
        group.sampling_mode(SamplingMode::Auto).sample_size(10).measurement_time(Duration::from_secs(3));
        if name == "trivial" {
            group.bench_function(BenchmarkId::new("back_to_back", name), |b| {
                b.iter_custom(|iters| pooled(&runtime, &quickjs, job(code, input), iters, Duration::ZERO))
            });
        }
    }
    group.finish();
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
