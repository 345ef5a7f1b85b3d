//! When the agent stops, its engines stop with it, quietly: dropping a `Sandbox` (and then the runtime)
//! while its pool is refilling leaves no sandbox process behind, running or unreaped, and logs no warning.
//! Its own test binary: it counts the warnings of the whole process and the processes it started (its
//! children, and theirs: the QuickJS zygote forks the job processes).

use std::{
    path::PathBuf,
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use jsjob_exec::{Engine, JobInput, Limits, Sandbox, Seed};
use tracing::{Level, Metadata, Subscriber, span};

/// Warnings and errors logged anywhere in this process.
static WARNINGS: AtomicUsize = AtomicUsize::new(0);

/// A subscriber that only counts warnings and errors.
struct CountWarnings;

impl Subscriber for CountWarnings {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::WARN
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() <= Level::WARN {
            WARNINGS.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

/// The heap limit that marks this test's sandbox processes in their command lines.
const MARK_MIB: u32 = 77;

/// This process's sandbox processes (running or zombies), as "pid state": its children that are sandbox
/// processes of this test, and their children (the QuickJS zygote's job processes).
fn sandbox_children() -> Vec<String> {
    let me = std::process::id().to_string();
    let marks: [&[u8]; 2] = [b"--max-old-space-size=77,", b"--memory-mib\x0077\x00"];
    // (pid, state, parent pid, command line) of every process.
    let mut processes = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let dir = entry.path();
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else { continue };
        // "pid (comm) state ppid ...": the command may hold spaces and parentheses, the last ')' ends it.
        let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (Some(state), Some(parent)) = (fields.first(), fields.get(1)) else { continue };
        let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        processes.push((
            entry.file_name().to_string_lossy().into_owned(),
            state.to_string(),
            parent.to_string(),
            cmdline,
        ));
    }
    let marked = |cmdline: &[u8]| marks.iter().any(|mark| cmdline.windows(mark.len()).any(|w| w == *mark));
    // A zombie's command line is empty: a child of ours with no command line counts too.
    let children: Vec<&(String, String, String, Vec<u8>)> = processes
        .iter()
        .filter(|(_, _, parent, cmdline)| *parent == me && (cmdline.is_empty() || marked(cmdline)))
        .collect();
    let grandchildren = processes.iter().filter(|(_, _, parent, _)| children.iter().any(|(pid, ..)| pid == parent));
    children.iter().copied().chain(grandchildren).map(|(pid, state, ..)| format!("{pid} {state}")).collect()
}

#[test]
fn dropped_engines_stop_their_pools_quietly() {
    tracing::subscriber::set_global_default(CountWarnings).expect("the only subscriber");
    let deno = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/@deno/linux-x64-glibc/deno");
    let limits = Limits { memory_mib: MARK_MIB, ..Limits::default() };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let engines = [
            Sandbox::v8(&deno, limits).await.expect("the V8 engine starts").with_pool(2),
            Sandbox::quickjs(env!("CARGO_BIN_EXE_jsjob-sandbox").as_ref(), limits)
                .await
                .expect("the QuickJS engine starts")
                .with_pool(2),
        ];
        assert!(sandbox_children().len() >= 4, "the pools hold processes: {:?}", sandbox_children());
        for engine in &engines {
            let job =
                JobInput { code: b"function jsJobRun() { return 1; }", input: b"", options: None, seed: Seed([1; 32]) };
            assert_eq!(engine.run(job).await.expect("runs").bytes, b"1");
        }
        // Each job's end started a refill on a blocking thread: the engines go while it runs.
        drop(engines);
    });
    drop(runtime);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = sandbox_children();
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left = sandbox_children();
    }
    assert!(left.is_empty(), "sandbox processes outlived their engines: {left:?}");
    assert_eq!(WARNINGS.load(Ordering::SeqCst), 0, "the shutdown logged warnings");
}
