// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AuditTest} from "./utils/AuditTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {JobAgency} from "src/JobAgency.sol";

/// @notice The agency's side of random audits: the fee at post, the draw at submit, `drawAudit`, `finalize`
///         and `expire` around the draw, and rulings on Audited jobs (here by the trusted arbiter).
contract JobAgency_Audit_Test is AuditTest {
    /// A job judged by the trusted arbiter that carries `AUDIT_FEE`.
    function _trustedAuditSpec() internal view returns (IJobAgency.JobSpec memory spec) {
        spec = _spec();
        spec.auditFee = AUDIT_FEE;
    }

    function _trustedAudited() internal returns (uint256 id, IJobAgency.Job memory job) {
        (id, job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, true);
        job = _drawAudit(id, job);
    }

    /*//////////////////////////////////////////////////////////////
                          CONSTRUCTOR AND POST
    //////////////////////////////////////////////////////////////*/

    function test_constructor_setsParameters_succeeds() public view {
        assertEq(agency.auditRate(), RATE);
        assertEq(agency.minAuditFee(), MIN_AUDIT_FEE);
        assertEq(agency.AUDIT_RATE_SCALE(), 10_000);
    }

    function test_constructor_badParameters_reverts() public {
        vm.expectRevert(IJobAgency.JobAgency_InvalidParameters.selector);
        new JobAgency(10_001, 0);
        vm.expectRevert(IJobAgency.JobAgency_InvalidParameters.selector);
        new JobAgency(0, uint256(type(uint96).max) + 1);
        new JobAgency(10_000, type(uint96).max);
    }

    function test_post_escrowsPaymentAndAuditFee_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post(_trustedAuditSpec());
        assertEq(address(agency).balance, uint256(PAYMENT) + AUDIT_FEE);
        assertEq(job.auditFee, AUDIT_FEE);
        assertEq(agency.jobHash(id), agency.hashJob(job));
    }

    function test_post_paymentWithoutAuditFee_reverts() public {
        IJobAgency.JobSpec memory spec = _trustedAuditSpec();
        vm.prank(poster);
        vm.expectRevert(
            abi.encodeWithSelector(
                IJobAgency.JobAgency_WrongValue.selector, uint256(PAYMENT) + AUDIT_FEE, PAYMENT
            )
        );
        agency.post{value: PAYMENT}(spec);
    }

    function test_post_auditFeeBelowMinimum_reverts() public {
        IJobAgency.JobSpec memory spec = _trustedAuditSpec();
        spec.auditFee = MIN_AUDIT_FEE - 1;
        vm.prank(poster);
        vm.expectRevert(
            abi.encodeWithSelector(
                IJobAgency.JobAgency_AuditFeeTooLow.selector, MIN_AUDIT_FEE - 1, MIN_AUDIT_FEE
            )
        );
        agency.post{value: uint256(PAYMENT) + spec.auditFee}(spec);
    }

    /*//////////////////////////////////////////////////////////////
                       REFUNDS BEFORE A SUBMISSION
    //////////////////////////////////////////////////////////////*/

    function test_cancel_refundsAuditFee_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post(_trustedAuditSpec());
        vm.prank(poster);
        agency.cancel(id, job);
        assertEq(agency.creditOf(poster), uint256(PAYMENT) + AUDIT_FEE);
    }

    function test_expire_unclaimed_refundsAuditFee_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post(_trustedAuditSpec());
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(poster), uint256(PAYMENT) + AUDIT_FEE);
    }

    function test_expire_claimNotReopened_refundsAuditFee_succeeds() public {
        IJobAgency.JobSpec memory spec = _trustedAuditSpec();
        spec.claimDeadline = uint40(block.timestamp) + 60;
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        job = _claim(id, job, worker);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(poster), uint256(PAYMENT) + WORKER_BOND + AUDIT_FEE);
    }

    /*//////////////////////////////////////////////////////////////
                                 SUBMIT
    //////////////////////////////////////////////////////////////*/

    function test_submit_drawsFromTheNextBlock_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post(_trustedAuditSpec());
        job = _claim(id, job, worker);
        vm.expectEmit(address(agency));
        emit IJobAgency.ResultSubmitted(
            id, worker, RESULT_CID, uint40(block.timestamp) + CHALLENGE_WINDOW, uint40(block.number + 1)
        );
        job = _submit(id, job, RESULT_CID);
        assertEq(job.auditBlock, block.number + 1);
        assertEq(agency.jobHash(id), agency.hashJob(job));
    }

    /// A job without an audit fee (allowed where the minimum is zero) has no draw, and neither has any job of an
    /// agency whose rate is zero.
    function test_submit_noFeeOrNoRate_noDraw_succeeds() public {
        agency = new JobAgency(RATE, 0);
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_spec(), RESULT_CID);
        assertEq(job.auditBlock, 0);
        assertEq(agency.jobHash(id), agency.hashJob(job));
        vm.expectRevert(IJobAgency.JobAgency_NoAuditDraw.selector);
        agency.drawAudit(id, job);

        agency = new JobAgency(0, 0);
        (id, job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        assertEq(job.auditBlock, 0);
        vm.warp(job.deadline + 1);
        agency.finalize(id, job);
        assertEq(agency.creditOf(address(arbiter)), AUDIT_FEE, "the fee is still the arbiter's");
    }

    /*//////////////////////////////////////////////////////////////
                                FINALIZE
    //////////////////////////////////////////////////////////////*/

    function test_finalize_notSelected_paysWorkerAndArbiterFee_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, false);
        vm.warp(job.deadline + 1);
        vm.expectEmit(address(agency));
        emit IJobAgency.JobClosed(id, IJobAgency.Outcome.Finalized);
        agency.finalize(id, job);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND);
        assertEq(agency.creditOf(address(arbiter)), AUDIT_FEE);
        assertEq(agency.creditOf(poster), 0);
    }

    function test_finalize_auditBlockNotMined_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        vm.roll(job.auditBlock);
        vm.warp(job.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_AuditPending.selector, job.auditBlock));
        agency.finalize(id, job);
    }

    function test_finalize_selected_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, true);
        vm.warp(job.deadline + 1);
        vm.expectRevert(IJobAgency.JobAgency_AuditSelected.selector);
        agency.finalize(id, job);
    }

    /// Waiting never escapes an audit: once the draw's hash has aged out (256 blocks), the job counts as selected.
    /// `delay` is how many blocks after the audit block the finalize comes.
    function testFuzz_finalize_horizon_agedOutCountsAsSelected(uint256 delay) public {
        delay = bound(delay, 1, 600);
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        bytes32 notSelected = _hashFor(id, false);
        vm.roll(job.auditBlock + delay);
        vm.setBlockhash(job.auditBlock, notSelected);
        vm.warp(job.deadline + 1);
        if (delay <= 256) {
            assertFalse(agency.auditSelected(id, job.auditBlock));
            agency.finalize(id, job);
            assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND);
        } else {
            assertTrue(agency.auditSelected(id, job.auditBlock));
            vm.expectRevert(IJobAgency.JobAgency_AuditSelected.selector);
            agency.finalize(id, job);
            job = _drawAudit(id, job);
            assertEq(agency.jobHash(id), agency.hashJob(job));
        }
    }

    /// The draw selects a job with probability `rate` / 10 000: over 400 jobs with independent hashes, the count is
    /// within four standard deviations of 400 × p.
    /// forge-config: default.fuzz.runs = 16
    /// forge-config: ci.fuzz.runs = 64
    function testFuzz_auditSelected_frequencyMatchesRate(uint256 rate, bytes32 salt) public {
        rate = bound(rate, 0, 10_000);
        JobAgency a = new JobAgency(rate, 0);
        uint256 n = 400;
        vm.roll(1000);
        uint256 selected;
        for (uint256 i; i < n; ++i) {
            vm.setBlockhash(999, keccak256(abi.encode(salt, i)));
            if (a.auditSelected(uint256(keccak256(abi.encode(salt, "job", i))), 999)) ++selected;
        }
        uint256 mean = n * rate / 10_000;
        // 4σ with σ² = n p (1 − p) ≤ 100, so 4σ ≤ 40; +1 for the integer mean.
        uint256 sigma4 = _sqrt(16 * n * rate * (10_000 - rate) / 1e8) + 1;
        assertApproxEqAbs(selected, mean, sigma4);
        if (rate == 0) assertEq(selected, 0);
        if (rate == 10_000) assertEq(selected, n);
    }

    function test_auditSelected_badArguments_reverts() public {
        vm.expectRevert(IJobAgency.JobAgency_NoAuditDraw.selector);
        agency.auditSelected(1, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_AuditPending.selector, uint40(block.number))
        );
        agency.auditSelected(1, uint40(block.number));
    }

    /*//////////////////////////////////////////////////////////////
                               DRAW AUDIT
    //////////////////////////////////////////////////////////////*/

    function test_drawAudit_notSelected_clearsDrawThenFinalizes_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, false);
        vm.expectEmit(address(agency));
        emit IJobAgency.AuditDrawn(id, false, job.deadline);
        vm.prank(worker);
        agency.drawAudit(id, job);
        job.auditBlock = 0;
        assertEq(agency.jobHash(id), agency.hashJob(job));
        // Cleared: a finalize long after the horizon still pays.
        vm.roll(block.number + 1000);
        vm.warp(job.deadline + 1);
        agency.finalize(id, job);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND);
    }

    function test_drawAudit_selected_auditsAndStopsChallenges_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, true);
        vm.expectEmit(address(agency));
        emit IJobAgency.AuditDrawn(id, true, uint40(block.timestamp) + DISPUTE_WINDOW);
        job = _drawAudit(id, job);
        assertEq(agency.jobHash(id), agency.hashJob(job));

        bytes32 seal = agency.sealOf(id, challenger, OTHER_CID, SALT);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Audited)
        );
        agency.challenge{value: CHALLENGE_BOND}(id, job, seal);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Audited)
        );
        agency.finalize(id, job);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Audited)
        );
        agency.drawAudit(id, job);
    }

    function test_drawAudit_badState_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post(_trustedAuditSpec());
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Open)
        );
        agency.drawAudit(id, job);

        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_AuditPending.selector, job.auditBlock));
        agency.drawAudit(id, job);

        // Challenged and still within the reveal time: the challenge goes first.
        job = _challenge(id, job, challenger, OTHER_CID);
        _mineAuditBlock(id, job, true);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Challenged)
        );
        agency.drawAudit(id, job);

        // Revealed: the dispute decides; the audit draw is moot.
        job = _reveal(id, job, OTHER_CID);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Disputed)
        );
        agency.drawAudit(id, job);
    }

    function test_drawAudit_twice_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        _mineAuditBlock(id, job, false);
        agency.drawAudit(id, job);
        job.auditBlock = 0;
        vm.expectRevert(IJobAgency.JobAgency_NoAuditDraw.selector);
        agency.drawAudit(id, job);
    }

    /// A worker's accomplice cannot skip the audit by challenging and never revealing: the forfeit waits for
    /// the draw, and a selected job is audited after the challenger's bond went to the worker.
    function test_drawAudit_forfeitedChallenge_selected_paysBondThenAudits_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _forfeitedChallenge(_trustedAuditSpec(), true);
        vm.expectRevert(IJobAgency.JobAgency_AuditSelected.selector);
        agency.expire(id, job);

        job = _drawAudit(id, job);
        assertEq(agency.jobHash(id), agency.hashJob(job));
        assertEq(agency.creditOf(worker), CHALLENGE_BOND);
        assertEq(agency.reputation(challenger).disputesLost, 1);
        _rule(id, job, IJobAgency.Ruling.WorkerRight);
        assertEq(agency.creditOf(worker), uint256(CHALLENGE_BOND) + PAYMENT + WORKER_BOND);
        assertEq(agency.creditOf(address(arbiter)), AUDIT_FEE);
    }

    function test_expire_forfeitedChallenge_notSelected_booksAuditFee_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _forfeitedChallenge(_trustedAuditSpec(), false);
        agency.expire(id, job);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND + CHALLENGE_BOND);
        assertEq(agency.creditOf(address(arbiter)), AUDIT_FEE);
    }

    function test_drawAudit_forfeitedChallenge_notSelected_thenExpire_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _forfeitedChallenge(_trustedAuditSpec(), false);
        vm.expectEmit(address(agency));
        emit IJobAgency.AuditDrawn(id, false, job.deadline);
        agency.drawAudit(id, job);
        job.auditBlock = 0;
        agency.expire(id, job);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND + CHALLENGE_BOND);
    }

    /*//////////////////////////////////////////////////////////////
                          RULINGS AND TIMEOUTS
    //////////////////////////////////////////////////////////////*/

    function test_resolve_auditPassed_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _trustedAudited();
        vm.expectEmit(address(agency));
        emit IJobAgency.JobClosed(id, IJobAgency.Outcome.AuditPassed);
        _rule(id, job, IJobAgency.Ruling.WorkerRight);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND);
        assertEq(agency.reputation(worker).finalized, 1);
        assertEq(agency.creditOf(address(arbiter)), AUDIT_FEE);
        assertEq(agency.jobHash(id), bytes32(0));
    }

    function test_resolve_auditFailed_workerLosesBond_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _trustedAudited();
        vm.expectEmit(address(agency));
        emit IJobAgency.JobClosed(id, IJobAgency.Outcome.AuditFailed);
        _rule(id, job, IJobAgency.Ruling.Neither);
        assertEq(agency.creditOf(poster), uint256(PAYMENT) + WORKER_BOND);
        assertEq(agency.creditOf(worker), 0);
        assertEq(agency.reputation(worker).disputesLost, 1);
        assertEq(agency.creditOf(address(arbiter)), AUDIT_FEE);
    }

    function test_resolve_auditChallengerRight_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _trustedAudited();
        vm.prank(arbiterOwner);
        vm.expectRevert(IJobAgency.JobAgency_InvalidRuling.selector);
        arbiter.rule(agency, id, job, IJobAgency.Ruling.ChallengerRight);
    }

    function test_resolve_auditByOther_orLate_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _trustedAudited();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_Unauthorized.selector, stranger));
        agency.resolve(id, job, IJobAgency.Ruling.Neither);
        vm.warp(job.deadline + 1);
        vm.prank(address(arbiter));
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_DeadlinePassed.selector, job.deadline));
        agency.resolve(id, job, IJobAgency.Ruling.Neither);
    }

    function test_expire_auditTimedOut_paysWorkerRefundsFee_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _trustedAudited();
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_DeadlineNotPassed.selector, job.deadline));
        agency.expire(id, job);
        vm.warp(job.deadline + 1);
        vm.expectEmit(address(agency));
        emit IJobAgency.JobClosed(id, IJobAgency.Outcome.AuditTimedOut);
        agency.expire(id, job);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND);
        assertEq(agency.creditOf(poster), AUDIT_FEE);
        assertEq(address(agency).balance, uint256(PAYMENT) + WORKER_BOND + AUDIT_FEE);
    }

    function test_resolve_dispute_booksAuditFeeWithArbiterFee_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        job = _reveal(id, job, OTHER_CID);
        _rule(id, job, IJobAgency.Ruling.ChallengerRight);
        assertEq(agency.creditOf(challenger), uint256(PAYMENT) + WORKER_BOND + CHALLENGE_BOND);
        assertEq(agency.creditOf(address(arbiter)), AUDIT_FEE);
    }

    function test_expire_disputeTimedOut_refundsAuditFee_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submittedWith(_trustedAuditSpec(), RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        job = _reveal(id, job, OTHER_CID);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(poster), uint256(PAYMENT) + AUDIT_FEE);
        assertEq(agency.creditOf(address(arbiter)), 0);
    }

    function _sqrt(uint256 x) internal pure returns (uint256 r) {
        r = x;
        uint256 y = (x + 1) / 2;
        while (y < r) {
            r = y;
            y = (x / y + y) / 2;
        }
    }
}
