// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {JuryTest} from "./utils/JuryTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {IJuryArbiter} from "src/interfaces/IJuryArbiter.sol";
import {JuryArbiter} from "src/arbiters/JuryArbiter.sol";

contract JuryArbiter_Constructor_Test is JuryTest {
    function test_constructor_setsParameters_succeeds() public view {
        assertEq(address(jury.agency()), address(agency));
        assertEq(jury.jurors(), K);
        assertEq(jury.stake(), STAKE);
        assertEq(jury.slash(), SLASH);
        assertEq(jury.minFee(), FEE);
        assertEq(jury.cooldown(), COOLDOWN);
        assertEq(jury.commitPeriod(), COMMIT_PERIOD);
        assertEq(jury.revealPeriod(), REVEAL_PERIOD);
        assertEq(jury.kind(), "jury");
        assertEq(jury.poolSize(), POOL);
    }

    function test_constructor_badParameters_reverts() public {
        bytes memory err = abi.encodeWithSelector(IJuryArbiter.JuryArbiter_InvalidParameters.selector);
        vm.expectRevert(err);
        new JuryArbiter(IJobAgency(address(0)), 3, STAKE, SLASH, 0, 0, 1, 1);
        vm.expectRevert(err); // even jury
        new JuryArbiter(agency, 4, STAKE, SLASH, 0, 0, 1, 1);
        vm.expectRevert(err); // too large
        new JuryArbiter(agency, 33, STAKE, SLASH, 0, 0, 1, 1);
        vm.expectRevert(err); // zero stake
        new JuryArbiter(agency, 3, 0, 0, 0, 0, 1, 1);
        vm.expectRevert(err); // stake too large
        new JuryArbiter(agency, 3, uint256(type(uint80).max) + 1, 0, 0, 0, 1, 1);
        vm.expectRevert(err); // slash over stake
        new JuryArbiter(agency, 3, STAKE, STAKE + 1, 0, 0, 1, 1);
        vm.expectRevert(err); // zero commit period
        new JuryArbiter(agency, 3, STAKE, SLASH, 0, 0, 0, 1);
        vm.expectRevert(err); // zero reveal period
        new JuryArbiter(agency, 3, STAKE, SLASH, 0, 0, 1, 0);
        vm.expectRevert(err); // cooldown over a year
        new JuryArbiter(agency, 3, STAKE, SLASH, 0, 366 days, 1, 1);
    }

    function test_receive_notFromAgency_reverts() public {
        vm.prank(stranger);
        (bool ok, bytes memory ret) = address(jury).call{value: 1}("");
        assertFalse(ok);
        assertEq(ret, abi.encodeWithSelector(IJuryArbiter.JuryArbiter_UnexpectedEther.selector));
    }
}

contract JuryArbiter_Register_Test is JuryTest {
    function test_register_joinsPool_succeeds() public {
        vm.expectEmit(address(jury));
        emit IJuryArbiter.Registered(stranger, STAKE);
        vm.prank(stranger);
        jury.register{value: STAKE}();
        assertEq(jury.poolSize(), POOL + 1);
        assertEq(jury.poolAt(POOL), stranger);
        IJuryArbiter.Verifier memory v = jury.verifierOf(stranger);
        assertEq(v.stake, STAKE);
        assertEq(v.poolIndex, POOL + 1);
        assertEq(address(jury).balance, (POOL + 1) * STAKE);
    }

    function testFuzz_register_wrongValue_reverts(uint256 value) public {
        value = bound(value, 0, 10 ether);
        vm.assume(value != STAKE);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_WrongValue.selector, STAKE, value));
        jury.register{value: value}();
    }

    function test_register_twice_reverts() public {
        vm.prank(verifiers[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_AlreadyRegistered.selector));
        jury.register{value: STAKE}();
    }

    function test_register_afterLeavingBeforeUnstake_reverts() public {
        vm.prank(verifiers[0]);
        jury.leave();
        vm.prank(verifiers[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_AlreadyRegistered.selector));
        jury.register{value: STAKE}();
    }
}

