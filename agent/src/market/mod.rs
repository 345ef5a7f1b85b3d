//! `jsjob devnet`: the whole market on one machine, watched as it works.
//!
//! It starts anvil from the pinned npm package (its state kept in the run's directory), deploys the
//! contracts with the repository's forge script (or reuses the deployment a previous run left on that
//! chain), serves the on-disk content store over HTTP (`jsjob_store::http`, the Kubo RPC subset the agents
//! use), starts `W` real `jsjob worker` processes and a `jsjob verify` process, each with its own dev key,
//! and posts the example applications of `examples/` on each engine asked for. A table shows the jobs
//! move through their states; the devnet itself plays two parts with keys of its own: the clock keeper
//! (once every submitted result has been re-run by the verifier, it moves anvil's clock past the
//! challenge window) and the trusted arbiter's owner ([`actors::Arbiter`]). With `--with-cheater` a
//! cheating worker ([`actors::Cheater`]) takes some jobs first and submits wrong outputs. At the end: each
//! result and its functional check (the logic of `jsjob result --check`), the payments, the bonds slashed,
//! the gas of every job read from the receipts, and whether ETH was conserved.

pub mod actors;
pub mod board;
pub mod catalog;
pub mod ledger;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    future::Future,
    io::Write,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use tokio::process::{Child, Command};

use self::{
    actors::{Arbiter, Cheater},
    board::Board,
    catalog::ExampleRun,
    ledger::Account,
};
use crate::{
    chain::{
        self, Agency, Deployment,
        bindings::format_eth,
        job::{JobView, Outcome, Status},
    },
    config::Config,
    devnet::{self, Anvil, AnvilOptions, DEV_KEYS},
    exec,
    roles::{self, Session, poster, short},
    store::{self, ClientOptions, DiskStore, KuboClient},
    tools::{self, Toolchain},
};

