//! Typed configuration from the environment, validated at start-up.
//!
//! Serde-style loaders stop at the first bad variable; an operator then fixes one problem per
//! restart. [`Env`] records every missing or malformed variable and every failed rule, and
//! [`Env::finish`] reports them all at once (the process exits 78, `EX_CONFIG`).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// Exit code for a configuration error (`EX_CONFIG` from sysexits.h).
pub const EXIT_CONFIG: i32 = 78;

/// Every problem found in the environment, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// One line per problem, each naming its variable.
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invalid configuration ({} problem(s)):",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A reader over environment variables that collects problems instead of failing fast.
///
/// Values never appear in problem messages: a malformed secret must not be echoed to the logs.
#[derive(Debug, Clone)]
pub struct Env {
    vars: HashMap<String, String>,
    problems: Vec<String>,
    /// Every variable read, with what it expects: the source of `.env.example`.
    consulted: Vec<(String, String)>,
}

impl Env {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Self::from_map(std::env::vars())
    }

    /// Reads from the given pairs (tests, and `easymo up` overrides).
    pub fn from_map<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            problems: Vec::new(),
            consulted: Vec::new(),
        }
    }

    /// Sets a variable (used by `easymo up` and the test kit to choose ports and data paths).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(key.into(), value.into());
    }

    /// Removes a variable.
    pub fn unset(&mut self, key: &str) {
        self.vars.remove(key);
    }

    fn note(&mut self, key: &str, expected: &str) {
        if !self.consulted.iter().any(|(k, _)| k == key) {
            self.consulted.push((key.to_owned(), expected.to_owned()));
        }
    }

    /// Every variable read so far, with what it expects, in reading order.
    pub fn consulted(&self) -> &[(String, String)] {
        &self.consulted
    }

    /// The raw value, with empty strings treated as unset (as docker-compose leaves them).
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// A required value; records a problem when missing or unparsable.
    pub fn required<T: FromStr>(&mut self, key: &str, expected: &str) -> Option<T> {
        self.note(key, expected);
        match self.raw(key) {
            None => {
                self.problems
                    .push(format!("{key} is required ({expected})"));
                None
            }
            Some(_) => self.optional(key, expected),
        }
    }

    /// An optional value; records a problem only when present and unparsable.
    pub fn optional<T: FromStr>(&mut self, key: &str, expected: &str) -> Option<T> {
        self.note(key, expected);
        let raw = self.raw(key)?.trim().to_owned();
        match raw.parse::<T>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.problems
                    .push(format!("{key} is malformed: expected {expected}"));
                None
            }
        }
    }

    /// An optional value with a default.
    pub fn or<T: FromStr>(&mut self, key: &str, default: T, expected: &str) -> T {
        self.optional(key, expected).unwrap_or(default)
    }

    /// A duration given in milliseconds.
    pub fn millis(&mut self, key: &str, default: Duration, doc: &str) -> Duration {
        self.optional::<u64>(key, doc)
            .map(Duration::from_millis)
            .unwrap_or(default)
    }

    /// A boolean: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`.
    pub fn flag(&mut self, key: &str, default: bool, doc: &str) -> bool {
        self.note(key, doc);
        match self.raw(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => default,
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => true,
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => false,
            Some(_) => {
                self.problems
                    .push(format!("{key} is malformed: expected true or false"));
                default
            }
        }
    }

    /// A comma-separated list, trimmed, empty items dropped.
    pub fn list(&mut self, key: &str, doc: &str) -> Vec<String> {
        self.note(key, doc);
        self.raw(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A secret: kept behind [`SecretString`] so `Debug` and logs never show it.
    pub fn secret(&mut self, key: &str, doc: &str) -> Option<SecretString> {
        self.note(key, doc);
        self.raw(key).map(|v| SecretString::from(v.to_owned()))
    }

    /// Records a failed cross-field rule.
    pub fn check(&mut self, ok: bool, problem: impl Into<String>) {
        if !ok {
            self.problems.push(problem.into());
        }
    }

    /// Problems recorded so far.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The value when no problem was recorded, otherwise every problem.
    pub fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (production, and what `easymo audit` checks).
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

impl FromStr for LogFormat {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "pretty" | "text" => Ok(Self::Pretty),
            _ => Err(()),
        }
    }
}

