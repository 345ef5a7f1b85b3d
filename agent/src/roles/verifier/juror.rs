//! The verifier's jury and audit duties: staking in the deployment's `JuryArbiter`, keeping its disputes
//! and audits moving, and sitting on a jury (or an audit's panel) when drawn.
//!
//! - **Joining** (`--juror`): at start the verifier reads its standing (`verifierOf`); it registers with
//!   `stake()` only when it has no stake at all, so a restart never stakes twice, and a verifier that left
//!   is told to unstake (`jsjob verify --leave`) instead of being re-registered.
//! - **Keeping a dispute moving**: for a Disputed job naming the jury, its challenger and every juror agent
//!   call whichever permissionless step is due: `openDispute`, `draw` (once the draw block is past),
//!   `settle` (once every juror revealed, the reveal deadline passed, or the agency's dispute window ended).
//!   Two agents may race for the same step; the loser's simulation fails by name and is only logged.
//! - **Sitting**: a verifier in `jurorsOf(job)` re-runs the job, records its output and salt in the state
//!   database, then commits `commitmentOf(job, juror, output, salt)`; once every juror committed (or the
//!   commit period is over) it reveals the recorded output and salt. The salt is derived from the agent's
//!   signature and written before the commit is sent, so a juror killed between commit and reveal reveals
//!   after a restart; a step that already happened before a crash is recognised by the jury refusing it
//!   with `JuryArbiter_NotYourTurn` (the agent is a juror of the round, so its seat has moved on), and a
//!   commit past the commit deadline (which the jury refuses as too late) by its `Committed` event.
//! - **Auditing**: a submitted job of the jury with an audit draw pending (`auditBlock`) is looked at each poll
//!   by every juror agent: once the agency's `auditSelected` says the draw selects it, one of them calls
//!   `drawAudit` (the job becomes Audited), then `openAudit`, and the audit runs as a dispute without a
//!   challenger (a result equal to the worker's votes for it, any other `Neither`): the same draw, commit,
//!   reveal and settle as above. A lazy worker's made-up result fails the audit and loses its bond.
//! - **Paid**: rewards are credited by the jury; the verifier withdraws them above
//!   `worker.withdraw_above_eth`.
//! - **Leaving**: `jsjob verify --leave` leaves the pool; run again after the cooldown, it unstakes and
//!   withdraws.

use std::{future::Future, time::Duration};

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};

use super::{Verifier, secret_salt};
use crate::{
    chain::{
        self, Sent,
        bindings::format_eth,
        job::{JobView, Status},
        jury::{self, Dispute, Jury, Phase},
    },
    cid::Cid,
    roles::{Error, Result, Session, short},
    state::{Action, LedgerEntry, Seat, SeatStep},
};

/// The revert a jury step that already happened answers with.
const ALREADY_DONE: &str = "JuryArbiter_NotYourTurn";

impl Verifier {
    fn jury_or_usage(&self) -> Result<&Jury> {
        self.jury.as_ref().ok_or_else(|| Error::Usage("the deployment has no jury".into()))
    }

    /// Joins the jury's pool unless this account already has a stake in it.
    pub(super) async fn join_jury(&self) -> Result<()> {
        let jury = self.jury_or_usage()?;
        // A `register` sent before a crash may still be in flight: its outcome decides what to do.
        self.session.settle_pending(Duration::from_secs(30)).await?;
        let standing = jury.verifier_of(self.me).await?;
        let staked = self.state.ledger()?.iter().rev().find(|e| e.kind == "stake" || e.kind == "unstake").cloned();
        if standing.poolIndex != 0 {
            if staked.is_none_or(|e| e.kind != "stake") {
                // Registered before a crash, between the receipt and recording it.
                let amount = U256::from(standing.stake);
                self.state.record(&LedgerEntry { kind: "stake".into(), job: None, amount, tx: None })?;
            }
            tracing::info!(jury = %jury.address(), stake = %format_eth(U256::from(standing.stake)), "in the jury pool");
            return Ok(());
        }
        if standing.stake != 0 {
            tracing::warn!(
                jury = %jury.address(),
                unstake_at = standing.unstakeAt.to::<u64>(),
                "this account left the jury pool and is not drawn; `jsjob verify --leave` unstakes after the cooldown"
            );
            return Ok(());
        }
        let stake = jury.stake().await?;
        let balance = self.session.provider.get_balance(self.me).await.map_err(chain::Error::rpc("eth_getBalance"))?;
        if balance < stake {
            return Err(Error::InsufficientFunds {
                account: self.me,
                balance: format_eth(balance),
                needed: format_eth(stake),
                what: "the jury's stake".into(),
            });
        }
        let sent = jury.register(self.me, stake).await?;
        self.state.record(&LedgerEntry { kind: "stake".into(), job: None, amount: stake, tx: Some(sent.hash) })?;
        tracing::info!(jury = %jury.address(), stake = %format_eth(stake), tx = %sent.hash, "joined the jury pool");
        Ok(())
    }

