//! An OpenAI-compatible chat-completions client: `POST {base}/v1/chat/completions` with a bearer
//! key, the model from configuration, `response_format` JSON output and images as `image_url`
//! data URLs (vision).
//!
//! Built on [`platform::client::HttpClient`]: a timeout on each attempt, retries with backoff on
//! 429 and 5xx (each request carries an `Idempotency-Key`, which makes the POST retryable), and
//! a circuit breaker whose state shows in metrics and `/ready`. The key is a [`SecretString`]:
//! it is never logged, and `Debug` redacts it.

use std::time::Duration;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use platform::client::{BreakerConfig, ClientConfig, HttpClient};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How to reach the model.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Base URL, e.g. `https://api.openai.com` (the client appends `/v1/chat/completions`).
    pub base_url: String,
    /// Bearer key.
    pub api_key: SecretString,
    /// Model name, e.g. `gpt-4o-mini`.
    pub model: String,
    /// Bound on each attempt.
    pub timeout: Duration,
    /// Attempts in all (429 and 5xx are retried).
    pub max_attempts: u32,
    /// First retry delay (doubles, with jitter; `Retry-After` honoured up to `retry_cap`).
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_cap: Duration,
    /// Consecutive failures that open the circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit refuses calls.
    pub breaker_open_for: Duration,
}

impl LlmConfig {
    /// Defaults: 30 s timeout, 3 attempts from 500 ms to 5 s, breaker 5 failures / 30 s.
    pub fn new(base_url: &str, api_key: SecretString, model: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            api_key,
            model: model.to_owned(),
            timeout: Duration::from_secs(30),
            max_attempts: 3,
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(5),
            breaker_threshold: 5,
            breaker_open_for: Duration::from_secs(30),
        }
    }
}

/// Why a completion gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The circuit is open: the call was not made.
    #[error("the model is unavailable (circuit open)")]
    CircuitOpen,
    /// No answer within the timeout.
    #[error("the model timed out")]
    Timeout,
    /// Could not connect, or the exchange failed.
    #[error("the model could not be reached: {0}")]
    Transport(String),
    /// The key was refused (401 or 403).
    #[error("the model refused the API key ({0})")]
    Unauthorized(u16),
    /// Still rate-limited after every retry.
    #[error("the model is rate-limited")]
    RateLimited,
    /// Any other non-2xx answer (after retries for 5xx).
    #[error("the model answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The provider's error message (truncated).
        message: String,
    },
    /// The answer was not a chat completion, or carried no content.
    #[error("the model's answer is malformed: {0}")]
    Malformed(String),
    /// The content is not JSON of the expected shape.
    #[error("the model's output does not match the schema: {0}")]
    Schema(String),
    /// The request could not be built.
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl LlmError {
    /// A stable label for metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::CircuitOpen => "circuit_open",
            Self::Timeout => "timeout",
            Self::Transport(_) => "transport",
            Self::Unauthorized(_) => "unauthorized",
            Self::RateLimited => "rate_limited",
            Self::Status { .. } => "status",
            Self::Malformed(_) => "malformed",
            Self::Schema(_) => "schema",
            Self::Invalid(_) => "invalid",
        }
    }
}

impl From<platform::client::Error> for LlmError {
    fn from(e: platform::client::Error) -> Self {
        match e {
            platform::client::Error::CircuitOpen(_) => Self::CircuitOpen,
            platform::client::Error::Timeout(_) => Self::Timeout,
            platform::client::Error::Transport { source, .. } => {
                if source.is_timeout() {
                    Self::Timeout
                } else {
                    // reqwest's error text carries no header, so never the key.
                    Self::Transport(source.to_string())
                }
            }
            platform::client::Error::Invalid(e) => Self::Invalid(e.to_string()),
        }
    }
}

/// One part of a user message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text.
    Text(String),
    /// An image, sent inline as a `data:` URL.
    Image {
        /// `image/jpeg`, `image/png`, ...
        mime: String,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

impl Part {
    fn to_json(&self) -> Value {
        match self {
            Self::Text(t) => json!({"type": "text", "text": t}),
            Self::Image { mime, bytes } => json!({
                "type": "image_url",
                "image_url": {"url": format!("data:{mime};base64,{}", BASE64_STANDARD.encode(bytes))}
            }),
        }
    }
}

/// A chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Instructions.
    System(String),
    /// The user's turn: text and images.
    User(Vec<Part>),
}

impl Message {
    fn to_json(&self) -> Value {
        match self {
            Self::System(t) => json!({"role": "system", "content": t}),
            Self::User(parts) => json!({
                "role": "user",
                "content": parts.iter().map(Part::to_json).collect::<Vec<_>>()
            }),
        }
    }
}

/// A chat completion asking for a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRequest {
    /// The conversation.
    pub messages: Vec<Message>,
    /// `Some(schema)`: `response_format` `json_schema` (strict) named `schema_name`; `None`:
    /// `json_object`.
    pub schema: Option<(String, Value)>,
    /// Sampling temperature (0 for extraction).
    pub temperature: f32,
    /// Output token bound.
    pub max_tokens: Option<u32>,
}

impl JsonRequest {
    /// `messages` with `json_object` output at temperature 0.
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            schema: None,
            temperature: 0.0,
            max_tokens: None,
        }
    }
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    content: Option<String>,
}

/// Tokens used by a completion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Usage {
    /// Prompt tokens.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Completion tokens.
    #[serde(default)]
    pub completion_tokens: u64,
}

