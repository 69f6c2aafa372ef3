use reqwest::{Method, StatusCode};
use wiremock::matchers::{method, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

async fn convert(app: &TestApp, q: &str) -> reqwest::Response {
    app.req(Method::GET, &format!("/fx/convert?{q}"), &[READ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn fallback_rates_convert_in_the_right_direction_and_are_stored() {
    let app = app().await;
    let q = expect(
        convert(&app, "amount=1000&currency=rwf").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(q["tokensMinor"], 80, "1000 RWF x 0.0008 USD = 0.80 TOKEN");
    assert_eq!(q["rate"], "0.0008");
    assert_eq!(q["rateSource"], "fallback");
    assert_eq!(q["currency"], "RWF");
    let b = expect(
        convert(&app, "amount=10&currency=XYZ").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        b["code"], "wallet.unknown_currency",
        "an unknown currency is never treated as USD"
    );
    let b = expect(
        convert(&app, "amount=-5&currency=RWF").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "wallet.invalid_amount");
}

#[tokio::test]
async fn the_api_rate_is_used_as_usd_per_unit() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("base", "KES"))
        .and(query_param("symbols", "USD"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"base": "KES", "rates": {"USD": 0.0077}})),
        )
        .expect(1)
        .mount(&api)
        .await;
    let app = app_with(&[("WALLET_FX_URL", &api.uri())]).await;
    let q = expect(
        convert(&app, "amount=1000&currency=KES").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(q["tokensMinor"], 770);
    assert_eq!(q["rateSource"], "api");
}

#[tokio::test]
async fn a_failing_api_falls_back_to_configured_rates() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&api)
        .await;
    let app = app_with(&[
        ("WALLET_FX_URL", &api.uri()),
        ("WALLET_FX_FALLBACK_RATES", "RWF=0.00075"),
    ])
    .await;
    let q = expect(
        convert(&app, "amount=1000&currency=RWF").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(q["tokensMinor"], 75);
    assert_eq!(q["rateSource"], "fallback");
}
