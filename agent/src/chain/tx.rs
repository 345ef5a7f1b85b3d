//! Sending transactions: simulation, EIP-1559 fees, one nonce manager per key, retries with backoff.
//!
//! [`Transactions`] signs locally with the keys it holds and talks to the node only through
//! `eth_estimateGas`, `eth_feeHistory`, `eth_getTransactionCount`, `eth_sendRawTransaction`,
//! `eth_getTransactionByHash`, `eth_blockNumber` and `eth_getTransactionReceipt`.
//! For each call it:
//!
//! 1. simulates the call (`eth_estimateGas`): a call the contract would refuse fails here, before anything
//!    is signed or a nonce is taken, with the custom error named;
//! 2. prices it with EIP-1559 fees (the node's fee history, asked at most once per [`FEES_FRESH`] and shared
//!    by every send), capped by [`TxSettings::max_fee_per_gas`];
//! 3. takes the sender's nonce lock, and under it only takes the next nonce, signs (which fixes the hash)
//!    and sends; a transport failure is retried with the *same* signed bytes (resending is idempotent: the
//!    node answers "already known" or the receipt exists);
//! 4. waits for the receipt, riding out transport failures; a transaction the node dropped from its pool
//!    is sent again, the same bytes; one the node holds but leaves unmined while it is next in line (priced
//!    under the base fee, or lost track of by anvil's pool) is replaced after [`TxSettings::replace_after`]
//!    or [`REPLACE_AFTER_BLOCKS`] blocks:
//!    the same call and nonce at fees an eighth higher, whichever of them is mined counting; a mined
//!    transaction that failed is replayed as a call on its block's state to name the custom error.
//!
//! So several tasks of one agent send from one key side by side: they simulate, price and wait together,
//! and queue only for the nonce and the send (one round trip each).
//!
//! The nonce manager is a counter per key behind that lock, so two tasks of one agent never get one nonce.
//! It asks the node for the key's pending count whenever it could be wrong: when the key has no
//! transaction of this agent in flight (so a nonce that a reorg or a dropped transaction gave back, or one
//! another program used, is seen before the next send), and after any send the node refused (a "nonce too
//! low" or "too high" is then retried once with the fresh count). A refused send never leaves a gap, since
//! the counter only moves past a nonce the node accepted; and a simulation that reverts never takes one.
//!
//! Receipts come from one poller per [`Transactions`], shared by all its waiting sends: every
//! [`TxSettings::receipt_poll`] it reads the mined transaction count of each key with a send waiting
//! (`eth_getTransactionCount` at the latest block, one call per key), and asks for the receipt of each waiting
//! transaction whose nonce that count has passed (`eth_getTransactionReceipt`), handing each waiter its own.
//! So the node builds a receipt only for this agent's own mined transactions, never a whole block's: anvil
//! 1.7.1 spent 236 ms of CPU on `eth_getBlockReceipts` for a block of 1,000 transactions and 0.43 ms on one
//! `eth_getTransactionReceipt` in it (measured with a throwaway script, 2026-12-07), and the bench's blocks
//! hold hundreds. A waiter also asks for its receipt itself every [`RECHECK`], when it also checks that the
//! node still holds the transaction.

use std::{
    collections::{HashMap, hash_map::Entry},
    future::IntoFuture,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use alloy::{
    eips::{BlockId, eip2718::Encodable2718},
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
    transports::{RpcError, TransportError},
};
use tokio::{sync::oneshot, time::Instant};

use super::{Error, Result, bindings::Revert};

/// How long fees from the node's fee history are used before asking again.
pub const FEES_FRESH: Duration = Duration::from_secs(1);

/// How often a waiting send asks for its receipt itself and checks that the node still holds it, besides
/// the shared poller.
pub const RECHECK: Duration = Duration::from_secs(1);
/// The default [`TxSettings::replace_after`]: about a block on mainnet; on anvil, far longer than any
/// transaction next in line takes unless anvil lost track of it.
pub const REPLACE_AFTER: Duration = Duration::from_secs(12);
/// Blocks mined without a transaction that is next in line, after which it is replaced (sooner than
/// [`TxSettings::replace_after`] on a chain whose blocks come fast).
pub const REPLACE_AFTER_BLOCKS: u64 = 3;

/// How transport failures are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The first pause.
    pub first: Duration,
    /// The longest pause (each pause doubles up to it).
    pub max: Duration,
    /// Give up after retrying for this long.
    pub total: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { first: Duration::from_millis(100), max: Duration::from_secs(5), total: Duration::from_secs(60) }
    }
}

