// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IJobAgency} from "../interfaces/IJobAgency.sol";

/// @title CidLib
/// @notice Shape checks for binary CIDs, so that a job never names something no IPFS node can fetch.
/// @dev Accepts CIDv0 (`0x12 0x20 ‖ 32-byte sha2-256 digest`, 34 bytes) and CIDv1
///      (`0x01 ‖ varint codec ‖ varint hash code ‖ varint digest length ‖ digest`) with minimal varints
///      of at most 9 bytes and a digest of at least one byte that ends the CID exactly; at most
///      `MAX_LENGTH` bytes in all. It checks the shape only: whether a node supports the codec and hash
///      function is for the agent to judge. Written in assembly because it runs on every post and submit
///      (the gas snapshot shows the saving over the indexed-bytes version).
library CidLib {
    /// @notice The longest CID accepted, in bytes.
    uint256 internal constant MAX_LENGTH = 128;

    /// @dev Reverts with `JobAgency_InvalidCid` unless `cid` is well formed.
    function check(bytes calldata cid) internal pure {
        if (!isValid(cid)) revert IJobAgency.JobAgency_InvalidCid();
    }

    /// @dev Whether `cid` is a well-formed binary CIDv0 or CIDv1.
    function isValid(bytes calldata cid) internal pure returns (bool ok_) {
        assembly ("memory-safe") {
            let len := cid.length
            let p := cid.offset
            if and(gt(len, 1), iszero(gt(len, MAX_LENGTH))) {
                let first := byte(0, calldataload(p))
                if eq(first, 0x12) { ok_ := and(eq(len, 34), eq(byte(1, calldataload(p)), 0x20)) }
                let w := calldataload(p)
                // Fast path: codec, hash code and digest length are one-byte varints (as for every CID
                // `ipfs add` prints: dag-pb or raw, sha2-256, 32 bytes).
                if and(eq(first, 0x01), iszero(and(w, shl(224, 0x00808080)))) {
                    ok_ := and(iszero(iszero(byte(3, w))), eq(len, add(4, byte(3, w))))
                    first := 0 // done
                }
                if eq(first, 0x01) {
                    // Three varints: codec, multihash code, digest length (the last one stays in `value`).
                    let i := 1
                    let good := 1
                    let value := 0
                    for { let k := 0 } lt(k, 3) { k := add(k, 1) } {
                        value := 0
                        let shift := 0
                        for {} 1 {} {
                            if iszero(lt(i, len)) {
                                good := 0
                                break
                            }
                            let b := byte(0, calldataload(add(p, i)))
                            i := add(i, 1)
                            value := or(value, shl(shift, and(b, 0x7f)))
                            if iszero(and(b, 0x80)) {
                                // A zero last byte after the first is a non-minimal encoding.
                                if and(iszero(b), gt(shift, 0)) { good := 0 }
                                break
                            }
                            shift := add(shift, 7)
                            if gt(shift, 56) {
                                good := 0
                                break
                            }
                        }
                        if iszero(good) { break }
                    }
                    ok_ := and(good, and(gt(value, 0), eq(add(i, value), len)))
                }
            }
        }
    }
}
