//! The money operations, each applied inside one transaction handed in by the group-commit
//! writer. An operation that is refused (overdraft, wrong asset, not pending) leaves no write
//! behind: balance changes are conditional and undone in the same transaction when a later leg
//! is refused, so the rest of the writer's batch commits.

use chrono::Utc;
use contracts::wallet::{
    Account, Leg, SUBSCRIPTION_CHARGED, Subscribe, SubscriptionCharge, TRANSFER_COMPLETED,
    TRANSFER_PENDING, TRANSFER_POSTED, TRANSFER_REVERSED, TRANSFER_VOIDED, Transfer, TransferEvent,
    TransferRequest,
};
use serde::Serialize;
use serde_json::json;
use store::{Tx, outbox};

use crate::Error;
use crate::domain::Plan;
use crate::store::accounts::{self, Balances, Delta};
use crate::store::audit::{self, Actor};
use crate::store::{subscriptions, transfers};

/// Who acts, for which tenant.
#[derive(Debug, Clone)]
pub(crate) struct OpCtx {
    pub(crate) tenant: String,
    pub(crate) actor: Actor,
}

/// Default life of a pending transfer.
const DEFAULT_TIMEOUT_SECS: u64 = 86_400;

/// One account change of an operation.
struct Step {
    account: String,
    delta: Delta,
    check_funds: bool,
}

/// Applies every step or none: a refused step undoes the ones before it in this transaction.
async fn apply_all(tx: &mut Tx, steps: &[Step]) -> Result<Vec<(String, Balances, Delta)>, Error> {
    let mut done: Vec<(String, Balances, Delta)> = Vec::with_capacity(steps.len());
    for s in steps {
        match accounts::apply(tx.exec(), &s.account, s.delta, s.check_funds).await? {
            Some(b) => done.push((s.account.clone(), b, s.delta)),
            None => {
                for (account, _, d) in done.iter().rev() {
                    let undo = Delta {
                        posted: -d.posted,
                        pending_debits: -d.pending_debits,
                        pending_credits: -d.pending_credits,
                    };
                    accounts::apply(tx.exec(), account, undo, false).await?;
                }
                let row = accounts::find(tx.exec(), &s.account).await?;
                return Err(Error::InsufficientFunds {
                    account_id: s.account.clone(),
                    available: row.map_or(0, |r| r.available()),
                    requested: -(s.delta.posted - s.delta.pending_debits),
                });
            }
        }
    }
    Ok(done)
}

/// Balances before and after each change, for the audit log.
fn balance_report(done: &[(String, Balances, Delta)]) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = done
        .iter()
        .map(|(account, after, d)| {
            json!({
                "accountId": account,
                "before": {"posted": after.posted - d.posted, "pendingDebits": after.pending_debits - d.pending_debits, "pendingCredits": after.pending_credits - d.pending_credits},
                "after": {"posted": after.posted, "pendingDebits": after.pending_debits, "pendingCredits": after.pending_credits},
            })
        })
        .collect();
    json!(entries)
}

/// Checks every account of `legs` exists in the tenant, holds `asset` and is active.
async fn check_accounts(tx: &mut Tx, ctx: &OpCtx, legs: &[Leg], asset: &str) -> Result<(), Error> {
    for leg in legs {
        let row = accounts::find(tx.exec(), &leg.account_id)
            .await?
            .filter(|r| r.tenant_id == ctx.tenant)
            .ok_or_else(|| Error::AccountNotFound(leg.account_id.clone()))?;
        if row.asset != asset {
            return Err(Error::AssetMismatch(leg.account_id.clone()));
        }
        if row.status != "active" {
            return Err(Error::AccountInactive(leg.account_id.clone()));
        }
    }
    Ok(())
}

/// Debits before credits, each list in account order (the plan is sorted).
fn posting_steps(legs: &[Leg]) -> Vec<Step> {
    let mut steps: Vec<Step> = legs
        .iter()
        .map(|l| Step {
            account: l.account_id.clone(),
            delta: Delta::post(l.amount_minor),
            check_funds: l.amount_minor < 0,
        })
        .collect();
    steps.sort_by_key(|s| !s.check_funds);
    steps
}

