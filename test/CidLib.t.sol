// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {CidLib} from "src/libraries/CidLib.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";

contract CidLibHarness {
    function isValid(bytes calldata cid) external pure returns (bool) {
        return CidLib.isValid(cid);
    }

    function check(bytes calldata cid) external pure {
        CidLib.check(cid);
    }
}

/// @notice CidLib against known CIDs and, fuzzed, against a plain reference written from the CID spec.
contract CidLib_Test is Test {
    CidLibHarness internal lib = new CidLibHarness();

    function test_isValid_knownCids_succeeds() public view {
        // `ipfs add` of "hello world\n": CIDv0 (dag-pb, sha2-256).
        assertTrue(lib.isValid(hex"1220c3c4733ec8affd06cf9e9ff50ffc6bcd2ec85a6170004bb709669c31de94391a"));
        // CIDv1 raw, dag-pb, dag-cbor with sha2-256.
        assertTrue(lib.isValid(bytes.concat(hex"01551220", bytes32(uint256(1)))));
        assertTrue(lib.isValid(bytes.concat(hex"01701220", bytes32(uint256(1)))));
        assertTrue(lib.isValid(bytes.concat(hex"01711220", bytes32(uint256(1)))));
        // blake3 (0x1e), a two-byte codec varint (dag-json 0x0129), an identity hash of 3 bytes.
        assertTrue(lib.isValid(bytes.concat(hex"01551e20", bytes32(uint256(1)))));
        assertTrue(lib.isValid(bytes.concat(hex"01a9021220", bytes32(uint256(1)))));
        assertTrue(lib.isValid(hex"01550003616263"));
        // A 64-byte sha2-512 digest (0x13 0x40).
        assertTrue(lib.isValid(bytes.concat(hex"01551340", bytes32(uint256(1)), bytes32(uint256(2)))));
    }

    function test_isValid_malformed_reverts() public {
        bytes32 d = bytes32(uint256(1));
        assertFalse(lib.isValid(""));
        assertFalse(lib.isValid(hex"12"));
        assertFalse(lib.isValid(bytes.concat(hex"1220", d, hex"00")), "v0 too long");
        assertFalse(lib.isValid(bytes.concat(hex"1221", d)), "v0 wrong length byte");
        assertFalse(lib.isValid(bytes.concat(hex"02551220", d)), "version 2");
        assertFalse(lib.isValid(bytes.concat(hex"01551221", d)), "digest shorter than declared");
        assertFalse(lib.isValid(bytes.concat(hex"0155121f", d)), "digest longer than declared");
        assertFalse(lib.isValid(hex"01551200"), "empty digest");
        assertFalse(lib.isValid(bytes.concat(hex"01d5001220", d)), "non-minimal varint");
        assertFalse(lib.isValid(hex"01ffffffffffffffffff01"), "varint over 9 bytes");
        assertFalse(lib.isValid(hex"0155"), "truncated");
        assertFalse(lib.isValid(new bytes(CidLib.MAX_LENGTH + 1)), "too long");
        vm.expectRevert(IJobAgency.JobAgency_InvalidCid.selector);
        lib.check(hex"0155");
    }

    function testFuzz_isValid_matchesReference_succeeds(bytes calldata data) public view {
        vm.assume(data.length <= CidLib.MAX_LENGTH + 8);
        assertEq(lib.isValid(data), _reference(data));
    }

    function testFuzz_isValid_builtCids_succeeds(uint64 codec, uint64 hashCode, uint8 digestLength, bytes32 seed)
        public
        view
    {
        codec = uint64(bound(codec, 0, type(uint64).max >> 1));
        hashCode = uint64(bound(hashCode, 0, type(uint64).max >> 1));
        uint256 len = bound(digestLength, 1, 80);
        bytes memory digest = new bytes(len);
        for (uint256 i; i < len; ++i) {
            digest[i] = seed[i % 32];
        }
        bytes memory cid = bytes.concat(hex"01", _varint(codec), _varint(hashCode), _varint(len), digest);
        bool fits = cid.length <= CidLib.MAX_LENGTH;
        assertEq(lib.isValid(cid), fits);
        assertEq(_reference(cid), fits);
    }

    function _varint(uint256 v) internal pure returns (bytes memory out) {
        do {
            uint8 b = uint8(v & 0x7f);
            v >>= 7;
            out = bytes.concat(out, bytes1(v == 0 ? b : b | 0x80));
        } while (v != 0);
    }

    /// Written from the CID and multiformats specs, independently of the assembly.
    function _reference(bytes memory cid) internal pure returns (bool) {
        if (cid.length < 2 || cid.length > CidLib.MAX_LENGTH) return false;
        if (cid[0] == 0x12) return cid.length == 34 && cid[1] == 0x20;
        if (cid[0] != 0x01) return false;
        uint256 at = 1;
        uint256 value;
        for (uint256 field; field < 3; ++field) {
            bool ok;
            (ok, value, at) = _readVarint(cid, at);
            if (!ok) return false;
        }
        return value > 0 && at + value == cid.length;
    }

    function _readVarint(bytes memory data, uint256 at) internal pure returns (bool, uint256, uint256) {
        uint256 value;
        for (uint256 n; n < 9; ++n) {
            if (at + n >= data.length) return (false, 0, 0);
            uint8 b = uint8(data[at + n]);
            value |= uint256(b & 0x7f) << (7 * n);
            if (b < 0x80) {
                if (b == 0 && n > 0) return (false, 0, 0);
                return (true, value, at + n + 1);
            }
        }
        return (false, 0, 0);
    }
}