/// Errors of the devnet: each says what is wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pinned tool is missing.
    #[error(transparent)]
    Tools(#[from] tools::Error),
    /// anvil or the deployment failed.
    #[error(transparent)]
    Devnet(#[from] devnet::Error),
    /// A transaction or a read failed.
    #[error(transparent)]
    Chain(#[from] chain::Error),
    /// A role's step failed.
    #[error(transparent)]
    Roles(#[from] roles::Error),
    /// The content store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// An engine could not start.
    #[error(transparent)]
    Exec(#[from] exec::Error),
    /// A file or directory could not be used.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A port is taken.
    #[error(
        "port {port} ({what}) is in use: stop what listens there, or pass {flag} with another port (0: any free one)"
    )]
    PortInUse {
        /// The port.
        port: u16,
        /// What it was for.
        what: &'static str,
        /// The flag that moves it.
        flag: &'static str,
    },
    /// The command line or the directory is not usable.
    #[error("{0}")]
    Usage(String),
    /// The market did not end as it should.
    #[error("{0}")]
    Failed(String),
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `jsjob devnet`'s flags.
#[derive(Clone, Debug, clap::Args)]
pub struct DevnetArgs {
    /// Directory holding everything (chain state, deployment, content store, agents' databases and
    /// logs); a second run reuses it.
    #[arg(long, default_value = ".jsjob/devnet", value_name = "DIR")]
    pub dir: PathBuf,
    /// Clear the directory first.
    #[arg(long)]
    pub fresh: bool,
    /// Honest `jsjob worker` processes.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=MAX_WORKERS as i64))]
    pub workers: u8,
    /// Engines the examples are posted for.
    #[arg(long, default_value = "both", value_parser = ["v8", "quickjs", "both"])]
    pub engine: String,
    /// Add a worker that submits wrong results (inside the devnet process); the verifier challenges it.
    #[arg(long)]
    pub with_cheater: bool,
    /// Plain lines instead of a table redrawn in place (also when stdout is not a terminal).
    #[arg(long)]
    pub headless: bool,
    /// Leave the market running after the summary (anvil, the store, the agents) for `jsjob post`,
    /// `status` and `result`, until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
    /// anvil's port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 8545)]
    pub port: u16,
    /// The content store's HTTP port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 5001)]
    pub ipfs_port: u16,
    /// Only this example (repeatable; every example when omitted).
    #[arg(long = "example", value_name = "NAME")]
    pub examples: Vec<String>,
    /// Give up when the jobs are not all closed after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
}

/// Most honest workers: dev accounts 4 to 9.
pub const MAX_WORKERS: usize = DEV_KEYS.len() - FIRST_WORKER;
/// Dev account 0 deploys, so it owns the trusted arbiter.
const ARBITER_KEY: usize = 0;
/// Dev account 1 posts the jobs.
const POSTER_KEY: usize = 1;
/// Dev account 2 runs `jsjob verify`.
const VERIFIER_KEY: usize = 2;
/// Dev account 3 cheats.
const CHEATER_KEY: usize = 3;
/// Dev accounts 4.. run `jsjob worker`.
const FIRST_WORKER: usize = 4;

/// The jobs' terms: a 60 s challenge window (the clock keeper jumps over it), an hour to claim, ten
/// minutes to run, a day for the arbiter.
const WINDOW: u32 = 60;
/// Payment per job: 0.01 ETH, in wei.
const PAYMENT: u64 = 10_000_000_000_000_000;
/// Worker's and challenger's bond: 0.005 ETH, in wei.
const BOND: u64 = 5_000_000_000_000_000;
/// The agents withdraw their credit once above this many wei (0.001 ETH; `worker.withdraw_above_eth` in
/// the agents' config).
const WITHDRAW_ABOVE: u64 = 1_000_000_000_000_000;
/// How long the summary waits for the agents' withdrawals.
const SETTLE: Duration = Duration::from_secs(10);
/// Pause between looks at the chain.
const TICK: Duration = Duration::from_millis(200);
/// How long a child gets to stop after SIGTERM.
const STOP_PATIENCE: Duration = Duration::from_secs(10);
/// Marks a directory as the devnet's, so that `--fresh` never clears anything else.
const MARKER: &str = ".jsjob-devnet";

/// What a run did, for the summary and the tests.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The jobs posted, with how they ended.
    pub jobs: Vec<JobReport>,
    /// The accounts taking part.
    pub accounts: Vec<Account>,
    /// Gas of each operation.
    pub ops: BTreeMap<&'static str, Vec<u64>>,
}

/// One posted job at the end.
#[derive(Clone, Debug)]
pub struct JobReport {
    /// The id.
    pub id: U256,
    /// `example/run`.
    pub label: String,
    /// The engine's id.
    pub engine: String,
    /// How it ended (`None`: still open).
    pub outcome: Option<Outcome>,
    /// The worker that claimed it last.
    pub worker: String,
    /// The settled result's CID and size.
    pub result: Option<(String, usize)>,
    /// The functional check's verdict (`Err`: refused, with why).
    pub check: Result<String, String>,
    /// When the arbiter overturned the worker's result: the check's verdict on that result.
    pub overturned: Option<Result<String, String>>,
    /// Gas of every transaction about it.
    pub gas: u64,
}

/// Puts a child in its own process group (a Ctrl-C on the terminal reaches only the devnet, which stops
/// its children in order) and has the kernel send it SIGTERM if its parent dies, so that no child outlives
/// a killed devnet.
pub fn own_group(command: &mut Command) {
    command.process_group(0);
    // SAFETY: prctl is async-signal-safe and touches only the child's own attributes.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// SIGTERM to `child`, then up to `patience` for it to exit, then SIGKILL.
pub async fn terminate(child: &mut Child, patience: Duration) {
    signal_then_kill(child, libc::SIGTERM, patience).await;
}

/// `signal` to `child`, then up to `patience` for it to exit, then SIGKILL.
pub async fn signal_then_kill(child: &mut Child, signal: libc::c_int, patience: Duration) {
    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: kill(2) with a pid this process spawned and has not reaped yet.
        unsafe {
            libc::kill(pid, signal);
        }
        if tokio::time::timeout(patience, child.wait()).await.is_ok() {
            return;
        }
    }
    // Already gone is fine.
    let _ = child.kill().await;
}

/// A `jsjob worker` or `jsjob verify` child.
#[derive(Debug)]
struct Agent {
    name: String,
    child: Child,
    log: PathBuf,
}

/// Where things live in the devnet's directory.
#[derive(Clone, Debug)]
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn state(&self) -> PathBuf {
        self.path("anvil-state.json")
    }
    fn deployment(&self) -> PathBuf {
        self.path("deployment.json")
    }
    fn store(&self) -> PathBuf {
        self.path("store")
    }
    fn config(&self) -> PathBuf {
        self.path("agent.toml")
    }
    fn db(&self, name: &str) -> PathBuf {
        self.path(&format!("db/{name}.redb"))
    }
    fn log(&self, name: &str) -> PathBuf {
        self.path(&format!("logs/{name}.log"))
    }

    /// Creates (or, with `fresh`, clears and creates) the directory; refuses one that is not the
    /// devnet's.
    fn prepare(&self, fresh: bool) -> Result<()> {
        let dir = &self.dir;
        if dir.exists() && !dir.is_dir() {
            return Err(Error::Usage(format!("--dir {} is a file, not a directory", dir.display())));
        }
        let io = |what, path: &Path, source| Error::Io { what, path: path.to_owned(), source };
        if dir.is_dir() {
            let empty = std::fs::read_dir(dir).map_err(|e| io("reading", dir, e))?.next().is_none();
            if !empty && !dir.join(MARKER).is_file() {
                return Err(Error::Usage(format!(
                    "{} is not a devnet directory (no {MARKER} in it): pass another --dir",
                    dir.display()
                )));
            }
            if fresh {
                std::fs::remove_dir_all(dir).map_err(|e| io("clearing", dir, e))?;
            }
        }
        for sub in ["", "db", "logs", "store"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| io("creating", &path, e))?;
        }
        // anvil stops with a terse message on a state file it cannot read: say which and what to do.
        let state = self.state();
        if state.is_file() {
            let text = std::fs::read(&state).map_err(|e| io("reading", &state, e))?;
            if serde_json::from_slice::<serde_json::Value>(&text).is_err() {
                return Err(Error::Usage(format!(
                    "{} is not an anvil state file: pass --fresh to start a new chain in {}",
                    state.display(),
                    dir.display()
                )));
            }
        }
        let marker = dir.join(MARKER);
        std::fs::write(&marker, "a jsjob devnet's data: `jsjob devnet --fresh` may clear this directory\n")
            .map_err(|e| io("writing", &marker, e))?;
        // Short polls, so that the table moves; a small withdraw threshold, so that payments are drawn; a
        // run limit that a loaded machine's QuickJS meets (jobs have ten minutes).
        let config = self.config();
        std::fs::write(
            &config,
            "[chain]\npoll_interval_ms = 100\nrpc_retry_secs = 10\n[worker]\nwithdraw_above_eth = \"0.001\"\nrun_timeout_secs = 60\n",
        )
        .map_err(|e| io("writing", &config, e))?;
        Ok(())
    }
}

