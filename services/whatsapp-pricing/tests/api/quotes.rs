//! `POST /v1/quotes` and `GET /v1/quotes/{id}`: storage, references, declines, idempotency,
//! validation and tenancy.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_quote_is_stored_with_references_and_read_back_unchanged() {
    let app = app().await;
    let q = quote_ok(&app, &car()).await;
    assert_eq!(q["tenantId"], "default");
    assert_eq!(q["input"]["category"], "CAR");
    assert_eq!(q["input"]["seats"], 5, "defaults are recorded");
    let refs: Vec<&str> = q["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["paymentReference"].as_str().unwrap())
        .collect();
    assert!(
        refs.iter()
            .all(|r| r.len() >= 8 && r.bytes().all(|b| b.is_ascii_digit()))
    );
    let mut unique = refs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 4, "every reference is unique: {refs:?}");
    let again = quote_ok(&app, &car()).await;
    assert!(!refs.contains(&again["offers"][0]["paymentReference"].as_str().unwrap()));
    let id = q["id"].as_str().unwrap();
    let got = expect(
        get(&app, &format!("/v1/quotes/{id}"), &[QUOTE]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got, q);
    let missing = expect(
        get(&app, "/v1/quotes/nope", &[QUOTE]).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(missing["code"], "whatsapp-pricing.quote_not_found");
}

#[tokio::test]
async fn a_declined_combination_carries_its_reason_not_zero() {
    let app = app().await;
    let body = json!({
        "sumInsured": 0, "category": "TRACTOR", "usage": "PRIVATE", "cover": "TP_ONLY"
    });
    let q = quote_ok(&app, &body).await;
    for o in q["offers"].as_array().unwrap() {
        assert_eq!(o["status"], "declined", "{o}");
        assert!(o["total"].is_null(), "never a silent 0: {o}");
        assert!(o["paymentReference"].is_null());
        assert_eq!(o["declined"]["code"], "third_party_not_offered");
        assert_eq!(o["declined"]["reason"], "not offered by this insurer");
        assert!(
            o["declined"]["detail"]
                .as_str()
                .unwrap()
                .contains("TRACTOR")
        );
    }
    // Past the age limit, own damage is refused with the original's warning; TP-only is offered.
    let mut old = car();
    old["vehicleAgeYears"] = json!(16);
    let q = quote_ok(&app, &old).await;
    let bk = offer(&q, "bk");
    assert_eq!(bk["declined"]["code"], "too_old_for_own_damage");
    assert!(
        bk["declined"]["reason"]
            .as_str()
            .unwrap()
            .contains("older than 15 years")
    );
}

#[tokio::test]
async fn an_idempotent_retry_replays_and_a_reused_key_is_refused() {
    let app = app().await;
    let send = |body: serde_json::Value, key: &'static str| {
        app.req(Method::POST, "/v1/quotes", &[QUOTE])
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send(car(), "quote-key-0000000001").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_text = first.text().await.unwrap();
    let first: serde_json::Value = serde_json::from_str(&first_text).unwrap();
    let res = send(car(), "quote-key-0000000001").await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.status(), StatusCode::CREATED);
    let replay_text = res.text().await.unwrap();
    assert_eq!(replay_text, first_text, "replayed byte for byte");
    let replay: serde_json::Value = serde_json::from_str(&replay_text).unwrap();
    assert_eq!(replay, first, "same id, same references");
    assert!(
        !first["offers"][0]["instalments"]
            .as_array()
            .unwrap()
            .is_empty(),
        "instalment schedules are answered and replayed"
    );
    // Retries sent together (one batch or consecutive ones) all replay the first answer.
    let together: Vec<_> = (0..8)
        .map(|_| tokio::spawn(send(car(), "quote-key-0000000001")))
        .collect();
    for t in together {
        let res = t.await.unwrap().unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.text().await.unwrap(), first_text);
    }
    // A new key sent several times at once: one quote is created, every answer is that quote.
    let racing: Vec<_> = (0..8)
        .map(|_| tokio::spawn(send(car(), "quote-key-0000000002")))
        .collect();
    let mut bodies = Vec::new();
    for t in racing {
        let res = t.await.unwrap().unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        bodies.push(res.text().await.unwrap());
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "one quote for one key");
    assert_ne!(bodies[0], first_text);
    let mut other = car();
    other["sumInsured"] = json!(10_000_000);
    let reused = expect(
        send(other, "quote-key-0000000001").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(reused["code"], "whatsapp-pricing.idempotency_key_reused");
    let short = expect(send(car(), "short").await.unwrap(), StatusCode::BAD_REQUEST).await;
    assert_eq!(short["errors"][0]["pointer"], "header:Idempotency-Key");
}

