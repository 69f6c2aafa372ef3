//! The buyer service's own settings.

use std::time::Duration;

use platform::Env;

/// Settings read from `BUYER_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BUYER_WALLET_URL`: the wallet service's base URL.
    pub wallet_url: String,
    /// `BUYER_VENDOR_URL`: the vendor service's base URL.
    pub vendor_url: String,
    /// `BUYER_HTTP_TIMEOUT_MS`: bound on each outbound call.
    pub http_timeout: Duration,
    /// `BUYER_SETTLEMENT_DEADLINE_SECONDS`: a purchase not settled this long after it was made is
    /// cancelled and its reservation voided.
    pub settlement_deadline: Duration,
    /// `BUYER_WALLET_TIMEOUT_MARGIN_SECONDS`: the wallet's own timeout on the reservation is the
    /// settlement deadline plus this margin, so the buyer always decides first.
    pub wallet_timeout_margin: Duration,
    /// `BUYER_INTENT_TTL_SECONDS`: an intent sent without `expiresAt` expires after this.
    pub intent_ttl: Duration,
    /// `BUYER_SAGA_RETRY_BASE_MS`: first delay before a failed saga step runs again (doubles).
    pub saga_retry_base: Duration,
    /// `BUYER_SAGA_MAX_ATTEMPTS`: attempts of a saga job before it is dead-lettered.
    pub saga_max_attempts: u32,
    /// `BUYER_SAGA_CONCURRENCY`: saga jobs run at once by this instance.
    pub saga_concurrency: usize,
}

impl Config {
    pub(crate) fn from_env(env: &mut Env) -> Self {
        let wallet_url: String = env.or(
            "BUYER_WALLET_URL",
            "http://127.0.0.1:4400".to_owned(),
            "the wallet service's base URL (default http://127.0.0.1:4400)",
        );
        let vendor_url: String = env.or(
            "BUYER_VENDOR_URL",
            "http://127.0.0.1:4600".to_owned(),
            "the vendor service's base URL (default http://127.0.0.1:4600)",
        );
        for (key, url) in [
            ("BUYER_WALLET_URL", &wallet_url),
            ("BUYER_VENDOR_URL", &vendor_url),
        ] {
            env.check(
                url.starts_with("http://") || url.starts_with("https://"),
                format!("{key} must be an http(s) URL"),
            );
        }
        let http_timeout = env.millis(
            "BUYER_HTTP_TIMEOUT_MS",
            Duration::from_secs(5),
            "milliseconds each wallet or vendor call may take (default 5000)",
        );
        let secs = |env: &mut Env, key: &str, default: u64, doc: &str| {
            Duration::from_secs(env.or(key, default, doc))
        };
        let settlement_deadline = secs(
            env,
            "BUYER_SETTLEMENT_DEADLINE_SECONDS",
            86_400,
            "seconds a purchase may wait for both confirmations before it is voided (default 86400)",
        );
        let wallet_timeout_margin = secs(
            env,
            "BUYER_WALLET_TIMEOUT_MARGIN_SECONDS",
            3600,
            "seconds the wallet's reservation outlives the settlement deadline (default 3600)",
        );
        let intent_ttl = secs(
            env,
            "BUYER_INTENT_TTL_SECONDS",
            86_400,
            "seconds an intent sent without expiresAt stays open (default 86400)",
        );
        env.check(
            !settlement_deadline.is_zero() && !intent_ttl.is_zero(),
            "BUYER_SETTLEMENT_DEADLINE_SECONDS and BUYER_INTENT_TTL_SECONDS must be positive",
        );
        env.check(
            wallet_timeout_margin >= Duration::from_secs(60),
            "BUYER_WALLET_TIMEOUT_MARGIN_SECONDS must be at least 60",
        );
        let saga_retry_base = env.millis(
            "BUYER_SAGA_RETRY_BASE_MS",
            Duration::from_millis(500),
            "milliseconds before a failed saga step is retried, doubling up to 60 s (default 500)",
        );
        let saga_max_attempts: u32 = env.or(
            "BUYER_SAGA_MAX_ATTEMPTS",
            25,
            "attempts of a saga job before it is dead-lettered (default 25)",
        );
        let saga_concurrency: usize = env.or(
            "BUYER_SAGA_CONCURRENCY",
            32,
            "saga jobs run at once by one instance (default 32; each mostly waits on the wallet and vendor)",
        );
        env.check(
            saga_max_attempts > 0 && saga_concurrency > 0,
            "BUYER_SAGA_MAX_ATTEMPTS and BUYER_SAGA_CONCURRENCY must be positive",
        );
        Self {
            wallet_url,
            vendor_url,
            http_timeout,
            settlement_deadline,
            wallet_timeout_margin,
            intent_ttl,
            saga_retry_base,
            saga_max_attempts,
            saga_concurrency,
        }
    }
}
