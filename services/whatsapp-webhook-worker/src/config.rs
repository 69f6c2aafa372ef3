//! The webhook worker's own settings.

use std::collections::BTreeMap;
use std::time::Duration;

use platform::Env;
use secrecy::{ExposeSecret, SecretString};
use whatsapp::AppSecret;

/// The retry delays of issue 4 (Svix's schedule): the first attempt runs at once, then retries
/// after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; then the job is dead.
pub const DEFAULT_RETRY_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";

/// The retry delays of a send: short, since a reply delivered hours late is worse than one
/// reported failed, and Meta's throughput errors (130429, 131056) clear within seconds.
pub const DEFAULT_SEND_RETRY_SCHEDULE: &str = "1s,5s,30s,2m,10m";

/// Settings read from `WHATSAPP_WEBHOOK_WORKER_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `..._VERIFY_TOKEN`: the token Meta echoes in the `GET /webhook` handshake (empty when
    /// unset: every handshake is refused).
    pub verify_token: SecretString,
    /// `..._APP_SECRET`: the Meta app secret that signs each delivery (`X-Hub-Signature-256`).
    /// `None` only outside production: deliveries then get 503 `webhook_disabled`.
    pub app_secret: Option<AppSecret>,
    /// `..._TENANTS`: `phone_number_id=tenant` pairs; other numbers use the default tenant.
    pub tenants: BTreeMap<String, String>,
    /// `..._REQUIRE_TENANT_MAPPING`: a message to an unmapped number fails (and is dead-lettered
    /// after its retries) instead of going to the default tenant.
    pub require_tenant_mapping: bool,
    /// `..._OPT_OUT_KEYWORDS`: whole-message keywords (any case) that opt a contact out.
    pub opt_out_keywords: Vec<String>,
    /// `..._RETRY_SCHEDULE`: delays before each retry of a failed processing job.
    pub retry_schedule: Vec<Duration>,
    /// `..._SEND_RETRY_SCHEDULE`: delays before each retry of a send Meta refused as retryable.
    pub send_retry_schedule: Vec<Duration>,
    /// `..._CONCURRENCY`: outbound sends handled at once (1 keeps each contact's order).
    pub concurrency: usize,
    /// `..._PROCESSING_BATCH`: inbound messages routed together, in order, in one transaction
    /// while no webhook arrives (default 64: a backlog drained at 9.9-12k messages/s and 71-86 us
    /// of CPU each, against 6.5-7k/s and 111-118 us with 16; 16 while webhooks arrive below 5,000/s, 4 above).
    pub processing_batch: usize,
    /// `..._JOB_LEASE_MS`: how long a claimed job is protected; a job whose worker died is taken
    /// over after it.
    pub job_lease: Duration,
    /// `..._SENDER_RATE_PER_MINUTE`: inbound messages a minute per sender (contact, per tenant)
    /// before processing defers the rest; 0 disables. In memory, per replica.
    pub sender_rate_per_minute: u32,
    /// `..._SENDER_BURST`: messages a sender may send at once before the rate applies.
    pub sender_burst: u32,
    /// `..._PROCESSING`: whether this replica runs the processing worker.
    pub processing: bool,
    /// `..._QUEUE_MAX_AGE_SECS`: a due job older than this makes `/ready` report the queue degraded.
    pub queue_max_age_s: i64,
    /// `..._INGEST_BATCH_MAX`: deliveries stored per commit at most.
    pub ingest_batch_max: usize,
    /// `..._INGEST_BATCH_WAIT_US`: longest a delivery waits for others to share its commit.
    pub ingest_batch_wait: Duration,
    /// `..._GRAPH_URL`: the Graph API base URL (a fake one in tests).
    pub graph_url: String,
    /// `..._ACCESS_TOKEN`: the system-user token that sends; `None` disables sending.
    pub access_token: Option<SecretString>,
}