impl Backoff {
    /// Runs `attempt` until it succeeds, fails with a non-transient error, or [`Backoff::total`] has passed.
    pub async fn retry<T, F, Fut>(&self, what: &'static str, mut attempt: F) -> Result<T, TransportError>
    where
        F: FnMut() -> Fut,
        Fut: IntoFuture<Output = Result<T, TransportError>>,
    {
        let started = tokio::time::Instant::now();
        let mut pause = self.first;
        loop {
            match attempt().await {
                Err(error) if is_transient(&error) && started.elapsed() + pause <= self.total => {
                    tracing::warn!(what, %error, retry_in = ?pause, "RPC unreachable; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(self.max);
                }
                other => return other,
            }
        }
    }
}

/// Whether an RPC failure is worth retrying: the request did not reach the node or got no answer (a
/// refused connection, a timeout, a 5xx or 429), as opposed to the node answering with an error.
pub fn is_transient(error: &TransportError) -> bool {
    match error {
        RpcError::Transport(_) => true,
        RpcError::ErrorResp(payload) => payload.is_retry_err(),
        _ => false,
    }
}

/// How transactions are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxSettings {
    /// Retries of transport failures.
    pub backoff: Backoff,
    /// Gas limit = estimate × (100 + this) / 100: headroom for state that moves between simulation and
    /// inclusion.
    pub gas_margin_percent: u64,
    /// Never offer more than this many wei per gas (`None`: no cap).
    pub max_fee_per_gas: Option<u128>,
    /// How long to wait for a receipt.
    pub receipt_timeout: Duration,
    /// Pause between the shared receipt poller's looks at the mined transaction counts.
    pub receipt_poll: Duration,
    /// How long a transaction may wait unmined in the node's pool while it is next in line (its sender's
    /// mined count is its nonce) before the same call, same nonce, is sent again at higher fees; or
    /// [`REPLACE_AFTER_BLOCKS`] blocks, if they come sooner.
    pub replace_after: Duration,
}

impl Default for TxSettings {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            gas_margin_percent: 20,
            max_fee_per_gas: None,
            receipt_timeout: super::RECEIPT_TIMEOUT,
            receipt_poll: Duration::from_millis(20),
            replace_after: REPLACE_AFTER,
        }
    }
}

/// Signs and sends transactions for the keys of one wallet, with one nonce manager per key.
#[derive(Debug)]
pub struct Transactions {
    provider: DynProvider,
    wallet: EthereumWallet,
    chain_id: u64,
    settings: TxSettings,
    /// One nonce manager per key.
    keys: Mutex<HashMap<Address, Arc<Key>>>,
    /// The fees last asked for, and when; the lock is held while asking, so concurrent sends ask once.
    fees: tokio::sync::Mutex<Option<(Instant, Fees)>>,
    /// The sends waiting for their receipts.
    receipts: Arc<Receipts>,
}

/// One key's nonce manager.
#[derive(Debug, Default)]
struct Key {
    /// The next nonce to use (`None`: ask the node). Held while a nonce is taken and its transaction sent.
    next: tokio::sync::Mutex<Option<u64>>,
    /// This key's transactions sent by this agent and not yet settled (mined, or given up on).
    in_flight: AtomicUsize,
}

