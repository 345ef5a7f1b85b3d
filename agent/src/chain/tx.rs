//! Sending transactions: simulation, EIP-1559 fees, one nonce manager per key, retries with backoff.
//!
//! [`Transactions`] signs locally with the keys it holds and talks to the node only through
//! `eth_estimateGas`, `eth_feeHistory`, `eth_getTransactionCount`, `eth_sendRawTransaction` and
//! `eth_getTransactionReceipt`. For each call it:
//!
//! 1. takes the sender's nonce lock, so that two tasks of one agent never race for a nonce;
//! 2. simulates the call (`eth_estimateGas`): a call the contract would refuse fails here, before anything
//!    is signed, with the custom error named;
//! 3. prices it with EIP-1559 fees (the node's fee history), capped by [`TxSettings::max_fee_per_gas`];
//! 4. signs it, which fixes its hash, and sends it; a transport failure is retried with the *same* signed
//!    bytes (resending is idempotent: the node answers "already known" or the receipt exists);
//! 5. waits for the receipt, again riding out transport failures; a mined transaction that failed is
//!    replayed as a call on its block's state to name the custom error.
//!
//! The nonce manager is a lock per key held from simulation until the node has accepted the signed
//! transaction; under it the nonce is the node's pending count. So two tasks of one agent never race for a
//! nonce, and a nonce that a reorg or a dropped transaction gave back is reused at once instead of leaving
//! a gap that would make every later transaction wait forever (a locally cached counter would).

use std::{
    collections::HashMap,
    future::IntoFuture,
    sync::{Arc, Mutex},
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

use super::{Error, Result, bindings::Revert};

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
    /// Pause between receipt polls.
    pub receipt_poll: Duration,
}

impl Default for TxSettings {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            gas_margin_percent: 20,
            max_fee_per_gas: None,
            receipt_timeout: super::RECEIPT_TIMEOUT,
            receipt_poll: Duration::from_millis(50),
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
    /// One lock per key, held from simulation to the node's acceptance of the transaction.
    nonces: Mutex<HashMap<Address, Arc<tokio::sync::Mutex<()>>>>,
}

impl Transactions {
    /// A sender for `wallet`'s keys on chain `chain_id`, through `provider` (which needs no signer).
    pub fn new(provider: DynProvider, wallet: EthereumWallet, chain_id: u64, settings: TxSettings) -> Self {
        Self { provider, wallet, chain_id, settings, nonces: Mutex::new(HashMap::new()) }
    }

    /// The settings in force.
    pub fn settings(&self) -> &TxSettings {
        &self.settings
    }

    fn nonce_slot(&self, from: Address) -> Arc<tokio::sync::Mutex<()>> {
        let mut nonces = self.nonces.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(nonces.entry(from).or_default())
    }

    /// Simulates, prices, signs and sends `tx` (whose `from` must be one of the wallet's keys), then waits
    /// for its receipt. A successful receipt is returned; a revert, in simulation or on chain, is an error
    /// naming the contract's custom error.
    pub async fn send(&self, action: &'static str, mut tx: TransactionRequest) -> Result<TransactionReceipt> {
        let from = tx.from.ok_or(Error::NoSender { action })?;
        let backoff = self.settings.backoff;
        let rpc = |source| Error::Rpc { action, source: Box::new(source) };
        let slot = self.nonce_slot(from);
        let nonce_lock = slot.lock().await;

        let estimate =
            backoff.retry("eth_estimateGas", || self.provider.estimate_gas(tx.clone())).await.map_err(|error| {
                match revert_data(&error) {
                    Some(data) => Error::Revert { action, revert: Revert::decode(&data) },
                    None => rpc(error),
                }
            })?;
        let gas = estimate.saturating_mul(100 + self.settings.gas_margin_percent) / 100;
        let fees = backoff.retry("eth_feeHistory", || self.provider.estimate_eip1559_fees()).await.map_err(rpc)?;
        let (mut max_fee, mut priority) = (fees.max_fee_per_gas, fees.max_priority_fee_per_gas);
        if let Some(cap) = self.settings.max_fee_per_gas {
            max_fee = max_fee.min(cap);
            priority = priority.min(max_fee);
        }
        let nonce = backoff
            .retry("eth_getTransactionCount", || self.provider.get_transaction_count(from).pending())
            .await
            .map_err(rpc)?;
        tx.set_nonce(nonce);
        tx.set_gas_limit(gas);
        tx.set_max_fee_per_gas(max_fee);
        tx.set_max_priority_fee_per_gas(priority);
        tx.set_chain_id(self.chain_id);
        let envelope = tx
            .clone()
            .build(&self.wallet)
            .await
            .map_err(|source| Error::Sign { action, reason: source.to_string() })?;
        let hash = *envelope.tx_hash();
        let raw = envelope.encoded_2718();

        let accepted = backoff.retry("eth_sendRawTransaction", || self.provider.send_raw_transaction(&raw)).await;
        if let Err(error) = accepted {
            // The node refused or never answered. If an earlier attempt got through, the transaction exists.
            let known = self.provider.get_transaction_by_hash(hash).await.ok().flatten().is_some();
            if !known {
                return Err(rpc(error));
            }
            tracing::debug!(action, %hash, "the node already had the transaction");
        }
        drop(nonce_lock);
        tracing::debug!(action, %hash, %from, nonce, gas, max_fee, "sent");

        let receipt = self.receipt(action, hash).await?;
        if !receipt.status() {
            // Replay the call on the state its block left: a transaction that passed simulation and failed
            // on chain was usually overtaken by another in the same or an earlier block (another worker's
            // claim), and that state names the reason.
            let at = BlockId::number(receipt.block_number.unwrap_or_default());
            tx.gas = None;
            let revert = match self.provider.call(tx).block(at).await {
                Err(error) => revert_data(&error).map(|data| Revert::decode(&data)),
                Ok(_) => None,
            };
            return Err(Error::RevertedOnChain { action, hash, revert });
        }
        Ok(receipt)
    }

    /// Polls for `hash`'s receipt until [`TxSettings::receipt_timeout`], riding out transport failures.
    async fn receipt(&self, action: &'static str, hash: B256) -> Result<TransactionReceipt> {
        let deadline = tokio::time::Instant::now() + self.settings.receipt_timeout;
        loop {
            let found = self
                .settings
                .backoff
                .retry("eth_getTransactionReceipt", || self.provider.get_transaction_receipt(hash))
                .await
                .map_err(|source| Error::Rpc { action, source: Box::new(source) })?;
            if let Some(receipt) = found {
                return Ok(receipt);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::NoReceipt { action, hash, waited: self.settings.receipt_timeout });
            }
            tokio::time::sleep(self.settings.receipt_poll).await;
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
