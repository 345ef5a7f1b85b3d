//! `jsjob post`, `status`, `result` and `withdraw`: what a poster does and reads.

use std::path::Path;

use alloy::{
    primitives::{
        Address, B256, Bytes, U256,
        aliases::{U40, U96},
    },
    providers::Provider,
};

use super::{Error, Result, Session, seams::engine_name, short};
use crate::{
    chain::{
        bindings::format_eth,
        job::{JobSpec, JobView, Outcome},
    },
    cid::Cid,
    exec::{JobInput, Seed},
};

/// A job to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms {
    /// The code: a file (added to the store) or a CID.
    pub code: String,
    /// The input: a file (added to the store) or a CID.
    pub input: String,
    /// Inline options bytes (sent as `0x00 ‖ bytes`; none when empty).
    pub options: Vec<u8>,
    /// Payment, in wei.
    pub payment: U256,
    /// The worker's bond, in wei.
    pub bond: U256,
    /// A challenger's bond, in wei.
    pub challenge_bond: U256,
    /// The arbiter's fee, in wei, paid from the losing side's bond when it rules.
    pub arbiter_fee: U256,
    /// The audit fee, in wei, paid on top of the payment for the chance of a random audit (the deployment's
    /// minimum when `None`).
    pub audit_fee: Option<U256>,
    /// Seconds a worker has to claim, from now.
    pub claim_within: u64,
    /// Seconds a worker has to run and submit, from its claim.
    pub execution_time: u32,
    /// The challenge window, in seconds.
    pub window: u32,
    /// The arbiter's window, in seconds.
    pub dispute_window: u32,
    /// The engine build id, such as `v8/deno-2.9.6`.
    pub engine: String,
    /// The arbiter (the deployment's trusted arbiter when `None`).
    pub arbiter: Option<Address>,
    /// Least reputation a worker needs.
    pub min_reputation: u32,
}

/// A file's content added to the store, or a CID taken as it is.
async fn resolve(session: &Session, what: &str, arg: &str) -> Result<Cid> {
    let path = Path::new(arg);
    if path.is_file() {
        let bytes = tokio::fs::read(path).await.map_err(|source| Error::Io { path: path.to_owned(), source })?;
        return Ok(session.content.put(&bytes).await?);
    }
    let cid = arg
        .parse::<Cid>()
        .map_err(|error| Error::Usage(format!("{what} {arg:?} is neither a file nor a CID ({error})")))?;
    // Content held elsewhere is legitimate, but a CID nobody serves leaves the job unworked until it expires.
    if !session.content.has(&cid).await? {
        tracing::warn!(
            "{what} {cid} is not in this agent's store (store.dir / store.api): workers claim the job only if they \
             can fetch it, so make sure some node serves it, or give the file instead"
        );
    }
    Ok(cid)
}

/// An amount as the spec's 96-bit field holds it.
fn amount(what: &str, wei: U256) -> Result<U96> {
    if wei > U256::from(U96::MAX) {
        return Err(Error::Usage(format!("{what} of {} ETH is too large", format_eth(wei))));
    }
    Ok(wei.to())
}

/// Stores the code and input (when files), posts the job, and returns its id.
pub async fn post(session: &Session, terms: &Terms) -> Result<U256> {
    let poster = session.account()?;
    let code = resolve(session, "CODE", &terms.code).await?;
    let input = resolve(session, "INPUT", &terms.input).await?;
    if terms.engine.len() > 32 || !terms.engine.is_ascii() {
        return Err(Error::Usage(format!("engine {:?} is not an ASCII id of at most 32 bytes", terms.engine)));
    }
    let now = session.chain_time().await?;
    let audit_fee = terms.audit_fee.unwrap_or(session.deployment.min_audit_fee);
    let spec = JobSpec {
        codeCid: Bytes::copy_from_slice(code.as_bytes()),
        inputCid: Bytes::copy_from_slice(input.as_bytes()),
        options: super::encode_options(&terms.options),
        engine: B256::right_padding_from(terms.engine.as_bytes()),
        payment: amount("payment", terms.payment)?,
        workerBond: amount("bond", terms.bond)?,
        challengeBond: amount("challenge bond", terms.challenge_bond)?,
        arbiterFee: amount("arbiter fee", terms.arbiter_fee)?,
        auditFee: amount("audit fee", audit_fee)?,
        claimDeadline: U40::from(now + terms.claim_within),
        executionTime: terms.execution_time,
        challengeWindow: terms.window,
        disputeWindow: terms.dispute_window,
        minReputation: terms.min_reputation,
        arbiter: terms.arbiter.unwrap_or(session.deployment.trusted_arbiter),
    };
    let balance = session.provider.get_balance(poster).await.map_err(crate::chain::Error::rpc("eth_getBalance"))?;
    let escrow = terms.payment.saturating_add(audit_fee);
    if balance < escrow {
        return Err(Error::InsufficientFunds {
            account: poster,
            balance: format_eth(balance),
            needed: format_eth(escrow),
            what: "the job's payment and audit fee, plus gas".into(),
        });
    }
    let (id, sent) = session.agency.post(poster, spec).await?;
    tracing::info!(job = %short(id), %code, %input, tx = %sent.hash, "posted");
    Ok(id)
}

