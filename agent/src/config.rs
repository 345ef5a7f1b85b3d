//! The agent's configuration: built-in defaults, then a TOML file, then environment variables, then
//! command-line flags (each later source wins). Every setting, its default, its variable and its flag
//! are listed once, in [`SETTINGS`]; [`settings_table`] renders them for the README, and a test checks
//! that the README's table is that rendering and that every field of [`Config`] is listed.
//!
//! Secrets are never in the file or a flag: the private key comes from the environment variable that
//! `key.private_key_env` names, a keystore's password from `key.password_env` or `key.password_file`.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, U256, utils::parse_ether};
use serde::{Deserialize, Serialize};

use crate::keys::KeySource;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file cannot be read.
    #[error("cannot read the config file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML for this agent.
    #[error("the config file {path} is not valid: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// What is wrong and where (line and column).
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("setting {key}: {message}")]
    Value {
        /// The setting.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the agent can be told.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the chain and the contracts are.
    pub chain: ChainConfig,
    /// Where the key is.
    pub key: KeyConfig,
    /// Where the agent keeps its state.
    pub state: StateConfig,
    /// Where content is kept.
    pub store: StoreConfig,
    /// What jobs the worker takes.
    pub worker: WorkerConfig,
    /// What the verifier re-runs.
    pub verify: VerifyConfig,
    /// How the agent logs.
    pub log: LogConfig,
}

/// `[chain]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainConfig {
    /// JSON-RPC endpoint: `http://`, `https://`, or WebSocket (`ws://`, `wss://`); TLS is rustls.
    pub rpc: String,
    /// Extra CA certificates (PEM) trusted for an `https://` or `wss://` endpoint, next to Mozilla's roots.
    pub ca_file: Option<PathBuf>,
    /// The chain id the agent expects; refused when the endpoint reports another.
    pub chain_id: Option<u64>,
    /// The deployment file (`deployments/<chainId>.json` when unset).
    pub deployment: Option<PathBuf>,
    /// Blocks on top of a block before its events are acted on.
    pub confirmations: u64,
    /// Pause between polls of the chain, in milliseconds.
    pub poll_interval_ms: u64,
    /// Most blocks one `eth_getLogs` spans.
    pub max_log_range: u64,
    /// How long a transaction's RPC calls are retried while the endpoint is unreachable, in seconds
    /// (reads are retried at the next poll).
    pub rpc_retry_secs: u64,
    /// Highest fee per gas the agent offers, in gwei (no cap when unset).
    pub max_fee_gwei: Option<u64>,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            rpc: "http://127.0.0.1:8545".into(),
            ca_file: None,
            chain_id: None,
            deployment: None,
            confirmations: 0,
            poll_interval_ms: 500,
            max_log_range: 10_000,
            rpc_retry_secs: 60,
            max_fee_gwei: None,
        }
    }
}

/// `[key]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyConfig {
    /// The environment variable holding the private key (used when no keystore is set).
    pub private_key_env: String,
    /// An encrypted JSON keystore file.
    pub keystore: Option<PathBuf>,
    /// The environment variable holding the keystore's password.
    pub password_env: String,
    /// A file holding the keystore's password (wins over `password_env`).
    pub password_file: Option<PathBuf>,
}

impl Default for KeyConfig {
    fn default() -> Self {
        Self {
            private_key_env: "JSJOB_PRIVATE_KEY".into(),
            keystore: None,
            password_env: "JSJOB_KEYSTORE_PASSWORD".into(),
            password_file: None,
        }
    }
}

impl KeyConfig {
    /// Whether a key is configured at all: a keystore, or the private key's variable set. (Read-only
    /// commands use the key when it is configured, and then fail when it cannot be loaded.)
    pub fn is_configured(&self) -> bool {
        self.keystore.is_some() || std::env::var_os(&self.private_key_env).is_some()
    }

