//! Meta-aware retries, the circuit breaker and send pacing, against a fake Graph API.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use platform::client::State;
use whatsapp::{Client, ContactId, Error, OutboundMessage, SendLimits};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{NUMBER_ID, TOKEN, client, config, meta_error, sent};

fn aline() -> ContactId {
    ContactId::phone("250781234567")
}

async fn text_to_aline(c: &Client) -> Result<whatsapp::Sent, Error> {
    c.send(NUMBER_ID, &OutboundMessage::text(aline(), "hi").unwrap())
        .await
}

#[tokio::test]
async fn throughput_errors_are_retried_then_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(meta_error(400, 130_429, "(#130429) Rate limit hit"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(sent("wamid.OK"))
        .expect(1)
        .mount(&server)
        .await;
    let sent = text_to_aline(&client(&server)).await.unwrap();
    assert_eq!(sent.message_id, "wamid.OK");
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(meta_error(500, 131_000, "Something went wrong"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(sent("wamid.OK"))
        .expect(1)
        .mount(&server)
        .await;
    text_to_aline(&client(&server)).await.unwrap();
}

#[tokio::test]
async fn a_pair_rate_error_waits_at_least_the_pair_interval_before_retrying() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(meta_error(400, 131_056, "(#131056) Pair rate limit hit"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(sent("wamid.OK"))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    text_to_aline(&client(&server)).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_400_with_code_100_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(meta_error(400, 100, "(#100) Invalid parameter"))
        .expect(1)
        .mount(&server)
        .await;
    let err = text_to_aline(&client(&server)).await.unwrap_err();
    let Error::Graph(g) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((g.status, g.code), (400, Some(100)));
    assert_eq!(g.trace_id.as_deref(), Some("AbCdEfGhIjKlMnOpQrStUv"));
    assert!(!g.is_retryable());
}

#[tokio::test]
async fn a_4xx_with_any_other_code_is_final_even_a_429() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(meta_error(429, 80_007, "WABA rate limit"))
        .expect(1)
        .mount(&server)
        .await;
    let err = text_to_aline(&client(&server)).await.unwrap_err();
    assert_eq!(err.code(), Some(80_007));
}

#[tokio::test]
async fn retries_stop_after_the_configured_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(meta_error(400, 130_429, "(#130429) Rate limit hit"))
        .expect(4)
        .mount(&server)
        .await;
    let err = text_to_aline(&client(&server)).await.unwrap_err();
    assert_eq!(err.code(), Some(130_429));
}

#[tokio::test]
async fn a_timeout_is_not_retried_because_the_message_may_have_gone() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sent("wamid.LATE").set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;
    let err = text_to_aline(&client(&server)).await.unwrap_err();
    assert!(
        matches!(err, Error::Upstream(platform::client::Error::Timeout(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_breaker_opens_after_repeated_failures_and_stops_calling_meta() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;
    let mut cfg = config(&server);
    cfg.http.breaker.failure_threshold = 3;
    let c = Client::new(cfg).unwrap();
    // Three attempts fail and open the circuit; the fourth is refused without a call.
    let err = text_to_aline(&c).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Upstream(platform::client::Error::CircuitOpen(_))
        ),
        "{err:?}"
    );
    assert_eq!(c.breaker().state(), State::Open);
    let err = text_to_aline(&c).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Upstream(platform::client::Error::CircuitOpen(_))
    ));
}

fn paced(server: &MockServer, per_second: u32) -> Client {
    let mut cfg = config(server);
    cfg.limits = SendLimits {
        per_number_per_second: NonZeroU32::new(per_second).unwrap(),
        per_recipient: None,
    };
    Client::new(cfg).unwrap()
}

#[tokio::test]
async fn sends_from_one_number_are_spaced_but_two_numbers_are_not() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sent("wamid.OK"))
        .expect(7)
        .mount(&server)
        .await;
    let msg = OutboundMessage::text(aline(), "hi").unwrap();

    // 2 per second: two leave at once, the third waits about 500 ms.
    let c = paced(&server, 2);
    let started = Instant::now();
    for _ in 0..3 {
        c.send("111", &msg).await.unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );

    // Two sends from each of two numbers fit in both numbers' bursts.
    let c = paced(&server, 2);
    let started = Instant::now();
    for number in ["111", "222", "111", "222"] {
        c.send(number, &msg).await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_token_never_shows_in_debug_output() {
    let server = MockServer::start().await;
    let c = client(&server);
    assert!(!format!("{c:?}").contains(TOKEN));
    assert!(!format!("{:?}", config(&server)).contains(TOKEN));
}
