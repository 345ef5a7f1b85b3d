// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IArbiter} from "../interfaces/IArbiter.sol";
import {IJobAgency} from "../interfaces/IJobAgency.sol";
import {IJuryArbiter} from "../interfaces/IJuryArbiter.sol";
import {CidLib} from "../libraries/CidLib.sol";
import {CreditLib} from "../libraries/CreditLib.sol";

/// @title JuryArbiter
/// @notice Staked verifiers, drawn per dispute, re-run the job and commit–reveal its result CID; the majority
///         rules. See `IJuryArbiter` for the rules and docs/INCENTIVES.md for why they pay.
/// @dev ETH held here is always Σ verifier stakes + Σ credits + `reserve` + `auditPool` + Σ `slashed` of
///      disputes between rounds, exactly: stakes only move to credits (unstake) or to the dispute's `slashed` (slash), and from
///      there to credits or the reserve; what the agency credits is withdrawn in the `settle` that rules, and
///      split there between the jurors (the fee) and the audit pool (audit fees).
contract JuryArbiter is IJuryArbiter {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJuryArbiter
    uint256 public constant MAX_JURORS = 31;

    /// @dev Seat words (`_seats`): 0 no seat, 1 drawn, 2-4 revealed a vote for Ruling 1-3 (value = ruling + 1),
    ///      anything else is the juror's commitment (a keccak256, which `commit` checks is above 4).
    uint256 private constant _SEAT_DRAWN = 1;
    uint256 private constant _SEAT_MAX_MARK = 4;

    /// @dev Transient slot of the reentrancy lock held while `withdraw` sends ETH.
    ///      keccak256("jsjob.JuryArbiter.lock") - 1.
    uint256 private constant _LOCK_SLOT = 0x6a10374be6ca5cbb7a380ae9f0d4a796221d5007aad62803bd6acee26c0087a8;

    /*//////////////////////////////////////////////////////////////
                               PARAMETERS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJuryArbiter
    IJobAgency public immutable agency;
    /// @inheritdoc IJuryArbiter
    uint256 public immutable jurors;
    /// @inheritdoc IJuryArbiter
    uint256 public immutable stake;
    /// @inheritdoc IJuryArbiter
    uint256 public immutable slash;
    /// @inheritdoc IJuryArbiter
    uint256 public immutable minFee;
    /// @inheritdoc IJuryArbiter
    uint256 public immutable cooldown;
    /// @inheritdoc IJuryArbiter
    uint256 public immutable commitPeriod;
    /// @inheritdoc IJuryArbiter
    uint256 public immutable revealPeriod;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJuryArbiter
    uint256 public reserve;

    /// @inheritdoc IJuryArbiter
    uint256 public auditPool;

    /// @dev The drawable verifiers; `Verifier.poolIndex` is 1 + the index here.
    address[] private _pool;

    /// @dev One word per verifier (96 + 40 + 32 + 32 bits).
    mapping(address account => Verifier) private _verifiers;

    /// @dev Four words per live dispute; the last packs phase, round, counters, the three times and `slashed`.
    mapping(uint256 jobId => Dispute) private _disputes;

    /// @dev The current round's jurors.
    mapping(uint256 jobId => address[]) private _roundJurors;

    /// @dev The current round's seat words, laid out as documented at `_SEAT_DRAWN`.
    mapping(uint256 jobId => mapping(address juror => uint256 seat)) private _seats;

    /// @dev Wei each account can withdraw.
    mapping(address account => uint256) private _credits;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param _agency  The agency whose disputes this jury takes.
    /// @param _jurors  Jurors per round: odd, 1 to `MAX_JURORS`.
    /// @param _stake   Wei a verifier stakes (non-zero).
    /// @param _slash   Wei a juror loses for not revealing or voting against the majority (at most `_stake`).
    /// @param _minFee  The least `arbiterFee` of a job whose dispute the jury takes.
    /// @param _cooldown Seconds between `leave` and `unstake`.
    /// @param _commitPeriod, _revealPeriod  Seconds of each voting phase (non-zero).
    constructor(
        IJobAgency _agency,
        uint256 _jurors,
        uint256 _stake,
        uint256 _slash,
        uint256 _minFee,
        uint256 _cooldown,
        uint256 _commitPeriod,
        uint256 _revealPeriod
    ) {
        if (
            address(_agency) == address(0) || _jurors % 2 == 0 || _jurors > MAX_JURORS || _stake == 0
                || _stake > type(uint80).max || _slash > _stake || _commitPeriod == 0 || _revealPeriod == 0
                || _commitPeriod > 365 days || _revealPeriod > 365 days || _cooldown > 365 days
                || _minFee > type(uint96).max
        ) revert JuryArbiter_InvalidParameters();
        agency = _agency;
        jurors = _jurors;
        stake = _stake;
        slash = _slash;
        minFee = _minFee;
        cooldown = _cooldown;
        commitPeriod = _commitPeriod;
        revealPeriod = _revealPeriod;
    }

    /// @dev Only the agency's `withdraw` pays this contract (the fees it credited).
    receive() external payable {
        if (msg.sender != address(agency)) revert JuryArbiter_UnexpectedEther();
    }

    /// @inheritdoc IArbiter
    function kind() external pure returns (string memory) {
        return "jury";
    }

    /*//////////////////////////////////////////////////////////////
                               VERIFIERS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJuryArbiter
    function register() external payable {
        Verifier storage v = _verifiers[msg.sender];
        if (v.stake != 0 || v.poolIndex != 0) revert JuryArbiter_AlreadyRegistered();
        if (msg.value != stake) revert JuryArbiter_WrongValue(stake, msg.value);
        _pool.push(msg.sender);
        // Both fit: `stake` is checked against uint96 in the constructor, and a pool of 2^32 addresses would
        // cost more gas than exists.
        // forge-lint: disable-next-line(unsafe-typecast)
        v.stake = uint96(msg.value);
        // forge-lint: disable-next-line(unsafe-typecast)
        v.poolIndex = uint32(_pool.length);
        v.unstakeAt = 0;
        emit Registered(msg.sender, msg.value);
    }

    /// @inheritdoc IJuryArbiter
    function leave() external {
        if (_verifiers[msg.sender].poolIndex == 0) revert JuryArbiter_NotRegistered();
        _removeFromPool(msg.sender);
    }

    /// @inheritdoc IJuryArbiter
    function unstake() external {
        Verifier storage v = _verifiers[msg.sender];
        if (v.poolIndex != 0) revert JuryArbiter_StillInPool();
        uint256 amount = v.stake;
        if (amount == 0) revert JuryArbiter_NotRegistered();
        if (block.timestamp < v.unstakeAt) revert JuryArbiter_CoolingDown(v.unstakeAt);
        if (v.drawnIn != 0) revert JuryArbiter_StillDrawn(v.drawnIn);
        v.stake = 0;
        _credits[msg.sender] += amount;
        emit Unstaked(msg.sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                DISPUTES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJuryArbiter
    function openDispute(uint256 jobId, IJobAgency.Job calldata job) external {
        emit DisputeOpened(jobId, _open(jobId, job, IJobAgency.Status.Disputed));
    }

    /// @inheritdoc IJuryArbiter
    function openAudit(uint256 jobId, IJobAgency.Job calldata job) external {
        emit AuditOpened(jobId, _open(jobId, job, IJobAgency.Status.Audited));
    }

    /// @dev Opens a dispute (`status` Disputed) or an audit (`status` Audited, no challenger's result) of `job`
    ///      and returns its draw block.
    function _open(uint256 jobId, IJobAgency.Job calldata job, IJobAgency.Status status)
        private
        returns (uint40 drawBlock_)
    {
        Dispute storage d = _disputes[jobId];
        if (d.phase == Phase.Abandoned) revert JuryArbiter_WrongPhase(Phase.Abandoned);
        if (d.phase != Phase.None) revert JuryArbiter_DisputeExists(jobId);
        bytes32 record = keccak256(abi.encode(job));
        if (job.arbiter != address(this) || job.status != status || agency.jobHash(jobId) != record) {
            revert JuryArbiter_NotDisputed(jobId);
        }
        if (job.arbiterFee < minFee) revert JuryArbiter_FeeTooLow(job.arbiterFee, minFee);
        if (status == IJobAgency.Status.Audited) {
            // What the audit pays from the pool, fee / p, must be worth a jury's time too: drawn auditors must
            // answer or be slashed, so a job must not buy their work for less than a dispute's fee.
            uint256 pay = job.auditFee * agency.AUDIT_RATE_SCALE() / agency.auditRate();
            if (pay < minFee) revert JuryArbiter_FeeTooLow(pay, minFee);
        }
        // At least one full round must fit before the agency stops accepting a ruling.
        if (block.timestamp + commitPeriod + revealPeriod > job.deadline) {
            revert JuryArbiter_DisputeWindowTooShort(job.deadline);
        }
        d.record = record;
        d.workerResult = job.result;
        // An audit has no challenger's result: zero, which no revealed CID hashes to.
        if (status == IJobAgency.Status.Disputed) d.challengerResult = job.challenge;
        d.phase = Phase.Drawing;
        d.round = 1;
        drawBlock_ = _nextBlock();
        d.drawBlock = drawBlock_;
    }

    /// @inheritdoc IJuryArbiter
    function draw(uint256 jobId, IJobAgency.Job calldata job) external {
        Dispute storage d = _dispute(jobId, job);
        if (d.phase != Phase.Drawing) revert JuryArbiter_WrongPhase(d.phase);
        uint256 drawBlock = d.drawBlock;
        if (block.number <= drawBlock) revert JuryArbiter_TooEarly(drawBlock);
        bytes32 hash = blockhash(drawBlock);
        if (hash == bytes32(0)) {
            // Older than 256 blocks: nobody drew in time. Commit to the next block instead; whoever delayed
            // gains nothing but a fresh, equally unknown hash.
            d.drawBlock = _nextBlock();
            emit DrawScheduled(jobId, d.round, d.drawBlock);
            return;
        }
        address[] memory drawn = _drawJurors(keccak256(abi.encode(hash, jobId, d.round)), job);
        mapping(address => uint256) storage seats = _seats[jobId];
        for (uint256 i; i < drawn.length; ++i) {
            seats[drawn[i]] = _SEAT_DRAWN;
            ++_verifiers[drawn[i]].drawnIn;
        }
        _roundJurors[jobId] = drawn;
        d.phase = Phase.Voting;
        d.drawBlock = 0;
        d.commitDeadline = _after(commitPeriod);
        d.revealDeadline = _after(commitPeriod + revealPeriod);
        emit JurorsDrawn(jobId, d.round, drawn, d.commitDeadline, d.revealDeadline);
    }

    /// @inheritdoc IJuryArbiter
    function commit(uint256 jobId, bytes32 commitment) external {
        Dispute storage d = _disputes[jobId];
        if (d.phase != Phase.Voting) revert JuryArbiter_WrongPhase(d.phase);
        if (block.timestamp > d.commitDeadline) revert JuryArbiter_TooLate(d.commitDeadline);
        if (uint256(commitment) <= _SEAT_MAX_MARK) revert JuryArbiter_InvalidCommitment();
        mapping(address => uint256) storage seats = _seats[jobId];
        if (seats[msg.sender] != _SEAT_DRAWN) revert JuryArbiter_NotYourTurn(msg.sender);
        seats[msg.sender] = uint256(commitment);
        ++d.committed;
        emit Committed(jobId, msg.sender, commitment);
    }

    /// @inheritdoc IJuryArbiter
    function reveal(uint256 jobId, bytes calldata resultCid, bytes32 salt) external {
        Dispute storage d = _disputes[jobId];
        if (d.phase != Phase.Voting) revert JuryArbiter_WrongPhase(d.phase);
        // Reveals wait until nobody can commit any more, so that a revealed CID cannot be copied into a commit.
        if (block.timestamp <= d.commitDeadline && d.committed < jurors) {
            revert JuryArbiter_TooEarly(d.commitDeadline);
        }
        if (block.timestamp > d.revealDeadline) revert JuryArbiter_TooLate(d.revealDeadline);
        mapping(address => uint256) storage seats = _seats[jobId];
        uint256 seat = seats[msg.sender];
        if (seat <= _SEAT_MAX_MARK) revert JuryArbiter_NotYourTurn(msg.sender);
        CidLib.check(resultCid);
        if (commitmentOf(jobId, msg.sender, resultCid, salt) != bytes32(seat)) {
            revert JuryArbiter_CommitmentMismatch();
        }
        bytes32 result = keccak256(resultCid);
        IJobAgency.Ruling vote;
        if (result == d.workerResult) {
            vote = IJobAgency.Ruling.WorkerRight;
            ++d.forWorker;
        } else if (result == d.challengerResult) {
            vote = IJobAgency.Ruling.ChallengerRight;
            ++d.forChallenger;
        } else {
            vote = IJobAgency.Ruling.Neither;
            ++d.forNeither;
        }
        seats[msg.sender] = uint256(vote) + 1;
        emit Revealed(jobId, msg.sender, resultCid, vote);
    }

    /// @inheritdoc IJuryArbiter
    function settle(uint256 jobId, IJobAgency.Job calldata job) external {
        Dispute storage d = _dispute(jobId, job);
        // Past the agency's rule-by deadline no ruling is accepted: the dispute can only be abandoned.
        bool ruleable = block.timestamp <= job.deadline;
        IJobAgency.Ruling ruling;
        if (d.phase == Phase.Drawing) {
            if (ruleable) revert JuryArbiter_TooEarly(job.deadline);
        } else {
            uint256 revealed = uint256(d.forWorker) + d.forChallenger + d.forNeither;
            if (ruleable && block.timestamp <= d.revealDeadline && revealed < jurors) {
                revert JuryArbiter_TooEarly(d.revealDeadline);
            }
            if (ruleable) ruling = _majority(d);
            // At most 2 rounds x 31 jurors x a stake below 2^80: fits in 88 bits.
            // forge-lint: disable-next-line(unsafe-typecast)
            d.slashed += uint88(_closeRound(jobId, d.revealDeadline, ruling));
        }
        if (ruling != IJobAgency.Ruling.None) {
            _rule(jobId, job, d, ruling);
        } else if (ruleable && d.round == 1) {
            d.phase = Phase.Drawing;
            d.round = 2;
            d.committed = 0;
            d.forWorker = 0;
            d.forChallenger = 0;
            d.forNeither = 0;
            d.drawBlock = _nextBlock();
            d.commitDeadline = 0;
            d.revealDeadline = 0;
            emit DrawScheduled(jobId, 2, d.drawBlock);
        } else {
            uint256 toReserve = d.slashed;
            reserve += toReserve;
            delete _disputes[jobId];
            // A tombstone, so that the dispute cannot be opened a third time.
            _disputes[jobId].phase = Phase.Abandoned;
            emit DisputeAbandoned(jobId, toReserve);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                CREDITS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJuryArbiter
    function withdraw() external {
        if (CreditLib.isLocked(_LOCK_SLOT)) revert JuryArbiter_Reentrancy();
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert JuryArbiter_NoCredit();
        _credits[msg.sender] = 0;
        if (!CreditLib.sendToCaller(_LOCK_SLOT, amount)) revert JuryArbiter_TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJuryArbiter
    function poolSize() external view returns (uint256) {
        return _pool.length;
    }

    /// @inheritdoc IJuryArbiter
    function poolAt(uint256 index) external view returns (address) {
        return _pool[index];
    }

    /// @inheritdoc IJuryArbiter
    function verifierOf(address account) external view returns (Verifier memory) {
        return _verifiers[account];
    }

    /// @inheritdoc IJuryArbiter
    function disputeOf(uint256 jobId) external view returns (Dispute memory) {
        return _disputes[jobId];
    }

    /// @inheritdoc IJuryArbiter
    function jurorsOf(uint256 jobId) external view returns (address[] memory) {
        return _roundJurors[jobId];
    }

    /// @inheritdoc IJuryArbiter
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IJuryArbiter
    function commitmentOf(uint256 jobId, address juror, bytes calldata resultCid, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(jobId, juror, resultCid, salt));
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev The live dispute of `jobId`, after checking that `job` is the record it was opened with.
    function _dispute(uint256 jobId, IJobAgency.Job calldata job) private view returns (Dispute storage d_) {
        d_ = _disputes[jobId];
        if (d_.phase == Phase.None) revert JuryArbiter_NoDispute(jobId);
        if (d_.phase == Phase.Abandoned) revert JuryArbiter_WrongPhase(Phase.Abandoned);
        if (d_.record != keccak256(abi.encode(job))) revert JuryArbiter_WrongRecord(jobId);
    }

    /// @dev `jurors` distinct verifiers from the pool, none of them a party to the job: a Fisher–Yates shuffle
    ///      of the pool's indices, done lazily (only the swapped positions are kept, in memory), stopped once
    ///      the jury is full. Each step draws uniformly from the positions not yet drawn, so every jury of
    ///      eligible verifiers is equally likely. At most three parties are skipped, so it takes at most
    ///      `jurors + 3` steps.
    function _drawJurors(bytes32 seed, IJobAgency.Job calldata job)
        private
        view
        returns (address[] memory drawn_)
    {
        uint256 n = _pool.length;
        uint256 k = jurors;
        drawn_ = new address[](k);
        uint256[] memory swappedAt = new uint256[](k + 3);
        uint256[] memory swappedTo = new uint256[](k + 3);
        uint256 swaps;
        uint256 seated;
        for (uint256 i; i < n && seated < k; ++i) {
            uint256 r = i + uint256(keccak256(abi.encode(seed, i))) % (n - i);
            // Position r holds what an earlier swap put there, else its own index; same for position i.
            uint256 atR = r;
            uint256 atI = i;
            uint256 slotR = type(uint256).max;
            for (uint256 s; s < swaps; ++s) {
                if (swappedAt[s] == r) {
                    atR = swappedTo[s];
                    slotR = s;
                }
                if (swappedAt[s] == i) atI = swappedTo[s];
            }
            // Move what was at i to r (i is never read again).
            if (slotR == type(uint256).max) {
                swappedAt[swaps] = r;
                swappedTo[swaps] = atI;
                ++swaps;
            } else {
                swappedTo[slotR] = atI;
            }
            address candidate = _pool[atR];
            if (candidate == job.poster || candidate == job.worker || candidate == job.challenger) continue;
            drawn_[seated++] = candidate;
        }
        if (seated < k) revert JuryArbiter_PoolTooSmall(seated);
    }

    /// @dev The ruling a majority of the seats voted for, or `None`.
    function _majority(Dispute storage d) private view returns (IJobAgency.Ruling) {
        uint256 quorum = jurors / 2 + 1;
        if (d.forWorker >= quorum) return IJobAgency.Ruling.WorkerRight;
        if (d.forChallenger >= quorum) return IJobAgency.Ruling.ChallengerRight;
        if (d.forNeither >= quorum) return IJobAgency.Ruling.Neither;
        return IJobAgency.Ruling.None;
    }

    /// @dev Releases the round's jurors and slashes those at fault: no reveal by `revealDeadline` (only once it
    ///      has passed: a round cut short by the agency's deadline blames nobody still in time), or, when
    ///      `ruling` is set, a vote against it. Keeps the seats of the majority's jurors (for `_rule` to pay)
    ///      and deletes the others. Returns the wei slashed.
    function _closeRound(uint256 jobId, uint40 revealDeadline, IJobAgency.Ruling ruling)
        private
        returns (uint256 slashed_)
    {
        address[] storage round = _roundJurors[jobId];
        mapping(address => uint256) storage seats = _seats[jobId];
        uint256 winningSeat = ruling == IJobAgency.Ruling.None ? 0 : uint256(ruling) + 1;
        bool revealOver = block.timestamp > revealDeadline;
        uint256 k = round.length;
        for (uint256 i; i < k; ++i) {
            address juror = round[i];
            uint256 seat = seats[juror];
            Verifier storage v = _verifiers[juror];
            --v.drawnIn;
            if (seat == winningSeat) continue;
            delete seats[juror];
            bool revealed = seat > _SEAT_DRAWN && seat <= _SEAT_MAX_MARK;
            if ((!revealed && revealOver) || (revealed && winningSeat != 0)) {
                uint256 amount = v.stake < slash ? v.stake : slash;
                if (amount == 0) continue;
                // forge-lint: disable-next-line(unsafe-typecast)
                v.stake -= uint96(amount);
                slashed_ += amount;
                emit Slashed(jobId, juror, amount);
                // A verifier below the stake is no longer drawable.
                if (v.poolIndex != 0) _removeFromPool(juror);
            }
        }
        if (winningSeat == 0) delete _roundJurors[jobId];
    }

    /// @dev Rules at the agency, collects what the agency credited, and credits the fee (and, for an audit, its
    ///      pay from the audit pool), the dispute's slashed stakes and the reserve to the jurors who voted with
    ///      the ruling (equal shares, the rounding dust to the first).
    function _rule(uint256 jobId, IJobAgency.Job calldata job, Dispute storage d, IJobAgency.Ruling ruling)
        private
    {
        uint256 winners = ruling == IJobAgency.Ruling.WorkerRight
            ? d.forWorker
            : ruling == IJobAgency.Ruling.ChallengerRight ? d.forChallenger : d.forNeither;
        uint256 pot = uint256(d.slashed) + reserve;
        reserve = 0;
        delete _disputes[jobId];
        emit Ruled(agency, jobId, ruling);
        agency.resolve(jobId, job, ruling);
        pot += _collect(jobId, job, ruling);
        address[] storage round = _roundJurors[jobId];
        mapping(address => uint256) storage seats = _seats[jobId];
        uint256 winningSeat = uint256(ruling) + 1;
        uint256 share = pot / winners;
        uint256 dust = pot - share * winners;
        uint256 k = round.length;
        for (uint256 i; i < k; ++i) {
            address juror = round[i];
            if (seats[juror] != winningSeat) continue;
            delete seats[juror];
            uint256 amount = share + dust;
            dust = 0;
            _credits[juror] += amount;
            emit Rewarded(jobId, juror, amount);
        }
        delete _roundJurors[jobId];
    }

    /// @dev Withdraws this jury's agency credit right after `resolve`: the ruling's arbiter fee (none when an
    ///      audit passed), plus audit fees (this job's and those of jobs that closed since the last collection),
    ///      which go to the audit pool. Returns the jurors' part: the fee, and for an audit its pay from the pool,
    ///      `auditFee / p`, capped by what the pool holds.
    function _collect(uint256 jobId, IJobAgency.Job calldata job, IJobAgency.Ruling ruling)
        private
        returns (uint256 toJurors_)
    {
        bool audit = job.status == IJobAgency.Status.Audited;
        toJurors_ = audit && ruling == IJobAgency.Ruling.WorkerRight ? 0 : job.arbiterFee;
        uint256 credit = agency.creditOf(address(this));
        if (credit != 0) agency.withdraw();
        // The agency credited at least the fee in this very call, so `credit >= toJurors_`.
        uint256 collected = credit - toJurors_;
        uint256 paid;
        if (audit) {
            // An audited job had an audit draw, so the agency's rate is not zero.
            paid = job.auditFee * agency.AUDIT_RATE_SCALE() / agency.auditRate();
            uint256 available = auditPool + collected;
            if (paid > available) paid = available;
        }
        if (collected == 0 && paid == 0) return toJurors_;
        auditPool = auditPool + collected - paid;
        emit AuditPoolChanged(jobId, collected, paid, auditPool);
        toJurors_ += paid;
    }

    /// @dev Takes `account` out of the pool (swap with the last, pop) and starts its cooldown.
    function _removeFromPool(address account) private {
        Verifier storage v = _verifiers[account];
        uint256 index = v.poolIndex - 1;
        address last = _pool[_pool.length - 1];
        _pool[index] = last;
        _verifiers[last].poolIndex = v.poolIndex;
        _pool.pop();
        v.poolIndex = 0;
        v.unstakeAt = _after(cooldown);
        emit Left(account, v.unstakeAt);
    }

    /// @dev The next block's number, whose hash nobody knows yet.
    function _nextBlock() private view returns (uint40) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint40(block.number + 1);
    }

    /// @dev `block.timestamp + period`; periods are at most two years, so this fits in uint40.
    function _after(uint256 period) private view returns (uint40) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint40(block.timestamp + period);
    }
}