/// Counts one transaction of a key as in flight, until dropped.
#[derive(Debug)]
struct InFlight(Arc<Key>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// EIP-1559 fees, in wei per gas.
#[derive(Clone, Copy, Debug)]
struct Fees {
    max_fee: u128,
    priority: u128,
}

/// A transaction the node accepted.
#[derive(Debug)]
struct Signed {
    hash: B256,
    raw: Vec<u8>,
    nonce: u64,
    from: Address,
    /// Transactions this one replaced (same nonce, lower fees): any of them may still be the one mined.
    replaced: Vec<B256>,
    _in_flight: InFlight,
}

impl Transactions {
    /// A sender for `wallet`'s keys on chain `chain_id`, through `provider` (which needs no signer).
    pub fn new(provider: DynProvider, wallet: EthereumWallet, chain_id: u64, settings: TxSettings) -> Self {
        Self {
            provider,
            wallet,
            chain_id,
            settings,
            keys: Mutex::new(HashMap::new()),
            fees: tokio::sync::Mutex::new(None),
            receipts: Arc::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &TxSettings {
        &self.settings
    }

    fn key(&self, from: Address) -> Arc<Key> {
        let mut keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(keys.entry(from).or_default())
    }

    /// Simulates, prices, signs and sends `tx` (whose `from` must be one of the wallet's keys), then waits
    /// for its receipt. A successful receipt is returned; a revert, in simulation or on chain, is an error
    /// naming the contract's custom error.
    pub async fn send(&self, action: &'static str, mut tx: TransactionRequest) -> Result<TransactionReceipt> {
        let from = tx.from.ok_or(Error::NoSender { action })?;
        let estimate =
            self.settings.backoff.retry("eth_estimateGas", || self.provider.estimate_gas(tx.clone())).await.map_err(
                |error| match revert_data(&error) {
                    Some(data) => Error::Revert { action, revert: Revert::decode(&data) },
                    None => Error::rpc(action)(error),
                },
            )?;
        let fees = self.fees(action).await?;
        tx.set_gas_limit(estimate.saturating_mul(100 + self.settings.gas_margin_percent) / 100);
        tx.set_max_fee_per_gas(fees.max_fee);
        tx.set_max_priority_fee_per_gas(fees.priority);
        tx.set_chain_id(self.chain_id);

        let mut signed = self.sign_and_send(action, from, &mut tx).await?;
        tracing::debug!(action, hash = %signed.hash, %from, nonce = signed.nonce, "sent");
        let receipt = self.receipt(action, &mut signed, &mut tx).await?;
        drop(signed);
        if !receipt.status() {
            // Replay the call on the state its block left: a transaction that passed simulation and failed
            // on chain was usually overtaken by another in the same or an earlier block (another worker's
            // claim), and that state names the reason.
            let at = BlockId::number(receipt.block_number.unwrap_or_default());
            tx.gas = None;
            tx.nonce = None;
            let revert = match self.provider.call(tx).block(at).await {
                Err(error) => revert_data(&error).map(|data| Revert::decode(&data)),
                Ok(_) => None,
            };
            return Err(Error::RevertedOnChain { action, hash: receipt.transaction_hash, revert });
        }
        Ok(receipt)
    }

    /// The most wei per gas a send would offer now (the fees [`Transactions::send`] uses, from the same cache):
    /// what a job's gas is priced at.
    pub async fn max_fee_per_gas(&self) -> Result<u128> {
        Ok(self.fees("eth_feeHistory").await?.max_fee)
    }

    /// The node's EIP-1559 fees, capped by [`TxSettings::max_fee_per_gas`]; asked at most once per
    /// [`FEES_FRESH`].
    async fn fees(&self, action: &'static str) -> Result<Fees> {
        let mut cached = self.fees.lock().await;
        if let Some((at, fees)) = *cached
            && at.elapsed() < FEES_FRESH
        {
            return Ok(fees);
        }
        let estimate = self
            .settings
            .backoff
            .retry("eth_feeHistory", || self.provider.estimate_eip1559_fees())
            .await
            .map_err(Error::rpc(action))?;
        let (mut max_fee, mut priority) = (estimate.max_fee_per_gas, estimate.max_priority_fee_per_gas);
        if let Some(cap) = self.settings.max_fee_per_gas {
            max_fee = max_fee.min(cap);
            priority = priority.min(max_fee);
        }
        let fees = Fees { max_fee, priority };
        *cached = Some((Instant::now(), fees));
        Ok(fees)
    }

    /// Under `from`'s nonce lock: takes the next nonce, signs and sends. The counter moves only past a
    /// nonce the node accepted; any refusal makes the next send ask the node, and a refusal about the nonce
    /// is retried once with the node's count.
    async fn sign_and_send(&self, action: &'static str, from: Address, tx: &mut TransactionRequest) -> Result<Signed> {
        let key = self.key(from);
        let mut next = key.next.lock().await;
        if key.in_flight.load(Ordering::SeqCst) == 0 {
            // Nothing of ours in flight: whatever gave a nonce back (a reorg, a dropped transaction, another
            // program with this key) shows in the node's count.
            *next = None;
        }
        let mut asked = false;
        loop {
            let nonce = match *next {
                Some(nonce) => nonce,
                None => {
                    asked = true;
                    self.pending_nonce(action, from).await?
                }
            };
            tx.set_nonce(nonce);
            let (hash, raw) = self.sign(action, tx).await?;
            let accepted = self
                .settings
                .backoff
                .retry("eth_sendRawTransaction", || self.provider.send_raw_transaction(&raw))
                .await;
            if let Err(error) = accepted {
                // The node refused or never answered. If an earlier attempt got through, the transaction exists.
                if self.holds(hash).await {
                    tracing::debug!(action, %hash, "the node already had the transaction");
                } else {
                    *next = None;
                    if !asked && is_nonce_refusal(&error) {
                        tracing::warn!(action, %from, nonce, %error, "nonce refused; asking the node for the count");
                        continue;
                    }
                    return Err(Error::rpc(action)(error));
                }
            }
            *next = Some(nonce + 1);
            key.in_flight.fetch_add(1, Ordering::SeqCst);
            return Ok(Signed { hash, raw, nonce, from, replaced: Vec::new(), _in_flight: InFlight(Arc::clone(&key)) });
        }
    }

    /// Signs `tx` with its sender's key: its hash and its bytes as sent.
    async fn sign(&self, action: &'static str, tx: &TransactionRequest) -> Result<(B256, Vec<u8>)> {
        let envelope = tx
            .clone()
            .build(&self.wallet)
            .await
            .map_err(|source| Error::Sign { action, reason: source.to_string() })?;
        Ok((*envelope.tx_hash(), envelope.encoded_2718()))
    }

    /// `from`'s pending transaction count.
    async fn pending_nonce(&self, action: &'static str, from: Address) -> Result<u64> {
        self.settings
            .backoff
            .retry("eth_getTransactionCount", || self.provider.get_transaction_count(from).pending())
            .await
            .map_err(Error::rpc(action))
    }

    /// Whether the node knows the transaction (in its pool or mined).
    async fn holds(&self, hash: B256) -> bool {
        self.provider.get_transaction_by_hash(hash).await.ok().flatten().is_some()
    }

    /// The receipt of `hash` if it is mined, riding out transport failures.
    async fn receipt_now(&self, action: &'static str, hash: B256) -> Result<Option<TransactionReceipt>> {
        self.settings
            .backoff
            .retry("eth_getTransactionReceipt", || self.provider.get_transaction_receipt(hash))
            .await
            .map_err(Error::rpc(action))
    }

    /// Waits for the receipt until [`TxSettings::receipt_timeout`]: waits on the shared poller, asking itself
    /// every [`RECHECK`] (for every transaction `signed` replaced too), sending the same bytes again if the
    /// node no longer holds the transaction, and replacing it ([`Self::replace`], `tx` then holds the new fees)
    /// once it has been next in line for [`TxSettings::replace_after`] or [`REPLACE_AFTER_BLOCKS`] blocks.
    async fn receipt(
        &self,
        action: &'static str,
        signed: &mut Signed,
        tx: &mut TransactionRequest,
    ) -> Result<TransactionReceipt> {
        let deadline = Instant::now() + self.settings.receipt_timeout;
        let mut waiter = self.waiter(signed);
        let mut first = true;
        // Since when (and which head block) the transaction is known to be next in line and unmined.
        let mut next_since: Option<(Instant, Option<u64>)> = None;
        loop {
            // The poller asks within one `receipt_poll` of the send; this loop only when the poller has not
            // answered for a `RECHECK` (a replaced transaction mined, a node that lost track of it).
            if !first {
                for &hash in std::iter::once(&signed.hash).chain(&signed.replaced) {
                    if let Some(receipt) = self.receipt_now(action, hash).await? {
                        return Ok(receipt);
                    }
                }
                self.resend_if_dropped(action, signed).await?;
                let next_in_line = self
                    .provider
                    .get_transaction_count(signed.from)
                    .latest()
                    .await
                    .is_ok_and(|mined| mined == signed.nonce);
                let head = match next_in_line {
                    true => self.provider.get_block_number().await.ok(),
                    false => None,
                };
                next_since = if next_in_line { next_since.or(Some((Instant::now(), head))) } else { None };
                let due = next_since.is_some_and(|(at, block)| {
                    let blocks = block.zip(head).map_or(0, |(block, head)| head.saturating_sub(block));
                    at.elapsed() >= self.settings.replace_after || blocks >= REPLACE_AFTER_BLOCKS
                });
                if due && self.replace(action, signed, tx).await? {
                    waiter = self.waiter(signed);
                    next_since = None;
                }
            }
            first = false;
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::NoReceipt { action, hash: signed.hash, waited: self.settings.receipt_timeout });
            }
            match tokio::time::timeout(RECHECK.min(deadline - now), &mut waiter.receipt).await {
                Ok(Ok(receipt)) => return Ok(receipt),
                // The poller let go of this waiter (it cannot, short of a panic): wait on a new one.
                Ok(Err(_)) => waiter = self.waiter(signed),
                Err(_elapsed) => {}
            }
        }
    }

    /// A place among the shared poller's waiters for `signed`'s transaction.
    fn waiter(&self, signed: &Signed) -> Waiter {
        let sent = Pending { from: signed.from, nonce: signed.nonce };
        Receipts::wait(&self.receipts, signed.hash, sent, &self.provider, self.settings.receipt_poll)
    }

    /// Sends `tx` again with `signed`'s nonce and fees raised by an eighth (or to the node's current ones,
    /// if higher; node pools take a replacement only at 10 % more), and makes `signed` the new transaction.
    /// For one the node holds but does not mine: priced below the base fee, or (anvil, loaded) one its pool
    /// keeps waiting for a transaction already mined. Returns whether it was replaced: not at the fee cap,
    /// nor when the node refuses (the old one may have just been mined; the next look finds its receipt).
    async fn replace(&self, action: &'static str, signed: &mut Signed, tx: &mut TransactionRequest) -> Result<bool> {
        let now = self.fees(action).await?;
        let raise = |old: Option<u128>| old.map_or(0, |old| old.saturating_add(old / 8).saturating_add(1));
        let mut max_fee = raise(tx.max_fee_per_gas).max(now.max_fee);
        if let Some(cap) = self.settings.max_fee_per_gas {
            if tx.max_fee_per_gas.is_some_and(|old| old >= cap) {
                tracing::warn!(action, hash = %signed.hash, nonce = signed.nonce, "the transaction is not being mined and is at the fee cap: waiting");
                return Ok(false);
            }
            max_fee = max_fee.min(cap);
        }
        let priority = raise(tx.max_priority_fee_per_gas).max(now.priority).min(max_fee);
        let mut replacement = tx.clone();
        replacement.set_nonce(signed.nonce);
        replacement.set_max_fee_per_gas(max_fee);
        replacement.set_max_priority_fee_per_gas(priority);
        let (hash, raw) = self.sign(action, &replacement).await?;
        if let Err(error) = self.provider.send_raw_transaction(&raw).await {
            tracing::warn!(action, hash = %signed.hash, nonce = signed.nonce, %error, "the node refused the replacement");
            return Ok(false);
        }
        tracing::warn!(
            action,
            old = %signed.hash,
            new = %hash,
            nonce = signed.nonce,
            max_fee,
            "the transaction was next in line and not mined for {:?} or {REPLACE_AFTER_BLOCKS} blocks: sent it again at higher fees",
            self.settings.replace_after
        );
        signed.replaced.push(std::mem::replace(&mut signed.hash, hash));
        signed.raw = raw;
        *tx = replacement;
        Ok(true)
    }

    /// Sends `signed` again if the node no longer holds it and has not mined it (it dropped it from its pool,
    /// or a reorg left it out). A refusal means its nonce went to another transaction: the error.
    async fn resend_if_dropped(&self, action: &'static str, signed: &Signed) -> Result<()> {
        if !matches!(self.provider.get_transaction_by_hash(signed.hash).await, Ok(None)) {
            return Ok(());
        }
        match self.provider.send_raw_transaction(&signed.raw).await {
            Ok(_) => {
                tracing::warn!(action, hash = %signed.hash, nonce = signed.nonce, "the node had dropped the transaction; sent it again");
                Ok(())
            }
            Err(error) if is_transient(&error) || self.holds(signed.hash).await => Ok(()),
            Err(error) => {
                *self.key(signed.from).next.lock().await = None;
                Err(Error::rpc(action)(error))
            }
        }
    }
}

/// Whether the node refused a transaction for its nonce.
fn is_nonce_refusal(error: &TransportError) -> bool {
    error.as_error_resp().is_some_and(|payload| payload.message.to_ascii_lowercase().contains("nonce"))
}

/// The sends waiting for receipts, and whether the poller that serves them runs.
#[derive(Debug, Default)]
struct Receipts {
    waiting: Mutex<Waiting>,
}

#[derive(Debug, Default)]
struct Waiting {
    by_hash: HashMap<B256, (Pending, oneshot::Sender<TransactionReceipt>)>,
    polling: bool,
}

/// Who sent a waiting transaction, and its nonce: it is mined once the sender's mined count passes it.
#[derive(Clone, Copy, Debug)]
struct Pending {
    from: Address,
    nonce: u64,
}

/// One send's place among the waiters; leaves it when dropped.
struct Waiter {
    hub: Arc<Receipts>,
    hash: B256,
    receipt: oneshot::Receiver<TransactionReceipt>,
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.hub.lock().by_hash.remove(&self.hash);
    }
}

