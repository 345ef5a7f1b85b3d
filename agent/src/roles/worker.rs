//! `jsjob worker`: watches the agency and works jobs for pay.
//!
//! Each poll it reads the new confirmed events (undoing reorgs), then looks at the jobs they changed and at
//! its own jobs, then at the open jobs in its order while it has a free slot (a round costs what changed
//! and what the worker holds, not every job it knows), and takes the next step, as the database and the
//! chain together say:
//!
//! | chain says | database says | the worker |
//! |---|---|---|
//! | Open | nothing, or skipped and due | checks its [`Policy`], fetches code and input (verified by CID), claims |
//! | Open | claimed by this agent | the claim is gone (a reorg or an expiry): forgets it and starts over |
//! | Claimed by this agent | no output | runs the job, stores the output, records it, submits it |
//! | Claimed by this agent | an output | submits that output (it never submits anything it did not compute) |
//! | Submitted by this agent | — | after the window, finalizes, or starts the audit the draw selected |
//! | claimed by another | claimed by this agent | lost: its claim expired and another took the job |
//! | closed | working on it | records the payout and releases the bond |
//!
//! Up to `worker.max_jobs` jobs are worked at once, each in its own task; a job that fails (content
//! nobody serves, an engine error, a refused transaction) is noted in the database and skipped for a
//! while, and never stops the worker. Credit above `worker.withdraw_above_eth` is withdrawn.
//!
//! Workers do not all reach for the same open jobs: each looks at the jobs in its own order (by a hash of
//! its address and the job id, [`turn`]), so that two workers start on different jobs; and a job another
//! worker claimed while this one was fetching it is dropped before its claim is simulated.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    future::Future,
    sync::{Arc, RwLock},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    providers::Provider,
};
use tokio::task::JoinHandle;

use super::{Result, Session, WORKER_GAS, Watcher, seams::Engines, short};
use crate::{
    chain::{
        bindings::format_eth,
        job::{self, JobView, Status},
    },
    cid::Cid,
    state::{Action, LedgerEntry, Role, State, Step},
};

/// Which jobs the worker takes.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The engines it runs.
    pub engines: Engines,
    /// Least payment net of gas, in wei.
    pub min_profit: U256,
    /// Only these posters (any when empty).
    pub allow_posters: Vec<Address>,
    /// Never these posters.
    pub deny_posters: Vec<Address>,
    /// Only these arbiters.
    pub allow_arbiters: Vec<Address>,
    /// Never these arbiters.
    pub deny_arbiters: Vec<Address>,
    /// Seconds the worker needs to run a job and submit: its run limit plus a margin.
    pub needs_secs: u64,
}

impl Policy {
    /// From the session's configuration; the deployment's trusted arbiter and jury when no arbiter is
    /// allowed explicitly.
    pub fn of(session: &Session, engines: Engines) -> Result<Self> {
        let worker = &session.config.worker;
        let allow_arbiters = if worker.allow_arbiters.is_empty() {
            [Some(session.deployment.trusted_arbiter), session.deployment.jury_arbiter].into_iter().flatten().collect()
        } else {
            worker.allow_arbiters.clone()
        };
        Ok(Self {
            engines,
            min_profit: worker.min_profit()?,
            allow_posters: worker.allow_posters.clone(),
            deny_posters: worker.deny_posters.clone(),
            allow_arbiters,
            deny_arbiters: worker.deny_arbiters.clone(),
            needs_secs: worker.run_timeout_secs + worker.deadline_margin_secs,
        })
    }

    /// Why the worker does not take `view` at chain time `now` with gas at `gas_price` wei, if it does not.
    pub fn refuse(&self, view: &JobView, now: u64, gas_price: u128) -> Option<String> {
        let spec = &view.spec;
        if self.engines.find(spec.engine).is_none() {
            return Some(format!(
                "engine {} is not run here (this worker runs {})",
                super::seams::engine_name(spec.engine),
                self.engines.ids().join(", ")
            ));
        }
        let poster = view.record.poster;
        if self.deny_posters.contains(&poster)
            || !(self.allow_posters.is_empty() || self.allow_posters.contains(&poster))
        {
            return Some(format!("poster {poster} is not allowed"));
        }
        if self.deny_arbiters.contains(&spec.arbiter) || !self.allow_arbiters.contains(&spec.arbiter) {
            return Some(format!("arbiter {} is not trusted", spec.arbiter));
        }
        if view.record.claimDeadline.to::<u64>() <= now {
            return Some("the claim deadline has passed".into());
        }
        if u64::from(spec.executionTime) < self.needs_secs {
            return Some(format!(
                "the job allows {} s to run and submit; this worker needs {} s",
                spec.executionTime, self.needs_secs
            ));
        }
        let gas = U256::from(WORKER_GAS) * U256::from(gas_price);
        let payment = U256::from(spec.payment);
        if payment < gas + self.min_profit {
            return Some(format!(
                "payment {} ETH less gas {} ETH is under the minimum profit {} ETH",
                format_eth(payment),
                format_eth(gas),
                format_eth(self.min_profit)
            ));
        }
        None
    }
}

