//! A client of the deployment's `JuryArbiter` (`src/interfaces/IJuryArbiter.sol`): its views, and one method
//! per transaction, each simulated before it is sent through the agency client's sender (nonce manager,
//! EIP-1559 fees, retries), with the jury's custom errors named.
//!
//! The jury's state is read through its views at the latest block (`disputeOf`, `jurorsOf`, `verifierOf`)
//! rather than from its events: a view is always the current truth, so a reorg or a restart needs no second
//! event cursor, and a juror learns it was drawn from `jurorsOf` of a job the agency's events show Disputed.
//! Two facts no view gives are read from the jury's logs when needed: a juror's pay, and whether its
//! commitment is on chain.

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::{SolEvent, SolValue},
};

use super::{
    Agency, Error, Result, Sent,
    bindings::{
        JuryArbiter::{Committed, JuryArbiterInstance, Rewarded, Slashed, Withdrawn},
        jury::IJuryArbiter,
    },
    job::Job,
};

/// A verifier's stake and standing (`IJuryArbiter.Verifier`).
pub type Verifier = IJuryArbiter::Verifier;
/// A live dispute (`IJuryArbiter.Dispute`).
pub type Dispute = IJuryArbiter::Dispute;

/// Where a dispute stands (`IJuryArbiter.Phase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No dispute (never opened, or ruled: a ruled dispute leaves no state).
    None,
    /// Waiting for `draw`.
    Drawing,
    /// Jurors drawn: commit, reveal, settle.
    Voting,
    /// Ended without a ruling.
    Abandoned,
}

impl Phase {
    /// The phase of a dispute record.
    pub fn of(dispute: &Dispute) -> Self {
        match dispute.phase {
            1 => Self::Drawing,
            2 => Self::Voting,
            3 => Self::Abandoned,
            _ => Self::None,
        }
    }
}

/// `commitmentOf(jobId, juror, resultCid, salt)` as the jury computes it:
/// `keccak256(abi.encode(jobId, juror, resultCid, salt))`.
pub fn commitment(job_id: U256, juror: Address, result_cid: &[u8], salt: B256) -> B256 {
    keccak256((job_id, juror, Bytes::copy_from_slice(result_cid), salt).abi_encode_params())
}

/// What the jury did to one juror's stake or credit in one job's dispute or audit (its `Rewarded` and
/// `Slashed` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pay {
    /// Wei credited (a reward) or taken from the stake (a slash).
    pub amount: U256,
    /// Whether it was a slash.
    pub slashed: bool,
    /// The transaction that did it.
    pub tx: Option<B256>,
}

/// A client of one `JuryArbiter`, sending through an [`Agency`] client's sender.
#[derive(Clone, Debug)]
pub struct Jury {
    jury: JuryArbiterInstance<DynProvider>,
    agency: Agency,
}

impl Jury {
    /// The jury at `address`, sending through `agency` (whose agency must be the jury's).
    pub fn new(agency: &Agency, address: Address) -> Self {
        Self { jury: JuryArbiterInstance::new(address, agency.provider().clone()), agency: agency.clone() }
    }

    /// The jury's address.
    pub fn address(&self) -> Address {
        *self.jury.address()
    }

    /// Wei a verifier stakes to join.
    pub async fn stake(&self) -> Result<U256> {
        self.jury.stake().call().await.map_err(|e| Error::contract("stake", e))
    }

    /// A verifier's stake and standing.
    pub async fn verifier_of(&self, account: Address) -> Result<Verifier> {
        self.jury.verifierOf(account).call().await.map_err(|e| Error::contract("verifierOf", e))
    }

    /// The live dispute of a job (all zero when there is none).
    pub async fn dispute_of(&self, job_id: U256) -> Result<Dispute> {
        self.jury.disputeOf(job_id).call().await.map_err(|e| Error::contract("disputeOf", e))
    }

    /// The jurors of the dispute's current round (empty while Drawing).
    pub async fn jurors_of(&self, job_id: U256) -> Result<Vec<Address>> {
        self.jury.jurorsOf(job_id).call().await.map_err(|e| Error::contract("jurorsOf", e))
    }

    /// Wei `account` can withdraw from the jury.
    pub async fn credit_of(&self, account: Address) -> Result<U256> {
        self.jury.creditOf(account).call().await.map_err(|e| Error::contract("creditOf", e))
    }

    /// Every reward and slash of `juror` in job `job_id`'s disputes (all rounds), in log order.
    pub async fn pay_of(&self, job_id: U256, juror: Address) -> Result<Vec<Pay>> {
        let filter = Filter::new()
            .address(self.address())
            .event_signature(vec![Rewarded::SIGNATURE_HASH, Slashed::SIGNATURE_HASH])
            .topic1(job_id)
            .topic2(juror.into_word())
            .from_block(self.agency.deploy_block());
        let logs = self.agency.provider().get_logs(&filter).await.map_err(Error::rpc("eth_getLogs"))?;
        logs.iter()
            .map(|log| {
                let decoded = if log.topic0() == Some(&Rewarded::SIGNATURE_HASH) {
                    Rewarded::decode_log_data(log.data()).map(|e| (e.amount, false))
                } else {
                    Slashed::decode_log_data(log.data()).map(|e| (e.amount, true))
                };
                let (amount, slashed) = decoded.map_err(|source| Error::BadLog {
                    hash: log.transaction_hash,
                    index: log.log_index,
                    source: Box::new(source),
                })?;
                Ok(Pay { amount, slashed, tx: log.transaction_hash })
            })
            .collect()
    }

