//! Load for whatsapp-pricing's `POST /v1/quotes`: `pricing-load --url http://127.0.0.1:4920
//! [--secs 10] [--clients 64] [--rate 10000] [--no-key] [--open-only]`. Each request a varied
//! but valid quote (four insurers priced, stored before the answer), idempotency-keyed unless
//! `--no-key`: a closed loop with `clients` connections (the peak; `--open-only` skips it), then
//! an open loop at `rate` quotes/s offered (`0` skips it; latency from when each request was
//! due). Mints a `pricing:quote` token
//! with the first `SERVICE_JWT_KEYS` key and prints a table row per loop: quotes/s, p50, p99,
//! requests, failures. `bash scripts/bench-pricing.sh` runs it.

use std::sync::Arc;
use std::time::Duration;

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
    let rate: u64 = arg(args, "--rate", "10000").parse()?;
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
    let quote = Arc::new(Quote {
        http,
        url: format!("{url}/v1/quotes"),
        token,
        keyed,
    });
    if !args.iter().any(|a| a == "--open-only") {
        let q = Arc::clone(&quote);
        let run = bench::closed_loop(clients, secs, move |worker, n| {
            let q = Arc::clone(&q);
            async move { q.send(seed(worker, n)).await }
        })
        .await;
        row(&format!("{clients}"), keyed, &run);
    }
    if rate > 0 {
        let q = Arc::clone(&quote);
        let run = bench::open_loop(rate, secs, clients, move |i| {
            let q = Arc::clone(&q);
            async move { q.send(seed(usize::MAX, i)).await }
        })
        .await?;
        row(&format!("{rate}/s offered, {clients}"), keyed, &run);
    }
    Ok(())
}

/// A varied seed per request (an LCG step of the worker and its count).
fn seed(worker: usize, n: u64) -> u64 {
    (n ^ (u64::try_from(worker).unwrap_or(0) << 40))
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
        >> 33
}

fn row(load: &str, keyed: bool, run: &bench::Run) {
    println!(
        "| {load} | {} | {:.0} | {:.2} | {:.2} | {} | {} |",
        if keyed { "yes" } else { "no" },
        run.rate(),
        run.ms(0.5),
        run.ms(0.99),
        run.latencies_us.len(),
        run.failed
    );
}

struct Quote {
    http: reqwest::Client,
    url: String,
    token: String,
    keyed: bool,
}

impl Quote {
    /// One quote; true when it was answered 201 with its body.
    async fn send(&self, seed: u64) -> bool {
        let mut req = self.http.post(&self.url).bearer_auth(&self.token);
        if self.keyed {
            req = req.header(
                "idempotency-key",
                format!("bench-{}", ulid::Ulid::generate()),
            );
        }
        match req.json(&body(seed)).send().await {
            Ok(r) => r.status().as_u16() == 201 && r.bytes().await.is_ok(),
            Err(_) => false,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    load(&args).await
}
