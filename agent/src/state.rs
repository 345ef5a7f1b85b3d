//! The agent's persistent state: one redb file per agent (redb: pure Rust, ACID with copy-on-write
//! B-trees, one file, crash-safe; it builds offline and needs no server).
//!
//! Tables (every write is one transaction; see [`State`] for when it reaches the disk):
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | name | who the file belongs to: `chain_id` (u64 BE), `agency`, `account` (20 bytes each) |
//! | `checkpoints` | block number | block hash: the event cursor, newest last (the last [`KEEP_CHECKPOINTS`]) |
//! | `events` | (block, log index) | the agency's raw log (see `chain::watch::AgencyLog::encode`) |
//! | `jobs` | job id (32 bytes) | [`JobEntry`] as JSON: the agent's role, step, write-ahead intent, output |
//! | `ledger` | sequence number | [`LedgerEntry`] as JSON: every wei the agent moved (bonds, withdrawals) |
//!
//! The events are stored with the cursor in one transaction, so the folded job records always match the
//! cursor; a reorg deletes the events above the newest canonical checkpoint in one transaction too.
//! A file is bound to one chain, agency and account: opening it for another is refused, so an agent can
//! never act on another's memory.

use std::{
    collections::BTreeMap,
    path::Path,
    sync::Mutex,
    time::{Duration, Instant},
};

use alloy::primitives::{Address, B256, U256};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::chain::watch::{AgencyLog, Checkpoint};

const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");
const CHECKPOINTS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("checkpoints");
const EVENTS: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("events");
const JOBS: TableDefinition<'_, &[u8], &str> = TableDefinition::new("jobs");
const LEDGER: TableDefinition<'_, u64, &str> = TableDefinition::new("ledger");

/// How many checkpoints are kept: a reorg deeper than this many polls re-reads from the deployment.
pub const KEEP_CHECKPOINTS: usize = 256;

/// The longest a commit the chain can tell again waits for the disk: any commit made when the last durable
/// one is older than this is durable itself. It bounds what a crash can lose, and the pages redb cannot
/// reuse until a durable commit (an idle agent's cursor moves every poll).
pub const SYNC_EVERY: Duration = Duration::from_secs(1);

/// Whether a commit must be on disk when it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flush {
    /// Before it returns.
    Now,
    /// With the next durable commit (or within [`SYNC_EVERY`]): what the chain can tell the agent again.
    Later,
}

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed (or is open in another process).
    #[error("state database {path}: {source}")]
    Db {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: Box<redb::Error>,
    },
    /// The file belongs to another chain, agency or account.
    #[error("state database {path} belongs to {what} {stored}, not {expected}: use another `--db` for this {what}")]
    Foreign {
        /// The file.
        path: String,
        /// Which binding differs.
        what: &'static str,
        /// What the file holds.
        stored: String,
        /// What this agent is.
        expected: String,
    },
    /// A stored value does not decode.
    #[error("state database {path}: corrupt {what}: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// Which record.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Who a state file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The chain.
    pub chain_id: u64,
    /// The agency.
    pub agency: Address,
    /// The agent's account.
    pub account: Address,
}

/// The part the agent plays in a job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Not (yet) involved.
    #[default]
    None,
    /// Claimed it (or tries to).
    Worker,
    /// Re-runs it.
    Verifier,
}

/// How far the agent got with a job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Seen, nothing done.
    #[default]
    Seen,
    /// Not taken (the note says why); looked at again after `retry_at`.
    Skipped,
    /// The agent's claim is on chain; its bond is locked.
    Claimed,
    /// The agent ran the job; `output` is the CID it computed and stored.
    Computed,
    /// The agent's result is on chain.
    Submitted,
    /// The verifier's output matched the submitted result.
    Agreed,
    /// The verifier's sealed challenge is on chain; its bond is locked.
    Challenged,
    /// The verifier's result is revealed.
    Revealed,
    /// The job closed; `payout` is what it credited the agent.
    Closed,
    /// The agent lost the job (another worker claimed it, or its claim expired).
    Lost,
}