/// Settings every service reads, under the shared names.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// Service name, as in ARCHITECTURE's table (also the JWT audience).
    pub service: &'static str,
    /// Listen address.
    pub host: String,
    /// Listen port (`<SERVICE>_PORT`, else `PORT` for a single service, else the table's default).
    pub port: u16,
    /// `DATABASE_URL` (or `<SERVICE>_DATABASE_URL`); `None` means SQLite under `data_dir`.
    pub database_url: Option<SecretString>,
    /// `DATA_DIR`: where SQLite files live in embedded mode.
    pub data_dir: PathBuf,
    /// `REDIS_URL`: shared rate limits, cache and bus at scale.
    pub redis_url: Option<SecretString>,
    /// `REDIS_KEY_PREFIX`: namespace of every Redis key (several deployments can share a server).
    pub redis_prefix: String,
    /// `SERVICE_JWT_KEYS`: HS256 keys, comma separated; the first signs, all verify.
    pub jwt_keys: Vec<SecretString>,
    /// `DEFAULT_TENANT_ID`: tenant used when a request names none.
    pub default_tenant_id: String,
    /// `CORS_ALLOWED_ORIGINS`: exact origins allowed to call from a browser; empty = none.
    pub cors_origins: Vec<String>,
    /// `<SERVICE>_HTTP_BODY_LIMIT_BYTES` (or plain `HTTP_BODY_LIMIT_BYTES` when the process
    /// runs one service): larger request bodies get 413. The default is the service's own
    /// [`crate::Service::BODY_LIMIT_BYTES`].
    pub body_limit: usize,
    /// `HTTP_REQUEST_TIMEOUT_MS`: a request still running then gets 503.
    pub request_timeout: Duration,
    /// `SHUTDOWN_DRAIN_TIMEOUT_MS`: how long in-flight work may take to finish after SIGTERM.
    pub drain_timeout: Duration,
    /// `RATE_LIMIT_PER_MINUTE`: sustained requests per client and route.
    pub rate_limit_per_minute: u32,
    /// `RATE_LIMIT_BURST`: requests a client may send at once before being limited.
    pub rate_limit_burst: u32,
    /// `TRUSTED_PROXIES`: peer IPs whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `READY_CHECK_TIMEOUT_MS`: bound on each readiness check.
    pub ready_timeout: Duration,
    /// `LOG_FORMAT`: `json` (default) or `pretty`.
    pub log_format: LogFormat,
}

/// The request body limit of a service that declares none: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// Development key used only when `SERVICE_JWT_KEYS` is unset outside production, so that
/// `easymo up` works on a fresh clone. `APP_ENV=production` refuses to start without real keys.
pub const DEV_JWT_KEY: &str = "easymo-dev-only-key-change-me-0123456789";

impl CommonConfig {
    /// Reads the shared settings for `service`. `single` is true when the process runs one
    /// service (then plain `PORT` applies); under `easymo up` only `<SERVICE>_PORT` does.
    pub fn load(env: &mut Env, service: &'static str, default_port: u16, single: bool) -> Self {
        Self::load_with(env, service, default_port, single, DEFAULT_BODY_LIMIT)
    }

