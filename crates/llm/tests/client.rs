//! The chat-completions client against a fake OpenAI-compatible server (wiremock).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use llm::{JsonRequest, LlmClient, LlmConfig, LlmError, Message, Part};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-key-never-logged";

fn config(server: &MockServer) -> LlmConfig {
    let mut c = LlmConfig::new(
        &server.uri(),
        SecretString::from(KEY.to_owned()),
        "gpt-4o-mini",
    );
    c.timeout = Duration::from_millis(500);
    c.retry_base = Duration::from_millis(10);
    c.retry_cap = Duration::from_millis(50);
    c
}

fn completion(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
    }))
}

fn request() -> JsonRequest {
    JsonRequest::new(vec![
        Message::System("Read the document. JSON only.".into()),
        Message::User(vec![
            Part::Text("Extract the plate.".into()),
            Part::Image {
                mime: "image/jpeg".into(),
                bytes: vec![0xff, 0xd8, 0xff],
            },
        ]),
    ])
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Plate {
    plate: String,
}

#[tokio::test]
async fn a_json_answer_is_parsed_and_the_request_is_openai_shaped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_partial_json(json!({
            "model": "gpt-4o-mini",
            "temperature": 0.0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system"},
                {"role": "user", "content": [
                    {"type": "text", "text": "Extract the plate."},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/"}}
                ]}
            ]
        })))
        .respond_with(completion(r#"{"plate": "RAD 123 A"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let client = LlmClient::new("vision", config(&server)).unwrap();
    let answer = client.complete::<Plate>(&request()).await.unwrap();
    assert_eq!(answer.value.plate, "RAD 123 A");
    assert_eq!(answer.usage.unwrap().prompt_tokens, 12);
}

#[tokio::test]
async fn output_that_breaks_the_schema_is_a_schema_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion(r#"{"plate": 42, "colour": "red"}"#))
        .mount(&server)
        .await;
    let client = LlmClient::new("vision", config(&server)).unwrap();
    let err = client.complete::<Plate>(&request()).await.unwrap_err();
    assert!(matches!(err, LlmError::Schema(_)), "{err:?}");
    let server2 = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion("I cannot read this image."))
        .mount(&server2)
        .await;
    let client = LlmClient::new("vision", config(&server2)).unwrap();
    let err = client.complete::<Plate>(&request()).await.unwrap_err();
    assert!(matches!(err, LlmError::Schema(_)), "{err:?}");
    assert_eq!(err.code(), "schema");
}

#[tokio::test]
async fn a_429_is_retried_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(
                json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
            ),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(completion(r#"{"plate": "RAB 001 B"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let client = LlmClient::new("vision", config(&server)).unwrap();
    let answer = client.complete::<Plate>(&request()).await.unwrap();
    assert_eq!(answer.value.plate, "RAB 001 B");
}

#[tokio::test]
async fn persistent_rate_limits_and_refused_keys_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429))
        .expect(3)
        .mount(&server)
        .await;
    let client = LlmClient::new("vision", config(&server)).unwrap();
    let err = client.complete_json(&request()).await.unwrap_err();
    assert!(matches!(err, LlmError::RateLimited), "{err:?}");

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Incorrect API key provided"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = LlmClient::new("vision", config(&server)).unwrap();
    let err = client.complete_json(&request()).await.unwrap_err();
    assert!(matches!(err, LlmError::Unauthorized(401)), "{err:?}");
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn a_slow_model_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion("{}").set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let mut c = config(&server);
    c.max_attempts = 1;
    c.timeout = Duration::from_millis(150);
    let client = LlmClient::new("vision", c).unwrap();
    let err = client.complete_json(&request()).await.unwrap_err();
    assert!(matches!(err, LlmError::Timeout), "{err:?}");
}

#[tokio::test]
async fn the_breaker_opens_after_repeated_failures_and_calls_stop() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(2)
        .mount(&server)
        .await;
    let mut c = config(&server);
    c.max_attempts = 1;
    c.breaker_threshold = 2;
    c.breaker_open_for = Duration::from_secs(60);
    let client = LlmClient::new("vision", c).unwrap();
    for _ in 0..2 {
        let err = client.complete_json(&request()).await.unwrap_err();
        assert!(
            matches!(err, LlmError::Status { status: 503, .. }),
            "{err:?}"
        );
    }
    let err = client.complete_json(&request()).await.unwrap_err();
    assert!(matches!(err, LlmError::CircuitOpen), "{err:?}");
    assert_eq!(
        client.http().breaker().state(),
        platform::client::State::Open
    );
}

#[tokio::test]
async fn a_strict_schema_is_sent_as_json_schema() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({
            "response_format": {"type": "json_schema",
                "json_schema": {"name": "plate", "strict": true}}
        })))
        .respond_with(completion("```json\n{\"plate\": \"X\"}\n```"))
        .expect(1)
        .mount(&server)
        .await;
    let client = LlmClient::new("vision", config(&server)).unwrap();
    let mut req = request();
    req.schema = Some((
        "plate".into(),
        json!({"type": "object", "properties": {"plate": {"type": "string"}}}),
    ));
    let answer = client.complete::<Plate>(&req).await.unwrap();
    assert_eq!(answer.value.plate, "X");
}
