//! The market end to end on a local anvil, and the chain-alone ceiling.
//!
//! [`work`]: N jobs posted at once (pre-signed, sent together unless [`Market::in_flight`] limits them) to a
//! fresh anvil where W real `jsjob worker` processes are waiting; the bench watches the agency's events every
//! [`WATCH_POLL`] and notes when it first saw each job posted, submitted and closed. It reads each worker's
//! peak RSS (`VmHWM`) and CPU time (its own, and its children's: the engines) from `/proc` before stopping it,
//! and the per-phase breakdown from the workers' JSON logs.
//!
//! [`ceiling`]: the same transactions (post + claim + submit + finalize per job) from a bare loop: every
//! transaction pre-signed with a local nonce counter, sent together (or at most [`Market::in_flight`] unmined
//! per sender), the senders side by side, one phase after the other; only the sending and mining is timed. The
//! posts are timed as a run's are (its clock starts at the first post sent); the challenge window is not (a
//! time jump before the finalizations), where a run waits it out: a run is held to a ceiling that does less.

use std::{
    collections::{HashMap, hash_map::Entry},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy::{
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, TransactionRequest},
    sol_types::SolEventInterface,
};
use jsjob::{
    chain::{
        self, Agency, Deployment,
        bindings::{JobAgencyEvents, JobAgencyInstance},
        job::{JobSpec, JobView},
    },
    cid::Cid,
    devnet::{self, Anvil, AnvilOptions, DEV_KEYS},
    exec::{Engine, Limits, Sandbox},
    store::{DiskStore, Store},
    tools::Toolchain,
};
use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};

use crate::{
    Error, Result, io,
    profile::{self, Profile},
    rpc::{self, Counter, Counts},
    stats,
};

/// Dev account that deploys.
const DEPLOYER: usize = 0;
/// Dev account that posts the jobs.
const POSTER: usize = 1;
/// Dev accounts from here on run the workers.
const FIRST_WORKER: usize = 2;
/// The most workers the dev accounts allow.
pub const MAX_WORKERS: usize = DEV_KEYS.len() - FIRST_WORKER;
/// How often the bench reads the agency's new events.
pub const WATCH_POLL: Duration = Duration::from_millis(20);
/// How the bench's anvils mine, for the report ([`AnvilOptions::mine_back_to_back`]).
pub fn mining() -> String {
    format!(
        "the bench, back to back (`anvil --no-mining --disable-block-gas-limit`, and `evm_mine` as soon as a \
         transaction is ready: each block holds every ready transaction, and an empty block comes after {} ms \
         without; anvil's own automine leaves most blocks empty once about 1,000 transactions wait, see \
         `jsjob::devnet::AnvilOptions`)",
        devnet::MINE_IDLE.as_millis()
    )
}
/// The blocks whose states the bench's anvils keep (in memory, none written to disk): a node keeps recent
/// states, and anvil writing every past state to disk made the 1,000-job ceiling 1.5–1.9× slower (alternated
/// runs, nothing else running: 79–93 against 130–135 tx/s with 64 in flight per account, 100 against 180–190
/// sent at once). The workers only read recent blocks.
const KEEP_STATES: u64 = 1024;
/// Gas limit of every pre-signed transaction: above what post, claim, submit and finalize use.
const GAS_LIMIT: u64 = 300_000;
/// The jobs' code: trivial, so that the figures are the market's, not the engine's.
const JOB_CODE: &str = "function jsJobRun(input) { return String(Number(input) * 2); }\n";
/// 10^18 wei.
const ETHER: u128 = 1_000_000_000_000_000_000;

/// A fresh anvil with the contracts deployed by the repository's forge script, a working directory and a
/// content store in it.
pub struct Market {
    anvil: Anvil,
    anvil_pid: Option<u32>,
    /// The working directory (deployment file, store, agents' databases and logs).
    pub dir: PathBuf,
    deployment_file: PathBuf,
    deployment: Deployment,
    provider: DynProvider,
    agency: Agency,
    store: DiskStore,
    tools: Toolchain,
    chain_id: u64,
    wallet: EthereumWallet,
    /// The most transactions one sender of the bench (the poster, the ceiling's loop) keeps sent and not yet
    /// mined (0: no limit).
    pub in_flight: usize,
    /// How many times a sender's transactions were taken out of anvil's pool and sent again ([`Lane::send`]).
    resent: std::sync::atomic::AtomicUsize,
}

impl Market {
    /// Starts anvil and deploys, for the repository at `root`, working in `dir` (emptied first); the bench's
    /// senders keep at most `in_flight` transactions each unmined.
    pub async fn start(root: &Path, dir: PathBuf, in_flight: usize) -> Result<Self> {
        let tools = Toolchain::at(root).map_err(|e| Error::Run(e.to_string()))?;
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let before = children_named("anvil");
        let anvil = Anvil::spawn_with(
            &tools.anvil,
            &AnvilOptions { keep_states: Some(KEEP_STATES), mine_back_to_back: true, ..Default::default() },
        )
        .await?;
        let anvil_pid = children_named("anvil").into_iter().find(|pid| !before.contains(pid));
        let provider = chain::connect(anvil.endpoint().clone(), []);
        let chain_id = provider.get_chain_id().await.map_err(chain::Error::rpc("eth_chainId"))?;
        let deployment = devnet::deploy(&tools, anvil.endpoint(), chain_id, DEV_KEYS[DEPLOYER], &provider).await?;
        let deployment_file = dir.join("deployment.json");
        let written = tools.root.join("deployments").join(format!("{chain_id}.json"));
        std::fs::copy(&written, &deployment_file).map_err(io(&written))?;
        let agency = Agency::new(provider.clone(), &deployment);
        let store = DiskStore::open(dir.join("store"), None)?;
        let mut wallet = EthereumWallet::from(devnet::dev_signer(0));
        for index in 1..DEV_KEYS.len() {
            wallet.register_signer(devnet::dev_signer(index));
        }
        Ok(Self {
            anvil,
            anvil_pid,
            dir,
            deployment_file,
            deployment,
            provider,
            agency,
            store,
            tools,
            chain_id,
            wallet,
            in_flight,
            resent: Default::default(),
        })
    }

