//! The command-line faces of the roles: `jsjob worker`, `verify`, `post`, `status`, `result`, `withdraw`.
//! Each takes [`CommonArgs`] (flags, each with its environment variable: a flag wins over its variable,
//! both over the config file, which wins over the defaults; see `crate::config`).

use std::{future::Future, path::PathBuf, str::FromStr, sync::Arc};

use alloy::primitives::{Address, U256};

use super::{Error, Result, Session, poster, verifier::Verifier, worker};
use crate::{
    chain::bindings::format_eth,
    config::{self, Config, Overrides},
};

/// Flags every role command takes.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CommonArgs {
    /// Config file (TOML); see the settings table in agent/README.md.
    #[arg(long, env = "JSJOB_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// JSON-RPC endpoint: http://, https://, ws:// or wss://.
    #[arg(long, env = "JSJOB_RPC", value_name = "URL")]
    pub rpc: Option<String>,
    /// Extra CA certificates (PEM) trusted for an https:// or wss:// endpoint.
    #[arg(long, env = "JSJOB_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Expected chain id.
    #[arg(long, env = "JSJOB_CHAIN_ID")]
    pub chain_id: Option<u64>,
    /// Deployment file (default: deployments/CHAIN_ID.json).
    #[arg(long, env = "JSJOB_DEPLOYMENT", value_name = "FILE")]
    pub deployment: Option<PathBuf>,
    /// Blocks on top of a block before its events count.
    #[arg(long, env = "JSJOB_CONFIRMATIONS")]
    pub confirmations: Option<u64>,
    /// State database file.
    #[arg(long, env = "JSJOB_DB", value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Content store directory.
    #[arg(long, env = "JSJOB_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Kubo RPC endpoint to keep content in instead of the directory (a Kubo node or `jsjob ipfs serve`).
    #[arg(long, env = "JSJOB_IPFS_API", value_name = "URL")]
    pub ipfs_api: Option<String>,
    /// Encrypted JSON keystore (password from JSJOB_KEYSTORE_PASSWORD or key.password_file).
    #[arg(long, env = "JSJOB_KEYSTORE", value_name = "FILE")]
    pub keystore: Option<PathBuf>,
    /// Deno binary.
    #[arg(long, env = "JSJOB_DENO", value_name = "FILE")]
    pub deno: Option<PathBuf>,
    /// JSON log lines instead of human ones.
    #[arg(long, env = "JSJOB_LOG_JSON")]
    pub json: bool,
}

impl CommonArgs {
    /// The configuration: defaults, the file, then these flags.
    pub fn config(&self) -> Result<Config> {
        let overrides = Overrides {
            rpc: self.rpc.clone(),
            ca_file: self.ca_file.clone(),
            chain_id: self.chain_id,
            deployment: self.deployment.clone(),
            confirmations: self.confirmations,
            db: self.db.clone(),
            store: self.store.clone(),
            ipfs_api: self.ipfs_api.clone(),
            keystore: self.keystore.clone(),
            deno: self.deno.clone(),
            json: self.json,
        };
        Ok(Config::load(self.config.as_deref(), &overrides)?)
    }

    /// Whether logs are JSON: the flag, or `log.json` in a readable config file.
    pub fn json_logs(&self) -> bool {
        self.json || self.config.as_deref().and_then(|path| Config::from_file(path).ok()).is_some_and(|c| c.log.json)
    }
}

/// `jsjob worker`.
#[derive(Clone, Debug, clap::Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    /// Common flags.
    pub common: CommonArgs,
    /// Jobs run at once (worker.max_jobs).
    #[arg(long)]
    pub max_jobs: Option<usize>,
}

/// `jsjob verify`.
#[derive(Clone, Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    /// Common flags.
    pub common: CommonArgs,
    /// Fraction of submitted jobs re-run, 0 to 1 (verify.sample).
    #[arg(long)]
    pub sample: Option<f64>,
    /// Serve on the deployment's jury: stake at start, answer when drawn (verify.juror).
    #[arg(long)]
    pub juror: bool,
    /// Jobs re-run at once (verify.max_jobs).
    #[arg(long)]
    pub max_jobs: Option<usize>,
    /// Leave the jury pool and exit; run again after the cooldown to unstake and withdraw.
    #[arg(long, conflicts_with = "juror")]
    pub leave: bool,
}

