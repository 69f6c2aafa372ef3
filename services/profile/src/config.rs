//! The profile service's own settings.

use platform::Env;

/// Settings read from `PROFILE_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PROFILE_DEFAULT_COUNTRY_CODE`: calling code added to local numbers (`078…` -> `+25078…`).
    pub default_country_code: String,
    /// `PROFILE_CACHE_TTL_MS`: how long a profile read may be served from the cache.
    pub cache_ttl: std::time::Duration,
    /// `PROFILE_CACHE_CAPACITY`: profiles kept in the in-memory cache.
    pub cache_capacity: usize,
}

impl Config {
    pub(crate) fn from_env(env: &mut Env) -> Self {
        let default_country_code: String = env.or(
            "PROFILE_DEFAULT_COUNTRY_CODE",
            "250".to_owned(),
            "calling code added to local numbers such as 0781234567 (default 250)",
        );
        env.check(
            (1..=3).contains(&default_country_code.len())
                && default_country_code.chars().all(|c| c.is_ascii_digit())
                && !default_country_code.starts_with('0'),
            "PROFILE_DEFAULT_COUNTRY_CODE is malformed: expected 1 to 3 digits, such as 250",
        );
        let cache_ttl = env.millis(
            "PROFILE_CACHE_TTL_MS",
            std::time::Duration::from_secs(30),
            "milliseconds a cached profile may be served (default 30000)",
        );
        let cache_capacity = env.or(
            "PROFILE_CACHE_CAPACITY",
            100_000,
            "profiles kept in the in-memory cache (default 100000)",
        );
        Self {
            default_country_code,
            cache_ttl,
            cache_capacity,
        }
    }
}
