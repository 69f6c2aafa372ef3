//! `X-Hub-Signature-256` over the raw body: the §1.7 cases, plus raw versus re-serialised JSON.

use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha256;
use whatsapp::{AppSecret, SignatureError};

use crate::helpers::fixture;

const SECRET: &str = "meta-app-secret";

fn secret() -> AppSecret {
    AppSecret::new(&SecretString::from(SECRET)).unwrap()
}

/// The header Meta sends, computed here without the crate's code.
fn meta_header(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn a_valid_signature_passes() {
    let body = fixture("text.json");
    let header = meta_header(SECRET, &body);
    assert_eq!(secret().verify(Some(&header), &body), Ok(()));
    assert_eq!(secret().sign(&body), header);
}

#[test]
fn a_known_vector_computed_outside_rust_verifies() {
    // HMAC-SHA256("meta-app-secret", non_ascii.json) as computed by Python's hmac module.
    let header = "sha256=b99b2b00211fcdd9e12bcd8b6c68c1b592359ea9419f06d19a2a6abd9422fd02";
    assert_eq!(
        secret().verify(Some(header), &fixture("non_ascii.json")),
        Ok(())
    );
}

#[test]
fn a_signature_made_with_another_secret_is_refused() {
    let body = fixture("text.json");
    let forged = meta_header("not-the-secret", &body);
    assert_eq!(
        secret().verify(Some(&forged), &body),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_missing_or_empty_header_is_refused() {
    let body = fixture("text.json");
    assert_eq!(secret().verify(None, &body), Err(SignatureError::Missing));
    assert_eq!(
        secret().verify(Some(""), &body),
        Err(SignatureError::Missing)
    );
    assert_eq!(
        secret().verify(Some("   "), &body),
        Err(SignatureError::Missing)
    );
}

#[test]
fn a_truncated_or_overlong_signature_is_refused() {
    let body = fixture("text.json");
    let good = meta_header(SECRET, &body);
    for bad in [
        &good[..good.len() - 1],
        &good[..good.len() - 2],
        &good[..20],
        "sha256=",
        "sha256=abc",
    ] {
        assert_eq!(
            secret().verify(Some(bad), &body),
            Err(SignatureError::Malformed),
            "{bad}"
        );
    }
    let long = format!("sha256={}", "a".repeat(1000));
    assert_eq!(
        secret().verify(Some(&long), &body),
        Err(SignatureError::Malformed)
    );
    let not_hex = format!("sha256={}", "z".repeat(64));
    assert_eq!(
        secret().verify(Some(&not_hex), &body),
        Err(SignatureError::Malformed)
    );
}

#[test]
fn a_wrong_prefix_is_refused() {
    let body = fixture("text.json");
    let hex_part = meta_header(SECRET, &body)["sha256=".len()..].to_owned();
    for bad in [
        hex_part.clone(),
        format!("sha1={hex_part}"),
        format!("md5={hex_part}"),
        format!("SHA256={hex_part}"),
        format!("sha256:{hex_part}"),
    ] {
        assert_eq!(
            secret().verify(Some(&bad), &body),
            Err(SignatureError::Malformed),
            "{bad}"
        );
    }
}

#[test]
fn a_replayed_body_with_another_deliverys_signature_is_refused() {
    let first = fixture("text.json");
    let second = fixture("image.json");
    let sig_of_first = meta_header(SECRET, &first);
    assert_eq!(
        secret().verify(Some(&sig_of_first), &second),
        Err(SignatureError::Mismatch)
    );
    // One changed byte is enough.
    let mut tampered = first.clone();
    tampered[40] ^= 1;
    assert_eq!(
        secret().verify(Some(&sig_of_first), &tampered),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_non_ascii_payload_verifies_on_the_raw_bytes_but_not_when_reserialised() {
    let raw = fixture("non_ascii.json");
    // Meta escapes non-ASCII (`\u00e9`, the taxi emoji as a surrogate pair) and `/`.
    let text = std::str::from_utf8(&raw).unwrap();
    assert!(text.is_ascii() && text.contains("\\u00e9") && text.contains("\\ud83d\\ude95"));
    let header = meta_header(SECRET, &raw);
    assert_eq!(secret().verify(Some(&header), &raw), Ok(()));

    let value: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let reserialised = serde_json::to_vec(&value).unwrap();
    assert_ne!(
        reserialised, raw,
        "serde_json writes UTF-8, not Meta's escapes"
    );
    assert_eq!(
        secret().verify(Some(&header), &reserialised),
        Err(SignatureError::Mismatch)
    );
    // The parsed text is still the customer's.
    let n = whatsapp::Notification::parse(&raw).unwrap();
    let (_, m) = n.messages().next().unwrap();
    assert!(
        m.kind
            .routing_text()
            .unwrap()
            .contains("r\u{e9}server un taxi \u{1f695}")
    );
}
