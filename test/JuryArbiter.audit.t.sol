// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AuditTest} from "./utils/AuditTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {IJuryArbiter} from "src/interfaces/IJuryArbiter.sol";

/// @notice The jury's side of random audits: opening an audit, auditors drawn from the staked pool voting by
///         commit–reveal, the audit pool that pays each audit about fee / p, and the scenario of a lazy worker
///         caught by an audit. (A dishonest challenger losing its bond and a colluding minority of jurors losing
///         their stake are `JuryArbiter_Settle_Test`'s scenarios.)
contract JuryArbiter_Audit_Test is AuditTest {
    /// What one audit pays its majority from the pool when the pool holds enough: fee / p.
    uint256 internal constant PAY = uint256(AUDIT_FEE) * 10_000 / RATE;

    function test_openAudit_schedulesDraw_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _audited(RESULT_CID);
        vm.expectEmit(address(jury));
        emit IJuryArbiter.AuditOpened(id, uint40(block.number + 1));
        jury.openAudit(id, job);
        IJuryArbiter.Dispute memory d = jury.disputeOf(id);
        assertEq(uint8(d.phase), uint8(IJuryArbiter.Phase.Drawing));
        assertEq(d.workerResult, keccak256(RESULT_CID));
        assertEq(d.challengerResult, bytes32(0), "an audit has no challenger's result");
    }

    function test_openAudit_notAudited_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_auditSpec(), RESULT_CID);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotDisputed.selector, id));
        jury.openAudit(id, job);
        // And a dispute is not an audit, nor an audit a dispute. (`vm.getBlockNumber()`: via-IR may reuse a
        // `block.number` read earlier in the function, which would roll to the same block twice.)
        vm.roll(vm.getBlockNumber() + 1);
        (uint256 disputed, IJobAgency.Job memory djob) = _submittedWith(_auditSpec(), RESULT_CID);
        djob = _challenge(disputed, djob, challenger, OTHER_CID);
        djob = _reveal(disputed, djob, OTHER_CID);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotDisputed.selector, disputed));
        jury.openAudit(disputed, djob);
        vm.roll(vm.getBlockNumber() + 1);
        (uint256 audited, IJobAgency.Job memory ajob) = _audited(RESULT_CID);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotDisputed.selector, audited));
        jury.openDispute(audited, ajob);
    }

    /// An audit whose pay from the pool (fee / p) is below the jury's `minFee` is not taken: drawn auditors must
    /// not be made to work for less. The agency's timeout then pays the worker and refunds the fee.
    function test_openAudit_payBelowMinFee_reverts() public {
        IJobAgency.JobSpec memory spec = _auditSpec();
        spec.auditFee = uint96(uint256(FEE) * RATE / 10_000) - 1;
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(spec, RESULT_CID);
        _mineAuditBlock(id, job, true);
        job = _drawAudit(id, job);
        vm.expectRevert(
            abi.encodeWithSelector(
                IJuryArbiter.JuryArbiter_FeeTooLow.selector, uint256(FEE) - 20, uint256(FEE)
            )
        );
        jury.openAudit(id, job);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND);
        assertEq(agency.creditOf(poster), spec.auditFee);
    }

    function test_openAudit_twice_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _audited(RESULT_CID);
        jury.openAudit(id, job);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_DisputeExists.selector, id));
        jury.openAudit(id, job);
    }

    /// A challenger's seal in the record (a forfeited challenge turned into an audit) is not a result to vote for.
    function test_openAudit_afterForfeitedChallenge_hasNoChallengerResult_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _forfeitedChallenge(_auditSpec(), true);
        job = _drawAudit(id, job);
        address[] memory auditors = _openAuditAndDraw(id, job, keccak256("seed"));
        assertEq(jury.disputeOf(id).challengerResult, bytes32(0));
        for (uint256 i; i < auditors.length; ++i) {
            assertTrue(auditors[i] != challenger && auditors[i] != worker && auditors[i] != poster);
        }
    }

    /// Honest worker, honest auditors: the audit passes, the worker is paid, and the auditors share fee / p out of
    /// the pool that the unaudited jobs filled.
    function test_audit_passes_auditorsShareFeeOverP_succeeds() public {
        // 19 unaudited jobs + the audited one put 20 fees = fee / p into the pool.
        for (uint256 i; i < 19; ++i) {
            _finalizedUnaudited();
            vm.warp(block.timestamp + 1);
        }
        assertEq(agency.creditOf(address(jury)), 19 * uint256(AUDIT_FEE), "fees wait at the agency");
        (uint256 id, IJobAgency.Job memory job) = _audited(RESULT_CID);
        address[] memory auditors = _openAuditAndDraw(id, job, keccak256("seed"));
        _vote(id, auditors, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        vm.expectEmit(address(jury));
        emit IJuryArbiter.AuditPoolChanged(id, 20 * uint256(AUDIT_FEE), PAY, 0);
        jury.settle(id, job);

        assertEq(agency.creditOf(worker), 20 * (uint256(PAYMENT) + WORKER_BOND));
        assertEq(agency.reputation(worker).finalized, 20);
        assertEq(agency.creditOf(address(jury)), 0);
        assertEq(jury.auditPool(), 0);
        uint256 paid;
        for (uint256 i; i < auditors.length; ++i) {
            paid += jury.creditOf(auditors[i]);
            assertApproxEqAbs(jury.creditOf(auditors[i]), PAY / 3, 2);
        }
        assertEq(paid, PAY);
        assertEq(address(jury).balance, _juryOwesWithPool());
    }

    /// With fewer fees pooled than fee / p, an audit is paid what the pool holds; the rest of the pool stays for
    /// later audits, which is how the pool averages pay per audit to fee / p.
    function test_audit_pay_cappedByPool_succeeds() public {
        _finalizedUnaudited();
        (uint256 id, IJobAgency.Job memory job) = _audited(RESULT_CID);
        address[] memory auditors = _openAuditAndDraw(id, job, keccak256("seed"));
        _vote(id, auditors, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        jury.settle(id, job);
        uint256 paid;
        for (uint256 i; i < auditors.length; ++i) {
            paid += jury.creditOf(auditors[i]);
        }
        assertEq(paid, 2 * uint256(AUDIT_FEE));
        assertEq(jury.auditPool(), 0);
        assertEq(address(jury).balance, _juryOwesWithPool());
    }

    /// Scenario: a lazy worker submits a made-up result; nobody challenges; the job is drawn for audit; the
    /// auditors re-run it and reveal the right result; the audit fails and the worker loses its bond.
    function test_scenario_lazyWorkerCaughtByAudit_losesBond_succeeds() public {
        for (uint256 i; i < 19; ++i) {
            _finalizedUnaudited();
            vm.warp(block.timestamp + 1);
        }
        uint256 workerBefore = agency.creditOf(worker);
        // The right result is RESULT_CID; the lazy worker submits OTHER_CID without running the job.
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_auditSpec(), OTHER_CID);
        // Nobody challenges. The job cannot be finalized: the draw selected it.
        _mineAuditBlock(id, job, true);
        vm.warp(job.deadline + 1);
        vm.expectRevert(IJobAgency.JobAgency_AuditSelected.selector);
        agency.finalize(id, job);
        job = _drawAudit(id, job);
        address[] memory auditors = _openAuditAndDraw(id, job, keccak256("seed"));
        _vote(id, auditors, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        vm.expectEmit(address(agency));
        emit IJobAgency.JobClosed(id, IJobAgency.Outcome.AuditFailed);
        jury.settle(id, job);

        assertEq(agency.creditOf(worker), workerBefore, "the lazy worker gets nothing");
        assertEq(agency.reputation(worker).disputesLost, 1);
        assertEq(
            agency.creditOf(poster), uint256(PAYMENT) + WORKER_BOND - FEE, "poster: payment + bond - fee"
        );
        uint256 paid;
        for (uint256 i; i < auditors.length; ++i) {
            paid += jury.creditOf(auditors[i]);
        }
        assertEq(paid, FEE + PAY, "auditors: the arbiter fee and fee / p");
        assertEq(address(jury).balance, _juryOwesWithPool());
    }

    /// A drawn auditor that does not answer is slashed; the two who did pass the audit and share its pay and the
    /// slashed stake.
    function test_audit_noShowSlashed_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _audited(RESULT_CID);
        address[] memory auditors = _openAuditAndDraw(id, job, keccak256("seed"));
        _vote(id, auditors, _cids3(RESULT_CID, RESULT_CID, ""));
        vm.warp(jury.disputeOf(id).revealDeadline + 1);
        vm.expectEmit(address(jury));
        emit IJuryArbiter.Slashed(id, auditors[2], SLASH);
        jury.settle(id, job);
        assertEq(jury.verifierOf(auditors[2]).stake, STAKE - SLASH);
        assertEq(jury.creditOf(auditors[0]) + jury.creditOf(auditors[1]), SLASH + AUDIT_FEE);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND);
        assertEq(address(jury).balance, _juryOwesWithPool());
    }

    /// Nobody answers two rounds: the audit is abandoned, and the agency's timeout pays the worker and refunds the
    /// audit fee; the slashed stakes go to the reserve.
    function test_audit_abandoned_thenAgencyTimeoutPaysWorker_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _audited(RESULT_CID);
        address[] memory auditors = _openAuditAndDraw(id, job, keccak256("seed"));
        vm.warp(jury.disputeOf(id).revealDeadline + 1);
        jury.settle(id, job);
        auditors = _draw(id, job, keccak256("seed 2"));
        vm.warp(jury.disputeOf(id).revealDeadline + 1);
        vm.expectEmit(address(jury));
        emit IJuryArbiter.DisputeAbandoned(id, 6 * SLASH);
        jury.settle(id, job);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND);
        assertEq(agency.creditOf(poster), AUDIT_FEE);
        assertEq(jury.reserve(), 6 * SLASH);
        assertEq(address(jury).balance, _juryOwesWithPool());
    }

    /// A dispute's ruling collects the job's audit fee into the pool, not to the jurors.
    function test_dispute_ruling_poolsAuditFee_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post(_auditSpec());
        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        job = _reveal(id, job, OTHER_CID);
        address[] memory jurors = _openAndDraw(id, job, keccak256("seed"));
        _vote(id, jurors, _cids3(OTHER_CID, OTHER_CID, OTHER_CID));
        jury.settle(id, job);
        assertEq(jury.auditPool(), AUDIT_FEE);
        uint256 paid;
        for (uint256 i; i < jurors.length; ++i) {
            paid += jury.creditOf(jurors[i]);
        }
        assertEq(paid, FEE);
        assertEq(address(jury).balance, _juryOwesWithPool());
    }

    /// Over any number of unaudited jobs before an audit and any fee, the audit pays min(fee / p, pool), the pool
    /// keeps the rest, and the jury holds exactly what it owes.
    /// forge-config: default.fuzz.runs = 32
    /// forge-config: ci.fuzz.runs = 128
    function testFuzz_audit_payIsFeeOverPCappedByPool(uint8 unaudited, uint96 fee) public {
        uint256 n = bound(unaudited, 0, 30);
        // From the least fee whose pay, fee / p, the jury accepts.
        fee = uint96(bound(fee, uint256(FEE) * RATE / 10_000, 1 ether));
        for (uint256 i; i < n; ++i) {
            (uint256 fid, IJobAgency.Job memory fjob) = _submittedWith(_feeSpec(fee), RESULT_CID);
            _mineAuditBlock(fid, fjob, false);
            vm.warp(fjob.deadline + 1);
            agency.finalize(fid, fjob);
        }
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_feeSpec(fee), RESULT_CID);
        _mineAuditBlock(id, job, true);
        job = _drawAudit(id, job);
        address[] memory auditors = _openAuditAndDraw(id, job, keccak256(abi.encode(fee)));
        _vote(id, auditors, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        jury.settle(id, job);

        uint256 pooled = (n + 1) * uint256(fee);
        uint256 expectedPay = uint256(fee) * 10_000 / RATE;
        if (expectedPay > pooled) expectedPay = pooled;
        uint256 paid;
        for (uint256 i; i < auditors.length; ++i) {
            paid += jury.creditOf(auditors[i]);
        }
        assertEq(paid, expectedPay);
        assertEq(jury.auditPool(), pooled - expectedPay);
        assertEq(address(jury).balance, _juryOwesWithPool());
    }

    function _feeSpec(uint96 fee) internal view returns (IJobAgency.JobSpec memory spec) {
        spec = _auditSpec();
        spec.auditFee = fee;
    }
}