impl Receipts {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a waiter for `hash`, sent as `sent`, starting the poller if it is not running.
    fn wait(hub: &Arc<Self>, hash: B256, sent: Pending, provider: &DynProvider, every: Duration) -> Waiter {
        let (tell, receipt) = oneshot::channel();
        let mut waiting = hub.lock();
        waiting.by_hash.insert(hash, (sent, tell));
        if !waiting.polling {
            waiting.polling = true;
            tokio::spawn(Self::poll(Arc::clone(hub), provider.clone(), every));
        }
        Waiter { hub: Arc::clone(hub), hash, receipt }
    }

    /// Hands `receipt` to its waiter.
    fn deliver(&self, receipt: TransactionReceipt) {
        if let Some((_, tell)) = self.lock().by_hash.remove(&receipt.transaction_hash) {
            let _ = tell.send(receipt);
        }
    }

    /// Reads the mined count of each sender with a waiter, then the receipts of the waiting transactions it has
    /// passed, while anyone waits; stops when nobody does. A transaction whose nonce was passed but which has
    /// no receipt (another took its nonce, or the node indexes it a moment later) is asked for again next
    /// round; its waiter's own rechecks find out which.
    async fn poll(hub: Arc<Self>, provider: DynProvider, every: Duration) {
        loop {
            let sent: Vec<(B256, Pending)> = {
                let mut waiting = hub.lock();
                if waiting.by_hash.is_empty() {
                    waiting.polling = false;
                    return;
                }
                waiting.by_hash.iter().map(|(&hash, &(sent, _))| (hash, sent)).collect()
            };
            let mut mined: HashMap<Address, Option<u64>> = HashMap::new();
            for (hash, sent) in sent {
                let count = match mined.entry(sent.from) {
                    Entry::Occupied(known) => *known.get(),
                    Entry::Vacant(unknown) => {
                        *unknown.insert(provider.get_transaction_count(sent.from).latest().await.ok())
                    }
                };
                if count.is_some_and(|count| count > sent.nonce)
                    && let Ok(Some(receipt)) = provider.get_transaction_receipt(hash).await
                {
                    hub.deliver(receipt);
                }
            }
            tokio::time::sleep(every).await;
        }
    }
}