/// What the worker's tasks share.
struct Ctx {
    session: Arc<Session>,
    state: Arc<State>,
    engines: Engines,
    me: Address,
    max_input: u64,
    /// The jobs the last poll saw open.
    open: RwLock<HashSet<U256>>,
}

impl Ctx {
    /// Whether the last poll still saw job `id` open (another worker's claim shows there first).
    fn still_open(&self, id: U256) -> bool {
        self.open.read().unwrap_or_else(|poisoned| poisoned.into_inner()).contains(&id)
    }
}

/// The jobs a round looks at beyond those that changed, kept up to date from what each poll changed: a round
/// costs what changed and what the worker holds, not every job it knows.
#[derive(Debug, Default)]
struct Book {
    /// The open jobs, in this worker's order ([`turn`]).
    open: BTreeMap<B256, U256>,
    /// The jobs claimed by this worker and not closed.
    mine: BTreeSet<U256>,
}

impl Book {
    /// Files each job of `changed` as [`Watcher::jobs`] now has it (a job no longer there is dropped), and
    /// keeps `ctx`'s open set the same.
    fn update(&mut self, ctx: &Ctx, jobs: &BTreeMap<U256, JobView>, changed: &BTreeSet<U256>) {
        let mut open = ctx.open.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for &id in changed {
            let view = jobs.get(&id);
            let turn = turn(ctx.me, id);
            if view.is_some_and(|view| view.status() == Status::Open) {
                self.open.insert(turn, id);
                open.insert(id);
            } else {
                self.open.remove(&turn);
                open.remove(&id);
            }
            if view.is_some_and(|view| view.record.worker == ctx.me && view.outcome.is_none()) {
                self.mine.insert(id);
            } else {
                self.mine.remove(&id);
            }
        }
    }
}

/// Where job `id` comes in worker `me`'s order: a hash of both, so that each worker goes through the open
/// jobs in its own order and workers rarely race for one job.
pub fn turn(me: Address, id: U256) -> B256 {
    keccak256([me.as_slice(), &id.to_be_bytes::<32>()].concat())
}

/// Unix time now, for `retry_at`.
fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Seconds before a job the policy refused is looked at again (the gas price or the chain time may change).
const REFUSED_RETRY: u64 = 60;

/// Seconds before a job the account could not pay the bond and gas for is looked at again.
const UNFUNDED_RETRY: u64 = 15;

/// How long a job whose content could not be fetched waits before the next try: 2, 4, 8 … 60 s.
fn retry_delay(attempts: u32) -> u64 {
    2u64.saturating_pow(attempts.min(6)).min(60)
}

/// Runs the worker until `stop` resolves. A failed poll (the endpoint away, a reorg in progress) is
/// logged and retried at the next poll.
pub async fn run(session: Arc<Session>, stop: impl Future<Output = ()>) -> Result<()> {
    let state = Arc::new(session.open_state()?);
    let me = session.account()?;
    let engines = session.engines(super::WARM_POOL).await?;
    let policy = Policy::of(&session, engines.clone())?;
    let withdraw_above = session.config.worker.withdraw_above()?;
    let poll = Duration::from_millis(session.config.chain.poll_interval_ms);
    let max_jobs = session.config.worker.max_jobs;
    let max_input = session.config.worker.max_input_bytes;
    let ctx = Arc::new(Ctx { session, state, engines, me, max_input, open: RwLock::default() });
    tracing::info!(account = %me, agency = %ctx.session.deployment.job_agency, engines = ?ctx.engines, "worker started");
    let mut watcher = Watcher::new(ctx.session.source(), &ctx.state)?;
    let mut running: HashMap<U256, JoinHandle<()>> = HashMap::new();
    let mut book = Book::default();
    // The first round looks at every job the stored events give (a restart resumes them).
    let mut unseen: BTreeSet<U256> = watcher.jobs().keys().copied().collect();
    let mut credit = CreditCheck::default();
    tokio::pin!(stop);
    loop {
        let tasks =
            Tasks { running: &mut running, book: &mut book, unseen: &mut unseen, max_jobs, credit: &mut credit };
        if let Err(error) = tick(&ctx, &policy, &mut watcher, tasks, withdraw_above).await {
            tracing::warn!(%error, "poll failed; retrying");
        }
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(poll) => {}
        }
    }
    for (_, task) in running {
        task.abort();
    }
    tracing::info!("worker stopped");
    Ok(())
}

