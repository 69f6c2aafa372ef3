//! Background work: pending transfers that time out are voided; the ledger is reconciled on a
//! schedule.

use chrono::Utc;
use platform::Ctx;

use crate::http;
use crate::ledger::OpCtx;
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::store::transfers;
use crate::writer::{Action, Command};

/// Voids pending transfers past their timeout, through the writer like any other operation.
pub(crate) fn spawn_expiry(ctx: &Ctx, s: AppState) {
    let stop = ctx.shutdown.clone();
    ctx.spawn("pending-expiry", async move {
        let mut tick = tokio::time::interval(s.config.pending_sweep);
        loop {
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            let expired = {
                let mut conn = s.db.conn().await?;
                transfers::expired(conn.exec(), Utc::now(), 200).await?
            };
            for (id, tenant) in expired {
                let cmd = Command {
                    idem: None,
                    ctx: OpCtx {
                        tenant,
                        actor: Actor { service: "wallet:timeout".into(), request_id: None },
                    },
                    action: Action::Void { id: id.clone(), reason: Some("timeout".into()) },
                };
                match s.writer.submit(cmd).await {
                    Ok(Ok(stored)) if stored.status < 300 => {
                        tracing::info!(transfer_id = %id, "pending transfer voided at its timeout");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(transfer_id = %id, error = %e, "expiry void failed; retrying next sweep"),
                }
            }
        }
    });
}

/// Reconciles the whole ledger every `reconcile_every`.
pub(crate) fn spawn_reconciliation(ctx: &Ctx, s: AppState) {
    let Some(every) = s.config.reconcile_every else {
        return;
    };
    let stop = ctx.shutdown.clone();
    ctx.spawn("reconciliation", async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            if let Err(e) = http::run_reconciliation(&s, None).await {
                tracing::warn!(error = %e, "scheduled reconciliation failed");
            }
        }
    });
}