    /// Where the key comes from.
    pub fn source(&self) -> KeySource {
        match &self.keystore {
            Some(path) => KeySource::Keystore {
                path: path.clone(),
                password_var: self.password_env.clone(),
                password_file: self.password_file.clone(),
            },
            None => KeySource::Env { var: self.private_key_env.clone() },
        }
    }
}

/// `[state]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateConfig {
    /// The state database (redb), one per agent.
    pub db: PathBuf,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self { db: "jsjob-state.redb".into() }
    }
}

/// `[store]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The on-disk blockstore shared by the agents on this machine (used when `api` is unset).
    pub dir: PathBuf,
    /// A Kubo RPC endpoint (a Kubo node, a pinning service that speaks its RPC, or `jsjob ipfs serve`)
    /// to add and fetch content through instead of `dir`.
    pub api: Option<String>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { dir: "jsjob-store".into(), api: None }
    }
}

/// `[worker]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Jobs run at once.
    pub max_jobs: usize,
    /// Engine ids the worker runs (every local engine when empty).
    pub engines: Vec<String>,
    /// Least payment left after the worker's gas at current fees, in ETH.
    pub min_profit_eth: String,
    /// Largest code + input + options taken, in bytes.
    pub max_input_bytes: u64,
    /// Seconds of slack the worker wants between its run time limit and the job's execution time.
    pub deadline_margin_secs: u64,
    /// Wall-clock limit of one run, in seconds.
    pub run_timeout_secs: u64,
    /// Only these posters' jobs (any poster when empty).
    pub allow_posters: Vec<Address>,
    /// Never these posters' jobs.
    pub deny_posters: Vec<Address>,
    /// Only jobs judged by these arbiters (the deployment's trusted arbiter and jury when empty).
    pub allow_arbiters: Vec<Address>,
    /// Never jobs judged by these arbiters.
    pub deny_arbiters: Vec<Address>,
    /// Withdraw the credit once it is above this many ETH.
    pub withdraw_above_eth: String,
    /// The Deno binary (found in the repository's `node_modules` when unset).
    pub deno: Option<PathBuf>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            max_jobs: 2,
            engines: Vec::new(),
            min_profit_eth: "0".into(),
            max_input_bytes: 256 * 1024,
            deadline_margin_secs: 5,
            run_timeout_secs: 10,
            allow_posters: Vec::new(),
            deny_posters: Vec::new(),
            allow_arbiters: Vec::new(),
            deny_arbiters: Vec::new(),
            withdraw_above_eth: "0.1".into(),
            deno: None,
        }
    }
}

impl WorkerConfig {
    /// `min_profit_eth` in wei.
    pub fn min_profit(&self) -> Result<U256> {
        eth("worker.min_profit_eth", &self.min_profit_eth)
    }

    /// `withdraw_above_eth` in wei.
    pub fn withdraw_above(&self) -> Result<U256> {
        eth("worker.withdraw_above_eth", &self.withdraw_above_eth)
    }
}

/// `[verify]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyConfig {
    /// Fraction of submitted jobs re-run, 0 to 1 (drawn at random per job).
    pub sample: f64,
    /// Serve on the deployment's jury: stake `JuryArbiter.stake()` at start, answer when drawn.
    pub juror: bool,
    /// Jobs re-run at once (`worker.max_jobs` when unset).
    pub max_jobs: Option<usize>,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self { sample: 1.0, juror: false, max_jobs: None }
    }
}

impl VerifyConfig {
    /// Jobs re-run at once: `max_jobs`, or the worker's when unset.
    pub fn max_jobs(&self, worker: &WorkerConfig) -> usize {
        self.max_jobs.unwrap_or(worker.max_jobs).max(1)
    }
}

/// `[log]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// JSON lines instead of human-readable logs.
    pub json: bool,
}

/// Parses an ETH amount such as `0.05`.
pub fn eth(key: &'static str, text: &str) -> Result<U256> {
    parse_ether(text.trim()).map_err(|error| Error::Value {
        key,
        message: format!("{text:?} is not an amount of ETH such as 0.05 ({error})"),
    })
}

