//! The one outbound HTTP stack: a timeout on every call, retries with backoff and jitter for
//! idempotent calls only, a circuit breaker per dependency (state in metrics and `/ready`), and
//! the request id and trace context of the current request forwarded.

pub mod breaker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, Request, RequestBuilder, Response, StatusCode};

pub use breaker::{Breaker, BreakerConfig, State};

use crate::health::Check;
use crate::request_id;

/// Settings of one dependency's client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Bound on each attempt.
    pub timeout: Duration,
    /// Attempts in all for an idempotent call.
    pub max_attempts: u32,
    /// First retry delay (doubles, with jitter).
    pub retry_base: Duration,
    /// Longest retry delay, also the most a `Retry-After` is honoured.
    pub retry_cap: Duration,
    /// Breaker settings.
    pub breaker: BreakerConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_attempts: 3,
            retry_base: Duration::from_millis(200),
            retry_cap: Duration::from_secs(5),
            breaker: BreakerConfig::default(),
        }
    }
}

/// Why an outbound call produced no response.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The dependency's circuit is open; the call was not made.
    #[error("{0} is unavailable (circuit open)")]
    CircuitOpen(String),
    /// No answer within the timeout.
    #[error("{0} timed out")]
    Timeout(String),
    /// Could not connect or the exchange failed.
    #[error("{dependency} request failed: {source}")]
    Transport {
        /// The dependency.
        dependency: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The request could not be built (a bug in the caller).
    #[error("invalid request: {0}")]
    Invalid(#[source] reqwest::Error),
}

/// A client for one dependency.
#[derive(Clone, Debug)]
pub struct HttpClient {
    http: reqwest::Client,
    name: Arc<str>,
    base: Arc<str>,
    config: ClientConfig,
    breaker: Arc<Breaker>,
}

/// Installs the TLS crypto provider (rustls with `ring`) for the process. reqwest refuses to
/// build a client without one, so every entry point calls this first; later calls are no-ops.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl HttpClient {
    /// A client for dependency `name` at `base_url` (no trailing slash needed).
    pub fn new(name: &str, base_url: &str, config: ClientConfig) -> Result<Self, Error> {
        install_tls();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("easymo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::Invalid)?;
        Ok(Self {
            http,
            name: Arc::from(name),
            base: Arc::from(base_url.trim_end_matches('/')),
            breaker: Arc::new(Breaker::new(name, config.breaker)),
            config,
        })
    }

    /// The dependency's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The breaker (for tests and readiness).
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// Starts a request to `path` (relative to the base URL).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// A readiness check named `dependency:<name>`: fails while the circuit is open. Optional by
    /// default, so a degraded third party does not take the whole service out of rotation.
    pub fn check(&self) -> Check {
        let breaker = Arc::clone(&self.breaker);
        Check::new(format!("dependency:{}", self.name), move || {
            let open = breaker.state() == State::Open;
            async move {
                if open {
                    Err("circuit open".to_owned())
                } else {
                    Ok(())
                }
            }
        })
        .optional()
    }

    /// Sends `req`, retrying when it is idempotent (GET, HEAD, PUT, DELETE, OPTIONS, or carries
    /// an `Idempotency-Key`). Any HTTP status is returned as a response; only a call that got no
    /// response is an error.
    pub async fn send(&self, req: RequestBuilder) -> Result<Response, Error> {
        let mut req = req.build().map_err(Error::Invalid)?;
        propagate(&mut req);
        let idempotent = matches!(
            *req.method(),
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        ) || req.headers().contains_key("idempotency-key");
        let attempts = if idempotent {
            self.config.max_attempts.max(1)
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            let this = match req.try_clone() {
                Some(r) if attempt < attempts => r,
                // A streaming body cannot be replayed: this is the last attempt.
                _ => {
                    return self.once(req).await.map(|(res, _)| res);
                }
            };
            match self.once(this).await {
                Ok((res, false)) => return Ok(res),
                Ok((res, true)) => {
                    let wait = retry_after(&res)
                        .unwrap_or_else(|| {
                            bus::backoff::delay(
                                attempt,
                                self.config.retry_base,
                                self.config.retry_cap,
                            )
                        })
                        .min(self.config.retry_cap);
                    tracing::warn!(dependency = %self.name, status = res.status().as_u16(), attempt, "retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(Error::CircuitOpen(n)) => return Err(Error::CircuitOpen(n)),
                Err(e) => {
                    tracing::warn!(dependency = %self.name, error = %e, attempt, "retrying");
                    tokio::time::sleep(bus::backoff::delay(
                        attempt,
                        self.config.retry_base,
                        self.config.retry_cap,
                    ))
                    .await;
                }
            }
            attempt += 1;
        }
    }

    /// One attempt: `(response, worth retrying)`.
    async fn once(&self, req: Request) -> Result<(Response, bool), Error> {
        if self.breaker.acquire().is_err() {
            metrics::counter!("http_client_requests_total", "dependency" => self.name.to_string(), "outcome" => "circuit_open").increment(1);
            return Err(Error::CircuitOpen(self.name.to_string()));
        }
        let started = Instant::now();
        let result = self.http.execute(req).await;
        metrics::histogram!("http_client_request_duration_seconds", "dependency" => self.name.to_string())
            .record(started.elapsed().as_secs_f64());
        match result {
            Ok(res) => {
                let status = res.status();
                let unwell = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                self.breaker.record(!unwell);
                metrics::counter!("http_client_requests_total", "dependency" => self.name.to_string(), "outcome" => status.as_u16().to_string()).increment(1);
                Ok((res, unwell))
            }
            Err(e) => {
                self.breaker.record(false);
                let outcome = if e.is_timeout() {
                    "timeout"
                } else {
                    "transport"
                };
                metrics::counter!("http_client_requests_total", "dependency" => self.name.to_string(), "outcome" => outcome).increment(1);
                Err(if e.is_timeout() {
                    Error::Timeout(self.name.to_string())
                } else {
                    Error::Transport {
                        dependency: self.name.to_string(),
                        source: e,
                    }
                })
            }
        }
    }
}

/// Forwards the current request's id and trace context (the current span when traces are
/// exported, else the incoming `traceparent` as it came).
fn propagate(req: &mut Request) {
    crate::trace_context::inject_current(req.headers_mut());
    if let Some(ctx) = request_id::current_context() {
        let h = req.headers_mut();
        if let Ok(v) = ctx.request_id.as_str().parse() {
            h.entry("x-request-id").or_insert(v);
        }
        if let Some(tp) = ctx.traceparent {
            h.entry("traceparent").or_insert(tp);
        }
    }
}

fn retry_after(res: &Response) -> Option<Duration> {
    let secs: u64 = res
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests;
