//! Load for WhatsApp ingestion: `webhook-load --url http://127.0.0.1:4910 --secret S [--secs 10]
//! [--clients 64] [--rate 10000]`. Posts Meta-shaped signed webhooks (~2 KB, one message each,
//! a new wamid and sender per request): closed loop with `clients` connections for the peak
//! (`--no-closed` skips it), then open loop at `rate` per second (latency from when each request
//! was due; `--rate 0` skips it).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Skips the closed loop (the open loop alone, on a fresh server).
    #[arg(long)]
    no_closed: bool,
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
    if !args.no_closed {
        let cl = Arc::clone(&c);
        let run = bench::closed_loop(args.clients, args.secs, move |_, _| {
            let c = Arc::clone(&cl);
            async move { one(&c).await }
        })
        .await;
        println!(
            "| {} | closed loop, {} connections | {:.0}/s | {:.2} | {:.2} | {:.2} | {} |",
            args.label,
            args.clients,
            run.rate(),
            run.ms(0.5),
            run.ms(0.99),
            run.ms(0.999),
            run.failed
        );
    }
    if args.rate == 0 {
        return Ok(());
    }
    // Open loop: the tail at a fixed offered rate.
    let run = bench::open_loop(args.rate, args.secs, args.clients, move |_| {
        let c = Arc::clone(&c);
        async move { one(&c).await }
    })
    .await?;
    println!(
        "| {} | {}/s offered | - | {:.2} | {:.2} | {:.2} | {} |",
        args.label,
        args.rate,
        run.ms(0.5),
        run.ms(0.99),
        run.ms(0.999),
        run.failed
    );
    Ok(())
}
