// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {console} from "forge-std/console.sol";
import {JobAgency} from "src/JobAgency.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {TrustedArbiter} from "src/arbiters/TrustedArbiter.sol";
import {openRecord} from "../../utils/Records.sol";

/// @title AgencyHandler
/// @notice The actor contract of the `JobAgency` invariant suite. It plays three posters, four workers, three
///         challengers (posters and idle workers challenge too), the owner of a real `TrustedArbiter`, an EOA
///         arbiter and a stranger, and moves block time forward, exactly onto deadlines and one second past
///         them. It keeps every live job's `Job` record the way a client does (rebuilt from what each call
///         changed) and only makes calls that must succeed at the current state and time, so the suite runs
///         with `fail_on_revert = true`. `probe` makes calls that must fail and checks their custom errors.
/// @dev Ghost accounting: the handler predicts every credit, bond fate, reputation counter and state edge
///      from the rules in `IJobAgency`. After each state change it compares the stored hash with the record it
///      predicted (which also tells which edge was taken), and after each credit the parties' `creditOf` and
///      counters with the ghosts. A mismatch is counted (not reverted) so that the invariants name it; the
///      invariants themselves compare every account and every job after every call.
contract AgencyHandler is CommonBase, StdCheats, StdUtils {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @dev Ghost state of a job that left the market; 0-5 are `IJobAgency.Status`.
    uint8 public constant CLOSED = 6;
    /// @dev Ghost state recorded when the agency's stored hash matches neither the predicted record nor zero.
    uint8 public constant UNKNOWN = 7;
    /// @dev At most this many live jobs, so that actions concentrate on few jobs and drive them deep.
    uint256 public constant MAX_LIVE = 8;
    /// @dev Lifecycle steps, in order; an action with nothing to act on takes the step before (see `_advance`).
    uint256 internal constant LEVEL_POST = 0;
    uint256 internal constant LEVEL_CLAIM = 1;
    uint256 internal constant LEVEL_SUBMIT = 2;
    uint256 internal constant LEVEL_CHALLENGE = 3;
    uint256 internal constant LEVEL_REVEAL = 4;
    uint256 internal constant LEVEL_RESOLVE = 5;
    /// @dev How many kinds of forbidden call `probe` makes.
    uint256 internal constant PROBE_KINDS = 10;
    /// @dev Every actor's starting balance: far more than a run can spend.
    uint256 internal constant FUNDS = 1e9 ether;

    bytes internal constant CODE_CID = hex"1220"
        hex"c3c4733ec8affd06cf9e9ff50ffc6bcd2ec85a6170004bb709669c31de94391a";
    bytes internal constant INPUT_CID = hex"01551220"
        hex"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447";
    bytes32 internal constant ENGINE = "quickjs-ng/0.16.2";

    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @dev What the handler knows about a job beyond its record.
    /// @param state       Ghost state: `Status` while live, `CLOSED` after, `UNKNOWN` if the agency disagreed.
    /// @param escrow      Payment held for the job (zero once closed).
    /// @param workerBond  Worker bond locked in the job (zero while Open and once closed).
    /// @param challengeBond Challenge bond locked in the job.
    /// @param workerBondId, challengeBondId  1 + index in `_bonds` of the locked bonds (zero when none).
    /// @param paymentCredits How many times the job's payment was credited to someone.
    /// @param paidTo      Who was credited the payment.
    /// @param sealedCid   Index in `_cids` of the CID the challenger sealed.
    /// @param salt        The challenger's salt.
    /// @param sealSame    The challenger sealed the worker's own result: its reveal must fail.
    struct JobGhost {
        uint8 state;
        uint256 escrow;
        uint256 workerBond;
        uint256 challengeBond;
        uint256 workerBondId;
        uint256 challengeBondId;
        uint256 paymentCredits;
        address paidTo;
        uint256 sealedCid;
        bytes32 salt;
        bool sealSame;
    }

    /// @dev The fuzzed inputs of `post`, bounded by `_specOf`.
    struct PostInput {
        uint256 posterSeed;
        uint96 payment;
        uint96 workerBond;
        uint96 challengeBond;
        uint40 claimPeriod;
        uint32 executionTime;
        uint32 challengeWindow;
        uint32 disputeWindow;
        uint8 flags;
    }

    /// @dev One bond ever locked. Its fate is counted, so that "returned and slashed" would show as two.
    struct Bond {
        uint256 jobId;
        address owner;
        uint256 amount;
        bool isChallenge;
        uint256 returned;
        uint256 slashed;
    }

    /*//////////////////////////////////////////////////////////////
                                 ACTORS
    //////////////////////////////////////////////////////////////*/

    JobAgency public immutable agency;
    TrustedArbiter public immutable trustedArbiter;
    /// @dev Owner of `trustedArbiter`; rules through it.
    address public immutable arbiterOwner;
    /// @dev An arbiter that is an EOA and calls `resolve` itself.
    address public immutable eoaArbiter;
    /// @dev Never takes a role; drives the permissionless exits in the invariants.
    address public immutable stranger;

    address[] internal _posters;
    address[] internal _workers;
    address[] internal _challengers;
    /// @dev Every account that can call or be credited.
    address[] internal _actors;
    /// @dev Result CIDs workers and challengers pick from: few, so that they often agree.
    bytes[] internal _cids;

    /*//////////////////////////////////////////////////////////////
                                 CLOCK
    //////////////////////////////////////////////////////////////*/

    /// @dev Block time and number, re-applied at the start of every action (they only move forward).
    uint256 public currentTime;
    uint256 public currentBlock;
    /// @dev Makes every posted spec unique (inline options), so no post is a `DuplicateJob` by accident.
    uint64 internal _nonce;

    /*//////////////////////////////////////////////////////////////
                                  JOBS
    //////////////////////////////////////////////////////////////*/

    uint256[] internal _live;
    uint256[] internal _closed;
    /// @dev jobId => 1 + index in `_live` (zero when not live).
    mapping(uint256 => uint256) internal _liveIndex;
    /// @dev jobId => the current record (the last one, for a closed job).
    mapping(uint256 => IJobAgency.Job) internal _record;
    mapping(uint256 => JobGhost) internal _ghost;
    Bond[] internal _bonds;

    /*//////////////////////////////////////////////////////////////
                             GHOST ACCOUNTING
    //////////////////////////////////////////////////////////////*/

    /// @dev ETH sent into the agency as payments and as bonds, and out of it by withdrawals.
    uint256 public ghostPostedIn;
    uint256 public ghostBondsIn;
    uint256 public ghostWithdrawnOut;
    /// @dev Per account: all credit the rules grant it, and all it withdrew.
    mapping(address => uint256) public ghostCredited;
    mapping(address => uint256) public ghostWithdrawn;
    /// @dev Per account: the reputation counters the rules predict.
    mapping(address => IJobAgency.Reputation) internal _ghostRep;
    /// @dev Per account: the counters the agency reported the last time the handler looked.
    mapping(address => IJobAgency.Reputation) internal _lastRep;

    /// @dev from => to => how often a job's state moved along that edge (observed from the stored hash).
    uint256[8][8] internal _edges;

    /// @dev Mismatches found after an action; each invariant asserts its counter is zero.
    uint256 public ghostCreditMismatches; // a party's creditOf != credited - withdrawn after an action
    uint256 public ghostReputationRegressions; // a party's counter went down
    uint256 public ghostRecordMismatches; // stored hash or job id != the client's prediction
    uint256 public ghostWithdrawMismatches; // withdraw paid other than the credit
    uint256 public ghostProbeFailures; // a call that must fail succeeded or failed with another error
    string public lastProbeFailure;

    /// @dev Call log: action name => times it ran, for tuning the action mix.
    mapping(bytes32 => uint256) public calls;
    string[] internal _callNames;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(JobAgency _agency) {
        agency = _agency;
        address owner = makeAddr("arbiterOwner");
        address eoa = makeAddr("eoaArbiter");
        address nobody = makeAddr("stranger");
        arbiterOwner = owner;
        trustedArbiter = new TrustedArbiter(owner);
        eoaArbiter = eoa;
        stranger = nobody;
        for (uint256 i; i < 3; ++i) {
            _posters.push(makeAddr(string.concat("poster", vm.toString(i))));
            _challengers.push(makeAddr(string.concat("challenger", vm.toString(i))));
        }
        for (uint256 i; i < 4; ++i) {
            _workers.push(makeAddr(string.concat("worker", vm.toString(i))));
        }
        for (uint256 i; i < 3; ++i) {
            _actors.push(_posters[i]);
        }
        for (uint256 i; i < 4; ++i) {
            _actors.push(_workers[i]);
        }
        for (uint256 i; i < 3; ++i) {
            _actors.push(_challengers[i]);
        }
        _actors.push(owner);
        _actors.push(eoa);
        _actors.push(nobody);
        for (uint256 i; i < _actors.length; ++i) {
            vm.deal(_actors[i], FUNDS);
        }
        // CIDv0; CIDv1 raw (CidLib's fast path); CIDv1 dag-json, whose two-byte codec takes the slow path.
        _cids.push(hex"1220" hex"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        _cids.push(hex"01551220" hex"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        _cids.push(hex"01a9021220" hex"7d865e959b2466918c9863afca942d0fb89d7c9ac0c99bafc3749504ded97730");
        currentTime = block.timestamp;
        currentBlock = block.number;
    }

    /*//////////////////////////////////////////////////////////////
                                MODIFIER
    //////////////////////////////////////////////////////////////*/

    /// @dev Re-applies the clock (time only moves where the handler moves it), then runs the action.
    modifier step() {
        vm.warp(currentTime);
        vm.roll(currentBlock);
        _;
    }

    /*//////////////////////////////////////////////////////////////
                        ACTIONS (THE FUZZ TARGETS)
    //////////////////////////////////////////////////////////////*/

    // Each lifecycle action acts on a live job (picked by a bounded index) in the state it needs. When there is
    // none it takes the step before instead (a claim posts, a submit claims, ... a resolve reveals), and an exit
    // with nothing due first warps to a job's deadline + 1, so that nearly every call moves a job on and the deep
    // states (Challenged, Disputed) are reached. The call log counts what actually ran.

    /// @notice A poster posts a job with bounded random amounts and windows (at the live cap: a job moves on).
    function post(PostInput calldata _in) external step {
        if (!_post(_in)) _advance(LEVEL_RESOLVE, _in.posterSeed);
    }

    /// @notice The poster cancels an Open job, one call in three (else a job moves on): cancelling ends a job
    ///         before anything happened, so it is kept rarer than the steps that lead somewhere.
    function cancel(uint256 _jobSeed) external step {
        if (_jobSeed % 3 != 0 || !_cancel(_jobSeed)) _advance(LEVEL_CLAIM, _jobSeed);
    }

    /// @notice A worker claims an Open job (or, with none, a poster posts one).
    function claim(uint256 _jobSeed, uint256 _workerSeed) external step {
        if (!_claim(_jobSeed, _workerSeed)) _advance(LEVEL_POST, _jobSeed);
    }

    /// @notice The claimant submits a result (or, with none Claimed, a job is claimed).
    function submit(uint256 _jobSeed, uint256 _cidSeed) external step {
        if (!_submit(_jobSeed, _cidSeed)) _advance(LEVEL_CLAIM, _jobSeed);
    }

    /// @notice Someone challenges a submitted result (or, with none, a result is submitted).
    function challenge(uint256 _jobSeed, uint256 _challengerSeed, uint256 _cidSeed, bytes32 _salt)
        external
        step
    {
        if (!_challenge(_jobSeed, _challengerSeed, _cidSeed, _salt)) {
            _advance(LEVEL_SUBMIT, _jobSeed);
        }
    }

    /// @notice The challenger reveals (or, with none Challenged, a result is challenged).
    function reveal(uint256 _jobSeed) external step {
        if (!_reveal(_jobSeed)) _advance(LEVEL_CHALLENGE, _jobSeed);
    }

    /// @notice The arbiter rules (or, with none Disputed, a challenger reveals).
    function resolve(uint256 _jobSeed, uint8 _ruling) external step {
        if (!_resolve(_jobSeed, _ruling)) _advance(LEVEL_REVEAL, _jobSeed);
    }

    /// @notice Anyone finalizes a Submitted job past its window (with none due: time moves to one's deadline + 1;
    ///         with none Submitted: a result is submitted).
    function finalize(uint256 _jobSeed, uint256 _callerSeed) external step {
        if (_finalize(_jobSeed, _callerSeed)) return;
        if (_warpPastDeadline(_jobSeed, _isChallengeable)) _finalize(_jobSeed, _callerSeed);
        else _advance(LEVEL_SUBMIT, _jobSeed);
    }

    /// @notice Anyone expires a job past its deadline (with none due: time moves to one's deadline + 1; with no
    ///         job that can expire, all Submitted or none live: a job moves on).
    function expire(uint256 _jobSeed, uint256 _callerSeed) external step {
        if (_expire(_jobSeed, _callerSeed)) return;
        if (_warpPastDeadline(_jobSeed, _isExpirableLater)) _expire(_jobSeed, _callerSeed);
        else _advance(LEVEL_RESOLVE, _jobSeed);
    }

    /// @notice An actor with credit withdraws it all (with no credit anywhere: withdrawing nothing must fail).
    function withdraw(uint256 _actorSeed) external step {
        if (!_withdraw(_actorSeed) && !_probeNoCredit(_actorSeed)) _count("skip.withdraw");
    }

    /// @notice Moves time forward: by a bounded random amount, or exactly onto a live job's deadline (then its
    ///         exits must still fail), one second past it (then its in-window action must fail), or onto its claim
    ///         deadline or one second past (the reopen-or-close edge). Time never goes back; an edge already
    ///         behind falls back to a random step.
    function warp(uint256 _mode, uint256 _jobSeed, uint256 _delta) external step {
        uint256 mode = _mode % 6;
        uint256 target;
        uint256 id;
        IJobAgency.Job memory job;
        if (mode >= 2 && _live.length != 0) {
            id = _live[_jobSeed % _live.length];
            job = _record[id];
            if (mode == 2) target = job.deadline;
            else if (mode == 3) target = uint256(job.deadline) + 1;
            else if (mode == 4) target = job.claimDeadline;
            else target = uint256(job.claimDeadline) + 1;
        }
        bool onEdge = target > block.timestamp;
        if (onEdge) {
            _count(
                mode == 2
                    ? "warp to deadline"
                    : mode == 3
                        ? "warp to deadline+1"
                        : mode == 4 ? "warp to claimDeadline" : "warp to claimDeadline+1"
            );
        } else {
            target = block.timestamp + _bound(_delta, 1, 12 hours);
            _count("warp random");
        }
        _setTime(target);
        // On the edge itself, the calls on the wrong side of it must fail: the exits at the deadline, the in-window
        // action one second after it.
        if (onEdge && mode == 2) {
            _probeEarlyExit(id, job);
            // Half the time the job's own in-window step follows, in its last second.
            if (_delta & 1 == 1) _stepInLastSecond(id, _delta);
        } else if (onEdge && mode == 3) {
            _probeLate(id, job);
        }
    }

    /*//////////////////////////////////////////////////////////////
                          LIFECYCLE STEPS
    //////////////////////////////////////////////////////////////*/

    // Each step returns false, changing nothing, when no live job is in a state where its call must succeed.

    /// @dev Posts a job; sometimes immediately posts the same spec again in the same block, which must fail
    ///      with `DuplicateJob`. False at the live cap.
    function _post(PostInput memory _in) internal returns (bool) {
        if (_live.length >= MAX_LIVE) return false;
        address poster = _posters[_in.posterSeed % _posters.length];
        IJobAgency.JobSpec memory spec = _specOf(_in);
        vm.prank(poster);
        uint256 id = agency.post{value: spec.payment}(spec);
        ghostPostedIn += spec.payment;
        _count("post");

        if (id != agency.jobIdOf(poster, block.number, agency.hashSpec(spec))) ++ghostRecordMismatches;
        IJobAgency.Job memory job = _recordOf(spec, poster);
        _liveIndex[id] = _live.length + 1;
        _live.push(id);
        _ghost[id].escrow = spec.payment;
        _move(id, job);

        if (_in.flags >= 0xe0) {
            vm.prank(poster);
            try agency.post{value: spec.payment}(spec) returns (uint256) {
                _probeFailed("post: duplicate accepted");
            } catch (bytes memory err) {
                _expectError(
                    err,
                    abi.encodeWithSelector(IJobAgency.JobAgency_DuplicateJob.selector, id),
                    "post: duplicate"
                );
            }
        }
        return true;
    }

    /// @dev The poster cancels an Open job (before or after its claim deadline: cancel has no deadline).
    function _cancel(uint256 _jobSeed) internal returns (bool) {
        (bool found, uint256 id) = _find(_jobSeed, _isOpen);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        vm.prank(job.poster);
        agency.cancel(id, job);
        _creditPayment(id, job.poster);
        _close(id);
        _count("cancel");
        return true;
    }

    /// @dev A worker with enough reputation claims an Open job before its claim deadline (inclusive). A worker
    ///      without enough is first refused with `ReputationTooLow`.
    function _claim(uint256 _jobSeed, uint256 _workerSeed) internal returns (bool) {
        (bool found, uint256 id) = _find(_jobSeed, _isClaimable);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        address worker;
        for (uint256 k; k < _workers.length; ++k) {
            address candidate = _workers[(_workerSeed % _workers.length + k) % _workers.length];
            uint256 score = _ghostScore(candidate);
            if (score >= job.minReputation) {
                worker = candidate;
                break;
            }
            if (k == 0) {
                vm.prank(candidate);
                try agency.claim{value: job.workerBond}(id, job) {
                    _probeFailed("claim: low reputation accepted");
                } catch (bytes memory err) {
                    _expectError(
                        err,
                        abi.encodeWithSelector(
                            IJobAgency.JobAgency_ReputationTooLow.selector, score, uint256(job.minReputation)
                        ),
                        "claim: reputation too low"
                    );
                }
            }
        }
        if (worker == address(0)) return false;

        vm.prank(worker);
        agency.claim{value: job.workerBond}(id, job);
        ghostBondsIn += job.workerBond;
        _bonds.push(Bond(id, worker, job.workerBond, false, 0, 0));
        _ghost[id].workerBondId = _bonds.length;
        _ghost[id].workerBond = job.workerBond;

        job.status = IJobAgency.Status.Claimed;
        job.worker = worker;
        job.deadline = uint40(block.timestamp + job.executionTime);
        _move(id, job);
        _count(job.minReputation == 0 ? "claim" : "claim (minReputation > 0)");
        return true;
    }

    /// @dev The claimant submits one of a few result CIDs before its deadline (inclusive).
    function _submit(uint256 _jobSeed, uint256 _cidSeed) internal returns (bool) {
        (bool found, uint256 id) = _find(_jobSeed, _isSubmittable);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        bytes memory cid = _cids[_cidSeed % _cids.length];
        vm.prank(job.worker);
        agency.submit(id, job, cid);
        job.status = IJobAgency.Status.Submitted;
        job.result = keccak256(cid);
        job.deadline = uint40(block.timestamp + job.challengeWindow);
        _move(id, job);
        _count("submit");
        return true;
    }

    /// @dev Anyone finalizes a Submitted job once its challenge window is over.
    function _finalize(uint256 _jobSeed, uint256 _callerSeed) internal returns (bool) {
        (bool found, uint256 id) = _find(_jobSeed, _isFinalizable);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        vm.prank(_actors[_callerSeed % _actors.length]);
        agency.finalize(id, job);
        _creditPayment(id, job.worker);
        _settleBond(_ghost[id].workerBondId, true, job.worker);
        ++_ghostRep[job.worker].finalized;
        _close(id);
        _count("finalize");
        return true;
    }

    /// @dev A challenger (or a poster, or another worker) challenges a Submitted job in its window with a seal
    ///      of one of the result CIDs, which is sometimes the worker's own (then it can never reveal).
    function _challenge(uint256 _jobSeed, uint256 _challengerSeed, uint256 _cidSeed, bytes32 _salt)
        internal
        returns (bool)
    {
        (bool found, uint256 id) = _find(_jobSeed, _isChallengeable);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        address challenger = _challengerFor(job.worker, _challengerSeed);
        uint256 cidIndex = _cidSeed % _cids.length;
        bytes32 seal = agency.sealOf(id, challenger, _cids[cidIndex], _salt);
        vm.prank(challenger);
        agency.challenge{value: job.challengeBond}(id, job, seal);
        ghostBondsIn += job.challengeBond;
        _bonds.push(Bond(id, challenger, job.challengeBond, true, 0, 0));
        JobGhost storage g = _ghost[id];
        g.challengeBondId = _bonds.length;
        g.challengeBond = job.challengeBond;
        g.sealedCid = cidIndex;
        g.salt = _salt;
        g.sealSame = keccak256(_cids[cidIndex]) == job.result;

        job.status = IJobAgency.Status.Challenged;
        job.challenger = challenger;
        job.challenge = seal;
        job.deadline = uint40(block.timestamp + job.challengeWindow);
        _move(id, job);
        _count(
            g.sealSame
                ? "challenge (sealed the worker's CID)"
                : _isPoster(challenger) ? "challenge (by a poster)" : "challenge"
        );
        return true;
    }

    /// @dev The challenger reveals in time. One that sealed the worker's own CID is refused with `SameResult`
    ///      (and will forfeit); that refusal counts as the step.
    function _reveal(uint256 _jobSeed) internal returns (bool) {
        (bool found, uint256 id) = _find(_jobSeed, _isRevealable);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        JobGhost storage g = _ghost[id];
        bytes memory cid = _cids[g.sealedCid];
        vm.prank(job.challenger);
        if (g.sealSame) {
            try agency.reveal(id, job, cid, g.salt) {
                _probeFailed("reveal: same result accepted");
            } catch (bytes memory err) {
                _expectError(
                    err,
                    abi.encodeWithSelector(IJobAgency.JobAgency_SameResult.selector),
                    "reveal: same result"
                );
            }
            return true;
        }
        agency.reveal(id, job, cid, g.salt);
        job.status = IJobAgency.Status.Disputed;
        job.challenge = keccak256(cid);
        job.deadline = uint40(block.timestamp + job.disputeWindow);
        _move(id, job);
        _count("reveal");
        return true;
    }

    /// @dev The job's arbiter (the trusted arbiter through its owner, or the EOA) rules in time, any of the three
    ///      rulings.
    function _resolve(uint256 _jobSeed, uint8 _ruling) internal returns (bool) {
        (bool found, uint256 id) = _find(_jobSeed, _isResolvable);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        IJobAgency.Ruling ruling = IJobAgency.Ruling(1 + _ruling % 3);
        bool trusted = job.arbiter == address(trustedArbiter);
        if (trusted) {
            vm.prank(arbiterOwner);
            trustedArbiter.rule(agency, id, job, ruling);
        } else {
            vm.prank(eoaArbiter);
            agency.resolve(id, job, ruling);
        }
        JobGhost storage g = _ghost[id];
        if (ruling == IJobAgency.Ruling.WorkerRight) {
            _creditPayment(id, job.worker);
            _settleBond(g.workerBondId, true, job.worker);
            _settleBond(g.challengeBondId, false, job.worker);
            ++_ghostRep[job.worker].finalized;
            ++_ghostRep[job.challenger].disputesLost;
            _count(trusted ? "resolve WorkerRight (TrustedArbiter)" : "resolve WorkerRight (EOA arbiter)");
        } else if (ruling == IJobAgency.Ruling.ChallengerRight) {
            _creditPayment(id, job.challenger);
            _settleBond(g.workerBondId, false, job.challenger);
            _settleBond(g.challengeBondId, true, job.challenger);
            ++_ghostRep[job.challenger].finalized;
            ++_ghostRep[job.worker].disputesLost;
            _count(
                trusted ? "resolve ChallengerRight (TrustedArbiter)" : "resolve ChallengerRight (EOA arbiter)"
            );
        } else {
            _creditPayment(id, job.poster);
            _settleBond(g.workerBondId, false, job.poster);
            _settleBond(g.challengeBondId, false, job.poster);
            ++_ghostRep[job.worker].disputesLost;
            ++_ghostRep[job.challenger].disputesLost;
            _count(trusted ? "resolve Neither (TrustedArbiter)" : "resolve Neither (EOA arbiter)");
        }
        _close(id);
        return true;
    }

    /// @dev Anyone expires a job past its deadline, in every state that has an `expire` exit.
    function _expire(uint256 _jobSeed, uint256 _callerSeed) internal returns (bool) {
        (bool found, uint256 id) = _find(_jobSeed, _isExpirable);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        vm.prank(_actors[_callerSeed % _actors.length]);
        agency.expire(id, job);
        JobGhost storage g = _ghost[id];
        if (job.status == IJobAgency.Status.Open) {
            _creditPayment(id, job.poster);
            _close(id);
            _count("expire Open");
        } else if (job.status == IJobAgency.Status.Claimed) {
            _settleBond(g.workerBondId, false, job.poster);
            ++_ghostRep[job.worker].deadlinesMissed;
            if (block.timestamp <= job.claimDeadline) {
                _checkAccount(job.poster);
                _checkAccount(job.worker);
                g.workerBondId = 0;
                job.status = IJobAgency.Status.Open;
                job.worker = address(0);
                job.deadline = job.claimDeadline;
                _move(id, job);
                _count("expire Claimed (reopened)");
            } else {
                _creditPayment(id, job.poster);
                _close(id);
                _count("expire Claimed (closed)");
            }
        } else if (job.status == IJobAgency.Status.Challenged) {
            _creditPayment(id, job.worker);
            _settleBond(g.workerBondId, true, job.worker);
            _settleBond(g.challengeBondId, false, job.worker);
            ++_ghostRep[job.worker].finalized;
            ++_ghostRep[job.challenger].disputesLost;
            _close(id);
            _count(g.sealSame ? "expire Challenged (sealed the worker's CID)" : "expire Challenged");
        } else {
            _creditPayment(id, job.poster);
            _settleBond(g.workerBondId, true, job.worker);
            _settleBond(g.challengeBondId, true, job.challenger);
            _close(id);
            _count("expire Disputed");
        }
        return true;
    }

    /// @dev An actor with credit withdraws it all; the ETH it receives must equal its credit.
    function _withdraw(uint256 _actorSeed) internal returns (bool) {
        address account;
        for (uint256 k; k < _actors.length; ++k) {
            address candidate = _actors[(_actorSeed % _actors.length + k) % _actors.length];
            if (agency.creditOf(candidate) != 0) {
                account = candidate;
                break;
            }
        }
        if (account == address(0)) return false;
        uint256 credit = agency.creditOf(account);
        uint256 balanceBefore = account.balance;
        vm.prank(account);
        agency.withdraw();
        if (account.balance - balanceBefore != credit) ++ghostWithdrawMismatches;
        ghostWithdrawn[account] += credit;
        ghostWithdrawnOut += credit;
        _checkAccount(account);
        _count("withdraw");
        return true;
    }

    /// @dev The in-window step of job `_id`'s state (claim, submit, challenge, reveal or resolve), taken now: the
    ///      step functions start their search at the job's own index, and it qualifies while in its window.
    function _stepInLastSecond(uint256 _id, uint256 _seed) internal {
        uint256 index = _liveIndex[_id] - 1;
        IJobAgency.Status status = _record[_id].status;
        bool done;
        if (status == IJobAgency.Status.Open) {
            done = _claim(index, _seed);
        } else if (status == IJobAgency.Status.Claimed) {
            done = _submit(index, _seed);
        } else if (status == IJobAgency.Status.Submitted) {
            done = _challenge(index, _seed, _seed >> 8, bytes32(_seed));
        } else if (status == IJobAgency.Status.Challenged) {
            done = _reveal(index);
        }
        // A random byte: the truncation is the point.
        // forge-lint: disable-next-line(unsafe-typecast)
        else {
            done = _resolve(index, uint8(_seed >> 8));
        }
        if (done) _count("  (that step in the window's last second)");
    }

    /// @dev Takes the first step possible from `_level` back to posting: resolve, reveal, challenge, submit,
    ///      claim, post. Each step draws its own inputs from `_seed`.
    function _advance(uint256 _level, uint256 _seed) internal {
        for (uint256 level = _level + 1; level > 0; --level) {
            uint256 r = uint256(keccak256(abi.encode(_seed, level)));
            bool done;
            if (level - 1 == LEVEL_RESOLVE) {
                // A random byte: the truncation is the point.
                // forge-lint: disable-next-line(unsafe-typecast)
                done = _resolve(r, uint8(r >> 8));
            } else if (level - 1 == LEVEL_REVEAL) {
                done = _reveal(r);
            } else if (level - 1 == LEVEL_CHALLENGE) {
                done = _challenge(r, r >> 16, r >> 32, keccak256(abi.encode(r)));
            } else if (level - 1 == LEVEL_SUBMIT) {
                done = _submit(r, r >> 16);
            } else if (level - 1 == LEVEL_CLAIM) {
                done = _claim(r, r >> 16);
            } else {
                done = _postFromSeed(r);
            }
            if (done) return;
        }
        _count("skip (nothing to do)");
    }

    /// @dev `_post` with inputs drawn from one seed.
    function _postFromSeed(uint256 _seed) internal returns (bool) {
        return _post(
            PostInput({
                posterSeed: _seed,
                payment: uint96(_rand(_seed, 1)),
                workerBond: uint96(_rand(_seed, 2)),
                challengeBond: uint96(_rand(_seed, 3)),
                claimPeriod: uint40(_rand(_seed, 4)),
                executionTime: uint32(_rand(_seed, 5)),
                challengeWindow: uint32(_rand(_seed, 6)),
                disputeWindow: uint32(_rand(_seed, 7)),
                flags: uint8(_rand(_seed, 8))
            })
        );
    }

    /// @dev A valid, unique spec from fuzz inputs: payment 1 wei to 10 ether, bonds 0 to 5 ether, claim period 1 s
    ///      to 3 days, windows 1 s to 1-2 days, `minReputation` 1 or 2 for one job in five, either arbiter.
    function _specOf(PostInput memory _in) internal returns (IJobAgency.JobSpec memory spec_) {
        spec_.codeCid = CODE_CID;
        spec_.inputCid = INPUT_CID;
        // Inline options carrying a nonce keep every spec unique, so no post is a `DuplicateJob` by accident.
        spec_.options = abi.encodePacked(bytes1(0x00), ++_nonce);
        spec_.engine = ENGINE;
        spec_.payment = uint96(_bound(_in.payment, 1, 10 ether));
        spec_.workerBond = uint96(_bound(_in.workerBond, 0, 5 ether));
        spec_.challengeBond = uint96(_bound(_in.challengeBond, 0, 5 ether));
        spec_.claimDeadline = uint40(block.timestamp + _bound(_in.claimPeriod, 1, 3 days));
        spec_.executionTime = uint32(_bound(_in.executionTime, 1, 2 days));
        spec_.challengeWindow = uint32(_bound(_in.challengeWindow, 1, 1 days));
        spec_.disputeWindow = uint32(_bound(_in.disputeWindow, 1, 2 days));
        spec_.minReputation = _in.flags % 5 == 0 ? uint32(1 + (_in.flags >> 3) % 2) : 0;
        spec_.arbiter = (_in.flags >> 1) & 1 == 0 ? address(trustedArbiter) : eoaArbiter;
        // Another valid code CID sometimes (CIDv0, CIDv1 fast and slow path).
        if ((_in.flags >> 2) & 1 == 1) spec_.codeCid = _cids[_nonce % _cids.length];
    }

    /// @dev The Open record a client rebuilds from `JobPosted`.
    function _recordOf(IJobAgency.JobSpec memory _spec, address _poster)
        internal
        view
        returns (IJobAgency.Job memory)
    {
        return openRecord(_spec, _poster, agency.hashSpec(_spec));
    }

    /// @dev Moves time to one second past the deadline of a live job for which `_ok` holds (a deadline still
    ///      ahead), so that an exit becomes due. False if there is none.
    function _warpPastDeadline(uint256 _jobSeed, function(uint256) view returns (bool) _ok)
        internal
        returns (bool)
    {
        (bool found, uint256 id) = _find(_jobSeed, _ok);
        if (!found) return false;
        _setTime(uint256(_record[id].deadline) + 1);
        _count("warp to deadline+1 (for an exit)");
        return true;
    }

    function _setTime(uint256 _time) internal {
        currentTime = _time;
        currentBlock += 1;
        vm.warp(_time);
        vm.roll(currentBlock);
    }

    /*//////////////////////////////////////////////////////////////
                             EXPECTED REVERTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Makes one call that the rules say must fail at the current state and time, and checks it fails
    ///         with the right custom error (and arguments). Nothing changes state.
    ///         Kinds that do not apply to the picked job give way to the next kind.
    function probe(uint256 _kind, uint256 _jobSeed, uint256 _actorSeed) external step {
        for (uint256 k; k < PROBE_KINDS; ++k) {
            if (_probe((_kind % PROBE_KINDS + k) % PROBE_KINDS, _jobSeed, _actorSeed)) return;
        }
        _count("skip.probe");
    }

    /// @dev One kind of forbidden call, on a live job it applies to (picked from `_jobSeed`); false if none.
    function _probe(uint256 _kind, uint256 _jobSeed, uint256 _actorSeed) internal returns (bool) {
        if (_kind == 9) return _probeNoCredit(_actorSeed);
        if (_kind == 8) return _probeClosed(_jobSeed);
        bool found;
        uint256 id;
        if (_kind == 0 || _kind == 4) (found, id) = _find(_jobSeed, _isLive);
        else if (_kind == 1) (found, id) = _find(_jobSeed, _hasNoExpireDue);
        else if (_kind == 2) (found, id) = _find(_jobSeed, _isNotSubmitted);
        else if (_kind == 3) (found, id) = _find(_jobSeed, _isLate);
        else if (_kind == 5) (found, id) = _find(_jobSeed, _isInTime);
        else if (_kind == 6) (found, id) = _find(_jobSeed, _isRevealable);
        else (found, id) = _find(_jobSeed, _isResolvable);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        IJobAgency.Status status = job.status;

        if (_kind == 0) {
            // A record that is not the current one, even by one field.
            IJobAgency.Job memory stale = _copy(job);
            stale.deadline ^= 1;
            vm.prank(stranger);
            try agency.expire(id, stale) {
                _probeFailed("stale record accepted");
            } catch (bytes memory err) {
                _expectError(
                    err, abi.encodeWithSelector(IJobAgency.JobAgency_StaleRecord.selector, id), "stale record"
                );
            }
        } else if (_kind == 1) {
            _probeEarlyExit(id, job);
        } else if (_kind == 2) {
            // `finalize` on anything but Submitted, and `cancel`/`claim` on anything but Open.
            vm.prank(stranger);
            try agency.finalize(id, job) {
                _probeFailed("finalize on wrong status accepted");
            } catch (bytes memory err) {
                _expectError(err, _wrongStatus(status), "finalize on wrong status");
            }
            if (status != IJobAgency.Status.Open) {
                vm.prank(job.poster);
                try agency.cancel(id, job) {
                    _probeFailed("cancel on wrong status accepted");
                } catch (bytes memory err) {
                    _expectError(err, _wrongStatus(status), "cancel on wrong status");
                }
                vm.prank(_workers[_actorSeed % _workers.length]);
                try agency.claim{value: job.workerBond}(id, job) {
                    _probeFailed("claim on wrong status accepted");
                } catch (bytes memory err) {
                    _expectError(err, _wrongStatus(status), "claim on wrong status");
                }
            }
        } else if (_kind == 3) {
            _probeLate(id, job);
        } else if (_kind == 4) {
            return _probeWrongCaller(id, job, _actorSeed);
        } else if (_kind == 5) {
            return _probeWrongInput(id, job, _actorSeed);
        } else if (_kind == 6) {
            // A challenger's seal is bound to its address: nobody else can reveal it.
            address other = _challengerFor(job.challenger, _actorSeed);
            vm.prank(other);
            try agency.reveal(id, job, _cids[_ghost[id].sealedCid], _ghost[id].salt) {
                _probeFailed("reveal by another accepted");
            } catch (bytes memory err) {
                _expectError(
                    err,
                    abi.encodeWithSelector(IJobAgency.JobAgency_Unauthorized.selector, other),
                    "reveal of another's seal"
                );
            }
        } else {
            // A ruling of None, by the right arbiter in time.
            bytes memory want = abi.encodeWithSelector(IJobAgency.JobAgency_InvalidRuling.selector);
            if (job.arbiter == address(trustedArbiter)) {
                vm.prank(arbiterOwner);
                try trustedArbiter.rule(agency, id, job, IJobAgency.Ruling.None) {
                    _probeFailed("ruling None accepted");
                } catch (bytes memory err) {
                    _expectError(err, want, "ruling None");
                }
            } else {
                vm.prank(eoaArbiter);
                try agency.resolve(id, job, IJobAgency.Ruling.None) {
                    _probeFailed("ruling None accepted");
                } catch (bytes memory err) {
                    _expectError(err, want, "ruling None");
                }
            }
        }
        return true;
    }

    /// @dev The permissionless exits up to the deadline (inclusive) fail with `DeadlineNotPassed`; after it,
    ///      `expire` on a Submitted job fails with `WrongStatus`. For a job with no exit due.
    function _probeEarlyExit(uint256 _id, IJobAgency.Job memory _job) internal {
        IJobAgency.Status status = _job.status;
        if (block.timestamp <= _job.deadline) {
            bytes memory want =
                abi.encodeWithSelector(IJobAgency.JobAgency_DeadlineNotPassed.selector, _job.deadline);
            string memory when = block.timestamp == _job.deadline ? "at deadline" : "before deadline";
            vm.prank(stranger);
            try agency.expire(_id, _job) {
                _probeFailed("early expire accepted");
            } catch (bytes memory err) {
                _expectError(err, want, string.concat("expire ", when));
            }
            if (status == IJobAgency.Status.Submitted) {
                vm.prank(stranger);
                try agency.finalize(_id, _job) {
                    _probeFailed("early finalize accepted");
                } catch (bytes memory err) {
                    _expectError(err, want, string.concat("finalize ", when));
                }
            }
        } else {
            vm.prank(stranger);
            try agency.expire(_id, _job) {
                _probeFailed("expire on Submitted accepted");
            } catch (bytes memory err) {
                _expectError(err, _wrongStatus(status), "expire on Submitted");
            }
        }
    }

    /// @dev Every in-window action of the job's state, made one second (or more) too late by the right party.
    function _probeLate(uint256 _id, IJobAgency.Job memory _job) internal {
        bytes memory want =
            abi.encodeWithSelector(IJobAgency.JobAgency_DeadlinePassed.selector, _job.deadline);
        IJobAgency.Status status = _job.status;
        bytes memory err;
        bool ok;
        if (status == IJobAgency.Status.Open) {
            vm.prank(_workers[0]);
            try agency.claim{value: _job.workerBond}(_id, _job) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else if (status == IJobAgency.Status.Claimed) {
            vm.prank(_job.worker);
            try agency.submit(_id, _job, _cids[0]) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else if (status == IJobAgency.Status.Submitted) {
            vm.prank(_challengers[0]);
            try agency.challenge{value: _job.challengeBond}(_id, _job, keccak256("seal")) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else if (status == IJobAgency.Status.Challenged) {
            vm.prank(_job.challenger);
            try agency.reveal(_id, _job, _cids[_ghost[_id].sealedCid], _ghost[_id].salt) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else {
            vm.prank(_job.arbiter == address(trustedArbiter) ? arbiterOwner : eoaArbiter);
            if (_job.arbiter == address(trustedArbiter)) {
                try trustedArbiter.rule(agency, _id, _job, IJobAgency.Ruling.WorkerRight) {
                    ok = true;
                } catch (bytes memory e) {
                    err = e;
                }
            } else {
                try agency.resolve(_id, _job, IJobAgency.Ruling.WorkerRight) {
                    ok = true;
                } catch (bytes memory e) {
                    err = e;
                }
            }
        }
        if (ok) {
            return _probeFailed(string.concat("late action accepted in status ", vm.toString(uint8(status))));
        }
        _expectError(err, want, string.concat("late action in status ", vm.toString(uint8(status))));
    }

    /// @dev The state's in-window action by someone it is not reserved for.
    function _probeWrongCaller(uint256 _id, IJobAgency.Job memory _job, uint256 _actorSeed)
        internal
        returns (bool)
    {
        IJobAgency.Status status = _job.status;
        address intruder = _actors[_actorSeed % _actors.length];
        if (intruder == _job.poster || intruder == _job.worker || intruder == _job.challenger) {
            intruder = stranger;
        }
        bytes memory unauthorized =
            abi.encodeWithSelector(IJobAgency.JobAgency_Unauthorized.selector, intruder);
        if (status == IJobAgency.Status.Open) {
            vm.prank(intruder);
            try agency.cancel(_id, _job) {
                _probeFailed("cancel by non-poster accepted");
            } catch (bytes memory err) {
                _expectError(err, unauthorized, "cancel by non-poster");
            }
        } else if (status == IJobAgency.Status.Claimed) {
            vm.prank(intruder);
            try agency.submit(_id, _job, _cids[0]) {
                _probeFailed("submit by non-worker accepted");
            } catch (bytes memory err) {
                _expectError(err, unauthorized, "submit by non-worker");
            }
        } else if (status == IJobAgency.Status.Submitted) {
            // In its window only: after it, `DeadlinePassed` comes first.
            if (block.timestamp > _job.deadline) return false;
            vm.prank(_job.worker);
            try agency.challenge{value: _job.challengeBond}(_id, _job, keccak256("seal")) {
                _probeFailed("self-challenge accepted");
            } catch (bytes memory err) {
                _expectError(
                    err, abi.encodeWithSelector(IJobAgency.JobAgency_SelfChallenge.selector), "self-challenge"
                );
            }
        } else if (status == IJobAgency.Status.Challenged) {
            vm.prank(intruder);
            try agency.reveal(_id, _job, _cids[0], bytes32(0)) {
                _probeFailed("reveal by non-challenger accepted");
            } catch (bytes memory err) {
                _expectError(err, unauthorized, "reveal by non-challenger");
            }
        } else {
            // Disputed: only the job's arbiter. The trusted arbiter's owner calling the agency directly is not it,
            // nor is anyone calling the trusted arbiter but its owner.
            address wrong = _job.arbiter == address(trustedArbiter) ? arbiterOwner : intruder;
            if (wrong == _job.arbiter) wrong = stranger;
            vm.prank(wrong);
            try agency.resolve(_id, _job, IJobAgency.Ruling.WorkerRight) {
                _probeFailed("resolve by non-arbiter accepted");
            } catch (bytes memory err) {
                _expectError(
                    err,
                    abi.encodeWithSelector(IJobAgency.JobAgency_Unauthorized.selector, wrong),
                    "resolve by non-arbiter"
                );
            }
            if (intruder == arbiterOwner) intruder = stranger;
            vm.prank(intruder);
            try trustedArbiter.rule(agency, _id, _job, IJobAgency.Ruling.WorkerRight) {
                _probeFailed("rule by non-owner accepted");
            } catch (bytes memory err) {
                _expectError(
                    err,
                    abi.encodeWithSelector(TrustedArbiter.TrustedArbiter_Unauthorized.selector, intruder),
                    "rule by non-owner"
                );
            }
        }
        return true;
    }

    /// @dev The state's in-window action by the right party with a wrong input: a bond that is not the job's,
    ///      an invalid CID, a zero seal, a salt that does not open the seal.
    function _probeWrongInput(uint256 _id, IJobAgency.Job memory _job, uint256 _actorSeed)
        internal
        returns (bool)
    {
        IJobAgency.Status status = _job.status;
        if (status == IJobAgency.Status.Open) {
            vm.prank(_workers[_actorSeed % _workers.length]);
            try agency.claim{value: uint256(_job.workerBond) + 1}(_id, _job) {
                _probeFailed("claim with wrong bond accepted");
            } catch (bytes memory err) {
                _expectError(
                    err,
                    abi.encodeWithSelector(
                        IJobAgency.JobAgency_WrongValue.selector,
                        _job.workerBond,
                        uint256(_job.workerBond) + 1
                    ),
                    "claim with wrong bond"
                );
            }
        } else if (status == IJobAgency.Status.Claimed) {
            vm.prank(_job.worker);
            try agency.submit(_id, _job, hex"1220aabb") {
                _probeFailed("invalid result CID accepted");
            } catch (bytes memory err) {
                _expectError(
                    err,
                    abi.encodeWithSelector(IJobAgency.JobAgency_InvalidCid.selector),
                    "invalid result CID"
                );
            }
        } else if (status == IJobAgency.Status.Submitted) {
            address challenger = _challengerFor(_job.worker, _actorSeed);
            vm.prank(challenger);
            try agency.challenge{value: _job.challengeBond}(_id, _job, bytes32(0)) {
                _probeFailed("zero seal accepted");
            } catch (bytes memory err) {
                _expectError(err, abi.encodeWithSelector(IJobAgency.JobAgency_ZeroSeal.selector), "zero seal");
            }
            vm.prank(challenger);
            try agency.challenge{value: uint256(_job.challengeBond) + 1}(_id, _job, keccak256("seal")) {
                _probeFailed("challenge with wrong bond accepted");
            } catch (bytes memory err) {
                _expectError(
                    err,
                    abi.encodeWithSelector(
                        IJobAgency.JobAgency_WrongValue.selector,
                        _job.challengeBond,
                        uint256(_job.challengeBond) + 1
                    ),
                    "challenge with wrong bond"
                );
            }
        } else if (status == IJobAgency.Status.Challenged) {
            vm.prank(_job.challenger);
            try agency.reveal(_id, _job, _cids[_ghost[_id].sealedCid], ~_ghost[_id].salt) {
                _probeFailed("wrong salt accepted");
            } catch (bytes memory err) {
                _expectError(
                    err, abi.encodeWithSelector(IJobAgency.JobAgency_SealMismatch.selector), "wrong salt"
                );
            }
        } else {
            return false;
        }
        return true;
    }

    /// @dev A closed job cannot be acted on again, whatever its last record.
    function _probeClosed(uint256 _jobSeed) internal returns (bool) {
        if (_closed.length == 0) return false;
        uint256 id = _closed[_jobSeed % _closed.length];
        IJobAgency.Job memory job = _record[id];
        vm.prank(stranger);
        try agency.expire(id, job) {
            _probeFailed("closed job expired again");
        } catch (bytes memory err) {
            _expectError(
                err, abi.encodeWithSelector(IJobAgency.JobAgency_NoSuchJob.selector, id), "closed job"
            );
        }
        return true;
    }

    /// @dev Withdrawing nothing fails.
    function _probeNoCredit(uint256 _actorSeed) internal returns (bool) {
        address account = _actors[_actorSeed % _actors.length];
        if (agency.creditOf(account) != 0) return false;
        vm.prank(account);
        try agency.withdraw() {
            _probeFailed("withdraw of nothing accepted");
        } catch (bytes memory err) {
            _expectError(
                err, abi.encodeWithSelector(IJobAgency.JobAgency_NoCredit.selector), "withdraw of nothing"
            );
        }
        return true;
    }

    /*//////////////////////////////////////////////////////////////
                        VIEWS FOR THE INVARIANTS
    //////////////////////////////////////////////////////////////*/

    function liveCount() external view returns (uint256) {
        return _live.length;
    }

    function liveId(uint256 _i) external view returns (uint256) {
        return _live[_i];
    }

    function closedCount() external view returns (uint256) {
        return _closed.length;
    }

    function closedId(uint256 _i) external view returns (uint256) {
        return _closed[_i];
    }

    /// @notice The record the handler holds for a job: the current one while live, the last one once closed.
    function recordOf(uint256 _id) external view returns (IJobAgency.Job memory) {
        return _record[_id];
    }

    function ghostOf(uint256 _id) external view returns (JobGhost memory) {
        return _ghost[_id];
    }

    function bondCount() external view returns (uint256) {
        return _bonds.length;
    }

    function bondAt(uint256 _i) external view returns (Bond memory) {
        return _bonds[_i];
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function ghostReputation(address _account) external view returns (IJobAgency.Reputation memory) {
        return _ghostRep[_account];
    }

    function edgeCount(uint8 _from, uint8 _to) external view returns (uint256) {
        return _edges[_from][_to];
    }

    /// @notice Sums over live jobs of the escrowed payments, the locked worker bonds and challenge bonds.
    function lockedTotals()
        external
        view
        returns (uint256 payments_, uint256 workerBonds_, uint256 challengeBonds_)
    {
        for (uint256 i; i < _live.length; ++i) {
            JobGhost storage g = _ghost[_live[i]];
            payments_ += g.escrow;
            workerBonds_ += g.workerBond;
            challengeBonds_ += g.challengeBond;
        }
    }

    /// @notice Every live job's id, record and what it holds in the agency (payment and locked bonds), in one call.
    function liveJobs()
        external
        view
        returns (uint256[] memory ids_, IJobAgency.Job[] memory jobs_, uint256[] memory held_)
    {
        uint256 n = _live.length;
        ids_ = new uint256[](n);
        jobs_ = new IJobAgency.Job[](n);
        held_ = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 id = _live[i];
            JobGhost storage g = _ghost[id];
            ids_[i] = id;
            jobs_[i] = _record[id];
            held_[i] = g.escrow + g.workerBond + g.challengeBond;
        }
    }

    /// @notice What a live job holds in the agency: its payment and the bonds locked in it.
    function lockedIn(uint256 _id) external view returns (uint256) {
        JobGhost storage g = _ghost[_id];
        return g.escrow + g.workerBond + g.challengeBond;
    }

    /// @notice Logs how often each action ran (and was skipped) in this run. With `AGENCY_CALL_LOG=true` in the
    ///         environment it logs the totals over all runs so far instead, kept in environment variables of the
    ///         forge process (run a single invariant with `--match-test` to read one campaign's distribution).
    function logCalls() external {
        bool cumulative = vm.envOr("AGENCY_CALL_LOG", false);
        if (!cumulative) {
            console.log("AgencyHandler calls this run (action: count):");
            for (uint256 i; i < _callNames.length; ++i) {
                string memory name = _callNames[i];
                console.log(string.concat("  ", name, ": ", vm.toString(calls[keccak256(bytes(name))])));
            }
            return;
        }
        string memory names = vm.envOr("AGENCY_CALL_LOG_NAMES", string(""));
        for (uint256 i; i < _callNames.length; ++i) {
            string memory name = _callNames[i];
            bytes32 key = keccak256(bytes(name));
            string memory envKey = string.concat("AGENCY_CALL_LOG_", vm.toString(key));
            vm.setEnv(envKey, vm.toString(vm.envOr(envKey, uint256(0)) + calls[key]));
            if (!vm.contains(names, string.concat("|", name, "|"))) {
                names = string.concat(names, "|", name, "|");
            }
        }
        vm.setEnv("AGENCY_CALL_LOG_NAMES", names);
        uint256 runs = vm.envOr("AGENCY_CALL_LOG_RUNS", uint256(0)) + 1;
        vm.setEnv("AGENCY_CALL_LOG_RUNS", vm.toString(runs));
        console.log(string.concat("AgencyHandler calls over ", vm.toString(runs), " runs (action: count):"));
        string[] memory parts = vm.split(names, "|");
        for (uint256 i; i < parts.length; ++i) {
            if (bytes(parts[i]).length == 0) continue;
            string memory envKey = string.concat("AGENCY_CALL_LOG_", vm.toString(keccak256(bytes(parts[i]))));
            console.log(string.concat("  ", parts[i], ": ", vm.envString(envKey)));
        }
    }

    function callNames() external view returns (string[] memory) {
        return _callNames;
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev The first live job from `_seed` (a bounded index, cycling) for which `_ok` holds.
    function _find(uint256 _seed, function(uint256) view returns (bool) _ok)
        internal
        view
        returns (bool found_, uint256 id_)
    {
        uint256 n = _live.length;
        if (n == 0) return (false, 0);
        uint256 start = _seed % n;
        for (uint256 k; k < n; ++k) {
            id_ = _live[(start + k) % n];
            if (_ok(id_)) return (true, id_);
        }
        return (false, 0);
    }

    function _isLive(uint256) internal pure returns (bool) {
        return true;
    }

    function _isOpen(uint256 _id) internal view returns (bool) {
        return _record[_id].status == IJobAgency.Status.Open;
    }

    function _isClaimable(uint256 _id) internal view returns (bool) {
        return _record[_id].status == IJobAgency.Status.Open && block.timestamp <= _record[_id].deadline;
    }

    function _isSubmittable(uint256 _id) internal view returns (bool) {
        return _record[_id].status == IJobAgency.Status.Claimed && block.timestamp <= _record[_id].deadline;
    }

    function _isChallengeable(uint256 _id) internal view returns (bool) {
        return _record[_id].status == IJobAgency.Status.Submitted && block.timestamp <= _record[_id].deadline;
    }

    function _isFinalizable(uint256 _id) internal view returns (bool) {
        return _record[_id].status == IJobAgency.Status.Submitted && block.timestamp > _record[_id].deadline;
    }

    function _isRevealable(uint256 _id) internal view returns (bool) {
        return _record[_id].status == IJobAgency.Status.Challenged && block.timestamp <= _record[_id].deadline;
    }

    function _isResolvable(uint256 _id) internal view returns (bool) {
        return _record[_id].status == IJobAgency.Status.Disputed && block.timestamp <= _record[_id].deadline;
    }

    /// @dev A deadline still ahead whose passing will make `expire` due (not Submitted, which `finalize` ends).
    function _isExpirableLater(uint256 _id) internal view returns (bool) {
        return _record[_id].status != IJobAgency.Status.Submitted && block.timestamp <= _record[_id].deadline;
    }

    /// @dev `expire` must fail: the deadline has not passed, or the job is Submitted.
    function _hasNoExpireDue(uint256 _id) internal view returns (bool) {
        return _record[_id].status == IJobAgency.Status.Submitted || block.timestamp <= _record[_id].deadline;
    }

    function _isNotSubmitted(uint256 _id) internal view returns (bool) {
        return _record[_id].status != IJobAgency.Status.Submitted;
    }

    function _isLate(uint256 _id) internal view returns (bool) {
        return block.timestamp > _record[_id].deadline;
    }

    function _isInTime(uint256 _id) internal view returns (bool) {
        return block.timestamp <= _record[_id].deadline;
    }

    function _isPoster(address _account) internal view returns (bool) {
        for (uint256 i; i < _posters.length; ++i) {
            if (_posters[i] == _account) return true;
        }
        return false;
    }

    /// @dev A random word from a seed and a label.
    function _rand(uint256 _seed, uint256 _label) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(_seed, _label)));
    }

    function _isExpirable(uint256 _id) internal view returns (bool) {
        return _record[_id].status != IJobAgency.Status.Submitted && block.timestamp > _record[_id].deadline;
    }

    /// @dev A challenger for a job done by `_worker`: mostly the three challengers, sometimes a poster or
    ///      another worker, never `_worker` (or `_avoid` in general).
    function _challengerFor(address _avoid, uint256 _seed) internal view returns (address challenger_) {
        uint256 pick = _seed % 8;
        if (pick < 5) challenger_ = _challengers[(_seed >> 8) % _challengers.length];
        else if (pick < 7) challenger_ = _posters[(_seed >> 8) % _posters.length];
        else challenger_ = _workers[(_seed >> 8) % _workers.length];
        if (challenger_ == _avoid) {
            challenger_ = _challengers[0] == _avoid ? _challengers[1] : _challengers[0];
        }
    }

    /// @dev `reputationOf` computed from the ghost counters.
    function _ghostScore(address _account) internal view returns (uint256) {
        IJobAgency.Reputation memory r = _ghostRep[_account];
        uint256 penalty = 4 * uint256(r.disputesLost) + r.deadlinesMissed;
        return r.finalized > penalty ? r.finalized - penalty : 0;
    }

    /// @dev The job's payment is credited to `_to`; counted so that a second credit would show.
    function _creditPayment(uint256 _id, address _to) internal {
        JobGhost storage g = _ghost[_id];
        ghostCredited[_to] += g.escrow;
        ++g.paymentCredits;
        g.paidTo = _to;
        g.escrow = 0;
    }

    /// @dev Bond `_bondId` (1-based) leaves the job: back to its owner or, slashed, to `_to`.
    function _settleBond(uint256 _bondId, bool _returned, address _to) internal {
        Bond storage b = _bonds[_bondId - 1];
        if (_returned) ++b.returned;
        else ++b.slashed;
        ghostCredited[_to] += b.amount;
        JobGhost storage g = _ghost[b.jobId];
        if (b.isChallenge) g.challengeBond = 0;
        else g.workerBond = 0;
    }

    /// @dev The job moved to `_next` (predicted); the edge taken is read from the stored hash.
    function _move(uint256 _id, IJobAgency.Job memory _next) internal {
        uint8 from = _ghost[_id].state;
        uint8 to = agency.jobHash(_id) == keccak256(abi.encode(_next)) ? uint8(_next.status) : UNKNOWN;
        if (to == UNKNOWN) ++ghostRecordMismatches;
        ++_edges[from][to];
        _ghost[_id].state = to;
        _record[_id] = _next;
    }

    /// @dev The job left the market (predicted); the edge taken is read from the stored hash.
    function _close(uint256 _id) internal {
        IJobAgency.Job storage job = _record[_id];
        _checkAccount(job.poster);
        _checkAccount(job.worker);
        _checkAccount(job.challenger);
        uint8 from = _ghost[_id].state;
        uint8 to = agency.jobHash(_id) == bytes32(0) ? CLOSED : UNKNOWN;
        if (to == UNKNOWN) ++ghostRecordMismatches;
        ++_edges[from][to];
        JobGhost storage g = _ghost[_id];
        g.state = to;
        // Whatever was locked has been credited by the caller; nothing stays behind.
        g.escrow = 0;
        g.workerBond = 0;
        g.challengeBond = 0;
        uint256 index = _liveIndex[_id] - 1;
        uint256 last = _live[_live.length - 1];
        _live[index] = last;
        _liveIndex[last] = index + 1;
        _live.pop();
        delete _liveIndex[_id];
        _closed.push(_id);
    }

    /// @dev After an action that credited `_account` or changed its counters: its credit is credited - withdrawn
    ///      and no counter went down since the last look. (The invariants compare every account after every call;
    ///      this check names the action.)
    function _checkAccount(address _account) internal {
        if (_account == address(0)) return;
        uint256 credited = ghostCredited[_account];
        uint256 withdrawn = ghostWithdrawn[_account];
        if (withdrawn > credited || agency.creditOf(_account) != credited - withdrawn) {
            ++ghostCreditMismatches;
        }
        IJobAgency.Reputation memory r = agency.reputation(_account);
        IJobAgency.Reputation memory last = _lastRep[_account];
        if (
            r.finalized < last.finalized || r.disputesLost < last.disputesLost
                || r.deadlinesMissed < last.deadlinesMissed
        ) {
            ++ghostReputationRegressions;
        }
        _lastRep[_account] = r;
    }

    function _wrongStatus(IJobAgency.Status _status) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, _status);
    }

    function _expectError(bytes memory _err, bytes memory _want, string memory _name) internal {
        if (keccak256(_err) != keccak256(_want)) {
            _probeFailed(string.concat(_name, ": reverted with ", vm.toString(_err)));
        } else {
            _count(string.concat("probe ", _name));
        }
    }

    function _probeFailed(string memory _what) internal {
        ++ghostProbeFailures;
        lastProbeFailure = _what;
    }

    function _copy(IJobAgency.Job memory _job) internal pure returns (IJobAgency.Job memory) {
        return abi.decode(abi.encode(_job), (IJobAgency.Job));
    }

    function _count(string memory _name) internal {
        bytes32 key = keccak256(bytes(_name));
        if (calls[key] == 0) _callNames.push(_name);
        ++calls[key];
    }
}
