//! The money operations, each applied inside the group-commit writer's batch transaction. An
//! operation that is refused (overdraft, wrong asset, not pending) leaves no write behind:
//! balance changes are conditional and undone in the same transaction when a later leg is
//! refused, and its other rows are only buffered (see [`crate::rows`]) when it succeeds.

use chrono::Utc;
use contracts::wallet::{
    Account, Leg, SUBSCRIPTION_CHARGED, Subscribe, SubscriptionCharge, TRANSFER_COMPLETED,
    TRANSFER_PENDING, TRANSFER_POSTED, TRANSFER_REVERSED, TRANSFER_VOIDED, Transfer, TransferEvent,
    TransferRequest,
};
use serde::Serialize;
use serde_json::json;
use store::Tx;

use crate::Error;
use crate::domain::Plan;
use crate::rows::{Rows, TransferRow};
use crate::store::accounts::{self, Balances, Delta, Guard};
use crate::store::audit::Actor;
use crate::store::{subscriptions, transfers};

/// Who acts, for which tenant.
#[derive(Debug, Clone)]
pub(crate) struct OpCtx {
    pub(crate) tenant: String,
    pub(crate) actor: Actor,
}

/// The batch's transaction and buffered rows.
pub(crate) struct Unit<'a> {
    pub(crate) tx: &'a mut Tx,
    pub(crate) rows: &'a mut Rows,
}

/// Default life of a pending transfer.
const DEFAULT_TIMEOUT_SECS: u64 = 86_400;

/// One account change of an operation.
struct Step {
    account: String,
    delta: Delta,
    check_funds: bool,
}

impl Step {
    fn new(leg: &Leg, delta: Delta) -> Self {
        Self {
            account: leg.account_id.clone(),
            delta,
            check_funds: leg.amount_minor < 0,
        }
    }
}

/// Why a guarded change was refused: read the account once, on this cold path only.
async fn refusal(tx: &mut Tx, s: &Step, guard: Option<Guard<'_>>) -> Result<Error, Error> {
    let row = accounts::find(tx.exec(), &s.account).await?;
    Ok(match (row, guard) {
        (None, _) => Error::AccountNotFound(s.account.clone()),
        (Some(r), Some(g)) if r.tenant_id != g.tenant => Error::AccountNotFound(s.account.clone()),
        (Some(r), Some(g)) if r.asset != g.asset => Error::AssetMismatch(s.account.clone()),
        (Some(r), Some(_)) if r.status != "active" => Error::AccountInactive(s.account.clone()),
        (Some(r), _) => Error::InsufficientFunds {
            account_id: s.account.clone(),
            available: r.available(),
            requested: -(s.delta.posted - s.delta.pending_debits),
        },
    })
}

/// Applies every step or none: a refused step undoes the ones before it in this transaction.
/// Debits go first, each group in account order, so locks are always taken in one order.
async fn apply_all(
    tx: &mut Tx,
    mut steps: Vec<Step>,
    guard: Option<Guard<'_>>,
) -> Result<Vec<(String, Balances, Delta)>, Error> {
    steps.sort_by(|a, b| {
        b.check_funds
            .cmp(&a.check_funds)
            .then_with(|| a.account.cmp(&b.account))
    });
    if tx.backend() == store::Backend::Sqlite {
        return apply_together(tx, &steps, guard).await;
    }
    let mut done: Vec<(String, Balances, Delta)> = Vec::with_capacity(steps.len());
    for s in &steps {
        match accounts::apply(tx.exec(), &s.account, s.delta, s.check_funds, guard).await? {
            Some(b) => done.push((s.account.clone(), b, s.delta)),
            None => {
                for (account, _, d) in done.iter().rev() {
                    let undo = Delta {
                        posted: -d.posted,
                        pending_debits: -d.pending_debits,
                        pending_credits: -d.pending_credits,
                    };
                    accounts::apply(tx.exec(), account, undo, false, None).await?;
                }
                return Err(refusal(tx, s, guard).await?);
            }
        }
    }
    Ok(done)
}

