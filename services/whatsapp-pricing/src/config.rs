//! The whatsapp-pricing service's own settings.

use std::time::Duration;

use platform::Env;
use secrecy::SecretString;

/// Settings read from `WHATSAPP_PRICING_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `WHATSAPP_PRICING_UTC_OFFSET_MINUTES`: offset of the calendar tariff dates are read in
    /// (default 120: Africa/Kigali, which has no daylight saving).
    pub utc_offset_minutes: i32,
    /// `WHATSAPP_PRICING_CONVERSATION`: whether this instance runs the WhatsApp conversation
    /// (consumes `whatsapp.message.routed` and `payments.collection.succeeded`, works the send and
    /// OCR queues). Default true.
    pub conversation: bool,
    /// `WHATSAPP_PRICING_WORKER_URL`: the whatsapp-webhook-worker's base URL (replies go through
    /// its `POST /v1/messages`, documents come from its `GET /v1/media/{id}`).
    pub worker_url: String,
    /// `WHATSAPP_PRICING_WORKER_TIMEOUT_MS`: bound on each call to the worker.
    pub worker_timeout: Duration,
    /// `WHATSAPP_PRICING_IDLE_TIMEOUT_MS`: a conversation idle this long before payment starts
    /// over on its next message (default 24 h).
    pub idle_timeout: Duration,
    /// `WHATSAPP_PRICING_OCR_API_KEY`: key of the OpenAI-compatible vision model; unset = no
    /// document reading (users type their vehicle facts; `/ready` reports `ocr` degraded).
    pub ocr_api_key: Option<SecretString>,
    /// `WHATSAPP_PRICING_OCR_BASE_URL`: the model's base URL (default `https://api.openai.com`).
    pub ocr_base_url: String,
    /// `WHATSAPP_PRICING_OCR_MODEL`: the vision model (default `gpt-4o-mini`).
    pub ocr_model: String,
    /// `WHATSAPP_PRICING_OCR_TIMEOUT_MS`: bound on each model call (default 60 s).
    pub ocr_timeout: Duration,
    /// `WHATSAPP_PRICING_OCR_MAX_BYTES`: largest document sent to the model (default 5 MiB).
    pub ocr_max_bytes: usize,
    /// `WHATSAPP_PRICING_OCR_ATTEMPTS`: attempts of a reading job before the user is asked to
    /// type the facts (default 3).
    pub ocr_attempts: u32,
    /// `WHATSAPP_PRICING_BATCH_MAX`: most quotes stored per transaction and commit (default 128).
    pub batch_max: usize,
    /// `WHATSAPP_PRICING_BATCH_WAIT_US`: longest a quote waits for others to share its commit
    /// (default 0: a batch is what queued during the previous commit. Once checkpoints left the
    /// commit, a 1 ms wait only idled the writer: 14.0-14.6k quotes/s against 15.2-16.3k).
    pub batch_wait: Duration,
    /// `WHATSAPP_PRICING_TARIFF_REFRESH_MS`: how often the in-memory tariff snapshot checks the
    /// database for versions published by another replica (default 1000 ms).
    pub tariff_refresh: Duration,
}