/// Overrides from the environment and the command line (flags win: clap reads a flag before its
/// variable).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `chain.rpc`.
    pub rpc: Option<String>,
    /// `chain.ca_file`.
    pub ca_file: Option<PathBuf>,
    /// `chain.chain_id`.
    pub chain_id: Option<u64>,
    /// `chain.deployment`.
    pub deployment: Option<PathBuf>,
    /// `chain.confirmations`.
    pub confirmations: Option<u64>,
    /// `state.db`.
    pub db: Option<PathBuf>,
    /// `store.dir`.
    pub store: Option<PathBuf>,
    /// `store.api`.
    pub ipfs_api: Option<String>,
    /// `key.keystore`.
    pub keystore: Option<PathBuf>,
    /// `worker.deno`.
    pub deno: Option<PathBuf>,
    /// `log.json` (only ever turned on).
    pub json: bool,
}

impl Config {
    /// The defaults, then `file` if given, then `overrides`; then checked.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        let o = overrides.clone();
        let chain = &mut config.chain;
        chain.rpc = o.rpc.unwrap_or(std::mem::take(&mut chain.rpc));
        chain.ca_file = o.ca_file.or(chain.ca_file.take());
        chain.chain_id = o.chain_id.or(chain.chain_id);
        chain.deployment = o.deployment.or(chain.deployment.take());
        chain.confirmations = o.confirmations.unwrap_or(chain.confirmations);
        config.state.db = o.db.unwrap_or(std::mem::take(&mut config.state.db));
        config.store.dir = o.store.unwrap_or(std::mem::take(&mut config.store.dir));
        config.store.api = o.ipfs_api.or(config.store.api.take());
        config.key.keystore = o.keystore.or(config.key.keystore.take());
        config.worker.deno = o.deno.or(config.worker.deno.take());
        config.log.json |= o.json;
        config.check()?;
        Ok(config)
    }

    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|error| Error::Toml {
            path: path.to_owned(),
            // toml's message spans several lines (a snippet of the file); keep it on one.
            message: error.to_string().split_whitespace().collect::<Vec<_>>().join(" "),
        })
    }

    fn check(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.verify.sample) {
            return Err(Error::Value {
                key: "verify.sample",
                message: format!("{} is not in 0..=1", self.verify.sample),
            });
        }
        if self.worker.max_jobs == 0 {
            return Err(Error::Value { key: "worker.max_jobs", message: "must be at least 1".into() });
        }
        if self.verify.max_jobs == Some(0) {
            return Err(Error::Value { key: "verify.max_jobs", message: "must be at least 1".into() });
        }
        let url = self.chain.rpc.parse::<alloy::transports::http::reqwest::Url>();
        if !url.is_ok_and(|url| matches!(url.scheme(), "http" | "https" | "ws" | "wss")) {
            return Err(Error::Value {
                key: "chain.rpc",
                message: format!(
                    "{:?} is not a URL such as http://127.0.0.1:8545, https://node.example or wss://node.example",
                    self.chain.rpc
                ),
            });
        }
        self.worker.min_profit()?;
        self.worker.withdraw_above()?;
        Ok(())
    }
}

/// One setting: its key in the file, its environment variable and flag (if any), and what it does.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    /// `section.name` in the TOML file.
    pub key: &'static str,
    /// The environment variable, if any.
    pub env: Option<&'static str>,
    /// The flag, if any.
    pub flag: Option<&'static str>,
    /// What it does.
    pub doc: &'static str,
}

const fn setting(
    key: &'static str,
    env: Option<&'static str>,
    flag: Option<&'static str>,
    doc: &'static str,
) -> Setting {
    Setting { key, env, flag, doc }
}

