//! Meta's payloads parse into the typed model; nothing is refused.

use whatsapp::webhook::{Interactive, MessageKind, StatusKind};
use whatsapp::{ContactId, Notification};

use crate::helpers::fixture;

fn parse(name: &str) -> Notification {
    Notification::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn only_message(n: &Notification) -> &whatsapp::webhook::Message {
    let all: Vec<_> = n.messages().collect();
    assert_eq!(all.len(), 1);
    all[0].1
}

#[test]
fn a_text_message_parses_with_its_sender_and_business_number() {
    let n = parse("text.json");
    assert_eq!(n.object, "whatsapp_business_account");
    let (value, m) = n.messages().next().unwrap();
    assert_eq!(value.phone_number_id(), Some("106540352242922"));
    assert_eq!(
        m.kind,
        MessageKind::Text("Muraho, I need a moto to Kimironko".into())
    );
    assert_eq!(
        m.kind.routing_text(),
        Some("Muraho, I need a moto to Kimironko")
    );
    let sender = m.sender().unwrap();
    assert_eq!(sender, ContactId::phone("250781234567"));
    let contact = value.contact(&sender).unwrap();
    assert_eq!(
        contact.profile.as_ref().unwrap().name.as_deref(),
        Some("Aline Uwase")
    );
    assert_eq!(contact.user_id.as_deref(), Some("RW.13491208655302741918"));
    assert_eq!(m.time().unwrap().timestamp(), 1_739_321_024);
    assert!(m.id.starts_with("wamid."));
}

#[test]
fn a_button_reply_routes_on_its_id_and_keeps_the_reply_context() {
    let n = parse("interactive_button_reply.json");
    let m = only_message(&n);
    match &m.kind {
        MessageKind::Interactive(Interactive::ButtonReply(b)) => {
            assert_eq!(
                (b.id.as_str(), b.title.as_str()),
                ("confirm_ride", "Yes, book it")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.kind.routing_text(), Some("confirm_ride"));
    assert_eq!(
        m.replied_to(),
        Some("wamid.HBgMMjUwNzgxMjM0NTY3FQIAERgSQjQ1QzVCNUE3MDM2RkY1QkQ2AA==")
    );
}

#[test]
fn a_list_reply_parses_with_its_description() {
    let n = parse("interactive_list_reply.json");
    let m = only_message(&n);
    let MessageKind::Interactive(Interactive::ListReply(r)) = &m.kind else {
        panic!("{:?}", m.kind);
    };
    assert_eq!(r.id, "insurance");
    assert_eq!(r.title, "Motor insurance");
    assert_eq!(r.description.as_deref(), Some("Quotes from 4 insurers"));
    assert_eq!(m.kind.routing_text(), Some("insurance"));
}

#[test]
fn a_location_parses_with_coordinates_and_place() {
    let n = parse("location.json");
    let MessageKind::Location(l) = &only_message(&n).kind else {
        panic!("not a location");
    };
    assert!((l.latitude - -1.944_072_7).abs() < 1e-9);
    assert!((l.longitude - 30.061_885_1).abs() < 1e-9);
    assert_eq!(l.name.as_deref(), Some("Kigali Convention Centre"));
    assert_eq!(l.address.as_deref(), Some("KG 11 Ave, Kigali"));
}

#[test]
fn an_image_parses_with_its_media_id_and_caption() {
    let n = parse("image.json");
    let m = only_message(&n);
    let MessageKind::Image(img) = &m.kind else {
        panic!("not an image");
    };
    assert_eq!(img.id, "1003383421387256");
    assert_eq!(img.mime_type.as_deref(), Some("image/jpeg"));
    assert_eq!(img.caption.as_deref(), Some("My yellow card"));
    assert_eq!(m.kind.media(), Some(img));
    assert_eq!(m.kind.routing_text(), None);
}

#[test]
fn every_other_media_type_contacts_reactions_and_template_buttons_parse() {
    let n = parse("media_and_contacts.json");
    let kinds: Vec<_> = n.messages().map(|(_, m)| &m.kind).collect();
    let names: Vec<_> = kinds.iter().map(|k| k.type_name()).collect();
    assert_eq!(
        names,
        [
            "audio", "document", "video", "sticker", "contacts", "reaction", "button"
        ]
    );
    let MessageKind::Audio(a) = kinds[0] else {
        panic!()
    };
    assert_eq!(a.voice, Some(true));
    let MessageKind::Document(d) = kinds[1] else {
        panic!()
    };
    assert_eq!(d.filename.as_deref(), Some("logbook-RAD123A.pdf"));
    assert!(kinds[2].media().is_some() && kinds[3].media().is_some());
    let MessageKind::Contacts(cards) = kinds[4] else {
        panic!()
    };
    assert_eq!(cards[0].phones[0].wa_id.as_deref(), Some("250788555010"));
    assert!(
        cards[0].extra.contains_key("org"),
        "unmodelled card parts are kept"
    );
    let MessageKind::Reaction(r) = kinds[5] else {
        panic!()
    };
    assert_eq!(r.emoji.as_deref(), Some("\u{1f44d}"));
    let MessageKind::Button(b) = kinds[6] else {
        panic!()
    };
    assert_eq!(b.payload, "RENEW_YES");
    assert_eq!(kinds[6].routing_text(), Some("RENEW_YES"));
}

#[test]
fn status_callbacks_parse_and_keep_the_furthest_state_when_out_of_order() {
    let n = parse("statuses.json");
    let statuses: Vec<_> = n.statuses().map(|(_, s)| s).collect();
    let kinds: Vec<_> = statuses.iter().map(|s| s.status.clone()).collect();
    assert_eq!(
        kinds,
        [
            StatusKind::Sent,
            StatusKind::Read,
            StatusKind::Delivered,
            StatusKind::Failed
        ]
    );
    let sent = statuses[0];
    assert_eq!(sent.recipient(), Some(ContactId::phone("250781234567")));
    let conv = sent.conversation.as_ref().unwrap();
    assert_eq!(conv.expiration_timestamp.as_deref(), Some("1739407700"));
    assert_eq!(
        sent.pricing.as_ref().unwrap().category.as_deref(),
        Some("service")
    );
    assert_eq!(
        statuses[2].biz_opaque_callback_data.as_deref(),
        Some("outbox:01JKZ3Q7T4M5N6P7R8S9T0V1W2")
    );
    // `read` arrived before `delivered`: the furthest state for the message is still `read`.
    let furthest = statuses[..3]
        .iter()
        .max_by_key(|s| s.status.rank())
        .unwrap();
    assert_eq!(furthest.status, StatusKind::Read);
    let failed = statuses[3];
    assert_eq!(failed.errors[0].code, 131_047);
    assert!(
        failed.errors[0]
            .error_data
            .as_ref()
            .unwrap()
            .details
            .as_deref()
            .unwrap()
            .contains("24 hours")
    );
}

#[test]
fn a_click_to_whatsapp_referral_is_kept_with_the_message() {
    let n = parse("referral.json");
    let m = only_message(&n);
    let r = m.referral.as_ref().unwrap();
    assert_eq!(r.source_type.as_deref(), Some("ad"));
    assert_eq!(r.source_id.as_deref(), Some("120213456789012345"));
    assert_eq!(r.headline.as_deref(), Some("Motor insurance in 2 minutes"));
    assert!(r.ctwa_clid.as_deref().unwrap().starts_with("ARAk"));
    assert_eq!(
        r.welcome_message.as_ref().unwrap().text,
        "Hi! Tell me about your car."
    );
    assert_eq!(
        m.kind,
        MessageKind::Text("Can I get more info on this?".into())
    );
}

#[test]
fn a_customer_known_only_by_user_id_is_a_first_class_contact() {
    let n = parse("user_id_only.json");
    let (value, m) = n.messages().next().unwrap();
    assert_eq!(m.from.as_deref(), Some(""), "Meta sent an empty phone");
    let sender = m.sender().unwrap();
    assert_eq!(sender, ContactId::user_id("RW.1502576394655843"));
    assert!(!sender.is_phone());
    let contact = value.contact(&sender).unwrap();
    assert_eq!(contact.id(), Some(sender.clone()));
    assert_eq!(
        contact.profile.as_ref().unwrap().username.as_deref(),
        Some("@grace.k")
    );
    let (_, status) = n.statuses().next().unwrap();
    assert_eq!(status.recipient(), Some(sender));
    assert_eq!(status.status, StatusKind::Delivered);
}

#[test]
fn unknown_message_types_are_kept_as_unsupported_with_their_json() {
    let n = parse("unknown_type.json");
    let msgs: Vec<_> = n.messages().map(|(_, m)| m).collect();
    assert_eq!(msgs.len(), 2);
    let MessageKind::Unsupported { type_name, .. } = &msgs[0].kind else {
        panic!()
    };
    assert_eq!(type_name, "unsupported");
    assert_eq!(msgs[0].errors[0].code, 131_051);
    let MessageKind::Unsupported { type_name, raw } = &msgs[1].kind else {
        panic!()
    };
    assert_eq!(type_name, "poll_vote");
    assert_eq!(raw["poll_vote"]["selected_options"][0]["id"], "opt_2");
    assert_eq!(msgs[1].sender(), Some(ContactId::phone("250781234567")));
}

#[test]
fn errors_at_value_level_and_other_subscriptions_are_kept() {
    let n = parse("value_errors.json");
    let values: Vec<_> = n.values().collect();
    assert_eq!(values[0].errors[0].code, 131_000);
    assert_eq!(
        n.entry[0].changes[1].field,
        "message_template_status_update"
    );
    assert_eq!(values[1].extra["event"], "APPROVED");
    assert_eq!(n.messages().count() + n.statuses().count(), 0);
}

#[test]
fn a_known_type_with_an_unexpected_body_is_kept_not_refused() {
    let raw = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
        "messages":[{"from":"250781234567","id":"wamid.A","timestamp":"1","type":"image","image":"oops"},
                    {"id":"wamid.B","timestamp":"x","type":"text","text":{"body":"hi"},"context":42}],
        "statuses":[{"id":"wamid.C","status":"queued_somewhere","timestamp":"1","pricing":"free"}]}}]}]}"#;
    let n = Notification::parse(raw).unwrap();
    let msgs: Vec<_> = n.messages().map(|(_, m)| m).collect();
    assert!(
        matches!(&msgs[0].kind, MessageKind::Unsupported { type_name, .. } if type_name == "image")
    );
    assert_eq!(msgs[1].kind, MessageKind::Text("hi".into()));
    assert_eq!(msgs[1].context, None, "a malformed context is dropped");
    assert_eq!(msgs[1].sender(), None);
    assert_eq!(msgs[1].time(), None);
    let (_, s) = n.statuses().next().unwrap();
    assert_eq!(s.status, StatusKind::Other("queued_somewhere".into()));
    assert_eq!(s.pricing, None);
}

