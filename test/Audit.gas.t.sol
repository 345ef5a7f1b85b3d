// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AuditTest} from "./utils/AuditTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";

/// @notice Gas of a job with audits on (an agency auditing 5% of jobs, a 0.002 ETH audit fee, the jury as arbiter)
///         and of each audit step, as real transactions (receipt gas, 21k base included). Run with
///         `forge test --isolate`; the figures go to snapshots/Audit_Gas_Test.json and the README. Compare the
///         job rows with `JobAgency_Gas_Test`'s (no audit fee) for what audits add to the honest path.
contract Audit_Gas_Test is AuditTest {
    function setUp() public override {
        super.setUp();
        // Steady state: the worker's account word exists, and the jury already has audit fees waiting at the
        // agency (its account word is not empty), as between two audits.
        _finalizedUnaudited();
        vm.warp(block.timestamp + 1);
    }

    /// The honest path of a job that carries an audit fee and is not selected.
    function test_gas_unauditedJob() public {
        IJobAgency.JobSpec memory spec = _auditSpec();
        vm.prank(poster);
        uint256 id = agency.post{value: uint256(spec.payment) + spec.auditFee}(spec);
        uint256 total = vm.snapshotGasLastCall("audit on: post");
        IJobAgency.Job memory job = _recordOf(spec, poster);
        job = _claim(id, job, worker);
        total += vm.snapshotGasLastCall("audit on: claim");
        job = _submit(id, job, RESULT_CID);
        total += vm.snapshotGasLastCall("audit on: submit");
        _mineAuditBlock(id, job, false);
        vm.warp(job.deadline + 1);
        vm.prank(stranger);
        agency.finalize(id, job);
        total += vm.snapshotGasLastCall("audit on: finalize (not selected)");
        vm.snapshotValue("audit on: post + claim + submit + finalize", total);
    }

    /// The first finalize after the jury collected its fees writes a zero account word.
    function test_gas_finalizeAfterCollection() public {
        (uint256 id, IJobAgency.Job memory job) = _audited(RESULT_CID);
        address[] memory auditors = _openAuditAndDraw(id, job, keccak256("seed"));
        _vote(id, auditors, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        jury.settle(id, job);
        assertEq(agency.creditOf(address(jury)), 0);
        (id, job) = _submittedWith(_auditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, false);
        vm.warp(job.deadline + 1);
        agency.finalize(id, job);
        vm.snapshotGasLastCall("audit on: finalize (not selected, first fee since a collection)");
    }

    function test_gas_drawAuditNotSelected() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_auditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, false);
        agency.drawAudit(id, job);
        vm.snapshotGasLastCall("audit: drawAudit (not selected)");
    }

    /// Every step of a passed audit, and of a failed one.
    function test_gas_audit() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_auditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, true);
        job = _drawAudit(id, job);
        vm.snapshotGasLastCall("audit: drawAudit (selected)");
        jury.openAudit(id, job);
        vm.snapshotGasLastCall("audit: openAudit");
        uint256 drawBlock = jury.disputeOf(id).drawBlock;
        vm.roll(drawBlock + 1);
        vm.setBlockhash(drawBlock, keccak256("seed"));
        jury.draw(id, job);
        vm.snapshotGasLastCall("audit: draw (k = 3)");
        address[] memory auditors = jury.jurorsOf(id);
        _vote(id, auditors, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        jury.settle(id, job);
        vm.snapshotGasLastCall("audit: settle (passed, 3 paid from the pool)");

        (id, job) = _submittedWith(_auditSpec(), OTHER_CID);
        _mineAuditBlock(id, job, true);
        job = _drawAudit(id, job);
        auditors = _openAuditAndDraw(id, job, keccak256("seed 2"));
        _vote(id, auditors, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        jury.settle(id, job);
        vm.snapshotGasLastCall("audit: settle (failed, worker loses bond)");
    }
}
