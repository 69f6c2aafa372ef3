//! What the kit guarantees, seen through this service, and the service's own metrics.

use reqwest::{Method, StatusCode};

use crate::helpers::*;

#[tokio::test]
async fn ready_checks_the_database_and_both_dependencies_and_metrics_show_the_saga() {
    let w = World::new().await;
    let r = expect(
        w.app.anon(Method::GET, "/ready").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["checks"]["database"]["status"], "ok");
    assert_eq!(r["checks"]["dependency:wallet"]["status"], "ok");
    assert_eq!(r["checks"]["dependency:vendor"]["status"], "ok");
    let (_, _, _, quote) = w.setup(1000, 600).await;
    let id = w.purchase(&quote).await;
    w.wait_purchase(&id, "accepted").await;
    let text = w
        .app
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "buyer_purchases_total",
        "buyer_saga_step_duration_seconds",
        "buyer_intents_total",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    let doc = expect(
        w.app
            .anon(Method::GET, "/openapi.json")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(doc["paths"]["/purchases/{id}/confirm"].is_object());
}

#[tokio::test]
async fn a_dead_saga_job_is_listed_and_replayed_by_an_operator() {
    let w = World::with(&[("BUYER_SAGA_MAX_ATTEMPTS", "2")]).await;
    let (_, account, _, quote) = w.setup(1000, 600).await;
    w.vendor.set_down(true);
    let id = w.purchase(&quote).await;
    let q = testkit::eventually(std::time::Duration::from_secs(20), || async {
        let res = w
            .app
            .req(Method::GET, "/admin/saga", &["buyer:admin"])
            .send()
            .await
            .unwrap();
        let q = expect(res, StatusCode::OK).await;
        (q["dead"] == 1).then_some(q)
    })
    .await;
    let job = &q["deadJobs"][0];
    assert_eq!(job["payload"]["kind"], "advance");
    assert_eq!(job["payload"]["purchase_id"], id.as_str());
    assert!(
        job["lastError"].as_str().unwrap().contains("vendor"),
        "{job}"
    );
    assert_eq!(
        w.get(&format!("/purchases/{id}")).await["status"],
        "reserved"
    );
    // Only an untethered operator token may replay.
    let res = w
        .app
        .req(Method::POST, "/admin/saga/replay", &[WRITE])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::FORBIDDEN).await;
    let res = w
        .app
        .anon(Method::POST, "/admin/saga/replay")
        .bearer_auth(w.app.tenant_token(TENANT, &["buyer:admin"]))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::FORBIDDEN).await;
    w.vendor.set_down(false);
    let res = w
        .app
        .req(Method::POST, "/admin/saga/replay", &["buyer:admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(expect(res, StatusCode::OK).await["count"], 1);
    w.wait_purchase(&id, "accepted").await;
    assert_eq!(
        w.balances(&account).await,
        (1000, 600, 400),
        "reserved once"
    );
}
