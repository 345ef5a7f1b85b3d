//! Reading the agency's events in order, with a confirmation depth and a reorg-safe cursor.
//!
//! The reader is stateless: the caller keeps the cursor (see `crate::state`) as *checkpoints*, the
//! number and hash of each block up to which it has read, newest first. Each [`step`] reads the head
//! block's header (one call, which also gives the chain's time: [`Head`]), then:
//!
//! 1. checks that the newest checkpoint's block is still canonical (same hash: the head's own or its
//!    parent's when the checkpoint is the head or just below it, otherwise asked). If not, a reorg replaced
//!    it: the step answers [`Step::Reorg`] with the newest checkpoint that still is canonical (or `None`:
//!    start again from the deployment), and the caller drops every event after it and reads again;
//! 2. otherwise reads the logs of the next range of blocks that have at least `confirmations` blocks on
//!    top of them, and the hash of the range's last block (the head's, when the range ends there), which
//!    becomes the next checkpoint.
//!
//! So a poll with no new block costs one call, and one that reads up to the head three or four.
//!
//! With `confirmations = 0` (a dev chain) every mined block is read at once and a reorg is undone by the
//! check in 1; with a depth deeper than any reorg the chain makes, 1 never fires.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256, Bytes, LogData},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::SolEventInterface,
};

use super::{Error, Result, bindings::JobAgencyEvents};

/// A block the reader has read up to: its number and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The block's number.
    pub block: u64,
    /// Its hash when it was read.
    pub hash: B256,
}

/// One agency log, positioned in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyLog {
    /// Its block.
    pub block: u64,
    /// Its index in the block.
    pub index: u64,
    /// The raw log (topics and data), as stored; [`AgencyLog::event`] decodes it.
    pub data: LogData,
}

impl AgencyLog {
    /// The decoded event.
    pub fn event(&self) -> Result<JobAgencyEvents> {
        JobAgencyEvents::decode_raw_log(self.data.topics(), &self.data.data).map_err(|source| Error::BadLog {
            hash: None,
            index: Some(self.index),
            source: Box::new(source),
        })
    }

    /// The stored form: the number of topics, the topics, then the data.
    pub fn encode(&self) -> Vec<u8> {
        let topics = self.data.topics();
        let mut bytes = Vec::with_capacity(1 + 32 * topics.len() + self.data.data.len());
        // At most 4 topics in an EVM log.
        bytes.push(topics.len() as u8);
        for topic in topics {
            bytes.extend_from_slice(topic.as_slice());
        }
        bytes.extend_from_slice(&self.data.data);
        bytes
    }

    /// Reads the stored form back; `None` if it is not one [`AgencyLog::encode`] wrote.
    pub fn decode(block: u64, index: u64, bytes: &[u8]) -> Option<Self> {
        let (&count, rest) = bytes.split_first()?;
        let split = 32 * usize::from(count);
        if count > 4 || rest.len() < split {
            return None;
        }
        let topics = rest[..split].chunks_exact(32).map(B256::from_slice).collect();
        let data = LogData::new(topics, Bytes::copy_from_slice(&rest[split..]))?;
        Some(Self { block, index, data })
    }
}

/// What one [`step`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// No new confirmed block.
    Idle,
    /// The logs of the next confirmed blocks, up to and including checkpoint `to`.
    Advance {
        /// The logs, in chain order.
        logs: Vec<AgencyLog>,
        /// The new cursor.
        to: Checkpoint,
    },
    /// The newest checkpoint is no longer canonical: drop everything read after `to` (everything, when
    /// `None`) and read again.
    Reorg {
        /// The newest checkpoint that is still canonical.
        to: Option<Checkpoint>,
    },
}

/// Where and how to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    /// The agency.
    pub agency: Address,
    /// No agency event is older than this block.
    pub deploy_block: u64,
    /// Blocks that must be on top of a block before it is read.
    pub confirmations: u64,
    /// The most blocks one `eth_getLogs` spans.
    pub max_range: u64,
}

/// The head block as a [`step`] read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Its number.
    pub block: u64,
    /// Its hash.
    pub hash: B256,
    /// Its parent's hash.
    pub parent: B256,
    /// Its timestamp: the chain's time.
    pub timestamp: u64,
}

impl Head {
    /// Whether `checkpoint` is this block or its parent (so canonical), `None` when the header cannot say.
    fn vouches_for(&self, checkpoint: &Checkpoint) -> Option<bool> {
        if checkpoint.block == self.block {
            Some(checkpoint.hash == self.hash)
        } else if checkpoint.block + 1 == self.block {
            Some(checkpoint.hash == self.parent)
        } else {
            None
        }
    }
}