    /// [`CommonConfig::load`] for a service whose largest legitimate request body is
    /// `body_limit` by default (a provider's webhook, an image upload).
    pub fn load_with(
        env: &mut Env,
        service: &'static str,
        default_port: u16,
        single: bool,
        body_limit: usize,
    ) -> Self {
        let prefix = env_prefix(service);
        // Per service like the port: under `easymo up` one global value would either refuse a
        // provider's large webhooks or open every other service to large bodies.
        let body_key = format!("{prefix}_HTTP_BODY_LIMIT_BYTES");
        let body_doc = format!("largest request body in bytes (default {body_limit})");
        let body_limit = env
            .optional::<usize>(&body_key, &body_doc)
            .or_else(|| {
                single
                    .then(|| env.optional::<usize>("HTTP_BODY_LIMIT_BYTES", &body_doc))
                    .flatten()
            })
            .unwrap_or(body_limit);
        let port_key = format!("{prefix}_PORT");
        let port_doc = format!("a TCP port to listen on (default {default_port})");
        let port = env
            .optional::<u16>(&port_key, &port_doc)
            .or_else(|| {
                single
                    .then(|| env.optional::<u16>("PORT", &port_doc))
                    .flatten()
            })
            .unwrap_or(default_port);
        let db_key = format!("{prefix}_DATABASE_URL");
        let db_doc = "postgres://user:pass@host/db or sqlite:path (default: SQLite under DATA_DIR)";
        let database_url = env
            .secret(&db_key, db_doc)
            .or_else(|| single.then(|| env.secret("DATABASE_URL", db_doc)).flatten());
        if let Some(url) = &database_url {
            let url = url.expose_secret();
            env.check(
                url.starts_with("postgres://")
                    || url.starts_with("postgresql://")
                    || url.starts_with("sqlite:"),
                "DATABASE_URL is malformed: expected postgres://… or sqlite:…",
            );
        }
        env.note(
            "APP_ENV",
            "`production` refuses to start without SERVICE_JWT_KEYS",
        );
        let production = env
            .raw("APP_ENV")
            .is_some_and(|v| v.eq_ignore_ascii_case("production"));
        let mut jwt_keys: Vec<SecretString> = env
            .list(
                "SERVICE_JWT_KEYS",
                "HS256 keys of at least 32 characters, comma separated; the first signs, all verify",
            )
            .into_iter()
            .map(SecretString::from)
            .collect();
        if jwt_keys.is_empty() {
            env.check(
                !production,
                "SERVICE_JWT_KEYS is required when APP_ENV=production (comma-separated HS256 keys)",
            );
            jwt_keys.push(SecretString::from(DEV_JWT_KEY.to_owned()));
        }
        env.check(
            jwt_keys.iter().all(|k| k.expose_secret().len() >= 32),
            "SERVICE_JWT_KEYS is malformed: every key must be at least 32 characters",
        );
        let mut trusted_proxies = Vec::new();
        for p in env.list(
            "TRUSTED_PROXIES",
            "IP addresses of proxies whose X-Forwarded-For is believed (default none)",
        ) {
            match p.parse() {
                Ok(ip) => trusted_proxies.push(ip),
                Err(_) => env.check(false, "TRUSTED_PROXIES is malformed: expected IP addresses"),
            }
        }
        let rate_limit_per_minute = env.or(
            "RATE_LIMIT_PER_MINUTE",
            6000,
            "sustained requests per minute per client and route (default 6000)",
        );
        let rate_limit_burst = env.or(
            "RATE_LIMIT_BURST",
            200,
            "requests a client may send at once per route (default 200)",
        );
        env.check(
            rate_limit_per_minute > 0 && rate_limit_burst > 0,
            "RATE_LIMIT_PER_MINUTE and RATE_LIMIT_BURST must be positive",
        );
        let log_format = env.or(
            "LOG_FORMAT",
            LogFormat::Json,
            "json or pretty (default json)",
        );
        Self {
            service,
            host: env.or(
                "HOST",
                "0.0.0.0".to_owned(),
                "listen address (default 0.0.0.0)",
            ),
            port,
            database_url,
            data_dir: env.or(
                "DATA_DIR",
                PathBuf::from("./data"),
                "directory of the SQLite files (default ./data)",
            ),
            redis_url: env.secret(
                "REDIS_URL",
                "redis://host:port: shared rate limits, cache and event bus (default: in-process)",
            ),
            redis_prefix: env.or(
                "REDIS_KEY_PREFIX",
                "easymo".to_owned(),
                "namespace of every Redis key (default easymo)",
            ),
            jwt_keys,
            default_tenant_id: env.or(
                "DEFAULT_TENANT_ID",
                "default".to_owned(),
                "tenant used when a request names none (default `default`)",
            ),
            cors_origins: env.list(
                "CORS_ALLOWED_ORIGINS",
                "browser origins allowed to call, comma separated (default none)",
            ),
            body_limit,
            request_timeout: env.millis(
                "HTTP_REQUEST_TIMEOUT_MS",
                Duration::from_secs(15),
                "milliseconds before a request is abandoned with 503 (default 15000)",
            ),
            drain_timeout: env.millis(
                "SHUTDOWN_DRAIN_TIMEOUT_MS",
                Duration::from_secs(20),
                "milliseconds in-flight work may take after SIGTERM (default 20000)",
            ),
            rate_limit_per_minute,
            rate_limit_burst,
            trusted_proxies,
            ready_timeout: env.millis(
                "READY_CHECK_TIMEOUT_MS",
                Duration::from_secs(2),
                "milliseconds each readiness check may take (default 2000)",
            ),
            log_format,
        }
    }
}

