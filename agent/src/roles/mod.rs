//! The agent's roles against a real chain: [`worker`], [`poster`] and [`verifier`], and what they share:
//! a [`Session`] (the key, the chain, the deployment, the state database, the content store, the
//! engines) and a [`Watcher`] (the agency's jobs, folded from events read through the reorg-safe cursor
//! and stored with it).
//!
//! Every role is a loop over the same rule: compare what the database says the agent did with what the
//! chain says happened, and take the next step. A step that sends a transaction writes its intent first
//! and clears it after the receipt; after a crash, [`Session::settle_pending`] waits until the account
//! has no transaction in flight, so the events say whether the intended action happened, and the rule
//! then picks up from there. That is why a killed agent never claims twice, never submits a result it
//! did not compute (it submits only `JobEntry::output`, written after its own run), and never forgets a
//! bond (bonds are written with the claim's or challenge's receipt and released only when the job
//! closes or is lost).

pub mod cli;
pub mod poster;
pub mod seams;
pub mod verifier;
pub mod worker;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};

use self::seams::Engines;
use crate::{
    chain::{
        self, Agency, Deployment,
        bindings::format_eth,
        job::{self, JobView, Outcome},
        tx::{Backoff, Transactions, TxSettings},
        watch::{self, Source},
    },
    cid::Cid,
    config::{self, Config},
    exec::{self, JobInput, Limits, Sandbox, Seed},
    keys,
    state::{self, Identity, LedgerEntry, Role, State, Step},
    store::{self, ClientOptions, DiskStore, KuboClient, Store},
};

/// Sandbox processes a worker or verifier keeps started per engine, so that a job's start-up is off its
/// critical path.
pub const WARM_POOL: usize = 2;