/// The worker's tasks: the jobs being worked, the jobs it looks at ([`Book`]), the jobs no round has
/// looked at yet, and when the credit was last read.
struct Tasks<'a> {
    running: &'a mut HashMap<U256, JoinHandle<()>>,
    book: &'a mut Book,
    unseen: &'a mut BTreeSet<U256>,
    max_jobs: usize,
    credit: &'a mut CreditCheck,
}

/// How often the worker reads its credit (to withdraw it above `worker.withdraw_above_eth`) at most.
const CREDIT_RECHECK: Duration = Duration::from_secs(10);

/// When the credit was last read, and whether a job closed since (credit grows only when a job closes).
#[derive(Debug)]
struct CreditCheck {
    last: Option<tokio::time::Instant>,
    closed_since: bool,
}

impl Default for CreditCheck {
    /// Read at the first round.
    fn default() -> Self {
        Self { last: None, closed_since: true }
    }
}

impl CreditCheck {
    /// Whether to read the credit now: a job closed since the last read, at most every [`CREDIT_RECHECK`].
    fn due(&self) -> bool {
        self.closed_since && self.last.is_none_or(|at| at.elapsed() >= CREDIT_RECHECK)
    }
}

async fn tick(
    ctx: &Arc<Ctx>,
    policy: &Policy,
    watcher: &mut Watcher,
    tasks: Tasks<'_>,
    withdraw_above: U256,
) -> Result<()> {
    let Tasks { running, book, unseen, max_jobs, credit } = tasks;
    // What a failed round had already read stays in `unseen` for the next one.
    watcher.sync(&ctx.session.provider, &ctx.state, unseen).await?;
    // The head the watcher just read gives the chain's time (no call of its own).
    let now = match watcher.chain_time() {
        Some(now) => now,
        None => ctx.session.chain_time().await?,
    };
    // The fees the worker's own transactions use (cached for all of them), so a round asks the node at most
    // once per `FEES_FRESH`.
    let gas_price = ctx.session.agency.max_fee_per_gas().await?;
    // Nothing below fails the round: a job that cannot be looked at is logged and looked at again next round.
    let changed = std::mem::take(unseen);
    let jobs = watcher.jobs();
    book.update(ctx, jobs, &changed);
    running.retain(|_, task| !task.is_finished());
    // What the account can still lock this round, read when the round first has a job to take.
    let mut funds = None;
    // First what changed and the worker's own jobs (nothing taken yet, so that jobs are taken in the worker's
    // order below), then the open jobs in that order while a slot is free.
    let mut first: Vec<(B256, U256)> = changed.iter().chain(&book.mine).map(|&id| (turn(ctx.me, id), id)).collect();
    first.sort_unstable();
    first.dedup();
    let mut closed_now = false;
    for (_, id) in first {
        let Some(view) = jobs.get(&id) else { continue };
        closed_now |= view.outcome.is_some() && changed.contains(&id);
        let budget = Budget { gas_price, free: false, funds: &mut funds };
        match look(ctx, policy, view, now, budget, running).await {
            Ok(true) => {}
            // A task still works on it: what changed is looked at once the task is done (a job that closed
            // meanwhile is no longer the worker's nor open, and would not be looked at again).
            Ok(false) => {
                unseen.insert(id);
            }
            Err(error) => {
                tracing::warn!(job = %short(id), %error, "cannot look at the job");
                unseen.insert(id);
            }
        }
    }
    for &id in book.open.values() {
        if running.len() >= max_jobs {
            break;
        }
        let Some(view) = jobs.get(&id) else { continue };
        let budget = Budget { gas_price, free: true, funds: &mut funds };
        if let Err(error) = look(ctx, policy, view, now, budget, running).await {
            tracing::warn!(job = %short(id), %error, "cannot look at the job");
        }
    }
    credit.closed_since |= closed_now;
    if credit.due() {
        ctx.session.withdraw_above(Some(&ctx.state), withdraw_above).await?;
        *credit = CreditCheck { last: Some(tokio::time::Instant::now()), closed_since: false };
    }
    Ok(())
}