/// A chain action the agent is about to send: written before the transaction, cleared after its
/// receipt. After a crash an intent says "this may or may not have happened": the agent waits for its
/// pending transactions to be mined and then reads the truth from the events before doing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `claim`.
    Claim,
    /// `submit`.
    Submit,
    /// `finalize`.
    Finalize,
    /// `challenge`.
    Challenge,
    /// `reveal`.
    Reveal,
    /// The jury's `commit` (the agent was drawn as a juror).
    JurorCommit,
    /// The jury's `reveal`.
    JurorReveal,
}

/// How far the agent got in a jury seat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatStep {
    /// Drawn; its output and salt are recorded before the commit is sent.
    #[default]
    Drawn,
    /// Its commitment is on chain.
    Committed,
    /// Its vote is revealed.
    Revealed,
}

/// The agent's seat on the jury of a job's dispute, for one round.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Seat {
    /// The dispute round (1, or 2 after a round without a majority).
    pub round: u8,
    /// The CID (text) of the output the agent computed: the only result it commits to.
    pub output: String,
    /// The commitment's salt, written before the commit is sent.
    pub salt: B256,
    /// How far it got.
    pub step: SeatStep,
    /// Whether the seat is on an audit's panel (else a dispute's jury).
    pub audit: bool,
    /// Whether the jury's rewards and slashes of this job are in the ledger (once the job closed).
    pub settled: bool,
}

/// What the agent knows about one job.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobEntry {
    /// The agent's part.
    pub role: Role,
    /// How far it got.
    pub step: Step,
    /// The action in flight, if any.
    pub intent: Option<Action>,
    /// The CID (text) of the output this agent computed: the only result it ever submits or reveals.
    pub output: Option<String>,
    /// Wei of bond this agent has locked in the job (0 once released).
    pub bond: U256,
    /// The verifier's seal salt.
    pub salt: Option<B256>,
    /// Wei the job credited this agent when it closed.
    pub payout: U256,
    /// The last problem, for `jsjob status`.
    pub note: Option<String>,
    /// Unix time before which a skipped job is not looked at again.
    pub retry_at: u64,
    /// How many times the job was skipped for a problem that may pass (content not found, RPC).
    pub attempts: u32,
    /// The agent's jury seat in the job's dispute, when it was drawn.
    pub seat: Option<Seat>,
}

/// One movement of the agent's money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// What happened: `bond` (locked), `withdraw`, `stake` (joined the jury), `unstake` (the stake left
    /// credited back), `jury-withdraw`, and, once a job the agent sat on as juror closed, `jury-reward`,
    /// `audit-reward` (a reward for an audit) or `jury-slash` (stake taken).
    pub kind: String,
    /// The job, if any.
    pub job: Option<U256>,
    /// Wei.
    pub amount: U256,
    /// The transaction; `None` when the step was recovered from the events after a restart (the agent
    /// stopped between the receipt and recording it).
    pub tx: Option<B256>,
}

/// The open state database.
///
/// Every commit is durable when it returns (redb's `fdatasync`), except the ones a caller marks as steps
/// the chain can tell the agent again ([`State::update_deferred`], and the events with the cursor): those
/// reach the disk with the next durable commit, or when the file is closed. A deferred commit is durable
/// all the same when its job entry holds a write-ahead intent, or when the last durable commit is older
/// than [`SYNC_EVERY`]. redb keeps commits in order, so a crash loses at most a tail of deferred commits:
/// the file then holds what the agent wrote at an earlier moment, and every transaction the agent sent
/// after that moment has its intent on disk. The agent reads the lost steps again from the chain, as after
/// any stop. (A durable commit for every step was a third of a busy worker's CPU in a sampled profile.)
#[derive(Debug)]
pub struct State {
    db: Database,
    path: String,
    /// When the last durable commit returned.
    synced: Mutex<Instant>,
}