/// SQLite: every step in one statement (SQLite has one writer, so the order in which rows are
/// changed cannot deadlock); a step it refused makes the others undone, as in [`apply_all`].
async fn apply_together(
    tx: &mut Tx,
    steps: &[Step],
    guard: Option<Guard<'_>>,
) -> Result<Vec<(String, Balances, Delta)>, Error> {
    let changes: Vec<(&str, Delta, bool)> = steps
        .iter()
        .map(|s| (s.account.as_str(), s.delta, s.check_funds))
        .collect();
    let changed = match tx.exec() {
        store::Exec::Sqlite(c) => accounts::apply_many(c, &changes, guard).await?,
        store::Exec::Postgres(_) => {
            return Err(Error::Store(store::Error::Setup(
                "apply_together is for SQLite".into(),
            )));
        }
    };
    let after = |s: &Step| {
        changed
            .iter()
            .find(|(id, _)| *id == s.account)
            .map(|(_, b)| *b)
    };
    if changed.len() == steps.len() {
        return Ok(steps
            .iter()
            .filter_map(|s| after(s).map(|b| (s.account.clone(), b, s.delta)))
            .collect());
    }
    for s in steps.iter().filter(|s| after(s).is_some()) {
        let undo = Delta {
            posted: -s.delta.posted,
            pending_debits: -s.delta.pending_debits,
            pending_credits: -s.delta.pending_credits,
        };
        accounts::apply(tx.exec(), &s.account, undo, false, None).await?;
    }
    match steps.iter().find(|s| after(s).is_none()) {
        Some(refused) => Err(refusal(tx, refused, guard).await?),
        None => Err(Error::InvalidTransfer),
    }
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

fn emit<T: Serialize>(u: &mut Unit<'_>, ctx: &OpCtx, kind: &str, payload: &T) -> Result<(), Error> {
    let event = bus::Envelope::new(kind, "wallet", &ctx.tenant, payload)
        .map_err(store::Error::from)?
        .correlated(ctx.actor.request_id.clone());
    u.rows.event(event);
    Ok(())
}

fn event(transfer: &Transfer, posted_minor: Option<i64>) -> TransferEvent {
    TransferEvent {
        transfer: transfer.clone(),
        posted_minor,
    }
}

/// A new transfer, buffered for the batch's end.
struct NewTransfer<'a> {
    kind: &'a str,
    asset: &'a str,
    state: &'a str,
    legs: Vec<Leg>,
    reference: Option<String>,
    metadata: serde_json::Value,
    reverses_id: Option<String>,
    timeout_at: Option<chrono::DateTime<Utc>>,
}

fn record(u: &mut Unit<'_>, ctx: &OpCtx, t: NewTransfer<'_>) -> Transfer {
    let transfer = Transfer {
        id: ulid::Ulid::generate().to_string(),
        tenant_id: ctx.tenant.clone(),
        kind: t.kind.to_owned(),
        asset: t.asset.to_owned(),
        state: t.state.to_owned(),
        legs: t.legs,
        reference: t.reference,
        reverses_id: t.reverses_id,
        timeout_at: t.timeout_at,
        created_at: Utc::now(),
    };
    u.rows.transfer(TransferRow {
        transfer: transfer.clone(),
        metadata: t.metadata,
        actor: ctx.actor.service.clone(),
        request_id: ctx.actor.request_id.clone(),
    });
    transfer
}

