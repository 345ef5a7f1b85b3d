//! A market for the role tests: a fresh anvil with the contracts deployed by the forge script, a working
//! directory with the deployment file, a shared content directory, and the real `jsjob` binary run as
//! child processes with anvil's dev keys.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use alloy::{
    primitives::{Address, U256},
    providers::DynProvider,
};
use jsjob::{
    chain::{
        self, Agency, Deployment,
        bindings::JobAgencyEvents,
        job::{JobView, Outcome},
    },
    devnet::{self, Anvil, DEV_KEYS},
    exec::{Engine, JobInput, Limits, Sandbox, Seed},
    state::{Identity, State},
    store::{DiskStore, Store},
    tools::Toolchain,
};
use tokio::{
    net::{TcpListener, TcpStream},
    process::{Child, Command},
    sync::Mutex,
    task::JoinHandle,
};

/// How long a test waits for the agents to reach a state.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// The dev accounts' roles in these tests.
pub(crate) const ARBITER: usize = 0;
/// Posts jobs.
pub(crate) const POSTER: usize = 1;
/// Runs `jsjob worker`.
pub(crate) const WORKER: usize = 2;
/// Runs a second `jsjob worker`, or `jsjob verify`.
pub(crate) const OTHER: usize = 3;
/// Submits made-up results.
pub(crate) const CHEAT: usize = 4;
/// Jurors (`jsjob verify --juror`): dev accounts 5 to 7.
pub(crate) const JURORS: [usize; 3] = [5, 6, 7];

/// The private key of dev account `index`.
pub(crate) fn dev_key(index: usize) -> &'static str {
    DEV_KEYS[index]
}

/// A job that loops `input` times: 20 million iterations take about half a second of CPU, long enough to kill
/// a worker in the middle of it.
pub(crate) const SLOW_JOB: &str = "function jsJobRun(input, options, callback) {\n  const n = Number(input);\n  let x = 0;\n  for (let i = 0; i < n; i++) x = (x + i * i) % 1000003;\n  callback(null, String(x));\n}\n";

pub(crate) struct Net {
    pub(crate) anvil: Anvil,
    pub(crate) dir: PathBuf,
    pub(crate) deployment_file: PathBuf,
    pub(crate) deployment: Deployment,
    pub(crate) provider: DynProvider,
    pub(crate) agency: Agency,
    pub(crate) tools: Toolchain,
    pub(crate) store: DiskStore,
}

pub(crate) fn address(key: usize) -> Address {
    dev_key(key).parse::<alloy::signers::local::PrivateKeySigner>().expect("a dev key").address()
}

impl Net {
    /// A fresh chain and working directory for test `name`.
    pub(crate) async fn start(name: &str) -> Self {
        let tools = Toolchain::find(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|error| panic!("{error}"));
        let dir = std::env::temp_dir().join(format!("jsjob-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test directory");
        let anvil = Anvil::spawn(&tools.anvil).await.unwrap_or_else(|error| panic!("{error}"));
        let provider = chain::connect(anvil.endpoint().clone(), (0..DEV_KEYS.len()).map(devnet::dev_signer));
        let deployment_file = dir.join("deployment.json");
        let deployment = {
            let _deploying = crate::anvil::DEPLOYING.lock().await;
            let deployment = devnet::deploy(&tools, anvil.endpoint(), 31337, DEV_KEYS[0], &provider)
                .await
                .unwrap_or_else(|error| panic!("{error}"));
            std::fs::copy(tools.root.join("deployments/31337.json"), &deployment_file).expect("copy the deployment");
            deployment
        };
        let agency = Agency::new(provider.clone(), &deployment);
        let store = DiskStore::open(dir.join("store"), None).expect("the content store");
        Self { anvil, dir, deployment_file, deployment, provider, agency, tools, store }
    }

    /// `jsjob ARGS` as dev account `key` (no key when `None`), with its state in `<db>.redb`, talking to
    /// `rpc` (anvil when `None`).
    pub(crate) fn jsjob(&self, key: Option<usize>, db: &str, rpc: Option<&str>) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jsjob"));
        command
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("JSJOB_RPC", rpc.unwrap_or(self.anvil.endpoint().as_str()))
            .env("JSJOB_DEPLOYMENT", &self.deployment_file)
            .env("JSJOB_STORE", self.dir.join("store"))
            .env("JSJOB_DB", self.dir.join(format!("{db}.redb")))
            .env("JSJOB_DENO", &self.tools.deno)
            .env("RUST_LOG", "warn,jsjob=debug")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(key) = key {
            command.env("JSJOB_PRIVATE_KEY", dev_key(key));
        }
        command
    }