/// Fails with [`Error::PortInUse`] when `port` on 127.0.0.1 is taken (0 is always free).
fn check_port(port: u16, what: &'static str, flag: &'static str) -> Result<()> {
    if port == 0 {
        return Ok(());
    }
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => Err(Error::PortInUse { port, what, flag }),
        Err(source) => Err(Error::Io { what: "binding", path: format!("127.0.0.1:{port}").into(), source }),
    }
}

/// The running market: the children, the store's HTTP face, and the in-process actors.
struct Market {
    layout: Layout,
    tools: Toolchain,
    anvil: Option<Anvil>,
    agents: Vec<Agent>,
    store_stop: Option<tokio::sync::oneshot::Sender<()>>,
    store_task: Option<tokio::task::JoinHandle<()>>,
    rpc: Url,
    ipfs: String,
    deployment: Deployment,
    config: Config,
    /// Reads only.
    observer: Agency,
    names: HashMap<Address, String>,
}

/// Runs `jsjob devnet` until the summary (or, with `--keep-running`, until `stop`), writing to `out`.
pub async fn run(
    args: DevnetArgs,
    stop: impl Future<Output = &'static str>,
    out: &mut (dyn Write + Send),
) -> Result<Summary> {
    let here = std::env::current_dir().map_err(|source| Error::Io { what: "reading", path: ".".into(), source })?;
    let tools = Toolchain::find(&here)?;
    let engines = match args.engine.as_str() {
        "v8" => vec![false],
        "quickjs" => vec![true],
        _ => vec![false, true],
    };
    if engines.contains(&true) {
        exec::find_sandbox_binary().map_err(|e| {
            Error::Usage(format!("{e}: build it with `cargo build -p jsjob-exec --bins`, or pass --engine v8"))
        })?;
    }
    let runs = catalog::load(&tools.root.join("examples"), &args.examples)?;
    check_port(args.port, "anvil", "--port")?;
    check_port(args.ipfs_port, "the content store", "--ipfs-port")?;
    let layout = Layout { dir: std::path::absolute(&args.dir).unwrap_or_else(|_| args.dir.clone()) };
    layout.prepare(args.fresh)?;

    let mut stop = std::pin::pin!(stop);
    let mut market = tokio::select! {
        market = Market::start(&args, layout, tools, out) => market?,
        signal = &mut stop => return Err(Error::Failed(format!("interrupted by {signal} while starting"))),
    };
    let played = tokio::select! {
        played = market.play(&args, &runs, &engines, out) => played,
        signal = &mut stop => Err(Error::Failed(format!("interrupted by {signal}"))),
    };
    if played.is_ok() && args.keep_running {
        market.print_endpoints(out);
        tokio::select! {
            kept = market.keep(out) => { if let Err(error) = kept { say(out, &format!("keeping the market failed: {error}")); } }
            _ = &mut stop => {}
        }
    }
    say(out, "stopping: the agents, the store, anvil");
    market.shutdown().await;
    played
}

