use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_created_profile_is_normalised_and_readable() {
    let app = app().await;
    let p = expect(
        create(
            &app,
            json!({"whatsappE164": "0781234567", "name": "Aline", "email": "Aline@Example.com"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(p["whatsappE164"], "+250781234567");
    assert_eq!(p["displayName"], "Aline");
    assert_eq!(p["email"], "aline@example.com");
    assert_eq!(p["locale"], "en");
    assert_eq!(p["roles"], json!(["buyer"]));
    assert_eq!(p["tenantId"], "default");
    let id = p["id"].as_str().unwrap();
    let got = expect(
        get(&app, &format!("/api/v1/profiles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got, p);
}

#[tokio::test]
async fn contacts_without_a_number_are_first_class() {
    let app = app().await;
    let p = expect(
        create(&app, json!({"waUserId": "RW.1234567890"})).await,
        StatusCode::CREATED,
    )
    .await;
    assert!(p["whatsappE164"].is_null());
    let dup = expect(
        create(&app, json!({"waUserId": "RW.1234567890"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(dup["code"], "profile.identity_taken");
}

#[tokio::test]
async fn invalid_input_lists_every_field() {
    let app = app().await;
    let b = expect(
        create(
            &app,
            json!({"waUserId": "x", "email": "nope", "locale": "english!", "roles": ["king"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "request.invalid");
    let pointers: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, vec!["/email", "/locale", "/roles/0"]);
    let phone = expect(
        create(&app, json!({"whatsappE164": "12ab"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(phone["code"], "profile.invalid");
    assert_eq!(phone["errors"][0]["pointer"], "/whatsappE164");
    let empty = expect(
        create(&app, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(empty["errors"][0]["pointer"], "/whatsappE164");
    let unknown = expect(
        create(&app, json!({"waUserId": "a", "role": "admin"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(unknown["code"], "request.invalid");
}

#[tokio::test]
async fn malformed_json_is_400_not_500() {
    let app = app().await;
    let res = app
        .req(Method::POST, "/api/v1/profiles", &[WRITE])
        .header("content-type", "application/json")
        .body("{\"whatsappE164\": ")
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::BAD_REQUEST).await;
    let res = app
        .req(Method::POST, "/api/v1/profiles", &[WRITE])
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn the_same_number_twice_is_a_conflict_even_when_written_differently() {
    let app = app().await;
    create_ok(&app, "+250781234567").await;
    let b = expect(
        create(&app, json!({"whatsappE164": "078 123 4567"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(b["code"], "profile.identity_taken");
}

#[tokio::test]
async fn concurrent_creates_of_one_number_make_exactly_one_profile() {
    let app = app().await;
    let results = futures::future::join_all(
        (0..10).map(|_| create(&app, json!({"whatsappE164": "+250788000001"}))),
    )
    .await;
    let created = results
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    let conflicts = results
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 9));
}

#[tokio::test]
async fn an_idempotent_retry_replays_and_a_changed_body_is_refused() {
    let app = app().await;
    let send = |body: serde_json::Value| {
        app.req(Method::POST, "/api/v1/profiles", &[WRITE])
            .header("idempotency-key", "create-aline-0001")
            .json(&body)
            .send()
    };
    let first = send(json!({"whatsappE164": "+250781111111"}))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = body(first).await;
    let again = send(json!({"whatsappE164": "+250781111111"}))
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(body(again).await, first, "the replay is the first response");
    let other = send(json!({"whatsappE164": "+250782222222"}))
        .await
        .unwrap();
    let b = expect(other, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(b["code"], "profile.idempotency_key_reused");
    let short = app
        .req(Method::POST, "/api/v1/profiles", &[WRITE])
        .header("idempotency-key", "short")
        .json(&json!({"whatsappE164": "+250783333333"}))
        .send()
        .await
        .unwrap();
    expect(short, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn concurrent_duplicates_with_one_key_apply_once() {
    let app = app().await;
    let results = futures::future::join_all((0..8).map(|_| {
        app.req(Method::POST, "/api/v1/profiles", &[WRITE])
            .header("idempotency-key", "concurrent-key-0001")
            .json(&json!({"whatsappE164": "+250784444444"}))
            .send()
    }))
    .await;
    for r in &results {
        let s = r.as_ref().unwrap().status();
        assert!(s == StatusCode::CREATED || s == StatusCode::CONFLICT, "{s}");
    }
    let page = expect(
        get(&app, "/api/v1/profiles/search?phone=%2B250784444444").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["profiles"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_create_releases_its_idempotency_key() {
    let app = app().await;
    create_ok(&app, "+250785555555").await;
    let send = |phone: &str| {
        app.req(Method::POST, "/api/v1/profiles", &[WRITE])
            .header("idempotency-key", "release-key-00001")
            .json(&json!({"whatsappE164": phone}))
            .send()
    };
    expect(send("+250785555555").await.unwrap(), StatusCode::CONFLICT).await;
    // Nothing was applied, so the same key with the same body runs again rather than replaying.
    expect(send("+250785555555").await.unwrap(), StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn update_changes_only_given_fields_and_needs_one() {
    let app = app().await;
    let p = create_ok(&app, "+250781234567").await;
    let id = p["id"].as_str().unwrap();
    let path = format!("/api/v1/profiles/{id}");
    let res = app
        .req(Method::PUT, &path, &[WRITE])
        .json(&json!({"name": "Jean", "locale": "rw"}))
        .send()
        .await
        .unwrap();
    let u = expect(res, StatusCode::OK).await;
    assert_eq!(u["displayName"], "Jean");
    assert_eq!(u["locale"], "rw");
    assert_eq!(u["whatsappE164"], "+250781234567");
    let res = app
        .req(Method::PATCH, &path, &[WRITE])
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let res = app
        .req(Method::PUT, "/api/v1/profiles/01NOPE", &[WRITE])
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn updating_to_a_taken_number_is_a_conflict() {
    let app = app().await;
    create_ok(&app, "+250781000001").await;
    let b = create_ok(&app, "+250781000002").await;
    let path = format!("/api/v1/profiles/{}", b["id"].as_str().unwrap());
    let res = app
        .req(Method::PUT, &path, &[WRITE])
        .json(&json!({"whatsappE164": "+250781000001"}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn deleted_profiles_vanish_and_free_their_number() {
    let app = app().await;
    let p = create_ok(&app, "+250781234567").await;
    let path = format!("/api/v1/profiles/{}", p["id"].as_str().unwrap());
    let res = app
        .req(Method::DELETE, &path, &[WRITE])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect(get(&app, &path).await, StatusCode::NOT_FOUND).await;
    let again = app
        .req(Method::DELETE, &path, &[WRITE])
        .send()
        .await
        .unwrap();
    expect(again, StatusCode::NOT_FOUND).await;
    create_ok(&app, "+250781234567").await;
}

#[tokio::test]
async fn search_filters_escape_wildcards_and_pages_by_cursor() {
    let app = app().await;
    for (i, name) in ["Aline Uwase", "Jean Aline", "100% Mama", "Eric"]
        .iter()
        .enumerate()
    {
        let res = create(
            &app,
            json!({"whatsappE164": format!("+25078100000{i}"), "name": name}),
        )
        .await;
        expect(res, StatusCode::CREATED).await;
    }
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["displayName"].as_str().unwrap().to_owned())
            .collect()
    };
    let hits = expect(
        get(&app, "/api/v1/profiles/search?name=aline").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        names(&hits),
        vec!["Jean Aline", "Aline Uwase"],
        "newest first, case-insensitive"
    );
    let pct = expect(
        get(&app, "/api/v1/profiles/search?name=100%25").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&pct), vec!["100% Mama"]);
    let wildcard = expect(
        get(&app, "/api/v1/profiles/search?name=%25").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        names(&wildcard),
        vec!["100% Mama"],
        "% is a literal, not a wildcard"
    );
    let by_phone = expect(
        get(&app, "/api/v1/profiles/search?phone=0781000003").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&by_phone), vec!["Eric"]);

    let mut seen = Vec::new();
    let mut path = "/api/v1/profiles/search?limit=3".to_owned();
    loop {
        let page = expect(get(&app, &path).await, StatusCode::OK).await;
        seen.extend(names(&page));
        match page["nextCursor"].as_str() {
            Some(c) => path = format!("/api/v1/profiles/search?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4);
    expect(
        get(&app, "/api/v1/profiles/search?limit=150").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect(
        get(&app, "/api/v1/profiles/search?limit=ten").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn tenant_bound_tokens_see_only_their_tenant() {
    let app = app().await;
    let other = expect(
        create(
            &app,
            json!({"whatsappE164": "+250781234567", "tenantId": "t2"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(other["tenantId"], "t2");
    let path = format!("/api/v1/profiles/{}", other["id"].as_str().unwrap());
    let t1 = app.tenant_token("t1", &[READ, WRITE]);
    let res = app
        .anon(Method::GET, &path)
        .bearer_auth(&t1)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    let res = app
        .anon(Method::POST, "/api/v1/profiles")
        .bearer_auth(&t1)
        .json(&json!({"whatsappE164": "+250789999999", "tenantId": "t2"}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::FORBIDDEN).await;
    let t2 = app.tenant_token("t2", &[READ]);
    let res = app
        .anon(Method::GET, &path)
        .bearer_auth(&t2)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await;
}

#[tokio::test]
async fn changes_are_published_once_through_the_outbox() {
    let app = app().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<contracts::Envelope>::new()));
    let sink = seen.clone();
    let stop = tokio_util_token();
    app.bus.subscribe(
        bus::Subscription::new(
            "test",
            &[
                contracts::profile::PROFILE_CREATED,
                contracts::profile::PROFILE_UPDATED,
            ],
        ),
        bus::handler(move |e| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(e);
                Ok(())
            }
        }),
        stop.clone(),
    );
    let p = create_ok(&app, "+250781234567").await;
    let path = format!("/api/v1/profiles/{}", p["id"].as_str().unwrap());
    let res = app
        .req(Method::PUT, &path, &[WRITE])
        .json(&json!({"name": "Aline"}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await;
    let events = testkit::eventually(Duration::from_secs(10), || {
        let seen = seen.clone();
        async move {
            let s = seen.lock().unwrap();
            (s.len() >= 2).then(|| s.clone())
        }
    })
    .await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].kind, "profile.created");
    assert_eq!(events[1].kind, "profile.updated");
    assert_eq!(events[1].data["changed"], json!(["displayName"]));
    assert_eq!(events[1].data["profile"]["displayName"], "Aline");
    stop.cancel();
}

fn tokio_util_token() -> tokio_util::sync::CancellationToken {
    tokio_util::sync::CancellationToken::new()
}

#[tokio::test]
async fn data_survives_a_restart() {
    let app = app().await;
    let p = create_ok(&app, "+250781234567").await;
    let app = app.restart::<profile::Profile>().await;
    let path = format!("/api/v1/profiles/{}", p["id"].as_str().unwrap());
    expect(get(&app, &path).await, StatusCode::OK).await;
}

#[tokio::test]
async fn reads_after_a_write_never_serve_the_old_profile() {
    let app = app().await;
    let p = create_ok(&app, "+250781234567").await;
    let path = format!("/api/v1/profiles/{}", p["id"].as_str().unwrap());
    expect(get(&app, &path).await, StatusCode::OK).await;
    expect(get(&app, &path).await, StatusCode::OK).await;
    let res = app
        .req(Method::PATCH, &path, &[WRITE])
        .json(&json!({"name": "Aline"}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await;
    let got = expect(get(&app, &path).await, StatusCode::OK).await;
    assert_eq!(got["displayName"], "Aline");
    let res = app
        .req(Method::DELETE, &path, &[WRITE])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect(get(&app, &path).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_cached_profile_is_still_hidden_from_other_tenants() {
    let app = app().await;
    let p = expect(
        create(
            &app,
            json!({"whatsappE164": "+250781234567", "tenantId": "t2"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/v1/profiles/{}", p["id"].as_str().unwrap());
    expect(get(&app, &path).await, StatusCode::OK).await;
    let t1 = app.tenant_token("t1", &[READ]);
    let res = app
        .anon(Method::GET, &path)
        .bearer_auth(&t1)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
}