#[tokio::test]
async fn invalid_input_is_a_problem_never_a_silent_zero() {
    let app = app().await;
    let mut body = car();
    body["category"] = json!("HOVERCRAFT");
    body["usage"] = json!("UBER");
    let b = expect(
        post_quote(&app, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "whatsapp-pricing.invalid");
    let pointers: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/category", "/usage"]);
    assert!(
        b["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("JEEP_SUV")
    );

    let mut body = car();
    body["passengersAboveDriver"] = json!(9);
    let b = expect(
        post_quote(&app, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["errors"][0]["pointer"], "/passengersAboveDriver");

    let mut body = car();
    body["sumInsured"] = json!(0);
    let b = expect(
        post_quote(&app, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["errors"][0]["pointer"], "/sumInsured");

    let mut body = car();
    body["colour"] = json!("red");
    let b = expect(post_quote(&app, &body).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(b["code"], "request.invalid", "unknown fields are refused");

    let b = expect(
        post_quote(&app, &json!({"category": "CAR"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(b["code"], "request.invalid");
}

#[tokio::test]
async fn a_tenant_bound_token_sees_only_its_quotes() {
    let app = app().await;
    let q = quote_ok(&app, &car()).await;
    let id = q["id"].as_str().unwrap();
    let other = app.tenant_token("other", &[QUOTE]);
    let res = app
        .anon(Method::GET, &format!("/v1/quotes/{id}"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    let res = app
        .anon(Method::GET, &format!("/v1/paylink?quoteId={id}&insurer=bk"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    let mut body = car();
    body["tenantId"] = json!("default");
    let res = app
        .anon(Method::POST, "/v1/quotes")
        .bearer_auth(&other)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::FORBIDDEN).await;
}

/// `n` quotes sent at once, taking turns among `apps`; their answers.
async fn quotes_at_once(apps: &[&TestApp], n: usize) -> Vec<serde_json::Value> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let req = apps[i % apps.len()]
                .req(Method::POST, "/v1/quotes", &[QUOTE])
                .json(&car());
            tokio::spawn(req.send())
        })
        .collect();
    let mut answers = Vec::with_capacity(n);
    for t in tasks {
        answers.push(expect(t.await.unwrap().unwrap(), StatusCode::CREATED).await);
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_quotes_never_share_a_payment_reference() {
    let app = app().await;
    let mut refs = Vec::new();
    for q in quotes_at_once(&[&app], 16).await {
        for o in q["offers"].as_array().unwrap() {
            refs.push(o["paymentReference"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(refs.len(), 64);
    refs.sort_unstable();
    refs.dedup();
    assert_eq!(refs.len(), 64, "every reference is unique");
}

/// The sequence numbers behind a quote's payment references (a reference is its number and a
/// check digit).
fn reference_numbers(q: &serde_json::Value) -> Vec<u64> {
    q["offers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["paymentReference"].as_str())
        .map(|r| r[..r.len() - 1].parse().unwrap())
        .collect()
}

#[tokio::test]
async fn a_restart_never_hands_out_a_reference_again() {
    let app = app().await;
    let before = reference_numbers(&quote_ok(&app, &car()).await);
    assert_eq!(before.len(), 4);
    let app = app.restart::<whatsapp_pricing::WhatsappPricing>().await;
    let after = reference_numbers(&quote_ok(&app, &car()).await);
    assert_eq!(after.len(), 4);
    let last_before = before.iter().max().unwrap();
    assert!(
        after.iter().all(|n| n > last_before),
        "numbers reserved before the restart are skipped, never reused: {before:?} then {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_database_never_share_a_payment_reference() {
    let a = app().await;
    let mut shared = vec![("DATA_DIR", a.env.raw("DATA_DIR").unwrap())];
    if let Some(url) = a.env.raw("DATABASE_URL") {
        shared.push(("DATABASE_URL", url));
    }
    let b = TestApp::spawn_with::<whatsapp_pricing::WhatsappPricing>(&shared).await;
    let mut numbers = Vec::new();
    for q in quotes_at_once(&[&a, &b], 16).await {
        numbers.extend(reference_numbers(&q));
    }
    assert_eq!(numbers.len(), 64);
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        64,
        "every reference is unique across replicas"
    );
}