fn say(out: &mut (dyn Write + Send), line: &str) {
    // Output errors (a closed pipe) must not stop the market or its shutdown.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

impl Market {
    async fn start(args: &DevnetArgs, layout: Layout, tools: Toolchain, out: &mut (dyn Write + Send)) -> Result<Self> {
        let anvil = Anvil::spawn_with(
            &tools.anvil,
            &AnvilOptions { port: args.port, state: Some(layout.state()), ..Default::default() },
        )
        .await?;
        let rpc = anvil.endpoint().clone();
        say(out, &format!("anvil     {rpc} (pid {}, state in {})", anvil.pid().unwrap_or(0), layout.state().display()));
        let provider = chain::connect(rpc.clone(), []);
        let chain_id = provider.get_chain_id().await.map_err(chain::Error::rpc("eth_chainId"))?;
        let deployment = match reusable(&layout.deployment(), chain_id, &provider).await {
            Some(deployment) => {
                say(
                    out,
                    &format!(
                        "contracts reused from {}: JobAgency {}",
                        layout.deployment().display(),
                        deployment.job_agency
                    ),
                );
                deployment
            }
            None => {
                say(out, "forge     script/Deploy.s.sol (compiles first when forge's cache is cold)");
                let deployer = chain::connect(rpc.clone(), [devnet::dev_signer(ARBITER_KEY)]);
                let deployment = devnet::deploy(&tools, &rpc, chain_id, DEV_KEYS[ARBITER_KEY], &deployer).await?;
                let written = tools.root.join("deployments").join(format!("{chain_id}.json"));
                std::fs::copy(&written, layout.deployment()).map_err(|source| Error::Io {
                    what: "copying",
                    path: written.clone(),
                    source,
                })?;
                say(
                    out,
                    &format!(
                        "contracts JobAgency {}, TrustedArbiter {}",
                        deployment.job_agency, deployment.trusted_arbiter
                    ),
                );
                deployment
            }
        };

        let store = DiskStore::open(layout.store(), None)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.ipfs_port)).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                Error::PortInUse { port: args.ipfs_port, what: "the content store", flag: "--ipfs-port" }
            } else {
                Error::Io { what: "binding", path: format!("127.0.0.1:{}", args.ipfs_port).into(), source }
            }
        })?;
        let address =
            listener.local_addr().map_err(|source| Error::Io { what: "binding", path: "127.0.0.1".into(), source })?;
        let ipfs = format!("http://{address}");
        let (store_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let store_task = tokio::spawn(async move {
            if let Err(error) = jsjob_store::http::serve(listener, store, async move {
                let _ = stopped.await;
            })
            .await
            {
                tracing::warn!(%error, "the content store's HTTP face stopped");
            }
        });
        say(out, &format!("store     {ipfs} (Kubo RPC subset and gateway over {})", layout.store().display()));

        let mut config = Config::default();
        config.chain.rpc = rpc.to_string();
        config.chain.chain_id = Some(chain_id);
        config.chain.deployment = Some(layout.deployment());
        config.chain.poll_interval_ms = 100;
        config.store.api = Some(ipfs.clone());
        config.worker.deno = Some(tools.deno.clone());
        config.worker.run_timeout_secs = 60;

        let mut names: HashMap<Address, String> = HashMap::from([
            (devnet::dev_signer(ARBITER_KEY).address(), "arbiter".to_owned()),
            (devnet::dev_signer(POSTER_KEY).address(), "poster".to_owned()),
            (devnet::dev_signer(VERIFIER_KEY).address(), "verifier".to_owned()),
            (deployment.job_agency, "JobAgency".to_owned()),
            (deployment.trusted_arbiter, "TrustedArbiter".to_owned()),
        ]);
        if args.with_cheater {
            names.insert(devnet::dev_signer(CHEATER_KEY).address(), "cheater".to_owned());
        }
        for k in 0..usize::from(args.workers) {
            names.insert(devnet::dev_signer(FIRST_WORKER + k).address(), format!("worker-{}", k + 1));
        }
        let observer = Agency::new(provider, &deployment);
        Ok(Self {
            layout,
            tools,
            anvil: Some(anvil),
            agents: Vec::new(),
            store_stop: Some(store_stop),
            store_task: Some(store_task),
            rpc,
            ipfs,
            deployment,
            config,
            observer,
            names,
        })
    }

    /// A session of the devnet's own, signing with `signer`.
    fn session(&self, signer: PrivateKeySigner) -> Result<Session> {
        let provider = chain::connect(self.rpc.clone(), [signer.clone()]);
        let content: Arc<dyn crate::store::Store> = Arc::new(KuboClient::new(&self.ipfs, ClientOptions::default())?);
        Ok(Session {
            config: self.config.clone(),
            agency: Agency::new(provider.clone(), &self.deployment),
            provider,
            chain_id: self.config.chain.chain_id.unwrap_or_default(),
            deployment: self.deployment.clone(),
            signer: Some(signer),
            content,
        })
    }

    /// Starts `jsjob ROLE` as dev account `key`, named `name`.
    fn spawn_agent(&mut self, role: &str, name: &str, key: usize, out: &mut (dyn Write + Send)) -> Result<()> {
        let log = self.layout.log(name);
        let io = |what, path: &Path, source| Error::Io { what, path: path.to_owned(), source };
        let file = std::fs::File::create(&log).map_err(|e| io("creating", &log, e))?;
        let exe = std::env::current_exe().map_err(|e| io("finding", Path::new("jsjob"), e))?;
        let mut command = Command::new(&exe);
        command
            .arg(role)
            .arg("--json")
            .current_dir(&self.tools.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("JSJOB_CONFIG", self.layout.config())
            .env("JSJOB_RPC", self.rpc.as_str())
            .env("JSJOB_DEPLOYMENT", self.layout.deployment())
            .env("JSJOB_IPFS_API", &self.ipfs)
            .env("JSJOB_DB", self.layout.db(name))
            .env("JSJOB_DENO", &self.tools.deno)
            .env("JSJOB_CONFIRMATIONS", "0")
            .env("JSJOB_PRIVATE_KEY", DEV_KEYS[key])
            .env("RUST_LOG", "warn,jsjob=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .kill_on_drop(true);
        own_group(&mut command);
        let child = command.spawn().map_err(|e| io("starting", &exe, e))?;
        say(out, &format!("{name:<9} jsjob {role} (pid {}, log {})", child.id().unwrap_or(0), log.display()));
        self.agents.push(Agent { name: name.to_owned(), child, log });
        Ok(())
    }

    async fn play(
        &mut self,
        args: &DevnetArgs,
        runs: &[ExampleRun],
        quickjs: &[bool],
        out: &mut (dyn Write + Send),
    ) -> Result<Summary> {
        let first_block = self.block().await? + 1;
        let poster = self.session(devnet::dev_signer(POSTER_KEY))?;
        let engines = poster.engines(0).await?;
        let ids: Vec<String> = engines.ids().iter().map(|id| (*id).to_owned()).collect();
        let engine_of = |quickjs: bool| ids.iter().find(|id| id.starts_with("v8") != quickjs).cloned();
        let mut board =
            Board::new(self.names.clone(), !args.headless && std::io::IsTerminal::is_terminal(&std::io::stdout()));
        let arbiter = Arbiter::new(self.session(devnet::dev_signer(ARBITER_KEY))?, engines)?;
        let cheater =
            if args.with_cheater { Some(Cheater::new(self.session(devnet::dev_signer(CHEATER_KEY))?)?) } else { None };

        self.spawn_agent("verify", "verifier", VERIFIER_KEY, out)?;
        // The jobs, each example run on each engine; the cheater's first (one run per example, with a
        // wrong output its check rejects), claimed before any honest worker starts.
        let mut plan: Vec<(&ExampleRun, String, bool)> = Vec::new();
        let mut cheat_examples = HashSet::new();
        for run in runs {
            let cheat = cheater.is_some() && run.wrong.is_some() && cheat_examples.insert(run.example.clone());
            for &q in quickjs {
                let engine = engine_of(q).ok_or_else(|| {
                    Error::Usage(format!(
                        "no {} engine here (engines: {})",
                        if q { "QuickJS" } else { "V8" },
                        ids.join(", ")
                    ))
                })?;
                plan.push((run, engine, cheat));
            }
        }
        let (cheats, honest): (Vec<_>, Vec<_>) = plan.into_iter().partition(|(_, _, cheat)| *cheat);
        say(
            out,
            &format!(
                "posting   {} jobs: {} runs of {} examples × {} engines",
                cheats.len() + honest.len(),
                runs.len(),
                runs.iter().map(|run| &run.example).collect::<HashSet<_>>().len(),
                quickjs.len(),
            ),
        );
        let mut posted: Vec<(U256, &ExampleRun)> = Vec::new();
        if let Some(cheater) = &cheater {
            let mut taken = 0;
            for (run, engine, _) in &cheats {
                let id = post(&poster, run, engine, &mut board).await?;
                posted.push((id, run));
                let Some(wrong) = &run.wrong else { continue };
                let made_up = std::fs::read(wrong).map_err(|source| Error::Io {
                    what: "reading",
                    path: wrong.clone(),
                    source,
                })?;
                if cheater.cheat(id, &made_up).await? {
                    taken += 1;
                }
            }
            say(out, &format!("cheater   claimed {taken} jobs and submitted made-up outputs without running them"));
        }
        for k in 0..usize::from(args.workers) {
            self.spawn_agent("worker", &format!("worker-{}", k + 1), FIRST_WORKER + k, out)?;
        }
        for (run, engine, _) in &honest {
            let id = post(&poster, run, engine, &mut board).await?;
            posted.push((id, run));
        }

        let ids: Vec<U256> = posted.iter().map(|(id, _)| *id).collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
        loop {
            let jobs = self.tend(Some(&ids), &arbiter, &mut board, out).await?;
            if ids.iter().all(|id| jobs.get(id).is_some_and(|view| view.outcome.is_some())) {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                board.finish();
                let open: Vec<String> = board
                    .rows()
                    .iter()
                    .filter(|r| !r.state.starts_with("closed"))
                    .map(|r| format!("{} {} ({})", short(r.id), r.label, r.state))
                    .collect();
                return Err(Error::Failed(format!(
                    "after {} s, {} jobs are not closed: {}; see the agents' logs in {}",
                    args.timeout,
                    open.len(),
                    open.join(", "),
                    self.layout.path("logs").display()
                )));
            }
            self.check_agents()?;
            tokio::time::sleep(TICK).await;
        }
        board.finish();
        self.summary(&poster, &posted, &board, first_block, out).await
    }

    /// One look at the chain: updates the board, rules on disputes, and moves the clock past the
    /// challenge window once every submitted result among `only` (every job when `None`) was re-run by the
    /// verifier and nothing else is in flight.
    async fn tend(
        &self,
        only: Option<&[U256]>,
        arbiter: &Arbiter,
        board: &mut Board,
        out: &mut (dyn Write + Send),
    ) -> Result<BTreeMap<U256, JobView>> {
        let jobs = self.observer.jobs().await?;
        let changes = board.update(&jobs);
        board.show(out, &changes);
        let mine = |view: &&JobView| only.is_none_or(|ids| ids.contains(&view.id));
        for view in jobs.values().filter(mine) {
            if view.status() == Status::Disputed && view.spec.arbiter == self.deployment.trusted_arbiter {
                let ruling = arbiter.rule(view).await?;
                board.note(out, &format!("arbiter   re-ran {} in the sandbox and ruled {ruling:?}", short(view.id)));
            }
        }
        let live: Vec<&JobView> = jobs.values().filter(mine).filter(|view| view.outcome.is_none()).collect();
        let submitted: Vec<&JobView> = live.iter().copied().filter(|view| view.status() == Status::Submitted).collect();
        if !submitted.is_empty() && submitted.len() == live.len() {
            let seen = verified(&self.layout.log("verifier"));
            // A window is over once the chain's time is past its end; then the workers finalize.
            let end = submitted.iter().map(|view| view.record.deadline.to::<u64>()).max().unwrap_or_default();
            let now = devnet::chain_time(self.observer.provider()).await?;
            if now <= end && submitted.iter().all(|view| seen.contains(&short(view.id))) {
                let jump = end - now + 1;
                devnet::advance_time(self.observer.provider(), jump).await?;
                board.note(
                    out,
                    &format!("clock     +{jump} s: the verifier re-ran every submitted result; the windows close"),
                );
            }
        }
        Ok(jobs)
    }

    /// Fails when an agent has exited.
    fn check_agents(&mut self) -> Result<()> {
        for agent in &mut self.agents {
            if let Ok(Some(status)) = agent.child.try_wait() {
                let log = std::fs::read_to_string(&agent.log).unwrap_or_default();
                let last = log.lines().last().unwrap_or_default().to_owned();
                return Err(Error::Failed(format!("{} exited ({status}); its last log line: {last}", agent.name)));
            }
        }
        Ok(())
    }

    async fn block(&self) -> Result<u64> {
        Ok(self.observer.provider().get_block_number().await.map_err(chain::Error::rpc("eth_blockNumber"))?)
    }

    async fn summary(
        &self,
        poster: &Session,
        posted: &[(U256, &ExampleRun)],
        board: &Board,
        first_block: u64,
        out: &mut (dyn Write + Send),
    ) -> Result<Summary> {
        // The agents withdraw credits above the threshold by themselves: a moment for that, so that the
        // balances are read when the money has settled.
        let settle = tokio::time::Instant::now() + SETTLE;
        while tokio::time::Instant::now() < settle {
            let mut pending = false;
            for address in self.names.keys() {
                pending |= self.observer.credit_of(*address).await? > U256::from(WITHDRAW_ABOVE);
            }
            if !pending {
                break;
            }
            tokio::time::sleep(TICK).await;
        }
        let last_block = self.block().await?;
        let ledger = ledger::read(
            self.observer.provider(),
            self.deployment.job_agency,
            self.deployment.trusted_arbiter,
            first_block,
            last_block,
        )
        .await?;
        let jobs = self.observer.jobs().await?;
        let mut reports = Vec::new();
        for (id, run) in posted {
            let view = jobs.get(id).ok_or_else(|| Error::Failed(format!("job {} vanished", short(*id))))?;
            let code = std::fs::read(&run.check).map_err(|source| Error::Io {
                what: "reading",
                path: run.check.clone(),
                source,
            })?;
            let (result, check) = match poster::result(poster, *id).await {
                Ok((cid, bytes)) => {
                    let check = poster::check(poster, *id, &code, &bytes, run.binary).await.map_err(|e| e.to_string());
                    (Some((cid.to_string(), bytes.len())), check)
                }
                Err(error) => (None, Err(error.to_string())),
            };
            // A result the arbiter overturned: what its check says of it.
            let overturned = match (view.outcome, view.result_cid.as_deref()) {
                (Some(Outcome::ChallengerUpheld), Some(cid)) => {
                    let bytes = poster.content.get(&crate::cid::Cid::from_bytes(cid)?).await?;
                    Some(poster::check(poster, *id, &code, &bytes, run.binary).await.map_err(|e| e.to_string()))
                }
                _ => None,
            };
            reports.push(JobReport {
                id: *id,
                label: run.label(),
                engine: roles::seams::engine_name(view.spec.engine),
                outcome: view.outcome,
                worker: board.name(view.record.worker),
                result,
                check,
                overturned,
                gas: ledger.job_gas.get(id).copied().unwrap_or_default(),
            });
        }
        let mut accounts = Vec::new();
        let mut cast: Vec<(&Address, &String)> = self.names.iter().collect();
        cast.sort_by(|a, b| a.1.cmp(b.1));
        for (address, name) in cast {
            accounts.push(Account {
                name: name.clone(),
                address: *address,
                before: ledger::balance(self.observer.provider(), *address, first_block - 1).await?,
                after: ledger::balance(self.observer.provider(), *address, last_block).await?,
                fees: ledger.fees.get(address).copied().unwrap_or_default(),
                credit: self.observer.credit_of(*address).await?,
            });
        }
        let strangers: Vec<String> =
            ledger.fees.keys().filter(|a| !self.names.contains_key(*a)).map(ToString::to_string).collect();
        let summary = Summary { jobs: reports, accounts, ops: ledger.ops };
        print_summary(&summary, &jobs, &self.names, out);
        let imbalance = ledger::imbalance(&summary.accounts);
        let refused: Vec<String> =
            summary.jobs.iter().filter(|j| j.check.is_err()).map(|j| format!("{} {}", short(j.id), j.label)).collect();
        if !strangers.is_empty() {
            return Err(Error::Failed(format!(
                "accounts outside the devnet sent transactions: {}",
                strangers.join(", ")
            )));
        }
        if !imbalance.is_zero() {
            return Err(Error::Failed(format!("ETH is not conserved: {imbalance} wei unaccounted for")));
        }
        if !refused.is_empty() {
            return Err(Error::Failed(format!("results refused by their checks: {}", refused.join(", "))));
        }
        Ok(summary)
    }

    fn print_endpoints(&self, out: &mut (dyn Write + Send)) {
        say(out, "");
        say(out, "the market keeps running (Ctrl-C stops it); for the other commands:");
        say(out, &format!("  export JSJOB_RPC={}", self.rpc));
        say(out, &format!("  export JSJOB_DEPLOYMENT={}", self.layout.deployment().display()));
        say(out, &format!("  export JSJOB_IPFS_API={}", self.ipfs));
        say(
            out,
            &format!(
                "  export JSJOB_PRIVATE_KEY={}   # anvil's public dev account {POSTER_KEY}: local use only",
                DEV_KEYS[POSTER_KEY]
            ),
        );
        say(out, "  jsjob post examples/primes/job.js examples/primes/inputs/small.json --wait");
        say(out, "  jsjob status; jsjob result JOB --check examples/primes/check.js");
        say(
            out,
            "the devnet keeps the clock (past each challenge window once the verifier has re-run the result) and rules disputes",
        );
    }

    /// Tends every job until dropped.
    async fn keep(&self, out: &mut (dyn Write + Send)) -> Result<()> {
        let session = self.session(devnet::dev_signer(ARBITER_KEY))?;
        let engines = session.engines(0).await?;
        let arbiter = Arbiter::new(session, engines)?;
        let mut board = Board::new(self.names.clone(), false);
        let mut known: HashSet<U256> = self.observer.jobs().await?.into_keys().collect();
        loop {
            let jobs = self.observer.jobs().await?;
            // Jobs posted from now on appear on the board as they come.
            for view in jobs.values() {
                if known.insert(view.id) {
                    board.add(view.id, "(posted)".into(), short_engine(&roles::seams::engine_name(view.spec.engine)));
                }
            }
            self.tend(None, &arbiter, &mut board, out).await?;
            tokio::time::sleep(TICK).await;
        }
    }

    /// Stops the agents, then the store, then anvil (which writes its state first).
    async fn shutdown(&mut self) {
        for agent in &mut self.agents {
            terminate(&mut agent.child, STOP_PATIENCE).await;
        }
        if let Some(stop) = self.store_stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.store_task.take() {
            let _ = tokio::time::timeout(STOP_PATIENCE, task).await;
        }
        if let Some(anvil) = self.anvil.take() {
            anvil.shutdown(STOP_PATIENCE).await;
        }
    }
}

/// The deployment a previous run left in `path`, when this chain still has it.
async fn reusable(path: &Path, chain_id: u64, provider: &alloy::providers::DynProvider) -> Option<Deployment> {
    let deployment = Deployment::load(path).ok()?;
    if deployment.chain_id != chain_id {
        return None;
    }
    let code = provider.get_code_at(deployment.job_agency).await.ok()?;
    (!code.is_empty()).then_some(deployment)
}

/// Posts `run` for `engine` as the poster and puts it on the board.
async fn post(poster: &Session, run: &ExampleRun, engine: &str, board: &mut Board) -> Result<U256> {
    let id = poster::post(poster, &terms(run, engine)).await?;
    board.add(id, run.label(), short_engine(engine));
    Ok(id)
}

/// The terms a run is posted with.
fn terms(run: &ExampleRun, engine: &str) -> poster::Terms {
    poster::Terms {
        code: run.code.display().to_string(),
        input: run.input.display().to_string(),
        options: run.options.clone(),
        payment: U256::from(PAYMENT),
        bond: U256::from(BOND),
        challenge_bond: U256::from(BOND),
        arbiter_fee: U256::ZERO,
        audit_fee: None,
        claim_within: 3600,
        execution_time: 600,
        window: WINDOW,
        dispute_window: 86_400,
        engine: engine.to_owned(),
        arbiter: None,
        min_reputation: 0,
    }
}

/// `v8` or `quickjs` for an engine id.
fn short_engine(id: &str) -> String {
    if id.starts_with("v8") { "v8".into() } else { "quickjs".into() }
}

/// The jobs (short ids) the verifier has re-run, from its JSON log lines.
fn verified(log: &Path) -> HashSet<String> {
    const DONE: [&str; 4] = [
        "the submitted result is right",
        "wrong result: challenging",
        "cannot re-run the job",
        "not drawn for verification",
    ];
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| {
            let fields = line.get("fields")?;
            let message = fields.get("message")?.as_str()?;
            DONE.contains(&message).then(|| fields.get("job")?.as_str().map(str::to_owned))?
        })
        .collect()
}