async fn emit<T: Serialize>(
    tx: &mut Tx,
    ctx: &OpCtx,
    kind: &str,
    payload: &T,
) -> Result<(), Error> {
    let event = bus::Envelope::new(kind, "wallet", &ctx.tenant, payload)
        .map_err(store::Error::from)?
        .correlated(ctx.actor.request_id.clone());
    outbox::enqueue(tx, &event).await?;
    Ok(())
}

fn event(transfer: &Transfer, posted_minor: Option<i64>) -> TransferEvent {
    TransferEvent {
        transfer: transfer.clone(),
        posted_minor,
    }
}

/// `POST /wallet/transfer`: posts now, or reserves when `pending`.
pub(crate) async fn transfer(
    tx: &mut Tx,
    ctx: &OpCtx,
    req: &TransferRequest,
) -> Result<Transfer, Error> {
    let plan = Plan::from_request(req).ok_or(Error::InvalidTransfer)?;
    check_accounts(tx, ctx, &plan.legs, &req.asset).await?;
    let kind = req.kind.as_deref().unwrap_or("general");
    let metadata = req.metadata.clone().unwrap_or_else(|| json!({}));
    if req.pending {
        let steps: Vec<Step> = plan
            .legs
            .iter()
            .map(|l| Step {
                account: l.account_id.clone(),
                delta: if l.amount_minor < 0 {
                    Delta {
                        pending_debits: -l.amount_minor,
                        ..Delta::default()
                    }
                } else {
                    Delta {
                        pending_credits: l.amount_minor,
                        ..Delta::default()
                    }
                },
                check_funds: l.amount_minor < 0,
            })
            .collect();
        let done = apply_all(tx, &steps).await?;
        let timeout = req.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECS);
        let timeout_at = Utc::now()
            + chrono::Duration::seconds(i64::try_from(timeout).unwrap_or(i64::MAX / 1000));
        let t = transfers::insert(
            tx,
            &transfers::New {
                tenant_id: &ctx.tenant,
                kind,
                asset: &req.asset,
                state: "pending",
                legs: &plan.legs,
                reference: req.reference.as_deref(),
                metadata: &metadata,
                reverses_id: None,
                timeout_at: Some(timeout_at),
                actor: &ctx.actor.service,
                request_id: ctx.actor.request_id.as_deref(),
            },
        )
        .await?;
        audit::record(
            tx,
            &ctx.tenant,
            "transfer.reserve",
            &t.id,
            &ctx.actor,
            balance_report(&done),
        )
        .await?;
        emit(tx, ctx, TRANSFER_PENDING, &event(&t, None)).await?;
        return Ok(t);
    }
    let done = apply_all(tx, &posting_steps(&plan.legs)).await?;
    let t = transfers::insert(
        tx,
        &transfers::New {
            tenant_id: &ctx.tenant,
            kind,
            asset: &req.asset,
            state: "posted",
            legs: &plan.legs,
            reference: req.reference.as_deref(),
            metadata: &metadata,
            reverses_id: None,
            timeout_at: None,
            actor: &ctx.actor.service,
            request_id: ctx.actor.request_id.as_deref(),
        },
    )
    .await?;
    transfers::insert_postings(tx, &t.id, &plan.legs).await?;
    audit::record(
        tx,
        &ctx.tenant,
        "transfer.post",
        &t.id,
        &ctx.actor,
        balance_report(&done),
    )
    .await?;
    emit(tx, ctx, TRANSFER_COMPLETED, &event(&t, Some(plan.volume()))).await?;
    crate::metrics::amount(&t.asset, plan.volume());
    Ok(t)
}

async fn pending_transfer(tx: &mut Tx, ctx: &OpCtx, id: &str) -> Result<Transfer, Error> {
    let t = transfers::find(tx.exec(), id)
        .await?
        .filter(|t| t.tenant_id == ctx.tenant)
        .ok_or(Error::TransferNotFound)?;
    if t.state != "pending" {
        return Err(Error::NotPending(t.state));
    }
    Ok(t)
}

