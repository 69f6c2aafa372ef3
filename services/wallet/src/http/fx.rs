//! `GET /fx/convert`: local currency to tokens, with the rate used stored.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use contracts::wallet::{FxQuery, FxQuote};
use platform::{Authorized, ValidQuery};
use reqwest::Method;

use super::AccountsRead;
use crate::Error;
use crate::domain::fx::{self, Decimal};
use crate::state::AppState;

pub(super) fn router() -> axum::Router<AppState> {
    Router::new().route("/fx/convert", get(convert))
}

/// USD per unit of `code`: the API's `rates.USD` for `base=<code>` (already "USD per unit", so it
/// is used as is, not inverted), else the configured fallback; an unknown currency is refused.
async fn rate(s: &AppState, code: &str) -> Result<(Decimal, &'static str), Error> {
    if code == "USD" || code == "TOKEN" {
        return Ok(("1".parse().map_err(|()| Error::InvalidAmount)?, "identity"));
    }
    if let Some(client) = &s.fx {
        let req = client
            .request(Method::GET, "")
            .query(&[("base", code), ("symbols", "USD")]);
        match client.send(req).await {
            Ok(res) if res.status().is_success() => {
                let body: serde_json::Value = res.json().await.unwrap_or_default();
                let usd = body["rates"]["USD"]
                    .as_f64()
                    .or_else(|| body["USD"].as_f64());
                if let Some(r) = usd.and_then(Decimal::from_api_rate) {
                    return Ok((r, "api"));
                }
                tracing::warn!(
                    currency = code,
                    "FX API answered without a USD rate; using fallback"
                );
            }
            Ok(res) => tracing::warn!(
                currency = code,
                status = res.status().as_u16(),
                "FX API refused; using fallback"
            ),
            Err(e) => {
                tracing::warn!(currency = code, error = %e, "FX API unavailable; using fallback")
            }
        }
    }
    s.config
        .fx_fallback
        .get(code)
        .map(|r| (*r, "fallback"))
        .ok_or_else(|| Error::UnknownCurrency(code.to_owned()))
}

/// Convert an amount of a currency to tokens (TOKEN, 1:1 with USD, 2 decimals), rounding half up;
/// the quote is stored with its rate.
#[utoipa::path(get, path = "/fx/convert", params(FxQuery),
    responses((status = 200, body = FxQuote), (status = 422, description = "unknown_currency, invalid_amount", body = platform::Problem)))]
pub(super) async fn convert(
    State(s): State<AppState>,
    _auth: Authorized<AccountsRead>,
    ValidQuery(q): ValidQuery<FxQuery>,
) -> Result<Json<FxQuote>, Error> {
    let amount: Decimal = q.amount.parse().map_err(|()| Error::InvalidAmount)?;
    if !amount.is_positive() {
        return Err(Error::InvalidAmount);
    }
    let code = q.currency.to_ascii_uppercase();
    let (rate, source) = rate(&s, &code).await?;
    let tokens = fx::convert(amount, rate, 2).ok_or(Error::InvalidAmount)?;
    let quote = FxQuote {
        id: ulid::Ulid::generate().to_string(),
        amount: amount.to_string(),
        currency: code,
        rate: rate.to_string(),
        rate_source: source.to_owned(),
        tokens_minor: tokens,
        created_at: Utc::now(),
    };
    let mut tx = s.db.begin().await?;
    crate::store::fx::insert(&mut tx, &quote).await?;
    tx.commit().await?;
    Ok(Json(quote))
}
