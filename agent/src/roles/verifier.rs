//! `jsjob verify`: re-runs submitted jobs and challenges wrong results.
//!
//! For each job another worker submitted, the verifier draws whether to check it (`verify.sample`, drawn
//! from its own signature over the job id: unpredictable to anyone else, the same after a restart),
//! re-runs it in the engine build the job names, and compares output CIDs. On a mismatch it challenges
//! with a seal over its own result and a salt derived from its signature (so a crash between challenge
//! and reveal loses nothing: the salt and the output are in the database before the challenge is sent,
//! and could be derived again), then reveals. The arbiter rules; the verifier records its payout and
//! releases its bond when the job closes, and withdraws its credit above `worker.withdraw_above_eth`.
//!
//! Jury duty ([`juror`]): a disputed job whose arbiter is the deployment's `JuryArbiter` is kept moving
//! (open, draw, settle) by its challenger and by every verifier serving as a juror (`verify.juror`,
//! `--juror`), and a juror drawn for it re-runs the job, commits, and reveals. Audit duty, the same
//! verifiers: a submitted job of the jury whose audit draw selects it is moved to Audited (`drawAudit`),
//! and its audit runs as a dispute without a challenger.

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    sync::Arc,
    time::Duration,
};

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    signers::{SignerSync, local::PrivateKeySigner},
};

use tokio::{sync::Semaphore, task::JoinHandle};

use super::{Result, Session, Watcher, seams::Engines, short};
use crate::{
    chain::{
        job::{self, JobView, Status},
        jury::Jury,
    },
    cid::Cid,
    state::{Action, LedgerEntry, Role, State, Step},
};

pub mod juror;

/// The verifier's loop state.
pub struct Verifier {
    session: Arc<Session>,
    state: State,
    engines: Engines,
    signer: PrivateKeySigner,
    me: Address,
    sample: f64,
    /// The deployment's jury, if it has one.
    jury: Option<Jury>,
    /// Whether this verifier serves on the jury.
    juror: bool,
    /// One permit per re-run allowed at once (`verify.max_jobs`).
    reruns: Arc<Semaphore>,
}

impl Verifier {
    /// A verifier for the session's key.
    pub async fn new(session: Arc<Session>) -> Result<Self> {
        let state = session.open_state()?;
        let engines = session.engines(super::WARM_POOL).await?;
        let signer = session.signer.clone().ok_or_else(|| super::Error::Usage("verify needs a key".into()))?;
        let me = signer.address();
        let sample = session.config.verify.sample;
        let juror = session.config.verify.juror;
        let jury = if juror { Some(session.jury()?) } else { session.jury().ok() };
        let reruns = Arc::new(Semaphore::new(session.config.verify.max_jobs(&session.config.worker)));
        Ok(Self { session, state, engines, signer, me, sample, jury, juror, reruns })
    }

