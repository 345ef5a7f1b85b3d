//! A job's current `Job` record, rebuilt from the agency's events.
//!
//! The agency stores only `keccak256(abi.encode(Job))` per live job, and every call after `post` must pass
//! the current record. The events carry everything needed to rebuild it: [`fold`] replays them in log
//! order, one pure step per event ([`apply`]), the same transitions the contract makes in storage. A
//! rebuilt record is right exactly when [`hash_job`] of it equals the agency's `jobHash(jobId)`.

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    sol_types::SolValue,
};

pub use super::bindings::{Job, JobSpec};
use super::bindings::{JobAgency, JobAgencyEvents};

/// Errors of this module: an event stream that cannot come from one agency in log order.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// An event names a job no `JobPosted` introduced.
    #[error("event {event} for job {job_id:#x}, which was never posted (logs missing or out of order?)")]
    UnknownJob {
        /// The job.
        job_id: U256,
        /// The event's name.
        event: &'static str,
    },
    /// A job was posted twice.
    #[error("job {0:#x} posted twice")]
    DuplicatePost(U256),
    /// An event came after the job's `JobClosed`.
    #[error("event {event} for job {job_id:#x} after it closed")]
    AfterClose {
        /// The job.
        job_id: U256,
        /// The event's name.
        event: &'static str,
    },
    /// A status, ruling or outcome number outside the contract's enum.
    #[error("{what} {value} is not one the contract defines")]
    UnknownEnum {
        /// Which enum.
        what: &'static str,
        /// The number.
        value: u8,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Declares a Rust enum mirroring a Solidity enum (numbered from 0) with conversions from and to `u8`.
macro_rules! sol_enum {
    ($(#[$meta:meta])* $Name:ident { $($(#[$vmeta:meta])* $Variant:ident = $value:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $Name { $($(#[$vmeta])* $Variant = $value),* }

        impl TryFrom<u8> for $Name {
            type Error = Error;
            fn try_from(value: u8) -> Result<Self> {
                match value {
                    $($value => Ok(Self::$Variant),)*
                    _ => Err(Error::UnknownEnum { what: stringify!($Name), value }),
                }
            }
        }

        impl From<$Name> for u8 {
            fn from(value: $Name) -> u8 {
                value as u8
            }
        }
    };
}

sol_enum!(
    /// `IJobAgency.Status`: the live states of a job.
    Status {
        /// No live job (never posted or closed).
        None = 0,
        /// Waiting for a worker until the claim deadline.
        Open = 1,
        /// A worker holds it and must submit by the deadline.
        Claimed = 2,
        /// A result is in; challengeable until the deadline, finalizable after it.
        Submitted = 3,
        /// A sealed challenge is in; the challenger must reveal by the deadline.
        Challenged = 4,
        /// The challenger revealed; the arbiter must rule by the deadline.
        Disputed = 5,
        /// Selected for a random audit; the arbiter must rule by the deadline.
        Audited = 6,
    }
);

sol_enum!(
    /// `IJobAgency.Ruling`: what an arbiter can rule.
    Ruling {
        /// Not a ruling (rejected by the agency).
        None = 0,
        /// The worker's result is right.
        WorkerRight = 1,
        /// The challenger's result is right.
        ChallengerRight = 2,
        /// Neither result is right.
        Neither = 3,
    }
);

sol_enum!(
    /// `IJobAgency.Outcome`: how a job left the market.
    Outcome {
        /// Not an outcome.
        None = 0,
        /// The poster cancelled it while Open.
        Cancelled = 1,
        /// Nobody delivered before the claim deadline; the poster is refunded.
        Expired = 2,
        /// The window passed unchallenged; the worker was paid.
        Finalized = 3,
        /// The arbiter ruled `WorkerRight`.
        WorkerUpheld = 4,
        /// The arbiter ruled `ChallengerRight`.
        ChallengerUpheld = 5,
        /// The arbiter ruled `Neither`.
        NeitherUpheld = 6,
        /// The challenger did not reveal in time.
        ChallengeForfeited = 7,
        /// The arbiter did not rule in time; everyone was refunded.
        DisputeTimedOut = 8,
        /// The audit found the worker's result; the worker was paid.
        AuditPassed = 9,
        /// The audit found another result; the worker lost its bond to the poster.
        AuditFailed = 10,
        /// The arbiter did not rule on the audit in time; the worker was paid.
        AuditTimedOut = 11,
    }
);

/// Everything the events say about one job: its spec, its current record, the CIDs behind the record's
/// hashes, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobView {
    /// The job's id.
    pub id: U256,
    /// The spec it was posted with (CIDs, options, engine, amounts, times, arbiter).
    pub spec: JobSpec,
    /// The current record, to pass to the agency's next call (meaningless once closed).
    pub record: Job,
    /// The worker's result CID (binary), once submitted.
    pub result_cid: Option<Bytes>,
    /// The challenger's revealed CID (binary), once revealed.
    pub challenge_cid: Option<Bytes>,
    /// How the job ended, once it did.
    pub outcome: Option<Outcome>,
}

impl JobView {
    /// The job's status; [`Status::None`] once it has closed.
    pub fn status(&self) -> Status {
        if self.outcome.is_some() {
            return Status::None;
        }
        Status::try_from(self.record.status).unwrap_or(Status::None)
    }
}

/// The record `post(spec)` creates for `poster`: status Open, deadline = claim deadline.
pub fn initial_record(poster: Address, spec: &JobSpec) -> Job {
    Job {
        specHash: hash_spec(spec),
        poster,
        payment: spec.payment,
        workerBond: spec.workerBond,
        challengeBond: spec.challengeBond,
        arbiterFee: spec.arbiterFee,
        auditFee: spec.auditFee,
        claimDeadline: spec.claimDeadline,
        executionTime: spec.executionTime,
        challengeWindow: spec.challengeWindow,
        disputeWindow: spec.disputeWindow,
        minReputation: spec.minReputation,
        arbiter: spec.arbiter,
        status: Status::Open.into(),
        worker: Address::ZERO,
        deadline: spec.claimDeadline,
        auditBlock: Default::default(),
        result: B256::ZERO,
        challenger: Address::ZERO,
        challenge: B256::ZERO,
    }
}

/// The agency's `hashJob`: `keccak256(abi.encode(job))` over its 20 static words.
pub fn hash_job(job: &Job) -> B256 {
    keccak256(job.abi_encode())
}

/// The agency's `hashSpec`: `keccak256(abi.encode(spec))`, which is also the keccak256 of `JobPosted`'s
/// data (the encoding of a one-member tuple starts with the offset word of the dynamic struct).
pub fn hash_spec(spec: &JobSpec) -> B256 {
    keccak256(spec.abi_encode())
}

/// The agency's `jobIdOf`: `uint256(keccak256(abi.encode(poster, blockNumber, specHash)))`.
pub fn job_id(poster: Address, block_number: u64, spec_hash: B256) -> U256 {
    U256::from_be_bytes(keccak256((poster, U256::from(block_number), spec_hash).abi_encode()).0)
}

/// The agency's `sealOf`: `keccak256(abi.encode(jobId, challenger, resultCid, salt))`.
pub fn seal(job_id: U256, challenger: Address, result_cid: &[u8], salt: B256) -> B256 {
    keccak256((job_id, challenger, Bytes::copy_from_slice(result_cid), salt).abi_encode_params())
}

/// The name of an event, for error messages.
fn event_name(event: &JobAgencyEvents) -> &'static str {
    match event {
        JobAgencyEvents::JobPosted(_) => "JobPosted",
        JobAgencyEvents::JobClaimed(_) => "JobClaimed",
        JobAgencyEvents::ResultSubmitted(_) => "ResultSubmitted",
        JobAgencyEvents::JobChallenged(_) => "JobChallenged",
        JobAgencyEvents::ChallengeRevealed(_) => "ChallengeRevealed",
        JobAgencyEvents::ClaimExpired(_) => "ClaimExpired",
        JobAgencyEvents::AuditDrawn(_) => "AuditDrawn",
        JobAgencyEvents::JobClosed(_) => "JobClosed",
        JobAgencyEvents::Withdrawn(_) => "Withdrawn",
    }
}

