// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {JuryTest} from "./utils/JuryTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";

/// @notice Gas of each jury step as a real transaction (receipt gas, 21k base included), k = 3. Run with
///         `forge test --isolate`; the figures go to snapshots/JuryArbiter_Gas_Test.json and the README.
contract JuryArbiter_Gas_Test is JuryTest {
    /// The gas price the README and docs/INCENTIVES.md use to turn gas into wei.
    uint256 internal constant GAS_PRICE = 20 gwei;

    function test_gas_register() public {
        vm.prank(stranger);
        jury.register{value: STAKE}();
        vm.snapshotGasLastCall("jury: register");
    }

    function test_gas_leaveAndUnstake() public {
        address v = verifiers[0];
        vm.prank(v);
        jury.leave();
        vm.snapshotGasLastCall("jury: leave");
        vm.warp(block.timestamp + COOLDOWN);
        vm.prank(v);
        jury.unstake();
        vm.snapshotGasLastCall("jury: unstake");
        vm.prank(v);
        jury.withdraw();
        vm.snapshotGasLastCall("jury: withdraw");
    }

    /// A whole dispute decided by the jury: the honest challenger (the one whose result the jurors also get)
    /// challenges, reveals, opens the dispute, draws and settles: every permissionless step, in the worst case
    /// that nobody else pays for any. What it costs, at `GAS_PRICE`, stays below what winning pays it.
    /// (docs/INCENTIVES.md also compares it with the bond alone.)
    function test_gas_dispute() public {
        (uint256 id, IJobAgency.Job memory job) = _post(_jurySpec());
        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        uint256 honest = vm.snapshotGasLastCall("jury job: challenge");
        job = _reveal(id, job, OTHER_CID);
        honest += vm.snapshotGasLastCall("jury job: reveal");

        vm.prank(challenger);
        jury.openDispute(id, job);
        honest += vm.snapshotGasLastCall("jury: openDispute");
        uint256 drawBlock = jury.disputeOf(id).drawBlock;
        vm.roll(drawBlock + 1);
        vm.setBlockhash(drawBlock, keccak256("seed"));
        vm.prank(challenger);
        jury.draw(id, job);
        honest += vm.snapshotGasLastCall("jury: draw (k = 3)");
        address[] memory drawn = jury.jurorsOf(id);

        bytes32 commitment = jury.commitmentOf(id, drawn[0], OTHER_CID, SALT);
        vm.prank(drawn[0]);
        jury.commit(id, commitment);
        vm.snapshotGasLastCall("jury: commit");
        _commit(id, drawn[1], OTHER_CID);
        _commit(id, drawn[2], RESULT_CID); // a juror colluding with the worker
        vm.warp(jury.disputeOf(id).commitDeadline + 1);
        vm.prank(drawn[0]);
        jury.reveal(id, OTHER_CID, SALT);
        vm.snapshotGasLastCall("jury: reveal");
        _revealVote(id, drawn[1], OTHER_CID);
        _revealVote(id, drawn[2], RESULT_CID);

        vm.prank(challenger);
        jury.settle(id, job);
        honest += vm.snapshotGasLastCall("jury: settle (ruling, 2 paid, 1 slashed)");
        vm.snapshotValue("jury dispute: honest side's gas, every step", honest);

        // Winning pays the challenger the job's payment (its result is the one accepted) and the worker's bond
        // less the jury's fee, on top of its own bond back.
        uint256 gain = uint256(PAYMENT) + WORKER_BOND - FEE;
        uint256 cost = honest * GAS_PRICE;
        assertLt(cost, gain, "winning a dispute must pay for its gas");
        assertEq(agency.creditOf(challenger), uint256(PAYMENT) + WORKER_BOND + CHALLENGE_BOND - FEE);

        vm.prank(drawn[0]);
        jury.withdraw();
        vm.snapshotGasLastCall("jury: withdraw (reward)");
    }

    /// A unanimous jury: three jurors paid, nobody slashed.
    function test_gas_settleUnanimous() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        address[] memory drawn = _openAndDraw(id, job, keccak256("seed"));
        _vote(id, drawn, _cids3(RESULT_CID, RESULT_CID, RESULT_CID));
        jury.settle(id, job);
        vm.snapshotGasLastCall("jury: settle (ruling, 3 paid)");
    }

    function test_gas_settleNoQuorum() public {
        (uint256 id, IJobAgency.Job memory job) = _juryDisputed();
        address[] memory drawn = _openAndDraw(id, job, keccak256("seed"));
        _vote(id, drawn, _cids3(RESULT_CID, OTHER_CID, ""));
        vm.warp(jury.disputeOf(id).revealDeadline + 1);
        jury.settle(id, job);
        vm.snapshotGasLastCall("jury: settle (no majority, re-draw)");
    }
}
