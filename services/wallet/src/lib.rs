//! The wallet service: a double-entry ledger of integer minor units per asset, with two-phase
//! transfers, reversals, subscriptions, FX quotes and reconciliation. Port 4400.
//!
//! Every money operation goes through one group-commit writer: operations queue, a batch is
//! applied in one transaction and committed once, and each caller is answered after its batch
//! is durable with its own outcome.

mod config;
mod domain;
mod error;
mod http;
mod jobs;
mod ledger;
mod metrics;
mod rows;
mod state;
mod store;
mod writer;

use std::sync::Arc;

use ::store::Db;
use ::store::group::{GroupCommit, GroupConfig};
use platform::client::{ClientConfig, HttpClient};
use platform::{Built, Ctx, Env, Service};

pub use config::Config;
pub use error::Error;

/// The wallet service.
pub struct Wallet;

static MIGRATIONS: ::store::Migrations = ::store::migrations!();

impl Service for Wallet {
    const NAME: &'static str = "wallet";
    const DEFAULT_PORT: u16 = 4400;
    type Config = Config;

    fn config(env: &mut Env) -> Config {
        Config::from_env(env)
    }

    fn openapi() -> utoipa::openapi::OpenApi {
        http::openapi()
    }

    async fn migrate(ctx: &Ctx, _: &Config) -> anyhow::Result<()> {
        Ok(Db::migrate_service(&ctx.common, &MIGRATIONS).await?)
    }

    async fn build(ctx: &Ctx, config: Config) -> anyhow::Result<Built> {
        let db = Db::connect(&ctx.common).await?;
        ::store::spawn_background(ctx, &db);
        let writer = GroupCommit::spawn(
            db.clone(),
            GroupConfig {
                max_batch: config.batch_max,
                max_wait: config.batch_wait,
                ..GroupConfig::default()
            },
            "wallet",
        );
        let fx = match &config.fx_url {
            Some(url) => Some(HttpClient::new("fx-api", url, ClientConfig::default())?),
            None => None,
        };
        let state = state::AppState {
            db: db.clone(),
            writer,
            config: Arc::new(config),
            default_tenant: Arc::from(ctx.common.default_tenant_id.as_str()),
            fx: fx.clone(),
        };
        jobs::spawn_expiry(ctx, state.clone());
        jobs::spawn_reconciliation(ctx, state.clone());
        let mut built = Built::new(http::router(state));
        built.checks.push(db.check());
        if let Some(fx) = &fx {
            built.checks.push(fx.check());
        }
        built
            .on_shutdown
            .push(Box::pin(async move { db.close().await }));
        Ok(built)
    }
}
