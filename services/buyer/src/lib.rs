//! The buyer service: buyers linked to profiles, intents with a lifecycle, and purchases of a
//! vendor's quote as a saga over the wallet's two-phase transfers. Port 4700.

mod clients;
mod config;
mod domain;
mod error;
mod http;
mod jobs;
mod metrics;
mod projection;
mod saga;
mod state;
mod store;

use platform::{Built, Ctx, Env, Service};

pub use config::Config;
pub use error::Error;

/// The service name (JWT audience, event source).
pub(crate) const NAME: &str = "buyer";

/// The buyer service.
pub struct Buyer;

static MIGRATIONS: ::store::Migrations = ::store::migrations!();

impl Service for Buyer {
    const NAME: &'static str = NAME;
    const DEFAULT_PORT: u16 = 4700;
    type Config = Config;

    fn config(env: &mut Env) -> Config {
        Config::from_env(env)
    }

    fn openapi() -> utoipa::openapi::OpenApi {
        http::openapi()
    }

    async fn migrate(ctx: &Ctx, _: &Config) -> anyhow::Result<()> {
        Ok(::store::Db::migrate_service(&ctx.common, &MIGRATIONS).await?)
    }

    async fn build(ctx: &Ctx, config: Config) -> anyhow::Result<Built> {
        let db = ::store::Db::connect(&ctx.common).await?;
        ::store::spawn_background(ctx, &db);
        let clients = clients::Clients::new(&config, ctx.keys.clone())?;
        let state = state::AppState::new(db.clone(), config, &ctx.common, clients.clone());
        jobs::spawn(ctx, &state);
        projection::subscribe(ctx, state.clone());
        let mut built = Built::new(http::router(state));
        built.checks.push(db.check());
        built.checks.push(clients.wallet.check());
        built.checks.push(clients.vendor.check());
        built
            .on_shutdown
            .push(Box::pin(async move { db.close().await }));
        Ok(built)
    }
}
