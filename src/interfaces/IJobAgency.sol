// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IJobAgency
/// @notice A market for JavaScript jobs. A poster escrows a payment for a job (code and input on IPFS,
///         named by CID); a worker claims it with a bond, runs it and submits the CID of its output;
///         the result becomes final after a challenge window unless someone challenges it with a bond
///         and a sealed result of its own, in which case the job's arbiter rules. Every payout is a
///         credit that its owner withdraws.
///
///         Random audits ("ticket control"): a job that carries an `auditFee` is selected for audit with
///         probability `auditRate() / AUDIT_RATE_SCALE()`, decided by the hash of `auditBlock`, the block after
///         its submission, which nobody knows when the worker submits. A selected job goes to `Audited`: its
///         arbiter re-checks the result without a challenger and rules `WorkerRight` (the audit passed: the
///         worker is paid as if finalized) or `Neither` (a mismatch: the worker loses its bond to the poster,
///         less `arbiterFee`). Every job that reaches `Submitted` pays its `auditFee` to its arbiter, audited or
///         not: an arbiter that audits (a `JuryArbiter`) pools these fees and pays each audit about
///         `auditFee / p`. See docs/INCENTIVES.md ("How an auditor participates").
///
///         Lifecycle (every non-final state has a deadline after which `expire` moves it on):
///
///           post ──► Open ──claim──► Claimed ──submit──► Submitted ──finalize (window over)──► paid
///                     │ ▲               │                   │
///           cancel or │ └─── reopen ────┤ expire            │ challenge (sealed, with a bond)
///           expire    ▼                 ▼ (worker late)     ▼
///                  refunded         refunded           Challenged ──reveal──► Disputed ──resolve──► ruled
///                                                           │ expire             │ expire
///                                                           ▼                    ▼
///                                               challenger forfeits     everyone refunded
///
///           Submitted (or Challenged at expiry) ──drawAudit, selected──► Audited ──resolve──► audit passed/failed
///                                                                          │ expire
///                                                                          ▼
///                                                              worker paid, audit fee refunded
///
/// @dev Storage holds one word per live job: the keccak256 of its ABI-encoded `Job` record. Everything
///      else (CIDs, options, the record's fields) travels in events and calldata: every function that
///      acts on a job takes the current record, checks it against the stored hash and stores the hash of
///      the updated record. Clients rebuild the record from the job's events (or read the last one they
///      sent). A job that reaches a final state has its word deleted; it cannot be acted on again.
interface IJobAgency {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice The live states of a job. A job that leaves the market (paid, refunded or ruled) has no
    ///         state: its record is deleted and its last event says how it ended.
    enum Status {
        None,
        /// Waiting for a worker until `claimDeadline`.
        Open,
        /// A worker holds it and must submit by `deadline`.
        Claimed,
        /// A result is in; it can be challenged until `deadline` inclusive, finalized after it.
        Submitted,
        /// A challenger posted a bond and a sealed result; it must reveal by `deadline`.
        Challenged,
        /// The challenger revealed; the arbiter must rule by `deadline`.
        Disputed,
        /// Selected for a random audit; the arbiter must rule (`WorkerRight` or `Neither`) by `deadline`.
        Audited
    }

    /// @notice What an arbiter can rule on a disputed job.
    enum Ruling {
        None,
        /// The worker's result is right: the worker is paid and takes the challenger's bond (less the
        /// arbiter's fee).
        WorkerRight,
        /// The challenger's result is right: it becomes the job's result; the challenger is paid and
        /// takes the worker's bond (less the arbiter's fee).
        ChallengerRight,
        /// Neither result is right: the poster is refunded and takes both bonds (less the arbiter's fee).
        Neither
    }

    /// @notice How a job left the market; carried by `JobClosed`.
    enum Outcome {
        None,
        /// The poster cancelled it before anyone claimed it; the payment is credited back.
        Cancelled,
        /// Nobody claimed it (or the last claimant missed its deadline) before `claimDeadline`; the
        /// payment is credited back to the poster.
        Expired,
        /// The challenge window passed unchallenged; the worker is credited payment + bond.
        Finalized,
        /// The arbiter ruled `WorkerRight`.
        WorkerUpheld,
        /// The arbiter ruled `ChallengerRight`.
        ChallengerUpheld,
        /// The arbiter ruled `Neither`.
        NeitherUpheld,
        /// The challenger did not reveal its sealed result in time; the worker wins as if upheld.
        ChallengeForfeited,
        /// The arbiter did not rule in time; poster, worker and challenger each get their own money back.
        DisputeTimedOut,
        /// The audit found the worker's result: the worker is credited payment + bond, the arbiter the audit
        /// fee.
        AuditPassed,
        /// The audit found a different result: the poster is credited payment + the worker's bond less
        /// `arbiterFee`; the arbiter `arbiterFee` + the audit fee.
        AuditFailed,
        /// The arbiter did not rule on the audit in time: the worker is credited payment + bond, the poster
        /// its audit fee back.
        AuditTimedOut
    }