    /// Starts a long-running `jsjob ROLE` (worker or verify); its logs go to `<db>.log`.
    pub(crate) fn spawn(&self, role: &str, key: usize, db: &str, rpc: Option<&str>, args: &[&str]) -> Agent {
        let log = self.dir.join(format!("{db}.log"));
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("log file");
        let child = self
            .jsjob(Some(key), db, rpc)
            .arg(role)
            .args(["--confirmations", "0"])
            .args(args)
            .env("JSJOB_CONFIG", self.config_file())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start jsjob");
        Agent { child, log }
    }

    /// A config file with short polls and a small withdraw threshold, shared by the agents.
    fn config_file(&self) -> PathBuf {
        let path = self.dir.join("agent.toml");
        if !path.exists() {
            std::fs::write(
                &path,
                "[chain]\npoll_interval_ms = 100\nrpc_retry_secs = 30\n[worker]\nwithdraw_above_eth = \"0.01\"\nrun_timeout_secs = 60\n",
            )
            .expect("config file");
        }
        path
    }

    /// Runs `jsjob ARGS` to completion: (exit success, stdout, stderr).
    pub(crate) async fn run(&self, key: Option<usize>, args: &[&str]) -> (bool, String, String) {
        let output = self.jsjob(key, "cli", None).args(args).output().await.expect("run jsjob");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Writes a file in the test directory.
    pub(crate) fn file(&self, name: &str, content: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, content).expect("write");
        path.display().to_string()
    }

    /// `jsjob post CODE INPUT ARGS` as the poster with a 60 s window; returns the job id.
    pub(crate) async fn post(&self, code: &str, input: &str, args: &[&str]) -> U256 {
        let mut all = vec!["post", code, input, "--payment", "0.1", "--bond", "0.05", "--window", "60"];
        all.extend_from_slice(args);
        let (ok, stdout, stderr) = self.run(Some(POSTER), &all).await;
        assert!(ok, "post failed: {stderr}");
        stdout.lines().next().and_then(|line| line.parse().ok()).unwrap_or_else(|| panic!("no job id in {stdout:?}"))
    }

