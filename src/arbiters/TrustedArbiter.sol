// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IArbiter} from "../interfaces/IArbiter.sol";
import {IJobAgency} from "../interfaces/IJobAgency.sol";

/// @title TrustedArbiter
/// @notice An arbiter whose owner (an EOA or a multisig) rules on disputes, for small deployments and
///         tests. Workers and challengers who accept a job naming it trust the owner with their bonds.
/// @dev Ownership moves in two steps so that a typo cannot hand it to nobody.
contract TrustedArbiter is IArbiter {
    /// @notice The address that rules.
    address public owner;

    /// @notice The address `owner` offered ownership to, until it accepts.
    address public pendingOwner;

    /// @notice Ownership was offered to `pendingOwner`.
    event OwnershipOffered(address indexed owner, address indexed pendingOwner);

    /// @notice Ownership moved from `previousOwner` to `newOwner`.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The caller is not the owner (or, for `acceptOwnership`, not the pending owner).
    error TrustedArbiter_Unauthorized(address caller);

    /// @notice The owner is the zero address.
    error TrustedArbiter_ZeroOwner();

    /// @param _owner The first owner; it cannot be zero.
    constructor(address _owner) {
        if (_owner == address(0)) revert TrustedArbiter_ZeroOwner();
        owner = _owner;
        emit OwnershipTransferred(address(0), _owner);
    }

    /// @inheritdoc IArbiter
    function kind() external pure returns (string memory) {
        return "trusted";
    }

    /// @notice Rules on a Disputed job of `_agency` that names this arbiter. Only the owner.
    /// @param _job The job's current record (see `IJobAgency.Job`).
    function rule(IJobAgency _agency, uint256 _jobId, IJobAgency.Job calldata _job, IJobAgency.Ruling _ruling)
        external
    {
        if (msg.sender != owner) revert TrustedArbiter_Unauthorized(msg.sender);
        emit Ruled(_agency, _jobId, _ruling);
        _agency.resolve(_jobId, _job, _ruling);
    }

    /// @notice Offers ownership to `_pendingOwner`, who must accept. Only the owner; zero cancels an offer.
    function transferOwnership(address _pendingOwner) external {
        if (msg.sender != owner) revert TrustedArbiter_Unauthorized(msg.sender);
        pendingOwner = _pendingOwner;
        emit OwnershipOffered(owner, _pendingOwner);
    }

    /// @notice The pending owner takes ownership.
    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert TrustedArbiter_Unauthorized(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }
}