    /// @notice What a poster sends to `post`. The CIDs are full binary CIDs (v0 multihash or v1).
    /// @param codeCid   CID of the job's JavaScript program.
    /// @param inputCid  CID of the job's input file.
    /// @param options   Job options: empty, or `0x00 ‖ bytes` (inline, at most `MAX_INLINE_OPTIONS` bytes
    ///                  after the tag), or `0x01 ‖ cid` (a CID of an options file).
    /// @param engine    The JavaScript engine build that must run the job, as a short ASCII string padded
    ///                  with zero bytes (for example `"quickjs-ng/0.16.2"`). Results are only compared
    ///                  between identical builds.
    /// @param payment   Wei paid to whoever delivers the accepted result; sent as `msg.value`.
    /// @param workerBond     Wei a worker locks to claim the job; lost if it misses its deadline or loses
    ///                       a dispute.
    /// @param challengeBond  Wei a challenger locks; lost if its challenge fails.
    /// @param arbiterFee     Wei the arbiter is paid when it rules, taken out of the losing side's bond
    ///                       (out of the pot on `Neither`); at most `min(workerBond, challengeBond)`, so
    ///                       a winner never gets back less than it staked. Zero for an arbiter that
    ///                       works unpaid (a `TrustedArbiter`); a jury needs enough to pay its jurors.
    ///                       Nothing is charged when nobody disputes or when the dispute times out. A failed
    ///                       audit charges it too (out of the worker's bond).
    /// @param auditFee       Wei the poster pays, on top of `payment` (`msg.value == payment + auditFee`), for
    ///                       the chance of a random audit; at least `minAuditFee()`. Zero (only when
    ///                       `minAuditFee()` is zero) opts the job out of audits. Credited to the arbiter once a
    ///                       result was submitted, whatever happens next (back to the poster only if the job
    ///                       ends before a submission, or if a dispute or an audit times out).
    /// @param claimDeadline  Unix time after which the job can no longer be claimed.
    /// @param executionTime  Seconds a worker has from its claim to submit a result.
    /// @param challengeWindow Seconds after a submission during which anyone may challenge; also the
    ///                        challenger's time to reveal its sealed result.
    /// @param disputeWindow  Seconds the arbiter has to rule once the challenger has revealed.
    /// @param minReputation  The least `reputationOf` a worker needs to claim the job.
    /// @param arbiter   The only address whose ruling the agency accepts for this job.
    struct JobSpec {
        bytes codeCid;
        bytes inputCid;
        bytes options;
        bytes32 engine;
        uint96 payment;
        uint96 workerBond;
        uint96 challengeBond;
        uint96 arbiterFee;
        uint96 auditFee;
        uint40 claimDeadline;
        uint32 executionTime;
        uint32 challengeWindow;
        uint32 disputeWindow;
        uint32 minReputation;
        address arbiter;
    }