/// `jsjob post`.
#[derive(Clone, Debug, clap::Args)]
pub struct PostArgs {
    #[command(flatten)]
    /// Common flags.
    pub common: CommonArgs,
    /// The job's code: a file (added to the store) or a CID.
    pub code: String,
    /// The job's input: a file (added to the store) or a CID.
    pub input: String,
    /// Inline options passed to the job.
    #[arg(long, default_value = "")]
    pub options: String,
    /// Payment in ETH, escrowed now.
    #[arg(long, default_value = "0.01")]
    pub payment: String,
    /// The worker's bond in ETH.
    #[arg(long, default_value = "0.005")]
    pub bond: String,
    /// A challenger's bond in ETH (the worker's bond when unset).
    #[arg(long)]
    pub challenge_bond: Option<String>,
    /// The arbiter's fee in ETH, paid from the losing side's bond when it rules (a jury needs one; at most
    /// either bond).
    #[arg(long, default_value = "0")]
    pub arbiter_fee: String,
    /// The audit fee in ETH, paid on top of the payment for the chance of a random audit (the deployment's
    /// minimum when unset).
    #[arg(long)]
    pub audit_fee: Option<String>,
    /// Challenge window, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub window: u32,
    /// Seconds a worker has to claim.
    #[arg(long, default_value_t = 3600)]
    pub claim_within: u64,
    /// Seconds a worker has to run and submit after claiming.
    #[arg(long, default_value_t = 600)]
    pub execution_time: u32,
    /// Seconds the arbiter has to rule on a dispute.
    #[arg(long, default_value_t = 86_400)]
    pub dispute_window: u32,
    /// Engine build id (when unset, the first local engine of worker.engines: the pinned V8 build, such as
    /// v8/deno-2.9.6, unless that list leaves it out).
    #[arg(long)]
    pub engine: Option<String>,
    /// Arbiter (the deployment's trusted arbiter when unset).
    #[arg(long)]
    pub arbiter: Option<Address>,
    /// Least reputation a worker needs.
    #[arg(long, default_value_t = 0)]
    pub min_reputation: u32,
    /// Follow the job until it is final and print its result.
    #[arg(long)]
    pub wait: bool,
}

/// `jsjob status`.
#[derive(Clone, Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    /// Common flags.
    pub common: CommonArgs,
    /// A job id (every job when omitted).
    pub job: Option<String>,
    /// Also show what this agent's state database records: each job's role, step, bond and payout, the
    /// bonds locked and the withdrawals, and the jury duty's totals (stake, rewards for disputes and for
    /// audits, slashes, withdrawals); the agent using the database must be stopped.
    #[arg(long)]
    pub local: bool,
}

/// `jsjob result`.
#[derive(Clone, Debug, clap::Args)]
pub struct ResultArgs {
    #[command(flatten)]
    /// Common flags.
    pub common: CommonArgs,
    /// The job id.
    pub job: String,
    /// Write the result here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Check the result with a functional check (a job returning `{"ok": true}` for a good result, as
    /// `examples/*/check.js`), run in the job's engine; a refused result exits non-zero.
    #[arg(long, value_name = "CHECK.js")]
    pub check: Option<PathBuf>,
    /// Hand the output to the check as base64 (binary results such as images).
    #[arg(long, requires = "check")]
    pub binary_output: bool,
}

/// `jsjob withdraw`.
#[derive(Clone, Debug, clap::Args)]
pub struct WithdrawArgs {
    #[command(flatten)]
    /// Common flags.
    pub common: CommonArgs,
}

fn job_id(text: &str) -> Result<U256> {
    U256::from_str(text.trim()).map_err(|_| Error::Usage(format!("{text:?} is not a job id (0x… hex or decimal)")))
}

/// `--max-jobs`, refused at 0 as `worker.max_jobs` and `verify.max_jobs` are.
fn at_least_one(max_jobs: usize) -> Result<usize> {
    if max_jobs == 0 {
        return Err(Error::Usage("--max-jobs must be at least 1".into()));
    }
    Ok(max_jobs)
}

/// A flag's ETH amount; refused as a usage error naming the flag.
fn eth(flag: &'static str, text: &str) -> Result<U256> {
    config::eth(flag, text).map_err(|error| match error {
        config::Error::Value { message, .. } => Error::Usage(format!("{flag} {message}")),
        other => other.into(),
    })
}

