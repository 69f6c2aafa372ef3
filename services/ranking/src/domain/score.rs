//! The score of spec 4.4, made monotonic.
//!
//! `score = Σ weight_i · component_i`, rounded to 4 decimals, with the original weights
//! (.30 rating, .25 fulfilment, .15 response, .15 experience, .10 recency, .05 liquidity) as the
//! default. The step defaults of the original (0 trips → 0.2 but 1 trip → 0.002; no wallet → 0.3
//! but an empty wallet → 0) are replaced by prior-weighted blending: each count-based component
//! adds the prior as pseudo-evidence, `min(1, (n + prior·full) / full)`, so with no evidence it
//! equals the old default and each extra trip, accepted quote or token can only raise it.

use contracts::ranking::{ScoreComponents, Weights};

/// Rating component when the vendor is unrated.
pub const RATING_PRIOR: f64 = 0.6;
/// Fulfilment component when unknown.
pub const FULFILMENT_PRIOR: f64 = 0.7;
/// Response component when unknown.
pub const RESPONSE_PRIOR: f64 = 0.5;
/// Experience component with no settled trips.
pub const EXPERIENCE_PRIOR: f64 = 0.2;
/// Recency component with no recent accepted quotes.
pub const RECENCY_PRIOR: f64 = 0.1;
/// Liquidity component with no (or no known) balance.
pub const LIQUIDITY_PRIOR: f64 = 0.3;
/// Trips at which experience is full.
pub const EXPERIENCE_FULL: i64 = 500;
/// Recent accepted quotes at which recency is full.
pub const RECENCY_FULL: i64 = 20;
/// Balance (minor units; 500 tokens at scale 2) at which liquidity is full.
pub const LIQUIDITY_FULL_MINOR: i64 = 50_000;
/// Response time (ms) at or under which response is full.
pub const RESPONSE_FULL_MS: f64 = 3000.0;

/// What the projection knows of a vendor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// Average rating 0-5 (an explicit 0 is a 0, not unknown).
    pub rating: Option<f64>,
    /// Fulfilment rate 0-1.
    pub fulfilment: Option<f64>,
    /// Average ms to quote.
    pub avg_response_ms: Option<i64>,
    /// Settled trips.
    pub total_trips: i64,
    /// Quotes accepted in the recency window.
    pub recent_trips: i64,
    /// Wallet balance in minor units (None: no wallet known).
    pub balance_minor: Option<i64>,
}

/// `min(1, (n + prior·full) / full)`: the prior as `prior·full` pseudo-units of evidence.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn blend(n: i64, prior: f64, full: i64) -> f64 {
    let n = n.max(0) as f64;
    let full = full as f64;
    ((n + prior * full) / full).min(1.0)
}

/// The six components, each in 0..=1.
pub fn components(s: &Signals) -> ScoreComponents {
    let unit = |x: f64| {
        if x.is_finite() {
            x.clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    #[expect(clippy::cast_precision_loss, reason = "milliseconds far below 2^52")]
    let response = match s.avg_response_ms {
        Some(ms) if ms > 0 => (RESPONSE_FULL_MS / ms as f64).min(1.0),
        _ => RESPONSE_PRIOR,
    };
    ScoreComponents {
        rating: s.rating.map_or(RATING_PRIOR, |r| unit(r / 5.0)),
        fulfilment: s.fulfilment.map_or(FULFILMENT_PRIOR, unit),
        response,
        experience: blend(s.total_trips, EXPERIENCE_PRIOR, EXPERIENCE_FULL),
        recency: blend(s.recent_trips, RECENCY_PRIOR, RECENCY_FULL),
        liquidity: blend(
            s.balance_minor.unwrap_or(0),
            LIQUIDITY_PRIOR,
            LIQUIDITY_FULL_MINOR,
        ),
    }
}

/// The weighted sum, rounded to 4 decimals.
pub fn weighted(c: &ScoreComponents, w: &Weights) -> f64 {
    let raw = w.rating * c.rating
        + w.fulfilment * c.fulfilment
        + w.response * c.response
        + w.experience * c.experience
        + w.recency * c.recency
        + w.liquidity * c.liquidity;
    (raw * 10_000.0).round() / 10_000.0
}

/// The score of `s` under `w`.
pub fn score(s: &Signals, w: &Weights) -> f64 {
    weighted(&components(s), w)
}

/// A score as an exact integer of 1/10000ths, for ordering and cursors.
#[expect(clippy::cast_possible_truncation, reason = "scores are in 0..=1")]
pub fn score_key(score: f64) -> i64 {
    (score * 10_000.0).round() as i64
}

/// The ranking order: higher score first, then vendor id ascending. Total and stable.
pub fn order(a: (f64, &str), b: (f64, &str)) -> std::cmp::Ordering {
    score_key(b.0)
        .cmp(&score_key(a.0))
        .then_with(|| a.1.cmp(b.1))
}
