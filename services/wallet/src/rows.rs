//! What a batch of money operations writes at its end: one multi-row `INSERT` per table instead
//! of a statement per row. Balance changes are not here: they are conditional `UPDATE`s that
//! must run (and be able to refuse) in each operation's turn.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use contracts::wallet::{Leg, Transfer};
use sqlx::types::Json;
use store::idempotency::Completed;
use store::{Tx, insert_many, outbox};

use crate::store::audit::Actor;

/// A transfer row.
pub(crate) struct TransferRow {
    pub(crate) transfer: Transfer,
    pub(crate) metadata: serde_json::Value,
    pub(crate) actor: String,
    pub(crate) request_id: Option<String>,
}

struct PostingRow {
    id: String,
    transfer_id: String,
    account_id: String,
    amount: i64,
    created_at: DateTime<Utc>,
}

struct AuditRow {
    id: String,
    tenant_id: String,
    action: &'static str,
    subject_id: String,
    actor: String,
    request_id: Option<String>,
    details: serde_json::Value,
    created_at: DateTime<Utc>,
}

struct ChargeRow {
    tenant_id: String,
    owner_id: String,
    seq: i64,
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
    transfer_id: String,
}

/// The rows of one batch.
#[derive(Default)]
pub(crate) struct Rows {
    transfers: Vec<TransferRow>,
    postings: Vec<PostingRow>,
    audit: Vec<AuditRow>,
    charges: Vec<ChargeRow>,
    events: Vec<bus::Envelope>,
    answers: Vec<Completed>,
    /// Answers given earlier in this batch by key, so a duplicate in the same batch replays.
    by_key: HashMap<(String, String), usize>,
    /// What was stored before this batch for the keys its operations carry.
    pub(crate) stored: HashMap<(String, String), store::idempotency::InTx>,
}

impl Rows {
    /// Whether this batch already reverses `id`.
    pub(crate) fn reverses(&self, id: &str) -> bool {
        self.transfers
            .iter()
            .any(|t| t.transfer.reverses_id.as_deref() == Some(id))
    }

    pub(crate) fn transfer(&mut self, row: TransferRow) {
        self.transfers.push(row);
    }

    pub(crate) fn postings(&mut self, transfer_id: &str, legs: &[Leg]) {
        let now = Utc::now();
        self.postings.extend(legs.iter().map(|l| PostingRow {
            id: ulid::Ulid::generate().to_string(),
            transfer_id: transfer_id.to_owned(),
            account_id: l.account_id.clone(),
            amount: l.amount_minor,
            created_at: now,
        }));
    }

    pub(crate) fn audit(
        &mut self,
        tenant: &str,
        action: &'static str,
        subject: &str,
        actor: &Actor,
        details: serde_json::Value,
    ) {
        self.audit.push(AuditRow {
            id: ulid::Ulid::generate().to_string(),
            tenant_id: tenant.to_owned(),
            action,
            subject_id: subject.to_owned(),
            actor: actor.service.clone(),
            request_id: actor.request_id.clone(),
            details,
            created_at: Utc::now(),
        });
    }

    /// Whether this batch already charged the vendor.
    pub(crate) fn charged(&self, tenant: &str, owner: &str) -> bool {
        self.charges
            .iter()
            .any(|c| c.tenant_id == tenant && c.owner_id == owner)
    }

    pub(crate) fn charge(
        &mut self,
        tenant: &str,
        owner: &str,
        seq: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        transfer_id: &str,
    ) {
        self.charges.push(ChargeRow {
            tenant_id: tenant.to_owned(),
            owner_id: owner.to_owned(),
            seq,
            period_start: start,
            period_end: end,
            transfer_id: transfer_id.to_owned(),
        });
    }

    pub(crate) fn event(&mut self, e: bus::Envelope) {
        self.events.push(e);
    }

    /// An answer stored earlier in this batch under the same key.
    pub(crate) fn answered(&self, scope: &str, key: &str) -> Option<&Completed> {
        self.by_key
            .get(&(scope.to_owned(), key.to_owned()))
            .map(|i| &self.answers[*i])
    }

    pub(crate) fn answer(&mut self, c: Completed) {
        self.by_key
            .insert((c.scope.clone(), c.key.clone()), self.answers.len());
        self.answers.push(c);
    }

    /// Writes everything, parents before children (foreign keys are checked per statement).
    pub(crate) async fn flush(self, tx: &mut Tx) -> Result<(), store::Error> {
        insert_many!(
            tx.exec(),
            "INSERT INTO transfers (id, tenant_id, kind, asset, state, reference, metadata, reverses_id,
                                    timeout_at, actor, request_id, created_at) ",
            &self.transfers,
            |b, r| {
                let t = &r.transfer;
                b.push_bind(&t.id);
                b.push_bind(&t.tenant_id);
                b.push_bind(&t.kind);
                b.push_bind(&t.asset);
                b.push_bind(&t.state);
                b.push_bind(&t.reference);
                b.push_bind(Json(&r.metadata));
                b.push_bind(&t.reverses_id);
                b.push_bind(t.timeout_at);
                b.push_bind(&r.actor);
                b.push_bind(&r.request_id);
                b.push_bind(t.created_at);
            }
        )?;
        let legs: Vec<(&str, &Leg)> = self
            .transfers
            .iter()
            .flat_map(|r| {
                r.transfer
                    .legs
                    .iter()
                    .map(move |l| (r.transfer.id.as_str(), l))
            })
            .collect();
        insert_many!(
            tx.exec(),
            "INSERT INTO legs (transfer_id, account_id, amount) ",
            legs,
            |b, r| {
                b.push_bind(r.0);
                b.push_bind(&r.1.account_id);
                b.push_bind(r.1.amount_minor);
            }
        )?;
        insert_many!(
            tx.exec(),
            "INSERT INTO postings (id, transfer_id, account_id, amount, created_at) ",
            &self.postings,
            |b, r| {
                b.push_bind(&r.id);
                b.push_bind(&r.transfer_id);
                b.push_bind(&r.account_id);
                b.push_bind(r.amount);
                b.push_bind(r.created_at);
            }
        )?;
        insert_many!(
            tx.exec(),
            "INSERT INTO subscription_charges (tenant_id, owner_id, seq, period_start, period_end, transfer_id) ",
            &self.charges,
            |b, r| {
                b.push_bind(&r.tenant_id);
                b.push_bind(&r.owner_id);
                b.push_bind(r.seq);
                b.push_bind(r.period_start);
                b.push_bind(r.period_end);
                b.push_bind(&r.transfer_id);
            }
        )?;
        insert_many!(
            tx.exec(),
            "INSERT INTO audit_log (id, tenant_id, action, subject_id, actor, request_id, details, created_at) ",
            &self.audit,
            |b, r| {
                b.push_bind(&r.id);
                b.push_bind(&r.tenant_id);
                b.push_bind(r.action);
                b.push_bind(&r.subject_id);
                b.push_bind(&r.actor);
                b.push_bind(&r.request_id);
                b.push_bind(Json(&r.details));
                b.push_bind(r.created_at);
            }
        )?;
        outbox::enqueue_many(tx, &self.events).await?;
        store::idempotency::insert_completed(tx, &self.answers).await?;
        Ok(())
    }
}
