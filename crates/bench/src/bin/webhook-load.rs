//! Load for WhatsApp ingestion: `webhook-load --url http://127.0.0.1:4910 --secret S [--secs 10]
//! [--clients 64] [--rate 10000]`. Posts Meta-shaped signed webhooks (~2 KB, one message each,
//! a new wamid and sender per request): closed loop with `clients` connections for the peak, then
//! open loop at `rate` per second (latency from when each request was due).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use secrecy::SecretString;
use whatsapp::AppSecret;

#[derive(Parser, Clone)]
struct Args {
    #[arg(long)]
    url: String,
    #[arg(long)]
    secret: String,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    #[arg(long, default_value_t = 64)]
    clients: usize,
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    #[arg(long, default_value = "")]
    label: String,
}

struct Ctx {
    http: reqwest::Client,
    url: String,
    secret: AppSecret,
    seq: AtomicU64,
    padding: String,
}

/// A Meta-shaped delivery of about 2 KB (the padding stands in for the profile, context and
/// referral fields real deliveries carry).
fn delivery(c: &Ctx) -> Vec<u8> {
    let i = c.seq.fetch_add(1, Ordering::Relaxed);
    let phone = format!("2507{:08}", i % 100_000_000);
    let body = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "250700000000", "phone_number_id": "100"},
            "contacts": [{"profile": {"name": c.padding}, "wa_id": phone}],
            "messages": [{"from": phone, "id": format!("wamid.load{i:012}"), "timestamp": "1764150000",
                          "type": "text", "text": {"body": "I need a moto to Kimironko please"}}]
        }}]}]
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

async fn one(c: &Ctx) -> bool {
    let body = delivery(c);
    let sig = c.secret.sign(&body);
    c.http
        .post(&c.url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    platform::client::install_tls();
    let secret = AppSecret::new(&SecretString::from(args.secret.clone()))
        .ok_or_else(|| anyhow::anyhow!("empty secret"))?;
    let c = Arc::new(Ctx {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(args.clients)
            .build()?,
        url: format!("{}/webhook", args.url.trim_end_matches('/')),
        secret,
        seq: AtomicU64::new(0),
        padding: "x".repeat(1600),
    });
    // Closed loop: the peak.
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.clients)
        .map(|_| {
            let (c, stop, failed) = (c.clone(), stop.clone(), failed.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if !one(&c).await {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
                lat
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(args.secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap_or_default());
    }
    lat.sort_unstable();
    let rate =
        f64::from(u32::try_from(lat.len()).unwrap_or(u32::MAX)) / started.elapsed().as_secs_f64();
    println!(
        "| {} | closed loop, {} connections | {rate:.0}/s | {:.2} | {:.2} | {:.2} | {} |",
        args.label,
        args.clients,
        bench::quantile_ms(&lat, 0.5),
        bench::quantile_ms(&lat, 0.99),
        bench::quantile_ms(&lat, 0.999),
        failed.load(Ordering::Relaxed)
    );
    // Open loop: the tail at a fixed offered rate.
    let interval = Duration::from_nanos(1_000_000_000 / args.rate.max(1));
    let slots = Arc::new(tokio::sync::Semaphore::new(args.clients));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..args.rate * args.secs {
        let due = started + interval * u32::try_from(i)?;
        tokio::time::sleep_until(due.into()).await;
        let permit = slots.clone().acquire_owned().await?;
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let ok = one(&c).await;
            drop(permit);
            (
                u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX),
                ok,
            )
        }));
    }
    let mut lat = Vec::new();
    let mut failed = 0u64;
    for t in tasks {
        let (us, ok) = t.await?;
        lat.push(us);
        failed += u64::from(!ok);
    }
    lat.sort_unstable();
    println!(
        "| {} | {}/s offered | - | {:.2} | {:.2} | {:.2} | {failed} |",
        args.label,
        args.rate,
        bench::quantile_ms(&lat, 0.5),
        bench::quantile_ms(&lat, 0.99),
        bench::quantile_ms(&lat, 0.999)
    );
    Ok(())
}
