//! `/v1/paylink`: the MTN MoMo USSD string and `tel:` link for one insurer's stored quote.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use contracts::pricing::{Paylink, PaylinkQuery};
use platform::{Authorized, FieldError, ValidQuery};
use pricing::{Insurer, PaymentReference, momo_tel_link, momo_ussd};

use super::PricingQuote;
use crate::state::AppState;
use crate::{Error, store as sql};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/paylink", get(paylink))
}

/// How to pay the chosen insurer's quote: amount and reference come from the stored quote, never
/// from the caller.
#[utoipa::path(get, path = "/v1/paylink", params(PaylinkQuery),
    responses(
        (status = 200, body = Paylink),
        (status = 404, description = "no such quote", body = platform::Problem),
        (status = 409, description = "the insurer declined this quote", body = platform::Problem),
        (status = 422, description = "unknown insurer", body = platform::Problem),
    ))]
pub(super) async fn paylink(
    State(s): State<AppState>,
    auth: Authorized<PricingQuote>,
    ValidQuery(q): ValidQuery<PaylinkQuery>,
) -> Result<Json<Paylink>, Error> {
    let insurer: Insurer = q.insurer.parse().map_err(|_| {
        Error::Invalid(vec![FieldError::new(
            "insurer",
            format!(
                "unknown insurer; expected one of {}",
                Insurer::NAMES.join(", ")
            ),
        )])
    })?;
    let mut conn = s.db.conn().await?;
    let offer = sql::quotes::find_offer(
        conn.exec(),
        &q.quote_id,
        insurer.as_str(),
        auth.caller.tenant_id.as_deref(),
    )
    .await?
    .ok_or(Error::QuoteNotFound)?;
    let (Some(amount), Some(reference)) = (
        offer.total,
        offer
            .payment_reference
            .as_deref()
            .and_then(PaymentReference::parse),
    ) else {
        return Err(Error::NotQuoted(insurer.name()));
    };
    let profile = insurer.profile();
    let ussd = momo_ussd(profile, amount, &reference);
    Ok(Json(Paylink {
        quote_id: q.quote_id,
        insurer: insurer.as_str().to_owned(),
        insurer_name: profile.name.to_owned(),
        amount,
        reference: reference.to_string(),
        merchant_code: profile.momo_merchant_code.to_owned(),
        tel: momo_tel_link(&ussd),
        ussd,
    }))
}