impl Config {
    pub(crate) fn from_env(env: &mut Env) -> Self {
        let utc_offset_minutes: i32 = env.or(
            "WHATSAPP_PRICING_UTC_OFFSET_MINUTES",
            120,
            "minutes east of UTC of the calendar tariff dates are read in (default 120, Africa/Kigali)",
        );
        env.check(
            (-14 * 60..=14 * 60).contains(&utc_offset_minutes),
            "WHATSAPP_PRICING_UTC_OFFSET_MINUTES must be between -840 and 840",
        );
        let conversation = env.flag(
            "WHATSAPP_PRICING_CONVERSATION",
            true,
            "run the WhatsApp quote conversation: consume routed messages and payments, work the send and OCR queues (default true)",
        );
        let worker_url: String = env.or(
            "WHATSAPP_PRICING_WORKER_URL",
            "http://127.0.0.1:4910".to_owned(),
            "base URL of whatsapp-webhook-worker (default http://127.0.0.1:4910)",
        );
        env.check(
            worker_url.starts_with("http://") || worker_url.starts_with("https://"),
            "WHATSAPP_PRICING_WORKER_URL must be an http(s) URL",
        );
        let worker_timeout = env.millis(
            "WHATSAPP_PRICING_WORKER_TIMEOUT_MS",
            Duration::from_secs(10),
            "bound on each call to the webhook worker, ms (default 10000)",
        );
        let idle_timeout = env.millis(
            "WHATSAPP_PRICING_IDLE_TIMEOUT_MS",
            Duration::from_secs(24 * 3600),
            "a conversation idle this long before payment starts over, ms (default 86400000)",
        );
        env.check(
            idle_timeout >= Duration::from_secs(60),
            "WHATSAPP_PRICING_IDLE_TIMEOUT_MS must be at least 60000",
        );
        let ocr_api_key = env
            .secret(
                "WHATSAPP_PRICING_OCR_API_KEY",
                "API key of the OpenAI-compatible vision model; unset = users type their vehicle facts",
            )
            .filter(|k| !secrecy::ExposeSecret::expose_secret(k).trim().is_empty());
        let ocr_base_url: String = env.or(
            "WHATSAPP_PRICING_OCR_BASE_URL",
            "https://api.openai.com".to_owned(),
            "base URL of the OpenAI-compatible API (default https://api.openai.com)",
        );
        env.check(
            ocr_base_url.starts_with("http://") || ocr_base_url.starts_with("https://"),
            "WHATSAPP_PRICING_OCR_BASE_URL must be an http(s) URL",
        );
        let ocr_model: String = env.or(
            "WHATSAPP_PRICING_OCR_MODEL",
            "gpt-4o-mini".to_owned(),
            "vision model name (default gpt-4o-mini)",
        );
        env.check(
            !ocr_model.trim().is_empty(),
            "WHATSAPP_PRICING_OCR_MODEL must not be empty",
        );
        let ocr_timeout = env.millis(
            "WHATSAPP_PRICING_OCR_TIMEOUT_MS",
            Duration::from_secs(60),
            "bound on each vision-model call, ms (default 60000)",
        );
        env.check(
            ocr_timeout >= Duration::from_millis(100),
            "WHATSAPP_PRICING_OCR_TIMEOUT_MS must be at least 100",
        );
        let ocr_max_bytes: usize = env.or(
            "WHATSAPP_PRICING_OCR_MAX_BYTES",
            5 * 1024 * 1024,
            "largest document sent to the vision model, bytes (default 5242880)",
        );
        env.check(
            ocr_max_bytes >= 1024,
            "WHATSAPP_PRICING_OCR_MAX_BYTES must be at least 1024",
        );
        let ocr_attempts: u32 = env.or(
            "WHATSAPP_PRICING_OCR_ATTEMPTS",
            3,
            "attempts of a document reading before the user is asked to type (default 3)",
        );
        env.check(
            (1..=10).contains(&ocr_attempts),
            "WHATSAPP_PRICING_OCR_ATTEMPTS must be between 1 and 10",
        );
        let batch_max: usize = env.or(
            "WHATSAPP_PRICING_BATCH_MAX",
            128,
            "quotes stored per transaction and commit, 1-512 (default 128)",
        );
        env.check(
            (1..=512).contains(&batch_max),
            "WHATSAPP_PRICING_BATCH_MAX must be between 1 and 512",
        );
        let batch_wait_us: u64 = env.or(
            "WHATSAPP_PRICING_BATCH_WAIT_US",
            0,
            "microseconds a quote waits to share a commit, 0-100000 (default 0)",
        );
        env.check(
            batch_wait_us <= 100_000,
            "WHATSAPP_PRICING_BATCH_WAIT_US must be at most 100000",
        );
        let tariff_refresh = env.millis(
            "WHATSAPP_PRICING_TARIFF_REFRESH_MS",
            Duration::from_secs(1),
            "how often the tariff snapshot looks for versions published elsewhere, ms (default 1000)",
        );
        env.check(
            (Duration::from_millis(10)..=Duration::from_secs(300)).contains(&tariff_refresh),
            "WHATSAPP_PRICING_TARIFF_REFRESH_MS must be between 10 and 300000",
        );
        Self {
            utc_offset_minutes,
            conversation,
            worker_url,
            worker_timeout,
            idle_timeout,
            ocr_api_key,
            ocr_base_url,
            ocr_model,
            ocr_timeout,
            ocr_max_bytes,
            ocr_attempts,
            batch_max,
            batch_wait: Duration::from_micros(batch_wait_us),
            tariff_refresh,
        }
    }
}