contract JuryArbiter_Leave_Test is JuryTest {
    function test_leave_swapsLastIntoPlace_succeeds() public {
        vm.expectEmit(address(jury));
        emit IJuryArbiter.Left(verifiers[1], uint40(block.timestamp + COOLDOWN));
        vm.prank(verifiers[1]);
        jury.leave();
        assertEq(jury.poolSize(), POOL - 1);
        assertEq(jury.poolAt(1), verifiers[POOL - 1]);
        assertEq(jury.verifierOf(verifiers[POOL - 1]).poolIndex, 2);
        assertEq(jury.verifierOf(verifiers[1]).poolIndex, 0);
        assertEq(jury.verifierOf(verifiers[1]).unstakeAt, block.timestamp + COOLDOWN);
    }

    function test_leave_notRegistered_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotRegistered.selector));
        jury.leave();
    }

    function test_leave_twice_reverts() public {
        vm.startPrank(verifiers[0]);
        jury.leave();
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotRegistered.selector));
        jury.leave();
        vm.stopPrank();
    }
}

contract JuryArbiter_Unstake_Test is JuryTest {
    function test_unstake_afterCooldown_creditsAndWithdraws_succeeds() public {
        address v = verifiers[0];
        vm.prank(v);
        jury.leave();
        vm.warp(block.timestamp + COOLDOWN);
        vm.expectEmit(address(jury));
        emit IJuryArbiter.Unstaked(v, STAKE);
        vm.prank(v);
        jury.unstake();
        assertEq(jury.creditOf(v), STAKE);
        uint256 before = v.balance;
        vm.prank(v);
        jury.withdraw();
        assertEq(v.balance, before + STAKE);
        assertEq(jury.creditOf(v), 0);
        assertEq(jury.verifierOf(v).stake, 0);
    }

    function test_unstake_inPool_reverts() public {
        vm.prank(verifiers[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_StillInPool.selector));
        jury.unstake();
    }

    function test_unstake_neverRegistered_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotRegistered.selector));
        jury.unstake();
    }

    function test_unstake_duringCooldown_reverts() public {
        vm.prank(verifiers[0]);
        jury.leave();
        uint40 at = uint40(block.timestamp + COOLDOWN);
        vm.warp(at - 1);
        vm.prank(verifiers[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_CoolingDown.selector, at));
        jury.unstake();
    }

    /// A juror can leave the pool mid-dispute but not take its stake out until the dispute releases it.
    function test_unstake_whileDrawn_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        address[] memory drawn = _openAndDraw(id, job, keccak256("seed"));
        vm.prank(drawn[0]);
        jury.leave();
        vm.warp(block.timestamp + COOLDOWN);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_StillDrawn.selector, 1));
        jury.unstake();
    }
}

contract JuryArbiter_OpenDispute_Test is JuryTest {
    function test_openDispute_schedulesDraw_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        vm.expectEmit(address(jury));
        emit IJuryArbiter.DisputeOpened(id, uint40(block.number + 1));
        jury.openDispute(id, job);
        IJuryArbiter.Dispute memory d = jury.disputeOf(id);
        assertEq(uint8(d.phase), uint8(IJuryArbiter.Phase.Drawing));
        assertEq(d.round, 1);
        assertEq(d.record, agency.hashJob(job));
        assertEq(d.workerResult, keccak256(RESULT_CID));
        assertEq(d.challengerResult, keccak256(OTHER_CID));
    }

    function test_openDispute_twice_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        jury.openDispute(id, job);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_DisputeExists.selector, id));
        jury.openDispute(id, job);
    }

    function test_openDispute_notDisputedYet_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _post(_jurySpec());
        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotDisputed.selector, id));
        jury.openDispute(id, job);
    }

    function test_openDispute_otherArbiter_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed(); // names the TrustedArbiter
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotDisputed.selector, id));
        jury.openDispute(id, job);
    }

    function test_openDispute_forgedRecord_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        job.result = keccak256(OTHER_CID); // not what the agency stores
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotDisputed.selector, id));
        jury.openDispute(id, job);
    }

    function test_openDispute_feeTooLow_reverts() public {
        IJobAgency.JobSpec memory spec = _jurySpec();
        spec.arbiterFee = FEE - 1;
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        job = _reveal(id, job, OTHER_CID);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_FeeTooLow.selector, FEE - 1, FEE));
        jury.openDispute(id, job);
    }

    function test_openDispute_windowTooShort_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        vm.warp(job.deadline - COMMIT_PERIOD - REVEAL_PERIOD + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IJuryArbiter.JuryArbiter_DisputeWindowTooShort.selector, job.deadline)
        );
        jury.openDispute(id, job);
    }
}

