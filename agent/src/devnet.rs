//! A throw-away local chain: an anvil child process, the contracts deployed on it by the repository's
//! forge script, anvil's well-known dev accounts, and time travel.
//!
//! Used by `jsjob demo`, `jsjob devnet` ([`crate::market`]) and the tests.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader},
    process::{Child, Command},
};

use crate::{chain::Deployment, tools::Toolchain};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A child process could not be started.
    #[error("cannot start {tool} ({path}): {source}")]
    Spawn {
        /// The tool.
        tool: &'static str,
        /// Its binary.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// anvil stopped or never said where it listens.
    #[error("anvil did not start: {reason}{}", stderr_tail(stderr))]
    AnvilStart {
        /// What went wrong.
        reason: String,
        /// The end of anvil's stderr.
        stderr: String,
    },
    /// The forge deploy script failed.
    #[error("`forge script script/Deploy.s.sol` failed ({status}){}", stderr_tail(output))]
    Deploy {
        /// forge's exit status.
        status: String,
        /// The end of forge's output.
        output: String,
    },
    /// The deployment file forge wrote is not usable.
    #[error("after the forge deploy script: {0}")]
    Deployment(#[from] crate::chain::Error),
    /// The deployment file names a contract that is not on this chain.
    #[error(
        "{path} names {what} {address}, which has no code on the fresh anvil (another deployment overwrote the file?)"
    )]
    NotDeployed {
        /// The deployment file.
        path: PathBuf,
        /// Which contract.
        what: &'static str,
        /// Its address.
        address: Address,
    },
    /// A JSON-RPC request failed.
    #[error("{method}: {source}")]
    Rpc {
        /// The method.
        method: &'static str,
        /// Why.
        #[source]
        source: Box<alloy::transports::TransportError>,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Error::Rpc` for a failed call of `method`, for `map_err`.
fn rpc_error(method: &'static str) -> impl FnOnce(alloy::transports::TransportError) -> Error {
    move |source| Error::Rpc { method, source: Box::new(source) }
}

/// The private keys of anvil's first dev accounts (mnemonic `test test … junk`, path
/// `m/44'/60'/0'/0/i`). They are public knowledge and hold ETH only on local dev chains; never use them
/// anywhere else.
pub const DEV_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// The signer of dev account `index` (`0..DEV_KEYS.len()`).
pub fn dev_signer(index: usize) -> PrivateKeySigner {
    // The constants above are valid keys; a typo in them is a bug the tests catch at once.
    DEV_KEYS[index].parse().expect("valid dev key")
}

/// How long anvil may take to say where it listens.
const ANVIL_START: Duration = Duration::from_secs(30);
/// How long the forge deploy script may take: it compiles the contracts first when forge's cache is cold
/// (via-IR with solc-js), which takes minutes on 2 cores.
const DEPLOY_TIME: Duration = Duration::from_secs(900);
/// How much of a child's stderr is kept for error messages.
const KEEP_STDERR: usize = 16 * 1024;

/// How to start anvil.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnvilOptions {
    /// The port on 127.0.0.1 (0: the OS picks a free one).
    pub port: u16,
    /// A state file: the chain is loaded from it at start when it exists, and written to it every second
    /// and when anvil exits, so that a later run continues the same chain.
    pub state: Option<PathBuf>,
    /// Keep only the last this many blocks' states, in memory (`--prune-history`): calls at older blocks
    /// fail. Otherwise anvil keeps every block's state, writing the older ones to its cache directory (about
    /// 400 KB a block, which costs it more per block than the block's own transactions once many jobs are open).
    pub keep_states: Option<u64>,
    /// anvil does not mine by itself (`--no-mining`); a task of this process mines a block as soon as a
    /// transaction is ready, holding every ready transaction (no block gas limit:
    /// `--disable-block-gas-limit`), the blocks back to back, and an empty one after [`MINE_IDLE`] without.
    ///
    /// For load (the benchmarks). anvil 1.7.1's own auto-miner queues a block for every wake-up of its node
    /// task, each block the transactions ready at that moment, and mines the queue one block after the other:
    /// under load most queued blocks hold only transactions an earlier one already mined, and come out empty
    /// (a 3,000-job ceiling: 492 of 501 blocks empty, 1,474 transactions ready). With a block gas limit, by its
    /// code, a full block skips a sender's transaction yet may run that sender's next one (smaller gas limit),
    /// which fails "nonce too high" and leaves the pool with every later one of that sender.
    pub mine_back_to_back: bool,
}

