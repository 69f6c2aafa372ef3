//! Crash safety of WhatsApp ingestion: signed webhooks are posted to `easymo serve
//! whatsapp-webhook-worker` (a child process) until it is killed with SIGKILL mid-stream; after a
//! restart every delivery that was answered 200 is processed exactly once (one stored message,
//! one routed event), none lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use whatsapp::AppSecret;

const SECRET: &str = "crash-test-app-secret";
const DELIVERIES: usize = 2000;
const KILL_AFTER: usize = 800;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_easymo"))
        .args(["serve", "whatsapp-webhook-worker", "--migrate"])
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("PORT", port.to_string())
        .env("DATA_DIR", data)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .env("RATE_LIMIT_PER_MINUTE", "100000000")
        .env("RATE_LIMIT_BURST", "1000000")
        .env("WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN", "verify")
        .env("WHATSAPP_WEBHOOK_WORKER_APP_SECRET", SECRET)
        // A job claimed by the killed process is taken over quickly.
        .env("WHATSAPP_WEBHOOK_WORKER_JOB_LEASE_MS", "1500")
        .env("WHATSAPP_WEBHOOK_WORKER_SENDER_RATE_PER_MINUTE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_healthy(http: &reqwest::Client, port: u16) {
    let started = Instant::now();
    while !http
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(started.elapsed() < Duration::from_secs(30), "never healthy");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn delivery(i: usize) -> (String, Vec<u8>) {
    let wamid = format!("wamid.crash{i:06}");
    let phone = format!("25078{i:07}");
    let body = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "250700000000", "phone_number_id": "100"},
            "contacts": [{"profile": {"name": "Crash"}, "wa_id": phone}],
            "messages": [{"from": phone, "id": wamid, "timestamp": "1764150000",
                          "type": "text", "text": {"body": "I need a moto to Kimironko"}}]
        }}]}]
    });
    (wamid, serde_json::to_vec(&body).unwrap())
}

#[test]
fn acknowledged_deliveries_survive_a_sigkill_and_are_processed_once() {
    platform::client::install_tls();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let secret = AppSecret::new(&SecretString::from(SECRET.to_owned())).unwrap();
    let http = reqwest::Client::new();
    let mut child = start(dir.path(), port);
    rt.block_on(wait_healthy(&http, port));

    let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let pid = child.id();
    rt.block_on(async {
        let next = Arc::new(AtomicUsize::new(0));
        let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let workers = (0..16).map(|_| {
            let (http, secret, acked, count, next, killed) = (
                http.clone(),
                secret.clone(),
                acked.clone(),
                count.clone(),
                next.clone(),
                killed.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= DELIVERIES {
                        return;
                    }
                    let (wamid, body) = delivery(i);
                    let sig = secret.sign(&body);
                    let res = http
                        .post(format!("http://127.0.0.1:{port}/webhook"))
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", sig)
                        .body(body)
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    if res.is_ok_and(|r| r.status().is_success()) {
                        acked.lock().unwrap().push(wamid);
                        if count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER
                            && !killed.swap(true, Ordering::SeqCst)
                        {
                            let _ = Command::new("kill")
                                .args(["-KILL", &pid.to_string()])
                                .status();
                        }
                    }
                }
            })
        });
        futures::future::join_all(workers).await;
    });
    let _ = child.wait();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= KILL_AFTER,
        "only {} acknowledged",
        acked.len()
    );
    assert!(
        acked.len() < DELIVERIES,
        "the process was not killed mid-stream"
    );

    let mut child = start(dir.path(), port);
    rt.block_on(wait_healthy(&http, port));
    let db = dir.path().join("whatsapp-webhook-worker.db");
    let (stored, events) = rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let started = Instant::now();
        loop {
            let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM wa_inbound_messages WHERE processed_at IS NULL",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if pending == 0 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{pending} never processed"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let stored: Vec<String> = sqlx::query_scalar("SELECT wamid FROM wa_inbound_messages")
            .fetch_all(&pool)
            .await
            .unwrap();
        let envelopes: Vec<String> = sqlx::query_scalar(
            "SELECT envelope FROM kit_outbox WHERE kind = 'whatsapp.message.routed'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut events: HashMap<String, usize> = HashMap::new();
        for e in envelopes {
            let v: serde_json::Value = serde_json::from_str(&e).unwrap();
            *events
                .entry(v["correlation_id"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
        (stored, events)
    });
    let _ = child.kill();
    let _ = child.wait();
    for wamid in &acked {
        assert!(stored.contains(wamid), "{wamid} was acknowledged but lost");
        assert_eq!(
            events.get(wamid),
            Some(&1),
            "{wamid} not routed exactly once"
        );
    }
    assert!(
        events.values().all(|n| *n == 1),
        "an event was emitted twice"
    );
}
