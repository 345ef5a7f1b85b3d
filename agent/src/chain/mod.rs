//! Everything that talks to Ethereum: the generated bindings ([`bindings`]), job records rebuilt from
//! events ([`job`]), where the contracts are ([`Deployment`]) and a client that sends the agency's
//! transactions and reads its state ([`Agency`]).
//!
//! Every transaction is simulated first (the provider estimates its gas), so a call the agency would
//! refuse fails before anything is sent, with the contract's custom error named ([`Error::Revert`]).

pub mod bindings;
pub mod https;
pub mod job;
pub mod jury;
pub mod tx;
pub mod watch;

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use alloy::{
    contract::{CallBuilder, CallDecoder},
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::client::{ClientBuilder, RpcClient},
    rpc::types::{Filter, TransactionReceipt},
    signers::local::PrivateKeySigner,
    sol_types::SolEventInterface,
    transports::{TransportError, http::reqwest::Url},
};
use serde::Deserialize;

use self::{
    bindings::{JobAgencyEvents, JobAgencyInstance, Revert, TrustedArbiterInstance},
    job::{Job, JobSpec, JobView, Ruling},
};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The contract refused the call (found when simulating it, before sending).
    #[error("{action} reverted: {revert}")]
    Revert {
        /// What was attempted, such as `claim`.
        action: &'static str,
        /// The decoded custom error.
        revert: Revert,
    },
    /// The transaction was mined but failed.
    #[error("{action}: transaction {hash} was mined but reverted")]
    FailedOnChain {
        /// What was attempted.
        action: &'static str,
        /// The transaction's hash.
        hash: B256,
    },
    /// The transaction was mined but failed; `revert` is the error a replay of the call names.
    #[error("{action}: transaction {hash} was mined but reverted{}", revert.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    RevertedOnChain {
        /// What was attempted.
        action: &'static str,
        /// The transaction's hash.
        hash: B256,
        /// The decoded custom error, when the replay reproduced it.
        revert: Option<Revert>,
    },
    /// A transaction to send names no sender.
    #[error("{action}: the transaction has no `from`")]
    NoSender {
        /// What was attempted.
        action: &'static str,
    },
    /// Signing failed (the sender's key is not in the wallet, or a field is missing).
    #[error("{action}: cannot sign the transaction: {reason}")]
    Sign {
        /// What was attempted.
        action: &'static str,
        /// Why.
        reason: String,
    },
    /// No receipt came in time.
    #[error("{action}: transaction {hash} was sent but not mined within {waited:?}")]
    NoReceipt {
        /// What was attempted.
        action: &'static str,
        /// The transaction's hash.
        hash: B256,
        /// How long the agent waited.
        waited: Duration,
    },
    /// Building, sending or decoding a contract call failed other than by a revert.
    #[error("{action}: {source}")]
    Contract {
        /// What was attempted.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// A JSON-RPC request failed.
    #[error("{action}: RPC request failed: {source}")]
    Rpc {
        /// What was attempted.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: Box<TransportError>,
    },
    /// An expected event is not in a receipt.
    #[error("{action}: transaction {hash} emitted no {event} event")]
    MissingEvent {
        /// What was attempted.
        action: &'static str,
        /// The transaction's hash.
        hash: B256,
        /// The event's name.
        event: &'static str,
    },
    /// A log of the agency did not decode as one of its events.
    #[error("log {index:?} of transaction {hash:?} does not decode as a JobAgency event: {source}")]
    BadLog {
        /// The log's transaction.
        hash: Option<B256>,
        /// The log's index in its block.
        index: Option<u64>,
        /// Why.
        #[source]
        source: Box<alloy::sol_types::Error>,
    },
    /// The events do not make a consistent history.
    #[error(transparent)]
    Job(#[from] job::Error),
    /// The TLS settings of an `https://` endpoint are unusable.
    #[error(transparent)]
    Tls(#[from] https::Error),
    /// No `JobPosted` names the job.
    #[error("job {0:#x} was never posted on this agency")]
    UnknownJob(U256),
    /// The record rebuilt from events is not the one the agency stores: events are missing (a node
    /// that lags, or a reorg), or the bindings do not match the deployed contract.
    #[error("job {job_id:#x}: the record rebuilt from events hashes to {rebuilt}, but the agency stores {stored}")]
    RecordMismatch {
        /// The job.
        job_id: U256,
        /// `hash_job` of the rebuilt record.
        rebuilt: B256,
        /// `jobHash(jobId)` on chain.
        stored: B256,
    },
    /// The deployment file cannot be read.
    #[error("cannot read the deployment file {path}: {source}")]
    DeploymentIo {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The deployment file is not the JSON `script/Deploy.s.sol` writes.
    #[error(
        "{path} is not a deployment file (chainId, jobAgency, trustedArbiter, arbiterOwner, deployBlock, auditRate, minAuditFee): {source}"
    )]
    DeploymentJson {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The contract's custom error, when the call was refused by one.
    pub fn revert(&self) -> Option<&Revert> {
        match self {
            Self::Revert { revert, .. } => Some(revert),
            Self::RevertedOnChain { revert, .. } => revert.as_ref(),
            _ => None,
        }
    }

    pub(crate) fn contract(action: &'static str, source: alloy::contract::Error) -> Self {
        match source.as_revert_data() {
            Some(data) => Self::Revert { action, revert: Revert::decode(&data) },
            None => Self::Contract { action, source: Box::new(source) },
        }
    }

    /// `Error::Rpc` for a failed `action` (the JSON-RPC method, or what the call was for), for `map_err`.
    pub fn rpc(action: &'static str) -> impl Fn(TransportError) -> Self + Copy {
        move |source| Self::Rpc { action, source: Box::new(source) }
    }
}

/// Where the contracts are: the file `script/Deploy.s.sol` writes to `deployments/<chainId>.json`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The chain the contracts are on.
    pub chain_id: u64,
    /// The `JobAgency`.
    pub job_agency: Address,
    /// The `TrustedArbiter` deployed with it.
    pub trusted_arbiter: Address,
    /// The arbiter's owner, who rules.
    pub arbiter_owner: Address,
    /// The block the deployment started at: no agency event is older.
    pub deploy_block: u64,
    /// The `JuryArbiter` deployed with it (absent from files written before the jury existed).
    #[serde(default)]
    pub jury_arbiter: Option<Address>,
    /// The agency's `auditRate`: the probability, in basis points, that a job with an audit fee is audited.
    pub audit_rate: u64,
    /// The agency's `minAuditFee`, in wei: the least audit fee a job may carry.
    pub min_audit_fee: U256,
}

impl Deployment {
    /// Reads a deployment file.
    pub fn load(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::DeploymentIo { path: shown.clone(), source })?;
        serde_json::from_str(&text).map_err(|source| Error::DeploymentJson { path: shown, source })
    }
}

