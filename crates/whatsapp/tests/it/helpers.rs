//! Fixtures and a client pointed at a wiremock Graph API.

use std::num::NonZeroU32;
use std::time::Duration;

use platform::client::{BreakerConfig, ClientConfig};
use secrecy::SecretString;
use serde_json::{Value, json};
use whatsapp::{Client, Config, RetryPolicy, SendLimits};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const TOKEN: &str = "EAAtest-token-never-logged";
pub const NUMBER_ID: &str = "106540352242922";
pub const MESSAGES_PATH: &str = "/v23.0/106540352242922/messages";

/// A fixture's raw bytes, exactly as stored.
pub fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Fast retries, a breaker that does not open during ordinary tests, no pacing.
pub fn config(server: &MockServer) -> Config {
    let mut c = Config::new(SecretString::from(TOKEN));
    c.base_url = server.uri();
    c.http = ClientConfig {
        timeout: Duration::from_millis(500),
        max_attempts: 3,
        retry_base: Duration::from_millis(1),
        retry_cap: Duration::from_millis(5),
        breaker: BreakerConfig {
            failure_threshold: 10,
            open_for: Duration::from_secs(60),
            half_open_permits: 1,
        },
    };
    c.retry = RetryPolicy {
        max_attempts: 4,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
        pair_wait: Duration::from_millis(150),
    };
    c.limits = SendLimits {
        per_number_per_second: NonZeroU32::new(1000).unwrap(),
        per_recipient: None,
    };
    c
}

pub fn client(server: &MockServer) -> Client {
    Client::new(config(server)).unwrap()
}

/// Meta's answer to a successful send.
pub fn sent(wamid: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": "250781234567", "wa_id": "250781234567" }],
        "messages": [{ "id": wamid }],
    }))
}

/// Meta's error answer.
pub fn meta_error(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": { "messaging_product": "whatsapp", "details": message },
            "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUv",
        }
    }))
}

/// Expects exactly one POST of `body` to the messages endpoint, with the bearer token.
pub async fn expect_post(server: &MockServer, body: Value) {
    Mock::given(method("POST"))
        .and(path(MESSAGES_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(body))
        .respond_with(sent("wamid.OUT"))
        .expect(1)
        .mount(server)
        .await;
}