    /// @notice The record of a live job, whose keccak256 is all the agency stores for it.
    /// @dev Words 2 to 12 are the posted spec's static fields in the spec's own order, so that `post`
    ///      builds the record by copying them.
    /// @param specHash   `keccak256(abi.encode(spec))` of the posted `JobSpec`, which is also the keccak256
    ///                   of `JobPosted`'s data: it binds the record to the CIDs, options and engine.
    /// @param poster     Who posted the job and gets refunds.
    /// @param payment, workerBond, challengeBond, arbiterFee, auditFee, claimDeadline, executionTime,
    ///        challengeWindow, disputeWindow, minReputation, arbiter  As posted (see `JobSpec`).
    /// @param status     The job's state.
    /// @param worker     The claimant (zero while Open).
    /// @param deadline   When the current state ends: the claim-by time while Open, the submit-by time
    ///                   while Claimed, the end of the challenge window while Submitted, the reveal-by
    ///                   time while Challenged, the rule-by time while Disputed or Audited.
    /// @param auditBlock The block whose hash decides whether the job is audited: the block after the
    ///                   submission, set by `submit` when the job carries an audit fee and `auditRate()` is
    ///                   not zero; zero otherwise, and zero again once `drawAudit` found the job not selected.
    /// @param result     keccak256 of the worker's result CID (zero before submission).
    /// @param challenger The challenger (zero before a challenge).
    /// @param challenge  The challenger's seal while Challenged, then keccak256 of its revealed CID.
    struct Job {
        bytes32 specHash;
        address poster;
        uint96 payment;
        uint96 workerBond;
        uint96 challengeBond;
        uint96 arbiterFee;
        uint96 auditFee;
        uint40 claimDeadline;
        uint32 executionTime;
        uint32 challengeWindow;
        uint32 disputeWindow;
        uint32 minReputation;
        address arbiter;
        Status status;
        address worker;
        uint40 deadline;
        uint40 auditBlock;
        bytes32 result;
        address challenger;
        bytes32 challenge;
    }

    /// @notice Per-address counters. They share one storage word with the address's credit.
    /// @param finalized       Jobs whose result this address delivered and that were paid (by finalize or
    ///                        by a ruling in its favour, as worker or as challenger).
    /// @param disputesLost    Disputes ruled against this address, or forfeited by not revealing.
    /// @param deadlinesMissed Claims this address let expire.
    struct Reputation {
        uint64 finalized;
        uint32 disputesLost;
        uint32 deadlinesMissed;
    }

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A job was posted and its payment escrowed. With the poster and `spec` a client rebuilds the
    ///         initial `Job` record (status Open, deadline = claimDeadline, specHash = keccak256 of this
    ///         event's data).
    event JobPosted(uint256 indexed jobId, address indexed poster, JobSpec spec);

    /// @notice `worker` claimed the job with its bond and must submit by `deadline`.
    event JobClaimed(uint256 indexed jobId, address indexed worker, uint40 deadline);

    /// @notice The worker submitted `resultCid`; the job can be challenged until `challengeDeadline`. The
    ///         hash of block `auditBlock` decides whether it is audited (zero: it is not auditable).
    event ResultSubmitted(
        uint256 indexed jobId,
        address indexed worker,
        bytes resultCid,
        uint40 challengeDeadline,
        uint40 auditBlock
    );

    /// @notice `challenger` disputed the result with its bond and `seal`; it must reveal by `revealDeadline`.
    event JobChallenged(
        uint256 indexed jobId, address indexed challenger, bytes32 seal, uint40 revealDeadline
    );

    /// @notice The challenger revealed `resultCid`; the arbiter must rule by `ruleDeadline`.
    event ChallengeRevealed(
        uint256 indexed jobId, address indexed challenger, bytes resultCid, uint40 ruleDeadline
    );

    /// @notice The worker missed its deadline and lost its bond to the poster. If `reopened`, the job is
    ///         Open again until its claim deadline; otherwise it closed with a `JobClosed(Expired)`.
    event ClaimExpired(uint256 indexed jobId, address indexed worker, bool reopened);

    /// @notice The audit draw of the job was made. If `selected`, the job is Audited and its arbiter must rule
    ///         by `deadline`; otherwise the job stays as it was with `auditBlock` cleared (and `deadline`
    ///         is its unchanged deadline).
    event AuditDrawn(uint256 indexed jobId, bool selected, uint40 deadline);

    /// @notice The job left the market; `outcome` says how, and the credits it made follow from it.
    event JobClosed(uint256 indexed jobId, Outcome outcome);

