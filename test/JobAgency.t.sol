// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AgencyTest} from "./utils/AgencyTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {JobAgency} from "src/JobAgency.sol";

/// @notice Unit and fuzz tests, one contract per function. Every revert path is named by its custom error.
contract JobAgency_Post_Test is AgencyTest {
    event JobPosted(uint256 indexed jobId, address indexed poster, IJobAgency.JobSpec spec);

    function test_post_escrowsPaymentAndStoresRecord_succeeds() public {
        IJobAgency.JobSpec memory spec = _spec();
        uint256 expectedId = agency.jobIdOf(poster, block.number, agency.hashSpec(spec));
        vm.expectEmit(address(agency));
        emit JobPosted(expectedId, poster, spec);
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        assertEq(id, expectedId);
        assertEq(address(agency).balance, PAYMENT);
        assertEq(agency.jobHash(id), agency.hashJob(job));
        assertEq(agency.jobHash(id), keccak256(abi.encode(job)), "record hash is the ABI encoding's");
    }

    function test_post_specHashIsHashOfEventData_succeeds() public {
        IJobAgency.JobSpec memory spec = _spec();
        vm.recordLogs();
        (, IJobAgency.Job memory job) = _post(spec);
        bytes memory data = vm.getRecordedLogs()[0].data;
        assertEq(keccak256(data), job.specHash);
        IJobAgency.JobSpec memory decoded = abi.decode(data, (IJobAgency.JobSpec));
        assertEq(decoded.codeCid, spec.codeCid);
        assertEq(decoded.inputCid, spec.inputCid);
        assertEq(decoded.engine, spec.engine);
    }

    function test_post_withInlineAndCidOptions_succeeds() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.options = abi.encodePacked(bytes1(0x00), '{"n":30}');
        _post(spec);
        spec.options = abi.encodePacked(bytes1(0x01), INPUT_CID);
        _post(spec);
        spec.options = abi.encodePacked(bytes1(0x00), new bytes(agency.MAX_INLINE_OPTIONS()));
        _post(spec);
    }

    function test_post_sameSpecTwiceInOneBlock_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        (uint256 id,) = _post(spec);
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_DuplicateJob.selector, id));
        agency.post{value: spec.payment}(spec);
        // The next block, or another deadline, gives another id.
        vm.roll(block.number + 1);
        (uint256 id2,) = _post(spec);
        assertTrue(id2 != id);
    }

    function test_post_invalidCodeCid_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.codeCid = hex"1220aabb";
        _expectPostRevert(spec, abi.encodeWithSelector(IJobAgency.JobAgency_InvalidCid.selector));
    }

    function test_post_invalidInputCid_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.inputCid = "";
        _expectPostRevert(spec, abi.encodeWithSelector(IJobAgency.JobAgency_InvalidCid.selector));
    }

    function test_post_badOptions_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        bytes memory err = abi.encodeWithSelector(IJobAgency.JobAgency_InvalidOptions.selector);
        spec.options = hex"02";
        _expectPostRevert(spec, err);
        spec.options = abi.encodePacked(bytes1(0x01), hex"1220");
        _expectPostRevert(spec, err);
        spec.options = abi.encodePacked(bytes1(0x00), new bytes(agency.MAX_INLINE_OPTIONS() + 1));
        _expectPostRevert(spec, err);
    }

    function test_post_zeroEngine_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.engine = bytes32(0);
        _expectPostRevert(spec, abi.encodeWithSelector(IJobAgency.JobAgency_InvalidEngine.selector));
    }

    function test_post_zeroPayment_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.payment = 0;
        _expectPostRevert(spec, abi.encodeWithSelector(IJobAgency.JobAgency_ZeroPayment.selector));
    }

    function testFuzz_post_wrongValue_reverts(uint96 value) public {
        IJobAgency.JobSpec memory spec = _spec();
        vm.assume(value != spec.payment);
        vm.deal(poster, uint256(value) + 1);
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_WrongValue.selector, spec.payment, value));
        agency.post{value: value}(spec);
    }

    function test_post_zeroArbiter_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.arbiter = address(0);
        _expectPostRevert(spec, abi.encodeWithSelector(IJobAgency.JobAgency_ZeroArbiter.selector));
    }

    function test_post_arbiterFeeOverEitherBond_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.arbiterFee = WORKER_BOND + 1; // fits the challenge bond, not the worker bond
        _expectPostRevert(
            spec, abi.encodeWithSelector(IJobAgency.JobAgency_ArbiterFeeOverBond.selector, spec.arbiterFee)
        );
        spec.workerBond = CHALLENGE_BOND + 1;
        spec.arbiterFee = CHALLENGE_BOND + 1; // fits the worker bond, not the challenge bond
        _expectPostRevert(
            spec, abi.encodeWithSelector(IJobAgency.JobAgency_ArbiterFeeOverBond.selector, spec.arbiterFee)
        );
        spec.arbiterFee = CHALLENGE_BOND; // the smaller bond exactly
        _post(spec);
    }

    function test_post_badTimes_reverts() public {
        bytes memory err = abi.encodeWithSelector(IJobAgency.JobAgency_InvalidTimes.selector);
        IJobAgency.JobSpec memory spec = _spec();
        spec.claimDeadline = uint40(block.timestamp);
        _expectPostRevert(spec, err);
        spec = _spec();
        spec.executionTime = 0;
        _expectPostRevert(spec, err);
        spec = _spec();
        spec.challengeWindow = 0;
        _expectPostRevert(spec, err);
        spec = _spec();
        spec.disputeWindow = 0;
        _expectPostRevert(spec, err);
        spec = _spec();
        spec.executionTime = uint32(agency.MAX_PERIOD() + 1);
        _expectPostRevert(spec, err);
        spec = _spec();
        spec.challengeWindow = uint32(agency.MAX_PERIOD() + 1);
        _expectPostRevert(spec, err);
        spec = _spec();
        spec.disputeWindow = uint32(agency.MAX_PERIOD() + 1);
        _expectPostRevert(spec, err);
    }

    function test_post_nonCanonicalCalldata_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        bytes memory good = abi.encodeCall(JobAgency.post, (spec));
        bytes memory err = abi.encodeWithSelector(IJobAgency.JobAgency_NonCanonicalCalldata.selector);
        // Trailing garbage.
        _expectRawPostRevert(bytes.concat(good, bytes32(uint256(1))), err);
        // A dirty high bit in a uint96 (payment is head word 4 of the tuple at 0x24).
        bytes memory dirty = bytes.concat(good);
        dirty[0x24 + 4 * 32] = 0x01;
        _expectRawPostRevert(dirty, err);
        // The canonical bytes go through.
        vm.prank(poster);
        (bool ok,) = address(agency).call{value: PAYMENT}(good);
        assertTrue(ok);
    }

    function testFuzz_post_anyValidSpec_succeeds(
        uint96 payment,
        uint96 workerBond,
        uint96 challengeBond,
        uint40 claimIn,
        uint32 executionTime,
        uint32 challengeWindow,
        uint32 disputeWindow,
        uint32 minReputation
    ) public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.payment = uint96(bound(payment, 1, 1000 ether));
        spec.workerBond = workerBond;
        spec.challengeBond = challengeBond;
        spec.claimDeadline = uint40(block.timestamp + bound(claimIn, 1, 10 * 365 days));
        spec.executionTime = uint32(bound(executionTime, 1, agency.MAX_PERIOD()));
        spec.challengeWindow = uint32(bound(challengeWindow, 1, agency.MAX_PERIOD()));
        spec.disputeWindow = uint32(bound(disputeWindow, 1, agency.MAX_PERIOD()));
        spec.minReputation = minReputation;
        vm.deal(poster, spec.payment);
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        assertEq(agency.jobHash(id), agency.hashJob(job));
        assertEq(address(agency).balance, spec.payment);
    }

    function _expectPostRevert(IJobAgency.JobSpec memory spec, bytes memory err) internal {
        vm.prank(poster);
        vm.expectRevert(err);
        agency.post{value: spec.payment}(spec);
    }

    function _expectRawPostRevert(bytes memory data, bytes memory err) internal {
        vm.prank(poster);
        (bool ok, bytes memory ret) = address(agency).call{value: PAYMENT}(data);
        assertFalse(ok);
        assertEq(ret, err);
    }
}