contract JuryArbiter_Draw_Test is JuryTest {
    function test_draw_seatsDistinctNonParties_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        address[] memory drawn = _openAndDraw(id, job, keccak256("seed"));
        assertEq(drawn.length, K);
        for (uint256 i; i < K; ++i) {
            assertEq(jury.verifierOf(drawn[i]).drawnIn, 1);
            for (uint256 j; j < i; ++j) {
                assertTrue(drawn[i] != drawn[j]);
            }
        }
        IJuryArbiter.Dispute memory d = jury.disputeOf(id);
        assertEq(uint8(d.phase), uint8(IJuryArbiter.Phase.Voting));
        assertEq(d.commitDeadline, block.timestamp + COMMIT_PERIOD);
        assertEq(d.revealDeadline, block.timestamp + COMMIT_PERIOD + REVEAL_PERIOD);
    }

    /// Verifiers that are the job's parties are never drawn, whatever the seed.
    function testFuzz_draw_neverAParty_succeeds(bytes32 seed) public {
        vm.assume(seed != bytes32(0));
        for (uint256 i; i < 3; ++i) {
            address party = [poster, worker, challenger][i];
            vm.prank(party);
            jury.register{value: STAKE}();
        }
        // Leave exactly K eligible verifiers: the draw must find all of them.
        for (uint256 i; i < POOL - K; ++i) {
            vm.prank(verifiers[i]);
            jury.leave();
        }
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        address[] memory drawn = _openAndDraw(id, job, seed);
        for (uint256 i; i < K; ++i) {
            assertTrue(drawn[i] != poster && drawn[i] != worker && drawn[i] != challenger);
        }
    }

    function test_draw_sameBlock_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        jury.openDispute(id, job);
        vm.roll(block.number + 1); // the draw block itself: its hash is not known inside it
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_TooEarly.selector, block.number));
        jury.draw(id, job);
    }

    function test_draw_hashAgedOut_reschedules_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        jury.openDispute(id, job);
        vm.roll(block.number + 300);
        vm.expectEmit(address(jury));
        emit IJuryArbiter.DrawScheduled(id, 1, uint40(block.number + 1));
        jury.draw(id, job);
        assertEq(jury.disputeOf(id).drawBlock, block.number + 1);
        assertEq(uint8(jury.disputeOf(id).phase), uint8(IJuryArbiter.Phase.Drawing));
        assertEq(_draw(id, job, keccak256("late")).length, K);
    }

    function test_draw_poolTooSmall_reverts() public {
        for (uint256 i; i < POOL - K + 1; ++i) {
            vm.prank(verifiers[i]);
            jury.leave();
        }
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        jury.openDispute(id, job);
        vm.roll(block.number + 2);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_PoolTooSmall.selector, K - 1));
        jury.draw(id, job);
    }

    function test_draw_twice_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        _openAndDraw(id, job, keccak256("seed"));
        vm.expectRevert(
            abi.encodeWithSelector(IJuryArbiter.JuryArbiter_WrongPhase.selector, IJuryArbiter.Phase.Voting)
        );
        jury.draw(id, job);
    }

    function test_draw_noDispute_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NoDispute.selector, id));
        jury.draw(id, job);
    }

    function test_draw_wrongRecord_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        jury.openDispute(id, job);
        vm.roll(block.number + 2);
        job.worker = stranger; // would let the real worker be drawn
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_WrongRecord.selector, id));
        jury.draw(id, job);
    }
}

