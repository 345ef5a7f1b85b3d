// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AgencyTest} from "./utils/AgencyTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {IArbiter} from "src/interfaces/IArbiter.sol";
import {TrustedArbiter} from "src/arbiters/TrustedArbiter.sol";

contract TrustedArbiter_Test is AgencyTest {
    event Ruled(IJobAgency indexed agency, uint256 indexed jobId, IJobAgency.Ruling ruling);

    function test_constructor_zeroOwner_reverts() public {
        vm.expectRevert(TrustedArbiter.TrustedArbiter_ZeroOwner.selector);
        new TrustedArbiter(address(0));
    }

    function test_kind_isTrusted_succeeds() public view {
        assertEq(IArbiter(address(arbiter)).kind(), "trusted");
    }

    function test_rule_ownerRules_succeeds() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        vm.expectEmit(address(arbiter));
        emit Ruled(agency, id, IJobAgency.Ruling.WorkerRight);
        _rule(id, job, IJobAgency.Ruling.WorkerRight);
        assertEq(agency.jobHash(id), bytes32(0));
    }

    function test_rule_notOwner_reverts() public {
        (uint256 id, IJobAgency.Job memory job) = _disputed();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(TrustedArbiter.TrustedArbiter_Unauthorized.selector, stranger));
        arbiter.rule(agency, id, job, IJobAgency.Ruling.WorkerRight);
    }

    function test_transferOwnership_twoSteps_succeeds() public {
        vm.prank(arbiterOwner);
        arbiter.transferOwnership(stranger);
        assertEq(arbiter.owner(), arbiterOwner, "nothing moves before acceptance");
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(TrustedArbiter.TrustedArbiter_Unauthorized.selector, worker));
        arbiter.acceptOwnership();
        vm.prank(stranger);
        arbiter.acceptOwnership();
        assertEq(arbiter.owner(), stranger);
        assertEq(arbiter.pendingOwner(), address(0));

        (uint256 id, IJobAgency.Job memory job) = _disputed();
        vm.prank(arbiterOwner);
        vm.expectRevert(abi.encodeWithSelector(TrustedArbiter.TrustedArbiter_Unauthorized.selector, arbiterOwner));
        arbiter.rule(agency, id, job, IJobAgency.Ruling.WorkerRight);
        vm.prank(stranger);
        arbiter.rule(agency, id, job, IJobAgency.Ruling.WorkerRight);
    }

    function test_transferOwnership_notOwner_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(TrustedArbiter.TrustedArbiter_Unauthorized.selector, stranger));
        arbiter.transferOwnership(stranger);
    }
}