/// Every setting, in the README's order. The environment variables and flags named here are the ones
/// the `jsjob` command line declares (checked by a test in `roles::cli`).
pub const SETTINGS: &[Setting] = &[
    setting(
        "chain.rpc",
        Some("JSJOB_RPC"),
        Some("--rpc"),
        "JSON-RPC endpoint: `http://`, `https://`, `ws://` or `wss://`",
    ),
    setting(
        "chain.ca_file",
        Some("JSJOB_CA_FILE"),
        Some("--ca-file"),
        "extra CA certificates (PEM) trusted for an `https://` or `wss://` endpoint, next to Mozilla's roots",
    ),
    setting("chain.chain_id", Some("JSJOB_CHAIN_ID"), Some("--chain-id"), "expected chain id; another is refused"),
    setting(
        "chain.deployment",
        Some("JSJOB_DEPLOYMENT"),
        Some("--deployment"),
        "deployment file (default `deployments/<chainId>.json`)",
    ),
    setting(
        "chain.confirmations",
        Some("JSJOB_CONFIRMATIONS"),
        Some("--confirmations"),
        "blocks on top of a block before its events count",
    ),
    setting("chain.poll_interval_ms", None, None, "pause between polls of the chain"),
    setting("chain.max_log_range", None, None, "most blocks one `eth_getLogs` spans"),
    setting(
        "chain.rpc_retry_secs",
        None,
        None,
        "how long a transaction's RPC calls are retried while the endpoint is unreachable (reads: at the next poll)",
    ),
    setting("chain.max_fee_gwei", None, None, "highest fee per gas offered (no cap when unset)"),
    setting("key.private_key_env", None, None, "variable holding the private key (when no keystore)"),
    setting("key.keystore", Some("JSJOB_KEYSTORE"), Some("--keystore"), "encrypted JSON keystore"),
    setting("key.password_env", None, None, "variable holding the keystore's password"),
    setting("key.password_file", None, None, "file holding the keystore's password"),
    setting("state.db", Some("JSJOB_DB"), Some("--db"), "state database (redb), one per agent"),
    setting("store.dir", Some("JSJOB_STORE"), Some("--store"), "on-disk content store shared by this machine's agents"),
    setting(
        "store.api",
        Some("JSJOB_IPFS_API"),
        Some("--ipfs-api"),
        "Kubo RPC endpoint used instead of `store.dir` (a Kubo node or `jsjob ipfs serve`)",
    ),
    setting("worker.max_jobs", None, None, "jobs run at once"),
    setting("worker.engines", None, None, "engine ids run (every local engine when empty)"),
    setting("worker.min_profit_eth", None, None, "least payment left after gas at current fees"),
    setting("worker.max_input_bytes", None, None, "largest code + input + options taken"),
    setting(
        "worker.deadline_margin_secs",
        None,
        None,
        "slack wanted between the run limit and the job's execution time",
    ),
    setting("worker.run_timeout_secs", None, None, "wall-clock limit of one run"),
    setting("worker.allow_posters", None, None, "only these posters (any when empty)"),
    setting("worker.deny_posters", None, None, "never these posters"),
    setting(
        "worker.allow_arbiters",
        None,
        None,
        "only these arbiters (the deployment's trusted arbiter and jury when empty)",
    ),
    setting("worker.deny_arbiters", None, None, "never these arbiters"),
    setting("worker.withdraw_above_eth", None, None, "withdraw the credit once above this"),
    setting(
        "worker.deno",
        Some("JSJOB_DENO"),
        Some("--deno"),
        "Deno binary (the repository's `node_modules` when unset)",
    ),
    setting("verify.sample", None, None, "fraction of submitted jobs re-run, drawn at random"),
    setting(
        "verify.juror",
        None,
        Some("--juror"),
        "serve on the deployment's jury: stake `JuryArbiter.stake()`, answer when drawn",
    ),
    setting("verify.max_jobs", None, None, "jobs re-run at once (`worker.max_jobs` when unset)"),
    setting("log.json", Some("JSJOB_LOG_JSON"), Some("--json"), "JSON log lines instead of human ones"),
];

