// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IArbiter} from "./IArbiter.sol";
import {IJobAgency} from "./IJobAgency.sol";

/// @title IJuryArbiter
/// @notice An arbiter made of staked verifiers. For each dispute of its `agency` that names it, it draws
///         `jurors` verifiers at random; each re-runs the job, commits to the CID of its output, then
///         reveals it. A revealed CID equal to the worker's result votes for the worker, equal to the
///         challenger's votes for the challenger, any other CID votes `Neither`. A side with a majority of
///         the seats (`jurors / 2 + 1` votes) wins: the jury calls `IJobAgency.resolve`, the agency credits
///         the job's `arbiterFee` (paid out of the loser's bond) to the jury, and the jurors who voted with
///         the majority share that fee and every stake slashed in the dispute. Jurors who do not reveal, or
///         reveal against the majority, lose `slash` wei of their stake.
///
///         Lifecycle of a dispute (every phase has a deadline and a permissionless way on):
///
///           openDispute ──► Drawing ──draw (a block later)──► Voting: commit ─► reveal ─► settle
///                             ▲  │ blockhash aged out:                              │
///                             │  └ draw re-commits to a new block                   ├─ majority: resolve, pay
///                             └──────── no majority in round 1: one re-draw ◄───────┤
///                                                                                   └─ no majority in round 2,
///                           or the agency's dispute window is over: abandoned — the agency's `expire` then
///                           refunds poster, worker and challenger and no fee is charged.
///
///         Audits: a job of the agency selected for a random audit (status `Audited`) is opened with
///         `openAudit` and goes through the same rounds, without a challenger: a revealed CID equal to the
///         worker's votes `WorkerRight`, any other `Neither`. A `WorkerRight` majority passes the audit, a
///         `Neither` majority fails it (the worker loses its bond; the jury collects `arbiterFee`). The
///         audit fees the agency credits the jury (one per job that reached a result, audited or not) go to
///         `auditPool`; each ruled audit pays its majority `auditFee * AUDIT_RATE_SCALE / auditRate` from the
///         pool (the fee / p; less if the pool holds less), on top of the slashed stakes, the reserve and,
///         on a failed audit, the arbiter fee.
///
///         How an auditor participates (a registered verifier; the same calls as a juror):
///           1. Watch the agency's `ResultSubmitted(jobId, …, auditBlock)` for jobs naming this jury. From
///              block `auditBlock + 1` on, `IJobAgency.auditSelected(jobId, auditBlock)` tells whether the job
///              is selected; anyone then calls `IJobAgency.drawAudit(jobId, job)` (event `AuditDrawn`).
///           2. Anyone calls `openAudit(jobId, job)` on the Audited job (event `AuditOpened`, with the draw
///              block), then `draw(jobId, job)` from the next block (event `JurorsDrawn`: the auditors).
///           3. Each drawn auditor re-runs the job, `commit`s `commitmentOf(jobId, auditor, resultCid, salt)`
///              by `commitDeadline`, and `reveal`s after every auditor committed or the commit deadline passed,
///              by `revealDeadline`. A drawn auditor that does not reveal is slashed.
///           4. Anyone calls `settle(jobId, job)` once all revealed or the reveal deadline passed: a majority
///              rules at the agency and the majority is credited (`Rewarded`); without one, round 2 is drawn
///              (`DrawScheduled`), and after it the audit is abandoned and the agency's `expire` pays the
///              worker. Everything must be over by the agency's deadline (`AuditDrawn.deadline`, which is
///              `disputeWindow` after the draw). Then `withdraw`.
///
/// @dev Randomness: the draw is seeded by the hash of the block after `openDispute`'s block, unknown when
///      the dispute opened. Its builder can grind that hash (reorder or drop transactions) and so choose
///      among many juries; everyone else can at most delay the draw. See docs/INCENTIVES.md for how far that
///      bias goes and the stakes that make it unprofitable. The draw is uniform over registered verifiers
///      (one fixed stake buys one seat in the pool): stake weighting would give the same odds to anyone who
///      splits a large stake over many addresses, so a fixed stake per address is the simpler equivalent.
interface IJuryArbiter is IArbiter {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice Where a dispute stands. A ruled dispute has no state (its job left the agency).
    enum Phase {
        None,
        /// Waiting for `draw`, which needs the hash of `drawBlock`.
        Drawing,
        /// Jurors drawn: commit until `commitDeadline`, reveal until `revealDeadline`, then `settle`.
        Voting,
        /// Ended without a ruling; it cannot be opened again, and the agency's `expire` refunds the parties.
        Abandoned
    }