/// A running anvil on a local port; killed when dropped.
#[derive(Debug)]
pub struct Anvil {
    // Fields drop in order: the miner stops, then anvil is killed, then its cache directory is removed.
    miner: Option<Miner>,
    child: Child,
    /// anvil's `--cache-path`, where it writes past blocks' states (about 400 KB a block), removed on drop.
    /// Left to anvil's default (`~/.foundry/anvil/tmp/`), they are removed only on a clean exit, so every
    /// killed anvil (every test's, every benchmark run's) left its states behind.
    _cache: tempfile::TempDir,
    endpoint: Url,
    stderr: Arc<Mutex<String>>,
}

impl Anvil {
    /// Starts `anvil --port 0` (the OS picks a free port) and waits until it listens.
    pub async fn spawn(binary: &Path) -> Result<Self> {
        Self::spawn_with(binary, &AnvilOptions::default()).await
    }

    /// Starts anvil as `options` say and waits until it listens. The child is in its own process group
    /// (a Ctrl-C on the terminal reaches only the parent, which stops it in order) and gets SIGTERM if the
    /// parent dies.
    pub async fn spawn_with(binary: &Path, options: &AnvilOptions) -> Result<Self> {
        let cache = tempfile::Builder::new().prefix("jsjob-anvil-").tempdir().map_err(|e| Error::AnvilStart {
            reason: format!("cannot create its cache directory: {e}"),
            stderr: String::new(),
        })?;
        let mut command = Command::new(binary);
        command
            .args(["--port", &options.port.to_string(), "--host", "127.0.0.1"])
            .arg("--cache-path")
            .arg(cache.path());
        if let Some(states) = options.keep_states {
            command.args(["--prune-history", &states.to_string()]);
        }
        if options.mine_back_to_back {
            command.args(["--no-mining", "--disable-block-gas-limit"]);
        }
        if let Some(state) = &options.state {
            command.arg("--state").arg(state).args(["--state-interval", "1"]);
        }
        crate::market::own_group(&mut command);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| Error::Spawn { tool: "anvil", path: binary.to_owned(), source })?;
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(pipe) = child.stderr.take() {
            tokio::spawn(keep_tail(pipe, Arc::clone(&stderr)));
        }
        let Some(stdout) = child.stdout.take() else {
            return Err(Error::AnvilStart { reason: "no stdout".into(), stderr: String::new() });
        };
        let mut lines = BufReader::new(stdout).lines();
        let listening = tokio::time::timeout(ANVIL_START, async {
            // stdout also lists the dev accounts' keys: it is read here and never shown.
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(address) = line.strip_prefix("Listening on ") {
                    return Some(address.trim().to_owned());
                }
            }
            None
        })
        .await;
        let start_error = |reason: String| Error::AnvilStart { reason, stderr: snapshot(&stderr) };
        let address = match listening {
            Ok(Some(address)) => address,
            Ok(None) => {
                let status = child.wait().await.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                return Err(start_error(format!("it exited ({status}) before listening")));
            }
            Err(_) => return Err(start_error(format!("it did not listen within {ANVIL_START:?}"))),
        };
        // anvil logs every request to stdout: keep draining it so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let endpoint: Url = format!("http://{address}")
            .parse()
            .map_err(|e| start_error(format!("it printed an unusable address {address:?}: {e}")))?;
        tracing::debug!(%endpoint, pid = child.id(), "anvil started");
        let miner = options.mine_back_to_back.then(|| Miner::start(crate::chain::connect(endpoint.clone(), [])));
        Ok(Self { miner, child, _cache: cache, endpoint, stderr })
    }

    /// The last error of the miner of [`AnvilOptions::mine_back_to_back`], if its last call failed.
    pub fn miner_trouble(&self) -> Option<String> {
        self.miner.as_ref().and_then(|miner| miner.trouble.lock().ok()?.clone())
    }

    /// The JSON-RPC endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// What anvil wrote to stderr so far (the end of it).
    pub fn stderr(&self) -> String {
        snapshot(&self.stderr)
    }

    /// Stops anvil and waits for it to exit.
    pub async fn stop(mut self) {
        // Already exited is fine: there is nothing else to do.
        let _ = self.child.kill().await;
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Asks anvil to exit (SIGTERM: it writes its state file first), waits up to `patience`, then kills it.
    pub async fn shutdown(mut self, patience: Duration) {
        crate::market::terminate(&mut self.child, patience).await;
    }
}