/// `POST /wallet/transfers/{id}/post`: settles a reservation, wholly or in part.
pub(crate) async fn post(
    tx: &mut Tx,
    ctx: &OpCtx,
    id: &str,
    amount: Option<i64>,
) -> Result<Transfer, Error> {
    let mut t = pending_transfer(tx, ctx, id).await?;
    let posted = match amount {
        Some(a) => Plan::partial(&t.legs, a).ok_or(Error::InvalidPostAmount)?,
        None => Plan {
            legs: t.legs.clone(),
        },
    };
    if !transfers::transition(tx, id, "pending", "posted").await? {
        return Err(Error::NotPending("settled".into()));
    }
    let steps: Vec<Step> = t
        .legs
        .iter()
        .map(|reserved| {
            let p = posted
                .legs
                .iter()
                .find(|l| l.account_id == reserved.account_id)
                .map_or(0, |l| l.amount_minor);
            Step {
                account: reserved.account_id.clone(),
                delta: if reserved.amount_minor < 0 {
                    Delta {
                        posted: p,
                        pending_debits: reserved.amount_minor,
                        ..Delta::default()
                    }
                } else {
                    Delta {
                        posted: p,
                        pending_credits: -reserved.amount_minor,
                        ..Delta::default()
                    }
                },
                check_funds: false,
            }
        })
        .collect();
    let done = apply_all(tx, &steps).await?;
    transfers::insert_postings(tx, id, &posted.legs).await?;
    t.state = "posted".into();
    audit::record(
        tx,
        &ctx.tenant,
        "transfer.post_pending",
        id,
        &ctx.actor,
        balance_report(&done),
    )
    .await?;
    emit(tx, ctx, TRANSFER_POSTED, &event(&t, Some(posted.volume()))).await?;
    crate::metrics::amount(&t.asset, posted.volume());
    Ok(t)
}

/// `POST /wallet/transfers/{id}/void`, and the timeout sweep: releases a reservation.
pub(crate) async fn void(
    tx: &mut Tx,
    ctx: &OpCtx,
    id: &str,
    reason: Option<&str>,
) -> Result<Transfer, Error> {
    let mut t = pending_transfer(tx, ctx, id).await?;
    if !transfers::transition(tx, id, "pending", "voided").await? {
        return Err(Error::NotPending("settled".into()));
    }
    let steps: Vec<Step> = t
        .legs
        .iter()
        .map(|l| Step {
            account: l.account_id.clone(),
            delta: if l.amount_minor < 0 {
                Delta {
                    pending_debits: l.amount_minor,
                    ..Delta::default()
                }
            } else {
                Delta {
                    pending_credits: -l.amount_minor,
                    ..Delta::default()
                }
            },
            check_funds: false,
        })
        .collect();
    let done = apply_all(tx, &steps).await?;
    t.state = "voided".into();
    let details = json!({"balances": balance_report(&done), "reason": reason});
    audit::record(tx, &ctx.tenant, "transfer.void", id, &ctx.actor, details).await?;
    emit(tx, ctx, TRANSFER_VOIDED, &event(&t, None)).await?;
    Ok(t)
}

/// `POST /wallet/transfers/{id}/reversal`: a compensating transfer, once per transfer.
pub(crate) async fn reverse(
    tx: &mut Tx,
    ctx: &OpCtx,
    id: &str,
    reason: Option<&str>,
) -> Result<Transfer, Error> {
    let original = transfers::find(tx.exec(), id)
        .await?
        .filter(|t| t.tenant_id == ctx.tenant)
        .ok_or(Error::TransferNotFound)?;
    if original.state != "posted" || original.reverses_id.is_some() {
        return Err(Error::NotReversible);
    }
    if transfers::is_reversed(tx.exec(), id).await? {
        return Err(Error::AlreadyReversed);
    }
    let plan = Plan::reversed(&original.legs).ok_or(Error::NotReversible)?;
    let done = apply_all(tx, &posting_steps(&plan.legs)).await?;
    let metadata = json!({"reason": reason});
    let t = transfers::insert(
        tx,
        &transfers::New {
            tenant_id: &ctx.tenant,
            kind: "reversal",
            asset: &original.asset,
            state: "posted",
            legs: &plan.legs,
            reference: original.reference.as_deref(),
            metadata: &metadata,
            reverses_id: Some(id),
            timeout_at: None,
            actor: &ctx.actor.service,
            request_id: ctx.actor.request_id.as_deref(),
        },
    )
    .await?;
    transfers::insert_postings(tx, &t.id, &plan.legs).await?;
    let details = json!({"balances": balance_report(&done), "reason": reason, "reverses": id});
    audit::record(
        tx,
        &ctx.tenant,
        "transfer.reverse",
        &t.id,
        &ctx.actor,
        details,
    )
    .await?;
    emit(tx, ctx, TRANSFER_REVERSED, &event(&t, None)).await?;
    Ok(t)
}

