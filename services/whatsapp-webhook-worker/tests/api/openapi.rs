//! `openapi.json` is the ApiDoc as `easymo generate` writes it (`to_pretty_json()` plus a
//! newline). `UPDATE_OPENAPI=1` rewrites the file instead of checking it.

use platform::Service;
use whatsapp_webhook_worker::WhatsappWebhookWorker as Worker;

#[test]
fn openapi_json_is_current() {
    let mut doc = Worker::openapi().to_pretty_json().unwrap();
    doc.push('\n');
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(file, &doc).unwrap();
    }
    let stored = std::fs::read_to_string(file).unwrap();
    assert!(
        stored == doc,
        "openapi.json is stale: run with UPDATE_OPENAPI=1"
    );
}