/// The job an event is about (`None` for a withdrawal: it is about an account).
pub fn job_of(event: &JobAgencyEvents) -> Option<U256> {
    match event {
        JobAgencyEvents::JobPosted(e) => Some(e.jobId),
        JobAgencyEvents::Withdrawn(_) => None,
        JobAgencyEvents::JobClaimed(e) => Some(e.jobId),
        JobAgencyEvents::ResultSubmitted(e) => Some(e.jobId),
        JobAgencyEvents::JobChallenged(e) => Some(e.jobId),
        JobAgencyEvents::ChallengeRevealed(e) => Some(e.jobId),
        JobAgencyEvents::ClaimExpired(e) => Some(e.jobId),
        JobAgencyEvents::AuditDrawn(e) => Some(e.jobId),
        JobAgencyEvents::JobClosed(e) => Some(e.jobId),
    }
}

/// Applies one event to the jobs seen so far, as the contract applied the call that emitted it. It reads and
/// changes only the entry of the event's job ([`job_of`]).
pub fn apply(jobs: &mut BTreeMap<U256, JobView>, event: &JobAgencyEvents) -> Result<()> {
    let job_id = match event {
        JobAgencyEvents::JobPosted(JobAgency::JobPosted { jobId, poster, spec }) => {
            if jobs.contains_key(jobId) {
                return Err(Error::DuplicatePost(*jobId));
            }
            let view = JobView {
                id: *jobId,
                record: initial_record(*poster, spec),
                spec: spec.clone(),
                result_cid: None,
                challenge_cid: None,
                outcome: None,
            };
            jobs.insert(*jobId, view);
            return Ok(());
        }
        other => match job_of(other) {
            Some(job_id) => job_id,
            None => return Ok(()),
        },
    };
    let name = event_name(event);
    let view = jobs.get_mut(&job_id).ok_or(Error::UnknownJob { job_id, event: name })?;
    if view.outcome.is_some() {
        return Err(Error::AfterClose { job_id, event: name });
    }
    let record = &mut view.record;
    match event {
        JobAgencyEvents::JobClaimed(e) => {
            record.status = Status::Claimed.into();
            record.worker = e.worker;
            record.deadline = e.deadline;
        }
        JobAgencyEvents::ResultSubmitted(e) => {
            record.status = Status::Submitted.into();
            record.result = keccak256(&e.resultCid);
            record.deadline = e.challengeDeadline;
            record.auditBlock = e.auditBlock;
            view.result_cid = Some(e.resultCid.clone());
        }
        JobAgencyEvents::AuditDrawn(e) => {
            // The draw is made once: selected → Audited until the arbiter's deadline; otherwise nothing but
            // the cleared draw block changes.
            record.auditBlock = Default::default();
            if e.selected {
                record.status = Status::Audited.into();
                record.deadline = e.deadline;
            }
        }
        JobAgencyEvents::JobChallenged(e) => {
            record.status = Status::Challenged.into();
            record.challenger = e.challenger;
            record.challenge = e.seal;
            record.deadline = e.revealDeadline;
        }
        JobAgencyEvents::ChallengeRevealed(e) => {
            record.status = Status::Disputed.into();
            record.challenge = keccak256(&e.resultCid);
            record.deadline = e.ruleDeadline;
            view.challenge_cid = Some(e.resultCid.clone());
        }
        JobAgencyEvents::ClaimExpired(e) => {
            // Reopened: Open again until the claim deadline. Otherwise a JobClosed(Expired) follows.
            if e.reopened {
                record.status = Status::Open.into();
                record.worker = Address::ZERO;
                record.deadline = record.claimDeadline;
            }
        }
        JobAgencyEvents::JobClosed(e) => {
            view.outcome = Some(Outcome::try_from(e.outcome)?);
        }
        JobAgencyEvents::JobPosted(_) | JobAgencyEvents::Withdrawn(_) => {}
    }
    Ok(())
}