/// Takes the worker's next step on `view` in a task of its own, unless one is already running for it (then
/// `false`).
async fn look(
    ctx: &Arc<Ctx>,
    policy: &Policy,
    view: &JobView,
    now: u64,
    budget: Budget<'_>,
    running: &mut HashMap<U256, JoinHandle<()>>,
) -> Result<bool> {
    let id = view.id;
    if running.contains_key(&id) {
        return Ok(false);
    }
    let action = next(ctx, policy, view, now, budget).await?;
    let (ctx, view) = (Arc::clone(ctx), view.clone());
    let task = match action {
        Next::Nothing => return Ok(true),
        Next::Take => tokio::spawn(async move { report(id, take(&ctx, view).await) }),
        Next::Complete => tokio::spawn(async move { report(id, complete(&ctx, view, None).await) }),
        Next::Finalize => tokio::spawn(async move { report(id, finalize(&ctx, view).await) }),
    };
    running.insert(id, task);
    Ok(true)
}

fn report(id: U256, result: Result<()>) {
    if let Err(error) = result {
        tracing::warn!(job = %short(id), %error, "job step failed");
    }
}

/// The worker's next step on a job.
enum Next {
    Nothing,
    Take,
    Complete,
    Finalize,
}

/// What a round of the worker can spend on new jobs.
struct Budget<'a> {
    /// The gas price (wei) jobs are priced at.
    gas_price: u128,
    /// Whether a slot is free for one more job.
    free: bool,
    /// The account's balance less what the round's earlier takes will lock (`None`: not read yet this round;
    /// a round with nothing to take never reads it).
    funds: &'a mut Option<U256>,
}

async fn next(ctx: &Ctx, policy: &Policy, view: &JobView, now: u64, budget: Budget<'_>) -> Result<Next> {
    let Budget { gas_price, free, funds } = budget;
    let id = view.id;
    let entry = ctx.state.job(id)?;
    let mine = view.record.worker == ctx.me;
    if let Some(outcome) = view.outcome {
        super::record_close(&ctx.state, view, outcome, Role::Worker, ctx.me)?;
        return Ok(Next::Nothing);
    }
    if entry.as_ref().is_some_and(|e| e.intent.is_some()) {
        // A transaction for this job may be in flight, or was when the agent stopped: only once none is
        // do the events tell whether it happened.
        if !ctx.session.settle_pending(Duration::ZERO).await? {
            return Ok(Next::Nothing);
        }
        ctx.state.update_deferred(id, |e| e.intent = None)?;
    }
    let entry = entry.unwrap_or_default();
    let worked = entry.role == Role::Worker;
    let holds_claim = worked && matches!(entry.step, Step::Claimed | Step::Computed | Step::Submitted);
    match view.status() {
        Status::Open => {
            if holds_claim {
                tracing::warn!(job = %short(id), "our claim is gone (a reorg, or it expired): starting over");
                ctx.state.update_deferred(id, |e| {
                    *e = Default::default();
                    e.note = Some("the claim is gone (a reorg, or it expired)".into());
                })?;
            } else if entry.step == Step::Skipped && unix_now() < entry.retry_at {
                return Ok(Next::Nothing);
            }
            // Refusals do not wait for a free slot, so a job the worker will never take is noted at once.
            if let Some(reason) = policy.refuse(view, now, gas_price) {
                decline(ctx, id, &reason)?;
                return Ok(Next::Nothing);
            }
            if !free {
                return Ok(Next::Nothing);
            }
            // Each job taken locks its bond and its gas up front. A claim the account cannot pay for would
            // fail at every poll: note it every `UNFUNDED_RETRY` instead, and take the job soon after the
            // account is funded.
            let cost = U256::from(view.record.workerBond) + U256::from(WORKER_GAS) * U256::from(gas_price);
            let available = match *funds {
                Some(funds) => funds,
                None => ctx
                    .session
                    .provider
                    .get_balance(ctx.me)
                    .await
                    .map_err(crate::chain::Error::rpc("eth_getBalance"))?,
            };
            if available < cost {
                *funds = Some(available);
                let reason = format!(
                    "the account holds {} ETH, less than the bond and gas this job needs ({} ETH): fund it",
                    format_eth(available),
                    format_eth(cost)
                );
                skip(ctx, id, &reason, Some(UNFUNDED_RETRY))?;
                return Ok(Next::Nothing);
            }
            *funds = Some(available - cost);
            Ok(Next::Take)
        }
        Status::Claimed if mine => {
            // A run that failed (or content that was away) is not retried before its time.
            if unix_now() < entry.retry_at {
                return Ok(Next::Nothing);
            }
            if !holds_claim {
                // The claim was mined but the agent stopped before recording it: record it and its bond.
                let bond = U256::from(view.record.workerBond);
                let locked = LedgerEntry { kind: "bond".into(), job: Some(id), amount: bond, tx: None };
                ctx.state.update_and_record(
                    id,
                    |e| {
                        e.role = Role::Worker;
                        e.step = Step::Claimed;
                        e.bond = bond;
                    },
                    Some(&locked),
                )?;
            }
            Ok(Next::Complete)
        }
        Status::Submitted if mine => {
            if entry.step != Step::Submitted {
                ctx.state.update_deferred(id, |e| {
                    e.role = Role::Worker;
                    e.step = Step::Submitted;
                    e.bond = U256::from(view.record.workerBond);
                })?;
            }
            Ok(if now > view.record.deadline.to::<u64>() { Next::Finalize } else { Next::Nothing })
        }
        _ if holds_claim && !mine => {
            tracing::warn!(job = %short(id), "lost the job: our claim expired and the bond went to the poster");
            ctx.state.update_deferred(id, |e| {
                e.step = Step::Lost;
                e.bond = U256::ZERO;
                e.note = Some("the claim expired; the bond was forfeited".into());
            })?;
            Ok(Next::Nothing)
        }
        _ => Ok(Next::Nothing),
    }
}