/// `whatsapp-webhook-worker` -> `WHATSAPP_WEBHOOK_WORKER`: the prefix of a service's own variables.
pub fn env_prefix(service: &str) -> String {
    service.replace('-', "_").to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut env = Env::from_map([("A", "x"), ("C", "nope")]);
        let a: Option<u16> = env.required("A", "a port");
        let b: Option<u16> = env.required("B", "a port");
        let c = env.flag("C", false, "a flag");
        assert_eq!((a, b, c), (None, None, false));
        let err = env.finish(()).unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err.to_string().contains("B is required"));
    }

    #[test]
    fn malformed_secret_values_are_never_echoed() {
        let mut env = Env::from_map([("SERVICE_JWT_KEYS", "short-secret-value")]);
        let _ = CommonConfig::load(&mut env, "profile", 4001, true);
        let err = env.finish(()).unwrap_err().to_string();
        assert!(err.contains("SERVICE_JWT_KEYS"));
        assert!(!err.contains("short-secret-value"));
    }

    #[test]
    fn production_requires_real_jwt_keys() {
        let mut env = Env::from_map([("APP_ENV", "production")]);
        let _ = CommonConfig::load(&mut env, "profile", 4001, true);
        assert!(env.finish(()).is_err());
    }

    #[test]
    fn service_port_beats_plain_port_and_up_ignores_plain_port() {
        let mut env = Env::from_map([("PORT", "9000"), ("PROFILE_PORT", "9001")]);
        assert_eq!(
            CommonConfig::load(&mut env, "profile", 4001, true).port,
            9001
        );
        let mut env = Env::from_map([("PORT", "9000")]);
        assert_eq!(
            CommonConfig::load(&mut env, "profile", 4001, true).port,
            9000
        );
        assert_eq!(
            CommonConfig::load(&mut env, "profile", 4001, false).port,
            4001
        );
    }

    #[test]
    fn body_limit_defaults_per_service_and_is_overridden_like_the_port() {
        let mut env = Env::from_map([("HTTP_BODY_LIMIT_BYTES", "2048")]);
        let single = CommonConfig::load_with(&mut env, "vendor", 4600, true, 5 << 20);
        assert_eq!(single.body_limit, 2048);
        let shared = CommonConfig::load_with(&mut env, "vendor", 4600, false, 5 << 20);
        assert_eq!(
            shared.body_limit,
            5 << 20,
            "under `up` only VENDOR_… applies"
        );
        let mut env = Env::from_map([("VENDOR_HTTP_BODY_LIMIT_BYTES", "4096")]);
        let own = CommonConfig::load_with(&mut env, "vendor", 4600, false, 5 << 20);
        assert_eq!(own.body_limit, 4096);
        let mut env = Env::from_map(std::iter::empty::<(String, String)>());
        assert_eq!(
            CommonConfig::load(&mut env, "profile", 4001, true).body_limit,
            DEFAULT_BODY_LIMIT
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let mut env = Env::from_map([("X", "  ")]);
        assert_eq!(env.or("X", 5u32, "n"), 5);
        assert!(env.finish(()).is_ok());
    }

    #[test]
    fn prefixes_are_upper_snake_case() {
        assert_eq!(
            env_prefix("whatsapp-webhook-worker"),
            "WHATSAPP_WEBHOOK_WORKER"
        );
    }
}