/// `POST /wallet/transfer`: posts now, or reserves when `pending`.
pub(crate) async fn transfer(
    u: &mut Unit<'_>,
    ctx: &OpCtx,
    req: &TransferRequest,
) -> Result<Transfer, Error> {
    let plan = Plan::from_request(req).ok_or(Error::InvalidTransfer)?;
    let guard = Some(Guard {
        tenant: &ctx.tenant,
        asset: &req.asset,
    });
    let kind = req.kind.as_deref().unwrap_or("general");
    let metadata = req.metadata.clone().unwrap_or_else(|| json!({}));
    if req.pending {
        let steps = plan
            .legs
            .iter()
            .map(|l| {
                let d = if l.amount_minor < 0 {
                    Delta {
                        pending_debits: -l.amount_minor,
                        ..Delta::default()
                    }
                } else {
                    Delta {
                        pending_credits: l.amount_minor,
                        ..Delta::default()
                    }
                };
                Step::new(l, d)
            })
            .collect();
        let done = apply_all(u.tx, steps, guard).await?;
        let timeout = req.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECS);
        let timeout_at =
            Utc::now() + chrono::Duration::seconds(i64::try_from(timeout).unwrap_or(86_400));
        let t = record(
            u,
            ctx,
            NewTransfer {
                kind,
                asset: &req.asset,
                state: "pending",
                legs: plan.legs,
                reference: req.reference.clone(),
                metadata,
                reverses_id: None,
                timeout_at: Some(timeout_at),
            },
        );
        u.rows.audit(
            &ctx.tenant,
            "transfer.reserve",
            &t.id,
            &ctx.actor,
            balance_report(&done),
        );
        emit(u, ctx, TRANSFER_PENDING, &event(&t, None))?;
        return Ok(t);
    }
    let steps = plan
        .legs
        .iter()
        .map(|l| Step::new(l, Delta::post(l.amount_minor)))
        .collect();
    let done = apply_all(u.tx, steps, guard).await?;
    let volume = plan.volume();
    let t = record(
        u,
        ctx,
        NewTransfer {
            kind,
            asset: &req.asset,
            state: "posted",
            legs: plan.legs,
            reference: req.reference.clone(),
            metadata,
            reverses_id: None,
            timeout_at: None,
        },
    );
    u.rows.postings(&t.id, &t.legs);
    u.rows.audit(
        &ctx.tenant,
        "transfer.post",
        &t.id,
        &ctx.actor,
        balance_report(&done),
    );
    emit(u, ctx, TRANSFER_COMPLETED, &event(&t, Some(volume)))?;
    crate::metrics::amount(&t.asset, volume);
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
    u: &mut Unit<'_>,
    ctx: &OpCtx,
    id: &str,
    amount: Option<i64>,
) -> Result<Transfer, Error> {
    let mut t = pending_transfer(u.tx, ctx, id).await?;
    let posted = match amount {
        Some(a) => Plan::partial(&t.legs, a).ok_or(Error::InvalidPostAmount)?,
        None => Plan {
            legs: t.legs.clone(),
        },
    };
    if !transfers::transition(u.tx, id, "pending", "posted").await? {
        return Err(Error::NotPending("settled".into()));
    }
    let steps = t
        .legs
        .iter()
        .map(|reserved| {
            let p = posted
                .legs
                .iter()
                .find(|l| l.account_id == reserved.account_id)
                .map_or(0, |l| l.amount_minor);
            let d = if reserved.amount_minor < 0 {
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
            };
            Step {
                account: reserved.account_id.clone(),
                delta: d,
                check_funds: false,
            }
        })
        .collect();
    let done = apply_all(u.tx, steps, None).await?;
    u.rows.postings(id, &posted.legs);
    t.state = "posted".into();
    u.rows.audit(
        &ctx.tenant,
        "transfer.post_pending",
        id,
        &ctx.actor,
        balance_report(&done),
    );
    emit(u, ctx, TRANSFER_POSTED, &event(&t, Some(posted.volume())))?;
    crate::metrics::amount(&t.asset, posted.volume());
    Ok(t)
}

/// `POST /wallet/transfers/{id}/void`, and the timeout sweep: releases a reservation.
pub(crate) async fn void(
    u: &mut Unit<'_>,
    ctx: &OpCtx,
    id: &str,
    reason: Option<&str>,
) -> Result<Transfer, Error> {
    let mut t = pending_transfer(u.tx, ctx, id).await?;
    if !transfers::transition(u.tx, id, "pending", "voided").await? {
        return Err(Error::NotPending("settled".into()));
    }
    let steps = t
        .legs
        .iter()
        .map(|l| {
            let d = if l.amount_minor < 0 {
                Delta {
                    pending_debits: l.amount_minor,
                    ..Delta::default()
                }
            } else {
                Delta {
                    pending_credits: -l.amount_minor,
                    ..Delta::default()
                }
            };
            Step {
                account: l.account_id.clone(),
                delta: d,
                check_funds: false,
            }
        })
        .collect();
    let done = apply_all(u.tx, steps, None).await?;
    t.state = "voided".into();
    let details = json!({"balances": balance_report(&done), "reason": reason});
    u.rows
        .audit(&ctx.tenant, "transfer.void", id, &ctx.actor, details);
    emit(u, ctx, TRANSFER_VOIDED, &event(&t, None))?;
    Ok(t)
}

