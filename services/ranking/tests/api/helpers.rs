use std::time::Duration;

use contracts::marketplace::{
    BUYER_PURCHASE_SETTLED, PurchaseSettled, QuoteAccepted, VENDOR_CREATED, VENDOR_QUOTE_ACCEPTED,
    VendorChanged,
};
use ranking::Ranking;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
pub use testkit::TestApp;

pub const READ: &str = "ranking:read";
pub const FEEDBACK: &str = "ranking:feedback.write";
pub const ADMIN: &str = "ranking:admin";
pub const TENANT: &str = "default";

pub async fn app() -> TestApp {
    TestApp::spawn::<Ranking>().await
}

/// Asserts the status and returns the body.
pub async fn expect(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON")
    }
}

pub async fn get(app: &TestApp, path: &str) -> Value {
    expect(
        app.req(Method::GET, path, &[READ]).send().await.unwrap(),
        StatusCode::OK,
    )
    .await
}

pub fn vendor(id: &str, region: &str, cats: &[&str], rating: Option<f64>) -> VendorChanged {
    VendorChanged {
        vendor_id: id.to_owned(),
        tenant_id: TENANT.to_owned(),
        name: Some(format!("Vendor {id}")),
        region: region.to_owned(),
        categories: cats.iter().map(|c| (*c).to_owned()).collect(),
        rating,
        fulfilment_rate: None,
        wallet_account_id: None,
    }
}

pub fn envelope(kind: &str, tenant: &str, data: impl serde::Serialize) -> bus::Envelope {
    bus::Envelope::new(kind, "test", tenant, data).unwrap()
}

pub async fn publish(app: &TestApp, e: &bus::Envelope) {
    app.bus.publish(e).await.unwrap();
}

/// Publishes a vendor and waits until it is ranked.
pub async fn seed_vendor(app: &TestApp, v: VendorChanged) {
    let tenant = v.tenant_id.clone();
    let id = v.vendor_id.clone();
    publish(app, &envelope(VENDOR_CREATED, &tenant, v)).await;
    wait_for(app, &tenant, |list| {
        list.iter().any(|x| x["vendorId"] == id.as_str())
    })
    .await;
}

/// Waits until the tenant's ranking satisfies `f`; returns it.
pub async fn wait_for(app: &TestApp, tenant: &str, f: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let path = format!("/ranking/vendors?tenantId={tenant}&limit=100&explain=true");
    testkit::eventually(Duration::from_secs(10), || async {
        let body = get(app, &path).await;
        let list = body["vendors"].as_array().cloned().unwrap_or_default();
        f(&list).then_some(list)
    })
    .await
}

pub fn accepted(quote: &str, vendor: &str, buyer: &str) -> bus::Envelope {
    envelope(
        VENDOR_QUOTE_ACCEPTED,
        TENANT,
        QuoteAccepted {
            quote_id: quote.to_owned(),
            intent_id: "intent-1".to_owned(),
            vendor_id: vendor.to_owned(),
            buyer_id: buyer.to_owned(),
            accepted_at: chrono::Utc::now(),
        },
    )
}

pub fn settled(purchase: &str, vendor: &str, buyer: &str) -> bus::Envelope {
    envelope(
        BUYER_PURCHASE_SETTLED,
        TENANT,
        PurchaseSettled {
            purchase_id: purchase.to_owned(),
            quote_id: format!("q-{purchase}"),
            vendor_id: vendor.to_owned(),
            buyer_id: buyer.to_owned(),
            amount_minor: 1000,
            asset: "TOKEN".to_owned(),
            settled_at: chrono::Utc::now(),
        },
    )
}
