//! The wallet's own settings.

use std::collections::BTreeMap;
use std::time::Duration;

use platform::Env;

use crate::domain::fx::Decimal;

/// Settings read from `WALLET_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `WALLET_FX_URL`: an exchangerate.host/Frankfurter-style API (`?base=RWF&symbols=USD`).
    pub fx_url: Option<String>,
    /// `WALLET_FX_FALLBACK_RATES`: USD per unit, e.g. `RWF=0.0008,KES=0.007`, used when the API is
    /// unset or failing. Currencies in neither are refused, never treated as USD.
    pub fx_fallback: BTreeMap<String, Decimal>,
    /// `WALLET_RECONCILE_INTERVAL_SECS`: how often the whole ledger is reconciled (0 = never).
    pub reconcile_every: Option<Duration>,
    /// `WALLET_PENDING_SWEEP_MS`: how often expired pending transfers are voided.
    pub pending_sweep: Duration,
    /// `WALLET_BATCH_MAX`: most money operations per commit.
    pub batch_max: usize,
    /// `WALLET_BATCH_WAIT_US`: longest an operation waits for others to share its commit.
    pub batch_wait: Duration,
}

impl Config {
    pub(crate) fn from_env(env: &mut Env) -> Self {
        let fx_url = env.optional::<String>(
            "WALLET_FX_URL",
            "FX API base URL queried as ?base=<CODE>&symbols=USD (default: fallback rates only)",
        );
        let mut fx_fallback = BTreeMap::new();
        for pair in env.list(
            "WALLET_FX_FALLBACK_RATES",
            "USD per unit by currency, e.g. RWF=0.0008,KES=0.007 (default RWF=0.0008,KES=0.007)",
        ) {
            match pair.split_once('=').map(|(c, r)| (c.trim().to_ascii_uppercase(), r.trim().parse::<Decimal>())) {
                Some((code, Ok(rate))) if !code.is_empty() && rate.is_positive() => {
                    fx_fallback.insert(code, rate);
                }
                _ => env.check(false, "WALLET_FX_FALLBACK_RATES is malformed: expected CODE=rate pairs with positive decimal rates"),
            }
        }
        if fx_fallback.is_empty() {
            for (code, rate) in [("RWF", "0.0008"), ("KES", "0.007")] {
                if let Ok(r) = rate.parse() {
                    fx_fallback.insert(code.to_owned(), r);
                }
            }
        }
        let reconcile_secs: u64 = env.or(
            "WALLET_RECONCILE_INTERVAL_SECS",
            3600,
            "seconds between scheduled reconciliations, 0 to disable (default 3600)",
        );
        let pending_sweep = env.millis(
            "WALLET_PENDING_SWEEP_MS",
            Duration::from_secs(1),
            "milliseconds between sweeps voiding expired pending transfers (default 1000)",
        );
        let batch_max: usize = env.or(
            "WALLET_BATCH_MAX",
            128,
            "money operations per commit (default 128)",
        );
        env.check(batch_max > 0, "WALLET_BATCH_MAX must be positive");
        let batch_wait_us: u64 = env.or(
            "WALLET_BATCH_WAIT_US",
            1000,
            "microseconds an operation waits to share a commit (default 1000)",
        );
        Self {
            fx_url,
            fx_fallback,
            reconcile_every: (reconcile_secs > 0).then(|| Duration::from_secs(reconcile_secs)),
            pending_sweep,
            batch_max,
            batch_wait: Duration::from_micros(batch_wait_us),
        }
    }
}