contract JuryArbiter_Vote_Test is JuryTest {
    uint256 internal id;
    IJobAgency.Job internal job;
    address[] internal drawn;

    function setUp() public override {
        super.setUp();
        (id, job) = _juryDisputed();
        drawn = _openAndDraw(id, job, keccak256("seed"));
    }

    function test_commit_records_succeeds() public {
        bytes32 c = jury.commitmentOf(id, drawn[0], RESULT_CID, SALT);
        vm.expectEmit(address(jury));
        emit IJuryArbiter.Committed(id, drawn[0], c);
        vm.prank(drawn[0]);
        jury.commit(id, c);
        assertEq(jury.disputeOf(id).committed, 1);
    }

    function test_commit_notJuror_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotYourTurn.selector, stranger));
        jury.commit(id, keccak256("x"));
    }

    function test_commit_twice_reverts() public {
        _commit(id, drawn[0], RESULT_CID);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotYourTurn.selector, drawn[0]));
        jury.commit(id, keccak256("x"));
    }

    function test_commit_markValue_reverts() public {
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_InvalidCommitment.selector));
        jury.commit(id, bytes32(uint256(4)));
    }

    function test_commit_afterDeadline_reverts() public {
        uint40 deadline = jury.disputeOf(id).commitDeadline;
        vm.warp(deadline + 1);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_TooLate.selector, deadline));
        jury.commit(id, keccak256("x"));
    }

    function test_commit_whileDrawing_reverts() public {
        (uint256 id2, IJobAgency.Job memory job2) = _juryDisputed();
        vm.warp(block.timestamp + 1); // another block time, so that the spec (and id) differ
        jury.openDispute(id2, job2);
        vm.prank(drawn[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IJuryArbiter.JuryArbiter_WrongPhase.selector, IJuryArbiter.Phase.Drawing)
        );
        jury.commit(id2, keccak256("x"));
    }

    function test_reveal_countsEachSide_succeeds() public {
        _vote(id, drawn, _cids3(RESULT_CID, OTHER_CID, THIRD_CID));
        IJuryArbiter.Dispute memory d = jury.disputeOf(id);
        assertEq(d.forWorker, 1);
        assertEq(d.forChallenger, 1);
        assertEq(d.forNeither, 1);
    }

    function test_reveal_beforeCommitDeadline_reverts() public {
        _commit(id, drawn[0], RESULT_CID);
        vm.prank(drawn[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IJuryArbiter.JuryArbiter_TooEarly.selector, jury.disputeOf(id).commitDeadline
            )
        );
        jury.reveal(id, RESULT_CID, SALT);
    }

    /// Once every juror committed nobody can commit any more, so reveals may start at once.
    function test_reveal_allCommitted_opensEarly_succeeds() public {
        for (uint256 i; i < K; ++i) {
            _commit(id, drawn[i], RESULT_CID);
        }
        vm.expectEmit(address(jury));
        emit IJuryArbiter.Revealed(id, drawn[0], RESULT_CID, IJobAgency.Ruling.WorkerRight);
        _revealVote(id, drawn[0], RESULT_CID);
    }

    function test_reveal_afterDeadline_reverts() public {
        _commit(id, drawn[0], RESULT_CID);
        uint40 deadline = jury.disputeOf(id).revealDeadline;
        vm.warp(deadline + 1);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_TooLate.selector, deadline));
        jury.reveal(id, RESULT_CID, SALT);
    }

    function test_reveal_notCommitted_reverts() public {
        vm.warp(jury.disputeOf(id).commitDeadline + 1);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotYourTurn.selector, drawn[0]));
        jury.reveal(id, RESULT_CID, SALT);
    }

    function test_reveal_twice_reverts() public {
        _vote(id, drawn, _cids3(RESULT_CID, "", ""));
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NotYourTurn.selector, drawn[0]));
        jury.reveal(id, RESULT_CID, SALT);
    }

    function test_reveal_otherCid_reverts() public {
        _commit(id, drawn[0], RESULT_CID);
        vm.warp(jury.disputeOf(id).commitDeadline + 1);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_CommitmentMismatch.selector));
        jury.reveal(id, OTHER_CID, SALT);
    }

    /// A copied commitment is bound to the juror who made it: the copier cannot open it.
    function test_reveal_copiedCommitment_reverts() public {
        bytes32 c = jury.commitmentOf(id, drawn[0], RESULT_CID, SALT);
        vm.prank(drawn[0]);
        jury.commit(id, c);
        vm.prank(drawn[1]);
        jury.commit(id, c);
        vm.warp(jury.disputeOf(id).commitDeadline + 1);
        vm.prank(drawn[1]);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_CommitmentMismatch.selector));
        jury.reveal(id, RESULT_CID, SALT);
    }

    function test_reveal_badCid_reverts() public {
        bytes memory bad = hex"1220";
        _commit(id, drawn[0], bad);
        vm.warp(jury.disputeOf(id).commitDeadline + 1);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(IJobAgency.JobAgency_InvalidCid.selector));
        jury.reveal(id, bad, SALT);
    }
}