contract JobAgency_Cancel_Test is AgencyTest {
    function test_cancel_creditsPoster_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.prank(poster);
        agency.cancel(id, job);
        assertEq(agency.jobHash(id), bytes32(0));
        assertEq(agency.creditOf(poster), PAYMENT);
    }

    function test_cancel_notPoster_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_Unauthorized.selector, stranger));
        agency.cancel(id, job);
    }

    function test_cancel_afterClaim_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.prank(poster);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Claimed)
        );
        agency.cancel(id, job);
    }

    function test_cancel_twice_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.prank(poster);
        agency.cancel(id, job);
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_NoSuchJob.selector, id));
        agency.cancel(id, job);
    }

    function test_cancel_staleRecord_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job.payment += 1;
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_StaleRecord.selector, id));
        agency.cancel(id, job);
    }

    function test_cancel_unknownJob_reverts() public {
        (, IJobAgency.Job memory job) = _post();
        vm.prank(poster);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_NoSuchJob.selector, 42));
        agency.cancel(42, job);
    }
}

contract JobAgency_Claim_Test is AgencyTest {
    function test_claim_locksBond_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        assertEq(agency.jobHash(id), agency.hashJob(job));
        assertEq(address(agency).balance, PAYMENT + WORKER_BOND);
        assertEq(job.deadline, block.timestamp + EXECUTION_TIME);
    }

    function test_claim_atClaimDeadline_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.warp(job.claimDeadline);
        _claim(id, job, worker);
    }

    function test_claim_afterClaimDeadline_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.warp(job.claimDeadline + 1);
        vm.prank(worker);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_DeadlinePassed.selector, job.claimDeadline)
        );
        agency.claim{value: WORKER_BOND}(id, job);
    }

    function testFuzz_claim_wrongBond_reverts(uint96 value) public {
        vm.assume(value != WORKER_BOND);
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.deal(worker, value);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_WrongValue.selector, WORKER_BOND, value));
        agency.claim{value: value}(id, job);
    }

    function test_claim_twice_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        _claim(id, job, worker);
        // The second worker still holds the Open record: it is stale now.
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_StaleRecord.selector, id));
        agency.claim{value: WORKER_BOND}(id, job);
    }

    function test_claim_claimedRecord_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Claimed)
        );
        agency.claim{value: WORKER_BOND}(id, job);
    }

    function test_claim_reputationTooLow_reverts() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.minReputation = 1;
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_ReputationTooLow.selector, 0, 1));
        agency.claim{value: WORKER_BOND}(id, job);
    }

    function test_claim_reputationEnough_succeeds() public {
        // Earn one finalized job first.
        (uint256 id0, IJobAgency.Job memory job0) = _submitted();
        vm.warp(job0.deadline + 1);
        agency.finalize(id0, job0);
        assertEq(agency.reputationOf(worker), 1);

        IJobAgency.JobSpec memory spec = _spec();
        spec.minReputation = 1;
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        _claim(id, job, worker);
    }
}

