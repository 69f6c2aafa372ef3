//! `GET /v1/media/{id}`: inbound media fetched from a fake Graph API (wiremock) with the worker's
//! token and returned with Meta's content type; unknown ids 404, no token 503, scope enforced.

use reqwest::{Method, StatusCode};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::outbound::{SEND, app_sending};

const READ: &str = "whatsapp:media.read";
const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4];

async fn get(app: &TestApp, id: &str, scope: &str) -> reqwest::Response {
    app.req(Method::GET, &format!("/v1/media/{id}"), &[scope])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn media_is_fetched_with_the_workers_token_and_its_content_type() {
    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v23.0/1234567890"))
        .and(header("authorization", "Bearer graph-token-for-tests"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "1234567890", "url": format!("{}/cdn/1234567890", graph.uri()),
            "mime_type": "image/jpeg", "file_size": JPEG.len(), "sha256": "abc"
        })))
        .expect(1)
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/cdn/1234567890"))
        .and(header("authorization", "Bearer graph-token-for-tests"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(JPEG))
        .expect(1)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    let res = get(&app, "1234567890", READ).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert_eq!(res.bytes().await.unwrap().as_ref(), JPEG);
}

#[tokio::test]
async fn an_unknown_media_id_is_404() {
    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v23.0/404404404"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Unsupported get request.", "type": "GraphMethodException",
            "code": 100, "error_subcode": 33, "fbtrace_id": "t"}})))
        .expect(1)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    let p = expect(get(&app, "404404404", READ).await, StatusCode::NOT_FOUND).await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.media_not_found");
    // Not a Graph API id: never sent to Meta.
    let p = expect(get(&app, "x!y", READ).await, StatusCode::NOT_FOUND).await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.media_not_found");
    let p = expect(get(&app, "a%2Fb", READ).await, StatusCode::NOT_FOUND).await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.media_not_found");
}

#[tokio::test]
async fn a_graph_outage_is_502() {
    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v23.0/5555"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    let p = expect(get(&app, "5555", READ).await, StatusCode::BAD_GATEWAY).await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.media_unavailable");
}

#[tokio::test]
async fn media_needs_a_token_and_its_scope() {
    let app = app().await;
    let p = expect(
        get(&app, "1234567890", READ).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.sending_disabled");
    expect(get(&app, "1234567890", SEND).await, StatusCode::FORBIDDEN).await;
    let res = app
        .anon(Method::GET, "/v1/media/1234567890")
        .bearer_auth(app.tenant_token("tenant-a", &[READ]))
        .send()
        .await
        .unwrap();
    let p = expect(res, StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.tenant_forbidden");
    let res = app
        .anon(Method::GET, "/v1/media/1234567890")
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::UNAUTHORIZED).await;
}
