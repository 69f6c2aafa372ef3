use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

fn home() -> serde_json::Value {
    json!({"label": "home", "latitude": -1.9536, "longitude": 30.1047, "address": "Kigali, Rwanda"})
}

#[tokio::test]
async fn locations_are_saved_listed_newest_first_and_deleted() {
    let app = app().await;
    let p = create_ok(&app, "+250781234567").await;
    let base = format!("/api/v1/profiles/{}/locations", p["id"].as_str().unwrap());
    let res = app
        .req(Method::POST, &base, &[WRITE])
        .json(&home())
        .send()
        .await
        .unwrap();
    let h = expect(res, StatusCode::CREATED).await;
    assert_eq!(h["latitude"], -1.9536);
    let res = app
        .req(Method::POST, &base, &[WRITE])
        .json(&json!({"label": "work", "latitude": -1.95, "longitude": 30.06}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::CREATED).await;
    let list = expect(get(&app, &base).await, StatusCode::OK).await;
    let labels: Vec<&str> = list["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["work", "home"]);

    let one = format!("{base}/{}", h["id"].as_str().unwrap());
    let res = app
        .req(Method::DELETE, &one, &[WRITE])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .req(Method::DELETE, &one, &[WRITE])
        .send()
        .await
        .unwrap();
    let b = expect(res, StatusCode::NOT_FOUND).await;
    assert_eq!(b["code"], "profile.location_not_found");
}

#[tokio::test]
async fn a_duplicate_label_is_a_conflict() {
    let app = app().await;
    let p = create_ok(&app, "+250781234567").await;
    let base = format!("/api/v1/profiles/{}/locations", p["id"].as_str().unwrap());
    let res = app
        .req(Method::POST, &base, &[WRITE])
        .json(&home())
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::CREATED).await;
    let res = app
        .req(Method::POST, &base, &[WRITE])
        .json(&home())
        .send()
        .await
        .unwrap();
    let b = expect(res, StatusCode::CONFLICT).await;
    assert_eq!(b["code"], "profile.location_label_taken");
}

#[tokio::test]
async fn unknown_profiles_are_404_not_500() {
    let app = app().await;
    let base = "/api/v1/profiles/01UNKNOWN/locations";
    expect(get(&app, base).await, StatusCode::NOT_FOUND).await;
    let res = app
        .req(Method::POST, base, &[WRITE])
        .json(&home())
        .send()
        .await
        .unwrap();
    let b = expect(res, StatusCode::NOT_FOUND).await;
    assert_eq!(b["code"], "profile.not_found");
}

#[tokio::test]
async fn out_of_range_coordinates_are_refused() {
    let app = app().await;
    let p = create_ok(&app, "+250781234567").await;
    let base = format!("/api/v1/profiles/{}/locations", p["id"].as_str().unwrap());
    let res = app
        .req(Method::POST, &base, &[WRITE])
        .json(&json!({"label": "", "latitude": 100, "longitude": 200}))
        .send()
        .await
        .unwrap();
    let b = expect(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(b["errors"].as_array().unwrap().len(), 3);
}