    /// Withdraws the jury credit (rewards, unstaked stake) when it is above `threshold`.
    pub(super) async fn withdraw_jury_credit(&self, threshold: U256) -> Result<()> {
        let jury = self.jury_or_usage()?;
        let credit = jury.credit_of(self.me).await?;
        if credit.is_zero() || credit <= threshold {
            return Ok(());
        }
        let (amount, sent) = jury.withdraw(self.me).await?;
        self.state.record(&LedgerEntry { kind: "jury-withdraw".into(), job: None, amount, tx: Some(sent.hash) })?;
        tracing::info!(amount = %format_eth(amount), tx = %sent.hash, "withdrew jury credit");
        Ok(())
    }

    /// The next jury step of a Disputed job naming the jury.
    pub(super) async fn jury_step(&self, jury: &Jury, view: &JobView) -> Result<()> {
        let id = view.id;
        if !self.juror && view.record.challenger != self.me {
            return Ok(());
        }
        let dispute = jury.dispute_of(id).await?;
        let now = self.session.chain_time().await?;
        let rule_deadline_passed = now > view.record.deadline.to::<u64>();
        match Phase::of(&dispute) {
            Phase::None if view.status() == Status::Audited => {
                self.move_on(id, "openAudit", jury.open_audit(self.me, id, &view.record)).await
            }
            Phase::None => self.move_on(id, "openDispute", jury.open_dispute(self.me, id, &view.record)).await,
            Phase::Drawing if rule_deadline_passed => {
                self.move_on(id, "settle", jury.settle(self.me, id, &view.record)).await
            }
            Phase::Drawing => {
                if self.head().await? <= dispute.drawBlock.to::<u64>() {
                    return Ok(());
                }
                self.move_on(id, "draw", jury.draw(self.me, id, &view.record)).await
            }
            Phase::Voting => {
                let jurors = jury.jurors_of(id).await?;
                let mut revealed = usize::from(dispute.forWorker + dispute.forChallenger + dispute.forNeither);
                if self.juror && jurors.contains(&self.me) {
                    revealed += usize::from(self.sit(jury, view, &dispute, jurors.len(), now).await?);
                }
                if revealed >= jurors.len() || now > dispute.revealDeadline.to::<u64>() || rule_deadline_passed {
                    return self.move_on(id, "settle", jury.settle(self.me, id, &view.record)).await;
                }
                Ok(())
            }
            Phase::Abandoned => Ok(()),
        }
    }

    /// Once a job this agent sat on (as juror or auditor) has closed, records in the ledger, once, what the
    /// jury did to it in that job: each reward (`jury-reward`, or `audit-reward` for an audit) and slash
    /// (`jury-slash`), read from the jury's events, together with marking the seat settled.
    pub(super) async fn record_jury_pay(&self, id: U256) -> Result<()> {
        let Some(jury) = self.jury.as_ref() else { return Ok(()) };
        let Some(seat) = self.state.job(id)?.and_then(|entry| entry.seat).filter(|seat| !seat.settled) else {
            return Ok(());
        };
        let entries: Vec<LedgerEntry> = jury
            .pay_of(id, self.me)
            .await?
            .into_iter()
            .map(|pay| {
                let kind = match (pay.slashed, seat.audit) {
                    (true, _) => "jury-slash",
                    (false, true) => "audit-reward",
                    (false, false) => "jury-reward",
                };
                LedgerEntry { kind: kind.into(), job: Some(id), amount: pay.amount, tx: pay.tx }
            })
            .collect();
        self.state.update_and_record_all(
            id,
            |e| {
                if let Some(seat) = e.seat.as_mut() {
                    seat.settled = true;
                }
            },
            &entries,
        )?;
        for entry in &entries {
            tracing::info!(job = %short(id), kind = entry.kind, amount = %format_eth(entry.amount), "recorded jury pay");
        }
        Ok(())
    }