    /// Stops anvil.
    pub async fn stop(self) {
        self.anvil.stop().await;
    }

    /// The id of `engine` (`v8`, or `quickjs` in the `jsjob-sandbox` beside `jsjob`) as the workers name it.
    async fn engine_id(&self, engine: &str, jsjob: &Path) -> Result<B256> {
        let sandbox = match engine {
            "v8" => Sandbox::v8(&self.tools.deno, Limits::default()).await,
            "quickjs" => Sandbox::quickjs(&jsjob.with_file_name("jsjob-sandbox"), Limits::default()).await,
            other => return Err(Error::Run(format!("engine `{other}`: the bench runs `v8` or `quickjs`"))),
        }
        .map_err(|e| Error::Run(e.to_string()))?;
        Ok(B256::right_padding_from(sandbox.id().as_bytes()))
    }

    /// Stores the jobs' code and `jobs` inputs and returns one spec per job (`engine`, 0.01 ETH, 1 s window).
    async fn specs(&self, jobs: usize, engine: B256) -> Result<Vec<JobSpec>> {
        let code = self.store.put(JOB_CODE.as_bytes()).await?;
        let now = devnet::chain_time(&self.provider).await?;
        let mut specs = Vec::with_capacity(jobs);
        for index in 0..jobs {
            let input = self.store.put(index.to_string().as_bytes()).await?;
            specs.push(JobSpec {
                codeCid: Bytes::copy_from_slice(code.as_bytes()),
                inputCid: Bytes::copy_from_slice(input.as_bytes()),
                options: Bytes::new(),
                engine,
                payment: U256::from(ETHER / 100).to(),
                workerBond: U256::from(ETHER / 200).to(),
                challengeBond: U256::from(ETHER / 200).to(),
                arbiterFee: U256::ZERO.to(),
                auditFee: U256::ZERO.to(),
                claimDeadline: U256::from(now + 3600).to(),
                executionTime: 120,
                challengeWindow: 1,
                disputeWindow: 60,
                minReputation: 0,
                arbiter: self.deployment.trusted_arbiter,
            });
        }
        Ok(specs)
    }

    fn contract(&self) -> JobAgencyInstance<&DynProvider> {
        JobAgencyInstance::new(self.deployment.job_agency, &self.provider)
    }

    fn post_txs(&self, specs: Vec<JobSpec>) -> Vec<TransactionRequest> {
        let poster = devnet::dev_signer(POSTER).address();
        specs
            .into_iter()
            .map(|spec| {
                let payment = U256::from(spec.payment);
                self.contract().post(spec).from(poster).value(payment).into_transaction_request()
            })
            .collect()
    }

    /// Signs `txs` with a local nonce counter per sender (starting at its pending count, asked `via`), ahead
    /// of sending.
    async fn sign(&self, via: &DynProvider, txs: Vec<TransactionRequest>) -> Result<Signed> {
        let fees = via.estimate_eip1559_fees().await.map_err(chain::Error::rpc("eth_feeHistory"))?;
        let mut lanes: HashMap<Address, Lane> = HashMap::new();
        for mut tx in txs {
            let from = tx.from.ok_or_else(|| Error::Run("a transaction without `from`".into()))?;
            let lane = match lanes.entry(from) {
                Entry::Occupied(lane) => lane.into_mut(),
                Entry::Vacant(vacant) => {
                    let first = via
                        .get_transaction_count(from)
                        .pending()
                        .await
                        .map_err(chain::Error::rpc("eth_getTransactionCount"))?;
                    vacant.insert(Lane { first, raw: Vec::new() })
                }
            };
            tx.set_nonce(lane.first + lane.raw.len() as u64);
            tx.set_gas_limit(GAS_LIMIT);
            // Twice the estimate: the base fee moves while thousands of transactions are mined.
            tx.set_max_fee_per_gas(fees.max_fee_per_gas * 2);
            tx.set_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
            tx.set_chain_id(self.chain_id);
            let envelope = tx.build(&self.wallet).await.map_err(|e| Error::Run(format!("cannot sign: {e}")))?;
            lane.raw.push(Bytes::from(envelope.encoded_2718()));
        }
        Ok(Signed { lanes })
    }