/// Notes a problem on the job and skips it for a while (`retry_in` seconds; `None`: until restarted).
fn skip(ctx: &Ctx, id: U256, problem: &dyn std::fmt::Display, retry_in: Option<u64>) -> Result<()> {
    tracing::warn!(job = %short(id), %problem, "skipping the job for now");
    set_aside(ctx, id, problem, retry_in)
}

/// Notes why the worker's own policy refuses the job, and looks at it again in [`REFUSED_RETRY`] seconds. A
/// choice, not a problem: logged at info.
fn decline(ctx: &Ctx, id: U256, reason: &dyn std::fmt::Display) -> Result<()> {
    tracing::info!(job = %short(id), %reason, "not taking the job (the worker's policy)");
    set_aside(ctx, id, reason, Some(REFUSED_RETRY))
}

/// Marks the job skipped with `note`, until `retry_in` seconds from now (`None`: until restarted).
fn set_aside(ctx: &Ctx, id: U256, note: &dyn std::fmt::Display, retry_in: Option<u64>) -> Result<()> {
    ctx.state.update_deferred(id, |e| {
        if !matches!(e.step, Step::Claimed | Step::Computed) {
            e.step = Step::Skipped;
        }
        e.note = Some(note.to_string());
        e.attempts += 1;
        e.retry_at = retry_in.map_or(u64::MAX, |secs| unix_now() + secs);
    })?;
    Ok(())
}