/// A parsed answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    /// The content, parsed.
    pub value: T,
    /// Tokens used, when the provider says.
    pub usage: Option<Usage>,
}

/// The client; cheap to clone.
#[derive(Clone)]
pub struct LlmClient {
    http: HttpClient,
    key: SecretString,
    model: String,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("dependency", &self.http.name())
            .field("model", &self.model)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl LlmClient {
    /// A client named `dependency` (metrics, breaker and `/ready` check use the name).
    ///
    /// # Errors
    /// [`LlmError::Invalid`] when the HTTP client cannot be built.
    pub fn new(dependency: &str, config: LlmConfig) -> Result<Self, LlmError> {
        let http = HttpClient::new(
            dependency,
            &config.base_url,
            ClientConfig {
                timeout: config.timeout,
                max_attempts: config.max_attempts.max(1),
                retry_base: config.retry_base,
                retry_cap: config.retry_cap,
                breaker: BreakerConfig {
                    failure_threshold: config.breaker_threshold.max(1),
                    open_for: config.breaker_open_for,
                    half_open_permits: 1,
                },
            },
        )?;
        Ok(Self {
            http,
            key: config.api_key,
            model: config.model,
        })
    }

    /// The model asked.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The underlying HTTP client (its breaker and `/ready` check).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn body(&self, req: &JsonRequest) -> Value {
        let response_format = match &req.schema {
            Some((name, schema)) => json!({
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": true}
            }),
            None => json!({"type": "json_object"}),
        };
        let mut body = json!({
            "model": self.model,
            "messages": req.messages.iter().map(Message::to_json).collect::<Vec<_>>(),
            "temperature": req.temperature,
            "response_format": response_format,
        });
        if let (Some(max), Some(obj)) = (req.max_tokens, body.as_object_mut()) {
            obj.insert("max_tokens".to_owned(), json!(max));
        }
        body
    }

    /// Asks for a JSON object and returns the raw content as JSON.
    ///
    /// # Errors
    /// See [`LlmError`]: transport, status, malformed completion, or content that is not JSON.
    pub async fn complete_json(&self, req: &JsonRequest) -> Result<Answer<Value>, LlmError> {
        let request = self
            .http
            .request(Method::POST, "/v1/chat/completions")
            .bearer_auth(self.key.expose_secret())
            // Makes the platform client retry 429 and 5xx; providers that ignore it lose nothing.
            .header("idempotency-key", ulid::Ulid::generate().to_string())
            .json(&self.body(req));
        let res = self.http.send(request).await?;
        let status = res.status();
        if !status.is_success() {
            let text = res.text().await.unwrap_or_default();
            let message = provider_message(&text);
            tracing::warn!(dependency = %self.http.name(), status = status.as_u16(), %message, "model call failed");
            return Err(match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    LlmError::Unauthorized(status.as_u16())
                }
                StatusCode::TOO_MANY_REQUESTS => LlmError::RateLimited,
                s => LlmError::Status {
                    status: s.as_u16(),
                    message,
                },
            });
        }
        let completion: Completion = res
            .json()
            .await
            .map_err(|e| LlmError::Malformed(e.to_string()))?;
        let content = completion
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| LlmError::Malformed("no content in the first choice".to_owned()))?;
        let value = serde_json::from_str::<Value>(strip_fences(&content))
            .map_err(|e| LlmError::Schema(format!("not JSON: {e}")))?;
        Ok(Answer {
            value,
            usage: completion.usage,
        })
    }

    /// Asks for a JSON object and parses it as `T` (its serde shape is the schema check).
    ///
    /// # Errors
    /// [`LlmError::Schema`] when the content does not parse as `T`; else as
    /// [`LlmClient::complete_json`].
    pub async fn complete<T: DeserializeOwned>(
        &self,
        req: &JsonRequest,
    ) -> Result<Answer<T>, LlmError> {
        let answer = self.complete_json(req).await?;
        let value = serde_json::from_value::<T>(answer.value)
            .map_err(|e| LlmError::Schema(e.to_string()))?;
        Ok(Answer {
            value,
            usage: answer.usage,
        })
    }
}

/// Some models wrap JSON in a Markdown fence even in JSON mode.
fn strip_fences(content: &str) -> &str {
    let t = content.trim();
    let Some(inner) = t.strip_prefix("```") else {
        return t;
    };
    let inner = inner.strip_prefix("json").unwrap_or(inner);
    inner.strip_suffix("```").unwrap_or(inner).trim()
}

/// The provider's `error.message`, else the body, at most 200 characters.
fn provider_message(body: &str) -> String {
    let msg = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.to_owned());
    msg.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_are_stripped() {
        assert_eq!(strip_fences("```json\n{\"a\":1}\n```"), "{\"a\":1}");
        assert_eq!(strip_fences(" {\"a\":1} "), "{\"a\":1}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = LlmClient::new(
            "vision",
            LlmConfig::new(
                "http://127.0.0.1:9",
                SecretString::from("sk-very-secret".to_owned()),
                "m",
            ),
        );
        let text = format!("{c:?}");
        assert!(!text.contains("sk-very-secret"), "{text}");
    }

    #[test]
    fn images_go_as_data_urls() {
        let p = Part::Image {
            mime: "image/png".into(),
            bytes: b"hi".to_vec(),
        };
        assert_eq!(
            p.to_json()["image_url"]["url"],
            "data:image/png;base64,aGk="
        );
    }
}