contract JobAgency_Submit_Test is AgencyTest {
    function test_submit_opensWindow_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.expectEmit(address(agency));
        emit IJobAgency.ResultSubmitted(id, worker, RESULT_CID, uint40(block.timestamp) + CHALLENGE_WINDOW, 0);
        job = _submit(id, job, RESULT_CID);
        assertEq(agency.jobHash(id), agency.hashJob(job));
        assertEq(job.result, keccak256(RESULT_CID));
    }

    function test_submit_atDeadline_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.warp(job.deadline);
        _submit(id, job, RESULT_CID);
    }

    function test_submit_afterDeadline_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.warp(job.deadline + 1);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_DeadlinePassed.selector, job.deadline));
        agency.submit(id, job, RESULT_CID);
    }

    function test_submit_notWorker_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_Unauthorized.selector, stranger));
        agency.submit(id, job, RESULT_CID);
    }

    function test_submit_badCid_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_InvalidCid.selector));
        agency.submit(id, job, hex"0155");
    }

    function test_submit_whileOpen_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.prank(worker);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Open)
        );
        agency.submit(id, job, RESULT_CID);
    }
}

contract JobAgency_Finalize_Test is AgencyTest {
    function test_finalize_paysWorker_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        vm.warp(job.deadline + 1);
        vm.prank(stranger);
        agency.finalize(id, job);
        assertEq(agency.jobHash(id), bytes32(0));
        assertEq(agency.creditOf(worker), PAYMENT + WORKER_BOND);
        assertEq(agency.reputation(worker).finalized, 1);
    }

    /// The window edge: at `deadline` a challenge is still possible and finalize is not.
    function test_finalize_atWindowEnd_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        vm.warp(job.deadline);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_DeadlineNotPassed.selector, job.deadline));
        agency.finalize(id, job);
        _challenge(id, job, challenger, OTHER_CID);
    }

    function test_finalize_notSubmitted_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.warp(job.deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Claimed)
        );
        agency.finalize(id, job);
    }

    function test_finalize_twice_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        vm.warp(job.deadline + 1);
        agency.finalize(id, job);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_NoSuchJob.selector, id));
        agency.finalize(id, job);
    }

    /// Fuzzed over the window length and the moment of the call: challenge iff now <= end, finalize iff
    /// now > end, never both and never neither.
    function testFuzz_finalize_windowEdgeIsExact_succeeds(uint32 window, uint32 wait) public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.challengeWindow = uint32(bound(window, 1, agency.MAX_PERIOD()));
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
        uint256 at = block.timestamp + bound(wait, 0, 2 * uint256(spec.challengeWindow));
        vm.warp(at);
        if (at <= job.deadline) {
            vm.expectRevert(
                abi.encodeWithSelector(IJobAgency.JobAgency_DeadlineNotPassed.selector, job.deadline)
            );
            agency.finalize(id, job);
            _challenge(id, job, challenger, OTHER_CID);
        } else {
            bytes32 seal = agency.sealOf(id, challenger, OTHER_CID, SALT);
            vm.prank(challenger);
            vm.expectRevert(
                abi.encodeWithSelector(IJobAgency.JobAgency_DeadlinePassed.selector, job.deadline)
            );
            agency.challenge{value: CHALLENGE_BOND}(id, job, seal);
            agency.finalize(id, job);
        }
    }
}

