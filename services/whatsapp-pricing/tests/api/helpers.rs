use chrono::{Duration, NaiveDate, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
pub use testkit::TestApp;
use whatsapp_pricing::WhatsappPricing;

pub const QUOTE: &str = "pricing:quote";
pub const ADMIN: &str = "pricing:admin";

pub async fn app() -> TestApp {
    TestApp::spawn::<WhatsappPricing>().await
}

/// Today in Africa/Kigali, the calendar tariffs are dated in.
pub fn kigali_today() -> NaiveDate {
    (Utc::now() + Duration::hours(2)).date_naive()
}

/// Asserts the status and returns the body.
pub async fn expect(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    if got.is_client_error() || got.is_server_error() {
        assert_eq!(ct, "application/problem+json", "errors are problem+json");
    }
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON")
    }
}

/// The input of golden value 1: a private car, comprehensive, SI 20M, a full year, 5 years old.
pub fn car() -> Value {
    json!({
        "sumInsured": 20_000_000,
        "category": "CAR",
        "usage": "PRIVATE",
        "cover": "COMPREHENSIVE"
    })
}

pub async fn post_quote(app: &TestApp, body: &Value) -> Response {
    app.req(Method::POST, "/v1/quotes", &[QUOTE])
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn quote_ok(app: &TestApp, body: &Value) -> Value {
    expect(post_quote(app, body).await, StatusCode::CREATED).await
}

pub async fn get(app: &TestApp, path: &str, scopes: &[&str]) -> Response {
    app.req(Method::GET, path, scopes).send().await.unwrap()
}

/// Each insurer's total, in order (`None` when declined).
pub fn totals(q: &Value) -> Vec<(String, Option<i64>)> {
    q["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["insurer"].as_str().unwrap().to_owned(),
                o["total"].as_i64(),
            )
        })
        .collect()
}

/// One insurer's offer.
pub fn offer<'a>(q: &'a Value, insurer: &str) -> &'a Value {
    q["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["insurer"] == insurer)
        .unwrap()
}

/// `(kind, amount)` of an offer's lines.
pub fn lines(o: &Value) -> Vec<(String, i64)> {
    o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Every insurer quotes `want`.
pub fn all_quote(q: &Value, want: i64) {
    for (insurer, total) in totals(q) {
        assert_eq!(total, Some(want), "{insurer}");
    }
}

/// Runs one SQL statement directly on the app's database (to show what the schema refuses).
pub async fn raw_sql(app: &TestApp, sql: &'static str) -> Result<u64, sqlx::Error> {
    use sqlx::Connection;
    match app.env.raw("DATABASE_URL") {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await?;
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
        }
        None => {
            let dir = app.env.raw("DATA_DIR").unwrap();
            let url = format!("sqlite:{dir}/whatsapp-pricing.db");
            let mut c = sqlx::SqliteConnection::connect(&url).await?;
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
        }
    }
}
