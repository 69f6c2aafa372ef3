//! The WhatsApp webhook worker: Meta's Cloud API webhook, verified on the raw bytes, stored and
//! deduplicated by `wamid` in one transaction, then routed off the request path (spec 1.9 and
//! 3.2): a stored message is its own first routing attempt, with a job only once deferred or
//! failed. Port 4910.
//!
//! Routing emits `whatsapp.message.routed` (and `whatsapp.contact.opted_out`) through the
//! outbox in the transaction that marks the message routed, so each message's effects happen
//! once.
//!
//! `POST /v1/messages` stores a message `queued` with a `whatsapp.outbound` job; the send worker
//! calls the Graph API outside any transaction. `GET /v1/media/{id}` proxies inbound media, so
//! only this service holds the Meta token.

#![warn(missing_docs)]

mod config;
mod domain;
mod error;
mod http;
mod ingest;
mod jobs;
mod menu;
mod metrics;
mod outbound;
mod send;
mod state;
mod store;
mod throttle;

use std::sync::Arc;

use ::store::Db;
use ::store::group::{GroupCommit, GroupConfig};
use ::store::jobs::Retry;
use platform::{Built, Check, Ctx, Env, Service};

pub use config::{Config, DEFAULT_RETRY_SCHEDULE};
pub use error::Error;

/// The service name (JWT audience, event source, metric label).
pub const NAME: &str = "whatsapp-webhook-worker";

/// The processing queue's name (in the store's `kit_jobs`).
pub const QUEUE: &str = state::QUEUE;

/// The send queue's name: `POST /v1/messages` enqueues one job per message.
pub const OUTBOUND_QUEUE: &str = state::OUTBOUND_QUEUE;

/// The WhatsApp webhook worker.
pub struct WhatsappWebhookWorker;

static MIGRATIONS: ::store::Migrations = ::store::migrations!();

impl Service for WhatsappWebhookWorker {
    const NAME: &'static str = NAME;
    const DEFAULT_PORT: u16 = 4910;
    /// Meta's largest delivery (3 MiB).
    const BODY_LIMIT_BYTES: usize = whatsapp::MAX_WEBHOOK_BYTES;
    type Config = Config;

    fn config(env: &mut Env) -> Config {
        Config::from_env(env)
    }

    fn openapi() -> utoipa::openapi::OpenApi {
        http::openapi()
    }

    async fn migrate(ctx: &Ctx, _: &Config) -> anyhow::Result<()> {
        let db = Db::connect(&ctx.common).await?;
        db.migrate(&MIGRATIONS).await?;
        db.close().await;
        Ok(())
    }

    async fn build(ctx: &Ctx, config: Config) -> anyhow::Result<Built> {
        if ctx.common.body_limit < whatsapp::MAX_WEBHOOK_BYTES {
            tracing::warn!(
                body_limit = ctx.common.body_limit,
                webhook_max = whatsapp::MAX_WEBHOOK_BYTES,
                "the body limit is below Meta's largest delivery: large webhooks will get 413"
            );
        }
        let db = Db::connect(&ctx.common).await?;
        ::store::spawn_background(ctx, &db);
        let client = match &config.access_token {
            Some(token) => {
                let mut c = whatsapp::Config::new(token.clone());
                c.base_url.clone_from(&config.graph_url);
                Some(whatsapp::Client::new(c)?)
            }
            None => None,
        };
        let ingest = GroupCommit::spawn(
            db.clone(),
            GroupConfig {
                max_batch: config.ingest_batch_max,
                max_wait: config.ingest_batch_wait,
                ..GroupConfig::default()
            },
            "whatsapp-ingest",
        );
        let state = Arc::new(state::Inner {
            client: client.clone(),
            db: db.clone(),
            ingest,
            retry: Arc::new(Retry::Schedule(config.retry_schedule.clone())),
            send_retry: Arc::new(Retry::Schedule(config.send_retry_schedule.clone())),
            throttle: Arc::new(throttle::Throttle::new(
                config.sender_rate_per_minute,
                config.sender_burst,
            )),
            config: Arc::new(config),
            default_tenant: Arc::from(ctx.common.default_tenant_id.as_str()),
        });
        jobs::spawn(ctx, &state);
        send::spawn(ctx, &state);
        let mut built = Built::new(http::router(state.clone()));
        built.public = http::public(state.clone());
        built.checks.push(db.check());
        built.checks.push(queue_check(state.clone()));
        if state.config.app_secret.is_none() {
            tracing::warn!(
                "WHATSAPP_WEBHOOK_WORKER_APP_SECRET is not set: webhook deliveries get 503 (development only)"
            );
            built.checks.push(
                Check::new("webhook_ingest", || async {
                    Err(
                        "WHATSAPP_WEBHOOK_WORKER_APP_SECRET is not set: ingestion is disabled"
                            .to_owned(),
                    )
                })
                .optional(),
            );
        }
        built.checks.push(match client {
            Some(c) => c.check(),
            None => Check::new("whatsapp_sending", || async {
                Err(
                    "WHATSAPP_WEBHOOK_WORKER_ACCESS_TOKEN is not set: sending is disabled"
                        .to_owned(),
                )
            })
            .optional(),
        });
        built
            .on_shutdown
            .push(Box::pin(async move { db.close().await }));
        Ok(built)
    }
}

/// The processing queue: degraded (not unready, so ingestion goes on) when a due job has waited
/// longer than `QUEUE_MAX_AGE_SECS`.
fn queue_check(s: state::AppState) -> Check {
    Check::new("job_queue", move || {
        let s = s.clone();
        async move {
            let st = jobs::stats(&s).await.map_err(|e| e.to_string())?;
            if st.oldest_due_age_s > s.config.queue_max_age_s {
                return Err(format!(
                    "oldest due job waited {}s ({} pending, {} dead)",
                    st.oldest_due_age_s, st.pending, st.dead
                ));
            }
            Ok(())
        }
    })
    .optional()
}