contract JobAgency_Challenge_Test is AgencyTest {
    function test_challenge_locksBondAndFreshPeriod_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        // At the last second of the window the challenger still gets a whole period to reveal.
        vm.warp(job.deadline);
        job = _challenge(id, job, challenger, OTHER_CID);
        assertEq(job.deadline, block.timestamp + CHALLENGE_WINDOW);
        assertEq(agency.jobHash(id), agency.hashJob(job));
        assertEq(address(agency).balance, PAYMENT + WORKER_BOND + CHALLENGE_BOND);
    }

    function test_challenge_byPoster_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        _challenge(id, job, poster, OTHER_CID);
    }

    function test_challenge_byWorker_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_SelfChallenge.selector));
        agency.challenge{value: CHALLENGE_BOND}(id, job, bytes32(uint256(1)));
    }

    function test_challenge_wrongBond_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IJobAgency.JobAgency_WrongValue.selector, CHALLENGE_BOND, CHALLENGE_BOND - 1
            )
        );
        agency.challenge{value: CHALLENGE_BOND - 1}(id, job, bytes32(uint256(1)));
    }

    function test_challenge_zeroSeal_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_ZeroSeal.selector));
        agency.challenge{value: CHALLENGE_BOND}(id, job, bytes32(0));
    }

    function test_challenge_secondChallenger_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        IJobAgency.Job memory challenged = _challenge(id, job, challenger, OTHER_CID);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_StaleRecord.selector, id));
        agency.challenge{value: CHALLENGE_BOND}(id, job, bytes32(uint256(1)));
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Challenged)
        );
        agency.challenge{value: CHALLENGE_BOND}(id, challenged, bytes32(uint256(1)));
    }
}