#[test]
fn a_body_that_is_not_json_is_an_error() {
    assert!(Notification::parse(b"<html>").is_err());
}

#[test]
fn every_fixture_round_trips_through_serde() {
    for name in [
        "text.json",
        "interactive_button_reply.json",
        "interactive_list_reply.json",
        "location.json",
        "image.json",
        "media_and_contacts.json",
        "statuses.json",
        "referral.json",
        "user_id_only.json",
        "unknown_type.json",
        "value_errors.json",
        "non_ascii.json",
    ] {
        let n = parse(name);
        let again = Notification::parse(&serde_json::to_vec(&n).unwrap()).unwrap();
        assert_eq!(again, n, "{name}");
    }
}

#[test]
fn a_delivery_near_metas_3_mb_limit_parses() {
    assert_eq!(whatsapp::MAX_WEBHOOK_BYTES, 3 * 1024 * 1024);
    let text = String::from_utf8(fixture("text.json")).unwrap();
    let big = "a".repeat(whatsapp::MAX_WEBHOOK_BYTES - text.len() - 64);
    let raw = text.replace("Muraho, I need a moto to Kimironko", &big);
    assert!(raw.len() <= whatsapp::MAX_WEBHOOK_BYTES && raw.len() > 3_000_000);
    let n = Notification::parse(raw.as_bytes()).unwrap();
    assert_eq!(only_message(&n).kind, MessageKind::Text(big));
}
