//! The ranking service (port 4500): vendor scores and experiments.

use chrono::{DateTime, Utc};
use platform::{Validate, Validator};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of `GET /ranking/vendors`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// Exact region.
    pub region: Option<String>,
    /// Comma-separated categories; a vendor matches when it serves at least one. Given but
    /// empty (`categories=,`) matches nothing.
    pub categories: Option<String>,
    /// Vendors per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Include each score's components.
    pub explain: Option<bool>,
    /// Rank with the variant of this experiment assigned to `buyerId` (records an exposure).
    pub experiment_id: Option<String>,
    /// The buyer the ranking is for (needed with `experimentId`).
    pub buyer_id: Option<String>,
}

/// The weighted components of a score, each in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScoreComponents {
    /// Rating, blended with the prior.
    pub rating: f64,
    /// Fulfilment rate.
    pub fulfilment: f64,
    /// Response speed.
    pub response: f64,
    /// Experience (settled trips).
    pub experience: f64,
    /// Recency (quotes accepted in the last 14 days).
    pub recency: f64,
    /// Liquidity (wallet balance).
    pub liquidity: f64,
}

/// One ranked vendor, in the shape the admin app reads (numbers as numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankedVendor {
    /// Vendor id (as the broker reads it).
    pub id: String,
    /// Vendor id again (as the admin app reads it).
    pub vendor_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Display name.
    pub name: Option<String>,
    /// Region.
    pub region: String,
    /// Categories.
    pub categories: Vec<String>,
    /// Average rating 0-5, or null when unrated.
    pub rating: Option<f64>,
    /// Ratings behind `rating`.
    pub rating_count: i64,
    /// Fulfilment rate 0-1, or null.
    pub fulfilment_rate: Option<f64>,
    /// Average milliseconds to quote, or null.
    pub avg_response_ms: Option<i64>,
    /// Settled trips.
    pub total_trips: i64,
    /// Quotes accepted in the last 14 days.
    pub recent_trips: i64,
    /// Wallet balance in minor units, or null when no wallet is known.
    pub balance_minor: Option<i64>,
    /// Score in 0..=1, rounded to 4 decimals.
    pub score: f64,
    /// Components, with `explain=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<ScoreComponents>,
}

/// An experiment variant assigned to the request's buyer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// Experiment.
    pub experiment_id: String,
    /// Variant name.
    pub variant: String,
}

/// `GET /ranking/vendors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorRanking {
    /// Best first; ties by vendor id.
    pub vendors: Vec<RankedVendor>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
    /// The experiment variant used, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<Assignment>,
}

/// Scores of `POST /ranking/feedback`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackScores {
    /// Overall rating 0-5.
    pub overall: f64,
}

/// Body of `POST /ranking/feedback`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Feedback {
    /// The vendor rated.
    pub vendor_id: String,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// The scores.
    pub scores: FeedbackScores,
}

/// Weights of the six components; they must sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Weights {
    /// Rating weight.
    pub rating: f64,
    /// Fulfilment weight.
    pub fulfilment: f64,
    /// Response weight.
    pub response: f64,
    /// Experience weight.
    pub experience: f64,
    /// Recency weight.
    pub recency: f64,
    /// Liquidity weight.
    pub liquidity: f64,
}

impl Default for Weights {
    /// The original weights: .30 .25 .15 .15 .10 .05.
    fn default() -> Self {
        Self {
            rating: 0.30,
            fulfilment: 0.25,
            response: 0.15,
            experience: 0.15,
            recency: 0.10,
            liquidity: 0.05,
        }
    }
}

impl Weights {
    /// The weights as an array, in component order.
    pub fn as_array(&self) -> [f64; 6] {
        [
            self.rating,
            self.fulfilment,
            self.response,
            self.experience,
            self.recency,
            self.liquidity,
        ]
    }
}

/// A named weight set of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Variant {
    /// Variant name, unique in the experiment.
    pub name: String,
    /// Its weights.
    pub weights: Weights,
}

/// Body of `POST /ranking/experiments`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateExperiment {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Name.
    pub name: String,
    /// Two to eight variants.
    pub variants: Vec<Variant>,
}

/// Counts of one variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantStats {
    /// Variant name.
    pub name: String,
    /// Buyers exposed.
    pub exposures: i64,
    /// Quotes accepted by exposed buyers after exposure.
    pub quotes_accepted: i64,
    /// Purchases settled by exposed buyers after exposure.
    pub purchases_settled: i64,
}

/// An experiment and its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Experiment {
    /// Experiment id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Name.
    pub name: String,
    /// Variants.
    pub variants: Vec<Variant>,
    /// Counts per variant (same order).
    pub stats: Vec<VariantStats>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

fn weights_ok(w: &Weights) -> bool {
    let a = w.as_array();
    a.iter().all(|x| x.is_finite() && *x >= 0.0) && (a.iter().sum::<f64>() - 1.0).abs() < 1e-9
}

impl Validate for RankingQuery {
    fn validate(&self, v: &mut Validator) {
        if let Some(l) = self.limit {
            v.check((1..=100).contains(&l), "limit", "must be 1 to 100");
        }
        v.len(self.tenant_id.as_deref(), "tenantId", 1, 64);
        v.len(self.region.as_deref(), "region", 1, 128);
        v.len(self.cursor.as_deref(), "cursor", 1, 200);
        v.len(self.buyer_id.as_deref(), "buyerId", 1, 64);
        v.check(
            self.experiment_id.is_none() || self.buyer_id.is_some(),
            "buyerId",
            "is required with experimentId",
        );
    }
}

impl Validate for Feedback {
    fn validate(&self, v: &mut Validator) {
        v.len(Some(&self.vendor_id), "/vendorId", 1, 64);
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        let o = self.scores.overall;
        v.check(
            o.is_finite() && (0.0..=5.0).contains(&o),
            "/scores/overall",
            "must be 0 to 5",
        );
    }
}

impl Validate for CreateExperiment {
    fn validate(&self, v: &mut Validator) {
        v.len(Some(&self.name), "/name", 1, 100);
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        v.check(
            (2..=8).contains(&self.variants.len()),
            "/variants",
            "must hold 2 to 8 variants",
        );
        for (i, var) in self.variants.iter().enumerate() {
            v.len(Some(&var.name), &format!("/variants/{i}/name"), 1, 50);
            v.check(
                weights_ok(&var.weights),
                &format!("/variants/{i}/weights"),
                "must be non-negative and sum to 1",
            );
            v.check(
                self.variants[..i].iter().all(|o| o.name != var.name),
                &format!("/variants/{i}/name"),
                "must be unique",
            );
        }
    }
}
