// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {JuryTest} from "./JuryTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";

/// @notice Shared set-up for random audits: the agency audits 5% of the jobs that carry an audit fee (at least
///         `MIN_AUDIT_FEE`), the jury of `JuryTest` audits them, and helpers mine the audit block with a hash that
///         selects the job or not, the way the chain would by chance.
abstract contract AuditTest is JuryTest {
    uint256 internal constant RATE = 500;
    uint96 internal constant MIN_AUDIT_FEE = 0.0001 ether;
    uint96 internal constant AUDIT_FEE = 0.002 ether;

    function _auditRate() internal pure virtual override returns (uint256) {
        return RATE;
    }

    function _minAuditFee() internal pure virtual override returns (uint256) {
        return MIN_AUDIT_FEE;
    }

    /// A jury job that carries `AUDIT_FEE`.
    function _auditSpec() internal view returns (IJobAgency.JobSpec memory spec) {
        spec = _jurySpec();
        spec.auditFee = AUDIT_FEE;
    }

    /// A block hash for which the audit draw of `id` comes out `selected` under the agency's rate: the first
    /// of a fixed sequence of hashes that does.
    function _hashFor(uint256 id, bool selected) internal view returns (bytes32 hash_) {
        uint256 rate = agency.auditRate();
        for (uint256 i = 1;; ++i) {
            hash_ = keccak256(abi.encode("audit block", i));
            if ((uint256(keccak256(abi.encode(hash_, id))) % agency.AUDIT_RATE_SCALE() < rate) == selected) {
                return hash_;
            }
        }
    }

    /// Mines the job's audit block with a hash that selects it or not, and moves to the block after it.
    function _mineAuditBlock(uint256 id, IJobAgency.Job memory job, bool selected) internal {
        vm.roll(job.auditBlock + 1);
        vm.setBlockhash(job.auditBlock, _hashFor(id, selected));
    }

    /// Posted with `spec`, claimed by `worker`, submitted with `cid`.
    function _submittedWith(IJobAgency.JobSpec memory spec, bytes memory cid)
        internal
        returns (uint256 id, IJobAgency.Job memory job)
    {
        (id, job) = _post(spec);
        job = _claim(id, job, worker);
        job = _submit(id, job, cid);
    }

    /// Submitted with `RESULT_CID`, challenged with `OTHER_CID` and never revealed: the reveal deadline has
    /// passed and the audit block is mined with a hash that selects the job or not.
    function _forfeitedChallenge(IJobAgency.JobSpec memory spec, bool selected)
        internal
        returns (uint256 id, IJobAgency.Job memory job)
    {
        (id, job) = _submittedWith(spec, RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        _mineAuditBlock(id, job, selected);
        vm.warp(job.deadline + 1);
    }

    /// `drawAudit` on a job whose draw selects it; returns the Audited record.
    function _drawAudit(uint256 id, IJobAgency.Job memory job) internal returns (IJobAgency.Job memory) {
        job = _copyJob(job);
        agency.drawAudit(id, job);
        job.status = IJobAgency.Status.Audited;
        job.deadline = uint40(block.timestamp) + job.disputeWindow;
        job.auditBlock = 0;
        return job;
    }

    /// A jury job submitted with `cid`, selected for audit and Audited.
    function _audited(bytes memory cid) internal returns (uint256 id, IJobAgency.Job memory job) {
        (id, job) = _submittedWith(_auditSpec(), cid);
        _mineAuditBlock(id, job, true);
        job = _drawAudit(id, job);
    }

    /// A jury job submitted with `RESULT_CID`, not selected, finalized: books its audit fee to the jury.
    function _finalizedUnaudited() internal returns (uint256 id) {
        IJobAgency.Job memory job;
        (id, job) = _submittedWith(_auditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, false);
        vm.warp(job.deadline + 1);
        agency.finalize(id, job);
    }

    /// Opens the audit and draws round 1 from `seed`, returning the auditors.
    function _openAuditAndDraw(uint256 id, IJobAgency.Job memory job, bytes32 seed)
        internal
        returns (address[] memory)
    {
        jury.openAudit(id, job);
        return _draw(id, job, seed);
    }

    /// Σ over `verifiers` of stake + credit, + reserve + audit pool: what the jury must hold between disputes.
    function _juryOwesWithPool() internal view returns (uint256) {
        return _juryOwes() + jury.auditPool();
    }
}
