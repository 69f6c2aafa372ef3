//! The projection fed by events on the bus, each applied once.

use contracts::marketplace::{QuoteCreated, VENDOR_QUOTE_CREATED, VENDOR_UPDATED};
use contracts::wallet::{Leg, TRANSFER_COMPLETED, Transfer, TransferEvent};

use crate::helpers::*;

fn transfer(account: &str, amount: i64) -> bus::Envelope {
    let t = Transfer {
        id: ulid::Ulid::generate().to_string(),
        tenant_id: TENANT.to_owned(),
        kind: "purchase".to_owned(),
        asset: "TOKEN".to_owned(),
        state: "posted".to_owned(),
        legs: vec![
            Leg {
                account_id: "buyer-acct".to_owned(),
                amount_minor: -amount,
            },
            Leg {
                account_id: account.to_owned(),
                amount_minor: amount,
            },
        ],
        reference: None,
        reverses_id: None,
        timeout_at: None,
        created_at: chrono::Utc::now(),
    };
    envelope(
        TRANSFER_COMPLETED,
        TENANT,
        TransferEvent {
            transfer: t,
            posted_minor: Some(amount),
        },
    )
}

fn find<'a>(list: &'a [serde_json::Value], id: &str) -> Option<&'a serde_json::Value> {
    list.iter().find(|v| v["vendorId"] == id)
}

#[tokio::test]
async fn each_event_is_applied_once_even_when_published_twice() {
    let app = app().await;
    let mut v = vendor("v1", "kigali", &["moto"], None);
    v.wallet_account_id = Some("acct-v1".to_owned());
    seed_vendor(&app, v).await;
    for e in [
        accepted("q1", "v1", "b1"),
        settled("p1", "v1", "b1"),
        transfer("acct-v1", 5_000),
    ] {
        publish(&app, &e).await;
        publish(&app, &e).await;
    }
    let quote = envelope(
        VENDOR_QUOTE_CREATED,
        TENANT,
        QuoteCreated {
            quote_id: "q1".to_owned(),
            intent_id: "i1".to_owned(),
            vendor_id: "v1".to_owned(),
            response_ms: Some(1500),
            created_at: chrono::Utc::now(),
        },
    );
    publish(&app, &quote).await;
    publish(&app, &quote).await;
    // A marker event published last: once it shows, the duplicates before it were handled.
    publish(&app, &settled("p2", "v1", "b1")).await;
    let list = wait_for(&app, TENANT, |l| {
        find(l, "v1").is_some_and(|v| v["totalTrips"] == 2)
    })
    .await;
    let v1 = find(&list, "v1").unwrap();
    assert_eq!(v1["recentTrips"], 1);
    assert_eq!(v1["balanceMinor"], 5_000);
    assert_eq!(v1["avgResponseMs"], 1500);
    assert_eq!(v1["components"]["response"], 1.0);
}

#[tokio::test]
async fn signals_arriving_before_the_vendor_are_kept_and_other_tenants_are_separate() {
    let app = app().await;
    publish(&app, &settled("p1", "early", "b1")).await;
    let mut v = vendor("early", "kigali", &["moto"], Some(4.0));
    publish(&app, &envelope(VENDOR_UPDATED, TENANT, v.clone())).await;
    let list = wait_for(&app, TENANT, |l| find(l, "early").is_some()).await;
    assert_eq!(find(&list, "early").unwrap()["totalTrips"], 1);
    v.vendor_id = "elsewhere".to_owned();
    v.tenant_id = "t2".to_owned();
    seed_vendor(&app, v).await;
    let mine = get(&app, "/ranking/vendors").await;
    assert!(find(mine["vendors"].as_array().unwrap(), "elsewhere").is_none());
}