    /// The latest block's number.
    async fn head(&self) -> Result<u64> {
        Ok(self.session.provider.get_block_number().await.map_err(chain::Error::rpc("eth_blockNumber"))?)
    }

    /// Runs the audit draw of a submitted job of the jury once its `auditBlock` is mined and the draw selects
    /// it (the agency's `auditSelected`; an aged-out block hash selects too); returns whether it did. A job
    /// the draw does not select is looked at again each poll until it closes: after 256 blocks the draw
    /// would select it, so waiting never avoids an audit.
    pub(super) async fn draw_audit(&self, jury: &Jury, view: &JobView) -> Result<bool> {
        let (id, audit_block) = (view.id, view.record.auditBlock.to::<u64>());
        if self.head().await? <= audit_block || !self.session.agency.audit_selected(id, audit_block).await? {
            return Ok(false);
        }
        tracing::info!(job = %short(id), jury = %jury.address(), "selected for audit");
        self.move_on(id, "drawAudit", self.session.agency.draw_audit(self.me, id, &view.record)).await?;
        Ok(true)
    }

    /// Sends a permissionless step; a refusal (another agent moved first, or it is not due) is only logged.
    async fn move_on(
        &self,
        id: U256,
        action: &'static str,
        sent: impl Future<Output = chain::Result<Sent>>,
    ) -> Result<()> {
        match sent.await {
            Ok(sent) => {
                tracing::info!(job = %short(id), action, tx = %sent.hash, "moved the jury's dispute on");
                Ok(())
            }
            Err(error) if error.revert().is_some() => {
                tracing::debug!(job = %short(id), action, %error, "not moved on (another agent did, or not yet due)");
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// This juror's next step in the current round: re-run and commit, then reveal. Returns whether it
    /// revealed just now.
    async fn sit(&self, jury: &Jury, view: &JobView, dispute: &Dispute, seats: usize, now: u64) -> Result<bool> {
        let id = view.id;
        let round = dispute.round;
        let (commit_deadline, reveal_deadline) =
            (dispute.commitDeadline.to::<u64>(), dispute.revealDeadline.to::<u64>());
        let entry = self.state.job(id)?.unwrap_or_default();
        let mut seat = match entry.seat.filter(|seat| seat.round == round) {
            Some(seat) => seat,
            None => {
                if now > commit_deadline {
                    return Ok(false);
                }
                let output = match self.rerun(view).await {
                    Ok(cid) => cid,
                    Err(error) => {
                        tracing::warn!(job = %short(id), %error, "drawn as juror but cannot re-run the job");
                        self.state.update(id, |e| e.note = Some(format!("juror: {error}")))?;
                        return Ok(false);
                    }
                };
                let salt = secret_salt(
                    &self.signer,
                    b"jsjob juror salt",
                    jury.address(),
                    id,
                    &[&[round], output.as_bytes()].concat(),
                )?;
                let audit = view.status() == Status::Audited;
                let seat =
                    Seat { round, output: output.to_string(), salt, step: SeatStep::Drawn, audit, settled: false };
                // Output and salt are durable before the commit is sent: the reveal never depends on memory.
                self.state.update(id, |e| e.seat = Some(seat.clone()))?;
                tracing::info!(job = %short(id), round, result = %output, "drawn as juror; re-ran the job");
                seat
            }
        };
        let cid: Cid = seat.output.parse()?;
        let commitment = jury::commitment(id, self.me, cid.as_bytes(), seat.salt);
        // A seat recorded as drawn whose commitment is on chain: the agent stopped between the commit's receipt
        // and recording it. Before the commit deadline a second commit tells (the jury refuses it with
        // `JuryArbiter_NotYourTurn`); after it, only the jury's log does, and the seat must still reveal.
        if seat.step == SeatStep::Drawn && now > commit_deadline && jury.has_committed(id, self.me, commitment).await? {
            tracing::info!(job = %short(id), round, "committed as juror before a restart");
            seat.step = SeatStep::Committed;
            self.state.update(id, |e| e.seat = Some(seat.clone()))?;
        }
        match seat.step {
            SeatStep::Drawn if now <= commit_deadline => {
                self.seat_action(id, Action::JurorCommit, SeatStep::Committed, jury.commit(self.me, id, commitment))
                    .await?;
                tracing::info!(job = %short(id), round, "committed as juror");
                Ok(false)
            }
            SeatStep::Committed
                if (usize::from(dispute.committed) >= seats || now > commit_deadline) && now <= reveal_deadline =>
            {
                self.seat_action(
                    id,
                    Action::JurorReveal,
                    SeatStep::Revealed,
                    jury.reveal(self.me, id, cid.as_bytes(), seat.salt),
                )
                .await?;
                tracing::info!(job = %short(id), round, result = %cid, "revealed as juror");
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Sends a seat's transaction under a write-ahead intent and records the step it reaches; a refusal
    /// with `JuryArbiter_NotYourTurn` means it happened before a restart.
    async fn seat_action(
        &self,
        id: U256,
        intent: Action,
        reached: SeatStep,
        sent: impl Future<Output = chain::Result<Sent>>,
    ) -> Result<()> {
        self.state.update(id, |e| e.intent = Some(intent))?;
        let sent = sent.await;
        self.state.update(id, |e| e.intent = None)?;
        match sent {
            Ok(_) => {}
            Err(error) if error.revert().is_some_and(|revert| revert.name() == ALREADY_DONE) => {
                tracing::info!(job = %short(id), ?intent, "already done before a restart");
            }
            Err(error) => return Err(error.into()),
        }
        self.state.update(id, |e| {
            if let Some(seat) = e.seat.as_mut() {
                seat.step = reached;
            }
        })?;
        Ok(())
    }
}

/// `jsjob verify --leave`: leaves the jury pool; once the cooldown is over and no dispute holds the account,
/// unstakes. Then withdraws the jury credit. Each run does the next step, so it can be repeated.
pub async fn leave(session: &Session, say: &mut (dyn FnMut(&str) + Send)) -> Result<()> {
    let jury = session.jury()?;
    let me: Address = session.account()?;
    session.settle_pending(Duration::from_secs(30)).await?;
    // The unstake and the withdrawal go into the ledger (`jsjob status --local`) when the state database is
    // free; a verifier still running on it (finishing its open disputes) keeps it.
    let state = session.open_state();
    let record = |kind: &str, amount: U256, tx| match &state {
        Ok(state) => state.record(&LedgerEntry { kind: kind.into(), job: None, amount, tx: Some(tx) }),
        Err(_) => Ok(()),
    };
    let standing = jury.verifier_of(me).await?;
    if standing.poolIndex != 0 {
        let sent = jury.leave(me).await?;
        let standing = jury.verifier_of(me).await?;
        say(&format!(
            "left the jury pool (tx {}); run `jsjob verify --leave` again from chain time {} to unstake",
            sent.hash, standing.unstakeAt
        ));
    } else if standing.stake != 0 {
        let amount = U256::from(standing.stake);
        let sent = jury.unstake(me).await.map_err(|error| match error.revert().map(|revert| revert.name()) {
            Some("JuryArbiter_CoolingDown") => Error::Usage(format!(
                "the jury's cooldown is not over ({error}): run `jsjob verify --leave` again from chain time {}",
                standing.unstakeAt
            )),
            Some("JuryArbiter_StillDrawn") => Error::Usage(format!(
                "this account still sits on an open dispute ({error}): keep `jsjob verify --juror` running until it \
                 ends, then run `jsjob verify --leave` again"
            )),
            _ => error.into(),
        })?;
        record("unstake", amount, sent.hash)?;
        say(&format!("unstaked {} ETH (tx {})", format_eth(amount), sent.hash));
    } else {
        say(&format!("account {me} has no stake in the jury"));
    }
    if !jury.credit_of(me).await?.is_zero() {
        let (amount, sent) = jury.withdraw(me).await?;
        record("jury-withdraw", amount, sent.hash)?;
        say(&format!("withdrew {} ETH of jury credit (tx {})", format_eth(amount), sent.hash));
    }
    if let Err(error) = &state {
        say(&format!("not recorded in the state database ({error}): `jsjob status --local` will not show it"));
    }
    Ok(())
}