/// How often the miner of [`AnvilOptions::mine_back_to_back`] asks anvil whether a transaction is ready.
const MINE_POLL: Duration = Duration::from_millis(5);
/// How long the miner of [`AnvilOptions::mine_back_to_back`] lets the chain go without a block when no
/// transaction is ready: a live chain makes blocks anyway, and without them the chain's clock would stand
/// still and no challenge window would end.
pub const MINE_IDLE: Duration = Duration::from_millis(500);
/// How long the miner waits after a failed call before the next.
const MINE_RETRY: Duration = Duration::from_millis(100);

/// What a node's pool holds (`txpool_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    /// Transactions ready to be mined (the node names them "pending").
    pub ready: u64,
    /// Transactions waiting for an earlier nonce.
    pub queued: u64,
}

/// The node's pool counts (`txpool_status`, which anvil and geth answer).
pub async fn pool_status(provider: &DynProvider) -> Result<PoolStatus, alloy::transports::TransportError> {
    #[derive(Debug, serde::Deserialize)]
    struct Status {
        pending: alloy::primitives::U64,
        queued: alloy::primitives::U64,
    }
    let status: Status = provider.raw_request("txpool_status".into(), ()).await?;
    Ok(PoolStatus { ready: status.pending.to(), queued: status.queued.to() })
}

/// The task that mines for an anvil started with `--no-mining`; stopped when dropped.
#[derive(Debug)]
struct Miner {
    task: tokio::task::AbortHandle,
    /// The last call's error, if it failed.
    trouble: Arc<Mutex<Option<String>>>,
}

impl Miner {
    fn start(provider: DynProvider) -> Self {
        let trouble = Arc::new(Mutex::new(None));
        let task = tokio::spawn(Self::run(provider, Arc::clone(&trouble))).abort_handle();
        Self { task, trouble }
    }

