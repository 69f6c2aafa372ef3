//! `GET /ranking/vendors` and `POST /ranking/feedback`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn scopes_are_enforced_as_in_spec_4_7() {
    let app = app().await;
    let res = app
        .anon(Method::GET, "/ranking/vendors")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::UNAUTHORIZED).await["code"],
        "auth.missing_token"
    );
    let res = app
        .req(Method::GET, "/ranking/vendors", &[FEEDBACK])
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::FORBIDDEN).await["code"],
        "auth.invalid_scope"
    );
    let body = get(&app, "/ranking/vendors").await;
    assert_eq!(body["vendors"], json!([]));
    // A tenant-bound token may not rank another tenant's vendors.
    let res = app
        .anon(Method::GET, "/ranking/vendors?tenantId=default")
        .bearer_auth(app.tenant_token("other", &[READ]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::FORBIDDEN).await["code"],
        "ranking.tenant_forbidden"
    );
}

#[tokio::test]
async fn the_list_filters_by_region_and_category_overlap_in_the_admin_shape() {
    let app = app().await;
    seed_vendor(&app, vendor("v1", "kigali", &["moto", "taxi"], Some(4.9))).await;
    seed_vendor(&app, vendor("v2", "kigali", &["cement"], Some(3.0))).await;
    seed_vendor(&app, vendor("v3", "huye", &["moto"], None)).await;
    let body = get(
        &app,
        "/ranking/vendors?region=kigali&categories=taxi,%20cement",
    )
    .await;
    let ids: Vec<_> = body["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vendorId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec!["v1", "v2"]);
    let v1 = &body["vendors"][0];
    assert_eq!(v1["id"], "v1");
    assert_eq!(v1["region"], "kigali");
    assert_eq!(v1["categories"], json!(["moto", "taxi"]));
    assert!(v1["rating"].is_f64() && v1["score"].is_f64());
    assert!(
        v1.get("components").is_none(),
        "components only with explain"
    );
    // `categories=,` is an empty list: it matches nothing.
    let none = get(&app, "/ranking/vendors?categories=,").await;
    assert_eq!(none["vendors"], json!([]));
    let moto = get(&app, "/ranking/vendors?categories=moto").await;
    assert_eq!(moto["vendors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn pages_follow_the_total_order_and_explain_shows_components() {
    let app = app().await;
    // Three equal scores (ties broken by id) and one better vendor.
    for id in ["c", "a", "b"] {
        seed_vendor(&app, vendor(id, "kigali", &["moto"], None)).await;
    }
    seed_vendor(&app, vendor("z", "kigali", &["moto"], Some(5.0))).await;
    let first = get(&app, "/ranking/vendors?limit=2&explain=true").await;
    let ids = |b: &serde_json::Value| -> Vec<String> {
        b["vendors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["vendorId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first), vec!["z", "a"]);
    let c = &first["vendors"][1]["components"];
    assert_eq!(c["experience"], 0.2);
    assert_eq!(c["liquidity"], 0.3);
    assert_eq!(first["vendors"][1]["score"], 0.485);
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let second = get(&app, &format!("/ranking/vendors?limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&second), vec!["b", "c"]);
    assert!(second["nextCursor"].is_null());
    let res = app
        .req(Method::GET, "/ranking/vendors?cursor=nonsense", &[READ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "ranking.invalid_cursor"
    );
}

#[tokio::test]
async fn feedback_keeps_a_running_average_and_hides_other_tenants() {
    let app = app().await;
    let id = "f7f034a8-b48d-4bcf-9b00-000000000001";
    let mut v = vendor(id, "kigali", &["moto"], Some(4.0));
    v.fulfilment_rate = Some(0.8);
    seed_vendor(&app, v).await;
    let post = |body: serde_json::Value| {
        app.req(Method::POST, "/ranking/feedback", &[FEEDBACK])
            .json(&body)
            .send()
    };
    let res = post(json!({"vendorId": id, "tenantId": TENANT, "scores": {"overall": 4}}))
        .await
        .unwrap();
    let body = expect(res, StatusCode::OK).await;
    assert_eq!(body["rating"], 4.0);
    assert_eq!(body["ratingCount"], 2);
    let res = post(json!({"vendorId": id, "scores": {"overall": 1}}))
        .await
        .unwrap();
    let body = expect(res, StatusCode::OK).await;
    assert_eq!(body["rating"], 3.0);
    assert_eq!(body["ratingCount"], 3);
    // A later profile update keeps the feedback.
    let mut renamed = vendor(id, "kigali", &["moto"], Some(4.0));
    renamed.name = Some("Renamed".to_owned());
    let update = envelope(contracts::marketplace::VENDOR_UPDATED, TENANT, renamed);
    publish(&app, &update).await;
    let list = wait_for(&app, TENANT, |l| l.iter().any(|v| v["name"] == "Renamed")).await;
    assert_eq!(list[0]["rating"], 3.0);
    assert_eq!(list[0]["ratingCount"], 3);
    // Another tenant (named, or by a bound token) does not see the vendor.
    let res = post(json!({"vendorId": id, "tenantId": "other", "scores": {"overall": 4}}))
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    let res = app
        .anon(Method::POST, "/ranking/feedback")
        .bearer_auth(app.tenant_token("other", &[FEEDBACK]))
        .json(&json!({"vendorId": id, "tenantId": TENANT, "scores": {"overall": 4}}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    let res = post(json!({"vendorId": id, "scores": {"overall": 6}}))
        .await
        .unwrap();
    expect(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let res = app
        .req(Method::POST, "/ranking/feedback", &[READ])
        .json(&json!({"vendorId": id, "scores": {"overall": 4}}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_retried_feedback_with_its_idempotency_key_counts_once() {
    let app = app().await;
    seed_vendor(&app, vendor("v1", "kigali", &["moto"], None)).await;
    let send = |overall: u8| {
        app.req(Method::POST, "/ranking/feedback", &[FEEDBACK])
            .header("Idempotency-Key", "feedback-key-0000000001")
            .json(&json!({"vendorId": "v1", "scores": {"overall": overall}}))
            .send()
    };
    let first = expect(send(5).await.unwrap(), StatusCode::OK).await;
    let again = expect(send(5).await.unwrap(), StatusCode::OK).await;
    assert_eq!(first, again);
    assert_eq!(again["ratingCount"], 1);
    assert_eq!(again["rating"], 5.0);
    let res = send(1).await.unwrap();
    assert_eq!(
        expect(res, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "ranking.idempotency_key_reused"
    );
}

#[tokio::test]
async fn vendors_past_the_candidate_limit_are_counted_and_the_rest_still_ranked() {
    let app = TestApp::spawn_with::<ranking::Ranking>(&[("RANKING_MAX_CANDIDATES", "2")]).await;
    for id in ["v-1", "v-2", "v-3"] {
        publish(
            &app,
            &envelope(
                contracts::marketplace::VENDOR_CREATED,
                TENANT,
                vendor(id, "kigali", &["moto"], Some(4.0)),
            ),
        )
        .await;
    }
    // The projection holds all three; ranking holds the first two by id and counts the cut.
    testkit::eventually(std::time::Duration::from_secs(10), || async {
        let list = get(&app, &format!("/ranking/vendors?tenantId={TENANT}")).await;
        let res = app.anon(Method::GET, "/metrics").send().await.unwrap();
        let text = res.text().await.unwrap();
        let cut = text
            .lines()
            .any(|l| l.starts_with("ranking_candidates_truncated_total") && !l.ends_with(" 0"));
        (cut && list["vendors"].as_array().is_some_and(|v| v.len() == 2)).then_some(list)
    })
    .await;
    let list = get(&app, &format!("/ranking/vendors?tenantId={TENANT}")).await;
    let ids: Vec<&str> = list["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["vendorId"].as_str())
        .collect();
    assert_eq!(ids, ["v-1", "v-2"]);
}