/// `POST /wallet/transfers/{id}/reversal`: a compensating transfer, once per transfer (a second
/// reversal racing this one in the same batch fails the batch's insert, and is then refused).
pub(crate) async fn reverse(
    u: &mut Unit<'_>,
    ctx: &OpCtx,
    id: &str,
    reason: Option<&str>,
) -> Result<Transfer, Error> {
    let original = transfers::find(u.tx.exec(), id)
        .await?
        .filter(|t| t.tenant_id == ctx.tenant)
        .ok_or(Error::TransferNotFound)?;
    if original.state != "posted" || original.reverses_id.is_some() {
        return Err(Error::NotReversible);
    }
    if u.rows.reverses(id) || transfers::is_reversed(u.tx.exec(), id).await? {
        return Err(Error::AlreadyReversed);
    }
    let plan = Plan::reversed(&original.legs).ok_or(Error::NotReversible)?;
    let steps = plan
        .legs
        .iter()
        .map(|l| Step::new(l, Delta::post(l.amount_minor)))
        .collect();
    let done = apply_all(u.tx, steps, None).await?;
    let t = record(
        u,
        ctx,
        NewTransfer {
            kind: "reversal",
            asset: &original.asset,
            state: "posted",
            legs: plan.legs,
            reference: original.reference.clone(),
            metadata: json!({"reason": reason}),
            reverses_id: Some(id.to_owned()),
            timeout_at: None,
        },
    );
    u.rows.postings(&t.id, &t.legs);
    let details = json!({"balances": balance_report(&done), "reason": reason, "reverses": id});
    u.rows
        .audit(&ctx.tenant, "transfer.reverse", &t.id, &ctx.actor, details);
    emit(u, ctx, TRANSFER_REVERSED, &event(&t, None))?;
    Ok(t)
}

/// `POST /wallet/platform/provision`: the tenant's one issuance account in `asset`.
pub(crate) async fn provision(
    u: &mut Unit<'_>,
    ctx: &OpCtx,
    asset: &str,
) -> Result<(bool, Account), Error> {
    let (created, row) = accounts::open(u.tx, &ctx.tenant, "platform", "platform", asset).await?;
    if created {
        u.rows.audit(
            &ctx.tenant,
            "account.provision",
            &row.id,
            &ctx.actor,
            json!({"asset": asset}),
        );
    }
    Ok((created, row.into()))
}

/// `POST /wallet/subscribe`: charges the tenant's plan for the vendor's next period.
pub(crate) async fn subscribe(
    u: &mut Unit<'_>,
    ctx: &OpCtx,
    req: &Subscribe,
) -> Result<SubscriptionCharge, Error> {
    let plan = subscriptions::plan(u.tx.exec(), &ctx.tenant).await?;
    let vendor = match (&req.account_id, &req.vendor_id) {
        (Some(id), _) => accounts::find(u.tx.exec(), id)
            .await?
            .filter(|r| r.tenant_id == ctx.tenant)
            .ok_or_else(|| Error::AccountNotFound(id.clone()))?,
        (None, Some(v)) => {
            accounts::find_by_owner(u.tx.exec(), &ctx.tenant, "vendor", v, &plan.asset)
                .await?
                .ok_or_else(|| Error::VendorAccountMissing(plan.asset.clone()))?
        }
        (None, None) => return Err(Error::VendorAccountMissing(plan.asset.clone())),
    };
    if vendor.asset != plan.asset {
        return Err(Error::AssetMismatch(vendor.id));
    }
    let platform = accounts::find_by_owner(
        u.tx.exec(),
        &ctx.tenant,
        "platform",
        "platform",
        &plan.asset,
    )
    .await?
    .ok_or_else(|| Error::PlatformAccountMissing(plan.asset.clone()))?;
    let now = Utc::now();
    let latest = subscriptions::latest_period(u.tx.exec(), &ctx.tenant, &vendor.owner_id).await?;
    if let Some((_, until)) = latest
        && until > now
    {
        return Err(Error::SubscriptionActive(until.to_rfc3339()));
    }
    if u.rows.charged(&ctx.tenant, &vendor.owner_id) {
        return Err(Error::SubscriptionActive(
            "the end of the period charged moments ago".into(),
        ));
    }
    let seq = latest.map_or(0, |(seq, _)| seq + 1);
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
    let t = transfer(u, ctx, &charge).await?;
    // Another instance charging the same period concurrently takes the same `seq`: one batch's
    // insert fails on the primary key and rolls back, and its retry is refused above.
    u.rows
        .charge(&ctx.tenant, &vendor.owner_id, seq, now, period_end, &t.id);
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
    emit(u, ctx, SUBSCRIPTION_CHARGED, &out)?;
    Ok(out)
}