    /// Mines one block at a time (`evm_mine`: every ready transaction), whenever `txpool_status` counts a
    /// ready one or [`MINE_IDLE`] passed since the last block.
    async fn run(provider: DynProvider, trouble: Arc<Mutex<Option<String>>>) {
        let note = |result: std::result::Result<(), String>| {
            if let Ok(mut slot) = trouble.lock() {
                *slot = result.err();
            }
        };
        let mut last_block = tokio::time::Instant::now();
        loop {
            let due = match pool_status(&provider).await {
                Ok(status) => status.ready > 0 || last_block.elapsed() >= MINE_IDLE,
                Err(error) => {
                    note(Err(format!("txpool_status: {error}")));
                    tokio::time::sleep(MINE_RETRY).await;
                    continue;
                }
            };
            if !due {
                tokio::time::sleep(MINE_POLL).await;
                continue;
            }
            match provider.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await {
                Ok(_) => {
                    last_block = tokio::time::Instant::now();
                    note(Ok(()));
                }
                Err(error) => {
                    note(Err(format!("evm_mine: {error}")));
                    tokio::time::sleep(MINE_RETRY).await;
                }
            }
        }
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs `script/Deploy.s.sol` against `rpc` with `deployer_key`, as the README says, and reads the
/// deployment file it writes.
pub async fn deploy(
    tools: &Toolchain,
    rpc: &Url,
    chain_id: u64,
    deployer_key: &str,
    provider: &DynProvider,
) -> Result<Deployment> {
    let forge = Command::new(&tools.forge)
        .current_dir(&tools.root)
        .args(["script", "script/Deploy.s.sol", "--rpc-url", rpc.as_str(), "--broadcast", "--private-key"])
        .arg(deployer_key)
        .env("NO_COLOR", "1")
        .env_remove("ARBITER_OWNER")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(DEPLOY_TIME, forge)
        .await
        .map_err(|_| Error::Deploy { status: format!("no result within {DEPLOY_TIME:?}"), output: String::new() })?
        .map_err(|source| Error::Spawn { tool: "forge", path: tools.forge.clone(), source })?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        return Err(Error::Deploy { status: output.status.to_string(), output: tail(&text, KEEP_STDERR).to_owned() });
    }
    let path = tools.root.join("deployments").join(format!("{chain_id}.json"));
    let deployment = Deployment::load(&path)?;
    // The file is shared by every deployment to this chain id: check it describes this chain.
    for (what, address) in [("JobAgency", deployment.job_agency), ("TrustedArbiter", deployment.trusted_arbiter)] {
        let code = provider.get_code_at(address).await.map_err(rpc_error("eth_getCode"))?;
        if code.is_empty() {
            return Err(Error::NotDeployed { path, what, address });
        }
    }
    Ok(deployment)
}

/// Moves the chain's clock `seconds` forward and mines a block at the new time.
pub async fn advance_time(provider: &DynProvider, seconds: u64) -> Result<()> {
    let _: serde_json::Value = provider
        .raw_request("evm_increaseTime".into(), (U256::from(seconds),))
        .await
        .map_err(rpc_error("evm_increaseTime"))?;
    let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.map_err(rpc_error("evm_mine"))?;
    Ok(())
}

/// The latest block's timestamp.
pub async fn chain_time(provider: &DynProvider) -> Result<u64> {
    let block = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(rpc_error("eth_getBlockByNumber"))?;
    Ok(block.map(|block| block.header.timestamp).unwrap_or_default())
}

/// Keeps the last [`KEEP_STDERR`] bytes read from `pipe` in `into`.
async fn keep_tail(pipe: impl AsyncRead + Unpin, into: Arc<Mutex<String>>) {
    let mut pipe = pipe;
    let mut buffer = [0u8; 4096];
    while let Ok(n) = pipe.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        if let Ok(mut text) = into.lock() {
            text.push_str(&String::from_utf8_lossy(&buffer[..n]));
            if text.len() > 2 * KEEP_STDERR {
                let keep = tail(&text, KEEP_STDERR).to_owned();
                *text = keep;
            }
        }
    }
}

fn snapshot(text: &Mutex<String>) -> String {
    text.lock().map(|text| tail(&text, KEEP_STDERR).to_owned()).unwrap_or_default()
}

/// The last `max` bytes of `text`, cut at a character boundary.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// `":\n<text>"` for a non-empty output, to append to an error message.
fn stderr_tail(text: &str) -> String {
    let text = tail(text.trim(), 4000);
    if text.is_empty() { String::new() } else { format!(":\n{text}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_keys_are_anvils_accounts() {
        let expected = [
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
            "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
            "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
            "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
            "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
            "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
            "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
        ];
        for (i, address) in expected.iter().enumerate() {
            assert_eq!(dev_signer(i).address().to_checksum(None), *address);
        }
    }

    #[test]
    fn tail_cuts_at_char_boundaries() {
        assert_eq!(tail("héllo", 4), "llo");
        assert_eq!(tail("abc", 10), "abc");
    }
}
