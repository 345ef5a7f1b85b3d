// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console2} from "forge-std/Script.sol";
import {VmSafe} from "forge-std/Vm.sol";
import {JobAgency} from "src/JobAgency.sol";
import {TrustedArbiter} from "src/arbiters/TrustedArbiter.sol";

/// @notice Deploys JobAgency and a TrustedArbiter, checks them, and writes `deployments/<chainId>.json`
///         for the agent.
/// @dev forge script script/Deploy.s.sol --rpc-url $RPC_URL --private-key $KEY --broadcast
///      Environment: ARBITER_OWNER (optional; default: the deployer) owns the TrustedArbiter.
contract Deploy is Script {
    /// @notice Thrown when a deployed contract is not in the state the script meant to create.
    error Deploy_Unexpected(string what);

    function run() external returns (JobAgency agency_, TrustedArbiter arbiter_) {
        uint256 deployBlock = block.number;
        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();
        address owner = vm.envOr("ARBITER_OWNER", deployer);
        agency_ = new JobAgency();
        arbiter_ = new TrustedArbiter(owner);
        vm.stopBroadcast();

        // Assert the deployed state before anyone relies on it.
        if (address(agency_).code.length == 0) revert Deploy_Unexpected("JobAgency has no code");
        if (arbiter_.owner() != owner) revert Deploy_Unexpected("TrustedArbiter owner");
        if (arbiter_.pendingOwner() != address(0)) revert Deploy_Unexpected("TrustedArbiter pending owner");
        if (keccak256(bytes(arbiter_.kind())) != keccak256("trusted")) revert Deploy_Unexpected("arbiter kind");
        if (address(agency_).balance != 0) revert Deploy_Unexpected("JobAgency balance");

        string memory key = "deployment";
        vm.serializeUint(key, "chainId", block.chainid);
        vm.serializeAddress(key, "jobAgency", address(agency_));
        vm.serializeAddress(key, "trustedArbiter", address(arbiter_));
        vm.serializeAddress(key, "arbiterOwner", owner);
        string memory json = vm.serializeUint(key, "deployBlock", deployBlock);
        string memory path = string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json");
        if (vm.isContext(VmSafe.ForgeContext.ScriptBroadcast) || vm.isContext(VmSafe.ForgeContext.ScriptResume)) {
            vm.createDir(string.concat(vm.projectRoot(), "/deployments"), true);
            vm.writeJson(json, path);
        }
        console2.log("JobAgency      ", address(agency_));
        console2.log("TrustedArbiter ", address(arbiter_));
        console2.log("arbiter owner  ", owner);
        console2.log("written        ", path);
    }
}
