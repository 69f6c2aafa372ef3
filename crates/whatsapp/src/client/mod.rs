//! The Graph API client: `POST /{version}/{phone_number_id}/messages` and media download, on the
//! kit's [`HttpClient`] (timeout, circuit breaker, request id and trace context).
//!
//! Retries are decided here, per Meta error code, because the kit retries only idempotent
//! requests and a send is not one: Meta has no idempotency key. A send is retried only when
//! Meta said it did not take it (130429 throughput, 131056 pair rate, 5xx) or when the
//! connection was never made; a timeout is not retried, since the message may have gone.

mod interactive;
mod media;
mod messages;
mod template;

use std::sync::Arc;
use std::time::Duration;

use platform::client::{Breaker, ClientConfig, HttpClient};
use platform::health::Check;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

pub use interactive::{
    Button, Buttons, List, MAX_BODY, MAX_BUTTON_TITLE, MAX_BUTTONS, MAX_HEADER, MAX_ID,
    MAX_ROW_DESCRIPTION, MAX_ROW_TITLE, MAX_ROWS, Row, Section,
};
pub use media::{MediaFile, MediaInfo};
pub use messages::{MAX_CAPTION, MAX_TEXT, MediaKind, MediaMessage, MediaSource, OutboundMessage};
pub use template::{MAX_BODY_PARAMETER, MAX_HEADER_PARAMETER, Parameter, Template};

use crate::error::{Error, GraphError, Retry};
use crate::ratelimit::{SendLimiter, SendLimits};

/// Meta's production Graph API.
pub const GRAPH_URL: &str = "https://graph.facebook.com";
/// The Graph API version used unless configured otherwise.
pub const DEFAULT_VERSION: &str = "v23.0";

/// Client settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Graph API base URL (a fake one in tests).
    pub base_url: String,
    /// Graph API version, e.g. `v23.0`.
    pub api_version: String,
    /// System-user access token, sent as `Authorization: Bearer`; never logged.
    pub token: SecretString,
    /// Timeout and breaker of the Graph API calls (its `max_attempts` applies to GETs only).
    pub http: ClientConfig,
    /// Retries of sends.
    pub retry: RetryPolicy,
    /// Send pacing.
    pub limits: SendLimits,
    /// Largest media download accepted (Meta allows documents up to 100 MB).
    pub max_media_bytes: usize,
}

impl Config {
    /// Production defaults with `token`.
    pub fn new(token: SecretString) -> Self {
        Self {
            base_url: GRAPH_URL.to_owned(),
            api_version: DEFAULT_VERSION.to_owned(),
            token,
            http: ClientConfig::default(),
            retry: RetryPolicy::default(),
            limits: SendLimits::default(),
            max_media_bytes: 100 * 1024 * 1024,
        }
    }
}

/// How sends are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First backoff (doubled each attempt, with jitter).
    pub base: Duration,
    /// Longest backoff.
    pub cap: Duration,
    /// Least wait after a pair-rate error (131056): Meta paces one customer to about one
    /// message per 6 s, so retrying sooner only fails again.
    pub pair_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(10),
            pair_wait: Duration::from_secs(6),
        }
    }
}

/// Meta's answer to a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The new message's `wamid`: status callbacks refer to it.
    pub message_id: String,
    /// `accepted`, `held_for_quality_assessment`, ... when Meta says.
    pub message_status: Option<String>,
}

/// A WhatsApp Cloud API client. Cheap to clone; clones share the breaker and the limiter.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    graph: HttpClient,
    /// Media URLs live on Meta's CDN, another host with its own health: its own breaker.
    cdn: HttpClient,
    base_url: String,
    version: String,
    token: SecretString,
    retry: RetryPolicy,
    limiter: SendLimiter,
    max_media_bytes: usize,
}

impl Client {
    /// A client with `config`.
    pub fn new(config: Config) -> Result<Self, Error> {
        let graph = HttpClient::new("whatsapp", &config.base_url, config.http.clone())?;
        // An empty base: media URLs are absolute.
        let cdn = HttpClient::new("whatsapp-media", "", config.http)?;
        Ok(Self {
            inner: Arc::new(Inner {
                graph,
                cdn,
                base_url: config.base_url.trim_end_matches('/').to_owned(),
                version: config.api_version,
                token: config.token,
                retry: config.retry,
                limiter: SendLimiter::new(config.limits),
                max_media_bytes: config.max_media_bytes,
            }),
        })
    }

    /// The Graph API breaker (for tests and diagnostics).
    pub fn breaker(&self) -> &Breaker {
        self.inner.graph.breaker()
    }

    /// A readiness check that fails while the Graph API circuit is open (optional, so a Meta
    /// outage degrades the service rather than taking it out of rotation).
    pub fn check(&self) -> Check {
        self.inner.graph.check()
    }

