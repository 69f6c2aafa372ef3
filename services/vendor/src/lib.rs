//! The vendor service: vendors (with a wallet account each), quotes on open buyer intents
//! behind the free-quota paywall, entitlements from wallet subscription events, and catalogue
//! images. Port 4600.

mod blobs;
mod config;
mod domain;
mod error;
mod http;
mod jobs;
mod metrics;
mod projection;
mod state;
mod store;
mod wallet;
mod writer;

use platform::{Built, Ctx, Env, Service};

pub use config::{Config, S3Config};
pub use error::Error;

/// The vendor service.
pub struct Vendor;

static MIGRATIONS: ::store::Migrations = ::store::migrations!();

/// Room for a multipart envelope around the largest image.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

impl Service for Vendor {
    const NAME: &'static str = "vendor";
    const DEFAULT_PORT: u16 = 4600;
    /// The default 5 MB image limit with room for its multipart envelope.
    const BODY_LIMIT_BYTES: usize = 6 << 20;
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
        if ctx.common.body_limit < config.image_max_bytes + MULTIPART_OVERHEAD {
            tracing::warn!(
                body_limit = ctx.common.body_limit,
                image_max = config.image_max_bytes,
                "VENDOR_HTTP_BODY_LIMIT_BYTES is below VENDOR_IMAGE_MAX_BYTES plus 64 KiB; larger images get the kit's 413"
            );
        }
        let db = ::store::Db::connect(&ctx.common).await?;
        ::store::spawn_background(ctx, &db);
        let wallet = wallet::WalletClient::new(
            &config.wallet_url,
            config.wallet_timeout,
            ctx.keys.clone(),
            config.wallet_asset.clone(),
        )?;
        let images = blobs::open(&config, &ctx.common)?;
        let state = state::AppState::new(db.clone(), config, &ctx.common, wallet, images);
        projection::subscribe(ctx, state.clone());
        jobs::spawn_wallet_worker(ctx, state.clone());
        jobs::spawn_expiry(ctx, state.clone());
        let mut built = Built::new(http::router(state.clone()));
        built.checks.push(db.check());
        built.checks.push(state.wallet.http().check());
        built
            .on_shutdown
            .push(Box::pin(async move { db.close().await }));
        Ok(built)
    }
}
