//! The ranking service's own settings.

use platform::Env;

/// Settings read from `RANKING_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `RANKING_RECENT_DAYS`: the window of accepted quotes counted as recency.
    pub recent_days: i64,
    /// `RANKING_MAX_CANDIDATES`: most vendors of a tenant and region held for ranking (past it,
    /// the highest vendor ids are not ranked, and `ranking_candidates_truncated_total` counts it).
    pub max_candidates: i64,
    /// `RANKING_SNAPSHOT_MS`: how long a replica trusts its last read of the projection's
    /// version (so how soon it sees another replica's changes); zero reads vendors every request.
    pub snapshot_window: std::time::Duration,
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
            50_000,
            "most vendors of a tenant and region held for ranking (default 50000)",
        );
        env.check(
            max_candidates > 0,
            "RANKING_MAX_CANDIDATES must be positive",
        );
        let snapshot_window = env.millis(
            "RANKING_SNAPSHOT_MS",
            std::time::Duration::from_millis(1000),
            "milliseconds a replica trusts its last read of the projection's version, i.e. how soon other replicas' changes show; 0 reads vendors on every request (default 1000)",
        );
        Self {
            recent_days,
            max_candidates,
            snapshot_window,
        }
    }
}
