// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AgencyTest} from "../utils/AgencyTest.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {JobAgency} from "src/JobAgency.sol";

/// @notice Two findings from writing the invariant suite, kept as regression tests: dirty padding in `post`'s
///         byte strings (now rejected), and id reuse after a same-block cancel (now documented).
contract JobAgency_PostFindings_Test is AgencyTest {
    /// Byte offset of `codeCid`'s padding in `post` calldata: selector (4) + tuple offset (0x20) + the 15 head
    /// words (0x1e0) + the length word (0x20) + the 34 bytes of the CIDv0.
    uint256 internal constant CODE_CID_PADDING = 4 + 0x20 + 0x1e0 + 0x20 + 34;

    /// `post` documents its return value as `jobIdOf(msg.sender, block.number, hashSpec(spec))` and `Job.specHash =
    /// keccak256(abi.encode(spec))`. `_canonicalSpec` checks offsets, lengths and the static words but not the
    /// padding after each byte string, and hashes the raw calldata: non-zero padding (which decoders ignore, so
    /// `spec` is unchanged) gives another `specHash` and another job id. A client that rebuilds the record the
    /// documented way (`hashSpec` of the decoded spec, as `AgencyTest._recordOf` does) then gets `StaleRecord`
    /// on every call for that job, and the same spec escapes `DuplicateJob` in one block.
    /// Fix: reject non-zero padding with `NonCanonicalCalldata`, or hash a clean re-encoding.
    function test_post_dirtyCidPadding_idAndRecordAreTheDocumentedOnes() public {
        IJobAgency.JobSpec memory spec = _spec();
        bytes memory data = abi.encodeCall(JobAgency.post, (spec));
        assertEq(uint8(data[CODE_CID_PADDING]), 0, "offset points at padding");
        data[CODE_CID_PADDING] = 0x01;

        vm.prank(poster);
        (bool ok, bytes memory ret) = address(agency).call{value: spec.payment}(data);
        if (!ok) {
            assertEq(ret, abi.encodeWithSelector(IJobAgency.JobAgency_NonCanonicalCalldata.selector));
            return;
        }
        uint256 id = abi.decode(ret, (uint256));
        assertEq(
            id,
            agency.jobIdOf(poster, block.number, agency.hashSpec(spec)),
            "id != jobIdOf(.., hashSpec(spec))"
        );
        assertEq(
            agency.jobHash(id), agency.hashJob(_recordOf(spec, poster)), "stored record != documented record"
        );
    }

    /// Documented on `jobIdOf`: cancelling and posting the same spec in the same block gives the new job
    /// the closed job's id; the new job is a clean Open record with its own escrow.
    function test_post_sameSpecAfterCloseInOneBlock_reusesIdAsDocumented() public {
        IJobAgency.JobSpec memory spec = _spec();
        (uint256 id, IJobAgency.Job memory job) = _post(spec);
        vm.prank(poster);
        agency.cancel(id, job);
        assertEq(agency.jobHash(id), bytes32(0));
        vm.prank(poster);
        uint256 again = agency.post{value: spec.payment}(spec);
        assertEq(again, id);
        assertEq(agency.jobHash(id), agency.hashJob(job));
        assertEq(address(agency).balance, 2 * uint256(spec.payment), "both escrows are held");
        assertEq(agency.creditOf(poster), spec.payment);
    }
}
