// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {JuryTest} from "./utils/JuryTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {IJuryArbiter} from "src/interfaces/IJuryArbiter.sol";
import {JuryArbiter} from "src/arbiters/JuryArbiter.sol";

/// @notice One round decided by fuzzed jury size, stake, slash, fee, votes and settle time, checked against
///         the rules: who wins, who is slashed, who is paid how much, and that no wei appears or disappears.
contract JuryArbiter_Fuzz_Test is JuryTest {
    struct Case {
        uint256 k;
        uint256 stake;
        uint256 slash;
        uint96 fee;
        uint256 votes; // 2 bits per juror: 0 no-show, 1 worker's CID, 2 challenger's CID, 3 a third CID
        uint256 settleDelay;
        bytes32 seed;
    }

    JuryArbiter internal j;
    uint256 internal id;
    IJobAgency.Job internal job;
    address[] internal drawn;
    uint256[4] internal tally; // votes cast per kind: 0 no-show, 1 worker, 2 challenger, 3 neither

    function testFuzz_settle_oneRound_followsTheRules(Case memory c) public {
        c.k = 1 + 2 * bound(c.k, 0, 4); // 1, 3, 5, 7, 9
        c.stake = bound(c.stake, 1, 10 ether);
        c.slash = bound(c.slash, 0, c.stake);
        c.fee = uint96(bound(c.fee, 0, WORKER_BOND));
        c.settleDelay = bound(c.settleDelay, 0, 2 * REVEAL_PERIOD);
        vm.assume(c.seed != bytes32(0));
        _deploy(c);
        _disputeWithFee(c.fee);
        uint256 total = address(agency).balance + address(j).balance;
        drawn = _openAndDraw(id, job, c.seed);
        _castVotes(c);
        uint256 revealDeadline = j.disputeOf(id).revealDeadline;
        vm.warp(revealDeadline + c.settleDelay);
        if (block.timestamp <= revealDeadline && tally[0] != 0) {
            vm.expectRevert(
                abi.encodeWithSelector(IJuryArbiter.JuryArbiter_TooEarly.selector, revealDeadline)
            );
            j.settle(id, job);
            return;
        }
        j.settle(id, job);
        _checkRound(c, block.timestamp > revealDeadline);
        assertEq(address(agency).balance + address(j).balance, total, "ETH conserved");
    }

    function _deploy(Case memory c) internal {
        j = new JuryArbiter(agency, c.k, c.stake, c.slash, 0, COOLDOWN, COMMIT_PERIOD, REVEAL_PERIOD);
        for (uint256 i; i < c.k + 2; ++i) {
            address v = makeAddr(string.concat("fuzzVerifier", vm.toString(i)));
            vm.deal(v, c.stake);
            vm.prank(v);
            j.register{value: c.stake}();
        }
        jury = j; // so that the JuryTest helpers act on this jury
    }

    function _disputeWithFee(uint96 fee) internal {
        IJobAgency.JobSpec memory spec = _jurySpec();
        spec.arbiterFee = fee;
        IJobAgency.Job memory record;
        (id, record) = _post(spec);
        record = _claim(id, record, worker);
        record = _submit(id, record, RESULT_CID);
        record = _challenge(id, record, challenger, OTHER_CID);
        job = _reveal(id, record, OTHER_CID);
    }

    function _castVotes(Case memory c) internal {
        bytes[] memory cids = new bytes[](c.k);
        for (uint256 i; i < c.k; ++i) {
            uint256 vote = (c.votes >> (2 * i)) & 3;
            ++tally[vote];
            cids[i] = vote == 0 ? bytes("") : vote == 1 ? RESULT_CID : vote == 2 ? OTHER_CID : THIRD_CID;
        }
        _vote(id, drawn, cids);
    }

    function _checkRound(Case memory c, bool revealOver) internal view {
        uint256 winner;
        for (uint256 v = 1; v <= 3; ++v) {
            if (tally[v] >= c.k / 2 + 1) winner = v;
        }
        uint256 slashedTotal;
        uint256 paidTotal;
        for (uint256 i; i < c.k; ++i) {
            uint256 vote = (c.votes >> (2 * i)) & 3;
            IJuryArbiter.Verifier memory info = j.verifierOf(drawn[i]);
            assertEq(info.drawnIn, 0);
            bool atFault = (vote == 0 && revealOver) || (vote != 0 && winner != 0 && vote != winner);
            assertEq(info.stake, atFault ? c.stake - c.slash : c.stake, "stake after the round");
            if (atFault) slashedTotal += c.slash;
            paidTotal += j.creditOf(drawn[i]);
            if (winner == 0 || vote != winner) {
                assertEq(j.creditOf(drawn[i]), 0, "only the majority is paid");
            }
        }
        if (winner != 0) {
            assertEq(paidTotal, uint256(c.fee) + slashedTotal, "the majority shares fee and slashes");
            assertEq(agency.jobHash(id), bytes32(0));
            address paid = winner == 1 ? worker : winner == 2 ? challenger : poster;
            assertEq(agency.creditOf(paid), uint256(PAYMENT) + WORKER_BOND + CHALLENGE_BOND - c.fee);
        } else {
            assertEq(paidTotal, 0);
            assertEq(j.disputeOf(id).round, 2, "no majority: a re-draw");
            assertEq(j.disputeOf(id).slashed, slashedTotal);
        }
    }
}