    /// Whether `juror` committed `commitment` in job `job_id`'s dispute (a `Committed` event carries it). A
    /// commitment binds the round (its salt does), so no round is asked for.
    pub async fn has_committed(&self, job_id: U256, juror: Address, commitment: B256) -> Result<bool> {
        let filter = Filter::new()
            .address(self.address())
            .event_signature(Committed::SIGNATURE_HASH)
            .topic1(job_id)
            .topic2(juror.into_word())
            .from_block(self.agency.deploy_block());
        let logs = self.agency.provider().get_logs(&filter).await.map_err(Error::rpc("eth_getLogs"))?;
        for log in &logs {
            let committed = Committed::decode_log_data(log.data()).map_err(|source| Error::BadLog {
                hash: log.transaction_hash,
                index: log.log_index,
                source: Box::new(source),
            })?;
            if committed.commitment == commitment {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Stakes `stake` wei and joins the pool.
    pub async fn register(&self, from: Address, stake: U256) -> Result<Sent> {
        self.agency.send("register", self.jury.register().from(from).value(stake)).await
    }

    /// Leaves the pool (unstaking is possible after the cooldown).
    pub async fn leave(&self, from: Address) -> Result<Sent> {
        self.agency.send("leave", self.jury.leave().from(from)).await
    }

    /// Credits a verifier that left its remaining stake.
    pub async fn unstake(&self, from: Address) -> Result<Sent> {
        self.agency.send("unstake", self.jury.unstake().from(from)).await
    }

    /// Opens the dispute of a Disputed job that names the jury.
    pub async fn open_dispute(&self, from: Address, job_id: U256, job: &Job) -> Result<Sent> {
        self.agency.send("openDispute", self.jury.openDispute(job_id, job.into()).from(from)).await
    }

    /// Opens the audit of an Audited job that names the jury (a dispute without a challenger).
    pub async fn open_audit(&self, from: Address, job_id: U256, job: &Job) -> Result<Sent> {
        self.agency.send("openAudit", self.jury.openAudit(job_id, job.into()).from(from)).await
    }

    /// Draws the round's jurors.
    pub async fn draw(&self, from: Address, job_id: U256, job: &Job) -> Result<Sent> {
        self.agency.send("draw", self.jury.draw(job_id, job.into()).from(from)).await
    }

    /// A drawn juror commits to a result.
    pub async fn commit(&self, from: Address, job_id: U256, commitment: B256) -> Result<Sent> {
        self.agency.send("commit", self.jury.commit(job_id, commitment).from(from)).await
    }

    /// A juror reveals the result it committed to.
    pub async fn reveal(&self, from: Address, job_id: U256, result_cid: &[u8], salt: B256) -> Result<Sent> {
        let call = self.jury.reveal(job_id, Bytes::copy_from_slice(result_cid), salt).from(from);
        self.agency.send("reveal", call).await
    }

    /// Ends the round (rules at the agency on a majority).
    pub async fn settle(&self, from: Address, job_id: U256, job: &Job) -> Result<Sent> {
        self.agency.send("settle", self.jury.settle(job_id, job.into()).from(from)).await
    }

    /// Withdraws all of `account`'s jury credit; returns the amount.
    pub async fn withdraw(&self, account: Address) -> Result<(U256, Sent)> {
        let sent = self.agency.send("withdraw", self.jury.withdraw().from(account)).await?;
        let amount = sent
            .logs
            .iter()
            .filter(|log| log.address == self.address())
            .find_map(|log| Withdrawn::decode_log_data(&log.data).ok())
            .map(|withdrawn| withdrawn.amount)
            .ok_or(Error::MissingEvent { action: "withdraw", hash: sent.hash, event: "Withdrawn" })?;
        Ok((amount, sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitment_is_abi_encode_of_the_four_fields() {
        // abi.encode(uint256, address, bytes, bytes32): three head words, the bytes' offset (0x80), its length
        // and its data padded to a word.
        let (id, juror, cid, salt) = (U256::from(7), Address::repeat_byte(0x11), [0xab_u8; 3], B256::repeat_byte(2));
        let mut encoded = Vec::new();
        encoded.extend_from_slice(&id.to_be_bytes::<32>());
        encoded.extend_from_slice(B256::left_padding_from(juror.as_slice()).as_slice());
        encoded.extend_from_slice(&U256::from(0x80).to_be_bytes::<32>());
        encoded.extend_from_slice(salt.as_slice());
        encoded.extend_from_slice(&U256::from(3).to_be_bytes::<32>());
        encoded.extend_from_slice(B256::right_padding_from(&cid).as_slice());
        assert_eq!(commitment(id, juror, &cid, salt), keccak256(&encoded));
    }
}