contract JuryArbiter_Settle_Test is JuryTest {
    uint256 internal id;
    IJobAgency.Job internal job;
    address[] internal drawn;
    uint256 internal constant POT = uint256(PAYMENT) + WORKER_BOND + CHALLENGE_BOND;

    function setUp() public override {
        super.setUp();
        (id, job) = _juryDisputed();
        drawn = _openAndDraw(id, job, keccak256("seed"));
    }

    function _total() internal view returns (uint256) {
        return address(agency).balance + address(jury).balance;
    }

    /// Scenario: a dishonest challenger disputes a right result; every juror re-runs the job and sides with the
    /// worker. The challenger loses its bond (to the worker, less the jury's fee) and a dispute on its record.
    function test_settle_dishonestChallenger_losesBond_succeeds() public {
        uint256 total = _total();
        _vote(id, drawn, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        vm.expectEmit(address(jury));
        emit IJuryArbiter.Rewarded(id, drawn[0], FEE / 3 + FEE % 3);
        jury.settle(id, job);
        assertEq(agency.creditOf(worker), POT - FEE);
        assertEq(agency.creditOf(challenger), 0);
        assertEq(agency.reputation(challenger).disputesLost, 1);
        assertEq(agency.creditOf(address(jury)), 0);
        assertEq(agency.jobHash(id), bytes32(0));
        assertEq(jury.creditOf(drawn[0]), FEE / 3 + FEE % 3);
        assertEq(jury.creditOf(drawn[1]), FEE / 3);
        assertEq(jury.creditOf(drawn[2]), FEE / 3);
        for (uint256 i; i < K; ++i) {
            assertEq(jury.verifierOf(drawn[i]).drawnIn, 0);
            assertEq(jury.verifierOf(drawn[i]).stake, STAKE);
        }
        assertEq(uint8(jury.disputeOf(id).phase), uint8(IJuryArbiter.Phase.None));
        assertEq(_total(), total);
        assertEq(address(jury).balance, _juryOwes());
    }

    /// Scenario: two jurors re-run the job and side with the challenger; a third colludes with the worker. The
    /// challenger wins, the colluder loses `SLASH`, the honest two share the fee and the colluder's stake.
    function test_settle_colludingMinority_losesStake_succeeds() public {
        uint256 total = _total();
        _vote(id, drawn, _cids3(OTHER_CID, RESULT_CID, OTHER_CID));
        vm.expectEmit(address(jury));
        emit IJuryArbiter.Slashed(id, drawn[1], SLASH);
        jury.settle(id, job);
        assertEq(agency.creditOf(challenger), POT - FEE);
        assertEq(agency.reputation(worker).disputesLost, 1);
        uint256 pot = FEE + SLASH;
        assertEq(jury.creditOf(drawn[0]), pot / 2 + pot % 2);
        assertEq(jury.creditOf(drawn[2]), pot / 2);
        assertEq(jury.creditOf(drawn[1]), 0);
        assertEq(jury.verifierOf(drawn[1]).stake, STAKE - SLASH);
        // Slashed below the stake: out of the pool, cooling down.
        assertEq(jury.verifierOf(drawn[1]).poolIndex, 0);
        assertEq(jury.poolSize(), POOL - 1);
        assertEq(_total(), total);
        assertEq(address(jury).balance, _juryOwes());
    }

    function test_settle_neitherMajority_refundsPoster_succeeds() public {
        _vote(id, drawn, _cids3(THIRD_CID, THIRD_CID, RESULT_CID));
        jury.settle(id, job);
        assertEq(agency.creditOf(poster), POT - FEE);
        assertEq(agency.reputation(worker).disputesLost, 1);
        assertEq(agency.reputation(challenger).disputesLost, 1);
        assertEq(jury.verifierOf(drawn[2]).stake, STAKE - SLASH);
    }

    function test_settle_noShow_isSlashed_succeeds() public {
        _vote(id, drawn, _cids3(RESULT_CID, RESULT_CID, ""));
        vm.warp(jury.disputeOf(id).revealDeadline + 1);
        jury.settle(id, job);
        assertEq(jury.verifierOf(drawn[2]).stake, STAKE - SLASH);
        uint256 pot = FEE + SLASH;
        assertEq(jury.creditOf(drawn[0]) + jury.creditOf(drawn[1]), pot);
    }

    function test_settle_beforeRevealDeadline_reverts() public {
        _vote(id, drawn, _cids3(RESULT_CID, RESULT_CID, ""));
        uint40 deadline = jury.disputeOf(id).revealDeadline;
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_TooEarly.selector, deadline));
        jury.settle(id, job);
    }

    function test_settle_whileDrawingBeforeAgencyDeadline_reverts() public {
        // Round 1 ends with nobody revealing: a re-draw is scheduled.
        vm.warp(jury.disputeOf(id).revealDeadline + 1);
        jury.settle(id, job);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_TooEarly.selector, job.deadline));
        jury.settle(id, job);
    }

    /// No majority in round 1 → one re-draw; none in round 2 either → abandoned, slashed stakes to the reserve,
    /// and the agency's timeout refunds every party; the reserve goes to the next ruled dispute's majority.
    function test_settle_noQuorumTwice_abandonsThenAgencyRefunds_succeeds() public {
        uint256 total = _total();
        _vote(id, drawn, _cids3(RESULT_CID, OTHER_CID, "")); // 1-1, a no-show
        vm.warp(jury.disputeOf(id).revealDeadline + 1);
        vm.expectEmit(address(jury));
        emit IJuryArbiter.DrawScheduled(id, 2, uint40(block.number + 1));
        jury.settle(id, job);
        assertEq(jury.disputeOf(id).slashed, SLASH);
        address[] memory second = _draw(id, job, keccak256("round 2"));
        _vote(id, second, _cids3(RESULT_CID, OTHER_CID, THIRD_CID)); // 1-1-1
        vm.expectEmit(address(jury));
        emit IJuryArbiter.DisputeAbandoned(id, SLASH);
        jury.settle(id, job);
        assertEq(jury.reserve(), SLASH);
        assertEq(uint8(jury.disputeOf(id).phase), uint8(IJuryArbiter.Phase.Abandoned));
        vm.expectRevert(
            abi.encodeWithSelector(IJuryArbiter.JuryArbiter_WrongPhase.selector, IJuryArbiter.Phase.Abandoned)
        );
        jury.openDispute(id, job);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        assertEq(agency.creditOf(worker), WORKER_BOND);
        assertEq(agency.creditOf(challenger), CHALLENGE_BOND);
        assertEq(agency.creditOf(poster), PAYMENT);
        assertEq(_total(), total);
        assertEq(address(jury).balance, _juryOwes());

        // The next ruled dispute pays the reserve to its majority.
        vm.warp(block.timestamp + 1);
        (uint256 id2, IJobAgency.Job memory job2) = _juryDisputed();
        address[] memory third = _openAndDraw(id2, job2, keccak256("next"));
        _vote(id2, third, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        uint256 before = jury.creditOf(third[0]) + jury.creditOf(third[1]) + jury.creditOf(third[2]);
        jury.settle(id2, job2);
        uint256 paid = jury.creditOf(third[0]) + jury.creditOf(third[1]) + jury.creditOf(third[2]) - before;
        assertEq(paid, FEE + SLASH);
        assertEq(jury.reserve(), 0);
    }

    /// Past the agency's rule-by deadline the jury cannot rule: it abandons, and no juror still inside its
    /// reveal period is blamed.
    function test_settle_afterAgencyDeadline_abandons_succeeds() public {
        _vote(id, drawn, _cids3(RESULT_CID, RESULT_CID, ""));
        vm.warp(job.deadline + 1);
        jury.settle(id, job);
        assertEq(uint8(jury.disputeOf(id).phase), uint8(IJuryArbiter.Phase.Abandoned));
        // The reveal deadline passed long before: the no-show is slashed; the others keep their stake.
        assertEq(jury.verifierOf(drawn[2]).stake, STAKE - SLASH);
        assertEq(jury.verifierOf(drawn[0]).stake, STAKE);
        assertEq(jury.reserve(), SLASH);
        agency.expire(id, job);
    }

    function test_settle_wrongRecord_reverts() public {
        IJobAgency.Job memory forged = _copyJob(job);
        forged.arbiterFee = 0;
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_WrongRecord.selector, id));
        jury.settle(id, forged);
    }
}

