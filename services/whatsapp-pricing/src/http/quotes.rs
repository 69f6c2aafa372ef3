//! `/v1/quotes`: price one vehicle for every insurer and store the answers immutably.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, SubsecRound, Utc};
use contracts::pricing::{CreateQuote, QuoteComparison};
use platform::extract::Idempotent;
use platform::{Authorized, ValidPath};
use pricing::{Insurer, Offer, PaymentReference, quote_all};
use store::{Tx, idempotency};

use super::PricingQuote;
use crate::state::AppState;
use crate::{Error, domain, metrics, store as sql};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/quotes", post(create_quote))
        .route("/v1/quotes/{id}", get(get_quote))
}

/// Price a vehicle for every insurer.
///
/// Uses each insurer's tariff in force today (Africa/Kigali). Every answer is stored with its
/// input, lines, total, tariff version and a unique numeric payment reference; a declined
/// insurer is listed with its reason, never as 0. Idempotent with an `Idempotency-Key` header: a
/// retry returns the first response, even after a tariff change.
#[utoipa::path(post, path = "/v1/quotes", request_body = CreateQuote,
    params(("Idempotency-Key" = Option<String>, Header, description = "16-255 characters")),
    responses(
        (status = 201, body = QuoteComparison),
        (status = 409, description = "same key still in flight", body = platform::Problem),
        (status = 422, description = "invalid input or key reused", body = platform::Problem),
    ))]
pub(super) async fn create_quote(
    State(s): State<AppState>,
    auth: Authorized<PricingQuote>,
    req: Idempotent<CreateQuote>,
) -> Result<Response, Error> {
    let caller = auth.caller;
    let tenant = caller
        .tenant(req.body.tenant_id.as_deref(), &s.default_tenant)
        .ok_or(Error::TenantForbidden)?;
    let input = domain::parse_input(&req.body)?;
    let book = s.book.current(&s.db).await?;
    let today = s.today();
    let offers = quote_all(&book.in_force(today), &input);
    let scope = format!("{tenant}:{}:create_quote", caller.issuer);
    let idem = req.key.as_deref().map(|key| idempotency::Request {
        scope,
        key,
        hash: &req.request_hash,
    });
    let input_json = serde_json::to_value(input.get())?;
    let res = idempotency::run(&s.db, idem, async |tx: &mut Tx| {
        let quote = store_comparison(tx, &tenant, today, input_json.clone(), &offers).await?;
        Ok::<_, Error>((StatusCode::CREATED, quote))
    })
    .await?;
    if res.status() == StatusCode::CREATED {
        for (insurer, offer) in Insurer::ALL.into_iter().zip(&offers) {
            metrics::quote_offer(insurer.as_str(), domain::outcome(offer));
        }
    }
    Ok(res)
}

/// Gives each quoted offer a fresh payment reference and stores the comparison (immutable).
pub(crate) async fn store_comparison(
    tx: &mut Tx,
    tenant: &str,
    today: NaiveDate,
    input: serde_json::Value,
    offers: &[Offer<'_>],
) -> Result<QuoteComparison, Error> {
    let quoted = offers.iter().filter(|o| o.is_ok()).count();
    let mut numbers = sql::quotes::next_references(tx, quoted).await?.into_iter();
    let mut wire = Vec::with_capacity(offers.len());
    for (insurer, offer) in Insurer::ALL.into_iter().zip(offers) {
        let reference = match offer {
            Ok(_) => numbers.next().map(PaymentReference::from_sequence),
            Err(_) => None,
        };
        wire.push(domain::to_wire(insurer, offer, reference));
    }
    let quote = QuoteComparison {
        id: ulid::Ulid::generate().to_string(),
        tenant_id: tenant.to_owned(),
        priced_on: today,
        input,
        offers: wire,
        // Microseconds: what PostgreSQL stores, so a read returns exactly what was answered.
        created_at: Utc::now().trunc_subsecs(6),
    };
    sql::quotes::insert(tx, &quote).await?;
    Ok(quote)
}

/// Get a stored quote, exactly as it was created.
#[utoipa::path(get, path = "/v1/quotes/{id}",
    params(("id" = String, Path, description = "quote id")),
    responses((status = 200, body = QuoteComparison), (status = 404, body = platform::Problem)))]
pub(super) async fn get_quote(
    State(s): State<AppState>,
    auth: Authorized<PricingQuote>,
    ValidPath(id): ValidPath<String>,
) -> Result<Json<QuoteComparison>, Error> {
    let mut conn = s.db.conn().await?;
    let quote = sql::quotes::find(&mut conn, &id, auth.caller.tenant_id.as_deref())
        .await?
        .ok_or(Error::QuoteNotFound)?;
    Ok(Json(quote))
}
