//! `/v1/quotes`: price one vehicle for every insurer and store the answers immutably.

use std::ops::Range;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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
use crate::writer::{IdemKey, NewQuote, Stored};
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
    let references = s.references.take(&s.db, quoted(&offers)).await?;
    let quote = comparison(
        &tenant,
        today,
        serde_json::to_value(input.get())?,
        &offers,
        references,
    )?;
    // A comparison of four insurers is 5-6 KiB: one allocation instead of doubling from 128 B.
    let mut body = Vec::with_capacity(8 * 1024);
    serde_json::to_writer(&mut body, &quote)?;
    let body = Bytes::from(body);
    let outcomes = offers.each_ref().map(domain::outcome);
    let Idempotent {
        key, request_hash, ..
    } = req;
    let idem = key.map(|key| IdemKey {
        scope: format!("{tenant}:{}:create_quote", caller.issuer),
        key,
        hash: request_hash,
    });
    let new = NewQuote {
        idem,
        quote: Arc::new(quote),
        body: body.clone(),
    };
    match s.quotes.submit(new).await? {
        Ok(Stored::Created) => {
            for (insurer, outcome) in Insurer::ALL.into_iter().zip(outcomes) {
                metrics::quote_offer(insurer.as_str(), outcome);
            }
            Ok(answer(StatusCode::CREATED, body, false))
        }
        Ok(Stored::ReplayBody { status, body }) => Ok(answer(
            StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
            body,
            true,
        )),
        Ok(Stored::ReplayQuote(id)) => {
            let quote = load(&s, &id, None).await?.ok_or(Error::QuoteNotFound)?;
            Ok(answer(
                StatusCode::CREATED,
                serde_json::to_string(&quote)?,
                true,
            ))
        }
        Err(refusal) => Err(refusal),
    }
}

/// A JSON answer, marked as a replay when it is one.
fn answer(status: StatusCode, body: impl Into<Body>, replayed: bool) -> Response {
    let mut res = (status, body.into()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        h.insert(idempotency::REPLAYED, HeaderValue::from_static("true"));
    }
    res
}

/// How many payment references the offers need: one per quoted insurer.
pub(crate) fn quoted(offers: &[Offer<'_>]) -> u64 {
    offers.iter().map(|o| u64::from(o.is_ok())).sum()
}

/// A new comparison of priced offers, each quoted one with the next of `references` (reserved
/// for it: [`quoted`] numbers).
pub(crate) fn comparison(
    tenant: &str,
    today: NaiveDate,
    input: serde_json::Value,
    offers: &[Offer<'_>],
    mut references: Range<u64>,
) -> Result<QuoteComparison, Error> {
    let mut wire = Vec::with_capacity(offers.len());
    for (insurer, offer) in Insurer::ALL.into_iter().zip(offers) {
        let reference = match offer {
            Ok(_) => Some(references.next().ok_or_else(|| {
                Error::Store(store::Error::Setup(
                    "fewer payment references than quoted offers".into(),
                ))
            })?),
            Err(_) => None,
        };
        wire.push(domain::to_wire(
            insurer,
            offer,
            reference.map(PaymentReference::from_sequence),
        ));
    }
    Ok(QuoteComparison {
        id: ulid::Ulid::generate().to_string(),
        tenant_id: tenant.to_owned(),
        priced_on: today,
        input,
        offers: wire,
        // Microseconds: what PostgreSQL stores, so a read returns exactly what was answered.
        created_at: Utc::now().trunc_subsecs(6),
    })
}

/// Gives each quoted offer a fresh payment reference and stores the comparison (immutable) in
/// `tx`: the conversation stores its quotes with its own transaction.
pub(crate) async fn store_comparison(
    tx: &mut Tx,
    tenant: &str,
    today: NaiveDate,
    input: serde_json::Value,
    offers: &[Offer<'_>],
) -> Result<QuoteComparison, Error> {
    let n = quoted(offers);
    let references = if n == 0 {
        0..0
    } else {
        sql::quotes::reserve_references(tx.exec(), n).await?
    };
    let quote = comparison(tenant, today, input, offers, references)?;
    sql::quotes::insert(tx, &quote).await?;
    Ok(quote)
}

/// A stored quote visible to `visible_to`, with its instalment schedules restored from the
/// tariff versions it names (the snapshot is refreshed once if it lacks one).
async fn load(
    s: &AppState,
    id: &str,
    visible_to: Option<&str>,
) -> Result<Option<QuoteComparison>, Error> {
    let mut conn = s.db.conn().await?;
    let found = sql::quotes::find(&mut conn, id, visible_to).await?;
    drop(conn);
    let Some(mut quote) = found else {
        return Ok(None);
    };
    let book = s.book.current(&s.db).await?;
    if sql::quotes::restore_instalments(&mut quote, &book).is_empty() {
        return Ok(Some(quote));
    }
    let book = s.book.fresh(&s.db).await?;
    let missing = sql::quotes::restore_instalments(&mut quote, &book);
    if missing.is_empty() {
        Ok(Some(quote))
    } else {
        Err(Error::Store(store::Error::Setup(format!(
            "quote {id} names tariff versions that are not stored: {}",
            missing.join(", ")
        ))))
    }
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
    let quote = load(&s, &id, auth.caller.tenant_id.as_deref())
        .await?
        .ok_or(Error::QuoteNotFound)?;
    Ok(Json(quote))
}