/// One line about a job.
pub fn describe(view: &JobView) -> String {
    let state = match view.outcome {
        Some(outcome) => format!("closed ({outcome:?})"),
        None => format!("{:?} until {}", view.status(), view.record.deadline),
    };
    let result = view.result_cid.as_deref().and_then(|bytes| Cid::from_bytes(bytes).ok());
    let result = result.map(|cid| format!(", result {cid}")).unwrap_or_default();
    let worker =
        if view.record.worker == Address::ZERO { String::new() } else { format!(", worker {}", view.record.worker) };
    format!(
        "{:#x}: {state}, payment {} ETH, engine {}{worker}{result}",
        view.id,
        format_eth(U256::from(view.spec.payment)),
        engine_name(view.spec.engine)
    )
}

/// The result the market settled on: the challenger's when it was upheld, else the worker's.
pub fn settled_result(view: &JobView) -> Result<Option<Cid>> {
    let bytes = match view.outcome {
        Some(Outcome::ChallengerUpheld) => view.challenge_cid.as_deref(),
        Some(
            Outcome::Finalized
            | Outcome::WorkerUpheld
            | Outcome::ChallengeForfeited
            | Outcome::AuditPassed
            | Outcome::AuditTimedOut,
        ) => view.result_cid.as_deref(),
        Some(_) => None,
        None => view.result_cid.as_deref(),
    };
    Ok(bytes.map(|bytes| Cid::from_bytes(bytes)).transpose()?)
}

/// The job's result, fetched and verified against its CID.
pub async fn result(session: &Session, id: U256) -> Result<(Cid, Vec<u8>)> {
    let view = session.agency.job(id).await?;
    let cid = settled_result(&view)?
        .ok_or_else(|| Error::Usage(format!("job {id:#x} has no result ({})", describe(&view))))?;
    let bytes = session.content.get(&cid).await?;
    Ok((cid, bytes))
}

/// Runs a functional check of job `id`'s result `output`: `code` is a job whose input is the claim
/// `{"input": <the job's input text>, "options": <its options text or null>, "output": <output text, or
/// base64 when binary>}` and which returns `{"ok": true, …}` for a good result or fails with the reason
/// (the form of `examples/*/check.js`). It runs in the job's own engine, sandboxed like the job. Returns
/// the check's verdict; a refusal is [`Error::CheckFailed`].
pub async fn check(session: &Session, id: U256, code: &[u8], output: &[u8], binary: bool) -> Result<String> {
    use base64::Engine as _;
    let view = session.agency.job(id).await?;
    let input = session.content.get(&Cid::from_bytes(&view.spec.inputCid)?).await?;
    let options = session.options(&view.spec.options).await?;
    let text = |what: &str, bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|_| Error::Usage(format!("the job's {what} is not UTF-8 text")))
    };
    let output = if binary {
        base64::engine::general_purpose::STANDARD.encode(output)
    } else {
        String::from_utf8(output.to_vec())
            .map_err(|_| Error::Usage("the result is not UTF-8 text: pass --binary-output".into()))?
    };
    let claim = serde_json::json!({
        "input": text("input", input)?,
        "options": options.map(|options| text("options", options)).transpose()?,
        "output": output,
    });
    let engines = session.engines(0).await?;
    let engine = engines
        .find(view.spec.engine)
        .ok_or_else(|| Error::Job(format!("engine {} is not run here", engine_name(view.spec.engine))))?;
    let claim = claim.to_string();
    let seed = Seed::derive(&id.to_be_bytes::<32>(), &view.spec.inputCid);
    let verdict = match engine.run(JobInput { code, input: claim.as_bytes(), options: None, seed }).await {
        Ok(verdict) => verdict,
        Err(error) if error.is_job_outcome() => return Err(Error::CheckFailed(error.to_string())),
        Err(error) => return Err(error.into()),
    };
    let verdict = String::from_utf8_lossy(&verdict.bytes).into_owned();
    let ok = serde_json::from_str::<serde_json::Value>(&verdict)
        .is_ok_and(|value| value.get("ok") == Some(&serde_json::Value::Bool(true)));
    if !ok {
        return Err(Error::CheckFailed(format!("it answered {verdict}, not {{\"ok\": true}}")));
    }
    Ok(verdict)
}

/// Follows a job until it closes, calling `say` on each change; returns the closed job.
pub async fn wait(session: &Session, id: U256, say: &mut (dyn FnMut(&str) + Send)) -> Result<JobView> {
    let poll = std::time::Duration::from_millis(session.config.chain.poll_interval_ms);
    let mut last = String::new();
    loop {
        match session.agency.job(id).await {
            Ok(view) => {
                let line = describe(&view);
                if line != last {
                    say(&line);
                    last = line;
                }
                if view.outcome.is_some() {
                    return Ok(view);
                }
            }
            Err(error) => tracing::warn!(job = %short(id), %error, "cannot read the job; retrying"),
        }
        tokio::time::sleep(poll).await;
    }
}
