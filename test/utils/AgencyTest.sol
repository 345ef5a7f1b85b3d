// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {JobAgency} from "src/JobAgency.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {TrustedArbiter} from "src/arbiters/TrustedArbiter.sol";
import {openRecord} from "./Records.sol";

/// @notice Shared set-up: a real agency and trusted arbiter, named actors, and helpers that drive a job
///         and keep its record the way a client does (rebuilt from what each call changed).
abstract contract AgencyTest is Test {
    JobAgency internal agency;
    TrustedArbiter internal arbiter;

    address internal poster = makeAddr("poster");
    address internal worker = makeAddr("worker");
    address internal challenger = makeAddr("challenger");
    address internal arbiterOwner = makeAddr("arbiterOwner");
    address internal stranger = makeAddr("stranger");

    uint96 internal constant PAYMENT = 0.05 ether;
    uint96 internal constant WORKER_BOND = 0.02 ether;
    uint96 internal constant CHALLENGE_BOND = 0.03 ether;
    uint32 internal constant EXECUTION_TIME = 1 hours;
    uint32 internal constant CHALLENGE_WINDOW = 1 days;
    uint32 internal constant DISPUTE_WINDOW = 3 days;
    uint40 internal constant CLAIM_PERIOD = 2 days;

    /// A CIDv0 (dag-pb, sha2-256), as `ipfs add` prints `QmT78z…` for "hello world\n".
    bytes internal constant CODE_CID = hex"1220"
        hex"c3c4733ec8affd06cf9e9ff50ffc6bcd2ec85a6170004bb709669c31de94391a";
    /// A CIDv1 raw leaf (sha2-256).
    bytes internal constant INPUT_CID = hex"01551220"
        hex"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447";
    bytes internal constant RESULT_CID = hex"01551220"
        hex"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
    bytes internal constant OTHER_CID = hex"01551220"
        hex"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    bytes32 internal constant ENGINE = "quickjs-ng/0.16.2";
    bytes32 internal constant SALT = keccak256("salt");

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        agency = new JobAgency(_auditRate(), _minAuditFee());
        arbiter = new TrustedArbiter(arbiterOwner);
        vm.deal(poster, 100 ether);
        vm.deal(worker, 100 ether);
        vm.deal(challenger, 100 ether);
        vm.deal(stranger, 100 ether);
    }

    /// The agency's audit rate (basis points); audit tests override it. Zero: no job is ever audited.
    function _auditRate() internal pure virtual returns (uint256) {
        return 0;
    }

    /// The agency's minimum audit fee; audit tests override it.
    function _minAuditFee() internal pure virtual returns (uint256) {
        return 0;
    }

    /// Field by field rather than one struct literal: a literal of all fields is too deep for via-IR's
    /// stack once the optimizer inlines it into a caller.
    function _spec() internal view returns (IJobAgency.JobSpec memory) {
        return IJobAgency.JobSpec({
            codeCid: CODE_CID,
            inputCid: INPUT_CID,
            options: "",
            engine: ENGINE,
            payment: PAYMENT,
            workerBond: WORKER_BOND,
            challengeBond: CHALLENGE_BOND,
            arbiterFee: 0,
            auditFee: 0,
            claimDeadline: uint40(block.timestamp) + CLAIM_PERIOD,
            executionTime: EXECUTION_TIME,
            challengeWindow: CHALLENGE_WINDOW,
            disputeWindow: DISPUTE_WINDOW,
            minReputation: 0,
            arbiter: address(arbiter)
        });
    }

    /// The record a client rebuilds from `JobPosted`.
    function _recordOf(IJobAgency.JobSpec memory spec, address _poster)
        internal
        view
        returns (IJobAgency.Job memory)
    {
        return openRecord(spec, _poster, agency.hashSpec(spec));
    }

    function _post(IJobAgency.JobSpec memory spec) internal returns (uint256 id, IJobAgency.Job memory job) {
        // Encoded apart from the call: one inlined expression of the 15-field spec, the value and the call
        // is too deep for via-IR's stack.
        bytes memory data = abi.encodeCall(IJobAgency.post, (spec));
        vm.prank(poster);
        (bool ok, bytes memory ret) = address(agency).call{value: uint256(spec.payment) + spec.auditFee}(data);
        assertTrue(ok, "post reverted");
        id = abi.decode(ret, (uint256));
        job = _recordOf(spec, poster);
    }

    function _post() internal returns (uint256 id, IJobAgency.Job memory job) {
        return _post(_spec());
    }

    function _claim(uint256 id, IJobAgency.Job memory job, address who)
        internal
        returns (IJobAgency.Job memory)
    {
        job = _copyJob(job);
        vm.prank(who);
        agency.claim{value: job.workerBond}(id, job);
        job.status = IJobAgency.Status.Claimed;
        job.worker = who;
        job.deadline = uint40(block.timestamp) + job.executionTime;
        return job;
    }

    function _submit(uint256 id, IJobAgency.Job memory job, bytes memory cid)
        internal
        returns (IJobAgency.Job memory)
    {
        job = _copyJob(job);
        // Read before the call, so that the submit stays the last call (gas snapshots).
        uint256 auditRate = agency.auditRate();
        vm.prank(job.worker);
        agency.submit(id, job, cid);
        job.status = IJobAgency.Status.Submitted;
        job.result = keccak256(cid);
        job.deadline = uint40(block.timestamp) + job.challengeWindow;
        if (job.auditFee != 0 && auditRate != 0) job.auditBlock = uint40(block.number + 1);
        return job;
    }

    function _challenge(uint256 id, IJobAgency.Job memory job, address who, bytes memory cid)
        internal
        returns (IJobAgency.Job memory)
    {
        job = _copyJob(job);
        bytes32 seal = agency.sealOf(id, who, cid, SALT);
        vm.prank(who);
        agency.challenge{value: job.challengeBond}(id, job, seal);
        job.status = IJobAgency.Status.Challenged;
        job.challenger = who;
        job.challenge = seal;
        job.deadline = uint40(block.timestamp) + job.challengeWindow;
        return job;
    }

    function _reveal(uint256 id, IJobAgency.Job memory job, bytes memory cid)
        internal
        returns (IJobAgency.Job memory)
    {
        job = _copyJob(job);
        vm.prank(job.challenger);
        agency.reveal(id, job, cid, SALT);
        job.status = IJobAgency.Status.Disputed;
        job.challenge = keccak256(cid);
        job.deadline = uint40(block.timestamp) + job.disputeWindow;
        return job;
    }

    /// The helpers return the next record and leave the one passed in untouched (memory structs are
    /// references), so a test can still hold a stale record.
    function _copyJob(IJobAgency.Job memory job) internal pure returns (IJobAgency.Job memory) {
        return abi.decode(abi.encode(job), (IJobAgency.Job));
    }

    function _rule(uint256 id, IJobAgency.Job memory job, IJobAgency.Ruling ruling) internal {
        vm.prank(arbiterOwner);
        arbiter.rule(agency, id, job, ruling);
    }

    /// Claimed and submitted with `RESULT_CID`, window open.
    function _submitted() internal returns (uint256 id, IJobAgency.Job memory job) {
        (id, job) = _post();
        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
    }

    /// Challenged with `OTHER_CID` and revealed.
    function _disputed() internal returns (uint256 id, IJobAgency.Job memory job) {
        (id, job) = _submitted();
        job = _challenge(id, job, challenger, OTHER_CID);
        job = _reveal(id, job, OTHER_CID);
    }
}