impl State {
    /// Opens (or creates) the file at `path` for `identity`, refusing a file that belongs to another.
    pub fn open(path: &Path, identity: Identity) -> Result<Self> {
        let shown = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Db { path: shown.clone(), source: Box::new(redb::Error::Io(e)) })?;
        }
        let db = Database::create(path).map_err(|e| Error::Db { path: shown.clone(), source: Box::new(e.into()) })?;
        let state = Self { db, path: shown, synced: Mutex::new(Instant::now()) };
        state.bind(identity)?;
        Ok(state)
    }

    fn db_error(&self) -> impl Fn(redb::Error) -> Error + '_ {
        move |source| Error::Db { path: self.path.clone(), source: Box::new(source) }
    }

    fn corrupt(&self, what: &'static str, reason: impl ToString) -> Error {
        Error::Corrupt { path: self.path.clone(), what, reason: reason.to_string() }
    }

    /// Runs `f` in one write transaction and commits it, durably when `f` says [`Flush::Now`] or the last
    /// durable commit is older than [`SYNC_EVERY`].
    fn write<T>(&self, f: impl FnOnce(&redb::WriteTransaction) -> Result<(T, Flush), redb::Error>) -> Result<T> {
        let run = || -> Result<T, redb::Error> {
            let mut txn = self.db.begin_write()?;
            let (value, flush) = f(&txn)?;
            // redb runs one write transaction at a time, so this lock is never contended.
            let mut synced = self.synced.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let durable = flush == Flush::Now || synced.elapsed() >= SYNC_EVERY;
            if !durable {
                txn.set_durability(Durability::None)?;
            }
            txn.commit()?;
            if durable {
                *synced = Instant::now();
            }
            Ok(value)
        };
        run().map_err(self.db_error())
    }

    fn bind(&self, identity: Identity) -> Result<()> {
        let wanted: [(&str, &'static str, Vec<u8>, String); 3] = [
            ("chain_id", "chain", identity.chain_id.to_be_bytes().to_vec(), identity.chain_id.to_string()),
            ("agency", "agency", identity.agency.to_vec(), identity.agency.to_string()),
            ("account", "account", identity.account.to_vec(), identity.account.to_string()),
        ];
        let stored = self.write(|txn| {
            // Create every table, so that reads never meet a missing one.
            txn.open_table(CHECKPOINTS)?;
            txn.open_table(EVENTS)?;
            txn.open_table(JOBS)?;
            txn.open_table(LEDGER)?;
            let mut meta = txn.open_table(META)?;
            let mut found = Vec::new();
            for (name, _, bytes, _) in &wanted {
                let existing = meta.get(*name)?.map(|guard| guard.value().to_vec());
                match existing {
                    Some(existing) => found.push(existing),
                    None => {
                        meta.insert(*name, bytes.as_slice())?;
                        found.push(bytes.clone());
                    }
                }
            }
            Ok((found, Flush::Now))
        })?;
        for ((_, what, bytes, expected), stored) in wanted.iter().zip(stored) {
            if *bytes != stored {
                let stored = match *what {
                    "chain" => stored.try_into().map(u64::from_be_bytes).map(|id| id.to_string()).unwrap_or_default(),
                    _ => Address::try_from(stored.as_slice()).map(|a| a.to_string()).unwrap_or_default(),
                };
                return Err(Error::Foreign { path: self.path.clone(), what, stored, expected: expected.clone() });
            }
        }
        Ok(())
    }

    /// Every entry of `table`, in key order, mapped by `each`.
    fn scan<K: redb::Key + 'static, V: redb::Value + 'static, T>(
        &self,
        table: TableDefinition<'_, K, V>,
        mut each: impl for<'a> FnMut(K::SelfType<'a>, V::SelfType<'a>) -> T,
    ) -> Result<Vec<T>> {
        let mut read = || -> Result<Vec<T>, redb::Error> {
            let txn = self.db.begin_read()?;
            let table = txn.open_table(table)?;
            let mut all = Vec::new();
            for entry in table.iter()? {
                let (key, value) = entry?;
                all.push(each(key.value(), value.value()));
            }
            Ok(all)
        };
        read().map_err(self.db_error())
    }

    /// The cursor's checkpoints, newest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let mut all = self.scan(CHECKPOINTS, |block, hash| (block, B256::try_from(hash).ok()))?;
        all.reverse();
        all.into_iter()
            .map(|(block, hash)| {
                let hash = hash.ok_or_else(|| self.corrupt("checkpoint", format!("block {block}")))?;
                Ok(Checkpoint { block, hash })
            })
            .collect()
    }

    /// Stores the logs read up to `to` and moves the cursor there, in one deferred transaction (the chain holds
    /// them).
    pub fn advance(&self, logs: &[AgencyLog], to: Checkpoint) -> Result<()> {
        self.write(|txn| {
            let mut events = txn.open_table(EVENTS)?;
            for log in logs {
                events.insert((log.block, log.index), log.encode().as_slice())?;
            }
            let mut checkpoints = txn.open_table(CHECKPOINTS)?;
            checkpoints.insert(to.block, to.hash.as_slice())?;
            let count = checkpoints.len()? as usize;
            for _ in KEEP_CHECKPOINTS..count {
                checkpoints.pop_first()?;
            }
            Ok(((), Flush::Later))
        })
    }

    /// Forgets every event and checkpoint after `to` (everything when `None`): a reorg replaced them. Deferred:
    /// after a crash that loses it, the cursor's checkpoints show the reorg again.
    pub fn roll_back(&self, to: Option<Checkpoint>) -> Result<()> {
        let keep_to = to.map(|c| c.block);
        self.write(|txn| {
            let mut events = txn.open_table(EVENTS)?;
            events.retain(|(block, _), _| keep_to.is_some_and(|last| block <= last))?;
            let mut checkpoints = txn.open_table(CHECKPOINTS)?;
            checkpoints.retain(|block, _| keep_to.is_some_and(|last| block <= last))?;
            Ok(((), Flush::Later))
        })
    }

    /// Every stored agency log, in chain order.
    pub fn logs(&self) -> Result<Vec<AgencyLog>> {
        self.scan(EVENTS, |(block, index), bytes| {
            AgencyLog::decode(block, index, bytes).ok_or_else(|| self.corrupt("event", format!("({block}, {index})")))
        })?
        .into_iter()
        .collect()
    }

    /// What the agent knows about `job`.
    pub fn job(&self, job: U256) -> Result<Option<JobEntry>> {
        let key = job.to_be_bytes::<32>();
        let read = || -> Result<Option<String>, redb::Error> {
            let txn = self.db.begin_read()?;
            let table = txn.open_table(JOBS)?;
            Ok(table.get(key.as_slice())?.map(|guard| guard.value().to_owned()))
        };
        read()
            .map_err(self.db_error())?
            .map(|text| serde_json::from_str(&text).map_err(|e| self.corrupt("job", e)))
            .transpose()
    }

    /// Every job the agent knows, by id.
    pub fn jobs(&self) -> Result<Vec<(U256, JobEntry)>> {
        self.scan(JOBS, |key, text| {
            let entry = serde_json::from_str(text).map_err(|e| self.corrupt("job", e))?;
            Ok((U256::from_be_slice(key), entry))
        })?
        .into_iter()
        .collect()
    }

    /// Changes `job`'s entry (a default one if none) with `change`, in one durable transaction; returns the
    /// new entry.
    pub fn update(&self, job: U256, change: impl FnOnce(&mut JobEntry)) -> Result<JobEntry> {
        self.update_and_record(job, change, None)
    }

    /// [`State::update`] for a step the chain can tell the agent again (a receipt or an event recorded, an
    /// intent cleared, a job set aside): its commit may wait for the next durable one (see [`State`]). It is
    /// durable at once when the new entry holds an intent.
    pub fn update_deferred(&self, job: U256, change: impl FnOnce(&mut JobEntry)) -> Result<JobEntry> {
        self.change(job, change, &[], Flush::Later)
    }

    /// [`State::update`] and, in the same transaction, appends `ledger` to the ledger: a step and the
    /// money it moved are recorded together or not at all.
    pub fn update_and_record(
        &self,
        job: U256,
        change: impl FnOnce(&mut JobEntry),
        ledger: Option<&LedgerEntry>,
    ) -> Result<JobEntry> {
        self.update_and_record_all(job, change, ledger.map(std::slice::from_ref).unwrap_or_default())
    }

    /// [`State::update_and_record`] with any number of ledger entries, all in the one transaction.
    pub fn update_and_record_all(
        &self,
        job: U256,
        change: impl FnOnce(&mut JobEntry),
        ledger: &[LedgerEntry],
    ) -> Result<JobEntry> {
        self.change(job, change, ledger, Flush::Now)
    }

    /// Changes `job`'s entry and appends `ledger`, in one transaction; `flush` is made [`Flush::Now`] when the
    /// new entry holds an intent.
    fn change(
        &self,
        job: U256,
        change: impl FnOnce(&mut JobEntry),
        ledger: &[LedgerEntry],
        flush: Flush,
    ) -> Result<JobEntry> {
        let key = job.to_be_bytes::<32>();
        let mut decode_error = None;
        let entry = self.write(|txn| {
            let mut table = txn.open_table(JOBS)?;
            let existing = table.get(key.as_slice())?.map(|guard| guard.value().to_owned());
            let mut entry = match existing.map(|text| serde_json::from_str::<JobEntry>(&text)) {
                Some(Ok(entry)) => entry,
                Some(Err(error)) => {
                    decode_error = Some(error.to_string());
                    return Ok((JobEntry::default(), Flush::Later));
                }
                None => JobEntry::default(),
            };
            change(&mut entry);
            // A JobEntry always serializes: every field is plain data.
            let text = serde_json::to_string(&entry).unwrap_or_default();
            table.insert(key.as_slice(), text.as_str())?;
            for entry in ledger {
                append(txn, entry)?;
            }
            let flush = if entry.intent.is_some() { Flush::Now } else { flush };
            Ok((entry, flush))
        })?;
        match decode_error {
            Some(reason) => Err(self.corrupt("job", reason)),
            None => Ok(entry),
        }
    }

    /// Appends to the ledger.
    pub fn record(&self, entry: &LedgerEntry) -> Result<()> {
        self.write(|txn| Ok((append(txn, entry)?, Flush::Now)))
    }

    /// The ledger, oldest first.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>> {
        self.scan(LEDGER, |_, text| serde_json::from_str(text).map_err(|e| self.corrupt("ledger", e)))?
            .into_iter()
            .collect()
    }

    /// Wei moved per ledger kind (`withdraw`, `stake`, `jury-reward`, …), summed over the whole ledger.
    pub fn ledger_totals(&self) -> Result<BTreeMap<String, U256>> {
        let mut totals = BTreeMap::new();
        for entry in self.ledger()? {
            *totals.entry(entry.kind).or_insert(U256::ZERO) += entry.amount;
        }
        Ok(totals)
    }

    /// Wei of bond the agent has locked, over every job.
    pub fn bonds_locked(&self) -> Result<U256> {
        Ok(self.jobs()?.iter().map(|(_, entry)| entry.bond).fold(U256::ZERO, |a, b| a + b))
    }
}