/// The revert data in an RPC error response, if the node reported a revert.
pub fn revert_data(error: &TransportError) -> Option<alloy::primitives::Bytes> {
    error.as_error_resp().and_then(|payload| payload.as_revert_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn backoff_gives_up_after_its_total_and_passes_node_errors_through() {
        let backoff = Backoff {
            first: Duration::from_millis(1),
            max: Duration::from_millis(4),
            total: Duration::from_millis(100),
        };
        let mut attempts = 0u32;
        let result: Result<(), TransportError> = backoff
            .retry("test", || {
                attempts += 1;
                async { Err(TransportError::Transport(alloy::transports::TransportErrorKind::BackendGone)) }
            })
            .await;
        assert!(result.is_err());
        // 1 + 2 + 4 × 24 ms ≤ 100 ms: about 26 attempts (fewer on a slow machine), never unbounded.
        assert!((3..=30).contains(&attempts), "{attempts} attempts");

        let mut attempts = 0u32;
        let result: Result<(), TransportError> = backoff
            .retry("test", || {
                attempts += 1;
                let answer = serde_json::from_str(r#"{"code":-32000,"message":"nonce too low"}"#).expect("a payload");
                async { Err(RpcError::ErrorResp(answer)) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(attempts, 1, "an answer from the node is not retried");
    }
}