contract JobAgency_Reveal_Test is AgencyTest {
    function test_reveal_opensDispute_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        assertEq(agency.jobHash(id), agency.hashJob(job));
        assertEq(job.challenge, keccak256(OTHER_CID));
        assertEq(job.deadline, block.timestamp + DISPUTE_WINDOW);
    }

    /// A front-runner who copies a challenger's seal cannot open it: the seal is bound to the sender.
    function test_reveal_copiedSeal_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        bytes32 honestSeal = agency.sealOf(id, challenger, OTHER_CID, SALT);
        vm.prank(stranger);
        agency.challenge{value: CHALLENGE_BOND}(id, job, honestSeal);
        job.status = IJobAgency.Status.Challenged;
        job.challenger = stranger;
        job.challenge = honestSeal;
        job.deadline = uint40(block.timestamp) + job.challengeWindow;
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_SealMismatch.selector));
        agency.reveal(id, job, OTHER_CID, SALT);
        // The copier forfeits its bond to the worker.
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(worker), PAYMENT + WORKER_BOND + CHALLENGE_BOND);
        assertEq(agency.reputation(stranger).disputesLost, 1);
    }

    function test_reveal_wrongSalt_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        job = _challenge(id, job, challenger, OTHER_CID);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_SealMismatch.selector));
        agency.reveal(id, job, OTHER_CID, bytes32(0));
    }

    function test_reveal_sameResultAsWorker_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        job = _challenge(id, job, challenger, RESULT_CID);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_SameResult.selector));
        agency.reveal(id, job, RESULT_CID, SALT);
    }

    function test_reveal_notChallenger_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        job = _challenge(id, job, challenger, OTHER_CID);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_Unauthorized.selector, stranger));
        agency.reveal(id, job, OTHER_CID, SALT);
    }

    function test_reveal_afterDeadline_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        job = _challenge(id, job, challenger, OTHER_CID);
        vm.warp(job.deadline + 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_DeadlinePassed.selector, job.deadline));
        agency.reveal(id, job, OTHER_CID, SALT);
    }

    function test_reveal_badCid_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        job = _challenge(id, job, challenger, OTHER_CID);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_InvalidCid.selector));
        agency.reveal(id, job, hex"12", SALT);
    }
}

contract JobAgency_Resolve_Test is AgencyTest {
    uint256 internal constant POT = uint256(PAYMENT) + WORKER_BOND + CHALLENGE_BOND;

    function test_resolve_workerRight_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        _rule(id, job, IJobAgency.Ruling.WorkerRight);
        assertEq(agency.creditOf(worker), POT);
        assertEq(agency.creditOf(challenger), 0);
        assertEq(agency.reputation(worker).finalized, 1);
        assertEq(agency.reputation(challenger).disputesLost, 1);
    }

    function test_resolve_challengerRight_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        _rule(id, job, IJobAgency.Ruling.ChallengerRight);
        assertEq(agency.creditOf(challenger), POT);
        assertEq(agency.creditOf(worker), 0);
        assertEq(agency.reputation(challenger).finalized, 1);
        assertEq(agency.reputation(worker).disputesLost, 1);
        assertEq(agency.reputationOf(worker), 0);
    }

    function test_resolve_neither_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        _rule(id, job, IJobAgency.Ruling.Neither);
        assertEq(agency.creditOf(poster), POT);
        assertEq(agency.reputation(worker).disputesLost, 1);
        assertEq(agency.reputation(challenger).disputesLost, 1);
    }

    /// The arbiter's fee comes out of the loser's bond and is credited to the arbiter, for every ruling.
    function testFuzz_resolve_arbiterFeeFromLoser_succeeds(uint96 fee, uint8 rulingSeed) public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.arbiterFee = uint96(bound(fee, 0, WORKER_BOND < CHALLENGE_BOND ? WORKER_BOND : CHALLENGE_BOND));
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        job = _reveal(id, job, OTHER_CID);
        IJobAgency.Ruling ruling = IJobAgency.Ruling(1 + rulingSeed % 3);
        _rule(id, job, ruling);
        address winner = ruling == IJobAgency.Ruling.WorkerRight
            ? worker
            : ruling == IJobAgency.Ruling.ChallengerRight ? challenger : poster;
        assertEq(agency.creditOf(winner), POT - spec.arbiterFee);
        assertEq(agency.creditOf(address(arbiter)), spec.arbiterFee);
        assertEq(address(agency).balance, POT);
    }

    /// A dispute that times out charges no fee: everyone gets its own money back.
    function test_expire_disputeWithFee_chargesNoFee_succeeds() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.arbiterFee = WORKER_BOND;
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        job = _reveal(id, job, OTHER_CID);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(worker), WORKER_BOND);
        assertEq(agency.creditOf(challenger), CHALLENGE_BOND);
        assertEq(agency.creditOf(address(arbiter)), 0);
    }

    function test_resolve_noneRuling_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        vm.prank(arbiterOwner);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_InvalidRuling.selector));
        arbiter.rule(agency, id, job, IJobAgency.Ruling.None);
    }

    function test_resolve_notArbiter_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        vm.prank(arbiterOwner);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_Unauthorized.selector, arbiterOwner));
        agency.resolve(id, job, IJobAgency.Ruling.WorkerRight);
    }

    function test_resolve_beforeReveal_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        job = _challenge(id, job, challenger, OTHER_CID);
        vm.prank(arbiterOwner);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Challenged)
        );
        arbiter.rule(agency, id, job, IJobAgency.Ruling.WorkerRight);
    }

    function test_resolve_afterDeadline_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        vm.warp(job.deadline + 1);
        vm.prank(arbiterOwner);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_DeadlinePassed.selector, job.deadline));
        arbiter.rule(agency, id, job, IJobAgency.Ruling.WorkerRight);
    }
}

