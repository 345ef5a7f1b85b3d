// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IJobAgency} from "src/interfaces/IJobAgency.sol";

/// @notice The Open record a client rebuilds from `JobPosted(jobId, poster, spec)`, where `specHash` is
///         `hashSpec(spec)` (the keccak256 of the event's data).
function openRecord(IJobAgency.JobSpec memory spec, address poster, bytes32 specHash)
    pure
    returns (IJobAgency.Job memory)
{
    return IJobAgency.Job({
        specHash: specHash,
        poster: poster,
        payment: spec.payment,
        workerBond: spec.workerBond,
        challengeBond: spec.challengeBond,
        arbiterFee: spec.arbiterFee,
        auditFee: spec.auditFee,
        claimDeadline: spec.claimDeadline,
        executionTime: spec.executionTime,
        challengeWindow: spec.challengeWindow,
        disputeWindow: spec.disputeWindow,
        minReputation: spec.minReputation,
        arbiter: spec.arbiter,
        status: IJobAgency.Status.Open,
        worker: address(0),
        deadline: spec.claimDeadline,
        auditBlock: 0,
        result: bytes32(0),
        challenger: address(0),
        challenge: bytes32(0)
    });
}
