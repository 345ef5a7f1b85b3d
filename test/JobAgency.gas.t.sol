// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AgencyTest} from "./utils/AgencyTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";

/// @notice Gas of each operation as a real transaction (receipt gas, 21k base included; checked equal to an
///         anvil receipt). Run with `forge test --isolate`; the figures go to snapshots/JobAgency_Gas_Test.json.
contract JobAgency_Gas_Test is AgencyTest {
    function setUp() public override {
        super.setUp();
        // A previous job, so that the worker's credit and reputation words exist (steady state) and the
        // job counter is not fresh.
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        vm.warp(job.deadline + 1);
        agency.finalize(id, job);
    }

    function test_gas_happyPath() public {
        IJobAgency.JobSpec memory spec = _spec();
        vm.prank(poster);
        uint256 id = agency.post{value: spec.payment}(spec);
        uint256 total = vm.snapshotGasLastCall("post");
        IJobAgency.Job memory job = _recordOf(spec, poster);

        job = _claim(id, job, worker);
        total += vm.snapshotGasLastCall("claim");

        job = _submit(id, job, RESULT_CID);
        total += vm.snapshotGasLastCall("submit");

        vm.warp(job.deadline + 1);
        vm.prank(stranger);
        agency.finalize(id, job);
        total += vm.snapshotGasLastCall("finalize");
        vm.snapshotValue("job: post + claim + submit + finalize", total);

        vm.prank(worker);
        agency.withdraw();
        vm.snapshotGasLastCall("withdraw (account with reputation)");
    }

    /// A poster's refund: its word holds only credit, so withdrawing clears it and earns the refund.
    function test_gas_withdrawCreditOnly() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.prank(poster);
        agency.cancel(id, job);
        vm.prank(poster);
        agency.withdraw();
        vm.snapshotGasLastCall("withdraw (credit only)");
    }

    function test_gas_expireUnclaimed() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.warp(job.claimDeadline + 1);
        agency.expire(id, job);
        vm.snapshotGasLastCall("expire (nobody claimed)");
    }

    function test_gas_firstCredit() public {
        address fresh = makeAddr("freshWorker");
        vm.deal(fresh, 1 ether);
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, fresh);
        job = _submit(id, job, RESULT_CID);
        vm.warp(job.deadline + 1);
        agency.finalize(id, job);
        vm.snapshotGasLastCall("finalize (worker's first credit)");
    }

    function test_gas_cancel() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        vm.prank(poster);
        agency.cancel(id, job);
        vm.snapshotGasLastCall("cancel");
    }

    function test_gas_dispute() public {
        (uint256 id, IJobAgency.Job memory job) = _submitted();
        job = _challenge(id, job, challenger, OTHER_CID);
        vm.snapshotGasLastCall("challenge");
        job = _reveal(id, job, OTHER_CID);
        vm.snapshotGasLastCall("reveal");
        _rule(id, job, IJobAgency.Ruling.ChallengerRight);
        vm.snapshotGasLastCall("resolve (TrustedArbiter.rule)");
    }

    function test_gas_expire() public {
        (uint256 id, IJobAgency.Job memory job) = _post();
        job = _claim(id, job, worker);
        vm.warp(job.deadline + 1);
        agency.expire(id, job);
        vm.snapshotGasLastCall("expire (missed deadline, reopen)");
    }
}
