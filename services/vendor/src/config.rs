//! The vendor service's own settings.

use std::time::Duration;

use platform::Env;
use secrecy::SecretString;

/// Settings read from `VENDOR_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `VENDOR_WALLET_URL`: the wallet service (vendor accounts are opened there).
    pub wallet_url: String,
    /// `VENDOR_WALLET_TIMEOUT_MS`: bound on each wallet call.
    pub wallet_timeout: Duration,
    /// `VENDOR_WALLET_ASSET`: the asset of the account opened for each new vendor.
    pub wallet_asset: String,
    /// `VENDOR_CURRENCIES`: the currencies a quote may be priced in.
    pub currencies: Vec<String>,
    /// `VENDOR_QUOTE_TTL_SECS`: how long a quote stays open (capped by its intent's deadline).
    pub quote_ttl: Duration,
    /// `VENDOR_QUOTE_SWEEP_MS`: how often pending quotes past their deadline are marked expired.
    pub quote_sweep: Duration,
    /// `VENDOR_QUOTE_BATCH_MAX`: quotes per commit of the group-commit writer.
    pub quote_batch_max: usize,
    /// `VENDOR_QUOTE_BATCH_WAIT_US`: longest a quote waits for others to share its commit.
    pub quote_batch_wait: Duration,
    /// `VENDOR_IMAGE_MAX_BYTES`: largest upload accepted (413 above).
    pub image_max_bytes: usize,
    /// `VENDOR_IMAGE_MAX_DIMENSION`: largest width or height decoded (larger is refused unread).
    pub image_max_dimension: u32,
    /// `VENDOR_IMAGE_MAX_ALLOC_BYTES`: most memory one decode may allocate.
    pub image_max_alloc: u64,
    /// `VENDOR_IMAGE_DECODE_CONCURRENCY`: decodes running at once (each on a blocking thread).
    pub image_decode_concurrency: usize,
    /// `VENDOR_IMAGE_DISPLAY_PX`: longest side of the display copy.
    pub image_display_px: u32,
    /// `VENDOR_IMAGE_THUMB_PX`: longest side of the thumbnail.
    pub image_thumb_px: u32,
    /// S3-compatible storage, when `VENDOR_S3_BUCKET` is set; else a local directory.
    pub s3: Option<S3Config>,
}

/// Where images go when stored in an S3-compatible bucket.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// `VENDOR_S3_BUCKET`.
    pub bucket: String,
    /// `VENDOR_S3_ENDPOINT`: e.g. `http://127.0.0.1:9000` (path-style); unset for AWS.
    pub endpoint: Option<String>,
    /// `VENDOR_S3_REGION` (default `us-east-1`).
    pub region: String,
    /// `VENDOR_S3_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `VENDOR_S3_SECRET_ACCESS_KEY` (redacted in logs).
    pub secret_access_key: Option<SecretString>,
}

const DEFAULT_CURRENCIES: &str = "RWF,USD,EUR,KES,UGX,TZS,TOKEN";

