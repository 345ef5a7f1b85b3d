//! Reading the agency's events in order, with a confirmation depth and a reorg-safe cursor.
//!
//! The reader is stateless: the caller keeps the cursor (see `crate::state`) as *checkpoints*, the
//! number and hash of each block up to which it has read, newest first. Each [`step`]:
//!
//! 1. checks that the newest checkpoint's block is still canonical (same hash). If not, a reorg replaced
//!    it: the step answers [`Step::Reorg`] with the newest checkpoint that still is canonical (or `None`:
//!    start again from the deployment), and the caller drops every event after it and reads again;
//! 2. otherwise reads the logs of the next range of blocks that have at least `confirmations` blocks on
//!    top of them, and the hash of the range's last block, which becomes the next checkpoint.
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

/// Reads the next step after `checkpoints` (newest first).
pub async fn step(provider: &DynProvider, source: &Source, checkpoints: &[Checkpoint]) -> Result<Step> {
    if let Some(newest) = checkpoints.first()
        && block_hash(provider, newest.block).await? != Some(newest.hash)
    {
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
    let head = provider.get_block_number().await.map_err(Error::rpc("eth_blockNumber"))?;
    let Some(safe) = head.checked_sub(source.confirmations) else { return Ok(Step::Idle) };
    let from = checkpoints.first().map_or(source.deploy_block, |c| c.block + 1);
    if from > safe {
        return Ok(Step::Idle);
    }
    let to = safe.min(from.saturating_add(source.max_range.max(1) - 1));
    let Some(to_hash) = block_hash(provider, to).await? else { return Ok(Step::Idle) };
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
