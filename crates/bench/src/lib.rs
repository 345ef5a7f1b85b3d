//! The jsjob benchmark: one command (`bash scripts/bench.sh`) measures the market and writes
//! `docs/BENCHMARKS.md`.
//!
//! - [`machine`]: what it ran on;
//! - [`gas`]: the committed gas snapshot next to the straightforward design's figures;
//! - [`criterion`]: the executor's and the store's criterion results, read from `target/criterion`;
//! - [`e2e`]: the market end to end on a local anvil — `jsjob worker` processes working jobs posted at
//!   once — and the chain-alone ceiling: the same transactions from a bare loop of pre-signed ones;
//! - [`profile`]: with `--profile`, a sampled CPU profile (`perf`) of anvil and the workers per run;
//! - [`rpc`]: a forwarder in front of anvil that counts each client's JSON-RPC calls by method;
//! - [`report`]: the document.
//!
//! Every figure in the document is measured by the run that writes it; the only figures read from
//! elsewhere are the committed gas snapshot and the reference design's gas (the README's gas table).

pub mod criterion;
pub mod e2e;
pub mod gas;
pub mod machine;
pub mod profile;
pub mod report;
pub mod rpc;
pub mod stats;

/// Errors of the benchmark.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not what the benchmark expects.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Starting the chain or deploying failed.
    #[error(transparent)]
    Devnet(#[from] jsjob::devnet::Error),
    /// A transaction or a read of the agency failed.
    #[error(transparent)]
    Chain(#[from] jsjob::chain::Error),
    /// The content store failed.
    #[error(transparent)]
    Store(#[from] jsjob::store::Error),
    /// The run did not go as it must for its figures to mean anything.
    #[error("{0}")]
    Run(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Error::Io` for `path`.
pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_owned(), source }
}

/// What one run measures.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The repository (its pinned tools, snapshot and README).
    pub root: std::path::PathBuf,
    /// Where the runs keep their chains' files (emptied per run).
    pub work_dir: std::path::PathBuf,
    /// The `jsjob` binary the workers run.
    pub jsjob: std::path::PathBuf,
    /// (jobs, workers) of each end-to-end run, in order.
    pub runs: Vec<(usize, usize)>,
    /// How the workers are set up.
    pub workers: e2e::WorkerSettings,
    /// How long a run may take: this much, plus [`Plan::patience_per_job`] per job.
    pub patience: std::time::Duration,
    /// See [`Plan::patience`].
    pub patience_per_job: std::time::Duration,
    /// The most any run waits, whatever its size.
    pub max_patience: std::time::Duration,
    /// Criterion's output directory, and the time before which its results are someone else's.
    pub criterion: Option<(std::path::PathBuf, Option<std::time::SystemTime>)>,
    /// The output of `vs_libkubo.py`, or why it did not run.
    pub libkubo: Result<String, String>,
    /// `full`, `quick`, …
    pub mode: String,
    /// The command, as the document names it.
    pub command: String,
    /// Sample anvil and the workers with `perf` during each end-to-end run.
    pub profile: bool,
    /// The most transactions each of the bench's senders (the poster, the ceiling's accounts) keeps unmined
    /// (0: no limit).
    pub in_flight: usize,
}

/// Measures what `plan` asks for, telling `say` what it is doing, and returns the report. `save` gets the
/// report so far after each run, so that a run stopped part-way still leaves its figures.
pub async fn measure(
    plan: &Plan,
    say: &mut dyn FnMut(&str),
    save: &mut dyn FnMut(&report::Report),
) -> Result<report::Report> {
    let started = std::time::Instant::now();
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(|| "an unknown date".to_owned(), |text| text.trim().to_owned());
    let machine = machine::describe(&plan.root);
    let gas = gas::table(&plan.root)?;
    let criterion = match &plan.criterion {
        Some((dir, since)) => criterion::medians(dir, *since)?,
        None => Default::default(),
    };
    let perf_available = std::process::Command::new("perf").arg("--version").output().is_ok_and(|o| o.status.success());
    let (libkubo, libkubo_skipped) = match &plan.libkubo {
        Ok(table) => (Some(table.clone()), None),
        Err(why) => (None, Some(why.clone())),
    };
    let mut report = report::Report {
        date,
        mode: plan.mode.clone(),
        command: plan.command.clone(),
        wall_s: 0.0,
        machine,
        gas,
        criterion,
        libkubo,
        libkubo_skipped,
        workers: plan.workers.clone(),
        runs: Vec::new(),
        ceilings: Vec::new(),
        ceiling_failures: Vec::new(),
        perf_available,
        in_flight: plan.in_flight,
        additions: Vec::new(),
        mining: e2e::mining(),
    };
    let mut job_counts: Vec<usize> = plan.runs.iter().map(|(jobs, _)| *jobs).collect();
    job_counts.sort_unstable();
    job_counts.dedup();
    let senders = plan.runs.iter().map(|(_, workers)| *workers).max().unwrap_or(1);
    for jobs in job_counts {
        say(&format!("ceiling: {jobs} jobs, {senders} accounts"));
        let market =
            e2e::Market::start(&plan.root, plan.work_dir.join(format!("ceiling-{jobs}")), plan.in_flight).await?;
        let measured = e2e::ceiling(&market, jobs, senders).await;
        market.stop().await;
        match measured {
            Ok(measured) => {
                say(&format!("  {:.0} tx/s, {:.1} jobs/s", measured.tx_per_s, measured.jobs_per_s));
                report.ceilings.push(measured);
            }
            // Reported, not fatal: the end-to-end runs still measure the agents.
            Err(error) => {
                say(&format!("  failed: {error}"));
                report.ceiling_failures.push(report::CeilingFailure { jobs, error: error.to_string() });
            }
        }
        report.wall_s = started.elapsed().as_secs_f64();
        save(&report);
    }
    for &(jobs, workers) in &plan.runs {
        say(&format!("end to end: {jobs} jobs, {workers} workers"));
        let dir = plan.work_dir.join(format!("e2e-{jobs}-{workers}"));
        let market = e2e::Market::start(&plan.root, dir, plan.in_flight).await?;
        let patience =
            (plan.patience + plan.patience_per_job * u32::try_from(jobs).unwrap_or(u32::MAX)).min(plan.max_patience);
        let measured = e2e::work(&market, &plan.jsjob, jobs, workers, &plan.workers, patience, plan.profile).await;
        market.stop().await;
        let measured = measured?;
        say(&format!(
            "  {} of {jobs} closed, {:.1} jobs/s, peak RSS {:.1} MiB",
            measured.closed,
            measured.jobs_per_s,
            measured.peak_rss_mib.iter().copied().fold(0.0, f64::max)
        ));
        for (client, counts) in measured.rpc.clients() {
            let calls = counts.values().sum::<u64>() as f64 / jobs.max(1) as f64;
            let top = rpc::top_per_job(counts, 4, jobs);
            say(&format!("  RPC calls per job, {client}: {calls:.2} ({})", top.join(", ")));
        }
        report.runs.push(measured);
        report.wall_s = started.elapsed().as_secs_f64();
        save(&report);
    }
    report.wall_s = started.elapsed().as_secs_f64();
    Ok(report)
}
