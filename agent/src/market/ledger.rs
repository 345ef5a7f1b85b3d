//! Where the ETH went, read from the chain alone: every receipt of the blocks a devnet run mined (gas
//! used and fee per transaction, each attributed to its job and operation by the agency's events), and
//! the balances of the accounts taking part before and after.

use std::collections::{BTreeMap, HashMap};

use alloy::{
    eips::BlockId,
    primitives::{Address, B256, I256, U256},
    providers::{DynProvider, Provider},
    sol_types::SolEvent,
};

use super::Result;
use crate::chain::{self, bindings::JobAgency};

/// Gas and fees of a range of blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Wei each sender paid for gas.
    pub fees: HashMap<Address, U256>,
    /// Gas of the transactions that touched each job.
    pub job_gas: HashMap<U256, u64>,
    /// Gas of each transaction, by operation (`post`, `claim`, …, `withdraw`, `reverted`, `other`).
    pub ops: BTreeMap<&'static str, Vec<u64>>,
}

/// The operation a transaction performed, from the first agency event it emitted: its name and the job.
fn operation(topics: &[B256], to_arbiter: bool) -> Option<(&'static str, Option<U256>)> {
    let name = match *topics.first()? {
        t if t == JobAgency::JobPosted::SIGNATURE_HASH => "post",
        t if t == JobAgency::JobClaimed::SIGNATURE_HASH => "claim",
        t if t == JobAgency::ResultSubmitted::SIGNATURE_HASH => "submit",
        t if t == JobAgency::JobChallenged::SIGNATURE_HASH => "challenge",
        t if t == JobAgency::ChallengeRevealed::SIGNATURE_HASH => "reveal",
        t if t == JobAgency::ClaimExpired::SIGNATURE_HASH => "expire",
        t if t == JobAgency::JobClosed::SIGNATURE_HASH && to_arbiter => "rule",
        t if t == JobAgency::JobClosed::SIGNATURE_HASH => "finalize",
        t if t == JobAgency::Withdrawn::SIGNATURE_HASH => return Some(("withdraw", None)),
        _ => return None,
    };
    Some((name, topics.get(1).map(|topic| U256::from_be_bytes(topic.0))))
}

/// Reads the receipts of blocks `from..=to`.
pub async fn read(provider: &DynProvider, agency: Address, arbiter: Address, from: u64, to: u64) -> Result<Ledger> {
    let mut ledger = Ledger::default();
    for block in from..=to {
        let receipts = provider
            .get_block_receipts(BlockId::number(block))
            .await
            .map_err(chain::Error::rpc("eth_getBlockReceipts"))?
            .unwrap_or_default();
        for receipt in receipts {
            let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
            *ledger.fees.entry(receipt.from).or_default() += fee;
            let to_arbiter = receipt.to == Some(arbiter);
            let op = receipt
                .inner
                .logs()
                .iter()
                .filter(|log| log.address() == agency)
                .find_map(|log| operation(log.topics(), to_arbiter));
            // A reverted transaction (such as a claim that lost the race, mined) emits nothing.
            let (name, job) = if receipt.status() { op.unwrap_or(("other", None)) } else { ("reverted", None) };
            ledger.ops.entry(name).or_default().push(receipt.gas_used);
            if let Some(job) = job {
                *ledger.job_gas.entry(job).or_default() += receipt.gas_used;
            }
        }
    }
    Ok(ledger)
}

/// One account's balances around a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Who it is (`poster`, `worker-1`, `JobAgency`, …).
    pub name: String,
    /// Its address.
    pub address: Address,
    /// Balance before the run.
    pub before: U256,
    /// Balance after it.
    pub after: U256,
    /// Wei it paid for gas in the run.
    pub fees: U256,
    /// Its credit left in the agency at the end (not withdrawn yet).
    pub credit: U256,
}

impl Account {
    /// The balance change, gas included.
    pub fn change(&self) -> I256 {
        I256::from_raw(self.after) - I256::from_raw(self.before)
    }

    /// The change before gas: what the market paid it or took from it.
    pub fn market(&self) -> I256 {
        self.change() + I256::from_raw(self.fees)
    }
}

/// Σ balance changes + Σ gas fees: zero when no wei appeared or vanished.
pub fn imbalance(accounts: &[Account]) -> I256 {
    accounts.iter().map(Account::market).fold(I256::ZERO, |a, b| a + b)
}

/// The balance of `address` at `block`.
pub async fn balance(provider: &DynProvider, address: Address, block: u64) -> Result<U256> {
    Ok(provider
        .get_balance(address)
        .block_id(BlockId::number(block))
        .await
        .map_err(chain::Error::rpc("eth_getBalance"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_by_their_first_event() {
        let job = B256::with_last_byte(7);
        assert_eq!(operation(&[JobAgency::JobPosted::SIGNATURE_HASH, job], false), Some(("post", Some(U256::from(7)))));
        assert_eq!(operation(&[JobAgency::JobClosed::SIGNATURE_HASH, job], true).map(|o| o.0), Some("rule"));
        assert_eq!(operation(&[JobAgency::JobClosed::SIGNATURE_HASH, job], false).map(|o| o.0), Some("finalize"));
        assert_eq!(operation(&[JobAgency::Withdrawn::SIGNATURE_HASH], false), Some(("withdraw", None)));
        assert_eq!(operation(&[B256::ZERO], false), None);
    }

    #[test]
    fn imbalance_counts_gas_as_spent() {
        let account = |before: u64, after: u64, fees: u64| Account {
            name: String::new(),
            address: Address::ZERO,
            before: U256::from(before),
            after: U256::from(after),
            fees: U256::from(fees),
            credit: U256::ZERO,
        };
        // 10 moved from the first to the second, which paid 2 in gas.
        assert!(imbalance(&[account(100, 90, 0), account(50, 58, 2)]).is_zero());
        assert!(!imbalance(&[account(100, 90, 0), account(50, 60, 2)]).is_zero());
    }
}