/// Appends `entry` to the ledger inside `txn`.
fn append(txn: &redb::WriteTransaction, entry: &LedgerEntry) -> Result<(), redb::Error> {
    // A LedgerEntry always serializes: every field is plain data.
    let text = serde_json::to_string(entry).unwrap_or_default();
    let mut table = txn.open_table(LEDGER)?;
    let next = table.last()?.map_or(0, |(key, _)| key.value() + 1);
    table.insert(next, text.as_str())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Bytes, LogData};

    use super::*;

    fn identity() -> Identity {
        Identity { chain_id: 31337, agency: Address::repeat_byte(1), account: Address::repeat_byte(2) }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("jsjob-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("state.redb")
    }

    fn log(block: u64, index: u64) -> AgencyLog {
        let data =
            LogData::new(vec![B256::repeat_byte(block as u8)], Bytes::from(vec![index as u8])).expect("one topic");
        AgencyLog { block, index, data }
    }

    fn checkpoint(block: u64) -> Checkpoint {
        Checkpoint { block, hash: B256::repeat_byte(block as u8) }
    }

    #[test]
    fn cursor_and_events_survive_reopening_and_roll_back_together() {
        let path = temp("cursor");
        {
            let state = State::open(&path, identity()).expect("open");
            state.advance(&[log(3, 0), log(3, 1)], checkpoint(4)).expect("advance");
            state.advance(&[log(6, 0)], checkpoint(7)).expect("advance");
        }
        let state = State::open(&path, identity()).expect("reopen");
        assert_eq!(state.checkpoints().expect("read"), vec![checkpoint(7), checkpoint(4)]);
        assert_eq!(state.logs().expect("read"), vec![log(3, 0), log(3, 1), log(6, 0)]);
        state.roll_back(Some(checkpoint(4))).expect("roll back");
        assert_eq!(state.checkpoints().expect("read"), vec![checkpoint(4)]);
        assert_eq!(state.logs().expect("read"), vec![log(3, 0), log(3, 1)]);
        state.roll_back(None).expect("roll back all");
        assert!(state.checkpoints().expect("read").is_empty());
        assert!(state.logs().expect("read").is_empty());
    }

    #[test]
    fn keeps_a_bounded_number_of_checkpoints() {
        let state = State::open(&temp("bounded"), identity()).expect("open");
        for block in 0..(KEEP_CHECKPOINTS as u64 + 10) {
            state.advance(&[], Checkpoint { block, hash: B256::ZERO }).expect("advance");
        }
        let checkpoints = state.checkpoints().expect("read");
        assert_eq!(checkpoints.len(), KEEP_CHECKPOINTS);
        assert_eq!(checkpoints[0].block, KEEP_CHECKPOINTS as u64 + 9);
    }

    /// Several ledger entries go in with a job's change in one transaction, and the totals sum them by kind.
    #[test]
    fn entries_recorded_together_are_totalled_by_kind() {
        let state = State::open(&temp("totals"), identity()).expect("open");
        let entry = |kind: &str, amount: u64| LedgerEntry {
            kind: kind.into(),
            job: None,
            amount: U256::from(amount),
            tx: None,
        };
        state.record(&entry("stake", 100)).expect("record");
        let seat = Seat { audit: true, ..Seat::default() };
        state
            .update_and_record_all(
                U256::from(3),
                |e| e.seat = Some(Seat { settled: true, ..seat }),
                &[entry("audit-reward", 15), entry("audit-reward", 5), entry("jury-slash", 2)],
            )
            .expect("recorded");
        assert!(state.job(U256::from(3)).expect("read").and_then(|e| e.seat).is_some_and(|seat| seat.settled));
        let totals = state.ledger_totals().expect("totals");
        let expected = [("audit-reward", 20u64), ("jury-slash", 2), ("stake", 100)]
            .map(|(kind, amount)| (kind.to_owned(), U256::from(amount)));
        assert_eq!(totals, BTreeMap::from(expected));
    }

    /// The file [`a_crash_keeps_every_commit_up_to_the_last_durable_one`] hands its child process.
    const CRASH_DB: &str = "JSJOB_STATE_CRASH_DB";

    /// The child half of [`a_crash_keeps_every_commit_up_to_the_last_durable_one`] (it returns at once unless
    /// that test runs it): deferred steps around two intents (one of them written as deferred), then an exit
    /// that drops nothing, so redb never closes the file.
    #[test]
    fn crash_child() {
        let Some(path) = std::env::var_os(CRASH_DB) else { return };
        let state = State::open(Path::new(&path), identity()).expect("open");
        state.update_deferred(U256::from(1), |e| e.step = Step::Submitted).expect("deferred");
        state.update(U256::from(2), |e| e.intent = Some(Action::Finalize)).expect("intent");
        state.update_deferred(U256::from(3), |e| e.step = Step::Closed).expect("deferred after");
        state.update_deferred(U256::from(4), |e| e.intent = Some(Action::Claim)).expect("an intent, deferred");
        state.update_deferred(U256::from(5), |e| e.step = Step::Lost).expect("the tail");
        std::process::exit(86);
    }

    /// A process that dies without closing the file keeps every commit up to its last durable one, deferred
    /// ones included, and a deferred commit that holds an intent is durable; the deferred tail after it is
    /// lost (it is what the chain tells again). A clean close keeps deferred commits too.
    #[test]
    fn a_crash_keeps_every_commit_up_to_the_last_durable_one() {
        let path = temp("crash");
        let child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["state::tests::crash_child", "--exact", "--nocapture"])
            .env(CRASH_DB, &path)
            .output()
            .expect("run the child");
        assert_eq!(child.status.code(), Some(86), "the child did not reach its exit: {child:?}");
        let state = State::open(&path, identity()).expect("reopen after the crash");
        let step = |job: u64| state.job(U256::from(job)).expect("read").map(|e| (e.step, e.intent));
        assert_eq!(step(1), Some((Step::Submitted, None)), "made durable by the intent after it");
        assert_eq!(step(2), Some((Step::Seen, Some(Action::Finalize))));
        assert_eq!(step(3), Some((Step::Closed, None)), "made durable by the deferred intent after it");
        assert_eq!(step(4), Some((Step::Seen, Some(Action::Claim))), "an intent is never deferred");
        assert_eq!(step(5), None, "the deferred tail was not lost: commits are not deferred");

        state.update_deferred(U256::from(6), |e| e.step = Step::Agreed).expect("deferred");
        drop(state);
        let state = State::open(&path, identity()).expect("reopen after a clean close");
        assert_eq!(state.job(U256::from(6)).expect("read").map(|e| e.step), Some(Step::Agreed));
    }

    #[test]
    fn jobs_and_ledger_persist_and_a_foreign_file_is_refused() {
        let path = temp("jobs");
        {
            let state = State::open(&path, identity()).expect("open");
            let entry = state
                .update(U256::from(9), |entry| {
                    entry.role = Role::Worker;
                    entry.step = Step::Claimed;
                    entry.intent = Some(Action::Submit);
                    entry.bond = U256::from(50);
                })
                .expect("update");
            assert_eq!(entry.step, Step::Claimed);
            let tx = B256::repeat_byte(7);
            state
                .record(&LedgerEntry {
                    kind: "bond".into(),
                    job: Some(U256::from(9)),
                    amount: U256::from(50),
                    tx: Some(tx),
                })
                .expect("record");
        }
        let state = State::open(&path, identity()).expect("reopen");
        let entry = state.job(U256::from(9)).expect("read").expect("stored");
        assert_eq!((entry.role, entry.step, entry.intent), (Role::Worker, Step::Claimed, Some(Action::Submit)));
        assert_eq!(state.bonds_locked().expect("sum"), U256::from(50));
        assert_eq!(state.ledger().expect("read").len(), 1);
        drop(state);

        let other = Identity { account: Address::repeat_byte(3), ..identity() };
        let error = State::open(&path, other).expect_err("another account");
        assert!(error.to_string().contains("belongs to account"), "{error}");
    }
}
