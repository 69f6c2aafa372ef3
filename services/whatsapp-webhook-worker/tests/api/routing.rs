//! Routing per spec 3.2: greeting, menu key, sticky service, AI fallback, reply ids, opt-out.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

const ALINE: &str = "250781234567";

/// Delivers one message and returns its event's type and payload.
async fn send(app: &TestApp, events: &Events, pnid: &str, message: Value) -> (String, Value) {
    let wamid = message["id"].as_str().unwrap().to_owned();
    deliver(app, &delivery(pnid, vec![message], vec![])).await;
    let e = events.of(&wamid).await;
    (e.kind, e.data)
}

fn route(data: &Value) -> (&str, &str) {
    (
        data["service"].as_str().unwrap(),
        data["reason"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn a_conversation_is_routed_by_the_rules() {
    let app = app().await;
    let ev = Events::watch(&app);
    let (kind, d) = send(
        &app,
        &ev,
        MAPPED,
        text("wamid.1", ALINE, "I need a moto to Kimironko"),
    )
    .await;
    assert_eq!(kind, "whatsapp.message.routed");
    assert_eq!(route(&d), ("wa-ai-agents", "fallback"));
    assert_eq!(d["tenantId"], "tenant-a");
    assert_eq!(d["contact"]["id"], ALINE);
    assert_eq!(d["contact"]["kind"], "phone");
    assert_eq!(d["contact"]["profileName"], "Aline Uwase");
    assert_eq!(d["message"]["text"]["body"], "I need a moto to Kimironko");
    assert_eq!(d["phoneNumberId"], MAPPED);

    let (_, d) = send(&app, &ev, MAPPED, text("wamid.2", ALINE, "Hi")).await;
    assert_eq!(route(&d), ("home_menu", "greeting"));

    let (_, d) = send(&app, &ev, MAPPED, text("wamid.3", ALINE, "insurance")).await;
    assert_eq!(route(&d), ("whatsapp-pricing", "menu_key"));

    let (_, d) = send(&app, &ev, MAPPED, text("wamid.4", ALINE, "RAB 123 A")).await;
    assert_eq!(route(&d), ("whatsapp-pricing", "sticky"));
    let (_, d) = send(&app, &ev, MAPPED, image("wamid.5", ALINE)).await;
    assert_eq!(
        route(&d),
        ("whatsapp-pricing", "sticky"),
        "media stays with the service"
    );

    let (_, d) = send(&app, &ev, MAPPED, text("wamid.6", ALINE, "menu")).await;
    assert_eq!(route(&d), ("home_menu", "greeting"));
    let (_, d) = send(&app, &ev, MAPPED, text("wamid.7", ALINE, "RAB 123 A")).await;
    assert_eq!(
        route(&d),
        ("wa-ai-agents", "fallback"),
        "the greeting cleared the sticky service"
    );

    // Interactive replies route by id, not by title.
    let (_, d) = send(
        &app,
        &ev,
        MAPPED,
        list_reply("wamid.8", ALINE, "buy_and_sell", "Insurance"),
    )
    .await;
    assert_eq!(route(&d), ("marketplace", "menu_key"));
    assert_eq!(d["routingText"], "buy_and_sell");
    // Services outside this platform go to the AI agents.
    let (_, d) = send(&app, &ev, MAPPED, text("wamid.9", ALINE, "rides")).await;
    assert_eq!(route(&d), ("wa-ai-agents", "menu_key"));
    let (_, d) = send(
        &app,
        &ev,
        MAPPED,
        text("wamid.10", ALINE, "where is my driver"),
    )
    .await;
    assert_eq!(route(&d), ("wa-ai-agents", "sticky"));
}

#[tokio::test]
async fn unmapped_numbers_use_the_default_tenant_and_state_is_per_tenant() {
    let app = app().await;
    let ev = Events::watch(&app);
    let (_, d) = send(&app, &ev, MAPPED, text("wamid.t1", ALINE, "insurance")).await;
    assert_eq!(d["tenantId"], "tenant-a");
    let (_, d) = send(&app, &ev, UNMAPPED, text("wamid.t2", ALINE, "hello there")).await;
    assert_eq!(d["tenantId"], "default");
    assert_eq!(
        route(&d),
        ("wa-ai-agents", "fallback"),
        "tenant-a's sticky service does not leak"
    );
}

#[tokio::test]
async fn stop_opts_the_contact_out_once_and_is_not_routed() {
    let app = app().await;
    let ev = Events::watch(&app);
    let (kind, d) = send(&app, &ev, MAPPED, text("wamid.s1", ALINE, " stop ")).await;
    assert_eq!(kind, "whatsapp.contact.opted_out");
    assert_eq!(d["keyword"], "STOP");
    assert_eq!(d["contact"]["id"], ALINE);
    assert_eq!(d["tenantId"], "tenant-a");
    let (kind, d) = send(&app, &ev, MAPPED, text("wamid.s2", ALINE, "hello")).await;
    assert_eq!(kind, "whatsapp.message.routed");
    assert_eq!(d["optedOut"], true, "later messages carry the opt-out");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ev.all().len(), 2);
}

#[tokio::test]
async fn opt_out_keywords_are_configurable() {
    let app = app_with(&[("WHATSAPP_WEBHOOK_WORKER_OPT_OUT_KEYWORDS", "STOP,Hagarika")]).await;
    let ev = Events::watch(&app);
    let (kind, d) = send(&app, &ev, MAPPED, text("wamid.k1", ALINE, "HAGARIKA")).await;
    assert_eq!(kind, "whatsapp.contact.opted_out");
    assert_eq!(d["keyword"], "HAGARIKA");
}

/// A contact's messages routed in one batch: each sees the state its predecessor left, and the
/// state the batch stored is what a later message sees.
#[tokio::test]
async fn messages_of_one_delivery_are_routed_in_order_each_seeing_the_last() {
    let app = app().await;
    let ev = Events::watch(&app);
    deliver(
        &app,
        &delivery(
            MAPPED,
            vec![
                text("wamid.b1", ALINE, "insurance"),
                text("wamid.b2", ALINE, "RAB 123 A"),
                text("wamid.b3", ALINE, "stop"),
                text("wamid.b4", ALINE, "hello"),
                text("wamid.b5", ALINE, "RAB 123 A"),
                text("wamid.b6", ALINE, "insurance"),
            ],
            vec![],
        ),
    )
    .await;
    deliver(
        &app,
        &delivery(UNMAPPED, vec![text("wamid.b7", ALINE, "RAB 123 A")], vec![]),
    )
    .await;
    let e = ev.of("wamid.b1").await;
    assert_eq!(route(&e.data), ("whatsapp-pricing", "menu_key"));
    assert_eq!(e.data["optedOut"], false);
    let e = ev.of("wamid.b2").await;
    assert_eq!(route(&e.data), ("whatsapp-pricing", "sticky"));
    let e = ev.of("wamid.b3").await;
    assert_eq!(e.kind, "whatsapp.contact.opted_out");
    let e = ev.of("wamid.b4").await;
    assert_eq!(route(&e.data), ("home_menu", "greeting"));
    assert_eq!(e.data["optedOut"], true, "the opt-out just before");
    let e = ev.of("wamid.b5").await;
    assert_eq!(route(&e.data), ("wa-ai-agents", "fallback"));
    let e = ev.of("wamid.b6").await;
    assert_eq!(route(&e.data), ("whatsapp-pricing", "menu_key"));
    let e = ev.of("wamid.b7").await;
    assert_eq!(e.data["tenantId"], "default");
    assert_eq!(route(&e.data), ("wa-ai-agents", "fallback"));
    assert_eq!(e.data["optedOut"], false, "another tenant's contact");

    // What the batch stored: the sticky service and the opt-out, and every message's route.
    let (_, d) = send(&app, &ev, MAPPED, text("wamid.b8", ALINE, "RAB 123 A")).await;
    assert_eq!(route(&d), ("whatsapp-pricing", "sticky"));
    assert_eq!(d["optedOut"], true);
    let db = db(&app).await;
    assert_eq!(
        count(&db, "wa_inbound_messages WHERE processed_at IS NOT NULL").await,
        8
    );
    assert_eq!(
        count(&db, "wa_inbound_messages WHERE routed_to IS NULL").await,
        1,
        "the opt-out is routed nowhere"
    );
    assert_eq!(
        count(&db, "wa_contacts").await,
        1,
        "no row for the other tenant's contact, whose state never changed"
    );
    assert_eq!(count(&db, "kit_jobs").await, 0);
}