/// How long to wait for a sent transaction's receipt.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a WebSocket connection waits before its first reconnect attempt (then doubling, up to 30 s).
pub const WS_RECONNECT: Duration = Duration::from_millis(500);

/// A provider that signs with the given keys (the transaction's `from` picks one) and fills gas (by
/// estimating it, which simulates the call), EIP-1559 fees, nonce and chain id, over HTTP.
pub fn connect(url: Url, signers: impl IntoIterator<Item = PrivateKeySigner>) -> DynProvider {
    provider_on(RpcClient::new_http(url), signers)
}

/// A provider without keys for `url`: HTTP, HTTPS or WebSocket (`ws://`, `wss://`); TLS is rustls on ring,
/// trusting Mozilla's roots and the certificates in `ca_file` ([`https`]). Everything the agent reads
/// (events included: they are polled with `eth_getLogs`) and sends goes over the one endpoint. When a
/// WebSocket endpoint goes away the socket reconnects by itself, for as long as it takes (every
/// [`WS_RECONNECT`], doubling up to 30 s); requests made meanwhile wait and go out on the new connection, and
/// the ones in flight are sent again (resending a signed transaction is idempotent).
pub async fn connect_endpoint(url: Url, ca_file: Option<&Path>) -> Result<DynProvider> {
    let client = match url.scheme() {
        "ws" | "wss" => {
            let ws = https::WsEndpoint::new(url, https::client_config(ca_file)?, WS_RECONNECT);
            ClientBuilder::default().pubsub(ws).await.map_err(Error::rpc("connect"))?
        }
        "https" => {
            let local = alloy::transports::utils::guess_local_url(url.as_str());
            RpcClient::new(https::HttpsTransport::new(url, https::client_config(ca_file)?), local)
        }
        _ => RpcClient::new_http(url),
    };
    Ok(provider_on(client, []))
}

