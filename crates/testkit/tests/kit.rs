//! The kit's guarantees on a minimal sample service: what every service inherits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use platform::{Built, Ctx, Env, Service};
use reqwest::{Method, StatusCode};
use testkit::TestApp;

struct Sample;

async fn boom() -> &'static str {
    panic!("a handler bug")
}

impl Service for Sample {
    const NAME: &'static str = "sample";
    const DEFAULT_PORT: u16 = 0;
    type Config = ();

    fn config(_: &mut Env) {}

    fn openapi() -> utoipa::openapi::OpenApi {
        utoipa::openapi::OpenApiBuilder::new().build()
    }

    async fn migrate(_: &Ctx, _: &()) -> anyhow::Result<()> {
        Ok(())
    }

    async fn build(_: &Ctx, _: ()) -> anyhow::Result<Built> {
        let router = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    "done"
                }),
            )
            .route("/panic", get(boom));
        let mut built = Built::new(router);
        built.public = Router::new().route("/hook", get(|| async { "public" }));
        Ok(built)
    }
}

#[tokio::test]
async fn a_request_past_the_timeout_gets_503_as_a_problem() {
    let app = TestApp::spawn_with::<Sample>(&[("HTTP_REQUEST_TIMEOUT_MS", "100")]).await;
    let res = app.req(Method::GET, "/slow", &[]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "request.timeout");
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_problem_and_the_server_lives_on() {
    let app = TestApp::spawn::<Sample>().await;
    let res = app.req(Method::GET, "/panic", &[]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = app.anon(Method::GET, "/health").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn public_routes_skip_auth_and_service_routes_do_not() {
    let app = TestApp::spawn::<Sample>().await;
    let res = app.anon(Method::GET, "/hook").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.anon(Method::GET, "/slow").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app =
        TestApp::spawn_with::<Sample>(&[("CORS_ALLOWED_ORIGINS", "https://admin.easymo.test")])
            .await;
    let preflight = |origin: &'static str| {
        app.anon(Method::OPTIONS, "/hook")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let ok = preflight("https://admin.easymo.test").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://admin.easymo.test"
    );
    let other = preflight("https://evil.test").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let app = TestApp::spawn::<Sample>().await;
    let in_flight = tokio::spawn(app.req(Method::GET, "/slow", &[]).send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let url = app.url("/health");
    let client = app.client.clone();
    app.stop().await.expect("clean stop");
    let res = in_flight.await.unwrap().unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "done");
    assert!(client.get(url).send().await.is_err(), "no longer accepting");
}

#[tokio::test]
async fn ready_reports_the_bus() {
    let app = TestApp::spawn::<Sample>().await;
    let res = app.anon(Method::GET, "/ready").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["bus"]["status"], "ok");
    assert_eq!(body["checks"]["shutdown"]["status"], "ok");
}

#[test]
fn only_test_databases_older_than_six_hours_are_stale() {
    let made = ulid::Ulid::from_parts(1_800_000_000_000, 7);
    let name = format!("test_{}", made.to_string().to_lowercase());
    let hours = 6 * 3_600_000;
    assert!(!testkit::is_stale_test_database(
        &name,
        1_800_000_000_000 + hours
    ));
    assert!(testkit::is_stale_test_database(
        &name,
        1_800_000_000_000 + hours + 1
    ));
    assert!(!testkit::is_stale_test_database("postgres", u64::MAX));
    assert!(!testkit::is_stale_test_database(
        "test_not_a_ulid",
        u64::MAX
    ));
    assert!(!testkit::is_stale_test_database("bench_1", u64::MAX));
}

#[tokio::test]
async fn a_fresh_database_sweeps_away_stale_test_databases() {
    use sqlx::Connection;
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        return; // SQLite run: no PostgreSQL to sweep.
    };
    let old = format!(
        "test_{}",
        ulid::Ulid::from_parts(1_600_000_000_000, 1)
            .to_string()
            .to_lowercase()
    );
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{old}\"")))
        .execute(&mut conn)
        .await
        .unwrap();
    let fresh = testkit::fresh_database().await.unwrap();
    let exists = |name: String| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
            .bind(name)
    };
    assert_eq!(
        exists(old).fetch_one(&mut conn).await.unwrap(),
        0,
        "stale one dropped"
    );
    let fresh_name = fresh.url().rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        exists(fresh_name.clone())
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        1
    );
    drop(fresh);
    assert_eq!(
        exists(fresh_name).fetch_one(&mut conn).await.unwrap(),
        0,
        "a test's own database is dropped with it"
    );
}
