use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_transfer_moves_the_amount_exactly_once_and_is_recorded() {
    let app = app().await;
    let (buyer, _platform) = funded(&app, "b1", 1000).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let t = expect(
        transfer(&app, &buyer, &vendor, 250).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(t["state"], "posted");
    assert!(t["id"].as_str().is_some());
    assert_eq!(balances(&app, &buyer).await, (750, 0, 750));
    assert_eq!(balances(&app, &vendor).await, (250, 0, 250));
    let statement = account(&app, &vendor).await;
    assert_eq!(statement["postings"][0]["amountMinor"], 250);
    assert_eq!(statement["postings"][0]["transferId"], t["id"]);
    let got = app
        .req(
            Method::GET,
            &format!("/wallet/transfers/{}", t["id"].as_str().unwrap()),
            &[READ],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(got, StatusCode::OK).await["legs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_sound(&app).await;
}

#[tokio::test]
async fn an_overdraft_is_refused_and_writes_nothing() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 100).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let b = expect(
        transfer(&app, &buyer, &vendor, 101).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "wallet.insufficient_funds");
    assert_eq!(balances(&app, &buyer).await, (100, 0, 100));
    assert_eq!(balances(&app, &vendor).await, (0, 0, 0));
    assert!(
        account(&app, &vendor).await["postings"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn ten_concurrent_transfers_of_100_from_500_exactly_five_succeed() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 500).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let results =
        futures::future::join_all((0..10).map(|_| transfer(&app, &buyer, &vendor, 100))).await;
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    let refused = results
        .iter()
        .filter(|r| r.status() == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!((ok, refused), (5, 5));
    assert_eq!(balances(&app, &buyer).await, (0, 0, 0));
    assert_eq!(balances(&app, &vendor).await, (500, 0, 500));
    assert_sound(&app).await;
}

#[tokio::test]
async fn a_purchase_with_a_commission_split_is_atomic() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 100).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let commission = open(&app, "commission", "c1", "TOKEN").await;
    let legs = |amount: i64| {
        json!({"asset": "TOKEN", "kind": "purchase", "legs": [
            {"accountId": buyer, "amountMinor": -amount},
            {"accountId": vendor, "amountMinor": amount * 95 / 100},
            {"accountId": commission, "amountMinor": amount * 5 / 100},
        ]})
    };
    let too_much = post(&app, "/wallet/transfer", legs(200), Some(&key())).await;
    assert_eq!(too_much.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        balances(&app, &vendor).await.0,
        0,
        "nothing of a refused split lands"
    );
    expect(
        post(&app, "/wallet/transfer", legs(100), Some(&key())).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(balances(&app, &buyer).await.0, 0);
    assert_eq!(balances(&app, &vendor).await.0, 95);
    assert_eq!(balances(&app, &commission).await.0, 5);
    let unbalanced = json!({"asset": "TOKEN", "legs": [{"accountId": vendor, "amountMinor": -10}, {"accountId": buyer, "amountMinor": 9}]});
    let b = expect(
        post(&app, "/wallet/transfer", unbalanced, Some(&key())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "request.invalid");
    assert_sound(&app).await;
}

#[tokio::test]
async fn assets_tenants_and_unknown_accounts_are_checked() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 100).await;
    let rwf = open(&app, "vendor", "v1", "RWF").await;
    let b = expect(
        transfer(&app, &buyer, &rwf, 10).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "wallet.asset_mismatch");
    let b = expect(
        transfer(&app, &buyer, "01NOPE", 10).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(b["code"], "wallet.account_not_found");
    let other_tenant = app.tenant_token("t2", ALL);
    let res = app
        .anon(Method::GET, &format!("/wallet/accounts/{buyer}"))
        .bearer_auth(&other_tenant)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    let res = app
        .anon(Method::POST, "/wallet/transfer")
        .bearer_auth(&other_tenant)
        .header("idempotency-key", key())
        .json(&json!({"sourceAccountId": buyer, "destinationAccountId": rwf, "amountMinor": 1, "asset": "TOKEN"}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn money_routes_require_an_idempotency_key_and_the_right_scope() {
    let app = app().await;
    let (buyer, platform) = funded(&app, "b1", 100).await;
    let body = json!({"sourceAccountId": buyer, "destinationAccountId": platform, "amountMinor": 1, "asset": "TOKEN"});
    let b = expect(
        post(&app, "/wallet/transfer", body.clone(), None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(b["code"], "wallet.idempotency_key_missing");
    let short = post(&app, "/wallet/transfer", body.clone(), Some("short")).await;
    expect(short, StatusCode::BAD_REQUEST).await;
    let res = app
        .req(Method::POST, "/wallet/transfer", &[READ])
        .header("idempotency-key", key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::FORBIDDEN).await["code"],
        "auth.invalid_scope"
    );
}

#[tokio::test]
async fn a_replay_returns_the_first_answer_and_another_body_is_refused() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 500).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let k = key();
    let body = |amount: i64| json!({"sourceAccountId": buyer, "destinationAccountId": vendor, "amountMinor": amount, "asset": "TOKEN"});
    let first = post(&app, "/wallet/transfer", body(100), Some(&k)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_text = first.text().await.unwrap();
    let again = post(&app, "/wallet/transfer", body(100), Some(&k)).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first_text, "byte for byte");
    let other = expect(
        post(&app, "/wallet/transfer", body(200), Some(&k)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(other["code"], "wallet.idempotency_key_reused");
    assert_eq!(balances(&app, &buyer).await.0, 400, "charged once");
    // A refusal is an answer too: replayed, not re-run.
    let k2 = key();
    let r1 = expect(
        post(&app, "/wallet/transfer", body(10_000), Some(&k2)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let r2 = post(&app, "/wallet/transfer", body(10_000), Some(&k2)).await;
    assert_eq!(r2.headers()["idempotent-replayed"], "true");
    assert_eq!(expect(r2, StatusCode::UNPROCESSABLE_ENTITY).await, r1);
}

#[tokio::test]
async fn concurrent_duplicates_with_one_key_charge_once() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 500).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let k = key();
    let body = json!({"sourceAccountId": buyer, "destinationAccountId": vendor, "amountMinor": 100, "asset": "TOKEN"});
    let results = futures::future::join_all(
        (0..16).map(|_| post(&app, "/wallet/transfer", body.clone(), Some(&k))),
    )
    .await;
    for r in &results {
        assert!(
            matches!(r.status(), StatusCode::CREATED | StatusCode::CONFLICT),
            "{}",
            r.status()
        );
    }
    assert_eq!(balances(&app, &buyer).await.0, 400);
    assert_eq!(balances(&app, &vendor).await.0, 100);
}

#[tokio::test]
async fn a_transfer_is_reversed_once_by_a_compensating_transfer() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 300).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let t = expect(
        transfer(&app, &buyer, &vendor, 200).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/wallet/transfers/{}/reversal", t["id"].as_str().unwrap());
    let r = expect(
        post(
            &app,
            &path,
            json!({"reason": "customer refund"}),
            Some(&key()),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(r["reversesId"], t["id"]);
    assert_eq!(r["kind"], "reversal");
    assert_eq!(balances(&app, &buyer).await.0, 300);
    assert_eq!(balances(&app, &vendor).await.0, 0);
    let again = expect(
        post(&app, &path, json!({}), Some(&key())).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "wallet.already_reversed");
    let of_reversal = format!("/wallet/transfers/{}/reversal", r["id"].as_str().unwrap());
    expect(
        post(&app, &of_reversal, json!({}), Some(&key())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_sound(&app).await;
}

#[tokio::test]
async fn posted_transfers_are_published_through_the_outbox() {
    let app = app().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<bus::Envelope>::new()));
    let sink = seen.clone();
    let stop = tokio_util::sync::CancellationToken::new();
    app.bus.subscribe(
        bus::Subscription::new("test", &[contracts::wallet::TRANSFER_COMPLETED]),
        bus::handler(move |e| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(e);
                Ok(())
            }
        }),
        stop.clone(),
    );
    let (buyer, _) = funded(&app, "b1", 100).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let t = expect(
        transfer(&app, &buyer, &vendor, 40).await,
        StatusCode::CREATED,
    )
    .await;
    let events = testkit::eventually(std::time::Duration::from_secs(10), || {
        let seen = seen.clone();
        async move {
            let s = seen.lock().unwrap();
            (s.len() >= 2).then(|| s.clone())
        }
    })
    .await;
    assert_eq!(events[1].data["transfer"]["id"], t["id"]);
    assert_eq!(events[1].data["postedMinor"], 40);
    stop.cancel();
}

#[tokio::test]
async fn concurrent_reversals_of_one_transfer_reverse_it_once() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 300).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let t = expect(
        transfer(&app, &buyer, &vendor, 200).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/wallet/transfers/{}/reversal", t["id"].as_str().unwrap());
    let keys: Vec<String> = (0..6).map(|_| key()).collect();
    let results =
        futures::future::join_all(keys.iter().map(|k| post(&app, &path, json!({}), Some(k)))).await;
    let created = results
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1);
    assert!(
        results
            .iter()
            .all(|r| matches!(r.status(), StatusCode::CREATED | StatusCode::CONFLICT))
    );
    assert_eq!(balances(&app, &buyer).await.0, 300);
    assert_eq!(balances(&app, &vendor).await.0, 0);
    assert_sound(&app).await;
}
