//! Inbound media: `GET /{version}/{media_id}`, then the download with the same token.

use serde_json::json;
use whatsapp::{Client, Error};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TOKEN, client, config};

const MEDIA_ID: &str = "1003383421387256";

async fn mount_info(server: &MockServer, url: &str, expect: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/v23.0/{MEDIA_ID}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": "image/jpeg",
            "sha256": "IN2wr8ESLBAK0yUFoUJOFmYhMxd2yyWBFWIr4iSGEQ4=",
            "file_size": "11",
            "id": MEDIA_ID,
        })))
        .expect(expect)
        .mount(server)
        .await;
}

async fn mount_file(server: &MockServer, expect: u64) {
    Mock::given(method("GET"))
        .and(path("/whatsapp_business/attachments/"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"jpeg-bytes!".to_vec()))
        .expect(expect)
        .mount(server)
        .await;
}

#[tokio::test]
async fn media_is_looked_up_then_downloaded_with_the_token() {
    let server = MockServer::start().await;
    let url = format!(
        "{}/whatsapp_business/attachments/?mid={MEDIA_ID}",
        server.uri()
    );
    mount_info(&server, &url, 1).await;
    mount_file(&server, 1).await;
    let file = client(&server).download_media(MEDIA_ID).await.unwrap();
    assert_eq!(file.bytes, b"jpeg-bytes!");
    assert_eq!(file.info.mime_type.as_deref(), Some("image/jpeg"));
    assert_eq!(file.info.file_size, Some(11));
}

#[tokio::test]
async fn media_over_the_limit_is_refused() {
    let server = MockServer::start().await;
    let url = format!(
        "{}/whatsapp_business/attachments/?mid={MEDIA_ID}",
        server.uri()
    );
    mount_info(&server, &url, 1).await;
    mount_file(&server, 1).await;
    let mut cfg = config(&server);
    cfg.max_media_bytes = 5;
    let err = Client::new(cfg)
        .unwrap()
        .download_media(MEDIA_ID)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MediaTooLarge { limit: 5 }), "{err:?}");
}

#[tokio::test]
async fn the_token_is_not_sent_to_a_plain_http_url_elsewhere() {
    let server = MockServer::start().await;
    mount_info(
        &server,
        "http://attacker.invalid/whatsapp_business/attachments/",
        1,
    )
    .await;
    mount_file(&server, 0).await;
    let err = client(&server).download_media(MEDIA_ID).await.unwrap_err();
    assert!(matches!(err, Error::UntrustedMediaUrl), "{err:?}");
}

#[tokio::test]
async fn an_unknown_media_id_is_meta_s_error_and_a_bad_id_is_never_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v23.0/999"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": { "message": "Unsupported get request.", "type": "GraphMethodException", "code": 100, "error_subcode": 33 }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.media_info("999").await.unwrap_err();
    assert_eq!(err.code(), Some(100));
    let err = c
        .media_info("../106540352242922/messages")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
}
