//! Transfers per second over the real HTTP API, every transfer idempotency-keyed and durable
//! before its answer. Two account mixes (10,000 uniform accounts; 10 hot accounts), each driven
//! closed-loop by 64 clients for the peak, then open-loop at 5,000/s offered for the tail.
//!
//! `cargo bench -p wallet --bench transfers` (SQLite; PostgreSQL too with `TEST_DATABASE_URL`).
//! `BENCH_SECS` (default 10) sets each phase's length.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use testkit::TestApp;
use wallet::Wallet;

const CLIENTS: usize = 64;
const SCOPES: &[&str] = &[
    "wallet:transfer.write",
    "wallet:accounts.write",
    "wallet:admin",
];

struct Setup {
    app: TestApp,
    token: String,
    accounts: Vec<String>,
}

async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: serde_json::Value,
    key: Option<String>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(Method::POST, app.url(path))
        .bearer_auth(token)
        .json(&body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn setup(accounts: usize) -> Setup {
    let app = TestApp::spawn_with::<Wallet>(&[
        ("RATE_LIMIT_PER_MINUTE", "1000000000"),
        ("RATE_LIMIT_BURST", "1000000"),
        ("RUST_LOG", "warn"),
    ])
    .await;
    let token = app.token(SCOPES);
    let platform = post(
        &app,
        &token,
        "/wallet/platform/provision",
        json!({"asset": "TOKEN"}),
        Some(key()),
    )
    .await;
    let platform = platform.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::with_capacity(accounts);
    for chunk in (0..accounts).collect::<Vec<_>>().chunks(CLIENTS) {
        let opened = futures::future::join_all(chunk.iter().map(|i| {
            let (app, token) = (&app, &token);
            async move {
                let body =
                    json!({"ownerType": "buyer", "ownerId": format!("b{i}"), "asset": "TOKEN"});
                let a: serde_json::Value = post(app, token, "/wallet/accounts", body, None)
                    .await
                    .json()
                    .await
                    .unwrap();
                a["id"].as_str().unwrap().to_owned()
            }
        }))
        .await;
        futures::future::join_all(opened.iter().map(|id| {
            let body = json!({"sourceAccountId": platform, "destinationAccountId": id, "amountMinor": 1_000_000_000, "asset": "TOKEN"});
            post(&app, &token, "/wallet/transfer", body, Some(key()))
        }))
        .await;
        ids.extend(opened);
    }
    Setup {
        app,
        token,
        accounts: ids,
    }
}

fn key() -> String {
    format!("bench-{}", ulid::Ulid::generate())
}

fn pick(seed: &mut u64, n: usize) -> usize {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    usize::try_from(*seed % u64::try_from(n).unwrap()).unwrap()
}

async fn one(s: &Setup, seed: &mut u64) -> bool {
    let from = pick(seed, s.accounts.len());
    let mut to = pick(seed, s.accounts.len());
    if to == from {
        to = (to + 1) % s.accounts.len();
    }
    let body = json!({"sourceAccountId": s.accounts[from], "destinationAccountId": s.accounts[to], "amountMinor": 1, "asset": "TOKEN"});
    post(&s.app, &s.token, "/wallet/transfer", body, Some(key()))
        .await
        .status()
        .as_u16()
        == 201
}

fn quantile(sorted: &[u64], p: f64) -> f64 {
    bench::quantile_ms(sorted, p)
}

async fn closed_loop(s: Arc<Setup>, secs: u64) -> (f64, Vec<u64>, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (s, stop, failed) = (s.clone(), stop.clone(), failed.clone());
            tokio::spawn(async move {
                let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ u64::try_from(c + 1).unwrap();
                let mut lat = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if !one(&s, &mut seed).await {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    lat.push(u64::try_from(t.elapsed().as_micros()).unwrap());
                }
                lat
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    lat.sort_unstable();
    let rate = f64::from(u32::try_from(lat.len()).unwrap()) / started.elapsed().as_secs_f64();
    (rate, lat, failed.load(Ordering::Relaxed))
}

async fn open_loop(s: Arc<Setup>, rate: u64, secs: u64) -> Vec<u64> {
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let started = Instant::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(CLIENTS));
    let mut tasks = Vec::new();
    for i in 0..rate * secs {
        let due = started + interval * u32::try_from(i).unwrap();
        tokio::time::sleep_until(due.into()).await;
        let permit = slots.clone().acquire_owned().await.unwrap();
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut seed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            one(&s, &mut seed).await;
            drop(permit);
            u64::try_from(due.elapsed().as_micros()).unwrap()
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.push(t.await.unwrap());
    }
    lat.sort_unstable();
    lat
}

async fn mix(backend: &str, name: &str, accounts: usize, secs: u64) {
    let s = Arc::new(setup(accounts).await);
    let (rate, lat, failed) = closed_loop(s.clone(), secs).await;
    println!(
        "| {backend} | {name} | closed loop, 64 clients | {rate:.0}/s | {:.2} | {:.2} | {failed} |",
        quantile(&lat, 0.5),
        quantile(&lat, 0.99)
    );
    let lat = open_loop(s, 5000, secs).await;
    println!(
        "| {backend} | {name} | 5,000/s offered | - | {:.2} | {:.2} | - |",
        quantile(&lat, 0.5),
        quantile(&lat, 0.99)
    );
}

fn main() {
    let secs = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("| backend | accounts | load | transfers/s | p50 ms | p99 ms | refused |\n|---|---|---|---|---|---|---|");
        // The test kit starts the service on PostgreSQL when TEST_DATABASE_URL is set: run the
        // bench once without it (SQLite) and once with it.
        if pg.is_none() {
            mix("SQLite", "10,000 uniform", 10_000, secs).await;
            mix("SQLite", "10 hot", 10, secs).await;
        } else {
            mix("PostgreSQL", "10,000 uniform", 10_000, secs).await;
            mix("PostgreSQL", "10 hot", 10, secs).await;
        }
    });
}
