//! `GET /v1/paylink`: the MoMo USSD string and an encoded `tel:` link from the stored quote.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_paylink_uses_the_stored_amount_and_reference_and_encodes_the_hash() {
    let app = app().await;
    let q = quote_ok(&app, &car()).await;
    let id = q["id"].as_str().unwrap();
    let reference = offer(&q, "old-mutual")["paymentReference"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = expect(
        get(
            &app,
            &format!("/v1/paylink?quoteId={id}&insurer=old-mutual"),
            &[QUOTE],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p["amount"], 804_600);
    assert_eq!(p["reference"], reference.as_str());
    assert_eq!(p["merchantCode"], "000245");
    assert_eq!(p["insurerName"], "Old Mutual Rwanda");
    let ussd = format!("*182*8*1*000245*804600*{reference}#");
    assert_eq!(p["ussd"], ussd.as_str());
    assert_eq!(
        p["tel"],
        format!("tel:*182*8*1*000245*804600*{reference}%23")
    );
    assert!(!p["tel"].as_str().unwrap().contains('#'));
}

#[tokio::test]
async fn a_declined_unknown_or_missing_quote_has_no_paylink() {
    let app = app().await;
    let body =
        json!({"sumInsured": 0, "category": "TRACTOR", "usage": "PRIVATE", "cover": "TP_ONLY"});
    let q = quote_ok(&app, &body).await;
    let id = q["id"].as_str().unwrap();
    let b = expect(
        get(
            &app,
            &format!("/v1/paylink?quoteId={id}&insurer=bk"),
            &[QUOTE],
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(b["code"], "whatsapp-pricing.not_quoted");
    let b = expect(
        get(
            &app,
            &format!("/v1/paylink?quoteId={id}&insurer=acme"),
            &[QUOTE],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["errors"][0]["pointer"], "insurer");
    let b = expect(
        get(&app, "/v1/paylink?quoteId=nope&insurer=bk", &[QUOTE]).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(b["code"], "whatsapp-pricing.quote_not_found");
    expect(
        get(&app, "/v1/paylink?insurer=bk", &[QUOTE]).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}