/// Parses `500ms`, `5s`, `5m`, `2h` (a bare number is seconds).
pub(crate) fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (n, unit) = raw.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => return Some(Duration::from_millis(n)),
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// A comma-separated list of delays from `key`, `default` when unset; each malformed entry is a
/// start-up problem.
fn schedule(env: &mut Env, key: &str, default: &str, doc: &str) -> Vec<Duration> {
    let mut raw = env.list(key, doc);
    if raw.is_empty() {
        raw = default.split(',').map(str::to_owned).collect();
    }
    let parsed: Option<Vec<Duration>> = raw.iter().map(|d| parse_duration(d)).collect();
    env.check(
        parsed.is_some(),
        format!("{key} is malformed: expected delays such as 500ms,5s,5m,2h"),
    );
    parsed.unwrap_or_default()
}

impl Config {
    pub(crate) fn from_env(env: &mut Env) -> Self {
        // Required in production; in development (`easymo up` on a fresh clone) an unset secret
        // disables ingestion instead, and `/ready` says so.
        let production = env
            .raw("APP_ENV")
            .is_some_and(|v| v.eq_ignore_ascii_case("production"));
        let verify_token = env
            .secret(
                "WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN",
                "the verify token configured in the Meta app's webhook settings (required in production)",
            )
            .filter(|t| !t.expose_secret().is_empty());
        env.check(
            verify_token.is_some() || !production,
            "WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN is required when APP_ENV=production (the webhook handshake token)",
        );
        let verify_token = verify_token.unwrap_or_else(|| SecretString::from(String::new()));
        let app_secret = env
            .secret(
                "WHATSAPP_WEBHOOK_WORKER_APP_SECRET",
                "the Meta app secret that signs webhook deliveries (required in production)",
            )
            .and_then(|s| AppSecret::new(&s));
        env.check(
            app_secret.is_some() || !production,
            "WHATSAPP_WEBHOOK_WORKER_APP_SECRET is required when APP_ENV=production (the Meta app secret)",
        );
        let mut tenants = BTreeMap::new();
        for pair in env.list(
            "WHATSAPP_WEBHOOK_WORKER_TENANTS",
            "phone_number_id=tenant pairs, comma separated (default: every number to DEFAULT_TENANT_ID)",
        ) {
            match pair.split_once('=').map(|(a, b)| (a.trim(), b.trim())) {
                Some((id, tenant)) if !id.is_empty() && !tenant.is_empty() => {
                    tenants.insert(id.to_owned(), tenant.to_owned());
                }
                _ => env.check(
                    false,
                    "WHATSAPP_WEBHOOK_WORKER_TENANTS is malformed: expected phone_number_id=tenant pairs",
                ),
            }
        }
        let require_tenant_mapping = env.flag(
            "WHATSAPP_WEBHOOK_WORKER_REQUIRE_TENANT_MAPPING",
            false,
            "fail (then dead-letter) messages to numbers missing from the tenant map (default false)",
        );
        let mut opt_out_keywords: Vec<String> = env
            .list(
                "WHATSAPP_WEBHOOK_WORKER_OPT_OUT_KEYWORDS",
                "whole-message keywords that opt a contact out, comma separated (default STOP)",
            )
            .into_iter()
            .map(|k| k.to_lowercase())
            .collect();
        if opt_out_keywords.is_empty() {
            opt_out_keywords.push("stop".to_owned());
        }
        let retry_schedule = schedule(
            env,
            "WHATSAPP_WEBHOOK_WORKER_RETRY_SCHEDULE",
            DEFAULT_RETRY_SCHEDULE,
            "delays before each retry of a processing job (default 5s,5m,30m,2h,5h,10h,10h; then dead)",
        );
        let send_retry_schedule = schedule(
            env,
            "WHATSAPP_WEBHOOK_WORKER_SEND_RETRY_SCHEDULE",
            DEFAULT_SEND_RETRY_SCHEDULE,
            "delays before each retry of a send Meta refused as retryable (default 1s,5s,30s,2m,10m; then failed)",
        );
        let concurrency: usize = env.or(
            "WHATSAPP_WEBHOOK_WORKER_CONCURRENCY",
            1,
            "outbound sends handled at once; 1 keeps each contact's messages in order (default 1)",
        );
        env.check(
            concurrency > 0,
            "WHATSAPP_WEBHOOK_WORKER_CONCURRENCY must be positive",
        );
        let processing_batch: usize = env.or(
            "WHATSAPP_WEBHOOK_WORKER_PROCESSING_BATCH",
            64,
            "inbound messages routed together in one transaction, in order (default 64)",
        );
        env.check(
            processing_batch > 0,
            "WHATSAPP_WEBHOOK_WORKER_PROCESSING_BATCH must be positive",
        );
        let job_lease = env.millis(
            "WHATSAPP_WEBHOOK_WORKER_JOB_LEASE_MS",
            Duration::from_secs(60),
            "milliseconds a claimed job is protected before another worker may take it over (default 60000)",
        );
        let sender_rate_per_minute = env.or(
            "WHATSAPP_WEBHOOK_WORKER_SENDER_RATE_PER_MINUTE",
            30,
            "inbound messages a minute per sender before processing defers the rest; 0 = no limit (default 30)",
        );
        let sender_burst = env.or(
            "WHATSAPP_WEBHOOK_WORKER_SENDER_BURST",
            10,
            "inbound messages a sender may send at once before the per-minute rate applies (default 10)",
        );
        let processing = env.flag(
            "WHATSAPP_WEBHOOK_WORKER_PROCESSING",
            true,
            "run the processing worker in this replica (default true; false = ingest only)",
        );
        let queue_max_age_s = env.or(
            "WHATSAPP_WEBHOOK_WORKER_QUEUE_MAX_AGE_SECS",
            300,
            "seconds a due job may wait before /ready reports the queue degraded (default 300)",
        );
        let ingest_batch_max: usize = env.or(
            "WHATSAPP_WEBHOOK_WORKER_INGEST_BATCH_MAX",
            256,
            "webhook deliveries stored per commit at most (default 256)",
        );
        env.check(
            ingest_batch_max > 0,
            "WHATSAPP_WEBHOOK_WORKER_INGEST_BATCH_MAX must be positive",
        );
        let ingest_batch_wait_us: u64 = env.or(
            "WHATSAPP_WEBHOOK_WORKER_INGEST_BATCH_WAIT_US",
            300,
            "microseconds a delivery waits for others to share its commit (default 300)",
        );
        let graph_url = env.or(
            "WHATSAPP_WEBHOOK_WORKER_GRAPH_URL",
            whatsapp::client::GRAPH_URL.to_owned(),
            "Graph API base URL (default https://graph.facebook.com)",
        );
        let access_token = env
            .secret(
                "WHATSAPP_WEBHOOK_WORKER_ACCESS_TOKEN",
                "system-user access token for sending (unset: POST /v1/messages answers 503)",
            )
            .filter(|t| !t.expose_secret().trim().is_empty());
        Self {
            verify_token,
            app_secret,
            tenants,
            require_tenant_mapping,
            opt_out_keywords,
            retry_schedule,
            send_retry_schedule,
            concurrency,
            processing_batch,
            job_lease,
            sender_rate_per_minute,
            sender_burst,
            processing,
            queue_max_age_s,
            ingest_batch_max,
            ingest_batch_wait: Duration::from_micros(ingest_batch_wait_us),
            graph_url,
            access_token,
        }
    }