    /// Runs until `stop` resolves; a failed poll is logged and retried.
    pub async fn run(self, stop: impl Future<Output = ()>) -> Result<()> {
        let this = Arc::new(self);
        let mut watcher = Watcher::new(this.session.source(), &this.state)?;
        let withdraw_above = this.session.config.worker.withdraw_above()?;
        let mut running: HashMap<U256, JoinHandle<()>> = HashMap::new();
        let poll = Duration::from_millis(this.session.config.chain.poll_interval_ms);
        tokio::pin!(stop);
        // Poll `stop` once before anything else, so that the signal handler it installs is in place from now.
        tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            () = std::future::ready(()) => {}
        }
        if this.juror {
            this.join_jury().await?;
        }
        tracing::info!(account = %this.me, sample = this.sample, juror = this.juror, "verifier started");
        loop {
            if let Err(error) = this.tick(&mut watcher, &mut running, withdraw_above).await {
                tracing::warn!(%error, "poll failed; retrying");
            }
            tokio::select! {
                () = &mut stop => break,
                () = tokio::time::sleep(poll) => {}
            }
        }
        // Every step is safe to cut short: its intent is in the database and resumed at the next start.
        for (_, task) in running {
            task.abort();
        }
        Ok(())
    }

    /// Reads new events, then takes each job's next step in a task of its own (one per job at a time; the
    /// re-runs among them bounded by `verify.max_jobs`), so that a slow or failing job holds up no other.
    async fn tick(
        self: &Arc<Self>,
        watcher: &mut Watcher,
        running: &mut HashMap<U256, JoinHandle<()>>,
        withdraw_above: U256,
    ) -> Result<()> {
        // Every job is looked at each round: what changed is not needed.
        watcher.sync(&self.session.provider, &self.state, &mut Default::default()).await?;
        running.retain(|_, task| !task.is_finished());
        let jobs: BTreeMap<U256, JobView> = watcher.jobs().clone();
        for view in jobs.into_values() {
            let id = view.id;
            if let Some(outcome) = view.outcome {
                // Closed: only the database is touched, no task needed.
                super::record_close(&self.state, &view, outcome, Role::Verifier, self.me)?;
                self.record_jury_pay(id).await?;
                continue;
            }
            if running.contains_key(&id) {
                continue;
            }
            let this = Arc::clone(self);
            let task = tokio::spawn(async move {
                if let Err(error) = this.step(view).await {
                    tracing::warn!(job = %short(id), %error, "verification step failed");
                }
            });
            running.insert(id, task);
        }
        self.session.withdraw_above(Some(&self.state), withdraw_above).await?;
        if self.juror {
            self.withdraw_jury_credit(withdraw_above).await?;
        }
        Ok(())
    }

    async fn step(&self, view: JobView) -> Result<()> {
        let id = view.id;
        let entry = self.state.job(id)?;
        if entry.as_ref().is_some_and(|e| e.intent.is_some()) {
            if !self.session.settle_pending(Duration::ZERO).await? {
                return Ok(());
            }
            self.state.update(id, |e| e.intent = None)?;
        }
        let entry = entry.unwrap_or_default();
        // The deployment's jury, when it judges this job.
        let jury = self.jury.as_ref().filter(|jury| view.record.arbiter == jury.address());
        match view.status() {
            Status::Submitted => {
                if let Some(jury) = jury
                    && self.juror
                    && view.record.auditBlock != 0
                    && self.draw_audit(jury, &view).await?
                {
                    return Ok(());
                }
                if view.record.worker == self.me || entry.role != Role::None || entry.step != Step::Seen {
                    return Ok(());
                }
                if !self.sampled(id) {
                    tracing::info!(job = %short(id), sample = self.sample, "not drawn for verification");
                    self.state.update(id, |e| {
                        e.step = Step::Skipped;
                        e.note = Some("not drawn for verification".into());
                    })?;
                    return Ok(());
                }
                self.check(view).await
            }
            Status::Challenged if view.record.challenger == self.me && entry.step != Step::Revealed => {
                self.reveal(&view).await
            }
            Status::Disputed | Status::Audited => match jury {
                Some(jury) => self.jury_step(jury, &view).await,
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// Whether this verifier checks job `id`: drawn from its own signature, so nobody else can predict it.
    fn sampled(&self, id: U256) -> bool {
        if self.sample >= 1.0 {
            return true;
        }
        let message =
            [b"jsjob sample".as_slice(), self.session.deployment.job_agency.as_slice(), &id.to_be_bytes::<32>()]
                .concat();
        let Ok(signature) = self.signer.sign_message_sync(&message) else { return false };
        let draw = keccak256(signature.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&draw[..8]);
        (u64::from_be_bytes(first) as f64) < self.sample * (u64::MAX as f64)
    }

    /// Re-runs a submitted job; challenges and reveals when its output differs.
    async fn check(&self, view: JobView) -> Result<()> {
        let id = view.id;
        let Some(submitted) = view.result_cid.as_deref().map(|bytes| Cid::from_bytes(bytes)).transpose()? else {
            return Ok(());
        };
        let own = match self.rerun(&view).await {
            Ok(cid) => cid,
            Err(error) => {
                tracing::warn!(job = %short(id), %error, "cannot re-run the job");
                self.state.update(id, |e| {
                    e.step = Step::Skipped;
                    e.note = Some(error.to_string());
                })?;
                return Ok(());
            }
        };
        if own == submitted {
            tracing::info!(job = %short(id), result = %own, "the submitted result is right");
            self.state.update(id, |e| {
                e.role = Role::Verifier;
                e.step = Step::Agreed;
                e.output = Some(own.to_string());
            })?;
            return Ok(());
        }
        let salt = challenge_salt(&self.signer, self.session.deployment.job_agency, id, &own)?;
        let seal = job::seal(id, self.me, own.as_bytes(), salt);
        // Output and salt are written before the challenge is sent: the reveal never depends on memory.
        self.state.update(id, |e| {
            e.role = Role::Verifier;
            e.output = Some(own.to_string());
            e.salt = Some(salt);
            e.intent = Some(Action::Challenge);
        })?;
        tracing::warn!(job = %short(id), submitted = %submitted, computed = %own, "wrong result: challenging");
        let sent = self.session.agency.challenge(self.me, id, &view.record, seal).await;
        let sent = match sent {
            Ok(sent) => sent,
            Err(error) => {
                self.state.update(id, |e| {
                    e.intent = None;
                    e.note = Some(error.to_string());
                })?;
                return Err(error.into());
            }
        };
        let bond = U256::from(view.record.challengeBond);
        let locked = LedgerEntry { kind: "bond".into(), job: Some(id), amount: bond, tx: Some(sent.hash) };
        self.state.update_and_record(
            id,
            |e| {
                e.intent = None;
                e.step = Step::Challenged;
                e.bond = bond;
            },
            Some(&locked),
        )?;
        let mut jobs = BTreeMap::from([(id, view)]);
        for event in &sent.events {
            job::apply(&mut jobs, event).map_err(crate::chain::Error::from)?;
        }
        match jobs.remove(&id) {
            Some(challenged) => self.reveal(&challenged).await,
            None => Ok(()),
        }
    }

    /// Fetches a job's code and input and runs it: the output's CID.
    /// Waits for one of the `verify.max_jobs` re-run permits.
    async fn rerun(&self, view: &JobView) -> Result<Cid> {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.reruns.acquire().await.map_err(|e| super::Error::Inconsistent(e.to_string()))?;
        tracing::debug!(job = %short(view.id), "re-run started");
        let ran = async {
            let (code, input) = self.session.fetch(view, self.session.config.worker.max_input_bytes).await?;
            self.session.execute(&self.engines, view, &code, &input).await
        }
        .await;
        tracing::debug!(job = %short(view.id), "re-run finished");
        ran
    }

    /// Opens the seal with the output and salt recorded before the challenge.
    async fn reveal(&self, view: &JobView) -> Result<()> {
        let id = view.id;
        let entry = self.state.job(id)?.unwrap_or_default();
        let (Some(output), Some(salt)) = (entry.output.as_deref(), entry.salt) else {
            return Err(super::Error::Inconsistent(format!(
                "job {}: challenged, but no output and salt recorded",
                short(id)
            )));
        };
        let cid: Cid = output.parse()?;
        self.state.update(id, |e| {
            e.role = Role::Verifier;
            e.step = Step::Challenged;
            e.bond = U256::from(view.record.challengeBond);
            e.intent = Some(Action::Reveal);
        })?;
        let sent = self.session.agency.reveal(self.me, id, &view.record, cid.as_bytes(), salt).await;
        self.state.update(id, |e| e.intent = None)?;
        let sent = sent?;
        self.state.update(id, |e| e.step = Step::Revealed)?;
        tracing::info!(job = %short(id), result = %cid, tx = %sent.hash, "revealed; the arbiter rules next");
        Ok(())
    }
}

/// The challenge salt: a hash of the verifier's signature over the agency, the job and its result.
/// Secret until revealed (nobody else can sign), and the same every time.
pub fn challenge_salt(signer: &PrivateKeySigner, agency: Address, id: U256, cid: &Cid) -> Result<B256> {
    secret_salt(signer, b"jsjob challenge salt", agency, id, cid.as_bytes())
}

/// A salt only `signer` can make: a hash of its signature over `label`, the contract, the job and `detail`.
fn secret_salt(signer: &PrivateKeySigner, label: &[u8], contract: Address, id: U256, detail: &[u8]) -> Result<B256> {
    let message = [label, contract.as_slice(), &id.to_be_bytes::<32>(), detail].concat();
    let signature = signer.sign_message_sync(&message)?;
    Ok(keccak256(signature.as_bytes()))
}
