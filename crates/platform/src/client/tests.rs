use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn config() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_millis(300),
        max_attempts: 3,
        retry_base: Duration::from_millis(1),
        retry_cap: Duration::from_millis(5),
        breaker: BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(60),
            half_open_permits: 1,
        },
    }
}

#[tokio::test]
async fn idempotent_calls_are_retried_until_they_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let c = HttpClient::new("dep", &server.uri(), config()).unwrap();
    let res = c.send(c.request(Method::GET, "/x")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_plain_post_is_sent_once_but_a_keyed_one_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/once"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/keyed"))
        .respond_with(ResponseTemplate::new(500))
        .expect(3)
        .mount(&server)
        .await;
    let mut cfg = config();
    cfg.breaker.failure_threshold = 10;
    let c = HttpClient::new("dep", &server.uri(), cfg).unwrap();
    let res = c
        .send(c.request(Method::POST, "/once").body("{}"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let res = c
        .send(
            c.request(Method::POST, "/keyed")
                .header("idempotency-key", "k-0000000000000001")
                .body("{}"),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn client_errors_are_neither_retried_nor_counted_against_the_dependency() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .expect(5)
        .mount(&server)
        .await;
    let c = HttpClient::new("dep", &server.uri(), config()).unwrap();
    for _ in 0..5 {
        assert_eq!(
            c.send(c.request(Method::GET, "/missing"))
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(c.breaker().state(), State::Closed);
}

#[tokio::test]
async fn a_failing_dependency_opens_the_circuit_and_calls_stop_reaching_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;
    let c = HttpClient::new("dep", &server.uri(), config()).unwrap();
    // Three attempts of one call reach the threshold.
    let _ = c.send(c.request(Method::GET, "/a")).await;
    assert_eq!(c.breaker().state(), State::Open);
    assert!(matches!(
        c.send(c.request(Method::GET, "/a")).await,
        Err(Error::CircuitOpen(_))
    ));
    let check = c.check();
    assert!(check.name().starts_with("dependency:"));
}

#[tokio::test]
async fn slow_answers_time_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let c = HttpClient::new("dep", &server.uri(), config()).unwrap();
    let started = Instant::now();
    let err = c.send(c.request(Method::POST, "/slow")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn the_request_id_and_trace_context_are_forwarded() {
    let server = MockServer::start().await;
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    Mock::given(method("GET"))
        .and(header("x-request-id", "req-42"))
        .and(header("traceparent", tp))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let c = HttpClient::new("dep", &server.uri(), config()).unwrap();
    let ctx = request_id::TraceContext {
        request_id: request_id::RequestId::from("req-42"),
        traceparent: Some(http::HeaderValue::from_static(tp)),
    };
    let res = request_id::scope(ctx, c.send(c.request(Method::GET, "/t")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