    /// Sends `message` from business number `phone_number_id`, waiting for a send slot and
    /// retrying what Meta says it did not take.
    pub async fn send(
        &self,
        phone_number_id: &str,
        message: &OutboundMessage,
    ) -> Result<Sent, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            messages: Vec<Msg>,
        }
        #[derive(Deserialize)]
        struct Msg {
            id: String,
            message_status: Option<String>,
        }
        let to = message.to();
        let body = serde_json::to_vec(message.doc()).map_err(|e| Error::Invalid(e.to_string()))?;
        let result = self
            .post_messages(phone_number_id, body, Some(to.as_str()))
            .await
            .and_then(|bytes| {
                let a: Answer =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Decode(e.to_string()))?;
                let m = a
                    .messages
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::Decode("no message id".into()))?;
                Ok(Sent {
                    message_id: m.id,
                    message_status: m.message_status,
                })
            });
        let code = match &result {
            Ok(_) => "none".to_owned(),
            Err(e) => e
                .code()
                .map_or_else(|| "none".to_owned(), |c| c.to_string()),
        };
        let status = if result.is_ok() { "sent" } else { "failed" };
        metrics::counter!("wa_send_total", "status" => status, "code" => code).increment(1);
        match &result {
            Ok(s) => {
                tracing::debug!(to = %to.masked(), kind = message.kind(), wamid = %s.message_id, "whatsapp message sent")
            }
            Err(e) => {
                tracing::warn!(to = %to.masked(), kind = message.kind(), error = %e, "whatsapp send failed")
            }
        }
        result
    }

    /// Marks inbound message `message_id` as read (blue ticks), from `phone_number_id`.
    pub async fn mark_read(&self, phone_number_id: &str, message_id: &str) -> Result<(), Error> {
        let body =
            json!({ "messaging_product": "whatsapp", "status": "read", "message_id": message_id });
        let body = serde_json::to_vec(&body).map_err(|e| Error::Invalid(e.to_string()))?;
        // Not paced: a read receipt is not a message and does not count against throughput.
        self.post_messages(phone_number_id, body, None)
            .await
            .map(drop)
    }

    /// POSTs `body` to the messages endpoint with Meta-aware retries; the success body.
    async fn post_messages(
        &self,
        phone_number_id: &str,
        body: Vec<u8>,
        pace_for: Option<&str>,
    ) -> Result<Vec<u8>, Error> {
        let inner = &self.inner;
        let number = path_segment("phone number id", phone_number_id)?;
        let path = format!("/{}/{number}/messages", inner.version);
        let max = inner.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            if let Some(recipient) = pace_for {
                inner.limiter.until_ready(phone_number_id, recipient).await;
            }
            let req = inner
                .graph
                .request(Method::POST, &path)
                .bearer_auth(inner.token.expose_secret())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            let (error, retry) = match inner.graph.send(req).await {
                Ok(res) => {
                    let status = res.status().as_u16();
                    let bytes = res
                        .bytes()
                        .await
                        .map_err(|e| Error::Decode(e.to_string()))?;
                    if (200..300).contains(&status) {
                        return Ok(bytes.to_vec());
                    }
                    let e = GraphError::from_body(status, &bytes);
                    let retry = e.retry();
                    (Error::Graph(e), retry)
                }
                Err(e) => {
                    // Only a connection never made is safe to repeat: after a timeout the
                    // message may already be on its way.
                    let retry = match &e {
                        platform::client::Error::Transport { source, .. }
                            if source.is_connect() =>
                        {
                            Retry::Backoff
                        }
                        _ => Retry::No,
                    };
                    (Error::Upstream(e), retry)
                }
            };
            if retry == Retry::No || attempt >= max {
                return Err(error);
            }
            let mut wait = backoff(attempt, inner.retry.base, inner.retry.cap);
            if retry == Retry::PairPacing {
                wait = wait.max(inner.retry.pair_wait);
            }
            tracing::warn!(attempt, code = ?error.code(), wait_ms = wait.as_millis(), "whatsapp send retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// Checks an id bound for a URL path (Meta's ids are digits): anything else could change
/// which endpoint is called.
fn path_segment<'a>(what: &str, id: &'a str) -> Result<&'a str, Error> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && id != "."
        && id != "..";
    if ok {
        Ok(id)
    } else {
        Err(Error::Invalid(format!("{what} is not a Graph API id")))
    }
}

/// Exponential backoff with jitter: uniform in the upper half of `base * 2^(attempt-1)`,
/// capped, so many senders throttled at once do not retry in step.
fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    use std::hash::{BuildHasher, RandomState};
    let ceiling = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(cap);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    let half = nanos / 2;
    // A randomly keyed hash is random enough for jitter, and needs no extra dependency.
    let random = RandomState::new().hash_one(attempt);
    Duration::from_nanos(half + random % (nanos - half).saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_within_bounds() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        for attempt in 1..=8 {
            let ceiling = (base * 2u32.pow(attempt - 1)).min(cap);
            let d = backoff(attempt, base, cap);
            assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d:?}");
        }
    }
}
