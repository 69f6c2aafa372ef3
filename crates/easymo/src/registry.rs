//! Every service the platform runs, with its port and purpose. `easymo up`, `serve`, `migrate`
//! and `audit` all read this one list.

use futures::future::BoxFuture;
use platform::config::ConfigError;
use platform::service::{self, Options, Running};
use platform::{Env, Service};

/// One service of the platform.
pub struct Entry {
    /// Name, as in ARCHITECTURE's table.
    pub name: &'static str,
    /// Default port.
    pub port: u16,
    /// What it does, for the `up` table.
    pub purpose: &'static str,
    /// Validates its configuration.
    pub check: fn(&Env, bool) -> Result<(), ConfigError>,
    /// Starts it.
    pub start: fn(Env, bool, Options) -> BoxFuture<'static, anyhow::Result<Running>>,
    /// Applies its migrations.
    pub migrate: fn(Env, bus::Bus) -> BoxFuture<'static, anyhow::Result<()>>,
    /// Its OpenAPI document.
    pub openapi: fn() -> utoipa::openapi::OpenApi,
    /// The variables it reads, with what each expects.
    pub variables: fn() -> Vec<(String, String)>,
}

fn check<S: Service>(env: &Env, single: bool) -> Result<(), ConfigError> {
    service::load::<S>(env, single).map(|_| ())
}

fn start<S: Service>(
    env: Env,
    single: bool,
    opts: Options,
) -> BoxFuture<'static, anyhow::Result<Running>> {
    Box::pin(async move {
        let loaded = service::load::<S>(&env, single)?;
        service::start(loaded, opts).await
    })
}

fn migrate<S: Service>(env: Env, bus: bus::Bus) -> BoxFuture<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let loaded = service::load::<S>(&env, true)?;
        service::migrate(&loaded, bus).await
    })
}

const fn entry<S: Service>(purpose: &'static str) -> Entry {
    Entry {
        name: S::NAME,
        port: S::DEFAULT_PORT,
        purpose,
        check: check::<S>,
        start: start::<S>,
        migrate: migrate::<S>,
        openapi: S::openapi,
        variables: service::variables::<S>,
    }
}

/// The services that are complete; a service joins when it reaches the audit's bar.
pub static SERVICES: &[Entry] = &[
    entry::<profile::Profile>("user profiles: WhatsApp identity, locale, roles, saved places"),
    entry::<wallet::Wallet>("double-entry token ledger: transfers, holds, subscriptions, FX"),
    entry::<ranking::Ranking>("vendor ranking and A/B experiments"),
    entry::<vendor::Vendor>("vendors, quotes, the free-quota paywall and catalogue images"),
    entry::<buyer::Buyer>("buyers, intents and purchases settled through the wallet (saga)"),
    entry::<whatsapp_webhook_worker::WhatsappWebhookWorker>(
        "WhatsApp webhook ingestion, routing and outbound messages",
    ),
    entry::<whatsapp_pricing::WhatsappPricing>(
        "motor-insurance quote conversations and the tariff engine",
    ),
];

/// Services still being built (their issues are open): `easymo serve` and `migrate` run them, so
/// they can be tried and tested as processes, and `generate` keeps their files current, but `up`
/// and `audit` leave them out until they are complete.
pub static BUILDING: &[Entry] = &[];

/// The entry named `name`, complete or being built.
pub fn find(name: &str) -> Option<&'static Entry> {
    SERVICES.iter().chain(BUILDING).find(|e| e.name == name)
}