/// Errors of the roles: each names the problem and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::Error),
    /// The key cannot be loaded.
    #[error(transparent)]
    Keys(#[from] keys::Error),
    /// A chain call failed.
    #[error(transparent)]
    Chain(#[from] chain::Error),
    /// The state database failed.
    #[error(transparent)]
    State(#[from] state::Error),
    /// The content store failed, or a CID is malformed.
    #[error(transparent)]
    Content(#[from] store::Error),
    /// Running a job failed.
    #[error(transparent)]
    Exec(#[from] exec::Error),
    /// The endpoint cannot be reached.
    #[error(
        "cannot reach the JSON-RPC endpoint {url} ({reason}): check that a node serves that URL, or set --rpc or JSJOB_RPC"
    )]
    Unreachable {
        /// The endpoint.
        url: String,
        /// Why.
        reason: String,
    },
    /// The endpoint is another chain than configured.
    #[error("the endpoint {url} is chain {actual}, but chain {expected} is configured (chain.chain_id / --chain-id)")]
    WrongChain {
        /// The endpoint.
        url: String,
        /// Its chain id.
        actual: u64,
        /// The configured one.
        expected: u64,
    },
    /// The deployment file cannot be used.
    #[error(
        "no deployment for chain {chain_id}: {reason}. Deploy with `forge script script/Deploy.s.sol --broadcast` or pass --deployment FILE"
    )]
    NoDeployment {
        /// The chain.
        chain_id: u64,
        /// Why.
        reason: String,
    },
    /// The account cannot pay.
    #[error("account {account} has {balance} ETH but needs {needed} ETH ({what}): fund it and try again")]
    InsufficientFunds {
        /// The account.
        account: Address,
        /// Its balance, in ETH.
        balance: String,
        /// What it needs, in ETH.
        needed: String,
        /// For what.
        what: String,
    },
    /// Bad input on the command line.
    #[error("{0}")]
    Usage(String),
    /// A job this agent cannot run as posted (too large, an engine it lacks, malformed options).
    #[error("cannot run the job: {0}")]
    Job(String),
    /// A result failed its functional check (`jsjob result --check`).
    #[error("the result fails its check: {0}")]
    CheckFailed(String),
    /// The agent's own records do not allow the step (a bug or a damaged database).
    #[error("{0}")]
    Inconsistent(String),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(#[from] alloy::signers::Error),
    /// A file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Gas a worker spends on one job (claim + submit + finalize, with their 21 000 base costs), rounded up
/// from the committed gas snapshot (`snapshots/JobAgency_Gas_Test.json`: 163 409 for post + claim +
/// submit + finalize, of which post is 59 112).
pub const WORKER_GAS: u64 = 200_000;

/// What every role needs.
pub struct Session {
    /// The configuration in force.
    pub config: Config,
    /// The read provider (no signer: transactions go through [`Transactions`]).
    pub provider: DynProvider,
    /// The endpoint's chain id.
    pub chain_id: u64,
    /// The contracts.
    pub deployment: Deployment,
    /// The agency client (sending through the nonce manager).
    pub agency: Agency,
    /// The agent's key, when one is loaded.
    pub signer: Option<PrivateKeySigner>,
    /// The content store.
    pub content: Arc<dyn Store>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("chain_id", &self.chain_id)
            .field("agency", &self.deployment.job_agency)
            .field("account", &self.signer.as_ref().map(|s| s.address()))
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connects: checks the endpoint and its chain id, loads the deployment and checks its code, and
    /// (when `with_key`) loads the key.
    pub async fn connect(config: Config, with_key: bool) -> Result<Self> {
        let signer = if with_key { Some(config.key.source().load()?) } else { None };
        let url: Url = config
            .chain
            .rpc
            .parse()
            .map_err(|e| Error::Unreachable { url: config.chain.rpc.clone(), reason: format!("not a URL: {e}") })?;
        let unreachable = |e: &alloy::transports::TransportError| Error::Unreachable {
            url: url.to_string(),
            reason: crate::report::one_line(e),
        };
        let provider =
            chain::connect_endpoint(url.clone(), config.chain.ca_file.as_deref()).await.map_err(|e| match e {
                chain::Error::Rpc { source, .. } => unreachable(&source),
                other => other.into(),
            })?;
        let chain_id = provider.get_chain_id().await.map_err(|e| unreachable(&e))?;
        if let Some(expected) = config.chain.chain_id
            && expected != chain_id
        {
            return Err(Error::WrongChain { url: url.to_string(), actual: chain_id, expected });
        }
        let path = config.chain.deployment.clone().unwrap_or_else(|| format!("deployments/{chain_id}.json").into());
        let deployment =
            Deployment::load(&path).map_err(|e| Error::NoDeployment { chain_id, reason: e.to_string() })?;
        if deployment.chain_id != chain_id {
            return Err(Error::NoDeployment {
                chain_id,
                reason: format!("{} is a deployment on chain {}", path.display(), deployment.chain_id),
            });
        }
        let code = provider.get_code_at(deployment.job_agency).await.map_err(|e| unreachable(&e))?;
        if code.is_empty() {
            return Err(Error::NoDeployment {
                chain_id,
                reason: format!(
                    "{} names JobAgency {}, which has no code on this chain",
                    path.display(),
                    deployment.job_agency
                ),
            });
        }
        let mut agency = Agency::new(provider.clone(), &deployment);
        if let Some(signer) = &signer {
            let settings = TxSettings {
                backoff: Backoff { total: Duration::from_secs(config.chain.rpc_retry_secs), ..Backoff::default() },
                max_fee_per_gas: config.chain.max_fee_gwei.map(|gwei| u128::from(gwei) * 1_000_000_000),
                ..TxSettings::default()
            };
            let wallet = EthereumWallet::from(signer.clone());
            agency =
                agency.with_transactions(Arc::new(Transactions::new(provider.clone(), wallet, chain_id, settings)));
        }
        let content: Arc<dyn Store> = match &config.store.api {
            Some(api) => Arc::new(KuboClient::new(api, ClientOptions::default())?),
            None => Arc::new(DiskStore::open(&config.store.dir, None)?),
        };
        Ok(Self { config, provider, chain_id, deployment, agency, signer, content })
    }

    /// The deployment's jury (`Usage` error when the deployment file names none).
    pub fn jury(&self) -> Result<chain::jury::Jury> {
        let address = self.deployment.jury_arbiter.ok_or_else(|| {
            Error::Usage(
                "the deployment file names no juryArbiter: redeploy with script/Deploy.s.sol, or run without the jury duty"
                    .into(),
            )
        })?;
        Ok(chain::jury::Jury::new(&self.agency, address))
    }

    /// The agent's account (`Usage` error when no key was loaded).
    pub fn account(&self) -> Result<Address> {
        self.signer.as_ref().map(|s| s.address()).ok_or_else(|| Error::Usage("this command needs a key".into()))
    }

    /// Opens the state database for this chain, agency and account.
    pub fn open_state(&self) -> Result<State> {
        let identity =
            Identity { chain_id: self.chain_id, agency: self.deployment.job_agency, account: self.account()? };
        Ok(State::open(&self.config.state.db, identity)?)
    }

    /// The event source the watcher reads.
    pub fn source(&self) -> Source {
        Source {
            agency: self.deployment.job_agency,
            deploy_block: self.deployment.deploy_block,
            confirmations: self.config.chain.confirmations,
            max_range: self.config.chain.max_log_range,
        }
    }

    /// The latest block's timestamp.
    pub async fn chain_time(&self) -> Result<u64> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(chain::Error::rpc("eth_getBlockByNumber"))?;
        Ok(block.map(|block| block.header.timestamp).unwrap_or_default())
    }

    /// Waits until the account has no transaction in flight (its pending nonce equals its mined one), so
    /// that the events tell whether an intent recorded before a crash happened. Gives up after `patience`.
    pub async fn settle_pending(&self, patience: Duration) -> Result<bool> {
        let account = self.account()?;
        let deadline = tokio::time::Instant::now() + patience;
        let rpc = chain::Error::rpc("eth_getTransactionCount");
        loop {
            let pending = self.provider.get_transaction_count(account).pending().await.map_err(rpc)?;
            let mined = self.provider.get_transaction_count(account).latest().await.map_err(rpc)?;
            if pending <= mined {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Withdraws the account's credit when it is above `threshold`; returns the amount withdrawn.
    pub async fn withdraw_above(&self, state: Option<&State>, threshold: U256) -> Result<U256> {
        let account = self.account()?;
        let credit = self.agency.credit_of(account).await?;
        if credit.is_zero() || credit <= threshold {
            return Ok(U256::ZERO);
        }
        let (amount, sent) = self.agency.withdraw(account).await?;
        if let Some(state) = state {
            state.record(&LedgerEntry { kind: "withdraw".into(), job: None, amount, tx: Some(sent.hash) })?;
        }
        tracing::info!(amount = %format_eth(amount), tx = %sent.hash, "withdrew credit");
        Ok(amount)
    }

    /// The engines of this machine, restricted to `worker.engines`, each keeping `pool` sandbox processes
    /// warm ([`WARM_POOL`] for the long-running roles, 0 for a one-shot command).
    pub async fn engines(&self, pool: usize) -> Result<Engines> {
        let deno = match &self.config.worker.deno {
            Some(path) => path.clone(),
            None => {
                let here = std::env::current_dir().map_err(|source| Error::Io { path: ".".into(), source })?;
                crate::tools::Toolchain::find(&here)
                    .map_err(|e| Error::Usage(format!("{e}; or set worker.deno / --deno to the Deno binary")))?
                    .deno
            }
        };
        let limits = Limits { time: Duration::from_secs(self.config.worker.run_timeout_secs), ..Limits::default() };
        let mut engines = Engines::default().with(Arc::new(Sandbox::v8(&deno, limits).await?.with_pool(pool)));
        // QuickJS runs in the `jsjob-sandbox` binary, built with the agent; without it this agent runs V8 only.
        match exec::find_sandbox_binary() {
            Ok(binary) => engines = engines.with(Arc::new(Sandbox::quickjs(&binary, limits).await?.with_pool(pool))),
            Err(error) => tracing::warn!(%error, "QuickJS jobs will be refused"),
        }
        Ok(engines.only(&self.config.worker.engines))
    }

    /// Fetches a job's code and input (verified by CID), refusing more than `max_bytes` in all.
    pub async fn fetch(&self, view: &JobView, max_bytes: u64) -> Result<(Vec<u8>, Vec<u8>)> {
        let code = self.content.get(&Cid::from_bytes(&view.spec.codeCid)?).await?;
        let input = self.content.get(&Cid::from_bytes(&view.spec.inputCid)?).await?;
        let size = (code.len() + input.len() + view.spec.options.len()) as u64;
        if size > max_bytes {
            return Err(Error::Job(format!("its code, input and options are {size} bytes, over {max_bytes}")));
        }
        Ok((code, input))
    }

    /// Runs a job in the engine it names, stores the output, and returns the output's CID.
    pub async fn execute(&self, engines: &Engines, view: &JobView, code: &[u8], input: &[u8]) -> Result<Cid> {
        let engine = engines
            .find(view.spec.engine)
            .ok_or_else(|| Error::Job(format!("engine {} is not run here", seams::engine_name(view.spec.engine))))?;
        let options = self.options(&view.spec.options).await?;
        let options = options.as_deref();
        let seed = Seed::derive(&view.id.to_be_bytes::<32>(), &view.spec.inputCid);
        let output = engine.run(JobInput { code, input, options, seed }).await?;
        let cid = self.content.put(&output.bytes).await?;
        tracing::info!(job = %short(view.id), engine = engine.id(), bytes = output.bytes.len(), elapsed = ?output.elapsed, %cid, "ran the job");
        Ok(cid)
    }
}

impl Session {
    /// A job's options as the engine gets them: `None` when empty, the inline bytes after tag `0x00`, or
    /// the content of the CID after tag `0x01`, fetched and verified.
    pub async fn options(&self, options: &[u8]) -> Result<Option<Vec<u8>>> {
        match options.split_first() {
            None => Ok(None),
            Some((&INLINE_OPTIONS, inline)) => Ok(Some(inline.to_vec())),
            Some((&CID_OPTIONS, cid)) => Ok(Some(self.content.get(&Cid::from_bytes(cid)?).await?)),
            Some((tag, _)) => Err(Error::Job(format!("options tag {tag:#04x} is not one the agency defines"))),
        }
    }
}

/// `JobSpec.options` tag: inline bytes follow.
const INLINE_OPTIONS: u8 = 0x00;
/// `JobSpec.options` tag: the CID of an options file follows.
const CID_OPTIONS: u8 = 0x01;

/// Inline options as `JobSpec.options` carries them: empty, or `0x00 ‖ bytes`.
pub fn encode_options(inline: &[u8]) -> alloy::primitives::Bytes {
    if inline.is_empty() {
        return alloy::primitives::Bytes::new();
    }
    [&[INLINE_OPTIONS][..], inline].concat().into()
}

/// The agency's jobs, folded from the events the cursor has read and stored.
#[derive(Debug)]
pub struct Watcher {
    source: Source,
    jobs: BTreeMap<U256, JobView>,
    head: Option<watch::Head>,
}

impl Watcher {
    /// The jobs from the events already in `state`.
    pub fn new(source: Source, state: &State) -> Result<Self> {
        let mut watcher = Self { source, jobs: BTreeMap::new(), head: None };
        watcher.refold(state)?;
        Ok(watcher)
    }

    fn refold(&mut self, state: &State) -> Result<()> {
        let events = state.logs()?.iter().map(watch::AgencyLog::event).collect::<chain::Result<Vec<_>>>()?;
        self.jobs = job::fold(&events).map_err(chain::Error::from)?;
        Ok(())
    }

    /// Reads every new confirmed block (undoing reorgs), storing the events with the cursor. Adds the jobs that
    /// changed to `changed`, also when it fails part-way (after a reorg: every job known before or after it; a
    /// job gone with the reorg is no longer in [`Watcher::jobs`]).
    pub async fn sync(&mut self, provider: &DynProvider, state: &State, changed: &mut BTreeSet<U256>) -> Result<()> {
        loop {
            let (step, head) = watch::step_at(provider, &self.source, &state.checkpoints()?).await?;
            self.head = Some(head);
            match step {
                watch::Step::Idle => return Ok(()),
                watch::Step::Advance { logs, to } => {
                    let caught_up = to.block.saturating_add(self.source.confirmations) >= head.block;
                    let events = logs.iter().map(watch::AgencyLog::event).collect::<chain::Result<Vec<_>>>()?;
                    // Fold into copies of the jobs the events are about, then store, then keep the copies: a log
                    // that does not fold changes nothing, is not stored, and the cursor stays.
                    let mut touched = BTreeMap::new();
                    for id in events.iter().filter_map(job::job_of) {
                        if let Some(view) = self.jobs.get(&id) {
                            touched.entry(id).or_insert_with(|| view.clone());
                        }
                    }
                    for event in &events {
                        job::apply(&mut touched, event).map_err(chain::Error::from)?;
                    }
                    state.advance(&logs, to)?;
                    changed.extend(touched.keys().copied());
                    self.jobs.extend(touched);
                    tracing::debug!(block = to.block, logs = logs.len(), "events read");
                    // Read up to what the head allowed: the next poll looks again (one call fewer now).
                    if caught_up {
                        return Ok(());
                    }
                }
                watch::Step::Reorg { to } => {
                    state.roll_back(to)?;
                    changed.extend(self.jobs.keys().copied());
                    self.refold(state)?;
                    changed.extend(self.jobs.keys().copied());
                }
            }
        }
    }

    /// The jobs, by id.
    pub fn jobs(&self) -> &BTreeMap<U256, JobView> {
        &self.jobs
    }

    /// The chain's time: the timestamp of the head block the last [`Watcher::sync`] read (`None` before one).
    pub fn chain_time(&self) -> Option<u64> {
        self.head.map(|head| head.timestamp)
    }
}

/// What a closed job credited `account`: as its worker, its challenger, or both (never both on chain).
pub fn payout_of(outcome: Outcome, view: &JobView, account: Address) -> U256 {
    let (payment, bond, challenge) =
        (U256::from(view.record.payment), U256::from(view.record.workerBond), U256::from(view.record.challengeBond));
    // A ruling pays the arbiter its fee out of the pot; an expiry charges none.
    let fee = U256::from(view.record.arbiterFee);
    // A challenge forfeited into an audit paid the worker the challenger's bond before the audit.
    let forfeited = if view.record.challenger == Address::ZERO { U256::ZERO } else { challenge };
    let as_worker = match outcome {
        Outcome::Finalized => payment + bond,
        Outcome::AuditPassed | Outcome::AuditTimedOut => payment + bond + forfeited,
        Outcome::WorkerUpheld => payment + bond + challenge - fee,
        Outcome::ChallengeForfeited => payment + bond + challenge,
        Outcome::DisputeTimedOut => bond,
        _ => U256::ZERO,
    };
    let as_challenger = match outcome {
        Outcome::ChallengerUpheld => payment + bond + challenge - fee,
        Outcome::DisputeTimedOut => challenge,
        _ => U256::ZERO,
    };
    let mut total = U256::ZERO;
    if view.record.worker == account {
        total += as_worker;
    }
    if view.record.challenger == account {
        total += as_challenger;
    }
    total
}

/// Records that a job the agent took part in as `role` has closed: its payout, and its bond released.
/// Does nothing for a job the agent had no part in, or already recorded.
pub fn record_close(state: &State, view: &JobView, outcome: Outcome, role: Role, account: Address) -> Result<()> {
    let Some(entry) = state.job(view.id)? else { return Ok(()) };
    if entry.role != role || entry.step == Step::Closed {
        return Ok(());
    }
    let payout = payout_of(outcome, view, account);
    state.update_deferred(view.id, |e| {
        e.step = Step::Closed;
        e.intent = None;
        e.bond = U256::ZERO;
        e.payout = payout;
    })?;
    tracing::info!(job = %short(view.id), ?outcome, payout = %format_eth(payout), "job closed");
    Ok(())
}

/// A job id shortened for logs: its first 4 bytes in hex.
pub fn short(id: U256) -> String {
    format!("{:#010x}", id >> 224)
}
