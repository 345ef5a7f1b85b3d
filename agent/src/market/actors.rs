//! The two actors that live inside the devnet process, each with its own dev key:
//!
//! - the [`Cheater`]: a worker that claims a job and submits a made-up output without running it. It is
//!   built from the agency bindings only, never from the production worker, which has no such mode;
//! - the [`Arbiter`]: the `TrustedArbiter`'s owner (the deployer's dev key). It rules on a dispute by
//!   re-running the job in the sandbox, a child process, so that untrusted code never runs in the
//!   process holding keys.

use alloy::primitives::{Address, U256};

use super::Result;
use crate::{
    chain::job::{JobView, Ruling, Status},
    cid::Cid,
    roles::{Session, seams::Engines},
};

/// A worker that submits made-up results.
#[derive(Debug)]
pub struct Cheater {
    session: Session,
    me: Address,
}

impl Cheater {
    /// The cheater acting through `session` (which holds its key).
    pub fn new(session: Session) -> Result<Self> {
        let me = session.account()?;
        Ok(Self { session, me })
    }

    /// Its address.
    pub fn address(&self) -> Address {
        self.me
    }

    /// Claims job `id` with its bond, stores `made_up` and submits its CID, never running the job.
    /// Returns `false` (and does nothing) when the job is no longer open.
    pub async fn cheat(&self, id: U256, made_up: &[u8]) -> Result<bool> {
        let agency = &self.session.agency;
        let open = agency.job(id).await?;
        if open.status() != Status::Open {
            return Ok(false);
        }
        agency.claim(self.me, id, &open.record).await?;
        let cid = self.session.content.put(made_up).await?;
        let claimed = agency.job(id).await?;
        agency.submit(self.me, id, &claimed.record, cid.as_bytes()).await?;
        Ok(true)
    }
}

/// The trusted arbiter's owner, ruling by re-running the job.
#[derive(Debug)]
pub struct Arbiter {
    session: Session,
    engines: Engines,
    owner: Address,
}

impl Arbiter {
    /// The arbiter acting through `session` (which holds the owner's key), running jobs in `engines`.
    pub fn new(session: Session, engines: Engines) -> Result<Self> {
        let owner = session.account()?;
        Ok(Self { session, engines, owner })
    }

    /// Re-runs a disputed job and rules for the side whose result is its own output: `WorkerRight`,
    /// `ChallengerRight`, or `Neither` when it matches neither (or the job fails here).
    pub async fn rule(&self, view: &JobView) -> Result<Ruling> {
        let max = self.session.config.worker.max_input_bytes;
        let own = match self.session.fetch(view, max).await {
            Ok((code, input)) => self.session.execute(&self.engines, view, &code, &input).await.ok(),
            Err(_) => None,
        };
        let worker = view.result_cid.as_deref().map(|b| Cid::from_bytes(b)).transpose()?;
        let challenger = view.challenge_cid.as_deref().map(|b| Cid::from_bytes(b)).transpose()?;
        let ruling = match own {
            Some(own) if Some(&own) == worker.as_ref() => Ruling::WorkerRight,
            Some(own) if Some(&own) == challenger.as_ref() => Ruling::ChallengerRight,
            _ => Ruling::Neither,
        };
        self.session.agency.rule(self.owner, view.id, &view.record, ruling).await?;
        Ok(ruling)
    }
}
