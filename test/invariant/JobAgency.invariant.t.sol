// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {JobAgency} from "src/JobAgency.sol";
import {IJobAgency} from "src/interfaces/IJobAgency.sol";
import {AgencyHandler} from "./handlers/AgencyHandler.sol";

/// @title JobAgency_Invariant_Test
/// @notice Invariants of the agency's money, states and records, checked after every action of
///         `AgencyHandler` (many posters, workers, challengers, two arbiters and a moving clock).
contract JobAgency_Invariant_Test is Test {
    /// @dev `expire`/`finalize` calls a live job needs at most to close: a Claimed job reopens once, then expires.
    uint256 internal constant MAX_EXIT_STEPS = 2;

    JobAgency internal agency;
    AgencyHandler internal handler;
    /// @dev Every account the handler can credit (`handler.actors()`), read once.
    address[] internal accounts;
    /// @dev An account with no role, for the permissionless exits.
    address internal stranger;

    function setUp() public {
        vm.warp(1_700_000_000);
        agency = new JobAgency(0, 0);
        handler = new AgencyHandler(agency);

        bytes4[] memory selectors = new bytes4[](12);
        selectors[0] = AgencyHandler.post.selector;
        selectors[1] = AgencyHandler.cancel.selector;
        selectors[2] = AgencyHandler.claim.selector;
        selectors[3] = AgencyHandler.submit.selector;
        selectors[4] = AgencyHandler.challenge.selector;
        selectors[5] = AgencyHandler.reveal.selector;
        selectors[6] = AgencyHandler.resolve.selector;
        selectors[7] = AgencyHandler.finalize.selector;
        selectors[8] = AgencyHandler.expire.selector;
        selectors[9] = AgencyHandler.withdraw.selector;
        selectors[10] = AgencyHandler.warp.selector;
        selectors[11] = AgencyHandler.probe.selector;
        accounts = handler.actors();
        stranger = handler.stranger();
        targetContract(address(handler));
        targetSelector(StdInvariant.FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /*//////////////////////////////////////////////////////////////
                                 MONEY
    //////////////////////////////////////////////////////////////*/

    /// @custom:invariant The agency holds exactly what it owes.
    ///                   The agency's balance equals the escrowed payments of live jobs, plus the worker and
    ///                   challenge bonds locked in them, plus every account's withdrawable credit, to the wei.
    function invariant_balanceEqualsEscrowBondsAndCredits() public view {
        (uint256 payments, uint256 workerBonds, uint256 challengeBonds) = handler.lockedTotals();
        assertEq(
            address(agency).balance,
            payments + workerBonds + challengeBonds + _sumCredits(),
            "balance != escrow + bonds + credits"
        );
    }

    /// @custom:invariant No ETH is created or lost.
    ///                   All ETH sent in (payments and bonds) equals all ETH withdrawn plus the agency's balance.
    function invariant_ethInEqualsEthOutPlusBalance() public view {
        assertEq(
            handler.ghostPostedIn() + handler.ghostBondsIn(),
            handler.ghostWithdrawnOut() + address(agency).balance,
            "in != out + balance"
        );
    }

    /// @custom:invariant Each payment is credited once.
    ///                   A closed job has credited its payment to exactly one account exactly once, a live job
    ///                   has credited it to nobody, and every closing credited each account exactly what the
    ///                   rules say.
    function invariant_eachPaymentCreditedAtMostOnce() public view {
        _assertCreditsAreTheRules();
        for (uint256 i; i < handler.closedCount(); ++i) {
            AgencyHandler.JobGhost memory g = handler.ghostOf(handler.closedId(i));
            assertEq(g.paymentCredits, 1, "closed job's payment not credited exactly once");
            assertTrue(g.paidTo != address(0), "closed job's payment credited to nobody");
            assertEq(g.escrow, 0);
        }
        for (uint256 i; i < handler.liveCount(); ++i) {
            uint256 id = handler.liveId(i);
            AgencyHandler.JobGhost memory g = handler.ghostOf(id);
            assertEq(g.paymentCredits, 0, "live job's payment already credited");
            assertEq(g.escrow, handler.recordOf(id).payment, "live job's escrow is not its payment");
        }
    }

    /// @custom:invariant Each bond has one fate.
    ///                   No bond is both returned and slashed: a bond of a live job that is still locked has no
    ///                   fate yet, every other bond was returned or slashed exactly once.
    function invariant_eachBondHasOneFate() public view {
        _assertCreditsAreTheRules();
        for (uint256 i; i < handler.bondCount(); ++i) {
            AgencyHandler.Bond memory b = handler.bondAt(i);
            assertLe(b.returned + b.slashed, 1, "bond both returned and slashed, or settled twice");
            AgencyHandler.JobGhost memory g = handler.ghostOf(b.jobId);
            uint256 lockedId = b.isChallenge ? g.challengeBondId : g.workerBondId;
            bool locked = g.state != handler.CLOSED() && lockedId == i + 1;
            assertEq(
                b.returned + b.slashed, locked ? 0 : 1, locked ? "locked bond settled" : "bond never settled"
            );
        }
        // Bonds still locked are exactly those the job's state locks.
        for (uint256 i; i < handler.liveCount(); ++i) {
            uint256 id = handler.liveId(i);
            IJobAgency.Job memory job = handler.recordOf(id);
            AgencyHandler.JobGhost memory g = handler.ghostOf(id);
            bool workerLocked = job.status >= IJobAgency.Status.Claimed;
            bool challengeLocked = job.status >= IJobAgency.Status.Challenged;
            assertEq(g.workerBond, workerLocked ? job.workerBond : 0, "worker bond lock");
            assertEq(g.challengeBond, challengeLocked ? job.challengeBond : 0, "challenge bond lock");
            assertEq(g.workerBondId != 0, workerLocked);
            assertEq(g.challengeBondId != 0, challengeLocked);
        }
    }

    /// @custom:invariant Withdrawals never exceed credits.
    ///                   Every account has withdrawn at most what it was credited, its `creditOf` is exactly
    ///                   credited minus withdrawn, and each withdrawal paid exactly the credit.
    function invariant_withdrawalsNeverExceedCredits() public view {
        assertEq(handler.ghostWithdrawMismatches(), 0, "a withdrawal paid other than the credit");
        _assertCreditsAreTheRules();
    }

    /*//////////////////////////////////////////////////////////////
                             STATES AND RECORDS
    //////////////////////////////////////////////////////////////*/

    /// @custom:invariant States move only along the lifecycle's edges.
    ///                   Every state change ever observed is creation (None -> Open), Open -> Claimed | closed,
    ///                   Claimed -> Submitted | Open | closed, Submitted -> Challenged | closed,
    ///                   Challenged -> Disputed | closed, or Disputed -> closed; a closed job never moves again.
    function invariant_statesMoveOnlyAlongAllowedEdges() public view {
        for (uint8 from; from < 8; ++from) {
            for (uint8 to; to < 8; ++to) {
                if (handler.edgeCount(from, to) == 0) continue;
                assertTrue(
                    _allowed(from, to),
                    string.concat("illegal edge ", vm.toString(from), " -> ", vm.toString(to))
                );
            }
        }
        for (uint256 i; i < handler.liveCount(); ++i) {
            uint256 id = handler.liveId(i);
            assertEq(
                handler.ghostOf(id).state, uint8(handler.recordOf(id).status), "ghost state != record status"
            );
        }
    }

    /// @custom:invariant The stored hash is the client's record.
    ///                   For every live job `jobHash(id)` equals `hashJob` of the record the handler rebuilt the
    ///                   way a client does, and for every closed job it is zero.
    function invariant_storedHashMatchesRecord() public view {
        assertEq(handler.ghostRecordMismatches(), 0, "a stored hash or job id differed from the prediction");
        for (uint256 i; i < handler.liveCount(); ++i) {
            uint256 id = handler.liveId(i);
            IJobAgency.Job memory job = handler.recordOf(id);
            assertTrue(agency.jobHash(id) != bytes32(0), "live job has no hash");
            assertEq(agency.jobHash(id), agency.hashJob(job), "stored hash != hashJob(record)");
        }
        for (uint256 i; i < handler.closedCount(); ++i) {
            assertEq(agency.jobHash(handler.closedId(i)), bytes32(0), "closed job still has a hash");
        }
    }

    /// @custom:invariant Every live job can be closed by anyone once its deadlines pass.
    ///                   From the current state, a stranger calling only `expire`/`finalize` one second after each
    ///                   deadline closes every live job within two calls, moving no ETH and crediting the job's
    ///                   parties exactly what the job held, after which the agency's balance is exactly the sum
    ///                   of all credits.
    /// @dev Jobs do not interact, and a job's exit depends only on its record and the time, so all live jobs are
    ///      driven under one snapshot: in rounds, each round in ascending order of the current deadlines, so that
    ///      every call is made at exactly `deadline + 1` as it would be for that job alone (a reopened Claimed job
    ///      takes a second round, at its claim deadline + 1). Credits are read once for every account and then
    ///      only for the parties of each call; a credit to anyone else shows in the final sum.
    function invariant_liveJobsCloseByPermissionlessCalls() public {
        (uint256[] memory ids, IJobAgency.Job[] memory jobs, uint256[] memory held) = handler.liveJobs();
        uint256 n = ids.length;
        if (n == 0) return;
        uint256 snapshot = vm.snapshotState();
        vm.warp(handler.currentTime());
        uint256 balance = address(agency).balance;
        uint256[] memory credits = new uint256[](accounts.length);
        uint256 expected;
        for (uint256 a; a < accounts.length; ++a) {
            credits[a] = agency.creditOf(accounts[a]);
            expected += credits[a];
        }
        for (uint256 i; i < n; ++i) {
            expected += held[i];
        }

        bool[] memory closed = new bool[](n);
        for (uint256 round; round < MAX_EXIT_STEPS; ++round) {
            uint256[] memory order = _byDeadline(jobs, closed);
            for (uint256 k; k < order.length; ++k) {
                uint256 i = order[k];
                closed[i] = _exitStep(ids[i], jobs[i], held, i, credits);
            }
        }
        for (uint256 i; i < n; ++i) {
            assertTrue(closed[i], "live job not closed by permissionless calls within two calls");
        }
        assertEq(address(agency).balance, balance, "permissionless exits moved ETH");
        uint256 sum = _sumCredits();
        assertEq(sum, expected, "exits credited other than the parties, or other than what the jobs held");
        assertEq(address(agency).balance, sum, "with no live job, balance != sum of credits");
        vm.revertToState(snapshot);
    }

    /*//////////////////////////////////////////////////////////////
                               REPUTATION
    //////////////////////////////////////////////////////////////*/

    /// @custom:invariant Reputation counters only grow and count what happened.
    ///                   Every account's `finalized`, `disputesLost` and `deadlinesMissed` equal the ghost counts of
    ///                   its paid results, lost or forfeited disputes and missed claims, and no party's counter
    ///                   ever went down across an action.
    /// @dev The ghost counts are only ever incremented and this is checked after every call, so equality also
    ///      means that no account's counters ever went down; the handler checks the parties of each action directly.
    function invariant_reputationOnlyGrowsAndMatchesGhost() public view {
        assertEq(handler.ghostReputationRegressions(), 0, "a reputation counter went down");
        for (uint256 i; i < accounts.length; ++i) {
            IJobAgency.Reputation memory actual = agency.reputation(accounts[i]);
            IJobAgency.Reputation memory ghost = handler.ghostReputation(accounts[i]);
            assertEq(actual.finalized, ghost.finalized, "finalized");
            assertEq(actual.disputesLost, ghost.disputesLost, "disputesLost");
            assertEq(actual.deadlinesMissed, ghost.deadlinesMissed, "deadlinesMissed");
        }
    }

    /*//////////////////////////////////////////////////////////////
                             EXPECTED REVERTS
    //////////////////////////////////////////////////////////////*/

    /// @custom:invariant Calls the rules forbid fail with the error that names why.
    ///                   Every call the handler made that must fail (stale or closed records, early exits, late
    ///                   actions, wrong callers, wrong bonds, bad seals and CIDs, duplicates, low reputation)
    ///                   reverted, with exactly the custom error and arguments the interface documents.
    function invariant_forbiddenCallsRevertWithTheirError() public view {
        assertEq(handler.ghostProbeFailures(), 0, handler.lastProbeFailure());
    }

    /// @dev Prints the handler's call log (run with -vv to see it; see `AgencyHandler.logCalls`).
    function afterInvariant() external {
        handler.logCalls();
    }

    /*//////////////////////////////////////////////////////////////
                                HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev One permissionless call by a stranger on job `_i` one second after its deadline (or now, if later).
    ///      Checks that its parties were credited what it held (when it closed) or the worker bond (when it
    ///      reopened, whose new record replaces `_job`), updating `_credits` (per account, as last read).
    ///      True if the job closed.
    function _exitStep(
        uint256 _id,
        IJobAgency.Job memory _job,
        uint256[] memory _held,
        uint256 _i,
        uint256[] memory _credits
    ) internal returns (bool closed_) {
        if (block.timestamp <= _job.deadline) vm.warp(uint256(_job.deadline) + 1);
        vm.prank(stranger);
        if (_job.status == IJobAgency.Status.Submitted) agency.finalize(_id, _job);
        else agency.expire(_id, _job);
        uint256 credited = _creditParties(_job, _credits);
        closed_ = agency.jobHash(_id) == bytes32(0);
        if (closed_) {
            assertEq(credited, _held[_i], "closing credited the parties other than what the job held");
            return true;
        }
        // Only a Claimed job whose claim deadline is still ahead survives an exit: reopened, its bond to the poster.
        assertEq(uint8(_job.status), uint8(IJobAgency.Status.Claimed), "an exit left a non-Claimed job live");
        assertEq(credited, _job.workerBond, "reopening credited other than the worker bond");
        _held[_i] -= credited;
        _job.status = IJobAgency.Status.Open;
        _job.worker = address(0);
        _job.deadline = _job.claimDeadline;
        assertEq(agency.jobHash(_id), agency.hashJob(_job), "reopened record");
    }

    /// @dev How much the job's distinct parties' credits grew since `_credits`, which it updates.
    function _creditParties(IJobAgency.Job memory _job, uint256[] memory _credits)
        internal
        view
        returns (uint256 sum_)
    {
        address[3] memory parties = [_job.poster, _job.worker, _job.challenger];
        for (uint256 a; a < accounts.length; ++a) {
            address account = accounts[a];
            if (account != parties[0] && account != parties[1] && account != parties[2]) continue;
            uint256 credit = agency.creditOf(account);
            sum_ += credit - _credits[a];
            _credits[a] = credit;
        }
    }

    /// @dev Indices of the jobs not yet closed, in ascending order of their current deadline.
    function _byDeadline(IJobAgency.Job[] memory _jobs, bool[] memory _closed)
        internal
        pure
        returns (uint256[] memory order_)
    {
        uint256 m;
        order_ = new uint256[](_jobs.length);
        for (uint256 i; i < _jobs.length; ++i) {
            if (_closed[i]) continue;
            uint256 j = m++;
            while (j > 0 && _jobs[order_[j - 1]].deadline > _jobs[i].deadline) {
                order_[j] = order_[j - 1];
                --j;
            }
            order_[j] = i;
        }
        assembly ("memory-safe") {
            mstore(order_, m)
        }
    }

    /// @dev Every account's credit is what the rules credited it (the ghost, fate by fate) less what it withdrew,
    ///      and no action left a party's credit off the rules.
    function _assertCreditsAreTheRules() internal view {
        assertEq(handler.ghostCreditMismatches(), 0, "an action credited other than the rules say");
        for (uint256 i; i < accounts.length; ++i) {
            address a = accounts[i];
            uint256 credited = handler.ghostCredited(a);
            uint256 withdrawn = handler.ghostWithdrawn(a);
            assertLe(withdrawn, credited, "withdrew more than credited");
            assertEq(agency.creditOf(a), credited - withdrawn, "creditOf != credited - withdrawn");
        }
    }

    function _sumCredits() internal view returns (uint256 sum_) {
        for (uint256 i; i < accounts.length; ++i) {
            sum_ += agency.creditOf(accounts[i]);
        }
    }

    /// @dev The lifecycle's edges, over ghost states (0-5 `Status`, 6 closed, 7 unknown).
    function _allowed(uint8 _from, uint8 _to) internal view returns (bool) {
        uint8 closed = handler.CLOSED();
        uint8 open = uint8(IJobAgency.Status.Open);
        uint8 claimed = uint8(IJobAgency.Status.Claimed);
        uint8 submitted = uint8(IJobAgency.Status.Submitted);
        uint8 challenged = uint8(IJobAgency.Status.Challenged);
        uint8 disputed = uint8(IJobAgency.Status.Disputed);
        if (_from == uint8(IJobAgency.Status.None)) return _to == open;
        if (_from == open) return _to == claimed || _to == closed;
        if (_from == claimed) return _to == submitted || _to == open || _to == closed;
        if (_from == submitted) return _to == challenged || _to == closed;
        if (_from == challenged) return _to == disputed || _to == closed;
        if (_from == disputed) return _to == closed;
        return false;
    }
}
