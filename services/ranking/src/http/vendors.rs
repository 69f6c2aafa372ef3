//! `GET /ranking/vendors` and `POST /ranking/feedback`.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use contracts::ranking::{
    Assignment, Feedback, RankedVendor, RankingQuery, VendorRanking, Weights,
};
use platform::extract::Idempotent;
use platform::{Authorized, ValidQuery};
use store::{Tx, idempotency};

use super::{FeedbackWrite, RankingRead};
use crate::domain::{self, score};
use crate::state::AppState;
use crate::store::{experiments, vendors};
use crate::{Error, metrics};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ranking/vendors", get(list_vendors))
        .route("/ranking/feedback", post(feedback))
}

fn ranked(row: &vendors::VendorRow, recent: i64, weights: &Weights, explain: bool) -> RankedVendor {
    let components = score::components(&row.signals(recent));
    let (rating, rating_count) = (row.rating(), row.rating_count());
    RankedVendor {
        id: row.vendor_id.clone(),
        vendor_id: row.vendor_id.clone(),
        tenant_id: row.tenant_id.clone(),
        name: row.name.clone(),
        region: row.region.clone(),
        categories: row.categories.0.clone(),
        rating,
        rating_count,
        fulfilment_rate: row.fulfilment_rate,
        avg_response_ms: row.avg_response_ms,
        total_trips: row.total_trips,
        recent_trips: recent,
        balance_minor: row.balance_minor,
        score: score::weighted(&components, weights),
        components: explain.then_some(components),
    }
}

fn since(s: &AppState) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::days(s.config.recent_days)
}

/// The weights to rank with: the default, or the variant of the experiment assigned to the buyer.
async fn weights_for(
    s: &AppState,
    tenant: &str,
    q: &RankingQuery,
) -> Result<(Weights, Option<Assignment>), Error> {
    let (Some(exp_id), Some(buyer)) = (&q.experiment_id, &q.buyer_id) else {
        return Ok((Weights::default(), None));
    };
    let mut tx = s.db.begin().await?;
    let exp = experiments::find(tx.exec(), tenant, exp_id)
        .await?
        .ok_or(Error::ExperimentNotFound)?;
    let idx = domain::assign(&exp.id, buyer, exp.variants.0.len());
    let variant = exp
        .variants
        .0
        .get(idx)
        .cloned()
        .ok_or(Error::ExperimentNotFound)?;
    let first = experiments::expose(tx.exec(), tenant, &exp.id, buyer, &variant.name).await?;
    tx.commit().await?;
    if first {
        metrics::exposure(&variant.name);
    }
    Ok((
        variant.weights,
        Some(Assignment {
            experiment_id: exp.id,
            variant: variant.name,
        }),
    ))
}

/// Rank a tenant's vendors, best first (ties by vendor id), a page at a time.
///
/// With `experimentId` and `buyerId`, the buyer's variant's weights are used and the exposure
/// recorded.
#[utoipa::path(get, path = "/ranking/vendors", params(RankingQuery),
    responses((status = 200, body = VendorRanking), (status = 404, body = platform::Problem),
        (status = 422, body = platform::Problem)))]
pub(super) async fn list_vendors(
    State(s): State<AppState>,
    auth: Authorized<RankingRead>,
    ValidQuery(q): ValidQuery<RankingQuery>,
) -> Result<Json<VendorRanking>, Error> {
    let started = Instant::now();
    let tenant = auth
        .caller
        .tenant(q.tenant_id.as_deref(), &s.default_tenant)
        .ok_or(Error::TenantForbidden)?;
    let after = match q.cursor.as_deref() {
        Some(c) => Some(domain::decode_cursor(c).ok_or(Error::InvalidCursor)?),
        None => None,
    };
    let wanted = q.categories.as_deref().map(domain::parse_categories);
    let (weights, assignment) = weights_for(&s, &tenant, &q).await?;
    let snap = s
        .snapshots
        .get(
            &s.db,
            &tenant,
            q.region.as_deref(),
            s.config.max_candidates,
            s.config.recent_days,
        )
        .await?;
    if snap.truncated {
        metrics::candidates_truncated();
    }
    let explain = q.explain.unwrap_or(false);
    // Scores first, on borrowed rows; only the page is built into answers.
    let mut scored: Vec<(f64, &vendors::VendorRow, i64)> = snap
        .rows
        .iter()
        .filter(|r| {
            wanted
                .as_ref()
                .is_none_or(|w| r.categories.0.iter().any(|c| w.contains(c)))
        })
        .map(|r| {
            let n = snap.recent.get(&r.vendor_id).copied().unwrap_or(0);
            (score::score(&r.signals(n), &weights), r, n)
        })
        .collect();
    let candidates = scored.len();
    scored.sort_by(|a, b| score::order((a.0, &a.1.vendor_id), (b.0, &b.1.vendor_id)));
    if let Some((key, id)) = after {
        scored.retain(|(score, r, _)| {
            let k = score::score_key(*score);
            k < key || (k == key && r.vendor_id > id)
        });
    }
    let limit = usize::try_from(q.limit.unwrap_or(20)).unwrap_or(20);
    let more = scored.len() > limit;
    scored.truncate(limit);
    let list: Vec<RankedVendor> = scored
        .iter()
        .map(|(_, r, n)| ranked(r, *n, &weights, explain))
        .collect();
    let next_cursor = more
        .then(|| {
            list.last()
                .map(|v| domain::encode_cursor(v.score, &v.vendor_id))
        })
        .flatten();
    metrics::ranked(started.elapsed(), candidates);
    Ok(Json(VendorRanking {
        vendors: list,
        next_cursor,
        assignment,
    }))
}

/// Rate a vendor: `scores.overall` (0-5) joins the running average of its rating.
///
/// Idempotent with an `Idempotency-Key` header: a retry returns the first response and counts
/// the rating once.
#[utoipa::path(post, path = "/ranking/feedback", request_body = Feedback,
    params(("Idempotency-Key" = Option<String>, Header, description = "16-255 characters")),
    responses((status = 200, body = RankedVendor), (status = 404, body = platform::Problem),
        (status = 422, body = platform::Problem)))]
pub(super) async fn feedback(
    State(s): State<AppState>,
    auth: Authorized<FeedbackWrite>,
    req: Idempotent<Feedback>,
) -> Result<Response, Error> {
    let caller = auth.caller;
    // Another tenant's vendor is not found, whether named in the body or by the token.
    let tenant = caller
        .tenant(req.body.tenant_id.as_deref(), &s.default_tenant)
        .ok_or(Error::VendorNotFound)?;
    let scope = format!("{tenant}:{}:feedback", caller.issuer);
    let idem = req.key.as_deref().map(|key| idempotency::Request {
        scope,
        key,
        hash: &req.request_hash,
    });
    let since = since(&s);
    let body = &req.body;
    let answer = idempotency::run(&s.db, idem, async |tx: &mut Tx| {
        let row = vendors::add_rating(
            tx.exec(),
            &tenant,
            &body.vendor_id,
            body.scores.overall,
            Utc::now(),
        )
        .await?
        .ok_or(Error::VendorNotFound)?;
        vendors::bump_version(tx.exec()).await?;
        let recent = vendors::recent_count(tx.exec(), &row.vendor_id, since).await?;
        Ok::<_, Error>((
            StatusCode::OK,
            ranked(&row, recent, &Weights::default(), true),
        ))
    })
    .await;
    s.snapshots.invalidate();
    answer
}
