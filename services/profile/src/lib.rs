//! The profile service: WhatsApp users (by E.164 number or business-scoped user id), their
//! locale and roles, and the places they save. Port 4001.

mod config;
mod domain;
mod error;
mod http;
mod metrics;
mod state;
mod store;

use platform::{Built, Ctx, Env, Service};

pub use config::Config;
pub use error::Error;

/// The profile service.
pub struct Profile;

static MIGRATIONS: ::store::Migrations = ::store::migrations!();

impl Service for Profile {
    const NAME: &'static str = "profile";
    const DEFAULT_PORT: u16 = 4001;
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
        let state = state::AppState::new(db.clone(), config, &ctx.common, ctx.redis.clone());
        let mut built = Built::new(http::router(state));
        built.checks.push(db.check());
        built
            .on_shutdown
            .push(Box::pin(async move { db.close().await }));
        Ok(built)
    }
}
