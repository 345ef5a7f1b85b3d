// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IJobAgency} from "./interfaces/IJobAgency.sol";
import {CidLib} from "./libraries/CidLib.sol";
import {CreditLib} from "./libraries/CreditLib.sol";

/// @title JobAgency
/// @notice Escrow, bonds, challenge windows and credits for JavaScript jobs. See `IJobAgency` for the rules.
/// @dev Gas design: one storage word per live job (the hash of its `Job` record) and one word per address
///      (credit and reputation counters together). A record is 20 static words; its hash is taken over
///      the raw calldata, which is safe because any bytes that hash to the stored value are the exact
///      clean encoding that was stored.
contract JobAgency is IJobAgency {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobAgency
    uint256 public constant MAX_INLINE_OPTIONS = 4096;

    /// @inheritdoc IJobAgency
    uint256 public constant MAX_PERIOD = 365 days;

    /// @inheritdoc IJobAgency
    uint256 public constant AUDIT_RATE_SCALE = 10_000;

    /// @dev Size of an ABI-encoded `Job`: 20 words.
    uint256 private constant _JOB_SIZE = 20 * 32;

    /// @dev Transient slot of the reentrancy lock held while `withdraw` sends ETH.
    ///      keccak256("jsjob.JobAgency.lock") - 1.
    uint256 private constant _LOCK_SLOT = 0xdb26310744e3bf28f0a2247c80f99994037618cf6a4e2129d3d3db6a82943d46;

    /// @dev Account word layout: bits 0-127 credit in wei (more than all ETH there is), 128-191 finalized,
    ///      192-223 disputes lost, 224-255 deadlines missed. One word, so that paying a worker and counting
    ///      its finalized job is a single storage write.
    uint256 private constant _CREDIT_MASK = 0xffffffffffffffffffffffffffffffff; // type(uint128).max
    uint256 private constant _ONE_FINALIZED = 1 << 128;
    uint256 private constant _ONE_DISPUTE_LOST = 1 << 192;
    uint256 private constant _ONE_DEADLINE_MISSED = 1 << 224;

    /*//////////////////////////////////////////////////////////////
                               PARAMETERS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobAgency
    uint256 public immutable auditRate;

    /// @inheritdoc IJobAgency
    uint256 public immutable minAuditFee;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev jobId => keccak256(abi.encode(Job)); zero when unknown or closed.
    mapping(uint256 jobId => bytes32 recordHash) private _jobs;

    /// @dev account => credit and reputation counters, packed as documented at `_CREDIT_MASK`.
    mapping(address account => uint256 word) private _accounts;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param _auditRate   Probability, in `AUDIT_RATE_SCALE` units, that a job with an audit fee is audited.
    /// @param _minAuditFee The least `auditFee` a job must carry (zero lets posters opt out of audits).
    constructor(uint256 _auditRate, uint256 _minAuditFee) {
        if (_auditRate > AUDIT_RATE_SCALE || _minAuditFee > type(uint96).max) {
            revert JobAgency_InvalidParameters();
        }
        auditRate = _auditRate;
        minAuditFee = _minAuditFee;
    }

    /*//////////////////////////////////////////////////////////////
                            POSTER FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobAgency
    function post(JobSpec calldata spec) external payable returns (uint256 jobId_) {
        // First: everything below reads the spec through the layout this checks.
        bytes memory encoded = _canonicalSpec();
        CidLib.check(spec.codeCid);
        CidLib.check(spec.inputCid);
        _checkOptions(spec.options);
        _checkTerms();

        bytes32 specHash = keccak256(encoded);
        jobId_ = jobIdOf(msg.sender, block.number, specHash);
        if (_jobs[jobId_] != bytes32(0)) revert JobAgency_DuplicateJob(jobId_);
        Job memory job = _newRecord(specHash);
        _jobs[jobId_] = _hashMemory(job);
        // emit JobPosted(jobId_, msg.sender, spec), reusing the encoding above.
        bytes32 topic = JobPosted.selector;
        assembly ("memory-safe") {
            log3(add(encoded, 0x20), mload(encoded), topic, jobId_, caller())
        }
    }

    /// @inheritdoc IJobAgency
    function cancel(uint256 jobId, Job calldata job) external {
        _checkRecord(jobId, job);
        if (job.status != Status.Open) revert JobAgency_WrongStatus(job.status);
        if (msg.sender != job.poster) revert JobAgency_Unauthorized(msg.sender);
        delete _jobs[jobId];
        _addToAccount(job.poster, uint256(job.payment) + job.auditFee);
        emit JobClosed(jobId, Outcome.Cancelled);
    }

    /*//////////////////////////////////////////////////////////////
                            WORKER FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobAgency
    function claim(uint256 jobId, Job calldata job) external payable {
        _checkRecord(jobId, job);
        if (job.status != Status.Open) revert JobAgency_WrongStatus(job.status);
        if (block.timestamp > job.deadline) revert JobAgency_DeadlinePassed(job.deadline);
        if (msg.value != job.workerBond) revert JobAgency_WrongValue(job.workerBond, msg.value);
        if (job.minReputation != 0) {
            uint256 score = reputationOf(msg.sender);
            if (score < job.minReputation) revert JobAgency_ReputationTooLow(score, job.minReputation);
        }
        Job memory next = _copy(job);
        next.status = Status.Claimed;
        next.worker = msg.sender;
        next.deadline = _after(job.executionTime);
        _jobs[jobId] = _hashMemory(next);
        emit JobClaimed(jobId, msg.sender, next.deadline);
    }

    /// @inheritdoc IJobAgency
    function submit(uint256 jobId, Job calldata job, bytes calldata resultCid) external {
        _checkRecord(jobId, job);
        if (job.status != Status.Claimed) revert JobAgency_WrongStatus(job.status);
        if (msg.sender != job.worker) revert JobAgency_Unauthorized(msg.sender);
        if (block.timestamp > job.deadline) revert JobAgency_DeadlinePassed(job.deadline);
        CidLib.check(resultCid);
        Job memory next = _copy(job);
        next.status = Status.Submitted;
        next.result = keccak256(resultCid);
        next.deadline = _after(job.challengeWindow);
        // The draw uses the next block's hash, which nobody knows while this transaction is being sent.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (job.auditFee != 0 && auditRate != 0) next.auditBlock = uint40(block.number + 1);
        _jobs[jobId] = _hashMemory(next);
        emit ResultSubmitted(jobId, msg.sender, resultCid, next.deadline, next.auditBlock);
    }

    /// @inheritdoc IJobAgency
    function finalize(uint256 jobId, Job calldata job) external {
        _checkRecord(jobId, job);
        if (job.status != Status.Submitted) revert JobAgency_WrongStatus(job.status);
        // The window is closed only strictly after its last second: challenge iff now <= deadline.
        if (block.timestamp <= job.deadline) revert JobAgency_DeadlineNotPassed(job.deadline);
        if (job.auditBlock != 0 && auditSelected(jobId, job.auditBlock)) revert JobAgency_AuditSelected();
        delete _jobs[jobId];
        _addToAccount(job.worker, _ONE_FINALIZED + job.payment + job.workerBond);
        if (job.auditFee != 0) _addToAccount(job.arbiter, job.auditFee);
        emit JobClosed(jobId, Outcome.Finalized);
    }

    /// @inheritdoc IJobAgency
    function drawAudit(uint256 jobId, Job calldata job) external {
        _checkRecord(jobId, job);
        Status status = job.status;
        bool forfeited = status == Status.Challenged && block.timestamp > job.deadline;
        if (status != Status.Submitted && !forfeited) revert JobAgency_WrongStatus(status);
        if (job.auditBlock == 0) revert JobAgency_NoAuditDraw();
        Job memory next = _copy(job);
        next.auditBlock = 0;
        bool selected = auditSelected(jobId, job.auditBlock);
        if (selected) {
            if (forfeited) {
                // The challenger did not reveal: it forfeits its bond to the worker, as `expire` would.
                _addToAccount(job.worker, job.challengeBond);
                _addToAccount(job.challenger, _ONE_DISPUTE_LOST);
            }
            next.status = Status.Audited;
            next.deadline = _after(job.disputeWindow);
        }
        _jobs[jobId] = _hashMemory(next);
        emit AuditDrawn(jobId, selected, next.deadline);
    }

    /*//////////////////////////////////////////////////////////////
                          CHALLENGER FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobAgency
    function challenge(uint256 jobId, Job calldata job, bytes32 seal) external payable {
        _checkRecord(jobId, job);
        if (job.status != Status.Submitted) revert JobAgency_WrongStatus(job.status);
        if (block.timestamp > job.deadline) revert JobAgency_DeadlinePassed(job.deadline);
        if (msg.sender == job.worker) revert JobAgency_SelfChallenge();
        if (msg.value != job.challengeBond) revert JobAgency_WrongValue(job.challengeBond, msg.value);
        if (seal == bytes32(0)) revert JobAgency_ZeroSeal();
        Job memory next = _copy(job);
        next.status = Status.Challenged;
        next.challenger = msg.sender;
        next.challenge = seal;
        // A fresh period, whatever second of the window the challenge came in.
        next.deadline = _after(job.challengeWindow);
        _jobs[jobId] = _hashMemory(next);
        emit JobChallenged(jobId, msg.sender, seal, next.deadline);
    }

    /// @inheritdoc IJobAgency
    function reveal(uint256 jobId, Job calldata job, bytes calldata resultCid, bytes32 salt) external {
        _checkRecord(jobId, job);
        if (job.status != Status.Challenged) revert JobAgency_WrongStatus(job.status);
        if (msg.sender != job.challenger) revert JobAgency_Unauthorized(msg.sender);
        if (block.timestamp > job.deadline) revert JobAgency_DeadlinePassed(job.deadline);
        CidLib.check(resultCid);
        if (sealOf(jobId, msg.sender, resultCid, salt) != job.challenge) revert JobAgency_SealMismatch();
        bytes32 revealed = keccak256(resultCid);
        if (revealed == job.result) revert JobAgency_SameResult();
        Job memory next = _copy(job);
        next.status = Status.Disputed;
        next.challenge = revealed;
        next.deadline = _after(job.disputeWindow);
        _jobs[jobId] = _hashMemory(next);
        emit ChallengeRevealed(jobId, msg.sender, resultCid, next.deadline);
    }

    /*//////////////////////////////////////////////////////////////
                            ARBITER FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobAgency
    function resolve(uint256 jobId, Job calldata job, Ruling ruling) external {
        _checkRecord(jobId, job);
        Status status = job.status;
        if (status != Status.Disputed && status != Status.Audited) revert JobAgency_WrongStatus(status);
        if (msg.sender != job.arbiter) revert JobAgency_Unauthorized(msg.sender);
        if (block.timestamp > job.deadline) revert JobAgency_DeadlinePassed(job.deadline);
        delete _jobs[jobId];
        if (status == Status.Audited) {
            _resolveAudit(jobId, job, ruling);
            return;
        }
        // The arbiter's fee comes out of the loser's bond (both bonds on `Neither`); `post` bounded it by
        // the smaller bond, so the winner still gets at least its own stake back.
        uint256 fee = job.arbiterFee;
        uint256 pot = uint256(job.payment) + job.workerBond + job.challengeBond - fee;
        Outcome outcome;
        if (ruling == Ruling.WorkerRight) {
            _addToAccount(job.worker, _ONE_FINALIZED + pot);
            _addToAccount(job.challenger, _ONE_DISPUTE_LOST);
            outcome = Outcome.WorkerUpheld;
        } else if (ruling == Ruling.ChallengerRight) {
            _addToAccount(job.challenger, _ONE_FINALIZED + pot);
            _addToAccount(job.worker, _ONE_DISPUTE_LOST);
            outcome = Outcome.ChallengerUpheld;
        } else if (ruling == Ruling.Neither) {
            _addToAccount(job.poster, pot);
            _addToAccount(job.worker, _ONE_DISPUTE_LOST);
            _addToAccount(job.challenger, _ONE_DISPUTE_LOST);
            outcome = Outcome.NeitherUpheld;
        } else {
            revert JobAgency_InvalidRuling();
        }
        if (fee + job.auditFee != 0) _addToAccount(job.arbiter, fee + job.auditFee);
        emit JobClosed(jobId, outcome);
    }

    /// @dev `resolve` of an Audited job whose record is already deleted: there is no challenger, so the
    ///      arbiter either finds the worker's result (`WorkerRight`) or not (`Neither`).
    function _resolveAudit(uint256 jobId, Job calldata job, Ruling ruling) private {
        if (ruling == Ruling.WorkerRight) {
            _addToAccount(job.worker, _ONE_FINALIZED + job.payment + job.workerBond);
            if (job.auditFee != 0) _addToAccount(job.arbiter, job.auditFee);
            emit JobClosed(jobId, Outcome.AuditPassed);
        } else if (ruling == Ruling.Neither) {
            uint256 fee = job.arbiterFee;
            _addToAccount(job.poster, uint256(job.payment) + job.workerBond - fee);
            _addToAccount(job.worker, _ONE_DISPUTE_LOST);
            if (fee + job.auditFee != 0) _addToAccount(job.arbiter, fee + job.auditFee);
            emit JobClosed(jobId, Outcome.AuditFailed);
        } else {
            revert JobAgency_InvalidRuling();
        }
    }

    /*//////////////////////////////////////////////////////////////
                          PERMISSIONLESS EXITS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobAgency
    function expire(uint256 jobId, Job calldata job) external {
        _checkRecord(jobId, job);
        if (block.timestamp <= job.deadline) revert JobAgency_DeadlineNotPassed(job.deadline);
        Status status = job.status;
        if (status == Status.Open) {
            delete _jobs[jobId];
            _addToAccount(job.poster, uint256(job.payment) + job.auditFee);
            emit JobClosed(jobId, Outcome.Expired);
        } else if (status == Status.Claimed) {
            // The bond compensates the poster for the time the job sat claimed and undone.
            _addToAccount(job.worker, _ONE_DEADLINE_MISSED);
            bool reopened = block.timestamp <= job.claimDeadline;
            if (reopened) {
                _addToAccount(job.poster, job.workerBond);
                Job memory next = _copy(job);
                next.status = Status.Open;
                next.worker = address(0);
                next.deadline = job.claimDeadline;
                _jobs[jobId] = _hashMemory(next);
            } else {
                delete _jobs[jobId];
                _addToAccount(job.poster, uint256(job.payment) + job.workerBond + job.auditFee);
            }
            emit ClaimExpired(jobId, job.worker, reopened);
            if (!reopened) emit JobClosed(jobId, Outcome.Expired);
        } else if (status == Status.Challenged) {
            // A forfeit pays the worker as a finalize would, so it must not skip the audit draw either.
            if (job.auditBlock != 0 && auditSelected(jobId, job.auditBlock)) {
                revert JobAgency_AuditSelected();
            }
            delete _jobs[jobId];
            _addToAccount(job.worker, _ONE_FINALIZED + job.payment + job.workerBond + job.challengeBond);
            _addToAccount(job.challenger, _ONE_DISPUTE_LOST);
            if (job.auditFee != 0) _addToAccount(job.arbiter, job.auditFee);
            emit JobClosed(jobId, Outcome.ChallengeForfeited);
        } else if (status == Status.Disputed) {
            delete _jobs[jobId];
            _addToAccount(job.poster, uint256(job.payment) + job.auditFee);
            _addToAccount(job.worker, job.workerBond);
            _addToAccount(job.challenger, job.challengeBond);
            emit JobClosed(jobId, Outcome.DisputeTimedOut);
        } else if (status == Status.Audited) {
            delete _jobs[jobId];
            _addToAccount(job.worker, _ONE_FINALIZED + job.payment + job.workerBond);
            if (job.auditFee != 0) _addToAccount(job.poster, job.auditFee);
            emit JobClosed(jobId, Outcome.AuditTimedOut);
        } else {
            // Submitted: the way out is `finalize`.
            revert JobAgency_WrongStatus(status);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                CREDITS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobAgency
    function withdraw() external {
        // The lock stops re-entry into `withdraw` from the receiver. The other functions make no external
        // call, and the credit is cleared before the transfer, so they need no lock.
        if (CreditLib.isLocked(_LOCK_SLOT)) revert JobAgency_Reentrancy();
        uint256 word = _accounts[msg.sender];
        uint256 amount = word & _CREDIT_MASK;
        if (amount == 0) revert JobAgency_NoCredit();
        _accounts[msg.sender] = word - amount;
        if (!CreditLib.sendToCaller(_LOCK_SLOT, amount)) revert JobAgency_TransferFailed();
        emit Withdrawn(msg.sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IJobAgency
    function auditSelected(uint256 jobId, uint40 auditBlock) public view returns (bool) {
        if (auditBlock == 0) revert JobAgency_NoAuditDraw();
        if (block.number <= auditBlock) revert JobAgency_AuditPending(auditBlock);
        bytes32 hash = blockhash(auditBlock);
        // Aged out (older than 256 blocks): selected, so that nobody gains by letting the draw lapse.
        if (hash == bytes32(0)) return true;
        return uint256(keccak256(abi.encode(hash, jobId))) % AUDIT_RATE_SCALE < auditRate;
    }

    /// @inheritdoc IJobAgency
    function jobHash(uint256 jobId) external view returns (bytes32) {
        return _jobs[jobId];
    }

    /// @inheritdoc IJobAgency
    function creditOf(address account) external view returns (uint256) {
        return _accounts[account] & _CREDIT_MASK;
    }

    /// @inheritdoc IJobAgency
    function reputation(address account) public view returns (Reputation memory r_) {
        uint256 word = _accounts[account];
        // Unpacking the fields laid out at `_CREDIT_MASK`: the truncations are the point.
        // forge-lint: disable-next-line(unsafe-typecast)
        r_.finalized = uint64(word >> 128);
        // forge-lint: disable-next-line(unsafe-typecast)
        r_.disputesLost = uint32(word >> 192);
        // forge-lint: disable-next-line(unsafe-typecast)
        r_.deadlinesMissed = uint32(word >> 224);
    }

    /// @inheritdoc IJobAgency
    function reputationOf(address account) public view returns (uint256) {
        Reputation memory r = reputation(account);
        uint256 penalty = 4 * uint256(r.disputesLost) + r.deadlinesMissed;
        return r.finalized > penalty ? r.finalized - penalty : 0;
    }

    /// @inheritdoc IJobAgency
    function hashJob(Job calldata job) external pure returns (bytes32) {
        return _hashCalldata(job);
    }

    /// @inheritdoc IJobAgency
    function hashSpec(JobSpec calldata spec) public pure returns (bytes32) {
        return keccak256(abi.encode(spec));
    }

    /// @inheritdoc IJobAgency
    function jobIdOf(address poster, uint256 blockNumber, bytes32 specHash)
        public
        pure
        returns (uint256 jobId_)
    {
        // keccak256(abi.encode(poster, blockNumber, specHash)) in unallocated memory, without allocating.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, poster)
            mstore(add(ptr, 0x20), blockNumber)
            mstore(add(ptr, 0x40), specHash)
            jobId_ := keccak256(ptr, 0x60)
        }
    }

    /// @inheritdoc IJobAgency
    function sealOf(uint256 jobId, address challenger, bytes calldata resultCid, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(jobId, challenger, resultCid, salt));
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev Reverts unless `job` is the current record of `jobId`, naming why.
    function _checkRecord(uint256 jobId, Job calldata job) private view {
        bytes32 stored = _jobs[jobId];
        if (stored == _hashCalldata(job)) return;
        if (stored == bytes32(0)) revert JobAgency_NoSuchJob(jobId);
        revert JobAgency_StaleRecord(jobId);
    }

    /// @dev Adds `delta` (credit in the low 128 bits plus counter increments, see `_CREDIT_MASK`) to an
    ///      account word. Credit cannot reach 2^128 wei and counters would need 2^32 disputes or missed
    ///      deadlines to carry, so the sum needs no overflow check.
    function _addToAccount(address account, uint256 delta) private {
        unchecked {
            _accounts[account] += delta;
        }
    }

    /// @dev The Open record of a job posted with `post(spec)` by the caller: words 2-12 are copied from the
    ///      spec's static head words 4-14 (see `Job`), which `_canonicalSpec` has checked are clean.
    function _newRecord(bytes32 specHash) private view returns (Job memory job_) {
        assembly ("memory-safe") {
            job_ := mload(0x40)
            mstore(0x40, add(job_, _JOB_SIZE))
            mstore(job_, specHash)
            mstore(add(job_, 0x20), caller())
            // spec head starts at 0x24; word 4 (payment) is at 0x24 + 0x80.
            calldatacopy(add(job_, 0x40), 0xa4, 0x160)
            mstore(add(job_, 0x1a0), 1) // Status.Open
            mstore(add(job_, 0x1c0), 0) // worker
            mstore(add(job_, 0x1e0), calldataload(0x144)) // deadline = claimDeadline (spec word 9)
            mstore(add(job_, 0x200), 0) // auditBlock
            mstore(add(job_, 0x220), 0) // result
            mstore(add(job_, 0x240), 0) // challenger
            mstore(add(job_, 0x260), 0) // challenge
        }
    }

    /// @dev `abi.encode(spec)` for `post(JobSpec)`, copied from calldata instead of re-encoded: the spec's
    ///      encoding is the calldata after the selector. The copy is the encoding only if the calldata is laid
    ///      out as a standard encoder lays it out (offsets in order, no gaps, nothing after, static words
    ///      clean, zero padding), which is checked here.
    function _canonicalSpec() private pure returns (bytes memory encoded_) {
        bool canonical;
        assembly ("memory-safe") {
            // 0x04: offset of the tuple (0x20); 0x24: the tuple; head words 0..2 hold the offsets of
            // codeCid, inputCid and options; the heads take 15 words, so the first tail is at 0x1e0.
            canonical := eq(calldataload(0x04), 0x20)
            let expected := 0x1e0
            for { let k := 0 } lt(k, 3) { k := add(k, 1) } {
                canonical := and(canonical, eq(calldataload(add(0x24, shl(5, k))), expected))
                let len := calldataload(add(0x24, expected))
                canonical := and(canonical, lt(len, calldatasize()))
                // The padding after the bytes must be zero, as an encoder writes it: the hash (and so the
                // job id) must not depend on bytes that decoders ignore.
                let rem := and(len, 0x1f)
                if rem {
                    let last := calldataload(add(add(0x44, expected), sub(len, rem)))
                    canonical := and(canonical, iszero(shl(shl(3, rem), last)))
                }
                expected := add(expected, add(0x20, and(add(len, 0x1f), not(0x1f))))
            }
            canonical := and(canonical, eq(calldatasize(), add(0x24, expected)))
            // Static words 4-14 must fit their types: `post` copies them into the record unchanged, and
            // a record with a dirty word could never be acted on again.
            let dirty := or(shr(96, calldataload(0xa4)), shr(96, calldataload(0xc4))) // payment, workerBond
            dirty := or(dirty, shr(96, calldataload(0xe4))) // challengeBond
            dirty := or(dirty, shr(96, calldataload(0x104))) // arbiterFee
            dirty := or(dirty, shr(96, calldataload(0x124))) // auditFee
            dirty := or(dirty, shr(40, calldataload(0x144))) // claimDeadline
            dirty := or(dirty, shr(32, calldataload(0x164))) // executionTime
            dirty := or(dirty, shr(32, calldataload(0x184))) // challengeWindow
            dirty := or(dirty, shr(32, calldataload(0x1a4))) // disputeWindow
            dirty := or(dirty, shr(32, calldataload(0x1c4))) // minReputation
            dirty := or(dirty, shr(160, calldataload(0x1e4))) // arbiter
            canonical := and(canonical, iszero(dirty))
            encoded_ := mload(0x40)
            // The encoding of a one-member tuple (spec) includes the leading offset word.
            let size := sub(calldatasize(), 0x04)
            mstore(encoded_, size)
            calldatacopy(add(encoded_, 0x20), 0x04, size)
            mstore(0x40, add(add(encoded_, 0x20), size))
        }
        if (!canonical) revert JobAgency_NonCanonicalCalldata();
    }

    /// @dev Checks the spec's static terms (engine, amounts, arbiter, times). It reads the head words of `post`'s
    ///      calldata directly: `_canonicalSpec` has already checked that every one of them is clean, so the
    ///      raw words are the values, and skipping Solidity's per-access cleanup keeps `post` under its target.
    function _checkTerms() private view {
        uint256 engine;
        uint256 payment;
        uint256 workerBond;
        uint256 challengeBond;
        uint256 arbiterFee;
        uint256 auditFee;
        uint256 claimDeadline;
        uint256 executionTime;
        uint256 challengeWindow;
        uint256 disputeWindow;
        uint256 arbiter;
        assembly ("memory-safe") {
            engine := calldataload(0x84)
            payment := calldataload(0xa4)
            workerBond := calldataload(0xc4)
            challengeBond := calldataload(0xe4)
            arbiterFee := calldataload(0x104)
            auditFee := calldataload(0x124)
            claimDeadline := calldataload(0x144)
            executionTime := calldataload(0x164)
            challengeWindow := calldataload(0x184)
            disputeWindow := calldataload(0x1a4)
            arbiter := calldataload(0x1e4)
        }
        if (engine == 0) revert JobAgency_InvalidEngine();
        if (payment == 0) revert JobAgency_ZeroPayment();
        // Both below 2^96: the sum cannot overflow.
        if (msg.value != payment + auditFee) revert JobAgency_WrongValue(payment + auditFee, msg.value);
        // forge-lint: disable-next-line(unsafe-typecast)
        if (auditFee < minAuditFee) revert JobAgency_AuditFeeTooLow(uint96(auditFee), minAuditFee);
        if (arbiter == 0) revert JobAgency_ZeroArbiter();
        // The fee comes out of the losing side's bond, so it must fit in either bond.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (arbiterFee > workerBond || arbiterFee > challengeBond) {
            revert JobAgency_ArbiterFeeOverBond(uint96(arbiterFee));
        }
        unchecked {
            // `period - 1 >= MAX_PERIOD` is `period == 0 || period > MAX_PERIOD` (zero wraps around).
            if (
                claimDeadline <= block.timestamp || executionTime - 1 >= MAX_PERIOD
                    || challengeWindow - 1 >= MAX_PERIOD || disputeWindow - 1 >= MAX_PERIOD
            ) revert JobAgency_InvalidTimes();
        }
    }

    /// @dev Checks the tagged options encoding documented on `JobSpec.options`.
    function _checkOptions(bytes calldata options) private pure {
        if (options.length == 0) return;
        bytes1 tag = options[0];
        if (tag == 0x00) {
            if (options.length - 1 > MAX_INLINE_OPTIONS) revert JobAgency_InvalidOptions();
        } else if (tag == 0x01) {
            if (!CidLib.isValid(options[1:])) revert JobAgency_InvalidOptions();
        } else {
            revert JobAgency_InvalidOptions();
        }
    }

    /// @dev `block.timestamp + period` as a deadline. Periods are at most `MAX_PERIOD`, so this fits in
    ///      uint40 until the year 36812.
    function _after(uint32 period) private view returns (uint40) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint40(block.timestamp + period);
    }

    /// @dev A memory copy of a record that has passed `_checkRecord` (so its bytes are clean).
    function _copy(Job calldata job) private pure returns (Job memory next_) {
        assembly ("memory-safe") {
            next_ := mload(0x40)
            calldatacopy(next_, job, _JOB_SIZE)
            mstore(0x40, add(next_, _JOB_SIZE))
        }
    }

    /// @dev keccak256 of the record's calldata bytes. Equal to `keccak256(abi.encode(job))` for a clean
    ///      encoding; a dirty one hashes differently and fails the record check.
    function _hashCalldata(Job calldata job) private pure returns (bytes32 hash_) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, job, _JOB_SIZE)
            hash_ := keccak256(ptr, _JOB_SIZE)
        }
    }

    /// @dev A memory struct of value types is laid out as its ABI encoding: 20 consecutive words.
    function _hashMemory(Job memory job) private pure returns (bytes32 hash_) {
        assembly ("memory-safe") {
            hash_ := keccak256(job, _JOB_SIZE)
        }
    }
}