    /// Sends signed transactions `via` a provider, the senders side by side, and waits until every sender's
    /// transactions are mined (its mined nonce reached its last one). Returns how long that took.
    ///
    /// Each sender sends in nonce order, keeping at most [`Market::in_flight`] transactions sent and not yet
    /// mined (0: all at once). When [`RESEND_AFTER_BLOCKS`] blocks pass without the sender's mined nonce
    /// moving, or anvil's pool holds nothing ready but something queued at two looks in a row, its unmined
    /// transactions leave anvil's pool and are sent again (counted in [`Market::resent`]); after
    /// [`STALL_LIMIT`] the send fails naming the nonce.
    async fn send(&self, via: &DynProvider, signed: Signed) -> Result<Duration> {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for (from, lane) in signed.lanes {
            tasks.spawn(lane.send(via.clone(), from, self.in_flight));
        }
        while let Some(joined) = tasks.join_next().await {
            let resent = joined.map_err(|e| Error::Run(format!("a sending task failed: {e}")))??;
            self.resent.fetch_add(resent, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(started.elapsed())
    }

    /// How many times one of the bench's senders had its transactions taken out of anvil's pool and sent
    /// again, so far: anvil had kept its next transaction without mining it.
    pub fn resent(&self) -> usize {
        self.resent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Signs and sends `txs` straight to anvil (the ceiling's bare loop); returns how long sending and mining
    /// took, in how many blocks, and the CPU anvil and the bench spent meanwhile.
    async fn timed(&self, txs: Vec<TransactionRequest>) -> Result<Timed> {
        let signed = self.sign(&self.provider, txs).await?;
        let head = || async { self.provider.get_block_number().await.map_err(chain::Error::rpc("eth_blockNumber")) };
        let before = head().await?;
        let anvil_cpu = || self.anvil_pid.and_then(usage).map(|usage| usage.cpu_s);
        let cpu_before = (anvil_cpu(), own_cpu_s());
        let took = self.send(&self.provider, signed).await?;
        let spent = |before: Option<f64>, after: Option<f64>| after.zip(before).map(|(after, before)| after - before);
        Ok(Timed {
            took,
            blocks: head().await?.saturating_sub(before),
            anvil_cpu_s: spent(cpu_before.0, anvil_cpu()),
            bench_cpu_s: spent(cpu_before.1, own_cpu_s()),
        })
    }

    async fn jobs(&self) -> Result<Vec<JobView>> {
        Ok(self.agency.jobs().await?.into_values().collect())
    }
}

/// One timed phase of the ceiling.
struct Timed {
    /// Sending until all were mined.
    took: Duration,
    /// Blocks mined.
    blocks: u64,
    /// anvil's CPU seconds (`None`: its process was not found).
    anvil_cpu_s: Option<f64>,
    /// The bench's own CPU seconds: its sending lanes and miner.
    bench_cpu_s: Option<f64>,
}

/// Transactions signed ahead, by sender.
struct Signed {
    lanes: HashMap<Address, Lane>,
}

/// One sender's signed transactions, in nonce order.
struct Lane {
    /// The nonce of the first.
    first: u64,
    raw: Vec<Bytes>,
}

/// How often a sending lane reads its sender's mined nonce.
pub const NONCE_POLL: Duration = Duration::from_millis(20);
/// Blocks mined with none of a sender's sent transactions in them, after which they are taken as lost track of
/// and sent again: the bench's miner puts every ready transaction in its next block.
pub const RESEND_AFTER_BLOCKS: u64 = 3;
/// How long a lane may go without any transaction mined before the bench gives up.
const STALL_LIMIT: Duration = Duration::from_secs(120);

impl Lane {
    /// Sends the lane keeping at most `in_flight` transactions unmined (0: no limit), until all are mined.
    /// Returns how many times its transactions were taken out of anvil's pool and sent again.
    async fn send(self, via: DynProvider, from: Address, in_flight: usize) -> Result<usize> {
        let end = self.first + self.raw.len() as u64;
        let raw = |nonce: u64| &self.raw[(nonce - self.first) as usize];
        let (mut mined, mut next) = (self.first, self.first);
        let mut progress = Instant::now();
        let block = || async { via.get_block_number().await.map_err(chain::Error::rpc("eth_blockNumber")) };
        // The block at the last progress (or send again): a ready transaction is in the next one or two.
        let mut since = block().await?;
        let mut resent = 0;
        // What anvil last answered when the stuck transaction was sent again, for the error.
        let mut answer = String::from("not sent again yet");
        // Whether the last look found anvil's pool stuck.
        let mut stuck_before = false;
        let window = if in_flight == 0 { u64::MAX } else { in_flight as u64 };
        while mined < end {
            while next < end && next < mined.saturating_add(window) {
                // Mined-ness is read from the sender's nonce, not per transaction.
                let _pending =
                    via.send_raw_transaction(raw(next)).await.map_err(chain::Error::rpc("eth_sendRawTransaction"))?;
                next += 1;
            }
            tokio::time::sleep(NONCE_POLL).await;
            let now =
                via.get_transaction_count(from).latest().await.map_err(chain::Error::rpc("eth_getTransactionCount"))?;
            if now > mined {
                (mined, progress, since) = (now.min(end), Instant::now(), block().await?);
                stuck_before = false;
                continue;
            }
            if progress.elapsed() > STALL_LIMIT {
                return Err(Error::Run(format!(
                    "{from}'s transactions stopped being mined at nonce {mined} (sent up to {next}) for {} s; sent \
                     again, it got: {answer}",
                    STALL_LIMIT.as_secs()
                )));
            }
            // A pool with nothing ready and something queued mines nothing more: stuck now, not in 3 blocks (the
            // bench's miner makes a block only every `MINE_IDLE` then). Seen twice in a row, since a worker's
            // next nonce may arrive a moment before the one it follows.
            let stuck_now = devnet::pool_status(&via).await.is_ok_and(|pool| pool.ready == 0 && pool.queued > 0);
            let stuck = stuck_now && stuck_before;
            stuck_before = stuck_now;
            let head = block().await?;
            if stuck || head >= since + RESEND_AFTER_BLOCKS {
                // anvil's pool can hold the next transaction and never mine it: one whose nonce was read
                // before the previous one was mined, and added after that one left the pool, waits for it
                // forever (anvil 1.7.1, `send_raw_transaction`: the pool's marker for the previous nonce is
                // gone). Sending it again is refused as known; so the sender's transactions leave the pool
                // and are sent again in order, the next one now ready as it comes.
                let _: serde_json::Value = via
                    .raw_request("anvil_removePoolTransactions".into(), (from,))
                    .await
                    .map_err(chain::Error::rpc("anvil_removePoolTransactions"))?;
                for nonce in mined..next {
                    let sent = via.send_raw_transaction(raw(nonce)).await;
                    if nonce == mined {
                        answer = match sent {
                            Ok(pending) => format!("accepted as {}", pending.tx_hash()),
                            Err(error) => error.to_string(),
                        };
                    }
                }
                resent += 1;
                since = block().await?;
                stuck_before = false;
            }
        }
        Ok(resent)
    }
}

/// How the workers of a run are set up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerSettings {
    /// `chain.poll_interval_ms`.
    pub poll_ms: u64,
    /// `worker.max_jobs`.
    pub max_jobs: usize,
    /// The `jsjob` binary they run, as the report names it (its build profile shows in the path).
    pub binary: String,
    /// The engine the jobs name: `v8` or `quickjs`.
    #[serde(default = "v8")]
    pub engine: String,
}

fn v8() -> String {
    "v8".into()
}

/// One end-to-end run's figures. Times are seconds from the moment the posts started to be sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Jobs posted.
    pub jobs: usize,
    /// How many times the poster's transactions were sent again ([`Market::resent`]).
    #[serde(default)]
    pub poster_resent: usize,
    /// `jsjob worker` processes.
    pub workers: usize,
    /// When the last post was seen on chain.
    pub all_posted_s: f64,
    /// When the last result was seen submitted (`None`: not all were).
    pub all_submitted_s: Option<f64>,
    /// When the last job was seen closed (`None`: not all were).
    pub all_final_s: Option<f64>,
    /// Jobs seen closed.
    pub closed: usize,
    /// Closed jobs per second, over the time to the last close.
    pub jobs_per_s: f64,
    /// Blocks mined from the first post to the last close (0 in reports saved before they were counted).
    #[serde(default)]
    pub blocks: u64,
    /// Median seconds from a job's post to its result's submission.
    pub latency_p50_s: Option<f64>,
    /// 99th percentile of the same.
    pub latency_p99_s: Option<f64>,
    /// Transactions the workers sent (claims that lost a race, withdrawals included), per job.
    pub worker_tx_per_job: f64,
    /// Claims that failed (lost to another worker), from the workers' logs.
    pub claims_refused: usize,
    /// Each worker's peak resident memory (`VmHWM`), MiB.
    pub peak_rss_mib: Vec<f64>,
    /// CPU seconds of the workers themselves, per job.
    pub agent_cpu_ms_per_job: f64,
    /// CPU seconds of the engines the workers ran (their reaped children), per job.
    pub engine_cpu_ms_per_job: f64,
    /// CPU seconds of anvil, per job (`None`: its process was not found).
    pub anvil_cpu_ms_per_job: Option<f64>,
    /// CPU milliseconds of the bench's own process from the first post to the last close, per job: the poster's
    /// sends, the watch, the miner and the relays that count the calls, on the same cores (`None` in reports
    /// saved before it was measured).
    #[serde(default)]
    pub bench_cpu_ms_per_job: Option<f64>,
    /// Median seconds of each phase of a job, from the workers' logs and the bench's watch.
    pub phases: Phases,
    /// The JSON-RPC calls each client sent anvil during the run (absent from reports written before they
    /// were counted).
    #[serde(default)]
    pub rpc: RpcCalls,
    /// With `--profile`: the top functions of anvil and of the workers, sampled during the run.
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

impl Run {
    /// CPU milliseconds per job of every process on the machine's cores that the run measured: the workers,
    /// their engines, anvil and the bench (`None` when anvil's or the bench's was not measured).
    pub fn cpu_ms_per_job(&self) -> Option<f64> {
        Some(
            self.agent_cpu_ms_per_job
                + self.engine_cpu_ms_per_job
                + self.anvil_cpu_ms_per_job?
                + self.bench_cpu_ms_per_job?,
        )
    }
}

/// JSON-RPC calls by method, for each kind of client of one run (totals; the report divides by the jobs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RpcCalls {
    /// All the workers together, from their start to their stop.
    pub workers: Counts,
    /// The poster: the bench signing (fees, nonces) and sending the posts, and waiting for them mined.
    pub poster: Counts,
    /// The bench's own watch of the agency's events (not part of the market; it loads anvil all the same).
    pub watch: Counts,
}

impl RpcCalls {
    /// Each client's name and counts, in the order the report shows them.
    pub fn clients(&self) -> [(&'static str, &Counts); 3] {
        [("workers", &self.workers), ("poster", &self.poster), ("bench watch", &self.watch)]
    }
}

/// Where a job's time goes, medians in seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// Post seen → the worker logged its claim mined (a poll, a free slot, fetching the content, the claim).
    pub to_claimed: Option<f64>,
    /// Claim → the worker logged the run done and its output stored.
    pub run: Option<f64>,
    /// Run → the worker logged the submission mined.
    pub submit: Option<f64>,
    /// Submission → the bench saw the job closed (the 1 s challenge window, a poll, the finalize).
    pub settle: Option<f64>,
}

/// Runs `jobs` jobs through `workers` `jsjob worker` processes (the binary `jsjob`) on `market`, waiting
/// at most `patience` for them all to close.
pub async fn work(
    market: &Market,
    jsjob: &Path,
    jobs: usize,
    workers: usize,
    settings: &WorkerSettings,
    patience: Duration,
    profile: bool,
) -> Result<Run> {
    if !(1..=MAX_WORKERS).contains(&workers) {
        return Err(Error::Run(format!("{workers} workers: the dev accounts allow 1 to {MAX_WORKERS}")));
    }
    if !jsjob.is_file() {
        return Err(Error::Run(format!("{} is missing: build it (cargo build --release -p jsjob)", jsjob.display())));
    }
    let config = market.dir.join("agent.toml");
    let text = format!(
        "[chain]\npoll_interval_ms = {}\n[worker]\nmax_jobs = {}\n[log]\njson = true\n",
        settings.poll_ms, settings.max_jobs
    );
    std::fs::write(&config, text).map_err(io(&config))?;
    // Every client talks to anvil through its own counting relay.
    let upstream = market.anvil.endpoint().as_str();
    let (poster_rpc, watch_rpc) = (Counter::start(upstream).await?, Counter::start(upstream).await?);
    let mut agents = Vec::new();
    for index in 0..workers {
        agents.push(Worker::spawn(market, jsjob, &config, index, Counter::start(upstream).await?)?);
    }
    for agent in &mut agents {
        agent.wait_started().await?;
    }
    let engine = market.engine_id(&settings.engine, jsjob).await?;
    let specs = market.specs(jobs, engine).await?;
    let poster = relayed(&poster_rpc)?;
    let signed = market.sign(&poster, market.post_txs(specs)).await?;
    let from_block = market.provider.get_block_number().await.map_err(chain::Error::rpc("eth_blockNumber"))? + 1;
    let t0 = SystemTime::now();
    let bench_cpu_before = own_cpu_s();
    let watcher = relayed(&watch_rpc)?;
    let worker_pids: Vec<u32> = agents.iter().filter_map(|agent| agent.pid).collect();
    let recording = match (profile, market.anvil_pid) {
        (true, Some(anvil)) => {
            Some(profile::record(&[&[anvil][..], &worker_pids].concat(), &market.dir.join("perf.data"))?)
        }
        _ => None,
    };
    let (sent, seen) = tokio::join!(market.send(&poster, signed), watch(market, &watcher, from_block, jobs, patience));
    sent?;
    let seen = seen?;
    let bench_cpu = own_cpu_s().zip(bench_cpu_before).map(|(after, before)| after - before);
    let head = market.provider.get_block_number().await.map_err(chain::Error::rpc("eth_blockNumber"))?;
    let mut usages = Vec::new();
    for agent in &agents {
        usages.push(agent.pid.and_then(usage).unwrap_or_default());
    }
    let profiles = match (recording, market.anvil_pid) {
        (Some(recording), Some(anvil)) => recording.finish(&[("anvil", vec![anvil]), ("workers", worker_pids)]).await?,
        _ => Vec::new(),
    };
    let calls = RpcCalls {
        workers: rpc::sum(agents.iter().map(|agent| agent.rpc.counts()).collect::<Vec<_>>().iter()),
        poster: poster_rpc.counts(),
        watch: watch_rpc.counts(),
    };
    let anvil = market.anvil_pid.and_then(usage);
    let mut worker_txs = 0;
    for index in 0..workers {
        let account = devnet::dev_signer(FIRST_WORKER + index).address();
        worker_txs += market
            .provider
            .get_transaction_count(account)
            .latest()
            .await
            .map_err(chain::Error::rpc("eth_getTransactionCount"))?;
    }
    let mut logs = Vec::new();
    for agent in &mut agents {
        agent.stop().await;
        logs.push(std::fs::read_to_string(&agent.log).map_err(io(&agent.log))?);
    }
    let marks = LogMarks::parse(&logs);
    Ok(Run {
        rpc: calls,
        profiles,
        blocks: (head + 1).saturating_sub(from_block),
        bench_cpu_ms_per_job: bench_cpu.map(|seconds| seconds * 1000.0 / jobs.max(1) as f64),
        poster_resent: market.resent(),
        ..summarise(t0, jobs, workers, &seen, &marks, &usages, anvil, worker_txs)
    })
}

/// A provider without keys that talks to anvil through `counter`.
fn relayed(counter: &Counter) -> Result<DynProvider> {
    let url = counter.url().parse().map_err(|e| Error::Run(format!("the RPC counter's URL {}: {e}", counter.url())))?;
    Ok(chain::connect(url, []))
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    t0: SystemTime,
    jobs: usize,
    workers: usize,
    seen: &Seen,
    marks: &LogMarks,
    usages: &[Usage],
    anvil: Option<Usage>,
    worker_txs: u64,
) -> Run {
    let since = |at: &SystemTime| at.duration_since(t0).unwrap_or_default().as_secs_f64();
    let last = |times: &HashMap<U256, SystemTime>, need: usize| {
        (times.len() >= need).then(|| times.values().map(since).fold(0.0, f64::max))
    };
    let all_final_s = last(&seen.closed, jobs);
    let closed = seen.closed.len();
    let until_last_close = seen.closed.values().map(since).fold(0.0, f64::max);
    let latencies: Vec<f64> = seen
        .submitted
        .iter()
        .filter_map(|(id, at)| Some(at.duration_since(*seen.posted.get(id)?).ok()?.as_secs_f64()))
        .collect();
    let between = |from: &HashMap<U256, SystemTime>, to: &HashMap<String, SystemTime>| {
        let spans: Vec<f64> = from
            .iter()
            .filter_map(|(id, at)| Some(to.get(&jsjob::roles::short(*id))?.duration_since(*at).ok()?.as_secs_f64()))
            .collect();
        stats::median(&spans)
    };
    let between_marks = |from: &HashMap<String, SystemTime>, to: &HashMap<String, SystemTime>| {
        let spans: Vec<f64> =
            from.iter().filter_map(|(id, at)| Some(to.get(id)?.duration_since(*at).ok()?.as_secs_f64())).collect();
        stats::median(&spans)
    };
    let settle: Vec<f64> = seen
        .closed
        .iter()
        .filter_map(|(id, at)| {
            Some(at.duration_since(*marks.submitted.get(&jsjob::roles::short(*id))?).ok()?.as_secs_f64())
        })
        .collect();
    let per_job = |seconds: f64| seconds * 1000.0 / jobs.max(1) as f64;
    Run {
        jobs,
        workers,
        poster_resent: 0,
        blocks: 0,
        bench_cpu_ms_per_job: None,
        all_posted_s: seen.posted.values().map(since).fold(0.0, f64::max),
        all_submitted_s: last(&seen.submitted, jobs),
        all_final_s,
        closed,
        jobs_per_s: if until_last_close > 0.0 { closed as f64 / until_last_close } else { 0.0 },
        latency_p50_s: stats::percentile(&latencies, 50.0),
        latency_p99_s: stats::percentile(&latencies, 99.0),
        worker_tx_per_job: worker_txs as f64 / jobs.max(1) as f64,
        claims_refused: marks.claims_refused,
        peak_rss_mib: usages.iter().map(|u| u.peak_rss_mib).collect(),
        agent_cpu_ms_per_job: per_job(usages.iter().map(|u| u.cpu_s).sum()),
        engine_cpu_ms_per_job: per_job(usages.iter().map(|u| u.children_cpu_s).sum()),
        anvil_cpu_ms_per_job: anvil.map(|u| per_job(u.cpu_s)),
        phases: Phases {
            to_claimed: between(&seen.posted, &marks.claimed),
            run: between_marks(&marks.claimed, &marks.ran),
            submit: between_marks(&marks.ran, &marks.submitted),
            settle: stats::median(&settle),
        },
        rpc: RpcCalls::default(),
        profiles: Vec::new(),
    }
}

/// When the bench first saw each job's events.
#[derive(Debug, Default)]
struct Seen {
    posted: HashMap<U256, SystemTime>,
    submitted: HashMap<U256, SystemTime>,
    closed: HashMap<U256, SystemTime>,
}

/// Reads the agency's events from `from_block` every [`WATCH_POLL`] until `jobs` jobs closed or `patience`
/// has passed.
async fn watch(market: &Market, via: &DynProvider, from_block: u64, jobs: usize, patience: Duration) -> Result<Seen> {
    let started = Instant::now();
    let mut seen = Seen::default();
    let mut from = from_block;
    while seen.closed.len() < jobs && started.elapsed() < patience {
        let latest = via.get_block_number().await.map_err(chain::Error::rpc("eth_blockNumber"))?;
        if latest >= from {
            let filter = Filter::new().address(market.deployment.job_agency).from_block(from).to_block(latest);
            let logs = via.get_logs(&filter).await.map_err(chain::Error::rpc("eth_getLogs"))?;
            let now = SystemTime::now();
            for log in logs {
                let event = JobAgencyEvents::decode_log(&log.inner)
                    .map_err(|e| Error::Run(format!("an agency log does not decode: {e}")))?
                    .data;
                let (times, id) = match event {
                    JobAgencyEvents::JobPosted(e) => (&mut seen.posted, e.jobId),
                    JobAgencyEvents::ResultSubmitted(e) => (&mut seen.submitted, e.jobId),
                    JobAgencyEvents::JobClosed(e) => (&mut seen.closed, e.jobId),
                    _ => continue,
                };
                times.entry(id).or_insert(now);
            }
            from = latest + 1;
        }
        tokio::time::sleep(WATCH_POLL).await;
    }
    Ok(seen)
}

/// What the workers' JSON logs say: when each job (by its short id) was claimed, ran and was submitted.
#[derive(Debug, Default)]
struct LogMarks {
    claimed: HashMap<String, SystemTime>,
    ran: HashMap<String, SystemTime>,
    submitted: HashMap<String, SystemTime>,
    claims_refused: usize,
}

impl LogMarks {
    fn parse(logs: &[String]) -> Self {
        let mut marks = Self::default();
        for line in logs.iter().flat_map(|log| log.lines()) {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            let fields = &entry["fields"];
            let (Some(message), Some(job)) = (fields["message"].as_str(), fields["job"].as_str()) else { continue };
            let Some(at) = entry["timestamp"].as_str().and_then(parse_timestamp) else { continue };
            let times = match message {
                "claimed" => &mut marks.claimed,
                "ran the job" => &mut marks.ran,
                "submitted" => &mut marks.submitted,
                "claim refused" => {
                    marks.claims_refused += 1;
                    continue;
                }
                _ => continue,
            };
            times.entry(job.to_owned()).or_insert(at);
        }
        marks
    }
}

/// `2026-11-25T04:01:02.123456Z` (tracing-subscriber's JSON timestamp, UTC) as a time.
fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.splitn(3, '-').map(|part| part.parse::<i64>());
    let (year, month, day) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let mut time = time.splitn(3, ':');
    let (hours, minutes): (i64, i64) = (time.next()?.parse().ok()?, time.next()?.parse().ok()?);
    let seconds: f64 = time.next()?.parse().ok()?;
    // Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let whole = days * 86_400 + hours * 3600 + minutes * 60;
    let secs = whole as f64 + seconds;
    (secs >= 0.0).then(|| UNIX_EPOCH + Duration::from_secs_f64(secs))
}

/// A running `jsjob worker`.
struct Worker {
    child: Child,
    pid: Option<u32>,
    log: PathBuf,
    /// Its relay to anvil, counting its calls.
    rpc: Counter,
}

impl Worker {
    fn spawn(market: &Market, jsjob: &Path, config: &Path, index: usize, rpc: Counter) -> Result<Self> {
        let log = market.dir.join(format!("worker{index}.log"));
        let file = std::fs::File::create(&log).map_err(io(&log))?;
        let child = Command::new(jsjob)
            .current_dir(&market.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("JSJOB_RPC", rpc.url())
            .env("JSJOB_DEPLOYMENT", &market.deployment_file)
            .env("JSJOB_STORE", market.dir.join("store"))
            .env("JSJOB_DB", market.dir.join(format!("worker{index}.redb")))
            .env("JSJOB_DENO", &market.tools.deno)
            .env("JSJOB_CONFIG", config)
            .env("JSJOB_PRIVATE_KEY", DEV_KEYS[FIRST_WORKER + index])
            .args(["worker", "--confirmations", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::Run(format!("cannot start {}: {e}", jsjob.display())))?;
        Ok(Self { pid: child.id(), child, log, rpc })
    }

    /// Waits until the worker logged that it started (its engines are up).
    async fn wait_started(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains("worker started") {
                return Ok(());
            }
            if Instant::now() > deadline || !matches!(self.child.try_wait(), Ok(None)) {
                return Err(Error::Run(format!("a worker did not start; its log:\n{log}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then SIGKILL if it has not stopped within 30 s.
    async fn stop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await;
        }
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// A process's resource use from `/proc`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Usage {
    peak_rss_mib: f64,
    cpu_s: f64,
    children_cpu_s: f64,
}

/// `VmHWM` and the CPU times of process `pid`, while it runs. Its children's CPU counts both the children it
/// reaped and those still running with what they reaped: a QuickJS engine's jobs are processes of its zygote,
/// which the worker reaps only when it stops.
fn usage(pid: u32) -> Option<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hwm_kib: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.split_whitespace().next()?.parse().ok()?;
    let [user, system, reaped_user, reaped_system] = cpu_ticks(pid)?;
    let live: f64 = children(pid, None).into_iter().filter_map(cpu_ticks).map(|ticks| ticks.iter().sum::<f64>()).sum();
    let tick = clock_ticks();
    Some(Usage {
        peak_rss_mib: hwm_kib / 1024.0,
        cpu_s: (user + system) / tick,
        children_cpu_s: (reaped_user + reaped_system + live) / tick,
    })
}

/// This process's own CPU seconds (user and system).
fn own_cpu_s() -> Option<f64> {
    cpu_ticks(std::process::id()).map(|[user, system, ..]| (user + system) / clock_ticks())
}

/// utime, stime, cutime and cstime of process `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<[f64; 4]> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name: state is field 3, so utime (14) is index 11 here.
    let fields: Vec<f64> = stat.rsplit_once(')')?.1.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
    Some([*fields.get(11)?, *fields.get(12)?, *fields.get(13)?, *fields.get(14)?])
}

/// Clock ticks per second (`getconf CLK_TCK`, asked once; 100 when it cannot say).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The pids of this process's children named `name`.
fn children_named(name: &str) -> Vec<u32> {
    children(std::process::id(), Some(name))
}

/// The pids of `parent`'s children (named `name`, when given).
fn children(parent: u32, name: Option<&str>) -> Vec<u32> {
    let parent = parent.to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
            let Some((head, rest)) = stat.rsplit_once(')') else { return false };
            let comm = head.split_once('(').map_or("", |(_, comm)| comm);
            name.is_none_or(|name| comm == name) && rest.split_whitespace().nth(1) == Some(parent.as_str())
        })
        .collect()
}

/// The chain-alone ceiling: the same transactions a run sends for `jobs` jobs (the poster's and the
/// workers'), from a bare loop.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ceiling {
    /// Jobs.
    pub jobs: usize,
    /// Sending accounts (the jobs split among them).
    pub senders: usize,
    /// Transactions timed: post + claim + submit + finalize per job ([`TIMED_PER_JOB`]; reports saved before
    /// the posts were timed have 3 a job).
    pub txs: usize,
    /// Posts per second (one sender, the poster, as in a run).
    #[serde(default)]
    pub post_tx_per_s: f64,
    /// Claims per second.
    pub claim_tx_per_s: f64,
    /// Submissions per second.
    pub submit_tx_per_s: f64,
    /// Finalizations per second.
    pub finalize_tx_per_s: f64,
    /// All phases: transactions per second.
    pub tx_per_s: f64,
    /// The same as jobs per second.
    pub jobs_per_s: f64,
    /// How many times a sender's transactions were sent again in the timed phases ([`Market::resent`]).
    #[serde(default)]
    pub resent: usize,
    /// Blocks mined in the timed phases (0 in reports saved before they were counted).
    #[serde(default)]
    pub blocks: u64,
    /// anvil's CPU milliseconds in the timed phases, per job (`None`: not measured).
    #[serde(default)]
    pub anvil_cpu_ms_per_job: Option<f64>,
    /// The bench's own CPU milliseconds in the timed phases (the bare loop's sending and the miner), per job.
    #[serde(default)]
    pub bench_cpu_ms_per_job: Option<f64>,
}

impl Ceiling {
    /// CPU milliseconds per job of every process the ceiling ran (anvil and the bare loop).
    pub fn cpu_ms_per_job(&self) -> Option<f64> {
        Some(self.anvil_cpu_ms_per_job? + self.bench_cpu_ms_per_job?)
    }
}

/// The agency's jobs once `count` of them satisfy `ready`, or as they are after [`EVENTS_PATIENCE`]: anvil's
/// logs can trail the nonces `Market::send` waits on by a moment, so a read right after it may miss the
/// last transactions' events (not timed).
async fn jobs_when(market: &Market, count: usize, ready: impl Fn(&JobView) -> bool) -> Result<Vec<JobView>> {
    let deadline = Instant::now() + EVENTS_PATIENCE;
    loop {
        let jobs = market.jobs().await?;
        if jobs.iter().filter(|view| ready(view)).count() >= count || Instant::now() > deadline {
            return Ok(jobs);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long the ceiling waits for the events of the transactions it sent.
const EVENTS_PATIENCE: Duration = Duration::from_secs(10);

/// Transactions a ceiling times per job: post, claim, submit, finalize.
pub const TIMED_PER_JOB: usize = 4;

/// Measures the ceiling on `market` with `jobs` jobs, claimed by `senders` worker accounts.
pub async fn ceiling(market: &Market, jobs: usize, senders: usize) -> Result<Ceiling> {
    let senders = senders.clamp(1, MAX_WORKERS);
    let worker = |index: usize| devnet::dev_signer(FIRST_WORKER + index % senders).address();
    // The ceiling runs no job: any engine id will do.
    let specs = market.specs(jobs, B256::right_padding_from(b"v8")).await?;
    let resent_before = market.resent();
    let post = market.timed(market.post_txs(specs)).await?;
    let open = jobs_when(market, jobs, |_| true).await?;
    let claims = open
        .iter()
        .enumerate()
        .map(|(i, view)| {
            let bond = U256::from(view.record.workerBond);
            market.contract().claim(view.id, view.record.clone()).from(worker(i)).value(bond).into_transaction_request()
        })
        .collect();
    let claim = market.timed(claims).await?;
    let claimed = jobs_when(market, jobs, |view| view.record.worker != Address::ZERO).await?;
    let unclaimed = claimed.iter().filter(|view| view.record.worker == Address::ZERO).count();
    if unclaimed > 0 || claimed.len() != open.len() {
        return Err(Error::Run(format!(
            "the ceiling run's claims: {unclaimed} of {} jobs unclaimed ({} seen open before)",
            claimed.len(),
            open.len()
        )));
    }
    let result = Cid::raw_leaf(b"bench").map_err(|e| Error::Run(e.to_string()))?;
    let submits = claimed
        .iter()
        .map(|view| {
            let cid = Bytes::copy_from_slice(result.as_bytes());
            market
                .contract()
                .submit(view.id, view.record.clone(), cid)
                .from(view.record.worker)
                .into_transaction_request()
        })
        .collect();
    let submit = market.timed(submits).await?;
    // Past the 1 s challenge window (not timed).
    devnet::advance_time(&market.provider, 2).await?;
    let submitted = jobs_when(market, jobs, |view| view.result_cid.is_some()).await?;
    let finalizes = submitted
        .iter()
        .map(|view| {
            market.contract().finalize(view.id, view.record.clone()).from(view.record.worker).into_transaction_request()
        })
        .collect();
    let finalize = market.timed(finalizes).await?;
    let closed = jobs_when(market, jobs, |view| view.outcome.is_some()).await?;
    let closed = closed.iter().filter(|view| view.outcome.is_some()).count();
    if closed != jobs {
        return Err(Error::Run(format!("the ceiling run closed {closed} of {jobs} jobs: some transactions failed")));
    }
    let phases = [&post, &claim, &submit, &finalize];
    let rate = |phase: &Timed| jobs as f64 / phase.took.as_secs_f64().max(f64::EPSILON);
    let total = phases.iter().map(|phase| phase.took).sum::<Duration>().as_secs_f64().max(f64::EPSILON);
    let cpu_ms_per_job = |cpu: fn(&Timed) -> Option<f64>| {
        phases.iter().map(|phase| cpu(phase)).sum::<Option<f64>>().map(|s| s * 1000.0 / jobs.max(1) as f64)
    };
    Ok(Ceiling {
        jobs,
        senders,
        txs: TIMED_PER_JOB * jobs,
        post_tx_per_s: rate(&post),
        claim_tx_per_s: rate(&claim),
        submit_tx_per_s: rate(&submit),
        finalize_tx_per_s: rate(&finalize),
        tx_per_s: (TIMED_PER_JOB * jobs) as f64 / total,
        jobs_per_s: jobs as f64 / total,
        resent: market.resent() - resent_before,
        blocks: phases.iter().map(|phase| phase.blocks).sum(),
        anvil_cpu_ms_per_job: cpu_ms_per_job(|phase| phase.anvil_cpu_s),
        bench_cpu_ms_per_job: cpu_ms_per_job(|phase| phase.bench_cpu_s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tracing_timestamps_as_utc() {
        let at = parse_timestamp("2026-11-25T04:01:02.5Z").expect("a timestamp");
        assert_eq!(at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs_f64(), 1_795_579_262.5);
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(UNIX_EPOCH));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn log_marks_take_the_first_of_each_step() {
        let logs = [
            r#"{"timestamp":"2026-11-25T04:00:01Z","level":"INFO","fields":{"message":"claimed","job":"0x01020304"}}"#,
            r#"{"timestamp":"2026-11-25T04:00:02Z","level":"INFO","fields":{"message":"claimed","job":"0x01020304"}}"#,
            r#"{"timestamp":"2026-11-25T04:00:03Z","level":"INFO","fields":{"message":"claim refused","job":"0x0a"}}"#,
            "not json",
        ]
        .join("\n");
        let marks = LogMarks::parse(&[logs]);
        assert_eq!(marks.claimed.get("0x01020304"), parse_timestamp("2026-11-25T04:00:01Z").as_ref());
        assert_eq!(marks.claims_refused, 1);
    }

    #[test]
    fn usage_of_this_process() {
        let mine = usage(std::process::id()).expect("/proc of this process");
        assert!(mine.peak_rss_mib > 1.0, "{mine:?}");
    }

    #[test]
    fn usage_counts_the_cpu_of_children_still_running() {
        // A child that burns CPU, then waits: not reaped, so only its live /proc entry shows its CPU.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo burnt; sleep 30"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("piped")), &mut line)
            .expect("the child's line");
        let mine = usage(std::process::id()).expect("/proc of this process");
        child.kill().expect("kill the child");
        child.wait().expect("reap the child");
        assert!(mine.children_cpu_s > 0.0, "the live child's CPU is counted: {mine:?}");
    }
}
