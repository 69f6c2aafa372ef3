//! Trace export, in its own test binary: the tracing subscriber is global to a process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[test]
fn spans_are_exported_over_otlp_http_and_flushed_at_shutdown() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let collector = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/traces"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        server
    });
    let env = platform::Env::from_map([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.uri()),
        ("LOG_FORMAT", "json".to_owned()),
    ]);
    let telemetry = platform::telemetry::init(&env, "otel-test");
    assert!(telemetry.exporting());
    tracing::info_span!("request", route = "/x").in_scope(|| tracing::info!("inside"));
    telemetry.shutdown();
    let received = rt.block_on(collector.received_requests()).unwrap();
    assert!(!received.is_empty(), "no span reached the collector");
    assert_eq!(
        received[0]
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap()),
        Some("application/x-protobuf")
    );
}
