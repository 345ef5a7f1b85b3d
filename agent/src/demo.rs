//! `jsjob demo`: the whole market on a fresh local chain, one step per line.
//!
//! It starts anvil, deploys the contracts with the repository's forge script, then drives one job through
//! the happy path (post, claim, run, submit, challenge window, finalize, withdraw) and a second one
//! through a dispute (a cheating worker, a challenger who re-ran the job, a sealed challenge, the reveal,
//! the trusted arbiter's ruling). Each role rebuilds the job's record from the agency's events before it
//! acts, as a separate agent would. At the end it checks the money: the agency holds nothing, and every
//! wei that left an account is in another account or was paid as gas.
//!
//! The roles' steps ([`Demo::work`], [`Demo::verify`], [`Demo::arbitrate`], …) are library code for the
//! worker, verifier and devnet commands to build on.

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    time::Duration,
};

use alloy::{
    primitives::{
        Address, B256, Bytes, I256, U256,
        aliases::{U40, U96},
        keccak256,
    },
    providers::Provider,
    signers::{Signer, local::PrivateKeySigner},
};

use crate::{
    chain::{
        self, Agency, Deployment, Sent,
        bindings::format_eth,
        job::{self, JobSpec, JobView, Outcome, Ruling, Status},
    },
    cid::Cid,
    devnet::{self, Anvil, DEV_KEYS},
    exec::{self, Engine, JobInput, Limits, Sandbox, Seed},
    store::{self, MemoryStore, Store},
    tools::{self, Toolchain},
};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pinned tool is missing.
    #[error(transparent)]
    Tools(#[from] tools::Error),
    /// The local chain could not be started or deployed to.
    #[error(transparent)]
    Devnet(#[from] devnet::Error),
    /// A transaction or a read failed.
    #[error(transparent)]
    Chain(#[from] chain::Error),
    /// Running a job failed.
    #[error(transparent)]
    Exec(#[from] exec::Error),
    /// The store failed, or a CID in an event is not one this agent handles.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Signing failed.
    #[error("signing: {0}")]
    Signer(#[from] alloy::signers::Error),
    /// The chain is not in the state the demo expects.
    #[error("{0}")]
    Unexpected(String),
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How to run the demo.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// A directory inside the repository (the current directory when `None`).
    pub start_dir: Option<PathBuf>,
}

/// What the demo did, for the summary and the tests.
#[derive(Clone, Debug)]
pub struct Report {
    /// The deployment it made.
    pub deployment: Deployment,
    /// The happy-path job's id.
    pub happy_job: U256,
    /// The disputed job's id.
    pub disputed_job: U256,
    /// How each job ended.
    pub outcomes: BTreeMap<U256, Outcome>,
    /// Every account that took part, with its balances and gas.
    pub accounts: Vec<AccountReport>,
    /// The agency's balance at the end.
    pub agency_balance: U256,
    /// Credit left in the agency for any of the accounts at the end.
    pub credit_left: U256,
}

impl Report {
    /// Σ balance changes + Σ gas fees, over every account and the contracts: zero when ETH is conserved.
    pub fn imbalance(&self) -> I256 {
        self.accounts.iter().map(|account| account.change() + signed(account.fees)).fold(I256::ZERO, |a, b| a + b)
    }

    /// Whether ETH is conserved and the agency is empty.
    pub fn is_balanced(&self) -> bool {
        self.imbalance().is_zero() && self.agency_balance.is_zero() && self.credit_left.is_zero()
    }

    /// The account playing `role`.
    pub fn account(&self, role: &str) -> Option<&AccountReport> {
        self.accounts.iter().find(|account| account.role == role)
    }
}

/// One account's part in the demo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountReport {
    /// Its role, such as `worker`.
    pub role: &'static str,
    /// Its address.
    pub address: Address,
    /// Balance before the first job.
    pub before: U256,
    /// Balance at the end.
    pub after: U256,
    /// Wei it paid as gas.
    pub fees: U256,
}

impl AccountReport {
    /// The balance change, gas included.
    pub fn change(&self) -> I256 {
        signed(self.after) - signed(self.before)
    }

    /// The balance change without gas: what the market paid or took.
    pub fn market(&self) -> I256 {
        self.change() + signed(self.fees)
    }
}

/// A participant and its key (never shown).
#[derive(Clone, Debug)]
pub struct Actor {
    /// Its role in the demo.
    pub role: &'static str,
    /// Its key.
    pub signer: PrivateKeySigner,
}

impl Actor {
    /// Its address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }
}

/// The cast: one anvil dev account per role. Account 0 deploys, so it owns the trusted arbiter.
#[derive(Clone, Debug)]
pub struct Cast {
    /// Owns the `TrustedArbiter` and rules.
    pub arbiter: Actor,
    /// Posts both jobs.
    pub poster: Actor,
    /// Does the first job honestly.
    pub worker: Actor,
    /// Re-runs the second job and challenges the wrong result.
    pub challenger: Actor,
    /// Claims the second job and submits a made-up result.
    pub cheat: Actor,
    /// Anyone: finalizes the first job after its window.
    pub keeper: Actor,
}

impl Cast {
    /// The dev accounts 0-5.
    pub fn dev() -> Self {
        let actor = |role, index| Actor { role, signer: devnet::dev_signer(index) };
        Self {
            arbiter: actor("arbiter", 0),
            poster: actor("poster", 1),
            worker: actor("worker", 2),
            challenger: actor("challenger", 3),
            cheat: actor("cheat", 4),
            keeper: actor("keeper", 5),
        }
    }

    /// Every actor.
    pub fn all(&self) -> [&Actor; 6] {
        [&self.arbiter, &self.poster, &self.worker, &self.challenger, &self.cheat, &self.keeper]
    }
}

/// The demo job's code.
pub const DEMO_CODE: &[u8] = include_bytes!("../examples/demo/job.js");
/// The demo job's input.
pub const DEMO_INPUT: &[u8] = include_bytes!("../examples/demo/input.json");

/// 10^18 wei.
const ETHER: u64 = 1_000_000_000_000_000_000;

/// The demo's job terms: 0.1 ETH for the work, 0.05 ETH bonds, an hour to claim, ten minutes to run, an
/// hour's challenge window and a day for the arbiter.
pub fn demo_spec(code: &Cid, input: &Cid, engine: B256, arbiter: Address, now: u64) -> JobSpec {
    JobSpec {
        codeCid: Bytes::copy_from_slice(code.as_bytes()),
        inputCid: Bytes::copy_from_slice(input.as_bytes()),
        options: Bytes::new(),
        engine,
        payment: U256::from(ETHER / 10).to(),
        workerBond: U256::from(ETHER / 20).to(),
        challengeBond: U256::from(ETHER / 20).to(),
        // The trusted arbiter rules unpaid.
        arbiterFee: U96::ZERO,
        // The demo shows the dispute path; its jobs opt out of random audits (see docs/INCENTIVES.md).
        auditFee: U96::ZERO,
        claimDeadline: U40::from(now + 3600),
        executionTime: 600,
        challengeWindow: 3600,
        disputeWindow: 86_400,
        minReputation: 0,
        arbiter,
    }
}

/// Runs the demo, passing each line it prints to `say`. Returns what happened and the anvil it ran on,
/// still running so that the caller can let people look around; dropping it stops it.
pub async fn run(options: &Options, say: &mut (dyn FnMut(&str) + Send)) -> Result<(Report, Anvil)> {
    let start = match &options.start_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().map_err(|e| Error::Unexpected(format!("current directory: {e}")))?,
    };
    let tools = Toolchain::find(&start)?;
    let engine = Sandbox::v8(&tools.deno, Limits { output: crate::cid::MAX_RAW_LEAF, ..Limits::default() }).await?;
    let anvil = Anvil::spawn(&tools.anvil).await?;
    say(&format!("anvil    listening on {} (a fresh chain)", anvil.endpoint()));

    let result = async {
        let cast = Cast::dev();
        let provider = chain::connect(anvil.endpoint().clone(), cast.all().map(|actor| actor.signer.clone()));
        let chain_id = provider.get_chain_id().await.map_err(chain::Error::rpc("eth_chainId"))?;
        let deployment = devnet::deploy(&tools, anvil.endpoint(), chain_id, DEV_KEYS[0], &provider).await?;
        say(&format!(
            "forge    script/Deploy.s.sol: JobAgency {}, TrustedArbiter {} (owner {})",
            deployment.job_agency, deployment.trusted_arbiter, deployment.arbiter_owner
        ));
        if deployment.arbiter_owner != cast.arbiter.address() {
            return Err(Error::Unexpected(format!(
                "the arbiter owner is {}, not the deployer {}",
                deployment.arbiter_owner,
                cast.arbiter.address()
            )));
        }
        let mut demo = Demo::new(Agency::new(provider, &deployment), engine, cast, say);
        demo.play(deployment).await
    }
    .await;

    match result {
        Ok(report) => Ok((report, anvil)),
        Err(error) => {
            anvil.stop().await;
            Err(error)
        }
    }
}

/// The demo's state: the agency client, the shared store, the engine, the cast, and the gas each account
/// paid.
pub struct Demo<'a> {
    agency: Agency,
    store: MemoryStore,
    engine: Sandbox,
    cast: Cast,
    fees: HashMap<Address, U256>,
    step: usize,
    say: &'a mut (dyn FnMut(&str) + Send),
}

impl<'a> Demo<'a> {
    /// A demo driving `agency` with `cast`, printing to `say`.
    pub fn new(agency: Agency, engine: Sandbox, cast: Cast, say: &'a mut (dyn FnMut(&str) + Send)) -> Self {
        Self { agency, store: MemoryStore::default(), engine, cast, fees: HashMap::new(), step: 0, say }
    }

    /// The two jobs and the summary.
    async fn play(&mut self, deployment: Deployment) -> Result<Report> {
        let cast = self.cast.clone();
        let mut watched: Vec<(&'static str, Address)> = cast.all().iter().map(|a| (a.role, a.address())).collect();
        watched.push(("JobAgency", deployment.job_agency));
        watched.push(("TrustedArbiter", deployment.trusted_arbiter));
        let before = self.balances(&watched).await?;

        (self.say)("");
        (self.say)("job 1: the happy path");
        let happy_job = self.post(&cast.poster).await?;
        self.work(&cast.worker, happy_job, Honesty::Honest).await?;
        let view = self.agency.job(happy_job).await?;
        let window = u64::from(view.spec.challengeWindow);
        devnet::advance_time(self.agency.provider(), window + 1).await?;
        self.line(
            &cast.keeper,
            "waits",
            None,
            &format!("{window} s challenge window passes unchallenged (evm_increaseTime + evm_mine)"),
        );
        let view = self.agency.job(happy_job).await?;
        let sent = self.agency.finalize(cast.keeper.address(), happy_job, &view.record).await?;
        let pay = U256::from(view.record.payment) + U256::from(view.record.workerBond);
        self.tx(
            &cast.keeper,
            "finalize",
            &sent,
            &format!("job {}: worker credited {} ETH (payment + bond)", short(happy_job), format_eth(pay)),
        );
        self.withdraw(&cast.worker).await?;
        self.withdraw(&cast.poster).await?;

        (self.say)("");
        (self.say)("job 2: a wrong result, challenged and ruled");
        let disputed_job = self.post(&cast.poster).await?;
        self.work(&cast.cheat, disputed_job, Honesty::MadeUp).await?;
        let challenge = self
            .verify(&cast.challenger, disputed_job)
            .await?
            .ok_or_else(|| Error::Unexpected("the challenger agreed with a made-up result".to_owned()))?;
        self.reveal(&cast.challenger, disputed_job, &challenge).await?;
        self.arbitrate(&cast.arbiter, disputed_job).await?;
        self.withdraw(&cast.challenger).await?;
        self.withdraw(&cast.cheat).await?;

        self.summary(deployment, &watched, &before, happy_job, disputed_job).await
    }

    /// The poster stores the demo code and input and posts a job for them.
    pub async fn post(&mut self, poster: &Actor) -> Result<U256> {
        let code = self.store.put(DEMO_CODE).await?;
        let input = self.store.put(DEMO_INPUT).await?;
        let now = devnet::chain_time(self.agency.provider()).await?;
        let spec = demo_spec(&code, &input, B256::from(self.engine.engine_word()), self.agency.arbiter_address(), now);
        let payment = U256::from(spec.payment);
        let (job_id, sent) = self.agency.post(poster.address(), spec).await?;
        self.tx(
            poster,
            "post",
            &sent,
            &format!(
                "job {}: code {code}, input {input}, engine {}, payment {} ETH escrowed",
                short(job_id),
                self.engine.id(),
                format_eth(payment)
            ),
        );
        Ok(job_id)
    }

    /// A worker rebuilds the job from events, claims it with its bond, runs it (or, when `honesty` says
    /// so, makes an output up), stores the output and submits its CID. Returns the output submitted.
    pub async fn work(&mut self, worker: &Actor, job_id: U256, honesty: Honesty) -> Result<Vec<u8>> {
        let view = self.agency.job(job_id).await?;
        expect_status(&view, Status::Open)?;
        self.check_engine(&view)?;
        let sent = self.agency.claim(worker.address(), job_id, &view.record).await?;
        self.tx(
            worker,
            "claim",
            &sent,
            &format!(
                "job {} (record rebuilt from events = jobHash), bond {} ETH locked",
                short(job_id),
                format_eth(U256::from(view.record.workerBond))
            ),
        );

        let output = match honesty {
            Honesty::Honest => self.execute(worker, &view).await?,
            Honesty::MadeUp => {
                let output = br#"{"count":16,"sum":1000000}"#.to_vec();
                self.line(worker, "skips the work", None, "makes an output up instead of running the job");
                output
            }
        };
        let cid = self.store.put(&output).await?;
        let view = self.agency.job(job_id).await?;
        let sent = self.agency.submit(worker.address(), job_id, &view.record, cid.as_bytes()).await?;
        self.tx(worker, "submit", &sent, &format!("result {cid}; challengeable for {} s", view.record.challengeWindow));
        Ok(output)
    }

    /// A verifier re-runs a submitted job; if its output differs, it challenges with a sealed CID and its
    /// bond. Returns what it needs to reveal, or `None` when it agrees.
    pub async fn verify(&mut self, verifier: &Actor, job_id: U256) -> Result<Option<Challenge>> {
        let view = self.agency.job(job_id).await?;
        expect_status(&view, Status::Submitted)?;
        let submitted = submitted_cid(&view)?;
        let output = self.execute(verifier, &view).await?;
        let cid = self.store.put(&output).await?;
        if cid == submitted {
            self.line(verifier, "agrees", None, &format!("its output {cid} is the submitted result"));
            return Ok(None);
        }
        // The salt is derived from the verifier's signature over the job and its result: secret until
        // revealed (nobody else can sign), and the same after a restart, so a crashed agent can still reveal.
        let message = [
            b"jsjob challenge salt".as_slice(),
            self.agency.address().as_slice(),
            &job_id.to_be_bytes::<32>(),
            cid.as_bytes(),
        ]
        .concat();
        let salt = keccak256(verifier.signer.sign_message(&message).await?.as_bytes());
        let seal = job::seal(job_id, verifier.address(), cid.as_bytes(), salt);
        let sent = self.agency.challenge(verifier.address(), job_id, &view.record, seal).await?;
        self.tx(
            verifier,
            "challenge",
            &sent,
            &format!(
                "result {submitted} ≠ its {cid}; seal {}, bond {} ETH locked",
                short_hash(seal),
                format_eth(U256::from(view.record.challengeBond))
            ),
        );
        Ok(Some(Challenge { cid, salt }))
    }

    /// The challenger opens its seal.
    pub async fn reveal(&mut self, challenger: &Actor, job_id: U256, challenge: &Challenge) -> Result<()> {
        let view = self.agency.job(job_id).await?;
        expect_status(&view, Status::Challenged)?;
        let sent = self
            .agency
            .reveal(challenger.address(), job_id, &view.record, challenge.cid.as_bytes(), challenge.salt)
            .await?;
        self.tx(
            challenger,
            "reveal",
            &sent,
            &format!(
                "result {} and salt open the seal; the arbiter has {} s",
                challenge.cid, view.record.disputeWindow
            ),
        );
        Ok(())
    }

    /// The trusted arbiter's owner re-runs the disputed job and rules for whichever result matches its own.
    pub async fn arbitrate(&mut self, owner: &Actor, job_id: U256) -> Result<Ruling> {
        let view = self.agency.job(job_id).await?;
        expect_status(&view, Status::Disputed)?;
        let output = self.execute(owner, &view).await?;
        let own = Cid::raw_leaf(&output)?;
        let challenged = view.challenge_cid.as_ref().map(|cid| Cid::from_bytes(cid)).transpose()?;
        let ruling = if own == submitted_cid(&view)? {
            Ruling::WorkerRight
        } else if Some(&own) == challenged.as_ref() {
            Ruling::ChallengerRight
        } else {
            Ruling::Neither
        };
        let pot = U256::from(view.record.payment)
            + U256::from(view.record.workerBond)
            + U256::from(view.record.challengeBond)
            - U256::from(view.record.arbiterFee);
        let sent = self.agency.rule(owner.address(), job_id, &view.record, ruling).await?;
        self.tx(
            owner,
            "rule",
            &sent,
            &format!("TrustedArbiter.rule({ruling:?}): the pot of {} ETH is credited", format_eth(pot)),
        );
        Ok(ruling)
    }

    /// An account withdraws its credit, or shows why it has none.
    pub async fn withdraw(&mut self, account: &Actor) -> Result<U256> {
        match self.agency.withdraw(account.address()).await {
            Ok((amount, sent)) => {
                self.tx(account, "withdraw", &sent, &format!("{} ETH", format_eth(amount)));
                Ok(amount)
            }
            Err(error) if error.revert().is_some_and(|revert| revert.name() == "JobAgency_NoCredit") => {
                self.line(account, "withdraw", None, &format!("refused in simulation, nothing sent: {error}"));
                Ok(U256::ZERO)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Fetches a job's code and input from the store (verified by CID) and runs it in the engine.
    async fn execute(&mut self, runner: &Actor, view: &JobView) -> Result<Vec<u8>> {
        let code = self.store.get(&Cid::from_bytes(&view.spec.codeCid)?).await?;
        let input = self.store.get(&Cid::from_bytes(&view.spec.inputCid)?).await?;
        let seed = Seed::derive(&view.id.to_be_bytes::<32>(), &view.spec.inputCid);
        let output = self.engine.run(JobInput { code: &code, input: &input, options: None, seed }).await?;
        let cid = Cid::raw_leaf(&output.bytes)?;
        self.line(
            runner,
            "runs the job",
            None,
            &format!(
                "{} in a zero-permission Deno: {} bytes out in {} ms → {cid}",
                self.engine.id(),
                output.bytes.len(),
                millis(output.elapsed)
            ),
        );
        Ok(output.bytes)
    }

    fn check_engine(&self, view: &JobView) -> Result<()> {
        if view.spec.engine != B256::from(self.engine.engine_word()) {
            return Err(Error::Unexpected(format!(
                "job {} wants engine {}, this agent runs {}",
                short(view.id),
                view.spec.engine,
                self.engine.id()
            )));
        }
        Ok(())
    }

    async fn balances(&self, watched: &[(&'static str, Address)]) -> Result<Vec<U256>> {
        let mut balances = Vec::with_capacity(watched.len());
        for (_, address) in watched {
            let balance =
                self.agency.provider().get_balance(*address).await.map_err(chain::Error::rpc("eth_getBalance"))?;
            balances.push(balance);
        }
        Ok(balances)
    }

    async fn summary(
        &mut self,
        deployment: Deployment,
        watched: &[(&'static str, Address)],
        before: &[U256],
        happy_job: U256,
        disputed_job: U256,
    ) -> Result<Report> {
        let after = self.balances(watched).await?;
        let accounts: Vec<AccountReport> = watched
            .iter()
            .zip(before.iter().zip(&after))
            .map(|(&(role, address), (&before, &after))| AccountReport {
                role,
                address,
                before,
                after,
                fees: self.fees.get(&address).copied().unwrap_or_default(),
            })
            .collect();
        let jobs = self.agency.jobs().await?;
        let outcomes = jobs.iter().filter_map(|(id, view)| view.outcome.map(|outcome| (*id, outcome))).collect();
        let mut credit_left = U256::ZERO;
        for account in &accounts {
            credit_left += self.agency.credit_of(account.address).await?;
        }
        let agency_balance = after.get(watched.len() - 2).copied().unwrap_or_default();
        let report = Report { deployment, happy_job, disputed_job, outcomes, accounts, agency_balance, credit_left };

        let say = &mut self.say;
        say("");
        let row = |role: &str, address: &str, change: &str, fees: &str, market: &str| {
            format!("  {role:<14} {address:<42}  {change:>14}  {fees:>10}  {market:>17}")
        };
        say("summary, in ETH:");
        say(&row("account", "address", "balance change", "gas paid", "change before gas"));
        for account in &report.accounts {
            say(&row(
                account.role,
                &account.address.to_checksum(None),
                &format_signed(account.change()),
                &format_eth(account.fees),
                &format_signed(account.market()),
            ));
        }
        for (name, id) in [("job 1", report.happy_job), ("job 2", report.disputed_job)] {
            let outcome = report.outcomes.get(&id).map_or_else(|| "still open".to_owned(), |o| format!("{o:?}"));
            say(&format!("  {name} ({}): {outcome}", short(id)));
        }
        let mark = |ok: bool| if ok { "ok" } else { "FAILED" };
        say(&format!("  agency balance: {} wei [{}]", report.agency_balance, mark(report.agency_balance.is_zero())));
        say(&format!(
            "  credit left in the agency: {} wei [{}]",
            report.credit_left,
            mark(report.credit_left.is_zero())
        ));
        say(&format!(
            "  ETH conserved: Σ balance changes + Σ gas fees = {} wei [{}]",
            report.imbalance(),
            mark(report.imbalance().is_zero())
        ));
        if !report.is_balanced() {
            return Err(Error::Unexpected("the money does not add up (see the summary)".to_owned()));
        }
        Ok(report)
    }

    fn tx(&mut self, actor: &Actor, action: &str, sent: &Sent, detail: &str) {
        *self.fees.entry(sent.from).or_default() += sent.fee;
        let tx = format!("tx {}  gas {:>7}", short_hash(sent.hash), thousands(sent.gas_used));
        self.line(actor, action, Some(&tx), detail);
    }

    fn line(&mut self, actor: &Actor, action: &str, tx: Option<&str>, detail: &str) {
        self.step += 1;
        let tx = tx.unwrap_or("");
        (self.say)(&format!("{:>2}. {:<10} {:<14} {:<30} {detail}", self.step, actor.role, action, tx));
    }
}

/// Whether a worker does the work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Honesty {
    /// Runs the job and submits its output.
    Honest,
    /// Submits a made-up output without running the job.
    MadeUp,
}

/// What a challenger must keep to reveal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Its result's CID.
    pub cid: Cid,
    /// The seal's salt.
    pub salt: B256,
}

fn expect_status(view: &JobView, status: Status) -> Result<()> {
    if view.status() != status {
        return Err(Error::Unexpected(format!("job {} is {:?}, expected {status:?}", short(view.id), view.status())));
    }
    Ok(())
}

fn submitted_cid(view: &JobView) -> Result<Cid> {
    let bytes =
        view.result_cid.as_deref().ok_or_else(|| Error::Unexpected(format!("job {} has no result", short(view.id))))?;
    Ok(Cid::from_bytes(bytes)?)
}

fn signed(value: U256) -> I256 {
    I256::from_raw(value)
}

fn format_signed(value: I256) -> String {
    let sign = if value.is_negative() {
        "-"
    } else if value.is_zero() {
        ""
    } else {
        "+"
    };
    format!("{sign}{}", format_eth(value.unsigned_abs()))
}

/// `0x1234abcd…` for a job id.
fn short(job_id: U256) -> String {
    format!("0x{}…", &alloy::hex::encode(job_id.to_be_bytes::<32>())[..8])
}

/// `0x1234…abcd` for a hash.
fn short_hash(hash: B256) -> String {
    let hex = alloy::hex::encode(hash);
    format!("0x{}…{}", &hex[..6], &hex[60..])
}

/// `163924` → `163,924`, as the demo prints gas (and the benchmark report, its tables).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn millis(duration: Duration) -> u128 {
    duration.as_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(33_743), "33,743");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(format_signed(I256::ZERO), "0");
        assert_eq!(format_signed(-signed(U256::from(ETHER / 10))), "-0.1");
        assert_eq!(short_hash(B256::repeat_byte(0xab)), "0xababab…abab");
    }
}