contract JobAgency_Expire_Test is AgencyTest {
    function test_expire_unclaimed_refundsPoster_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.warp(job.claimDeadline + 1);
        vm.prank(stranger);
        agency.expire(id, job);
        assertEq(agency.creditOf(poster), PAYMENT);
        assertEq(agency.jobHash(id), bytes32(0));
    }

    function test_expire_missedDeadline_reopens_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(poster), WORKER_BOND, "the bond compensates the poster");
        assertEq(agency.reputation(worker).deadlinesMissed, 1);
        // Open again, with the original claim deadline, and claimable by someone else.
        job.status = IJobAgency.Status.Open;
        job.worker = address(0);
        job.deadline = job.claimDeadline;
        assertEq(agency.jobHash(id), agency.hashJob(job));
        _claim(id, job, stranger);
    }

    function test_expire_missedDeadlinePastClaimBy_refunds_succeeds() public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.claimDeadline = uint40(block.timestamp + 10);
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        job = _claim(id, job, worker);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(poster), PAYMENT + WORKER_BOND);
        assertEq(agency.jobHash(id), bytes32(0));
    }

    function test_expire_unrevealedChallenge_workerWins_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        job = _challenge(id, job, challenger, OTHER_CID);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(worker), uint256(PAYMENT) + WORKER_BOND + CHALLENGE_BOND);
        assertEq(agency.reputation(challenger).disputesLost, 1);
    }

    function test_expire_unresolvedDispute_refundsAll_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(poster), PAYMENT);
        assertEq(agency.creditOf(worker), WORKER_BOND);
        assertEq(agency.creditOf(challenger), CHALLENGE_BOND);
    }

    function test_expire_submitted_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        vm.warp(job.deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_WrongStatus.selector, IJobAgency.Status.Submitted)
        );
        agency.expire(id, job);
    }

    function test_expire_beforeDeadline_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.warp(job.claimDeadline);
        vm.expectRevert(
            abi.encodeWithSelector(IJobAgency.JobAgency_DeadlineNotPassed.selector, job.claimDeadline)
        );
        agency.expire(id, job);
    }
}

contract JobAgency_Withdraw_Test is AgencyTest {
    event Withdrawn(address indexed account, uint256 amount);

    function test_withdraw_paysCreditOnce_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        vm.warp(job.deadline + 1);
        agency.finalize(id, job);
        uint256 before = worker.balance;
        vm.expectEmit(address(agency));
        emit Withdrawn(worker, PAYMENT + WORKER_BOND);
        vm.prank(worker);
        agency.withdraw();
        assertEq(worker.balance, before + PAYMENT + WORKER_BOND);
        assertEq(agency.creditOf(worker), 0);
        assertEq(agency.reputation(worker).finalized, 1, "counters survive a withdrawal");
        assertEq(address(agency).balance, 0);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_NoCredit.selector));
        agency.withdraw();
    }

    function test_withdraw_noCredit_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_NoCredit.selector));
        agency.withdraw();
    }

    function test_withdraw_receiverRejects_keepsCredit_reverts() public {
        Rejecter rejecter = new Rejecter();
        vm.deal(address(rejecter), 1 ether);
        IJobAgency.JobSpec memory spec = _spec();
        vm.prank(address(rejecter));
        uint256 id = agency.post{value: spec.payment}(spec);
        IJobAgency.Job memory job = _recordOf(spec, address(rejecter));
        vm.prank(address(rejecter));
        agency.cancel(id, job);
        vm.prank(address(rejecter));
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_TransferFailed.selector));
        agency.withdraw();
        assertEq(agency.creditOf(address(rejecter)), PAYMENT);
    }
}

/// @notice A receiver that re-enters the agency from its `receive` and tries to be paid twice.
contract Reentrant {
    JobAgency internal immutable agency;
    uint256 public reentries;
    bytes public lastError;

    constructor(JobAgency _agency) {
        agency = _agency;
    }

    function post(IJobAgency.JobSpec calldata spec) external payable returns (uint256) {
        return agency.post{value: msg.value}(spec);
    }

    function cancel(uint256 id, IJobAgency.Job calldata job) external {
        agency.cancel(id, job);
    }

    function withdraw() external {
        agency.withdraw();
    }

    receive() external payable {
        ++reentries;
        try agency.withdraw() {}
        catch (bytes memory err) {
            lastError = err;
        }
    }
}

