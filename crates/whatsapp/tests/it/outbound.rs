//! Each message kind produces the exact JSON Meta documents, with the bearer token.

use serde_json::json;
use whatsapp::client::{
    Button, Buttons, List, MediaKind, MediaMessage, MediaSource, Parameter, Row, Section, Template,
};
use whatsapp::{ContactId, OutboundMessage};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{NUMBER_ID, client, expect_post};

const IN_WAMID: &str =
    "wamid.HBgMMjUwNzgxMjM0NTY3FQIAEhggNEI3QUQ0RjZBRkY1QjU5NjVFMjc3OTUzRkFCMEI3QTQA";

fn aline() -> ContactId {
    ContactId::phone("250781234567")
}

#[tokio::test]
async fn a_text_reply_is_sent_as_meta_documents_it() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "250781234567",
            "context": { "message_id": IN_WAMID },
            "type": "text",
            "text": { "preview_url": false, "body": "Your driver is 3 min away \u{1f695}" },
        }),
    )
    .await;
    let msg = OutboundMessage::text(aline(), "Your driver is 3 min away \u{1f695}")
        .unwrap()
        .reply_to(IN_WAMID);
    let sent = client(&server).send(NUMBER_ID, &msg).await.unwrap();
    assert_eq!(sent.message_id, "wamid.OUT");
}

#[tokio::test]
async fn a_customer_known_by_user_id_is_addressed_by_recipient() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "recipient": "RW.1502576394655843",
            "type": "text",
            "text": { "preview_url": true, "body": "See https://easymo.rw" },
        }),
    )
    .await;
    let msg = OutboundMessage::text(
        ContactId::user_id("RW.1502576394655843"),
        "See https://easymo.rw",
    )
    .unwrap()
    .with_link_preview();
    client(&server).send(NUMBER_ID, &msg).await.unwrap();
}

#[tokio::test]
async fn reply_buttons_are_sent_as_meta_documents_them() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "250781234567",
            "type": "interactive",
            "interactive": {
                "type": "button",
                "header": { "type": "text", "text": "Ride request" },
                "body": { "text": "Book a moto to Kimironko for 1,500 RWF?" },
                "footer": { "text": "easyMO" },
                "action": { "buttons": [
                    { "type": "reply", "reply": { "id": "confirm_ride", "title": "Yes, book it" } },
                    { "type": "reply", "reply": { "id": "cancel_ride", "title": "No thanks" } },
                ] },
            },
        }),
    )
    .await;
    let buttons = Buttons::new(
        "Book a moto to Kimironko for 1,500 RWF?",
        [
            Button::new("confirm_ride", "Yes, book it"),
            Button::new("cancel_ride", "No thanks"),
        ],
    )
    .header("Ride request")
    .footer("easyMO");
    let msg = OutboundMessage::buttons(aline(), buttons).unwrap();
    client(&server).send(NUMBER_ID, &msg).await.unwrap();
}

#[tokio::test]
async fn a_list_is_sent_as_meta_documents_it() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "250781234567",
            "type": "interactive",
            "interactive": {
                "type": "list",
                "header": { "type": "text", "text": "easyMO Services" },
                "body": { "text": "Do more with easyMO." },
                "action": {
                    "button": "View Services",
                    "sections": [{
                        "title": "Services",
                        "rows": [
                            { "id": "rides", "title": "Rides", "description": "Nearby drivers and passengers" },
                            { "id": "insurance", "title": "Insurance" },
                        ],
                    }],
                },
            },
        }),
    )
    .await;
    let list = List::new("Do more with easyMO.", "View Services")
        .header("easyMO Services")
        .section(Section::new(
            "Services",
            [
                Row::new("rides", "Rides").description("Nearby drivers and passengers"),
                Row::new("insurance", "Insurance"),
            ],
        ));
    let msg = OutboundMessage::list(aline(), list).unwrap();
    client(&server).send(NUMBER_ID, &msg).await.unwrap();
}

#[tokio::test]
async fn a_template_with_parameters_is_sent_as_meta_documents_it() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "250781234567",
            "type": "template",
            "template": {
                "name": "policy_renewal_reminder",
                "language": { "code": "en_US" },
                "components": [
                    { "type": "header", "parameters": [
                        { "type": "image", "image": { "link": "https://cdn.easymo.rw/renewal.png" } },
                    ] },
                    { "type": "body", "parameters": [
                        { "type": "text", "parameter_name": "customer_name", "text": "Aline" },
                        { "type": "currency", "currency": {
                            "fallback_value": "RWF 45,000", "code": "RWF", "amount_1000": 45_000_000,
                        } },
                    ] },
                    { "type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [
                        { "type": "payload", "payload": "RENEW_YES" },
                    ] },
                    { "type": "button", "sub_type": "url", "index": "1", "parameters": [
                        { "type": "text", "text": "q/123" },
                    ] },
                ],
            },
        }),
    )
    .await;
    let template = Template::new("policy_renewal_reminder", "en_US")
        .header(Parameter::Image(MediaSource::Link(
            "https://cdn.easymo.rw/renewal.png".into(),
        )))
        .body([
            Parameter::named("customer_name", "Aline"),
            Parameter::Currency {
                fallback: "RWF 45,000".into(),
                code: "RWF".into(),
                amount_1000: 45_000_000,
            },
        ])
        .quick_reply(0, "RENEW_YES")
        .url_suffix(1, "q/123");
    let msg = OutboundMessage::template(aline(), template).unwrap();
    client(&server).send(NUMBER_ID, &msg).await.unwrap();
}

#[tokio::test]
async fn media_by_id_and_by_link_are_sent_as_meta_documents_them() {
    let server = MockServer::start().await;
    expect_post(
        &server,
        json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "250781234567",
            "type": "image", "image": { "id": "1003383421387256", "caption": "Your quote" },
        }),
    )
    .await;
    expect_post(
        &server,
        json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "250781234567",
            "type": "document",
            "document": { "link": "https://cdn.easymo.rw/q/123.pdf", "filename": "quote-123.pdf" },
        }),
    )
    .await;
    let c = client(&server);
    let image = MediaMessage::new(MediaKind::Image, MediaSource::Id("1003383421387256".into()))
        .caption("Your quote");
    c.send(NUMBER_ID, &OutboundMessage::media(aline(), image).unwrap())
        .await
        .unwrap();
    let doc = MediaMessage::new(
        MediaKind::Document,
        MediaSource::Link("https://cdn.easymo.rw/q/123.pdf".into()),
    )
    .filename("quote-123.pdf");
    c.send(NUMBER_ID, &OutboundMessage::media(aline(), doc).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn mark_as_read_is_sent_as_meta_documents_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(crate::helpers::MESSAGES_PATH))
        .and(wiremock::matchers::body_json(json!({
            "messaging_product": "whatsapp", "status": "read", "message_id": IN_WAMID,
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": true })))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .mark_read(NUMBER_ID, IN_WAMID)
        .await
        .unwrap();
}