fn print_summary(
    summary: &Summary,
    jobs: &BTreeMap<U256, JobView>,
    names: &HashMap<Address, String>,
    out: &mut (dyn Write + Send),
) {
    say(out, "");
    say(out, "results:");
    for job in &summary.jobs {
        let outcome = job.outcome.map_or_else(|| "open".to_owned(), board::outcome_name);
        let result =
            job.result.as_ref().map_or_else(|| "no result".to_owned(), |(cid, size)| format!("{size} B {cid}"));
        let check = match &job.check {
            Ok(_) => "check ok".to_owned(),
            Err(why) => format!("check REFUSED: {why}"),
        };
        say(
            out,
            &format!(
                "  {} {:<24} {:<8} {:<18} by {:<9} {:>7} gas  {result}  {check}",
                short(job.id),
                job.label,
                short_engine(&job.engine),
                outcome,
                job.worker,
                job.gas
            ),
        );
        if let Some(Err(why)) = &job.overturned {
            say(out, &format!("             the overturned result, checked: REFUSED: {}", first_line(why)));
        }
    }
    say(out, "");
    say(out, "gas per operation (from the receipts):");
    for (op, gas) in &summary.ops {
        let total: u64 = gas.iter().sum();
        let (min, max) = (gas.iter().min().copied().unwrap_or(0), gas.iter().max().copied().unwrap_or(0));
        say(
            out,
            &format!(
                "  {op:<10} ×{:<3} mean {:>7}  min {min:>7}  max {max:>7}",
                gas.len(),
                total / gas.len().max(1) as u64
            ),
        );
    }
    // What each account was credited, job by job (payments, and bonds returned or won).
    let mut paid: BTreeMap<String, (U256, usize)> = BTreeMap::new();
    for view in summary.jobs.iter().filter_map(|job| jobs.get(&job.id)) {
        let Some(outcome) = view.outcome else { continue };
        for account in [view.record.worker, view.record.challenger] {
            let payout = roles::payout_of(outcome, view, account);
            if account != Address::ZERO && !payout.is_zero() {
                let name = names.get(&account).cloned().unwrap_or_else(|| account.to_string());
                let entry = paid.entry(name).or_default();
                entry.0 += payout;
                entry.1 += 1;
            }
        }
    }
    say(out, "");
    say(out, "payments credited by the agency (payment, and the bonds returned or won):");
    for (name, (wei, count)) in &paid {
        say(out, &format!("  {name:<15} {:>8} ETH for {count} jobs", format_eth(*wei)));
    }
    let slashed: Vec<&JobView> = summary
        .jobs
        .iter()
        .filter_map(|job| jobs.get(&job.id))
        .filter(|view| view.outcome == Some(Outcome::ChallengerUpheld))
        .collect();
    let bonds = slashed.iter().fold(U256::ZERO, |sum, view| sum + U256::from(view.record.workerBond));
    say(out, "");
    say(
        out,
        &format!(
            "bonds slashed: {} ETH in {} jobs (the worker's bond goes to the challenger who re-ran the job)",
            format_eth(bonds),
            slashed.len()
        ),
    );
    say(out, "");
    say(out, "accounts, in ETH:");
    say(
        out,
        &format!(
            "  {:<15} {:<42} {:>14} {:>14} {:>16} {:>12}",
            "account", "address", "balance change", "gas paid, gwei", "before gas", "credit left"
        ),
    );
    for account in &summary.accounts {
        say(
            out,
            &format!(
                "  {:<15} {:<42} {:>14} {:>14} {:>16} {:>12}",
                account.name,
                account.address.to_checksum(None),
                signed_eth(account.change()),
                gwei(account.fees),
                signed_eth(account.market()),
                format_eth(account.credit)
            ),
        );
    }
    let imbalance = ledger::imbalance(&summary.accounts);
    say(
        out,
        &format!(
            "ETH conserved: Σ balance changes + Σ gas fees = {imbalance} wei [{}]",
            if imbalance.is_zero() { "ok" } else { "FAILED" }
        ),
    );
}