contract Rejecter {
    receive() external payable {
        revert("no");
    }
}

contract JobAgency_Reentrancy_Test is AgencyTest {
    function test_withdraw_reentrantReceiver_paidOnce_succeeds() public {
        Reentrant attacker = new Reentrant(agency);
        vm.deal(address(attacker), 0);
        // An honest job keeps other people's money in the agency for the attacker to aim at.
        _submitted();
        IJobAgency.JobSpec memory spec = _spec();
        spec.claimDeadline += 1;
        vm.deal(address(this), PAYMENT);
        uint256 id = attacker.post{value: PAYMENT}(spec);
        attacker.cancel(id, _recordOf(spec, address(attacker)));
        uint256 agencyBefore = address(agency).balance;

        attacker.withdraw();

        assertEq(address(attacker).balance, PAYMENT, "paid exactly its credit");
        assertEq(address(agency).balance, agencyBefore - PAYMENT);
        assertEq(attacker.reentries(), 1);
        assertEq(attacker.lastError(), abi.encodeWithSelector(IJobAgency.JobAgency_Reentrancy.selector));
    }
}

/// @notice Fuzzed over amounts and the path a job takes to its end: whatever the path, every wei that went
///         in comes out as credit exactly once, and withdrawing empties the agency.
contract JobAgency_Conservation_Test is AgencyTest {
    function testFuzz_anyPath_conservesEth_succeeds(
        uint96 payment,
        uint96 workerBond,
        uint96 challengeBond,
        uint8 path
    ) public {
        IJobAgency.JobSpec memory spec = _spec();
        spec.payment = uint96(bound(payment, 1, 1_000 ether));
        spec.workerBond = uint96(bound(workerBond, 0, 1_000 ether));
        spec.challengeBond = uint96(bound(challengeBond, 0, 1_000 ether));
        vm.deal(poster, spec.payment);
        vm.deal(worker, spec.workerBond);
        vm.deal(challenger, spec.challengeBond);
        uint256 total = uint256(spec.payment) + spec.workerBond + spec.challengeBond;

        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        path = uint8(bound(path, 0, 9));
        if (path == 0) {
            vm.prank(poster);
            agency.cancel(id, job);
        } else if (path == 1) {
            vm.warp(job.claimDeadline + 1);
            agency.expire(id, job);
        } else {
            job = _claim(id, job, worker);
            if (path == 2) {
                vm.warp(job.deadline + 1);
                agency.expire(id, job); // reopens
                job.status = IJobAgency.Status.Open;
                job.worker = address(0);
                job.deadline = job.claimDeadline;
                vm.warp(job.claimDeadline + 1);
                agency.expire(id, job);
            } else {
                job = _submit(id, job, RESULT_CID);
                if (path == 3) {
                    vm.warp(job.deadline + 1);
                    agency.finalize(id, job);
                } else {
                    job = _challenge(id, job, challenger, OTHER_CID);
                    if (path == 4) {
                        vm.warp(job.deadline + 1);
                        agency.expire(id, job);
                    } else {
                        job = _reveal(id, job, OTHER_CID);
                        if (path == 5) {
                            vm.warp(job.deadline + 1);
                            agency.expire(id, job);
                        } else {
                            _rule(id, job, IJobAgency.Ruling(uint8(1 + path % 3)));
                        }
                    }
                }
            }
        }
        assertEq(agency.jobHash(id), bytes32(0), "every path ends the job");
        uint256 credits = agency.creditOf(poster) + agency.creditOf(worker) + agency.creditOf(challenger);
        assertEq(address(agency).balance, credits, "balance == credits once no job is live");
        assertLe(credits, total);
        address[3] memory people = [poster, worker, challenger];
        for (uint256 i; i < 3; ++i) {
            if (agency.creditOf(people[i]) == 0) continue;
            vm.prank(people[i]);
            agency.withdraw();
        }
        assertEq(address(agency).balance, 0);
        assertEq(poster.balance + worker.balance + challenger.balance, total, "no wei created or lost");
    }
}