    /// @notice `account` withdrew `amount` wei of credit.
    event Withdrawn(address indexed account, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice A CID is not a well-formed binary CIDv0 (sha2-256 multihash) or CIDv1.
    error JobAgency_InvalidCid();
    /// @notice `options` has an unknown tag, an invalid CID, or inline bytes over the limit.
    error JobAgency_InvalidOptions();
    /// @notice `engine` is zero.
    error JobAgency_InvalidEngine();
    /// @notice `msg.value` is not exactly the amount the call requires.
    error JobAgency_WrongValue(uint256 expected, uint256 actual);
    /// @notice `post`'s calldata is not laid out as a standard ABI encoder lays it out.
    error JobAgency_NonCanonicalCalldata();
    /// @notice The payment is zero.
    error JobAgency_ZeroPayment();
    /// @notice The arbiter is the zero address.
    error JobAgency_ZeroArbiter();
    /// @notice `arbiterFee` is larger than the worker bond or the challenge bond: it could not be paid out
    ///         of the losing side's bond.
    error JobAgency_ArbiterFeeOverBond(uint96 arbiterFee);
    /// @notice A time parameter is zero or the claim deadline is not in the future, or a window is over
    ///         `MAX_PERIOD`.
    error JobAgency_InvalidTimes();
    /// @notice No live job has this id: it was never posted, or it has left the market (paid, refunded or
    ///         ruled; its last event says how).
    error JobAgency_NoSuchJob(uint256 jobId);
    /// @notice The same poster posted the same spec twice in one block; change any field (the claim
    ///         deadline by a second will do) to post it again.
    error JobAgency_DuplicateJob(uint256 jobId);
    /// @notice The `Job` record passed in is not the job's current record.
    error JobAgency_StaleRecord(uint256 jobId);
    /// @notice The job is not in a state that allows this call.
    error JobAgency_WrongStatus(Status status);
    /// @notice The caller is not the party this call is reserved for.
    error JobAgency_Unauthorized(address caller);
    /// @notice The current state's deadline has passed.
    error JobAgency_DeadlinePassed(uint40 deadline);
    /// @notice The current state's deadline has not passed yet.
    error JobAgency_DeadlineNotPassed(uint40 deadline);
    /// @notice The worker's reputation is below the job's minimum.
    error JobAgency_ReputationTooLow(uint256 reputation, uint256 required);
    /// @notice The worker tried to challenge its own result.
    error JobAgency_SelfChallenge();
    /// @notice The seal is zero.
    error JobAgency_ZeroSeal();
    /// @notice The revealed CID and salt do not match the challenger's seal.
    error JobAgency_SealMismatch();
    /// @notice The challenger revealed the worker's own result; a challenge must disagree.
    error JobAgency_SameResult();
    /// @notice The ruling is `None`.
    error JobAgency_InvalidRuling();
    /// @notice There is no credit to withdraw.
    error JobAgency_NoCredit();
    /// @notice Sending the credit failed; the credit is kept.
    error JobAgency_TransferFailed();
    /// @notice A call re-entered the agency while it was sending ETH.
    error JobAgency_Reentrancy();
    /// @notice A constructor parameter is out of range: `auditRate` is at most `AUDIT_RATE_SCALE`, and
    ///         `minAuditFee` fits in 96 bits.
    error JobAgency_InvalidParameters();
    /// @notice The job's `auditFee` is below `minAuditFee()`.
    error JobAgency_AuditFeeTooLow(uint96 auditFee, uint256 minAuditFee);
    /// @notice The audit draw needs the hash of block `auditBlock`, which is not mined yet: retry in a later
    ///         block.
    error JobAgency_AuditPending(uint40 auditBlock);
    /// @notice The job was selected for audit (or its draw's block hash aged out, which counts as selected):
    ///         call `drawAudit` to move it to Audited; it cannot be finalized or forfeited unaudited.
    error JobAgency_AuditSelected();
    /// @notice The job has no audit draw pending (`auditBlock` is zero).
    error JobAgency_NoAuditDraw();

    /*//////////////////////////////////////////////////////////////
                            POSTER FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Posts a job and escrows `msg.value`, which must equal `spec.payment + spec.auditFee`.
    /// @dev Emits `JobPosted`. Reverts with `InvalidCid`, `InvalidOptions`, `InvalidEngine`, `WrongValue`,
    ///      `ZeroPayment`, `ZeroArbiter`, `ArbiterFeeOverBond`, `AuditFeeTooLow` or `InvalidTimes` on bad input.
    /// @return jobId_ The new job's id, `jobIdOf(msg.sender, block.number, hashSpec(spec))`.
    function post(JobSpec calldata spec) external payable returns (uint256 jobId_);

    /// @notice The poster withdraws an Open job; its payment and audit fee are credited back.
    ///         Emits `JobClosed(Cancelled)`.
    function cancel(uint256 jobId, Job calldata job) external;

    /*//////////////////////////////////////////////////////////////
                            WORKER FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Claims an Open job before its claim deadline, locking `msg.value == job.workerBond`. The
    ///         caller must have at least `job.minReputation`. Emits `JobClaimed`.
    function claim(uint256 jobId, Job calldata job) external payable;

    /// @notice The claimant submits the CID of its output before its deadline (inclusive), opening the
    ///         challenge window. If the job carries an audit fee and `auditRate()` is not zero, the next block
    ///         becomes its `auditBlock`. Emits `ResultSubmitted`.
    /// @dev Only the claimant can submit a result for its claim, so a submission seen in the mempool
    ///      cannot be taken over by anyone else.
    function submit(uint256 jobId, Job calldata job, bytes calldata resultCid) external;

    /// @notice Pays an unchallenged result once the window is over (`block.timestamp > job.deadline`):
    ///         the worker is credited payment + bond, the arbiter the audit fee. Anyone may call. Emits
    ///         `JobClosed(Finalized)`.
    /// @dev A job with an audit draw pending (`auditBlock != 0`) is finalized only if the draw did not select
    ///      it: reverts with `AuditPending` while block `auditBlock` is not mined, and with `AuditSelected` if
    ///      it is selected or the block's hash has aged out (256 blocks), so that waiting never avoids an
    ///      audit. A job finalized more than 256 blocks after its submission therefore needs `drawAudit`
    ///      within that horizon (anyone may call it, the worker too) or it is audited.
    function finalize(uint256 jobId, Job calldata job) external;

    /// @notice Runs the audit draw of a Submitted job (or of a Challenged one whose challenger did not reveal
    ///         in time), from the block after `auditBlock` on. Anyone may call. If the job is selected (the
    ///         draw's hash says so, or that hash has aged out) it becomes Audited: no more challenges, and
    ///         its arbiter has a fresh `disputeWindow` to rule; a forfeited challenge's bond is credited to
    ///         the worker first. Otherwise `auditBlock` is cleared and the job goes on as it was (a
    ///         Challenged job whose reveal deadline passed then only awaits `expire`). Emits `AuditDrawn`.
    /// @dev Reverts with `NoAuditDraw` when `auditBlock` is zero, `AuditPending` before block `auditBlock` is
    ///      mined, `WrongStatus` in any other state (and for a Challenged job still within its reveal time).
    function drawAudit(uint256 jobId, Job calldata job) external;

    /*//////////////////////////////////////////////////////////////
                          CHALLENGER FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Disputes a submitted result while the window is open (`block.timestamp <= job.deadline`),
    ///         locking `msg.value == job.challengeBond` and committing to a result without showing it.
    ///         The challenger then has a fresh `challengeWindow` to reveal. Emits `JobChallenged`.
    /// @param seal `sealOf(jobId, msg.sender, resultCid, salt)`: bound to the challenger's address, so a
    ///        copied challenge cannot be revealed by the copier.
    function challenge(uint256 jobId, Job calldata job, bytes32 seal) external payable;

    /// @notice The challenger reveals its result; it must open the seal and differ from the worker's.
    ///         The arbiter then has a fresh `disputeWindow` to rule. Emits `ChallengeRevealed`.
    function reveal(uint256 jobId, Job calldata job, bytes calldata resultCid, bytes32 salt) external;

    /*//////////////////////////////////////////////////////////////
                            ARBITER FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The job's arbiter rules on a Disputed or Audited job before the rule-by deadline (inclusive).
    ///         Disputed: the pot (payment + both bonds) less `job.arbiterFee` goes to the winner (to the
    ///         poster on `Neither`), and `job.arbiterFee` + `job.auditFee` are credited to the arbiter: the
    ///         arbiter fee is paid by the side that lost. Emits `JobClosed(WorkerUpheld | ChallengerUpheld |
    ///         NeitherUpheld)`.
    ///         Audited: `WorkerRight` passes the audit (worker credited payment + bond, arbiter the audit
    ///         fee; `JobClosed(AuditPassed)`); `Neither` fails it (poster credited payment + worker bond −
    ///         `arbiterFee`, arbiter `arbiterFee` + audit fee, the worker a lost dispute;
    ///         `JobClosed(AuditFailed)`); `ChallengerRight` reverts with `InvalidRuling`.
    function resolve(uint256 jobId, Job calldata job, Ruling ruling) external;

    /*//////////////////////////////////////////////////////////////
                          PERMISSIONLESS EXITS
    //////////////////////////////////////////////////////////////*/

    /// @notice Moves on a job whose current deadline has passed (`block.timestamp > job.deadline`).
    ///         Anyone may call. By state:
    ///         - Open: nobody claimed it; the payment is credited to the poster (`JobClosed(Expired)`).
    ///         - Claimed: the worker missed its deadline; its bond is credited to the poster as
    ///           compensation for the delay and the job reopens until `claimDeadline`, or, if that has
    ///           passed too, the payment is credited back to the poster (`ClaimExpired`, and then
    ///           `JobClosed(Expired)` when it does not reopen).
    ///         - Submitted: use `finalize`.
    ///         - Challenged: the challenger did not reveal; the worker is credited payment, its bond and
    ///           the challenger's bond (`JobClosed(ChallengeForfeited)`).
    ///         - Disputed: the arbiter did not rule; poster, worker and challenger are each credited
    ///           their own money back, the poster its audit fee too (`JobClosed(DisputeTimedOut)`).
    ///         - Audited: the arbiter did not rule; the worker is credited payment + bond and the poster
    ///           its audit fee (`JobClosed(AuditTimedOut)`).
    ///         Open and Claimed jobs that close credit the poster its audit fee with the payment. A Challenged
    ///         job with an audit draw pending is only forfeited if the draw did not select it (see
    ///         `finalize`); the arbiter is then credited the audit fee.
    function expire(uint256 jobId, Job calldata job) external;

    /*//////////////////////////////////////////////////////////////
                                CREDITS
    //////////////////////////////////////////////////////////////*/

    /// @notice Sends the caller all its credit. Emits `Withdrawn`.
    /// @dev Checks-effects-interactions under a reentrancy guard; on a failed transfer the whole call
    ///      reverts and the credit stays.
    function withdraw() external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The largest inline options payload, in bytes after the tag.
    function MAX_INLINE_OPTIONS() external view returns (uint256);

    /// @notice The longest `executionTime`, `challengeWindow` or `disputeWindow`, in seconds.
    function MAX_PERIOD() external view returns (uint256);

    /// @notice The denominator of `auditRate`: 10 000 (basis points).
    function AUDIT_RATE_SCALE() external view returns (uint256);

    /// @notice The probability, in `AUDIT_RATE_SCALE` units, that a job carrying an audit fee is audited.
    function auditRate() external view returns (uint256);

    /// @notice The least `auditFee` a job must carry.
    function minAuditFee() external view returns (uint256);

    /// @notice Whether the audit draw of `jobId` with `auditBlock` selects it: true if the hash of
    ///         `auditBlock` has aged out, else `keccak256(abi.encode(blockhash(auditBlock), jobId)) %
    ///         AUDIT_RATE_SCALE < auditRate`. Reverts with `NoAuditDraw` for a zero `auditBlock`, and
    ///         `AuditPending` until the block after `auditBlock`.
    function auditSelected(uint256 jobId, uint40 auditBlock) external view returns (bool);

    /// @notice The stored hash of a live job's record; zero if the job is unknown or closed.
    function jobHash(uint256 jobId) external view returns (bytes32);

    /// @notice Wei `account` can withdraw.
    function creditOf(address account) external view returns (uint256);

    /// @notice The counters behind an address's reputation.
    function reputation(address account) external view returns (Reputation memory);

    /// @notice The score `minReputation` is compared with: `finalized` less four per dispute lost and one
    ///         per deadline missed, floored at zero.
    function reputationOf(address account) external view returns (uint256);

    /// @notice The hash the agency stores for `job`.
    function hashJob(Job calldata job) external pure returns (bytes32);

    /// @notice The hash the agency stores in `Job.specHash` for a spec: `keccak256(abi.encode(spec))`,
    ///         which is also the keccak256 of `JobPosted`'s data.
    function hashSpec(JobSpec calldata spec) external pure returns (bytes32);

    /// @notice The id of a job: `uint256(keccak256(abi.encode(poster, blockNumber, specHash)))`. Ids are
    ///         hashes rather than a counter because a counter would cost every post another storage write.
    ///         An id is unique among live jobs. The one way to see an id twice: a poster that cancels a job
    ///         and posts the same spec again in the same block gets the same id for the new job (its events
    ///         then follow the first job's `JobClosed`).
    function jobIdOf(address poster, uint256 blockNumber, bytes32 specHash) external pure returns (uint256);

    /// @notice The seal a challenger commits to: `keccak256(abi.encode(jobId, challenger, resultCid, salt))`.
    function sealOf(uint256 jobId, address challenger, bytes calldata resultCid, bytes32 salt)
        external
        pure
        returns (bytes32);
}