/// The first line of a message, at most 160 characters.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().chars().take(160).collect()
}

/// Wei in gwei, three decimals.
fn gwei(wei: U256) -> String {
    let milli = wei / U256::from(1_000_000u64);
    let (whole, frac) = (milli / U256::from(1000u64), milli % U256::from(1000u64));
    format!("{whole}.{frac:0>3}")
}

/// A signed amount in ETH; a change too small to show (gas only) is `≈0`.
fn signed_eth(value: alloy::primitives::I256) -> String {
    let magnitude = format_eth(value.unsigned_abs());
    if value.is_zero() {
        "0".to_owned()
    } else if magnitude == "0" {
        "≈0".to_owned()
    } else if value.is_negative() {
        format!("-{magnitude}")
    } else {
        format!("+{magnitude}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verifiers_json_log_says_which_results_it_re_ran() {
        let log = std::env::temp_dir().join(format!("jsjob-verified-{}.log", std::process::id()));
        let lines = [
            r#"{"timestamp":"t","level":"INFO","fields":{"message":"verifier started","account":"0x1"},"target":"jsjob::roles::verifier"}"#,
            r#"{"timestamp":"t","level":"INFO","fields":{"message":"the submitted result is right","job":"0x0000aaaa","result":"b"},"target":"jsjob::roles::verifier"}"#,
            r#"{"timestamp":"t","level":"WARN","fields":{"message":"wrong result: challenging","job":"0x0000bbbb"},"target":"jsjob::roles::verifier"}"#,
            r#"{"timestamp":"t","level":"INFO","fields":{"message":"revealed; the arbiter rules next","job":"0x0000cccc"},"target":"jsjob::roles::verifier"}"#,
            "not json",
        ];
        std::fs::write(&log, lines.join("\n")).expect("log");
        let seen = verified(&log);
        let _ = std::fs::remove_file(&log);
        assert_eq!(seen, HashSet::from(["0x0000aaaa".to_owned(), "0x0000bbbb".to_owned()]));
        assert!(verified(Path::new("/nonexistent/verifier.log")).is_empty());
    }

    #[test]
    fn amounts_are_shown_for_people() {
        assert_eq!(gwei(U256::from(1_234_567_890u64)), "1.234");
        assert_eq!(gwei(U256::ZERO), "0.000");
        assert_eq!(signed_eth(alloy::primitives::I256::ZERO), "0");
        assert_eq!(signed_eth(alloy::primitives::I256::MINUS_ONE), "≈0");
        let cent = alloy::primitives::I256::from_raw(U256::from(PAYMENT));
        assert_eq!((signed_eth(cent), signed_eth(-cent)), ("+0.01".to_owned(), "-0.01".to_owned()));
    }
}
