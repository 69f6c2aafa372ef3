//! Money operations as group-commit writer operations: each claims its idempotency key, runs,
//! and stores its response (success or domain refusal) in the batch's transaction, so the effect,
//! the key and the stored answer commit together, once.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use contracts::wallet::{Subscribe, TransferRequest};
use store::group::{GroupCommit, Op};
use store::idempotency::{self, Completed, InTx};
use store::{Error as StoreError, Tx};

use platform::ApiError as _;

use crate::Error;
use crate::ledger::{self, OpCtx, Unit};
use crate::rows::Rows;

/// An idempotency key with the request it was sent with.
#[derive(Debug, Clone)]
pub(crate) struct IdemKey {
    pub(crate) scope: String,
    pub(crate) key: String,
    pub(crate) hash: String,
}

/// What to do.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Transfer(TransferRequest),
    Post { id: String, amount: Option<i64> },
    Void { id: String, reason: Option<String> },
    Reverse { id: String, reason: Option<String> },
    Subscribe(Subscribe),
    Provision { asset: String },
}

impl Action {
    /// Label for metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Transfer(t) if t.pending => "pending",
            Self::Transfer(_) => "transfer",
            Self::Post { .. } => "post",
            Self::Void { .. } => "void",
            Self::Reverse { .. } => "reversal",
            Self::Subscribe(_) => "subscription",
            Self::Provision { .. } => "provision",
        }
    }

    async fn run(&self, u: &mut Unit<'_>, ctx: &OpCtx) -> Result<(StatusCode, String), Error> {
        Ok(match self {
            Self::Transfer(req) => (
                StatusCode::CREATED,
                json(&ledger::transfer(u, ctx, req).await?),
            ),
            Self::Post { id, amount } => (
                StatusCode::OK,
                json(&ledger::post(u, ctx, id, *amount).await?),
            ),
            Self::Void { id, reason } => (
                StatusCode::OK,
                json(&ledger::void(u, ctx, id, reason.as_deref()).await?),
            ),
            Self::Reverse { id, reason } => (
                StatusCode::CREATED,
                json(&ledger::reverse(u, ctx, id, reason.as_deref()).await?),
            ),
            Self::Subscribe(req) => (
                StatusCode::CREATED,
                json(&ledger::subscribe(u, ctx, req).await?),
            ),
            Self::Provision { asset } => {
                let (created, account) = ledger::provision(u, ctx, asset).await?;
                let status = if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                (status, json(&account))
            }
        })
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A money operation for the writer.
#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub(crate) idem: Option<IdemKey>,
    pub(crate) ctx: OpCtx,
    pub(crate) action: Action,
}

/// The answer to a command, as stored with its key.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) replayed: bool,
}

impl IntoResponse for Stored {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let content_type = if status.is_success() {
            "application/json"
        } else {
            platform::problem::CONTENT_TYPE
        };
        let mut res = (status, self.body).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if self.replayed {
            h.insert(idempotency::REPLAYED, HeaderValue::from_static("true"));
        }
        res
    }
}

impl Command {
    /// What is already known of this command's key: answered earlier in this batch, or stored
    /// before it (read for the whole batch in `prepare`).
    fn known(&self, rows: &Rows) -> Option<Result<Stored, Error>> {
        let k = self.idem.as_ref()?;
        if let Some(c) = rows.answered(&k.scope, &k.key) {
            return Some(if c.hash == k.hash {
                Ok(Stored {
                    status: c.status,
                    body: c.body.clone(),
                    replayed: true,
                })
            } else {
                Err(Error::IdempotencyKeyReused)
            });
        }
        rows.stored
            .get(&(k.scope.clone(), k.key.clone()))
            .map(|found| match found {
                InTx::Replay { status, body } => Ok(Stored {
                    status: *status,
                    body: body.clone(),
                    replayed: true,
                }),
                InTx::Mismatch => Err(Error::IdempotencyKeyReused),
                InTx::InFlight | InTx::Fresh => Err(Error::IdempotencyInFlight),
            })
    }
}

impl Op for Command {
    type Output = Stored;
    type Refusal = Error;
    type Batch = Rows;

    async fn apply(
        &self,
        tx: &mut Tx,
        rows: &mut Rows,
    ) -> Result<Result<Stored, Error>, StoreError> {
        if let Some(known) = self.known(rows) {
            return Ok(known);
        }
        let mut unit = Unit {
            tx: &mut *tx,
            rows: &mut *rows,
        };
        let (status, body) = match self.action.run(&mut unit, &self.ctx).await {
            Ok((status, body)) => (status.as_u16(), body),
            Err(e) if e.is_outcome() => e.stored_problem(self.ctx.actor.request_id.as_deref()),
            Err(e) => return Err(e.into_store()),
        };
        if let Some(k) = &self.idem {
            rows.answer(Completed {
                scope: k.scope.clone(),
                key: k.key.clone(),
                hash: k.hash.clone(),
                status,
                body: body.clone(),
            });
        }
        Ok(Ok(Stored {
            status,
            body,
            replayed: false,
        }))
    }

    /// One read of every key the batch carries, instead of one per operation.
    async fn prepare(tx: &mut Tx, ops: &[&Self], rows: &mut Rows) -> Result<(), StoreError> {
        let keys: Vec<(&str, &str, &str)> = ops
            .iter()
            .filter_map(|c| c.idem.as_ref())
            .map(|k| (k.scope.as_str(), k.key.as_str(), k.hash.as_str()))
            .collect();
        rows.stored = idempotency::lookup_many(tx, &keys).await?;
        Ok(())
    }

    async fn flush(tx: &mut Tx, rows: Rows) -> Result<(), StoreError> {
        rows.flush(tx).await
    }
}

/// The wallet's writer.
pub(crate) type Writer = GroupCommit<Command>;

/// Submits `cmd` and turns the outcome into a response, counting it.
pub(crate) async fn execute(writer: &Writer, cmd: Command) -> Response {
    let kind = cmd.action.kind();
    match writer.submit(cmd).await {
        Ok(Ok(stored)) => {
            if stored.replayed {
                crate::metrics::replay();
            }
            let outcome = if stored.status < 400 {
                "ok".to_owned()
            } else {
                stored.status.to_string()
            };
            crate::metrics::operation(kind, &outcome);
            stored.into_response()
        }
        Ok(Err(refusal)) => {
            crate::metrics::operation(kind, refusal.code());
            refusal.into_response()
        }
        Err(e) => {
            let e = Error::from(e);
            crate::metrics::operation(kind, "error");
            e.into_response()
        }
    }
}