contract JuryArbiter_Withdraw_Test is JuryTest {
    function test_withdraw_noCredit_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_NoCredit.selector));
        jury.withdraw();
    }

    function test_withdraw_receiverRejects_keepsCredit_reverts() public {
        _expectWithdrawFails(new Rejecter(jury));
    }

    /// The inner withdraw hits the lock, so the transfer fails and the whole call reverts.
    function test_withdraw_reentry_reverts() public {
        _expectWithdrawFails(new Reenterer(jury));
    }

    /// Gives the verifier contract `r` a credit of its unstaked stake, then checks its withdrawal fails and
    /// leaves the credit.
    function _expectWithdrawFails(Rejecter r) internal {
        vm.deal(address(r), STAKE);
        r.join();
        r.leave();
        vm.warp(block.timestamp + COOLDOWN);
        r.unstake();
        vm.expectRevert(abi.encodeWithSelector(IJuryArbiter.JuryArbiter_TransferFailed.selector));
        r.take();
        assertEq(jury.creditOf(address(r)), STAKE);
    }
}

/// A verifier contract that cannot receive ETH.
contract Rejecter {
    JuryArbiter internal immutable jury;

    constructor(JuryArbiter _jury) {
        jury = _jury;
    }

    function join() external {
        jury.register{value: address(this).balance}();
    }

    function leave() external {
        jury.leave();
    }

    function unstake() external {
        jury.unstake();
    }

    function take() external {
        jury.withdraw();
    }
}

/// A verifier contract that re-enters `withdraw` from its receive hook.
contract Reenterer is Rejecter {
    constructor(JuryArbiter _jury) Rejecter(_jury) {}

    receive() external payable {
        jury.withdraw();
    }
}