/// Fetches the job's content (verified by CID) and claims it; then completes it.
async fn take(ctx: &Ctx, view: JobView) -> Result<()> {
    let id = view.id;
    // Fetch before claiming: no bond is risked on content nobody serves.
    let fetched = match ctx.session.fetch(&view, ctx.max_input).await {
        Ok(fetched) => fetched,
        Err(error) => {
            let attempts = ctx.state.job(id)?.map_or(0, |e| e.attempts);
            return skip(ctx, id, &error, Some(retry_delay(attempts)));
        }
    };
    if !ctx.still_open(id) {
        tracing::debug!(job = %short(id), "claimed by another worker meanwhile; dropped");
        return Ok(());
    }
    ctx.state.update(id, |e| {
        e.role = Role::Worker;
        e.intent = Some(Action::Claim);
    })?;
    let sent = match ctx.session.agency.claim(ctx.me, id, &view.record).await {
        Ok(sent) => sent,
        Err(error) if error.revert().is_some() => {
            // Another worker was first (StaleRecord / WrongStatus), or the job's terms refuse us.
            tracing::info!(job = %short(id), %error, "claim refused");
            ctx.state.update_deferred(id, |e| {
                e.intent = None;
                e.step = Step::Lost;
                e.note = Some(error.to_string());
            })?;
            return Ok(());
        }
        // Anything else leaves the intent: the next poll settles it against the chain.
        Err(error) => return Err(error.into()),
    };
    let bond = U256::from(view.record.workerBond);
    let locked = LedgerEntry { kind: "bond".into(), job: Some(id), amount: bond, tx: Some(sent.hash) };
    ctx.state.update_and_record(
        id,
        |e| {
            e.intent = None;
            e.step = Step::Claimed;
            e.bond = bond;
            e.note = None;
        },
        Some(&locked),
    )?;
    tracing::info!(job = %short(id), bond = %format_eth(bond), tx = %sent.hash, "claimed");
    let mut jobs = BTreeMap::from([(id, view)]);
    for event in &sent.events {
        job::apply(&mut jobs, event).map_err(crate::chain::Error::from)?;
    }
    let Some(claimed) = jobs.remove(&id) else { return Ok(()) };
    complete(ctx, claimed, Some(fetched)).await
}

