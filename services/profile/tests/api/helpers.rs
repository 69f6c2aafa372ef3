use profile::Profile;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
pub use testkit::TestApp;

pub const READ: &str = "profile:read";
pub const WRITE: &str = "profile:write";

pub async fn app() -> TestApp {
    TestApp::spawn::<Profile>().await
}

pub async fn body(res: Response) -> Value {
    res.json().await.expect("JSON body")
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

pub async fn create(app: &TestApp, body: Value) -> Response {
    app.req(Method::POST, "/api/v1/profiles", &[WRITE])
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn create_ok(app: &TestApp, phone: &str) -> Value {
    expect(
        create(app, json!({"whatsappE164": phone})).await,
        StatusCode::CREATED,
    )
    .await
}

pub async fn get(app: &TestApp, path: &str) -> Response {
    app.req(Method::GET, path, &[READ]).send().await.unwrap()
}
