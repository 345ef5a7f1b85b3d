// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";
import {JobAgency} from "src/JobAgency.sol";
import {IArbiter} from "src/interfaces/IArbiter.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {IJuryArbiter} from "src/interfaces/IJuryArbiter.sol";
import {JuryArbiter} from "src/arbiters/JuryArbiter.sol";
import {openRecord} from "../../utils/Records.sol";

/// @title JuryHandler
/// @notice The actor contract of the agency + jury invariant suite. It plays posters, workers, challengers and
///         eight verifiers, and drives disputed and audited jobs (half each; an audited job is one whose audit
///         draw selected it) through the jury: open, draw (sometimes after the draw
///         block's hash aged out), commit, reveal (honestly, against the majority, or not at all), settle, and
///         the agency's timeout; verifiers register, leave, unstake and withdraw between disputes; time moves
///         onto and past deadlines. Every call is one that must succeed at the current state and time; one
///         that reverts anyway is counted in `ghostUnexpectedReverts`, which an invariant requires to be zero.
///         Jobs that the audit draw does not select are finalized, which books their audit fee to the jury.
/// @dev Ghost accounting: ETH in (payments, bonds, stakes) and out (withdrawals); stakes deposited, unstaked and
///      slashed; fees collected and rewards paid (read from the jury's events); rewards per (job, juror); audit
///      fees booked to the jury at the agency, collected into the audit pool and paid out of it.
contract JuryHandler is CommonBase, StdCheats, StdUtils {
    JobAgency public immutable agency;
    JuryArbiter public immutable jury;

    bytes internal constant CODE_CID = hex"1220"
        hex"c3c4733ec8affd06cf9e9ff50ffc6bcd2ec85a6170004bb709669c31de94391a";
    bytes internal constant INPUT_CID = hex"01551220"
        hex"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447";
    bytes32 internal constant ENGINE = "quickjs-ng/0.16.2";
    uint256 internal constant FUNDS = 1e9 ether;
    uint256 internal constant MAX_LIVE = 6;

    address[] public parties;
    address[] public verifiers;
    address[] internal _actors;
    bytes[] internal _cids;

    /// @dev Live disputed jobs (at the agency), their records and what the handler knows about them.
    uint256[] public liveJobs;
    mapping(uint256 jobId => IJobAgency.Job) internal _record;
    mapping(uint256 jobId => uint256) internal _truth; // index in `_cids` of the job's correct result
    mapping(uint256 jobId => bool) public isAudit;
    /// @dev 1 + index in `_cids` of what the juror committed; `_REVEALED` once it revealed; zero before.
    mapping(uint256 jobId => mapping(address juror => uint256)) internal _committedCid;
    uint256 internal constant _REVEALED = type(uint256).max;

    /// @dev Clock, re-applied at the start of every action.
    uint256 public time;
    uint256 public blockNumber;
    uint256 internal _nonce;

    /*//////////////////////////////////////////////////////////////
                                 GHOSTS
    //////////////////////////////////////////////////////////////*/

    uint256 public ghostIn;
    uint256 public ghostOut;
    uint256 public ghostStaked;
    uint256 public ghostUnstaked;
    uint256 public ghostSlashed;
    uint256 public ghostFees;
    uint256 public ghostRewards;
    uint256 public ghostDoublePaid;
    uint256 public ghostUnexpectedReverts;
    uint256 public ghostRulings;
    uint256 public ghostAbandoned;
    uint256 public ghostAudits;
    uint256 public ghostUnaudited;
    uint256 public ghostAuditFeesBooked;
    uint256 public ghostPoolIn;
    uint256 public ghostPoolPaid;
    mapping(uint256 jobId => mapping(address juror => uint256)) public rewardsOf;
    mapping(string => uint256) public calls;
    string[] internal _callNames;

    constructor(JobAgency _agency, JuryArbiter _jury) {
        agency = _agency;
        jury = _jury;
        time = block.timestamp;
        blockNumber = block.number;
        for (uint256 i; i < 6; ++i) {
            address a = makeAddr(string.concat("party", vm.toString(i)));
            parties.push(a);
            _actors.push(a);
            vm.deal(a, FUNDS);
        }
        for (uint256 i; i < 8; ++i) {
            address v = makeAddr(string.concat("verifier", vm.toString(i)));
            verifiers.push(v);
            _actors.push(v);
            vm.deal(v, FUNDS);
            // Five start in the pool, so that most draws find a jury.
            if (i < 5) _register(v);
        }
        _cids.push(hex"01551220" hex"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        _cids.push(hex"01551220" hex"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        _cids.push(hex"01551220" hex"1111111111111111111111111111111111111111111111111111111111111111");
    }

    modifier step() {
        vm.warp(time);
        vm.roll(blockNumber);
        _;
    }

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice A job posted with the jury as arbiter goes straight to Disputed (worker and challenger disagree),
    ///         or, half the time, straight to Audited (nobody challenges and the audit draw selects it).
    function newDispute(uint256 _seed) external step {
        _chain(0, _seed);
    }

    /// @notice A job nobody challenges and the audit draw does not select: finalized after a one-second window,
    ///         which books its audit fee to the jury at the agency.
    function finalizeUnaudited(uint256 _seed) external step {
        IJobAgency.JobSpec memory spec = _specOf(_seed);
        spec.challengeWindow = 1;
        address poster = parties[_seed % 2];
        vm.prank(poster);
        uint256 id = agency.post{value: uint256(spec.payment) + spec.auditFee}(spec);
        ghostIn += uint256(spec.payment) + spec.auditFee + spec.workerBond;
        IJobAgency.Job memory job =
            _claimAndSubmit(id, openRecord(spec, poster, agency.hashSpec(spec)), 0, _seed);
        _mineAuditBlock(id, job.auditBlock, false);
        _warpTo(time + 2);
        try agency.finalize(id, job) {
            ghostAuditFeesBooked += job.auditFee;
            ++ghostUnaudited;
            _count("finalizeUnaudited");
        } catch {
            _unexpected("finalize (not selected)");
        }
    }

    function openDispute(uint256 _seed) external step {
        _chain(1, _seed);
    }

    /// @notice Draws a Drawing dispute; one time in eight the draw block's hash has aged out first.
    function draw(uint256 _seed) external step {
        _chain(2, _seed);
    }

    /// @notice A drawn juror commits: the truth three times in four, otherwise any of the three results (a lazy
    ///         or colluding juror); some never commit.
    function commit(uint256 _seed) external step {
        _chain(3, _seed);
    }

    function reveal(uint256 _seed) external step {
        _chain(4, _seed);
    }

    function settle(uint256 _seed) external step {
        _chain(5, _seed);
    }

    /// @dev Takes the step at `level` of a dispute's life (0 new, 1 open, 2 draw, 3 commit, 4 reveal, 5 settle)
    ///      for some job, or, when no job is ready for it, the step before, and so on: actions concentrate on
    ///      moving disputes forward instead of being skipped.
    function _chain(uint256 level, uint256 _seed) internal {
        for (uint256 l = level + 1; l > 0; --l) {
            uint256 r = uint256(keccak256(abi.encode(_seed, l)));
            bool done = l == 6
                ? _trySettle(r)
                : l == 5
                    ? _reveal(r)
                    : l == 4 ? _commit(r) : l == 3 ? _draw(r) : l == 2 ? _open(r) : _newDispute(r);
            if (done) return;
        }
        _count("skip (nothing to do)");
    }

    function _newDispute(uint256 _seed) internal returns (bool) {
        if (liveJobs.length >= MAX_LIVE) return false;
        IJobAgency.JobSpec memory spec = _specOf(_seed);
        address poster = parties[_seed % 2];
        vm.prank(poster);
        uint256 id = agency.post{value: uint256(spec.payment) + spec.auditFee}(spec);
        uint256 truth = (_seed >> 200) % 3;
        uint256 workerCid = (_seed >> 208) % 2 == 0 ? truth : (truth + 1) % 3;
        IJobAgency.Job memory job =
            _claimAndSubmit(id, openRecord(spec, poster, agency.hashSpec(spec)), workerCid, _seed);
        ghostIn += uint256(spec.payment) + spec.auditFee + spec.workerBond;
        if ((_seed >> 224) % 2 == 0) {
            _record[id] = _dispute(id, job, workerCid, _seed);
            ghostIn += spec.challengeBond;
            _count("newDispute");
        } else {
            _mineAuditBlock(id, job.auditBlock, true);
            agency.drawAudit(id, job);
            job.status = IJobAgency.Status.Audited;
            job.deadline = uint40(time + job.disputeWindow);
            job.auditBlock = 0;
            _record[id] = job;
            isAudit[id] = true;
            ++ghostAudits;
            _count("newAudit");
        }
        _truth[id] = truth;
        liveJobs.push(id);
        return true;
    }

    function _open(uint256 _seed) internal returns (bool) {
        (bool found, uint256 id) = _findJob(_seed, IJuryArbiter.Phase.None);
        if (!found) return false;
        IJobAgency.Job memory job = _record[id];
        if (time + jury.commitPeriod() + jury.revealPeriod() > job.deadline) return false;
        if (isAudit[id]) {
            // An audit paying its auditors less than the jury's minimum fee is refused; it times out instead.
            bool tooCheap = uint256(job.auditFee) * 10_000 / agency.auditRate() < jury.minFee();
            try jury.openAudit(id, job) {
                if (tooCheap) _unexpected("openAudit with a pay below the jury's fee");
                _count("openAudit");
            } catch (bytes memory err) {
                if (!tooCheap || bytes4(err) != IJuryArbiter.JuryArbiter_FeeTooLow.selector) {
                    _unexpected("openAudit");
                } else {
                    _count("openAudit (pay too low, left to time out)");
                }
            }
        } else {
            try jury.openDispute(id, job) {
                _count("openDispute");
            } catch {
                _unexpected("openDispute");
            }
        }
        return true;
    }

    function _draw(uint256 _seed) internal returns (bool) {
        (bool found, uint256 id) = _findJob(_seed, IJuryArbiter.Phase.Drawing);
        if (!found) return false;
        uint256 drawBlock = jury.disputeOf(id).drawBlock;
        uint256 target = drawBlock + ((_seed >> 128) % 8 == 0 ? 300 : 1);
        if (blockNumber < target) blockNumber = target;
        vm.roll(blockNumber);
        bool agedOut = blockNumber > drawBlock + 256;
        if (!agedOut) vm.setBlockhash(drawBlock, keccak256(abi.encode(_seed)));
        bool enough = _eligible(_record[id]) >= jury.jurors();
        try jury.draw(id, _record[id]) {
            if (!agedOut && !enough) _unexpected("draw with a pool too small");
            _count(agedOut ? "draw (aged out, rescheduled)" : "draw");
        } catch (bytes memory err) {
            if (agedOut || enough || bytes4(err) != IJuryArbiter.JuryArbiter_PoolTooSmall.selector) {
                _unexpected("draw");
            } else {
                _count("draw (pool too small)");
            }
        }
        return true;
    }

    function _commit(uint256 _seed) internal returns (bool) {
        (bool found, uint256 id) = _findJob(_seed, IJuryArbiter.Phase.Voting);
        if (!found || time > jury.disputeOf(id).commitDeadline) return false;
        address[] memory drawn = jury.jurorsOf(id);
        address juror = drawn[(_seed >> 16) % drawn.length];
        if (_committedCid[id][juror] != 0) return false;
        uint256 cid = (_seed >> 32) % 4 == 0 ? (_seed >> 40) % 3 : _truth[id];
        bytes32 commitment = jury.commitmentOf(id, juror, _cids[cid], keccak256(abi.encode(id, juror)));
        vm.prank(juror);
        try jury.commit(id, commitment) {
            _committedCid[id][juror] = cid + 1;
            _count("commit");
        } catch {
            _unexpected("commit");
        }
        return true;
    }

    function _reveal(uint256 _seed) internal returns (bool) {
        (bool found, uint256 id) = _findJob(_seed, IJuryArbiter.Phase.Voting);
        if (!found) return false;
        IJuryArbiter.Dispute memory d = jury.disputeOf(id);
        // A juror waiting for the reveal phase: half the time, time moves on to it.
        if (time <= d.commitDeadline && d.committed < jury.jurors()) {
            if ((_seed >> 56) % 2 == 0) return false;
            _warpTo(d.commitDeadline + 1);
        }
        if (time > d.revealDeadline) return false;
        address[] memory drawn = jury.jurorsOf(id);
        address juror = drawn[(_seed >> 16) % drawn.length];
        uint256 cid = _committedCid[id][juror];
        // One juror in eight never reveals what it committed.
        if (cid == 0 || cid == _REVEALED || (_seed >> 48) % 8 == 0) return false;
        vm.prank(juror);
        try jury.reveal(id, _cids[cid - 1], keccak256(abi.encode(id, juror))) {
            _committedCid[id][juror] = _REVEALED;
            _count("reveal");
        } catch {
            _unexpected("reveal");
        }
        return true;
    }

    function _trySettle(uint256 _seed) internal returns (bool) {
        (bool found, uint256 id) = _findJob(_seed, IJuryArbiter.Phase.Voting);
        if (!found) (found, id) = _findJob(_seed, IJuryArbiter.Phase.Drawing);
        if (!found) return false;
        // A keeper waiting for the reveal deadline: one time in four, time moves on past it.
        IJuryArbiter.Dispute memory d = jury.disputeOf(id);
        if (d.phase == IJuryArbiter.Phase.Voting && time <= d.revealDeadline && (_seed >> 56) % 4 == 0) {
            _warpTo(d.revealDeadline + 1);
        }
        return _settle(id, false);
    }

    /// @dev Moves block time forward to `t` (never back) and the block number by one.
    function _warpTo(uint256 t) internal {
        if (t <= time) return;
        time = t;
        blockNumber += 1;
        vm.warp(time);
        vm.roll(blockNumber);
    }

    /// @notice The agency's permissionless exit for a dispute nobody ruled in time, taken before the jury has
    ///         wound its dispute up; the jury's `settle` then abandons it (the record it holds still matches).
    function expire(uint256 _jobSeed) external step {
        if (liveJobs.length == 0) return _count("skip expire");
        uint256 index = _jobSeed % liveJobs.length;
        uint256 id = liveJobs[index];
        IJobAgency.Job memory job = _record[id];
        if (time <= job.deadline) return _count("skip expire (early)");
        try agency.expire(id, job) {
            _count("agency expire");
        } catch {
            _unexpected("agency expire");
            return;
        }
        IJuryArbiter.Phase phase = jury.disputeOf(id).phase;
        if (phase == IJuryArbiter.Phase.Drawing || phase == IJuryArbiter.Phase.Voting) _settle(id, false);
        _dropJob(index);
    }

    function warp(uint256 _seconds) external step {
        time += _bound(_seconds, 1, 3 hours);
        blockNumber += 1;
        _count("warp");
    }

    function register(uint256 _seed) external step {
        address v = verifiers[_seed % verifiers.length];
        IJuryArbiter.Verifier memory info = jury.verifierOf(v);
        if (info.stake != 0 || info.poolIndex != 0) return _count("skip register");
        _register(v);
    }

    function leave(uint256 _seed) external step {
        address v = verifiers[_seed % verifiers.length];
        if (jury.verifierOf(v).poolIndex == 0) return _count("skip leave");
        vm.prank(v);
        try jury.leave() {
            _count("leave");
        } catch {
            _unexpected("leave");
        }
    }

    function unstake(uint256 _seed) external step {
        address v = verifiers[_seed % verifiers.length];
        IJuryArbiter.Verifier memory info = jury.verifierOf(v);
        if (info.poolIndex != 0 || info.stake == 0 || time < info.unstakeAt || info.drawnIn != 0) {
            return _count("skip unstake");
        }
        vm.prank(v);
        try jury.unstake() {
            ghostUnstaked += info.stake;
            _count("unstake");
        } catch {
            _unexpected("unstake");
        }
    }

    function withdraw(uint256 _seed) external step {
        address a = _actors[_seed % _actors.length];
        bool fromJury = (_seed >> 8) % 2 == 0;
        uint256 credit = fromJury ? jury.creditOf(a) : agency.creditOf(a);
        if (credit == 0) return _count("skip withdraw");
        vm.prank(a);
        if (fromJury) {
            try jury.withdraw() {
                ghostOut += credit;
                _count("jury withdraw");
            } catch {
                _unexpected("jury withdraw");
            }
        } else {
            try agency.withdraw() {
                ghostOut += credit;
                _count("agency withdraw");
            } catch {
                _unexpected("agency withdraw");
            }
        }
    }

    /*//////////////////////////////////////////////////////////////
                       DRAIN (every dispute ends)
    //////////////////////////////////////////////////////////////*/

    /// @notice Moves time past every deadline and takes every permissionless way out until no job is left: the
    ///         property "every dispute ends" as an executable check. Returns how many steps it took.
    function drain() external returns (uint256 steps_) {
        for (uint256 guard; liveJobs.length != 0 && guard < 50; ++guard) {
            time += 4 days;
            blockNumber += 1;
            vm.warp(time);
            vm.roll(blockNumber);
            for (uint256 i = liveJobs.length; i > 0; --i) {
                uint256 id = liveJobs[i - 1];
                IJuryArbiter.Phase phase = jury.disputeOf(id).phase;
                if (phase == IJuryArbiter.Phase.Drawing || phase == IJuryArbiter.Phase.Voting) {
                    _settle(id, true);
                } else {
                    try agency.expire(id, _record[id]) {
                        _dropJob(i - 1);
                    } catch {
                        _unexpected("drain: agency expire");
                    }
                }
                ++steps_;
            }
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function liveCount() external view returns (uint256) {
        return liveJobs.length;
    }

    function record(uint256 _id) external view returns (IJobAgency.Job memory) {
        return _record[_id];
    }

    function callSummary() external view returns (string[] memory names_, uint256[] memory counts_) {
        names_ = _callNames;
        counts_ = new uint256[](names_.length);
        for (uint256 i; i < names_.length; ++i) {
            counts_[i] = calls[names_[i]];
        }
    }

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev Settles `id` if the rules allow it now; returns whether it did.
    function _settle(uint256 id, bool draining) internal returns (bool) {
        IJuryArbiter.Dispute memory d = jury.disputeOf(id);
        IJobAgency.Job memory job = _record[id];
        bool ruleable = time <= job.deadline;
        uint256 revealed = uint256(d.forWorker) + d.forChallenger + d.forNeither;
        if (d.phase == IJuryArbiter.Phase.Drawing && ruleable) return false;
        if (
            d.phase == IJuryArbiter.Phase.Voting && ruleable && time <= d.revealDeadline
                && revealed < jury.jurors()
        ) {
            return false;
        }
        address[] memory drawn = jury.jurorsOf(id);
        uint256 creditBefore = agency.creditOf(address(jury));
        vm.recordLogs();
        try jury.settle(id, job) {
            _count(draining ? "drain: settle" : "settle");
        } catch {
            _unexpected(draining ? "drain: settle" : "settle");
            return true;
        }
        (bool ruled, IJobAgency.Ruling ruling) = _account(id, vm.getRecordedLogs());
        // A ruling collects everything the agency credited the jury; anything else leaves it there.
        assert(agency.creditOf(address(jury)) == (ruled ? 0 : creditBefore));
        for (uint256 i; i < drawn.length; ++i) {
            _committedCid[id][drawn[i]] = 0;
        }
        if (ruled) {
            assert(agency.jobHash(id) == bytes32(0));
            // A passed audit charges no arbiter fee; every ruling books the job's audit fee.
            if (!(isAudit[id] && ruling == IJobAgency.Ruling.WorkerRight)) ghostFees += job.arbiterFee;
            ghostAuditFeesBooked += job.auditFee;
            ++ghostRulings;
            for (uint256 i; i < liveJobs.length; ++i) {
                if (liveJobs[i] == id) {
                    _dropJob(i);
                    break;
                }
            }
        }
        return true;
    }

    /// @dev A jury job's spec from a seed: fee between the jury's minimum and the smaller bond; a dispute window
    ///      from 1 hour (too short for the jury) to 3 days (two rounds fit).
    function _specOf(uint256 _seed) internal returns (IJobAgency.JobSpec memory spec_) {
        uint256 minFee = jury.minFee();
        spec_.codeCid = CODE_CID;
        spec_.inputCid = INPUT_CID;
        spec_.options = abi.encodePacked(bytes1(0x00), ++_nonce);
        spec_.engine = ENGINE;
        spec_.payment = uint96(_bound(_seed >> 24, 1, 1 ether));
        spec_.workerBond = uint96(_bound(_seed >> 64, minFee, 2 ether));
        spec_.challengeBond = uint96(_bound(_seed >> 96, minFee, 2 ether));
        uint256 maxFee = spec_.workerBond < spec_.challengeBond ? spec_.workerBond : spec_.challengeBond;
        spec_.arbiterFee = uint96(_bound(_seed >> 128, minFee, maxFee));
        spec_.auditFee = uint96(_bound(_seed >> 232, agency.minAuditFee(), 0.05 ether));
        spec_.claimDeadline = uint40(time + 1 days);
        spec_.executionTime = 1 hours;
        spec_.challengeWindow = 1 hours;
        spec_.disputeWindow = uint32(_bound(_seed >> 160, 1 hours, 3 days));
        spec_.arbiter = address(jury);
    }

    /// @dev Claims and submits `_cids[workerCid]`; returns the Submitted record (with its audit block).
    function _claimAndSubmit(uint256 id, IJobAgency.Job memory job, uint256 workerCid, uint256 _seed)
        internal
        returns (IJobAgency.Job memory)
    {
        address worker = parties[2 + (_seed >> 8) % 2];
        vm.prank(worker);
        agency.claim{value: job.workerBond}(id, job);
        job = abi.decode(abi.encode(job), (IJobAgency.Job));
        job.status = IJobAgency.Status.Claimed;
        job.worker = worker;
        job.deadline = uint40(time + job.executionTime);
        vm.prank(worker);
        agency.submit(id, job, _cids[workerCid]);
        job.status = IJobAgency.Status.Submitted;
        job.result = keccak256(_cids[workerCid]);
        job.deadline = uint40(time + job.challengeWindow);
        job.auditBlock = uint40(block.number + 1);
        return job;
    }

    /// @dev Makes the audit block's hash one that selects `id` or not, and moves one block past it.
    function _mineAuditBlock(uint256 id, uint256 auditBlock, bool selected) internal {
        if (blockNumber <= auditBlock) blockNumber = auditBlock + 1;
        vm.roll(blockNumber);
        for (uint256 i;; ++i) {
            bytes32 hash = keccak256(abi.encode(id, i));
            if ((uint256(keccak256(abi.encode(hash, id))) % 10_000 < agency.auditRate()) == selected) {
                vm.setBlockhash(auditBlock, hash);
                return;
            }
        }
    }

    /// @dev Challenges a Submitted record with another CID than `workerCid` and reveals it; returns the Disputed
    ///      record.
    function _dispute(uint256 id, IJobAgency.Job memory job, uint256 workerCid, uint256 _seed)
        internal
        returns (IJobAgency.Job memory)
    {
        address challenger = parties[4 + (_seed >> 16) % 2];
        uint256 challengerCid = (workerCid + 1 + (_seed >> 216) % 2) % 3;
        bytes32 seal = agency.sealOf(id, challenger, _cids[challengerCid], bytes32(_seed));
        vm.prank(challenger);
        agency.challenge{value: job.challengeBond}(id, job, seal);
        job.status = IJobAgency.Status.Challenged;
        job.challenger = challenger;
        job.challenge = seal;
        vm.prank(challenger);
        agency.reveal(id, job, _cids[challengerCid], bytes32(_seed));
        job.status = IJobAgency.Status.Disputed;
        job.challenge = keccak256(_cids[challengerCid]);
        job.deadline = uint40(time + job.disputeWindow);
        return job;
    }

    /// @dev Books the jury's events of one `settle` into the ghosts; returns whether it ruled, and how.
    function _account(uint256 id, Vm.Log[] memory logs)
        internal
        returns (bool ruled_, IJobAgency.Ruling ruling_)
    {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(jury)) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic == IJuryArbiter.Slashed.selector) {
                ghostSlashed += abi.decode(logs[i].data, (uint256));
            } else if (topic == IJuryArbiter.Rewarded.selector) {
                address juror = address(uint160(uint256(logs[i].topics[2])));
                uint256 amount = abi.decode(logs[i].data, (uint256));
                ghostRewards += amount;
                if (rewardsOf[id][juror] != 0) ++ghostDoublePaid;
                rewardsOf[id][juror] += amount;
            } else if (topic == IArbiter.Ruled.selector) {
                ruled_ = true;
                ruling_ = abi.decode(logs[i].data, (IJobAgency.Ruling));
            } else if (topic == IJuryArbiter.AuditPoolChanged.selector) {
                (uint256 collected, uint256 paid,) = abi.decode(logs[i].data, (uint256, uint256, uint256));
                ghostPoolIn += collected;
                ghostPoolPaid += paid;
            } else if (topic == IJuryArbiter.DisputeAbandoned.selector) {
                ++ghostAbandoned;
            }
        }
    }

    function _register(address v) internal {
        uint256 amount = jury.stake();
        vm.prank(v);
        jury.register{value: amount}();
        ghostIn += amount;
        ghostStaked += amount;
        _count("register");
    }

    /// @dev A live job whose jury dispute is in `phase`, starting the search at `_seed`.
    function _findJob(uint256 _seed, IJuryArbiter.Phase phase) internal view returns (bool, uint256) {
        uint256 n = liveJobs.length;
        for (uint256 i; i < n; ++i) {
            uint256 id = liveJobs[(_seed % n + i) % n];
            if (jury.disputeOf(id).phase == phase) return (true, id);
        }
        return (false, 0);
    }

    /// @dev Verifiers in the pool other than the job's parties.
    function _eligible(IJobAgency.Job memory job) internal view returns (uint256 n_) {
        uint256 size = jury.poolSize();
        for (uint256 i; i < size; ++i) {
            address v = jury.poolAt(i);
            if (v != job.poster && v != job.worker && v != job.challenger) ++n_;
        }
    }

    function _dropJob(uint256 index) internal {
        liveJobs[index] = liveJobs[liveJobs.length - 1];
        liveJobs.pop();
    }

    function _unexpected(string memory what) internal {
        ++ghostUnexpectedReverts;
        _count(string.concat("UNEXPECTED REVERT: ", what));
    }

    function _count(string memory name) internal {
        if (calls[name] == 0) _callNames.push(name);
        ++calls[name];
    }
}
