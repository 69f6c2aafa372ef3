//! Load for whatsapp-pricing's `POST /v1/quotes`: `pricing-load --url http://127.0.0.1:4920
//! [--secs 10] [--clients 64] [--no-key]`. Closed loop; each request a varied but valid quote
//! (four insurers priced, stored before the answer), idempotency-keyed unless `--no-key`. Mints
//! a `pricing:quote` token with the first `SERVICE_JWT_KEYS` key and prints one table row:
//! quotes/s, p50, p99, requests, failures. `bash scripts/bench-pricing.sh` runs it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use platform::auth::JwtKeys;
use secrecy::SecretString;
use serde_json::json;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

/// A varied but valid quote: category, cover, value and period change with the seed.
fn body(seed: u64) -> serde_json::Value {
    const CATEGORIES: [&str; 4] = ["CAR", "JEEP_SUV", "PICKUP_SMALL_LORRY", "MINIBUS_VAN"];
    let i = usize::try_from(seed % 4).unwrap_or(0);
    let si = 5_000_000 + i64::try_from(seed % 40).unwrap_or(0) * 1_000_000;
    json!({
        "sumInsured": si,
        "category": CATEGORIES[i],
        "usage": "PRIVATE",
        "cover": if seed.is_multiple_of(5) { "TP_ONLY" } else { "COMPREHENSIVE" },
        "periodDays": if seed.is_multiple_of(3) { 90 } else { 365 },
        "comesa": seed.is_multiple_of(7)
    })
}

async fn load(args: &[String]) -> anyhow::Result<()> {
    let url = arg(args, "--url", "http://127.0.0.1:4920");
    let secs: u64 = arg(args, "--secs", "10").parse()?;
    let clients: usize = arg(args, "--clients", "64").parse()?;
    // Without a key the quote is one transaction (one commit); with one, two (claim + effect).
    let keyed = !args.iter().any(|a| a == "--no-key");
    let key = std::env::var("SERVICE_JWT_KEYS")?
        .split(',')
        .next()
        .unwrap_or_default()
        .to_owned();
    let keys = JwtKeys::new(&[SecretString::from(key)])
        .ok_or_else(|| anyhow::anyhow!("SERVICE_JWT_KEYS is empty"))?;
    let token = keys.mint(
        "bench",
        "whatsapp-pricing",
        &["pricing:quote"],
        None,
        Duration::from_secs(3600),
    )?;
    platform::client::install_tls();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            let (stop, failed) = (stop.clone(), failed.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut n = u64::try_from(c).unwrap_or(0);
                while !stop.load(Ordering::Relaxed) {
                    n = n
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let t = Instant::now();
                    let res = http
                        .post(format!("{url}/v1/quotes"))
                        .bearer_auth(&token)
                        .header(
                            "idempotency-key",
                            format!("bench-{}", ulid::Ulid::generate()),
                        )
                        .json(&body(n >> 33))
                        .send()
                        .await;
                    let ok = match res {
                        Ok(r) => r.status().as_u16() == 201 && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
                lat
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap_or_default());
    }
    lat.sort_unstable();
    let rate =
        f64::from(u32::try_from(lat.len()).unwrap_or(u32::MAX)) / started.elapsed().as_secs_f64();
    println!(
        "| {clients} | {} | {rate:.0} | {:.2} | {:.2} | {} | {} |",
        if keyed { "yes" } else { "no" },
        bench::quantile_ms(&lat, 0.5),
        bench::quantile_ms(&lat, 0.99),
        lat.len(),
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    load(&args).await
}