/// Replays events in log order into every job they mention, keyed by job id.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a JobAgencyEvents>) -> Result<BTreeMap<U256, JobView>> {
    let mut jobs = BTreeMap::new();
    for event in events {
        apply(&mut jobs, event)?;
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{
        FixedBytes, address,
        aliases::{U40, U96},
        b256, hex,
    };

    use super::*;

    const POSTER: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    const WORKER: Address = address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
    const CHALLENGER: Address = address!("0x90F79bf6EB2c4f870365E785982E1f101E93b906");
    const ARBITER: Address = address!("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");

    fn spec() -> JobSpec {
        JobSpec {
            codeCid: Bytes::from(hex!("01551220a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447")),
            inputCid: Bytes::from(hex!("01551220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")),
            options: Bytes::new(),
            engine: FixedBytes::right_padding_from(b"deno/2.9.6"),
            payment: U96::from(100u64),
            workerBond: U96::from(50u64),
            challengeBond: U96::from(40u64),
            arbiterFee: U96::ZERO,
            auditFee: U96::from(7u64),
            claimDeadline: U40::from(1_000u64),
            executionTime: 60,
            challengeWindow: 120,
            disputeWindow: 300,
            minReputation: 0,
            arbiter: ARBITER,
        }
    }

    fn posted(id: u64) -> JobAgencyEvents {
        JobAgencyEvents::JobPosted(JobAgency::JobPosted { jobId: U256::from(id), poster: POSTER, spec: spec() })
    }

    fn closed(id: u64, outcome: Outcome) -> JobAgencyEvents {
        JobAgencyEvents::JobClosed(JobAgency::JobClosed { jobId: U256::from(id), outcome: u8::from(outcome) })
    }

    /// Hashes of records as the contract computes them, taken from `cast call hashJob` against a deployed
    /// agency would be ideal; this checks the encoding's shape instead: 20 words, fields in order.
    #[test]
    fn hash_job_is_keccak_of_twenty_static_words() {
        let job = initial_record(POSTER, &spec());
        let encoded = job.abi_encode();
        assert_eq!(encoded.len(), 20 * 32);
        assert_eq!(&encoded[32 + 12..64], POSTER.as_slice());
        assert_eq!(encoded[6 * 32 + 31], 7, "audit fee word follows the arbiter fee");
        assert_eq!(encoded[13 * 32 + 31], 1, "status word holds Open");
        assert_eq!(hash_job(&job), keccak256(&encoded));
    }

    #[test]
    fn spec_hash_is_keccak_of_the_event_data_layout() {
        let encoded = spec().abi_encode();
        // abi.encode of a dynamic struct starts with the offset of its tuple, as JobPosted's data does.
        assert_eq!(U256::from_be_slice(&encoded[..32]), U256::from(32));
        assert_eq!(hash_spec(&spec()), keccak256(&encoded));
    }

    #[test]
    fn job_id_and_seal_match_solidity_encoding() {
        let spec_hash = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
        let mut words = Vec::new();
        words.extend_from_slice(&[0u8; 12]);
        words.extend_from_slice(POSTER.as_slice());
        words.extend_from_slice(&U256::from(12).to_be_bytes::<32>());
        words.extend_from_slice(spec_hash.as_slice());
        assert_eq!(job_id(POSTER, 12, spec_hash), U256::from_be_bytes(keccak256(&words).0));

        // abi.encode(uint256, address, bytes, bytes32): the bytes go to the tail at offset 0x80.
        let salt = B256::repeat_byte(7);
        let cid = hex!("0155");
        let mut words = Vec::new();
        words.extend_from_slice(&U256::from(9).to_be_bytes::<32>());
        words.extend_from_slice(&[0u8; 12]);
        words.extend_from_slice(CHALLENGER.as_slice());
        words.extend_from_slice(&U256::from(0x80).to_be_bytes::<32>());
        words.extend_from_slice(salt.as_slice());
        words.extend_from_slice(&U256::from(2).to_be_bytes::<32>());
        let mut tail = [0u8; 32];
        tail[..2].copy_from_slice(&cid);
        words.extend_from_slice(&tail);
        assert_eq!(seal(U256::from(9), CHALLENGER, &cid, salt), keccak256(&words));
    }

    #[test]
    fn fold_rebuilds_a_disputed_job() {
        let id = U256::from(1);
        let result = Bytes::from(hex!("01551220aa"));
        let revealed = Bytes::from(hex!("01551220bb"));
        let seal = B256::repeat_byte(0x5e);
        let events = [
            posted(1),
            JobAgencyEvents::JobClaimed(JobAgency::JobClaimed { jobId: id, worker: WORKER, deadline: U40::from(160) }),
            JobAgencyEvents::ResultSubmitted(JobAgency::ResultSubmitted {
                jobId: id,
                worker: WORKER,
                resultCid: result.clone(),
                challengeDeadline: U40::from(290),
                auditBlock: U40::from(12),
            }),
            JobAgencyEvents::JobChallenged(JobAgency::JobChallenged {
                jobId: id,
                challenger: CHALLENGER,
                seal,
                revealDeadline: U40::from(400),
            }),
        ];
        let jobs = fold(&events).expect("consistent events");
        let view = &jobs[&id];
        assert_eq!(view.status(), Status::Challenged);
        let mut expected = initial_record(POSTER, &spec());
        expected.status = Status::Challenged.into();
        expected.worker = WORKER;
        expected.deadline = U40::from(400);
        expected.result = keccak256(&result);
        expected.challenger = CHALLENGER;
        expected.challenge = seal;
        expected.auditBlock = U40::from(12);
        assert_eq!(view.record, expected);
        assert_eq!(view.result_cid.as_ref(), Some(&result));

        let mut jobs = jobs;
        let reveal = JobAgencyEvents::ChallengeRevealed(JobAgency::ChallengeRevealed {
            jobId: id,
            challenger: CHALLENGER,
            resultCid: revealed.clone(),
            ruleDeadline: U40::from(700),
        });
        apply(&mut jobs, &reveal).expect("reveal applies");
        let view = &jobs[&id];
        assert_eq!(view.status(), Status::Disputed);
        assert_eq!(view.record.challenge, keccak256(&revealed));
        assert_eq!(view.record.deadline, U40::from(700));

        apply(&mut jobs, &closed(1, Outcome::ChallengerUpheld)).expect("close applies");
        assert_eq!(jobs[&id].outcome, Some(Outcome::ChallengerUpheld));
        assert_eq!(jobs[&id].status(), Status::None);
    }

    #[test]
    fn an_audit_draw_clears_the_block_and_may_audit() {
        let id = U256::from(4);
        let submitted = |id: U256| {
            [
                JobAgencyEvents::JobClaimed(JobAgency::JobClaimed {
                    jobId: id,
                    worker: WORKER,
                    deadline: U40::from(60),
                }),
                JobAgencyEvents::ResultSubmitted(JobAgency::ResultSubmitted {
                    jobId: id,
                    worker: WORKER,
                    resultCid: Bytes::from(hex!("01551220aa")),
                    challengeDeadline: U40::from(200),
                    auditBlock: U40::from(9),
                }),
            ]
        };
        let drawn = |selected: bool, deadline: u64| {
            JobAgencyEvents::AuditDrawn(JobAgency::AuditDrawn { jobId: id, selected, deadline: U40::from(deadline) })
        };
        let mut events = vec![posted(4)];
        events.extend(submitted(id));
        events.push(drawn(false, 200));
        let jobs = fold(&events).expect("consistent events");
        assert_eq!(jobs[&id].status(), Status::Submitted);
        assert_eq!(jobs[&id].record.auditBlock, U40::ZERO);
        assert_eq!(jobs[&id].record.deadline, U40::from(200));

        events.pop();
        events.push(drawn(true, 900));
        let jobs = fold(&events).expect("consistent events");
        assert_eq!(jobs[&id].status(), Status::Audited);
        assert_eq!(jobs[&id].record.auditBlock, U40::ZERO);
        assert_eq!(jobs[&id].record.deadline, U40::from(900));
    }

    #[test]
    fn a_missed_claim_reopens_the_job() {
        let id = U256::from(2);
        let events = [
            posted(2),
            JobAgencyEvents::JobClaimed(JobAgency::JobClaimed { jobId: id, worker: WORKER, deadline: U40::from(60) }),
            JobAgencyEvents::ClaimExpired(JobAgency::ClaimExpired { jobId: id, worker: WORKER, reopened: true }),
        ];
        let jobs = fold(&events).expect("consistent events");
        // Back to the very record `post` made.
        assert_eq!(jobs[&id].record, initial_record(POSTER, &spec()));
    }

    #[test]
    fn inconsistent_streams_are_refused() {
        let claimed = JobAgencyEvents::JobClaimed(JobAgency::JobClaimed {
            jobId: U256::from(3),
            worker: WORKER,
            deadline: U40::ZERO,
        });
        assert_eq!(fold([&claimed]), Err(Error::UnknownJob { job_id: U256::from(3), event: "JobClaimed" }));
        assert_eq!(fold(&[posted(3), posted(3)]), Err(Error::DuplicatePost(U256::from(3))));
        assert_eq!(
            fold(&[posted(3), closed(3, Outcome::Cancelled), claimed]),
            Err(Error::AfterClose { job_id: U256::from(3), event: "JobClaimed" })
        );
    }
}