/// `POST /wallet/platform/provision`: the tenant's one issuance account in `asset`.
pub(crate) async fn provision(
    tx: &mut Tx,
    ctx: &OpCtx,
    asset: &str,
) -> Result<(bool, Account), Error> {
    let (created, row) = accounts::open(tx, &ctx.tenant, "platform", "platform", asset).await?;
    if created {
        audit::record(
            tx,
            &ctx.tenant,
            "account.provision",
            &row.id,
            &ctx.actor,
            json!({"asset": asset}),
        )
        .await?;
    }
    Ok((created, row.into()))
}

/// `POST /wallet/subscribe`: charges the tenant's plan for the vendor's next period.
pub(crate) async fn subscribe(
    tx: &mut Tx,
    ctx: &OpCtx,
    req: &Subscribe,
) -> Result<SubscriptionCharge, Error> {
    let plan = subscriptions::plan(tx.exec(), &ctx.tenant).await?;
    let vendor = match (&req.account_id, &req.vendor_id) {
        (Some(id), _) => accounts::find(tx.exec(), id)
            .await?
            .filter(|r| r.tenant_id == ctx.tenant)
            .ok_or_else(|| Error::AccountNotFound(id.clone()))?,
        (None, Some(v)) => {
            accounts::find_by_owner(tx.exec(), &ctx.tenant, "vendor", v, &plan.asset)
                .await?
                .ok_or_else(|| Error::VendorAccountMissing(plan.asset.clone()))?
        }
        (None, None) => return Err(Error::VendorAccountMissing(plan.asset.clone())),
    };
    if vendor.asset != plan.asset {
        return Err(Error::AssetMismatch(vendor.id));
    }
    let platform =
        accounts::find_by_owner(tx.exec(), &ctx.tenant, "platform", "platform", &plan.asset)
            .await?
            .ok_or_else(|| Error::PlatformAccountMissing(plan.asset.clone()))?;
    let now = Utc::now();
    if let Some(until) = subscriptions::paid_until(tx.exec(), &ctx.tenant, &vendor.owner_id).await?
        && until > now
    {
        return Err(Error::SubscriptionActive(until.to_rfc3339()));
    }
    let period_end = now + chrono::Duration::days(i64::from(plan.period_days));
    let charge = TransferRequest {
        source_account_id: Some(vendor.id.clone()),
        destination_account_id: Some(platform.id.clone()),
        amount_minor: Some(plan.price_minor),
        asset: plan.asset.clone(),
        kind: Some("subscription".into()),
        reference: Some(format!(
            "subscription/{}/{}",
            vendor.owner_id,
            now.format("%Y-%m-%d")
        )),
        metadata: Some(json!({"periodDays": plan.period_days})),
        ..TransferRequest::default()
    };
    let t = transfer(tx, ctx, &charge).await?;
    if !subscriptions::insert_charge(tx, &ctx.tenant, &vendor.owner_id, now, period_end, &t.id)
        .await?
    {
        // The charge above was written: this must abort, not be stored as a refusal.
        return Err(Error::Race("a concurrent charge of the same period"));
    }
    let out = SubscriptionCharge {
        transfer_id: t.id,
        tenant_id: ctx.tenant.clone(),
        owner_id: vendor.owner_id,
        account_id: vendor.id,
        amount_minor: plan.price_minor,
        asset: plan.asset,
        period_start: now,
        period_end,
    };
    emit(tx, ctx, SUBSCRIPTION_CHARGED, &out).await?;
    Ok(out)
}