    /// @notice A verifier's stake and standing.
    /// @param stake     Wei staked (less what was slashed).
    /// @param unstakeAt When a verifier that left may `unstake` (zero while in the pool).
    /// @param drawnIn   Open dispute rounds it sits in; it cannot unstake while this is non-zero.
    /// @param poolIndex 1 + its index in the pool; zero when it is not drawable.
    struct Verifier {
        uint96 stake;
        uint40 unstakeAt;
        uint32 drawnIn;
        uint32 poolIndex;
    }

    /// @notice A live dispute.
    /// @param record          The agency's hash of the disputed job's record (`IJobAgency.hashJob`).
    /// @param workerResult    keccak256 of the worker's result CID.
    /// @param challengerResult keccak256 of the challenger's result CID.
    /// @param phase           See `Phase`.
    /// @param round           1, or 2 after a round without a majority.
    /// @param committed       Jurors of this round who committed.
    /// @param forWorker, forChallenger, forNeither  Votes revealed in this round.
    /// @param drawBlock       The block whose hash seeds the draw (while Drawing).
    /// @param commitDeadline  Last second to commit (while Voting).
    /// @param revealDeadline  Last second to reveal (while Voting).
    /// @param slashed         Stakes slashed in earlier rounds of this dispute, paid to the majority at the end.
    struct Dispute {
        bytes32 record;
        bytes32 workerResult;
        bytes32 challengerResult;
        Phase phase;
        uint8 round;
        uint8 committed;
        uint8 forWorker;
        uint8 forChallenger;
        uint8 forNeither;
        uint40 drawBlock;
        uint40 commitDeadline;
        uint40 revealDeadline;
        uint88 slashed;
    }

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `verifier` staked `stake` wei and joined the pool.
    event Registered(address indexed verifier, uint256 stake);
    /// @notice `verifier` left the pool (or was removed when slashing took its stake below the minimum); it
    ///         may unstake from `unstakeAt` once it sits in no open dispute.
    event Left(address indexed verifier, uint40 unstakeAt);
    /// @notice `verifier`'s remaining stake, `amount` wei, was credited to it.
    event Unstaked(address indexed verifier, uint256 amount);
    /// @notice A dispute of job `jobId` opened; its jury is drawn from the hash of `drawBlock`.
    event DisputeOpened(uint256 indexed jobId, uint40 drawBlock);
    /// @notice The audit of job `jobId` opened; its auditors are drawn from the hash of `drawBlock`. From here on
    ///         it is a dispute without a challenger: the same events follow, under the same job id.
    event AuditOpened(uint256 indexed jobId, uint40 drawBlock);
    /// @notice Ruling on job `jobId` collected `collected` wei of audit fees from the agency into the audit
    ///         pool and paid `paid` wei of it to the audit's majority; the pool now holds `pool` wei.
    event AuditPoolChanged(uint256 indexed jobId, uint256 collected, uint256 paid, uint256 pool);
    /// @notice The draw block's hash aged out (more than 256 blocks) or a round ended without a majority; the
    ///         draw now uses `drawBlock`.
    event DrawScheduled(uint256 indexed jobId, uint8 round, uint40 drawBlock);
    /// @notice The jury of `round` was drawn: commit by `commitDeadline`, reveal by `revealDeadline`.
    event JurorsDrawn(
        uint256 indexed jobId, uint8 round, address[] jurors, uint40 commitDeadline, uint40 revealDeadline
    );
    /// @notice `juror` committed to a result.
    event Committed(uint256 indexed jobId, address indexed juror, bytes32 commitment);
    /// @notice `juror` revealed `resultCid`, which counts as `vote` (WorkerRight, ChallengerRight or Neither).
    event Revealed(uint256 indexed jobId, address indexed juror, bytes resultCid, IJobAgency.Ruling vote);
    /// @notice `juror` lost `amount` wei of stake: it did not reveal, or it voted against the majority.
    event Slashed(uint256 indexed jobId, address indexed juror, uint256 amount);
    /// @notice `juror` voted with the majority and was credited `amount` wei.
    event Rewarded(uint256 indexed jobId, address indexed juror, uint256 amount);
    /// @notice The dispute ended without a ruling; `toReserve` wei of slashed stake went to the reserve that
    ///         tops up the next ruled dispute's reward. The agency's `expire` refunds the parties.
    event DisputeAbandoned(uint256 indexed jobId, uint256 toReserve);
    /// @notice `account` withdrew `amount` wei of credit.
    event Withdrawn(address indexed account, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice A constructor parameter is out of range: `jurors` must be odd and at most `MAX_JURORS`,
    ///         `slash` at most `stake`, `stake` non-zero and below 2^80, the periods non-zero and at most
    ///         365 days, the agency non-zero.
    error JuryArbiter_InvalidParameters();
    /// @notice `msg.value` is not the stake.
    error JuryArbiter_WrongValue(uint256 expected, uint256 actual);
    /// @notice The caller already has a stake (in the pool, or left and not yet unstaked).
    error JuryArbiter_AlreadyRegistered();
    /// @notice The caller is not in the pool (for `leave`) or has no stake (for `unstake`).
    error JuryArbiter_NotRegistered();
    /// @notice The caller is still in the pool: `leave` first.
    error JuryArbiter_StillInPool();
    /// @notice The cooldown after leaving runs until `unstakeAt`.
    error JuryArbiter_CoolingDown(uint40 unstakeAt);
    /// @notice The caller sits in `drawnIn` open dispute rounds.
    error JuryArbiter_StillDrawn(uint32 drawnIn);
    /// @notice The record is not the agency's current record of a Disputed job (an Audited one, for
    ///         `openAudit`) naming this jury.
    error JuryArbiter_NotDisputed(uint256 jobId);
    /// @notice The job's `arbiterFee` is below the jury's `minFee`: the jury does not take the dispute and the
    ///         agency's dispute timeout refunds everyone. For `openAudit`, also when the audit's pay,
    ///         `auditFee * AUDIT_RATE_SCALE / auditRate`, is below `minFee` (the agency's audit timeout then pays
    ///         the worker and refunds the audit fee).
    error JuryArbiter_FeeTooLow(uint256 fee, uint256 minFee);
    /// @notice Less than one commit and reveal period is left of the agency's dispute window.
    error JuryArbiter_DisputeWindowTooShort(uint40 ruleDeadline);
    /// @notice The job already has an open dispute here.
    error JuryArbiter_DisputeExists(uint256 jobId);
    /// @notice The job has no open dispute here.
    error JuryArbiter_NoDispute(uint256 jobId);
    /// @notice The record passed in is not the one the dispute was opened with.
    error JuryArbiter_WrongRecord(uint256 jobId);
    /// @notice The dispute is not in the phase this call needs.
    error JuryArbiter_WrongPhase(Phase phase);
    /// @notice The call is allowed only after `time` (a block number for `draw`, a timestamp otherwise).
    error JuryArbiter_TooEarly(uint256 time);
    /// @notice The phase's deadline `deadline` has passed.
    error JuryArbiter_TooLate(uint256 deadline);
    /// @notice Fewer than `jurors` verifiers other than the poster, worker and challenger are in the pool.
    error JuryArbiter_PoolTooSmall(uint256 eligible);
    /// @notice The caller is not a juror of this round, or has already committed (for `commit`) or has not
    ///         committed or already revealed (for `reveal`).
    error JuryArbiter_NotYourTurn(address caller);
    /// @notice The commitment is zero or one of the small values that mark a seat's state.
    error JuryArbiter_InvalidCommitment();
    /// @notice The revealed CID and salt do not open the juror's commitment.
    error JuryArbiter_CommitmentMismatch();
    /// @notice There is no credit to withdraw.
    error JuryArbiter_NoCredit();
    /// @notice Sending the credit failed; the credit is kept.
    error JuryArbiter_TransferFailed();
    /// @notice A call re-entered the jury while it was sending ETH.
    error JuryArbiter_Reentrancy();
    /// @notice ETH came from somewhere other than the agency's `withdraw`.
    error JuryArbiter_UnexpectedEther();

    /*//////////////////////////////////////////////////////////////
                               VERIFIERS
    //////////////////////////////////////////////////////////////*/

    /// @notice Stakes exactly `stake()` wei and joins the pool. Emits `Registered`.
    function register() external payable;

    /// @notice Leaves the pool: the caller is drawn no more, and may unstake after `cooldown()` seconds once
    ///         it sits in no open dispute. Emits `Left`.
    function leave() external;

    /// @notice Credits a verifier that left its remaining stake, once the cooldown is over and it sits in no
    ///         open dispute round. Emits `Unstaked`.
    function unstake() external;

    /*//////////////////////////////////////////////////////////////
                                DISPUTES
    //////////////////////////////////////////////////////////////*/

    /// @notice Opens the dispute of a Disputed job of `agency()` that names this jury, carries at least
    ///         `minFee()` and leaves at least one commit and reveal period of its dispute window. Anyone may
    ///         call. The jury is drawn from the hash of the next block. Emits `DisputeOpened`.
    function openDispute(uint256 jobId, IJobAgency.Job calldata job) external;

    /// @notice Opens the audit of an Audited job of `agency()` that names this jury, on the same terms as
    ///         `openDispute` (at least `minFee()` of `arbiterFee`, one commit and reveal period left before the
    ///         agency's deadline), and only if the audit's pay from the pool, the job's `auditFee` / p, is at
    ///         least `minFee()` too, so that nobody can make drawn auditors work for less. Anyone may call. Emits `AuditOpened`; the rest is as for a dispute, with no
    ///         challenger's result to vote for.
    function openAudit(uint256 jobId, IJobAgency.Job calldata job) external;

    /// @notice Draws the round's `jurors()` jurors, never the job's poster, worker or challenger, uniformly
    ///         from the pool using the hash of `drawBlock`. Anyone may call, from the block after `drawBlock`.
    ///         If that hash has aged out, re-schedules the draw to the next block instead (`DrawScheduled`).
    ///         Emits `JurorsDrawn`.
    function draw(uint256 jobId, IJobAgency.Job calldata job) external;

    /// @notice A drawn juror commits `commitmentOf(jobId, msg.sender, resultCid, salt)` by the commit
    ///         deadline (inclusive). Emits `Committed`.
    function commit(uint256 jobId, bytes32 commitment) external;

    /// @notice A juror that committed reveals its result after the commit phase (or as soon as every juror
    ///         has committed) and by the reveal deadline (inclusive). Emits `Revealed`.
    function reveal(uint256 jobId, bytes calldata resultCid, bytes32 salt) external;

    /// @notice Ends the round once every juror revealed or the reveal deadline passed (or, in any phase, once
    ///         the agency's dispute window is over). Anyone may call. Jurors who did not reveal by the
    ///         deadline, and on a ruling those who voted against it, lose `slash()` of their stake. A majority
    ///         makes the jury `resolve` the job at the agency, collect the fee, and credit it with every slashed
    ///         stake and the reserve to the majority's jurors. Without a majority, round 1 schedules a re-draw;
    ///         round 2, or an agency dispute window that is over, abandons the dispute (`DisputeAbandoned`).
    function settle(uint256 jobId, IJobAgency.Job calldata job) external;

    /*//////////////////////////////////////////////////////////////
                                CREDITS
    //////////////////////////////////////////////////////////////*/

    /// @notice Sends the caller all its credit (rewards and unstaked stake). Emits `Withdrawn`.
    function withdraw() external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The largest jury size.
    function MAX_JURORS() external view returns (uint256);
    /// @notice The only agency whose disputes this jury takes.
    function agency() external view returns (IJobAgency);
    /// @notice Jurors per round (odd).
    function jurors() external view returns (uint256);
    /// @notice Wei a verifier stakes to join.
    function stake() external view returns (uint256);
    /// @notice Wei taken from a juror that does not reveal or votes against the majority.
    function slash() external view returns (uint256);
    /// @notice The least `arbiterFee` a job must carry for the jury to take its dispute.
    function minFee() external view returns (uint256);
    /// @notice Seconds between `leave` and `unstake`.
    function cooldown() external view returns (uint256);
    /// @notice Seconds jurors have to commit after the draw.
    function commitPeriod() external view returns (uint256);
    /// @notice Seconds jurors have to reveal after the commit deadline.
    function revealPeriod() external view returns (uint256);
    /// @notice Slashed stakes of abandoned disputes, added to the next ruled dispute's reward.
    function reserve() external view returns (uint256);
    /// @notice Audit fees collected from the agency and not yet paid to auditors.
    function auditPool() external view returns (uint256);
    /// @notice Verifiers in the pool.
    function poolSize() external view returns (uint256);
    /// @notice The verifier at `index` of the pool.
    function poolAt(uint256 index) external view returns (address);
    /// @notice A verifier's stake and standing.
    function verifierOf(address account) external view returns (Verifier memory);
    /// @notice A live dispute (all zero when there is none).
    function disputeOf(uint256 jobId) external view returns (Dispute memory);
    /// @notice The jurors of the dispute's current round (empty while Drawing).
    function jurorsOf(uint256 jobId) external view returns (address[] memory);
    /// @notice Wei `account` can withdraw.
    function creditOf(address account) external view returns (uint256);
    /// @notice The commitment a juror sends: `keccak256(abi.encode(jobId, juror, resultCid, salt))`, bound to
    ///         its address so that nobody can reveal a copy of it.
    function commitmentOf(uint256 jobId, address juror, bytes calldata resultCid, bytes32 salt)
        external
        pure
        returns (bytes32);
}