    /// The business number that sends for `tenant`: the first `..._TENANTS` entry mapped to it.
    pub(crate) fn sender(&self, tenant: &str) -> Option<&str> {
        self.tenants
            .iter()
            .find(|(_, t)| t.as_str() == tenant)
            .map(|(id, _)| id.as_str())
    }

    /// The tenant of business number `phone_number_id`; `None` when unmapped and a mapping is
    /// required.
    pub(crate) fn tenant<'a>(
        &'a self,
        phone_number_id: Option<&str>,
        default: &'a str,
    ) -> Option<&'a str> {
        match phone_number_id.and_then(|id| self.tenants.get(id)) {
            Some(t) => Some(t),
            None if self.require_tenant_mapping => None,
            None => Some(default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("10h"), Some(Duration::from_secs(36_000)));
        assert_eq!(parse_duration("5d"), None);
        assert_eq!(parse_duration("m"), None);
    }

    #[test]
    fn the_default_schedule_gives_eight_attempts() {
        let mut env = Env::from_map([
            ("WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN", "t"),
            ("WHATSAPP_WEBHOOK_WORKER_APP_SECRET", "s"),
        ]);
        let c = Config::from_env(&mut env);
        assert!(env.problems().is_empty(), "{:?}", env.problems());
        let retry = store::jobs::Retry::Schedule(c.retry_schedule);
        assert_eq!(retry.max_attempts(), 8);
        assert_eq!(retry.delay_after(1), Duration::from_secs(5));
        assert_eq!(retry.delay_after(7), Duration::from_secs(36_000));
        let sends = store::jobs::Retry::Schedule(c.send_retry_schedule);
        assert_eq!(sends.max_attempts(), 6);
        assert_eq!(sends.delay_after(5), Duration::from_secs(600));
    }

    #[test]
    fn the_meta_secrets_are_required_in_production_only() {
        let mut env = Env::from_map([("APP_ENV", "production")]);
        let _ = Config::from_env(&mut env);
        let problems = env.problems().join("\n");
        assert!(problems.contains("WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN is required"));
        assert!(problems.contains("WHATSAPP_WEBHOOK_WORKER_APP_SECRET is required"));
        let mut env = Env::from_map(std::iter::empty::<(String, String)>());
        let c = Config::from_env(&mut env);
        assert!(env.problems().is_empty(), "{:?}", env.problems());
        assert!(c.app_secret.is_none());
    }

    #[test]
    fn a_malformed_schedule_is_a_start_up_problem() {
        let mut env = Env::from_map([
            ("WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN", "t"),
            ("WHATSAPP_WEBHOOK_WORKER_APP_SECRET", "s"),
            ("WHATSAPP_WEBHOOK_WORKER_SEND_RETRY_SCHEDULE", "1s,soon"),
        ]);
        let _ = Config::from_env(&mut env);
        assert!(
            env.problems()
                .iter()
                .any(|p| p.contains("WHATSAPP_WEBHOOK_WORKER_SEND_RETRY_SCHEDULE is malformed")),
            "{:?}",
            env.problems()
        );
    }

    #[test]
    fn the_sender_is_the_number_mapped_to_the_tenant() {
        let mut env = Env::from_map([
            ("WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN", "t"),
            ("WHATSAPP_WEBHOOK_WORKER_APP_SECRET", "s"),
            ("WHATSAPP_WEBHOOK_WORKER_TENANTS", "222=b,111=a"),
            ("WHATSAPP_WEBHOOK_WORKER_ACCESS_TOKEN", " "),
        ]);
        let c = Config::from_env(&mut env);
        assert_eq!(c.sender("a"), Some("111"));
        assert_eq!(c.sender("b"), Some("222"));
        assert_eq!(c.sender("c"), None);
        assert!(c.access_token.is_none(), "a blank token disables sending");
        assert_eq!(c.graph_url, whatsapp::client::GRAPH_URL);
    }

    #[test]
    fn missing_secrets_and_bad_pairs_are_all_reported() {
        let mut env = Env::from_map([
            ("APP_ENV", "production"),
            ("WHATSAPP_WEBHOOK_WORKER_TENANTS", "a=b,broken"),
        ]);
        let _ = Config::from_env(&mut env);
        assert_eq!(env.problems().len(), 3, "{:?}", env.problems());
    }
}
