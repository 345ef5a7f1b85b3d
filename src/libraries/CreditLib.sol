// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title CreditLib
/// @notice The one way this project's contracts send a withdrawn credit: under a transient reentrancy lock,
///         to the caller, copying no return data.
library CreditLib {
    /// @dev Whether the transient lock at `lockSlot` is held (a withdrawal is sending ETH right now).
    function isLocked(uint256 lockSlot) internal view returns (bool locked_) {
        assembly ("memory-safe") {
            locked_ := tload(lockSlot)
        }
    }

    /// @dev Sends `amount` wei to `msg.sender` while holding the lock at `lockSlot`. The caller has already
    ///      cleared the credit (checks-effects-interactions) and reverts if this returns false. No return data
    ///      is copied: a receiver cannot make the sender pay for a huge return.
    function sendToCaller(uint256 lockSlot, uint256 amount) internal returns (bool ok_) {
        assembly ("memory-safe") {
            tstore(lockSlot, 1)
            ok_ := call(gas(), caller(), amount, 0, 0, 0, 0)
            tstore(lockSlot, 0)
        }
    }
}