/// The provider over `client`, with the agent's fillers.
///
/// The nonce is the node's pending transaction count, asked for each transaction: alloy's default cache
/// advances even when the gas estimate fails, and the next transaction from that key would then wait
/// forever behind a nonce gap.
fn provider_on(client: RpcClient, signers: impl IntoIterator<Item = PrivateKeySigner>) -> DynProvider {
    let mut signers = signers.into_iter();
    let builder = ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id();
    match signers.next() {
        Some(first) => {
            let mut wallet = EthereumWallet::from(first);
            for signer in signers {
                wallet.register_signer(signer);
            }
            builder.wallet(wallet).connect_client(client).erased()
        }
        None => builder.connect_client(client).erased(),
    }
}

/// What a mined transaction did: its hash, its cost and the agency events it emitted.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The transaction's hash.
    pub hash: B256,
    /// Who sent and paid for it.
    pub from: Address,
    /// The block it was mined in.
    pub block: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Wei paid for gas: gas used × effective gas price.
    pub fee: U256,
    /// The agency's events in it, in order.
    pub events: Vec<JobAgencyEvents>,
    /// Every log of the transaction (any contract's), in order.
    pub logs: Vec<alloy::primitives::Log>,
}

impl Sent {
    /// The first of its events that `pick` selects; `MissingEvent` if the agency emitted none.
    fn expect_event<T>(
        &self,
        action: &'static str,
        event: &'static str,
        pick: impl Fn(&JobAgencyEvents) -> Option<T>,
    ) -> Result<T> {
        self.events.iter().find_map(pick).ok_or(Error::MissingEvent { action, hash: self.hash, event })
    }
}

/// A client of one deployed `JobAgency` and its `TrustedArbiter`.
#[derive(Clone, Debug)]
pub struct Agency {
    provider: DynProvider,
    agency: JobAgencyInstance<DynProvider>,
    arbiter: TrustedArbiterInstance<DynProvider>,
    deploy_block: u64,
    /// When set, transactions go through it ([`tx`]: nonce manager, EIP-1559 fees, retries) instead of the
    /// provider's fillers.
    transactions: Option<Arc<tx::Transactions>>,
}

impl Agency {
    /// A client of the contracts in `deployment`, through `provider`.
    pub fn new(provider: DynProvider, deployment: &Deployment) -> Self {
        Self {
            agency: JobAgencyInstance::new(deployment.job_agency, provider.clone()),
            arbiter: TrustedArbiterInstance::new(deployment.trusted_arbiter, provider.clone()),
            provider,
            deploy_block: deployment.deploy_block,
            transactions: None,
        }
    }

    /// This client, sending its transactions through `transactions`.
    pub fn with_transactions(mut self, transactions: Arc<tx::Transactions>) -> Self {
        self.transactions = Some(transactions);
        self
    }

    /// The deployment's first block.
    pub fn deploy_block(&self) -> u64 {
        self.deploy_block
    }

    /// The agency's address.
    pub fn address(&self) -> Address {
        *self.agency.address()
    }

    /// The trusted arbiter's address.
    pub fn arbiter_address(&self) -> Address {
        *self.arbiter.address()
    }

    /// The provider this client sends through.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The most wei per gas this client's transactions offer now: through [`tx::Transactions`] its cached
    /// fees (asked at most once per [`tx::FEES_FRESH`] for all sends and readers), otherwise the node's estimate.
    pub async fn max_fee_per_gas(&self) -> Result<u128> {
        match &self.transactions {
            Some(transactions) => transactions.max_fee_per_gas().await,
            None => {
                Ok(self.provider.estimate_eip1559_fees().await.map_err(Error::rpc("eth_feeHistory"))?.max_fee_per_gas)
            }
        }
    }

    /// Posts a job from `poster`, escrowing `spec.payment`. Returns the new job's id.
    pub async fn post(&self, poster: Address, spec: JobSpec) -> Result<(U256, Sent)> {
        let value = U256::from(spec.payment) + U256::from(spec.auditFee);
        let sent = self.send("post", self.agency.post(spec).from(poster).value(value)).await?;
        let job_id = sent.expect_event("post", "JobPosted", |event| match event {
            JobAgencyEvents::JobPosted(posted) => Some(posted.jobId),
            _ => None,
        })?;
        Ok((job_id, sent))
    }