/// The settings as a Markdown table with their defaults, as the README shows it.
pub fn settings_table() -> String {
    let defaults = toml::Value::try_from(Config::default()).unwrap_or(toml::Value::Table(Default::default()));
    let mut table = String::from("| setting | default | env | flag | what |\n|---|---|---|---|---|\n");
    for setting in SETTINGS {
        let (section, name) = setting.key.split_once('.').unwrap_or(("", setting.key));
        let value =
            defaults.get(section).and_then(|s| s.get(name)).map_or_else(|| "—".to_owned(), |v| format!("`{v}`"));
        let code = |text: Option<&str>| text.map_or_else(|| "—".to_owned(), |t| format!("`{t}`"));
        table.push_str(&format!(
            "| `{}` | {value} | {} | {} | {} |\n",
            setting.key,
            code(setting.env),
            code(setting.flag),
            setting.doc
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_a_documented_setting_and_the_readme_shows_the_table() {
        // Options left unset are not serialized: fill them to see every key.
        let mut full = Config::default();
        full.chain.chain_id = Some(1);
        full.chain.ca_file = Some("ca.pem".into());
        full.chain.deployment = Some("d".into());
        full.chain.max_fee_gwei = Some(1);
        full.key.keystore = Some("k".into());
        full.key.password_file = Some("p".into());
        full.worker.deno = Some("deno".into());
        full.store.api = Some("http://127.0.0.1:5001".into());
        full.verify.max_jobs = Some(1);
        let value = toml::Value::try_from(full).expect("serializable");
        let mut keys = Vec::new();
        for (section, fields) in value.as_table().expect("a table") {
            for name in fields.as_table().expect("sections are tables").keys() {
                keys.push(format!("{section}.{name}"));
            }
        }
        let mut documented: Vec<String> = SETTINGS.iter().map(|s| s.key.to_owned()).collect();
        keys.sort();
        documented.sort();
        assert_eq!(keys, documented, "Config fields and SETTINGS differ");

        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&settings_table()),
            "agent/README.md's settings table is stale; paste this in:\n{}",
            settings_table()
        );
    }

    #[test]
    fn file_then_overrides_and_errors_on_one_line() {
        let dir = std::env::temp_dir().join(format!("jsjob-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("agent.toml");
        std::fs::write(&file, "[chain]\nrpc = \"http://file:1\"\nconfirmations = 3\n[worker]\nmax_jobs = 4\n")
            .expect("write");
        let overrides = Overrides { rpc: Some("http://flag:2".into()), ..Default::default() };
        let config = Config::load(Some(&file), &overrides).expect("valid");
        assert_eq!(config.chain.rpc, "http://flag:2");
        assert_eq!(config.chain.confirmations, 3);
        assert_eq!(config.worker.max_jobs, 4);
        assert_eq!(config.chain.poll_interval_ms, 500);

        std::fs::write(&file, "[chain]\nrpc = 5\n").expect("write");
        let error = Config::load(Some(&file), &Overrides::default()).expect_err("wrong type");
        assert!(!error.to_string().contains('\n'), "{error}");
        assert!(error.to_string().contains("rpc"), "{error}");
        std::fs::write(&file, "[chian]\n").expect("write");
        let error = Config::load(Some(&file), &Overrides::default()).expect_err("unknown section");
        assert!(error.to_string().contains("chian"), "{error}");
        std::fs::write(&file, "[verify]\nsample = 2.0\n").expect("write");
        let error = Config::load(Some(&file), &Overrides::default()).expect_err("out of range");
        assert_eq!(error.to_string(), "setting verify.sample: 2 is not in 0..=1");
        let https = Overrides { rpc: Some("https://rpc.example".into()), ..Default::default() };
        assert!(Config::load(None, &https).is_ok());
        let ftp = Overrides { rpc: Some("ftp://rpc.example".into()), ..Default::default() };
        let error = Config::load(None, &ftp).expect_err("not a JSON-RPC scheme");
        assert!(error.to_string().starts_with("setting chain.rpc: \"ftp://rpc.example\" is not a URL"), "{error}");
        let wss = Overrides { rpc: Some("wss://rpc.example".into()), ..Default::default() };
        assert!(Config::load(None, &wss).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
