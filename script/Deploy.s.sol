// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console2} from "forge-std/Script.sol";
import {VmSafe} from "forge-std/Vm.sol";
import {JobAgency} from "src/JobAgency.sol";
import {TrustedArbiter} from "src/arbiters/TrustedArbiter.sol";
import {JuryArbiter} from "src/arbiters/JuryArbiter.sol";

/// @notice Deploys JobAgency, a TrustedArbiter and a JuryArbiter, checks them, and writes
///         `deployments/<chainId>.json` for the agent.
/// @dev forge script script/Deploy.s.sol --rpc-url $RPC_URL --private-key $KEY --broadcast
///      Environment (all optional):
///      - ARBITER_OWNER: owns the TrustedArbiter (default: the deployer).
///      - AUDIT_RATE: probability that a job with an audit fee is audited, in basis points (default 500 = 5%).
///      - MIN_AUDIT_FEE: the least audit fee a job must carry (default 0: posters opt in to audits per job; a
///        deployment that wants every job auditable sets it, docs/INCENTIVES.md suggests 0.001 ether at 20 gwei).
///      - JURY_SIZE: jurors per dispute round, odd (default 3).
///      - JURY_STAKE: wei a verifier stakes (default 0.1 ether).
///      - JURY_SLASH: wei a no-show or minority juror loses (default 0.05 ether).
///      - JURY_MIN_FEE: the least `arbiterFee` a job needs for the jury to take its dispute (default 0.01 ether).
///      - JURY_COOLDOWN: seconds between leaving and unstaking (default 7 days).
///      - JURY_COMMIT_PERIOD, JURY_REVEAL_PERIOD: seconds of each voting phase (default 6 hours each; a job's
///        `disputeWindow` should cover two rounds of both plus the draws).
///      docs/INCENTIVES.md explains the defaults.
contract Deploy is Script {
    /// @notice Thrown when a deployed contract is not in the state the script meant to create.
    error Deploy_Unexpected(string what);

    function run() external returns (JobAgency agency_, TrustedArbiter arbiter_, JuryArbiter jury_) {
        uint256 deployBlock = block.number;
        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();
        address owner = vm.envOr("ARBITER_OWNER", deployer);
        agency_ = new JobAgency(vm.envOr("AUDIT_RATE", uint256(500)), vm.envOr("MIN_AUDIT_FEE", uint256(0)));
        arbiter_ = new TrustedArbiter(owner);
        jury_ = new JuryArbiter(
            agency_,
            vm.envOr("JURY_SIZE", uint256(3)),
            vm.envOr("JURY_STAKE", uint256(0.1 ether)),
            vm.envOr("JURY_SLASH", uint256(0.05 ether)),
            vm.envOr("JURY_MIN_FEE", uint256(0.01 ether)),
            vm.envOr("JURY_COOLDOWN", uint256(7 days)),
            vm.envOr("JURY_COMMIT_PERIOD", uint256(6 hours)),
            vm.envOr("JURY_REVEAL_PERIOD", uint256(6 hours))
        );
        vm.stopBroadcast();

        // Assert the deployed state before anyone relies on it.
        if (address(agency_).code.length == 0) revert Deploy_Unexpected("JobAgency has no code");
        if (arbiter_.owner() != owner) revert Deploy_Unexpected("TrustedArbiter owner");
        if (arbiter_.pendingOwner() != address(0)) revert Deploy_Unexpected("TrustedArbiter pending owner");
        if (keccak256(bytes(arbiter_.kind())) != keccak256("trusted")) {
            revert Deploy_Unexpected("arbiter kind");
        }
        if (address(agency_).balance != 0) revert Deploy_Unexpected("JobAgency balance");
        if (jury_.agency() != agency_) revert Deploy_Unexpected("JuryArbiter agency");
        if (keccak256(bytes(jury_.kind())) != keccak256("jury")) revert Deploy_Unexpected("jury kind");
        if (jury_.poolSize() != 0) revert Deploy_Unexpected("JuryArbiter pool");

        string memory key = "deployment";
        vm.serializeUint(key, "chainId", block.chainid);
        vm.serializeAddress(key, "jobAgency", address(agency_));
        vm.serializeAddress(key, "trustedArbiter", address(arbiter_));
        vm.serializeAddress(key, "arbiterOwner", owner);
        vm.serializeAddress(key, "juryArbiter", address(jury_));
        vm.serializeUint(key, "auditRate", agency_.auditRate());
        vm.serializeUint(key, "minAuditFee", agency_.minAuditFee());
        string memory json = vm.serializeUint(key, "deployBlock", deployBlock);
        string memory path =
            string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json");
        if (
            vm.isContext(VmSafe.ForgeContext.ScriptBroadcast)
                || vm.isContext(VmSafe.ForgeContext.ScriptResume)
        ) {
            vm.createDir(string.concat(vm.projectRoot(), "/deployments"), true);
            vm.writeJson(json, path);
        }
        console2.log("JobAgency      ", address(agency_));
        console2.log("TrustedArbiter ", address(arbiter_));
        console2.log("arbiter owner  ", owner);
        console2.log("JuryArbiter    ", address(jury_));
        console2.log("written        ", path);
    }
}
