// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AgencyTest} from "./AgencyTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {IJuryArbiter} from "src/interfaces/IJuryArbiter.sol";
import {JuryArbiter} from "src/arbiters/JuryArbiter.sol";

/// @notice Shared set-up for the jury: a real agency and a real `JuryArbiter` (k = 3 unless a test deploys
///         another), a pool of registered verifiers, and helpers that drive a dispute the way clients do.
abstract contract JuryTest is AgencyTest {
    JuryArbiter internal jury;

    uint256 internal constant K = 3;
    uint256 internal constant STAKE = 0.1 ether;
    uint256 internal constant SLASH = 0.05 ether;
    uint96 internal constant FEE = 0.01 ether;
    uint256 internal constant COOLDOWN = 7 days;
    uint256 internal constant COMMIT_PERIOD = 6 hours;
    uint256 internal constant REVEAL_PERIOD = 6 hours;
    uint256 internal constant POOL = 6;
    /// A third result, neither the worker's nor the challenger's.
    bytes internal constant THIRD_CID = hex"01551220" hex"1111111111111111111111111111111111111111111111111111111111111111";

    address[] internal verifiers;

    function setUp() public virtual override {
        super.setUp();
        jury = _deployJury(K);
        for (uint256 i; i < POOL; ++i) {
            address v = makeAddr(string.concat("verifier", vm.toString(i)));
            vm.deal(v, 10 ether);
            verifiers.push(v);
            vm.prank(v);
            jury.register{value: STAKE}();
        }
    }

    function _deployJury(uint256 k) internal returns (JuryArbiter) {
        return new JuryArbiter(agency, k, STAKE, SLASH, FEE, COOLDOWN, COMMIT_PERIOD, REVEAL_PERIOD);
    }

    /// A spec that names the jury and pays it `FEE`.
    function _jurySpec() internal view returns (IJobAgency.JobSpec memory spec) {
        spec = _spec();
        spec.arbiter = address(jury);
        spec.arbiterFee = FEE;
    }

    /// Disputed: the worker submitted `RESULT_CID`, the challenger revealed `OTHER_CID`, the jury is the arbiter.
    function _juryDisputed() internal returns (uint256 id, IJobAgency.Job memory job) {
        (id, job) = _post(_jurySpec());
        job = _claim(id, job, worker);
        job = _submit(id, job, RESULT_CID);
        job = _challenge(id, job, challenger, OTHER_CID);
        job = _reveal(id, job, OTHER_CID);
    }

    /// Opens the dispute and draws round 1 from `seed`, returning the jurors.
    function _openAndDraw(uint256 id, IJobAgency.Job memory job, bytes32 seed) internal returns (address[] memory) {
        jury.openDispute(id, job);
        return _draw(id, job, seed);
    }

    /// Draws the current round: the draw block gets hash `seed` (non-zero: a zero hash means "aged out") and
    /// the chain moves one block past it.
    function _draw(uint256 id, IJobAgency.Job memory job, bytes32 seed) internal returns (address[] memory) {
        uint256 drawBlock = jury.disputeOf(id).drawBlock;
        vm.roll(drawBlock + 1);
        vm.setBlockhash(drawBlock, seed);
        jury.draw(id, job);
        return jury.jurorsOf(id);
    }

    function _commit(uint256 id, address juror, bytes memory cid) internal {
        bytes32 commitment = jury.commitmentOf(id, juror, cid, SALT);
        vm.prank(juror);
        jury.commit(id, commitment);
    }

    function _revealVote(uint256 id, address juror, bytes memory cid) internal {
        vm.prank(juror);
        jury.reveal(id, cid, SALT);
    }

    /// Every juror commits the CID at its index (an empty CID: the juror never shows up), the commit phase
    /// ends, and those who committed reveal.
    function _vote(uint256 id, address[] memory jurors, bytes[] memory cids) internal {
        for (uint256 i; i < jurors.length; ++i) {
            if (cids[i].length != 0) _commit(id, jurors[i], cids[i]);
        }
        vm.warp(jury.disputeOf(id).commitDeadline + 1);
        for (uint256 i; i < jurors.length; ++i) {
            if (cids[i].length != 0) _revealVote(id, jurors[i], cids[i]);
        }
    }

    function _cids3(bytes memory a, bytes memory b, bytes memory c) internal pure returns (bytes[] memory cids) {
        cids = new bytes[](3);
        cids[0] = a;
        cids[1] = b;
        cids[2] = c;
    }

    /// Σ stakes of `verifiers` + Σ credits + reserve: what the jury must hold.
    function _juryOwes() internal view returns (uint256 owed) {
        for (uint256 i; i < verifiers.length; ++i) {
            owed += jury.verifierOf(verifiers[i]).stake + jury.creditOf(verifiers[i]);
        }
        owed += jury.reserve();
    }
}