/// `jsjob worker`: works jobs until `stop`.
pub async fn worker(args: WorkerArgs, stop: impl Future<Output = ()>) -> Result<()> {
    let mut config = args.common.config()?;
    if let Some(max_jobs) = args.max_jobs {
        config.worker.max_jobs = at_least_one(max_jobs)?;
    }
    let session = Arc::new(Session::connect(config, true).await?);
    can_pay_gas(&session, "one job's claim, submit and finalize").await?;
    worker::run(session, stop).await
}

/// Refuses to start a long-running role whose account cannot pay the gas of one job's transactions
/// ([`super::WORKER_GAS`] at the current gas price): every step it took would fail.
async fn can_pay_gas(session: &Session, what: &str) -> Result<()> {
    use alloy::providers::Provider;
    let account = session.account()?;
    let rpc = crate::chain::Error::rpc;
    let balance = session.provider.get_balance(account).await.map_err(rpc("eth_getBalance"))?;
    let gas_price = session.provider.get_gas_price().await.map_err(rpc("eth_gasPrice"))?;
    let needed = U256::from(super::WORKER_GAS) * U256::from(gas_price);
    if balance < needed {
        return Err(Error::InsufficientFunds {
            account,
            balance: format_eth(balance),
            needed: format_eth(needed),
            what: format!("the gas of {what}; bonds come on top"),
        });
    }
    Ok(())
}

/// `jsjob verify`: verifies jobs until `stop`; with `--leave`, takes the next step out of the jury and exits.
pub async fn verify(
    args: VerifyArgs,
    stop: impl Future<Output = ()>,
    say: &mut (dyn FnMut(&str) + Send),
) -> Result<()> {
    let mut config = args.common.config()?;
    if let Some(sample) = args.sample {
        if !(0.0..=1.0).contains(&sample) {
            return Err(Error::Usage(format!("--sample {sample} is not in 0..=1")));
        }
        config.verify.sample = sample;
    }
    config.verify.juror |= args.juror;
    if let Some(max_jobs) = args.max_jobs {
        config.verify.max_jobs = Some(at_least_one(max_jobs)?);
    }
    let session = Arc::new(Session::connect(config, true).await?);
    if args.leave {
        return super::verifier::juror::leave(&session, say).await;
    }
    can_pay_gas(&session, "one job's challenge and reveal").await?;
    Verifier::new(session).await?.run(stop).await
}

/// `jsjob post`: prints the job id; with `--wait`, the progress and the result.
pub async fn post(args: PostArgs, say: &mut (dyn FnMut(&str) + Send)) -> Result<()> {
    let session = Session::connect(args.common.config()?, true).await?;
    let engine = match args.engine {
        Some(engine) => engine,
        None => session.engines(0).await?.ids().first().map(|id| (*id).to_owned()).ok_or_else(|| {
            Error::Usage("no local engine is left by worker.engines: name the job's engine with --engine".into())
        })?,
    };
    let bond = eth("--bond", &args.bond)?;
    let terms = poster::Terms {
        code: args.code,
        input: args.input,
        options: args.options.into_bytes(),
        payment: eth("--payment", &args.payment)?,
        bond,
        challenge_bond: args
            .challenge_bond
            .as_deref()
            .map(|text| eth("--challenge-bond", text))
            .transpose()?
            .unwrap_or(bond),
        arbiter_fee: eth("--arbiter-fee", &args.arbiter_fee)?,
        audit_fee: args.audit_fee.as_deref().map(|text| eth("--audit-fee", text)).transpose()?,
        claim_within: args.claim_within,
        execution_time: args.execution_time,
        window: args.window,
        dispute_window: args.dispute_window,
        engine,
        arbiter: args.arbiter,
        min_reputation: args.min_reputation,
    };
    let id = poster::post(&session, &terms).await?;
    say(&format!("{id:#x}"));
    if args.wait {
        let view = poster::wait(&session, id, say).await?;
        match poster::settled_result(&view)? {
            Some(cid) => {
                let bytes = session.content.get(&cid).await?;
                say(&format!("result {cid}:"));
                say(&String::from_utf8_lossy(&bytes));
            }
            None => say("no result"),
        }
    }
    Ok(())
}

