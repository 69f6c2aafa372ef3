//! The ranking service: a projection of vendor signals built from vendor, buyer and wallet
//! events, monotonic weighted scores, and A/B experiments over weight sets. Port 4500.

mod config;
mod domain;
mod error;
mod http;
mod metrics;
mod projection;
mod snapshot;
mod state;
mod store;

use platform::{Built, Ctx, Env, Service};

pub use config::Config;
pub use domain::score;
pub use error::Error;

/// The ranking service.
pub struct Ranking;

static MIGRATIONS: ::store::Migrations = ::store::migrations!();

impl Service for Ranking {
    const NAME: &'static str = "ranking";
    const DEFAULT_PORT: u16 = 4500;
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
        let state = state::AppState::new(db.clone(), config, &ctx.common);
        projection::subscribe(ctx, state.clone());
        let mut built = Built::new(http::router(state));
        built.checks.push(db.check());
        built
            .on_shutdown
            .push(Box::pin(async move { db.close().await }));
        Ok(built)
    }
}