    /// Waits until job `id` satisfies `done`.
    pub(crate) async fn wait_for(
        &self,
        id: U256,
        what: &str,
        agents: &[&Agent],
        done: impl Fn(&JobView) -> bool,
    ) -> JobView {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Ok(view) = self.agency.job(id).await
                && done(&view)
            {
                return view;
            }
            if tokio::time::Instant::now() > deadline {
                let logs: Vec<String> = agents.iter().map(|agent| agent.logs()).collect();
                panic!("job {id:#x} never became {what}; agents' logs:\n{}", logs.join("\n---\n"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until job `id` closed with `outcome`.
    pub(crate) async fn wait_closed(&self, id: U256, outcome: Outcome, agents: &[&Agent]) -> JobView {
        self.wait_for(id, &format!("{outcome:?}"), agents, |view| view.outcome == Some(outcome)).await
    }

    /// How many times job `id` was claimed, over the whole history.
    pub(crate) async fn claims(&self, id: U256) -> Vec<Address> {
        let events = self.agency.events().await.expect("events");
        events
            .iter()
            .filter_map(|event| match event {
                JobAgencyEvents::JobClaimed(claimed) if claimed.jobId == id => Some(claimed.worker),
                _ => None,
            })
            .collect()
    }

    /// Wei withdrawn by `account`, over the whole history.
    pub(crate) async fn withdrawn(&self, account: Address) -> U256 {
        let events = self.agency.events().await.expect("events");
        events
            .iter()
            .filter_map(|event| match event {
                JobAgencyEvents::Withdrawn(w) if w.account == account => Some(w.amount),
                _ => None,
            })
            .fold(U256::ZERO, |a, b| a + b)
    }

    /// The state database of the (stopped) agent of dev account `key` named `db`.
    pub(crate) fn state(&self, key: usize, db: &str) -> State {
        let identity = Identity { chain_id: 31337, agency: self.deployment.job_agency, account: address(key) };
        State::open(&self.dir.join(format!("{db}.redb")), identity).expect("the agent's state")
    }

    /// The cheat claims job `id` and submits `output` (stored) without running the job.
    pub(crate) async fn cheat(&self, id: U256, output: &[u8]) {
        let open = self.agency.job(id).await.expect("job");
        self.agency.claim(address(CHEAT), id, &open.record).await.expect("cheat claims");
        let made_up = self.store.put(output).await.expect("stored");
        let claimed = self.agency.job(id).await.expect("job");
        self.agency.submit(address(CHEAT), id, &claimed.record, made_up.as_bytes()).await.expect("cheat submits");
    }

    /// Waits until `account` has withdrawn `amount` in all.
    pub(crate) async fn wait_withdrawn(&self, account: Address, amount: U256, agent: &Agent) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.withdrawn(account).await != amount {
            assert!(tokio::time::Instant::now() < deadline, "no withdrawal of {amount}: {}", agent.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the job's code gives on its input in the pinned Deno, computed here independently.
    pub(crate) async fn expected_output(&self, view: &JobView) -> Vec<u8> {
        let code = self.store.get(&cid(&view.spec.codeCid)).await.expect("code in the store");
        let input = self.store.get(&cid(&view.spec.inputCid)).await.expect("input in the store");
        let deno = Sandbox::v8(&self.tools.deno, Limits::default()).await.expect("deno");
        let seed = Seed::derive(&view.id.to_be_bytes::<32>(), &view.spec.inputCid);
        deno.run(JobInput { code: &code, input: &input, options: None, seed }).await.expect("runs").bytes
    }

    /// Moves the chain's clock past a challenge window.
    pub(crate) async fn pass_window(&self) {
        devnet::advance_time(&self.provider, 61).await.expect("time travel");
    }

    /// Credit of `account` in the agency.
    pub(crate) async fn credit(&self, account: Address) -> U256 {
        self.agency.credit_of(account).await.expect("creditOf")
    }
}

pub(crate) fn cid(bytes: &[u8]) -> jsjob::cid::Cid {
    jsjob::cid::Cid::from_bytes(bytes).expect("a CID")
}

impl Drop for Net {
    /// Keeps the directory (logs, databases) of a failed test for a look; removes a passed one's.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A running `jsjob worker` or `jsjob verify`.
pub(crate) struct Agent {
    pub(crate) child: Child,
    pub(crate) log: PathBuf,
}

impl Agent {
    pub(crate) fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the agent has logged `needle`; fails the test with the logs after `PATIENCE`.
    pub(crate) async fn wait_for_log(&self, needle: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !self.logs().contains(needle) {
            assert!(tokio::time::Instant::now() < deadline, "never logged {needle:?}: {}", self.logs());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Still running (a bad job or an outage never stops an agent).
    pub(crate) fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, and waits for the agent to stop by itself: true when it exited successfully.
    pub(crate) async fn terminate(&mut self) -> bool {
        let pid = self.child.id().expect("running").to_string();
        let sent = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill -TERM");
        assert!(sent.success());
        let status = tokio::time::timeout(PATIENCE, self.child.wait()).await.expect("stops").expect("status");
        status.success()
    }

    /// SIGKILL: no chance to clean up.
    pub(crate) async fn kill(&mut self) {
        self.child.kill().await.expect("kill");
    }
}

/// A TCP relay to anvil that can drop every connection and refuse new ones: the RPC endpoint going
/// away and coming back.
pub(crate) struct Relay {
    pub(crate) url: String,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Relay {
    pub(crate) async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let target = target.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (flag, tasks) = (Arc::clone(&up), Arc::clone(&connections));
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                tasks.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Self { url, up, connections, accept }
    }

    /// Cuts every connection and refuses new ones.
    pub(crate) async fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.connections.lock().await.drain(..) {
            task.abort();
        }
    }

    pub(crate) fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