/// Runs the claimed job (unless this agent already computed its output) and submits the output.
async fn complete(ctx: &Ctx, view: JobView, fetched: Option<(Vec<u8>, Vec<u8>)>) -> Result<()> {
    let id = view.id;
    let entry = ctx.state.job(id)?.unwrap_or_default();
    let cid = match entry.output.as_deref().map(str::parse::<Cid>).transpose()? {
        Some(cid) => cid,
        None => {
            let (code, input) = match fetched {
                Some(fetched) => fetched,
                None => match ctx.session.fetch(&view, ctx.max_input).await {
                    Ok(fetched) => fetched,
                    Err(error) => return skip(ctx, id, &error, Some(retry_delay(entry.attempts))),
                },
            };
            match ctx.session.execute(&ctx.engines, &view, &code, &input).await {
                Ok(cid) => cid,
                // The job itself failed: there is no right output to submit. The claim will expire.
                Err(error) => return skip(ctx, id, &format!("the run failed: {error}"), None),
            }
        }
    };
    // The output and the submit's write-ahead intent, in one durable commit.
    ctx.state.update(id, |e| {
        e.step = Step::Computed;
        e.output = Some(cid.to_string());
        e.intent = Some(Action::Submit);
    })?;
    match ctx.session.agency.submit(ctx.me, id, &view.record, cid.as_bytes()).await {
        Ok(sent) => {
            ctx.state.update_deferred(id, |e| {
                e.intent = None;
                e.step = Step::Submitted;
            })?;
            tracing::info!(job = %short(id), result = %cid, tx = %sent.hash, "submitted");
            Ok(())
        }
        Err(error) if error.revert().is_some() => {
            ctx.state.update_deferred(id, |e| {
                e.intent = None;
                e.note = Some(error.to_string());
            })?;
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Pays out the unchallenged result after its window.
async fn finalize(ctx: &Ctx, view: JobView) -> Result<()> {
    let id = view.id;
    ctx.state.update(id, |e| e.intent = Some(Action::Finalize))?;
    let result = match ctx.session.agency.finalize(ctx.me, id, &view.record).await {
        // The random audit draw selected the job (or its block hash aged out): it cannot be finalized, only
        // audited. Moving it to Audited lets its arbiter rule; the job then closes with the audit's outcome.
        Err(error) if error.revert().is_some_and(|revert| revert.name() == "JobAgency_AuditSelected") => {
            let sent = ctx.session.agency.draw_audit(ctx.me, id, &view.record).await;
            if let Ok(sent) = &sent {
                tracing::info!(job = %short(id), tx = %sent.hash, "selected for a random audit");
            }
            sent.map(|_| ())
        }
        Ok(sent) => {
            tracing::info!(job = %short(id), tx = %sent.hash, "finalized");
            Ok(())
        }
        Err(error) => Err(error),
    };
    ctx.state.update_deferred(id, |e| e.intent = None)?;
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{
        B256, Bytes,
        aliases::{U40, U96},
    };

    use super::*;
    use crate::{
        chain::job::{JobSpec, initial_record},
        exec::{self, JobInput, Output},
        roles::seams::{BoxFuture, Runner},
    };

    /// An engine that only has a name: the policy never runs anything.
    struct Named;

    impl Runner for Named {
        fn id(&self) -> &str {
            "v8/deno-2.9.6"
        }

        fn run<'a>(&'a self, _job: JobInput<'a>) -> BoxFuture<'a, exec::Result<Output>> {
            Box::pin(async { Err(exec::Error::Version("not an engine".into())) })
        }
    }

    const ARBITER: Address = Address::repeat_byte(0xa1);
    const POSTER: Address = Address::repeat_byte(0xb0);
    const GWEI: u128 = 1_000_000_000;

    fn policy() -> Policy {
        Policy {
            engines: Engines::default().with(Arc::new(Named)),
            min_profit: U256::from(10u64.pow(15)),
            allow_posters: Vec::new(),
            deny_posters: Vec::new(),
            allow_arbiters: vec![ARBITER],
            deny_arbiters: Vec::new(),
            needs_secs: 15,
        }
    }

    fn job(change: impl FnOnce(&mut JobSpec)) -> JobView {
        let mut spec = JobSpec {
            codeCid: Bytes::new(),
            inputCid: Bytes::new(),
            options: Bytes::new(),
            engine: B256::right_padding_from(b"v8/deno-2.9.6"),
            payment: U96::from(10u64.pow(16)),
            workerBond: U96::from(1u64),
            challengeBond: U96::from(1u64),
            arbiterFee: U96::ZERO,
            auditFee: U96::ZERO,
            claimDeadline: U40::from(1_000u64),
            executionTime: 60,
            challengeWindow: 60,
            disputeWindow: 60,
            minReputation: 0,
            arbiter: ARBITER,
        };
        change(&mut spec);
        JobView {
            id: U256::from(1),
            record: initial_record(POSTER, &spec),
            spec,
            result_cid: None,
            challenge_cid: None,
            outcome: None,
        }
    }

    #[test]
    fn workers_go_through_the_jobs_in_different_orders() {
        let order = |me: Address| {
            let mut ids: Vec<u64> = (0..8).collect();
            ids.sort_by_key(|&id| turn(me, U256::from(id)));
            ids
        };
        let (a, b) = (order(Address::repeat_byte(1)), order(Address::repeat_byte(2)));
        assert_eq!(a, order(Address::repeat_byte(1)), "one worker's order is stable");
        assert_ne!(a, b, "two workers' orders differ");
        assert_ne!(a[0], b[0], "and here they start on different jobs");
    }

    #[test]
    fn takes_a_job_it_can_run_for_profit_in_time() {
        assert_eq!(policy().refuse(&job(|_| {}), 500, GWEI), None);
    }

    #[test]
    fn refuses_each_kind_of_job_it_should_not_take() {
        let refuse =
            |view: JobView, now: u64, gas_price: u128| policy().refuse(&view, now, gas_price).unwrap_or_default();
        let other_engine = job(|spec| spec.engine = B256::right_padding_from(b"quickjs/0.10.1"));
        assert!(refuse(other_engine, 500, GWEI).contains("engine quickjs/0.10.1 is not run here"));
        let unknown_arbiter = job(|spec| spec.arbiter = Address::repeat_byte(0xee));
        assert!(refuse(unknown_arbiter, 500, GWEI).contains("is not trusted"));
        assert!(refuse(job(|_| {}), 1_000, GWEI).contains("claim deadline has passed"));
        let hurried = job(|spec| spec.executionTime = 10);
        assert!(refuse(hurried, 500, GWEI).contains("this worker needs 15 s"));
        // A 0.01 ETH payment less 200 000 gas at 45 gwei (0.009 ETH) leaves exactly the 0.001 ETH minimum
        // profit; at 46 gwei it does not.
        assert_eq!(policy().refuse(&job(|_| {}), 500, 45 * GWEI), None);
        assert!(refuse(job(|_| {}), 500, 46 * GWEI).contains("under the minimum profit"));
        let mut denied = policy();
        denied.deny_posters.push(POSTER);
        assert!(denied.refuse(&job(|_| {}), 500, GWEI).unwrap_or_default().contains("is not allowed"));
    }
}