/// `jsjob status`: one line per job (or the one named), and the account's credit when a key is set.
pub async fn status(args: StatusArgs, say: &mut (dyn FnMut(&str) + Send)) -> Result<()> {
    let config = args.common.config()?;
    let with_key = config.key.is_configured();
    let session = Session::connect(config, with_key).await?;
    match args.job {
        Some(text) => say(&poster::describe(&session.agency.job(job_id(&text)?).await?)),
        None => {
            for view in session.agency.jobs().await?.values() {
                say(&poster::describe(view));
            }
        }
    }
    if let Ok(account) = session.account() {
        let credit = session.agency.credit_of(account).await?;
        say(&format!("account {account}: credit {} ETH", format_eth(credit)));
    }
    if args.local {
        let state = session.open_state()?;
        for (id, entry) in state.jobs()? {
            let note = entry.note.map(|note| format!(" ({note})")).unwrap_or_default();
            say(&format!(
                "local {id:#x}: {:?} {:?}, bond {} ETH, payout {} ETH{note}",
                entry.role,
                entry.step,
                format_eth(entry.bond),
                format_eth(entry.payout)
            ));
        }
        let totals = state.ledger_totals()?;
        let total = |kind: &str| format_eth(totals.get(kind).copied().unwrap_or_default());
        say(&format!(
            "local: bonds locked {} ETH, withdrawn {} ETH",
            format_eth(state.bonds_locked()?),
            total("withdraw")
        ));
        say(&format!(
            "local jury: staked {} ETH, unstaked {} ETH, jury rewards {} ETH, audit rewards {} ETH, slashed {} ETH, withdrawn {} ETH",
            total("stake"),
            total("unstake"),
            total("jury-reward"),
            total("audit-reward"),
            total("jury-slash"),
            total("jury-withdraw")
        ));
    }
    Ok(())
}

/// `jsjob result`: the settled result, verified against its CID.
pub async fn result(args: ResultArgs, say: &mut (dyn FnMut(&str) + Send)) -> Result<()> {
    let session = Session::connect(args.common.config()?, false).await?;
    let id = job_id(&args.job)?;
    let (cid, bytes) = poster::result(&session, id).await?;
    if let Some(path) = &args.check {
        let code = tokio::fs::read(path).await.map_err(|source| Error::Io { path: path.clone(), source })?;
        let verdict = poster::check(&session, id, &code, &bytes, args.binary_output).await?;
        say(&format!("check passed: {verdict}"));
    }
    match args.out {
        Some(path) => {
            tokio::fs::write(&path, &bytes).await.map_err(|source| Error::Io { path: path.clone(), source })?;
            say(&format!("{cid} → {} ({} bytes)", path.display(), bytes.len()));
        }
        None => say(&String::from_utf8_lossy(&bytes)),
    }
    Ok(())
}

/// `jsjob withdraw`: withdraws the whole credit.
pub async fn withdraw(args: WithdrawArgs, say: &mut (dyn FnMut(&str) + Send)) -> Result<()> {
    let session = Session::connect(args.common.config()?, true).await?;
    let account = session.account()?;
    let credit = session.agency.credit_of(account).await?;
    if credit.is_zero() {
        say(&format!("account {account} has no credit"));
        return Ok(());
    }
    let amount = session.withdraw_above(None, U256::ZERO).await?;
    say(&format!("withdrew {} ETH to {account}", format_eth(amount)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Args;

    use super::*;

    /// Every flag and variable `config::SETTINGS` (and so the README's table) names is the one the command
    /// line declares for it (`jsjob verify` takes them all: the common flags and `--juror`).
    #[test]
    fn the_settings_flags_and_variables_are_declared() {
        let command = VerifyArgs::augment_args(clap::Command::new("verify"));
        for setting in config::SETTINGS {
            let Some(flag) = setting.flag else {
                assert_eq!(setting.env, None, "{}: a variable without a flag", setting.key);
                continue;
            };
            let arg = command
                .get_arguments()
                .find(|arg| arg.get_long() == flag.strip_prefix("--"))
                .unwrap_or_else(|| panic!("{}: {flag} is not declared", setting.key));
            assert_eq!(arg.get_env().and_then(|env| env.to_str()), setting.env, "{}", setting.key);
        }
    }
}