    /// The poster cancels an Open job.
    pub async fn cancel(&self, poster: Address, job_id: U256, job: &Job) -> Result<Sent> {
        self.send("cancel", self.agency.cancel(job_id, job.clone()).from(poster)).await
    }

    /// `worker` claims an Open job, locking its bond.
    pub async fn claim(&self, worker: Address, job_id: U256, job: &Job) -> Result<Sent> {
        let bond = U256::from(job.workerBond);
        self.send("claim", self.agency.claim(job_id, job.clone()).from(worker).value(bond)).await
    }

    /// The claimant submits its result's CID (binary).
    pub async fn submit(&self, worker: Address, job_id: U256, job: &Job, result_cid: &[u8]) -> Result<Sent> {
        let call = self.agency.submit(job_id, job.clone(), Bytes::copy_from_slice(result_cid)).from(worker);
        self.send("submit", call).await
    }

    /// Anyone pays out an unchallenged result after its window.
    pub async fn finalize(&self, from: Address, job_id: U256, job: &Job) -> Result<Sent> {
        self.send("finalize", self.agency.finalize(job_id, job.clone()).from(from)).await
    }

    /// Anyone runs the audit draw of a submitted job (from the block after its `auditBlock`): a selected job
    /// becomes Audited, otherwise its draw is cleared.
    pub async fn draw_audit(&self, from: Address, job_id: U256, job: &Job) -> Result<Sent> {
        self.send("drawAudit", self.agency.drawAudit(job_id, job.clone()).from(from)).await
    }

    /// `challenger` disputes a submitted result with a sealed result of its own, locking its bond.
    pub async fn challenge(&self, challenger: Address, job_id: U256, job: &Job, seal: B256) -> Result<Sent> {
        let bond = U256::from(job.challengeBond);
        self.send("challenge", self.agency.challenge(job_id, job.clone(), seal).from(challenger).value(bond)).await
    }

    /// The challenger opens its seal.
    pub async fn reveal(
        &self,
        challenger: Address,
        job_id: U256,
        job: &Job,
        result_cid: &[u8],
        salt: B256,
    ) -> Result<Sent> {
        let call = self.agency.reveal(job_id, job.clone(), Bytes::copy_from_slice(result_cid), salt).from(challenger);
        self.send("reveal", call).await
    }

    /// The trusted arbiter's owner rules on a Disputed job (through `TrustedArbiter.rule`).
    pub async fn rule(&self, owner: Address, job_id: U256, job: &Job, ruling: Ruling) -> Result<Sent> {
        let call = self.arbiter.rule(self.address(), job_id, job.into(), ruling.into()).from(owner);
        self.send("rule", call).await
    }

    /// Whether the audit draw with `audit_block` selects the job (reverts with `AuditPending` until the block
    /// after `audit_block`).
    pub async fn audit_selected(&self, job_id: U256, audit_block: u64) -> Result<bool> {
        let block = alloy::primitives::Uint::<40, 1>::saturating_from(audit_block);
        self.agency.auditSelected(job_id, block).call().await.map_err(|e| Error::contract("auditSelected", e))
    }

    /// Anyone moves on a job whose deadline has passed.
    pub async fn expire(&self, from: Address, job_id: U256, job: &Job) -> Result<Sent> {
        self.send("expire", self.agency.expire(job_id, job.clone()).from(from)).await
    }

    /// `account` withdraws all its credit. Returns the amount.
    pub async fn withdraw(&self, account: Address) -> Result<(U256, Sent)> {
        let sent = self.send("withdraw", self.agency.withdraw().from(account)).await?;
        let amount = sent.expect_event("withdraw", "Withdrawn", |event| match event {
            JobAgencyEvents::Withdrawn(withdrawn) => Some(withdrawn.amount),
            _ => None,
        })?;
        Ok((amount, sent))
    }

    /// Wei `account` can withdraw.
    pub async fn credit_of(&self, account: Address) -> Result<U256> {
        self.agency.creditOf(account).call().await.map_err(|e| Error::contract("creditOf", e))
    }

    /// The hash the agency stores for a job (zero once it closed).
    pub async fn job_hash(&self, job_id: U256) -> Result<B256> {
        self.agency.jobHash(job_id).call().await.map_err(|e| Error::contract("jobHash", e))
    }

