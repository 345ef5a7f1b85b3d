// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IJobAgency} from "./IJobAgency.sol";

/// @title IArbiter
/// @notice What the arbiters this project ships have in common. A poster names an arbiter per job; the
///         agency accepts `resolve` for a Disputed job only from that address and never calls an arbiter,
///         so a broken or hostile arbiter can at worst fail to rule, and then the dispute times out and
///         everyone is refunded (`IJobAgency.expire`).
/// @dev Implemented by `TrustedArbiter` (an owner decides) and, later, by a jury of staked verifiers.
interface IArbiter {
    /// @notice The arbiter ruled `ruling` on `jobId` of `agency`.
    event Ruled(IJobAgency indexed agency, uint256 indexed jobId, IJobAgency.Ruling ruling);

    /// @notice A short name of the arbitration rule, for clients choosing which arbiters to accept
    ///         (for example `"trusted"`, `"jury"`).
    function kind() external view returns (string memory);
}
