//! Liveness and readiness. `/health` touches nothing; `/ready` runs every registered check
//! concurrently, each bounded by a timeout, and answers 503 when a required one fails.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use futures::future::BoxFuture;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// Outcome of one check: `Err` carries a short reason (never a secret).
pub type CheckResult = Result<(), String>;

type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, CheckResult> + Send + Sync>;

/// A named readiness check.
#[derive(Clone)]
pub struct Check {
    name: String,
    required: bool,
    run: CheckFn,
}

impl Check {
    /// A required check: its failure makes the service not ready.
    pub fn new<F, Fut>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        Self {
            name: name.into(),
            required: true,
            run: Arc::new(move || Box::pin(f())),
        }
    }

    /// Reported, but its failure leaves the service ready (a degraded optional dependency).
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// The check's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// One check's line in the report.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// `ok`, `fail` or `degraded` (an optional check that failed).
    pub status: &'static str,
    /// How long the check took.
    pub latency_ms: u64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `/ready` body.
#[derive(Debug, Serialize)]
pub struct ReadyReport {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// Each check by name.
    pub checks: BTreeMap<String, CheckReport>,
    /// Build version.
    pub version: &'static str,
    /// Seconds since start.
    pub uptime_s: u64,
}

/// The registry behind `/ready`.
#[derive(Clone)]
pub struct Readiness {
    pub(crate) service: &'static str,
    checks: Arc<Vec<Check>>,
    timeout: Duration,
    started: Instant,
    shutdown: CancellationToken,
}

impl Readiness {
    pub(crate) fn new(
        service: &'static str,
        checks: Vec<Check>,
        timeout: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            service,
            checks: Arc::new(checks),
            timeout,
            started: Instant::now(),
            shutdown,
        }
    }

    /// Runs every check concurrently.
    pub async fn report(&self) -> ReadyReport {
        let runs = self.checks.iter().map(|c| async move {
            let t = Instant::now();
            let outcome = match tokio::time::timeout(self.timeout, (c.run)()).await {
                Ok(r) => r,
                Err(_) => Err(format!("timed out after {} ms", self.timeout.as_millis())),
            };
            let latency_ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (status, error) = match outcome {
                Ok(()) => ("ok", None),
                Err(e) if c.required => ("fail", Some(e)),
                Err(e) => ("degraded", Some(e)),
            };
            (
                c.name.clone(),
                CheckReport {
                    status,
                    latency_ms,
                    error,
                },
            )
        });
        let mut checks: BTreeMap<String, CheckReport> =
            futures::future::join_all(runs).await.into_iter().collect();
        // A draining instance must leave the load balancer before it stops answering.
        checks.insert(
            "shutdown".to_owned(),
            CheckReport {
                status: if self.shutdown.is_cancelled() {
                    "fail"
                } else {
                    "ok"
                },
                latency_ms: 0,
                error: self
                    .shutdown
                    .is_cancelled()
                    .then(|| "shutting down".to_owned()),
            },
        );
        let ready = checks.values().all(|c| c.status != "fail");
        ReadyReport {
            status: if ready { "ready" } else { "not_ready" },
            checks,
            version: env!("CARGO_PKG_VERSION"),
            uptime_s: self.started.elapsed().as_secs(),
        }
    }
}

/// `GET /health`.
pub(crate) async fn health(State(r): State<Readiness>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "service": r.service,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// `GET /ready`.
pub(crate) async fn ready(State(r): State<Readiness>) -> (StatusCode, Json<ReadyReport>) {
    let report = r.report().await;
    let status = if report.status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(checks: Vec<Check>) -> Readiness {
        Readiness::new(
            "t",
            checks,
            Duration::from_millis(50),
            CancellationToken::new(),
        )
    }

    #[tokio::test]
    async fn a_failing_required_check_makes_the_service_not_ready() {
        let r = registry(vec![
            Check::new("db", || async { Ok(()) }),
            Check::new("redis", || async { Err("refused".to_owned()) }),
        ]);
        let rep = r.report().await;
        assert_eq!(rep.status, "not_ready");
        assert_eq!(rep.checks["redis"].error.as_deref(), Some("refused"));
    }

    #[tokio::test]
    async fn optional_failures_and_slow_checks_are_reported() {
        let r = registry(vec![
            Check::new("llm", || async { Err("no key".to_owned()) }).optional(),
            Check::new("slow", std::future::pending::<CheckResult>).optional(),
        ]);
        let rep = r.report().await;
        assert_eq!(rep.status, "ready");
        assert_eq!(rep.checks["llm"].status, "degraded");
        assert!(
            rep.checks["slow"]
                .error
                .as_deref()
                .unwrap()
                .contains("timed out")
        );
    }

    #[tokio::test]
    async fn draining_instances_are_not_ready() {
        let token = CancellationToken::new();
        let r = Readiness::new("t", vec![], Duration::from_millis(50), token.clone());
        assert_eq!(r.report().await.status, "ready");
        token.cancel();
        assert_eq!(r.report().await.status, "not_ready");
    }
}