    /// The agency's own `hashJob`, for checking [`job::hash_job`].
    pub async fn hash_job_on_chain(&self, job: &Job) -> Result<B256> {
        self.agency.hashJob(job.clone()).call().await.map_err(|e| Error::contract("hashJob", e))
    }

    /// Every agency event since the deployment, in log order.
    pub async fn events(&self) -> Result<Vec<JobAgencyEvents>> {
        let filter = Filter::new().address(self.address()).from_block(self.deploy_block);
        let logs = self.provider.get_logs(&filter).await.map_err(Error::rpc("eth_getLogs"))?;
        logs.iter()
            .map(|log| {
                JobAgencyEvents::decode_log(&log.inner).map(|decoded| decoded.data).map_err(|source| Error::BadLog {
                    hash: log.transaction_hash,
                    index: log.log_index,
                    source: Box::new(source),
                })
            })
            .collect()
    }

    /// Every job of the agency, rebuilt from its events.
    pub async fn jobs(&self) -> Result<BTreeMap<U256, JobView>> {
        Ok(job::fold(&self.events().await?)?)
    }

    /// One job rebuilt from the events, checked against the hash the agency stores while it is live.
    pub async fn job(&self, job_id: U256) -> Result<JobView> {
        let view = self.jobs().await?.remove(&job_id).ok_or(Error::UnknownJob(job_id))?;
        if view.outcome.is_none() {
            let stored = self.job_hash(job_id).await?;
            let rebuilt = job::hash_job(&view.record);
            if stored != rebuilt {
                return Err(Error::RecordMismatch { job_id, rebuilt, stored });
            }
        }
        Ok(view)
    }

    /// Simulates (estimates gas for) and sends a call, waits for its receipt and decodes its events.
    pub(crate) async fn send<D: CallDecoder>(
        &self,
        action: &'static str,
        call: CallBuilder<&DynProvider, D>,
    ) -> Result<Sent> {
        if let Some(transactions) = &self.transactions {
            let receipt = transactions.send(action, call.into_transaction_request()).await?;
            return self.sent(action, &receipt);
        }
        let pending = call.send().await.map_err(|e| Error::contract(action, e))?;
        let receipt = pending.with_timeout(Some(RECEIPT_TIMEOUT)).get_receipt().await.map_err(|e| Error::Contract {
            action,
            source: Box::new(alloy::contract::Error::PendingTransactionError(e)),
        })?;
        let sent = self.sent(action, &receipt)?;
        tracing::debug!(action, hash = %sent.hash, from = %sent.from, gas = sent.gas_used, "mined");
        Ok(sent)
    }

    fn sent(&self, action: &'static str, receipt: &TransactionReceipt) -> Result<Sent> {
        let hash = receipt.transaction_hash;
        if !receipt.status() {
            return Err(Error::FailedOnChain { action, hash });
        }
        let events =
            receipt
                .inner
                .logs()
                .iter()
                .filter(|log| log.address() == self.address())
                .map(|log| {
                    JobAgencyEvents::decode_log(&log.inner).map(|decoded| decoded.data).map_err(|source| {
                        Error::BadLog { hash: Some(hash), index: log.log_index, source: Box::new(source) }
                    })
                })
                .collect::<Result<_>>()?;
        Ok(Sent {
            hash,
            from: receipt.from,
            block: receipt.block_number.unwrap_or_default(),
            gas_used: receipt.gas_used,
            fee: U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price),
            events,
            logs: receipt.inner.logs().iter().map(|log| log.inner.clone()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file as `script/Deploy.s.sol` writes it (`vm.serializeUint` writes JSON numbers).
    #[test]
    fn loads_the_deployment_file_forge_writes() {
        let text = r#"{"arbiterOwner":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","auditRate":500,
            "chainId":31337,"deployBlock":0,"jobAgency":"0x5FbDB2315678afecb367f032d93F642f64180aa3",
            "juryArbiter":"0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0","minAuditFee":500000000000000,
            "trustedArbiter":"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"}"#;
        let deployment: Deployment = serde_json::from_str(text).expect("a deployment file");
        assert_eq!(deployment.audit_rate, 500);
        assert_eq!(deployment.min_audit_fee, U256::from(500_000_000_000_000u64));
        assert_eq!(deployment.chain_id, 31337);
    }
}