/// Reads the next step after `checkpoints` (newest first).
pub async fn step(provider: &DynProvider, source: &Source, checkpoints: &[Checkpoint]) -> Result<Step> {
    Ok(step_at(provider, source, checkpoints).await?.0)
}

/// Reads the next step after `checkpoints` (newest first), and the head it read.
pub async fn step_at(provider: &DynProvider, source: &Source, checkpoints: &[Checkpoint]) -> Result<(Step, Head)> {
    let head = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(Error::rpc("eth_getBlockByNumber"))?
        .map(|block| Head {
            block: block.header.number,
            hash: block.header.hash,
            parent: block.header.parent_hash,
            timestamp: block.header.timestamp,
        })
        .ok_or_else(|| {
            Error::rpc("eth_getBlockByNumber")(alloy::transports::TransportErrorKind::custom_str("no latest block"))
        })?;
    Ok((step_after(provider, source, checkpoints, &head).await?, head))
}

async fn step_after(provider: &DynProvider, source: &Source, checkpoints: &[Checkpoint], head: &Head) -> Result<Step> {
    let canonical = match checkpoints.first() {
        None => true,
        Some(newest) => match head.vouches_for(newest) {
            Some(canonical) => canonical,
            None => block_hash(provider, newest.block).await? == Some(newest.hash),
        },
    };
    if let (false, Some(newest)) = (canonical, checkpoints.first()) {
        let mut to = None;
        for checkpoint in &checkpoints[1..] {
            if block_hash(provider, checkpoint.block).await? == Some(checkpoint.hash) {
                to = Some(*checkpoint);
                break;
            }
        }
        tracing::warn!(block = newest.block, back_to = ?to.map(|c| c.block), "reorg: rolling back the event cursor");
        return Ok(Step::Reorg { to });
    }
    let Some(safe) = head.block.checked_sub(source.confirmations) else { return Ok(Step::Idle) };
    let from = checkpoints.first().map_or(source.deploy_block, |c| c.block + 1);
    if from > safe {
        return Ok(Step::Idle);
    }
    let to = safe.min(from.saturating_add(source.max_range.max(1) - 1));
    let to_hash = if to == head.block { Some(head.hash) } else { block_hash(provider, to).await? };
    let Some(to_hash) = to_hash else { return Ok(Step::Idle) };
    let filter = Filter::new().address(source.agency).from_block(from).to_block(to);
    let logs = provider.get_logs(&filter).await.map_err(Error::rpc("eth_getLogs"))?;
    // A reorg between the two reads would mix forks: the logs must come from the chain `to_hash` ends.
    if logs.iter().any(|log| log.block_number == Some(to) && log.block_hash != Some(to_hash))
        || block_hash(provider, to).await? != Some(to_hash)
    {
        return Ok(Step::Idle);
    }
    let logs = logs
        .into_iter()
        .map(|log| AgencyLog {
            block: log.block_number.unwrap_or(to),
            index: log.log_index.unwrap_or_default(),
            data: log.inner.data,
        })
        .collect();
    Ok(Step::Advance { logs, to: Checkpoint { block: to, hash: to_hash } })
}

async fn block_hash(provider: &DynProvider, number: u64) -> Result<Option<B256>> {
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Number(number))
        .await
        .map_err(Error::rpc("eth_getBlockByNumber"))?;
    Ok(block.map(|block| block.header.hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_vouches_for_itself_and_its_parent_only() {
        let head = Head { block: 10, hash: B256::repeat_byte(10), parent: B256::repeat_byte(9), timestamp: 0 };
        let at = |block, byte| Checkpoint { block, hash: B256::repeat_byte(byte) };
        assert_eq!(head.vouches_for(&at(10, 10)), Some(true));
        assert_eq!(head.vouches_for(&at(10, 1)), Some(false), "replaced at the head's height");
        assert_eq!(head.vouches_for(&at(9, 9)), Some(true));
        assert_eq!(head.vouches_for(&at(9, 1)), Some(false), "replaced below the head");
        assert_eq!(head.vouches_for(&at(8, 8)), None, "older: the header cannot say");
        assert_eq!(head.vouches_for(&at(11, 11)), None, "above the head: the header cannot say");
    }

    #[test]
    fn stored_form_round_trips_and_rejects_garbage() {
        let data = LogData::new(vec![B256::repeat_byte(1), B256::repeat_byte(2)], Bytes::from_static(b"payload"))
            .expect("two topics");
        let log = AgencyLog { block: 7, index: 3, data };
        assert_eq!(AgencyLog::decode(7, 3, &log.encode()), Some(log));
        assert_eq!(AgencyLog::decode(0, 0, &[]), None);
        assert_eq!(AgencyLog::decode(0, 0, &[5]), None);
        assert_eq!(AgencyLog::decode(0, 0, &[1, 0, 0]), None);
    }
}
