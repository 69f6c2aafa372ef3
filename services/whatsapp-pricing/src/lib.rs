//! The whatsapp-pricing service: motor-insurance quotes for BK, Old Mutual, Prime and Radiant
//! (spec `whatsapp.md` §2), priced by the pure `pricing` crate with tariffs stored as versioned,
//! append-only data. Port 4920.

mod book;
mod config;
mod conversation;
mod domain;
mod error;
mod http;
mod metrics;
mod references;
mod state;
mod store;
mod writer;

use platform::{Built, Ctx, Env, Service};

pub use config::Config;
pub use error::Error;

/// The whatsapp-pricing service.
pub struct WhatsappPricing;

static MIGRATIONS: ::store::Migrations = ::store::migrations!();

impl Service for WhatsappPricing {
    const NAME: &'static str = "whatsapp-pricing";
    const DEFAULT_PORT: u16 = 4920;
    type Config = Config;

    fn config(env: &mut Env) -> Config {
        Config::from_env(env)
    }

    fn openapi() -> utoipa::openapi::OpenApi {
        http::openapi()
    }

    /// Applies the migrations, then loads the shipped tariff files into `tariffs` (a version
    /// already stored is left alone).
    async fn migrate(ctx: &Ctx, _: &Config) -> anyhow::Result<()> {
        let db = ::store::Db::connect(&ctx.common).await?;
        db.migrate(&MIGRATIONS).await?;
        let seeded = book::seed_embedded(&db).await;
        db.close().await;
        let seeded = seeded?;
        tracing::info!(seeded, "embedded tariffs loaded");
        Ok(())
    }

    async fn build(ctx: &Ctx, config: Config) -> anyhow::Result<Built> {
        let db = ::store::Db::connect(&ctx.common).await?;
        ::store::spawn_background(ctx, &db);
        let conversation = config.conversation;
        let state = state::Inner::start(db.clone(), config.clone(), &ctx.common);
        let mut built = Built::new(http::router(state.clone()));
        built.checks.push(db.check());
        if conversation {
            let runner = conversation::run::Runner::new(state, &config, ctx.keys.clone())?;
            runner.start(ctx);
            built.checks.extend(runner.checks());
        }
        built
            .on_shutdown
            .push(Box::pin(async move { db.close().await }));
        Ok(built)
    }
}
