// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {console} from "forge-std/console.sol";
import {JobAgency} from "src/JobAgency.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {IJuryArbiter} from "src/interfaces/IJuryArbiter.sol";
import {JuryArbiter} from "src/arbiters/JuryArbiter.sol";
import {JuryHandler} from "./handlers/JuryHandler.sol";

/// @notice Invariants of the agency and the jury together, disputes and random audits, driven by `JuryHandler`.
///         The agency audits half the jobs that carry an audit fee, so that audits are frequent here.
/// forge-config: default.invariant.runs = 24
/// forge-config: default.invariant.depth = 60
/// forge-config: ci.invariant.runs = 96
/// forge-config: ci.invariant.depth = 80
contract JuryArbiter_Invariant_Test is Test {
    JobAgency internal agency;
    JuryArbiter internal jury;
    JuryHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(1000);
        agency = new JobAgency(5000, 0.001 ether);
        jury = new JuryArbiter(agency, 3, 0.1 ether, 0.05 ether, 0.01 ether, 1 days, 6 hours, 6 hours);
        handler = new JuryHandler(agency, jury);
        targetContract(address(handler));
        // Commits and reveals twice as often as the rest (k of each per round); register and unstake once.
        bytes4[] memory selectors = new bytes4[](15);
        selectors[0] = JuryHandler.newDispute.selector;
        selectors[1] = JuryHandler.openDispute.selector;
        selectors[2] = JuryHandler.draw.selector;
        selectors[3] = JuryHandler.commit.selector;
        selectors[4] = JuryHandler.commit.selector;
        selectors[5] = JuryHandler.reveal.selector;
        selectors[6] = JuryHandler.reveal.selector;
        selectors[7] = JuryHandler.settle.selector;
        selectors[8] = JuryHandler.expire.selector;
        selectors[9] = JuryHandler.warp.selector;
        selectors[10] = JuryHandler.withdraw.selector;
        selectors[11] = JuryHandler.leave.selector;
        selectors[12] = JuryHandler.register.selector;
        selectors[13] = JuryHandler.unstake.selector;
        selectors[14] = JuryHandler.finalizeUnaudited.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @custom:invariant ETH is conserved across both contracts: their balances together are exactly what was
    ///                   sent in (payments, bonds, stakes) less what was withdrawn.
    function invariant_ethConservedAcrossBoth() public view {
        assertEq(address(agency).balance + address(jury).balance, handler.ghostIn() - handler.ghostOut());
    }

    /// @custom:invariant The jury holds exactly Σ stakes + Σ credits + reserve + audit pool + the slashed stakes
    ///                   waiting in disputes between rounds, and the agency exactly the live jobs' payments, audit
    ///                   fees and bonds + Σ credits (the jury's: audit fees booked since its last ruling).
    function invariant_eachContractSolvent() public view {
        address[] memory actors = handler.actors();
        uint256 juryOwes = jury.reserve() + jury.auditPool();
        uint256 agencyOwes = agency.creditOf(address(jury));
        for (uint256 i; i < actors.length; ++i) {
            juryOwes += jury.verifierOf(actors[i]).stake + jury.creditOf(actors[i]);
            agencyOwes += agency.creditOf(actors[i]);
        }
        uint256 live = handler.liveCount();
        for (uint256 i; i < live; ++i) {
            IJobAgency.Job memory job = handler.record(handler.liveJobs(i));
            agencyOwes += uint256(job.payment) + job.auditFee + job.workerBond;
            if (job.status == IJobAgency.Status.Disputed) agencyOwes += job.challengeBond;
            juryOwes += jury.disputeOf(handler.liveJobs(i)).slashed;
        }
        assertEq(address(jury).balance, juryOwes, "jury balance");
        assertEq(address(agency).balance, agencyOwes, "agency balance");
    }

    /// @custom:invariant Every audit fee the agency credited the jury is still there or went into the audit pool,
    ///                   and every wei that went into the pool is still in it or was paid to an audit's majority.
    function invariant_auditFeesAccounted() public view {
        assertEq(
            handler.ghostAuditFeesBooked(),
            handler.ghostPoolIn() + agency.creditOf(address(jury)),
            "booked = collected + waiting at the agency"
        );
        assertEq(handler.ghostPoolIn(), handler.ghostPoolPaid() + jury.auditPool(), "pool in = paid + pool");
    }

    /// @custom:invariant Every staked wei is still staked, unstaked, or slashed; and every slashed wei and every
    ///                   collected fee was paid to a majority juror, sits in the reserve, or waits in a live
    ///                   dispute's `slashed` for its majority.
    function invariant_everySlashedWeiAccounted() public view {
        address[] memory actors = handler.actors();
        uint256 staked;
        for (uint256 i; i < actors.length; ++i) {
            staked += jury.verifierOf(actors[i]).stake;
        }
        assertEq(handler.ghostStaked(), staked + handler.ghostUnstaked() + handler.ghostSlashed(), "stakes");
        uint256 pending;
        uint256 live = handler.liveCount();
        for (uint256 i; i < live; ++i) {
            pending += jury.disputeOf(handler.liveJobs(i)).slashed;
        }
        assertEq(
            handler.ghostSlashed() + handler.ghostFees() + handler.ghostPoolPaid(),
            handler.ghostRewards() + jury.reserve() + pending,
            "slashed, fees and audit pay"
        );
    }

    /// @custom:invariant No juror or auditor is rewarded twice for one dispute or audit, and no call the rules
    ///                   allow was refused.
    function invariant_noDoublePayNoUnexpectedRevert() public view {
        assertEq(handler.ghostDoublePaid(), 0, "a juror was paid twice");
        assertEq(handler.ghostUnexpectedReverts(), 0, "an allowed call reverted");
    }

    /// @custom:invariant Every dispute and every audit ends: past every deadline, the permissionless exits close
    ///                   every job and release every juror, and the accounts above still balance.
    function afterInvariant() public {
        handler.drain();
        assertEq(handler.liveCount(), 0, "a job is still live");
        address[] memory actors = handler.actors();
        for (uint256 i; i < actors.length; ++i) {
            assertEq(jury.verifierOf(actors[i]).drawnIn, 0, "a juror is still drawn");
        }
        invariant_ethConservedAcrossBoth();
        invariant_eachContractSolvent();
        invariant_everySlashedWeiAccounted();
        invariant_auditFeesAccounted();
        invariant_noDoublePayNoUnexpectedRevert();
    }

    /// A summary of what the handler did, printed with -vv.
    function invariant_callSummary() public view {
        (string[] memory names, uint256[] memory counts) = handler.callSummary();
        for (uint256 i; i < names.length; ++i) {
            console.log(names[i], counts[i]);
        }
        console.log("rulings", handler.ghostRulings(), "abandoned", handler.ghostAbandoned());
        console.log("audits", handler.ghostAudits(), "unaudited", handler.ghostUnaudited());
    }
}
