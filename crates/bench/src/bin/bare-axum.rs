//! The baseline: one axum JSON route, no middleware. `bare-axum [port]` (default 4999). Its
//! `POST /webhook` answers 200 at once: the load generators' own latency floor.

use axum::routing::{get, post};
use axum::{Json, Router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(4999);
    let app = Router::new()
        .route(
            "/profile",
            get(|| async {
                Json(serde_json::json!({
                    "id": "01JBENCH0000000000000000000",
                    "tenantId": "default",
                    "whatsappE164": "+250781234567",
                    "displayName": "Bench",
                    "locale": "en",
                    "roles": ["buyer"],
                }))
            }),
        )
        .route("/webhook", post(|_body: axum::body::Bytes| async { "" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