impl Config {
    pub(crate) fn from_env(env: &mut Env) -> Self {
        let wallet_url = env.or(
            "VENDOR_WALLET_URL",
            "http://127.0.0.1:4400".to_owned(),
            "base URL of the wallet service (default http://127.0.0.1:4400)",
        );
        let wallet_timeout = env.millis(
            "VENDOR_WALLET_TIMEOUT_MS",
            Duration::from_secs(3),
            "milliseconds each wallet call may take (default 3000)",
        );
        let wallet_asset: String = env.or(
            "VENDOR_WALLET_ASSET",
            "TOKEN".to_owned(),
            "asset of the wallet account opened for each vendor (default TOKEN)",
        );
        let mut currencies = env.list(
            "VENDOR_CURRENCIES",
            "currencies quotes may use, comma separated (default RWF,USD,EUR,KES,UGX,TZS,TOKEN)",
        );
        if currencies.is_empty() {
            currencies = DEFAULT_CURRENCIES.split(',').map(str::to_owned).collect();
        }
        env.check(
            currencies.iter().all(|c| {
                (2..=12).contains(&c.len())
                    && c.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }),
            "VENDOR_CURRENCIES must list upper-case codes such as RWF,USD,TOKEN",
        );
        let quote_ttl_secs: u64 = env.or(
            "VENDOR_QUOTE_TTL_SECS",
            86_400,
            "seconds a quote stays open, capped by its intent's deadline (default 86400)",
        );
        env.check(quote_ttl_secs > 0, "VENDOR_QUOTE_TTL_SECS must be positive");
        let quote_sweep = env.millis(
            "VENDOR_QUOTE_SWEEP_MS",
            Duration::from_secs(30),
            "milliseconds between sweeps that mark overdue quotes expired (default 30000)",
        );
        let quote_batch_max: usize = env.or(
            "VENDOR_QUOTE_BATCH_MAX",
            64,
            "quotes per commit (default 64)",
        );
        env.check(
            quote_batch_max > 0,
            "VENDOR_QUOTE_BATCH_MAX must be positive",
        );
        let quote_batch_wait_us: u64 = env.or(
            "VENDOR_QUOTE_BATCH_WAIT_US",
            1000,
            "microseconds a quote waits to share a commit (default 1000)",
        );
        let image_max_bytes: usize = env.or(
            "VENDOR_IMAGE_MAX_BYTES",
            5 * 1024 * 1024,
            "largest image upload in bytes (default 5242880)",
        );
        let image_max_dimension: u32 = env.or(
            "VENDOR_IMAGE_MAX_DIMENSION",
            8000,
            "largest image width or height in pixels (default 8000)",
        );
        let image_max_alloc: u64 = env.or(
            "VENDOR_IMAGE_MAX_ALLOC_BYTES",
            256 * 1024 * 1024,
            "most bytes one image decode may allocate (default 268435456)",
        );
        let image_decode_concurrency: usize = env.or(
            "VENDOR_IMAGE_DECODE_CONCURRENCY",
            2,
            "image decodes at once (default 2)",
        );
        let image_display_px: u32 = env.or(
            "VENDOR_IMAGE_DISPLAY_PX",
            1280,
            "longest side of the display copy in pixels (default 1280)",
        );
        let image_thumb_px: u32 = env.or(
            "VENDOR_IMAGE_THUMB_PX",
            320,
            "longest side of the thumbnail in pixels (default 320)",
        );
        env.check(
            image_max_bytes > 0,
            "VENDOR_IMAGE_MAX_BYTES must be positive",
        );
        env.check(
            image_max_dimension >= 16,
            "VENDOR_IMAGE_MAX_DIMENSION must be at least 16",
        );
        env.check(
            image_decode_concurrency > 0,
            "VENDOR_IMAGE_DECODE_CONCURRENCY must be positive",
        );
        env.check(
            image_thumb_px > 0 && image_display_px >= image_thumb_px,
            "VENDOR_IMAGE_THUMB_PX must be positive and at most VENDOR_IMAGE_DISPLAY_PX",
        );
        let s3 = Self::s3(env);
        Self {
            wallet_url,
            wallet_timeout,
            wallet_asset,
            currencies,
            quote_ttl: Duration::from_secs(quote_ttl_secs),
            quote_sweep,
            quote_batch_max,
            quote_batch_wait: Duration::from_micros(quote_batch_wait_us),
            image_max_bytes,
            image_max_dimension,
            image_max_alloc,
            image_decode_concurrency,
            image_display_px,
            image_thumb_px,
            s3,
        }
    }

    fn s3(env: &mut Env) -> Option<S3Config> {
        let bucket: Option<String> = env.optional(
            "VENDOR_S3_BUCKET",
            "S3 bucket for catalogue images (unset: a local directory under DATA_DIR)",
        );
        let endpoint: Option<String> = env.optional(
            "VENDOR_S3_ENDPOINT",
            "S3-compatible endpoint URL, path-style (unset: AWS)",
        );
        let region = env.or(
            "VENDOR_S3_REGION",
            "us-east-1".to_owned(),
            "S3 region (default us-east-1)",
        );
        let access_key_id: Option<String> =
            env.optional("VENDOR_S3_ACCESS_KEY_ID", "S3 access key id");
        let secret_access_key = env.secret("VENDOR_S3_SECRET_ACCESS_KEY", "S3 secret access key");
        bucket.map(|bucket| S3Config {
            bucket,
            endpoint,
            region,
            access_key_id,
            secret_access_key,
        })
    }
}
