//! The ranking service's own settings.

use platform::Env;

/// Settings read from `RANKING_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `RANKING_RECENT_DAYS`: the window of accepted quotes counted as recency.
    pub recent_days: i64,
    /// `RANKING_MAX_CANDIDATES`: most vendors scored per request (the rest are not ranked).
    pub max_candidates: i64,
}

impl Config {
    pub(crate) fn from_env(env: &mut Env) -> Self {
        let recent_days: i64 = env.or(
            "RANKING_RECENT_DAYS",
            14,
            "days of accepted quotes counted as recency (default 14)",
        );
        env.check(
            (1..=365).contains(&recent_days),
            "RANKING_RECENT_DAYS must be 1 to 365",
        );
        let max_candidates: i64 = env.or(
            "RANKING_MAX_CANDIDATES",
            5000,
            "most vendors of a tenant and region scored per request (default 5000)",
        );
        env.check(
            max_candidates > 0,
            "RANKING_MAX_CANDIDATES must be positive",
        );
        Self {
            recent_days,
            max_candidates,
        }
    }
}
