//! Load for the ranking service over HTTP: `ranking-load --url http://127.0.0.1:4500 --token T
//! --redis-url redis://127.0.0.1:6391 [--vendors 10000] [--regions 10] [--categories 8]
//! [--secs 10] [--clients 64] [--rate 1000]`.
//!
//! Seeding: `--vendors` `vendor.created` events (the vendor service's payload,
//! `contracts::marketplace::VendorChanged`) are published on the Redis Streams bus the ranking
//! process consumes, so the projection is built by ranking's own consumer and inbox, exactly as
//! in production, without paying for 10,000 `POST /vendors` (and their wallet calls) first. The
//! tool then waits until ranking has applied every one (`ranking_events_total` on `/metrics`).
//!
//! Load: `GET /ranking/vendors?tenantId&region&categories&limit=20`, one random region and two
//! random categories per request; closed loop with `clients` connections (peak req/s), then open
//! loop at `rate` per second (latency measured from when each request was due).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::Rng;
use clap::Parser;
use contracts::marketplace::{VENDOR_CREATED, VendorChanged};

#[derive(Parser, Clone)]
struct Args {
    #[arg(long)]
    url: String,
    /// A token with `ranking:read`.
    #[arg(long)]
    token: String,
    /// The bus ranking consumes (seeding); without it nothing is seeded.
    #[arg(long)]
    redis_url: Option<String>,
    #[arg(long, default_value = "easymo")]
    redis_prefix: String,
    #[arg(long, default_value = "bench-tenant")]
    tenant: String,
    #[arg(long, default_value_t = 10_000)]
    vendors: usize,
    #[arg(long, default_value_t = 10)]
    regions: usize,
    #[arg(long, default_value_t = 8)]
    categories: usize,
    /// Categories asked for per request (csv, overlap match).
    #[arg(long, default_value_t = 2)]
    wanted: usize,
    #[arg(long, default_value_t = 20)]
    limit: u32,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    #[arg(long, default_value_t = 64)]
    clients: usize,
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Longest wait for ranking to apply the seeded events.
    #[arg(long, default_value_t = 300)]
    seed_timeout_secs: u64,
    #[arg(long, default_value = "")]
    label: String,
}

fn region(i: usize) -> String {
    format!("region-{i}")
}

fn category(i: usize) -> String {
    format!("cat-{i}")
}

/// Vendor `i`: its region by `i`, one to three categories, rating and fulfilment spread out.
fn vendor(args: &Args, i: usize) -> VendorChanged {
    let mut rng = Rng::new(u64::try_from(i).unwrap_or(0) + 1);
    let n = 1 + rng.below(3);
    let mut categories: Vec<String> = (0..n)
        .map(|_| category(rng.below(args.categories)))
        .collect();
    categories.sort();
    categories.dedup();
    VendorChanged {
        // Zero-padded: ids order as numbers, as ULIDs order by time.
        vendor_id: format!("bench-vendor-{i:06}"),
        tenant_id: args.tenant.clone(),
        name: Some(format!("Vendor {i}")),
        region: region(i % args.regions.max(1)),
        categories,
        rating: Some((rng.unit() * 50.0).round() / 10.0),
        fulfilment_rate: Some((rng.unit() * 100.0).round() / 100.0),
        wallet_account_id: None,
    }
}

/// Sum of `ranking_events_total` for `vendor.created`, whatever the outcome.
async fn applied(http: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter(|l| {
            l.starts_with("ranking_events_total{")
                && l.contains(&format!("type=\"{VENDOR_CREATED}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64)
}

async fn seed(http: &reqwest::Client, args: &Args, redis: &str) -> anyhow::Result<()> {
    let bus = bus::Bus::redis(redis, &args.redis_prefix)
        .map_err(|e| anyhow::anyhow!("redis bus: {e}"))?;
    let before = applied(http, &args.url).await?;
    let started = Instant::now();
    let all: Vec<usize> = (0..args.vendors).collect();
    for chunk in all.chunks(256) {
        let events = chunk
            .iter()
            .map(|&i| bus::Envelope::new(VENDOR_CREATED, "vendor", &args.tenant, vendor(args, i)))
            .collect::<Result<Vec<_>, _>>()?;
        for r in futures::future::join_all(events.iter().map(|e| bus.publish(e))).await {
            r.map_err(|e| anyhow::anyhow!("publish: {e}"))?;
        }
    }
    let published = started.elapsed();
    let want = before + u64::try_from(args.vendors)?;
    let deadline = Instant::now() + Duration::from_secs(args.seed_timeout_secs);
    loop {
        let n = applied(http, &args.url).await?;
        if n >= want {
            break;
        }
        if Instant::now() > deadline {
            bail!("ranking applied {n} of {want} vendor.created events in time");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "seeded {} vendors: published in {:.1}s, applied by ranking after {:.1}s ({:.0} events/s)",
        args.vendors,
        published.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        args.vendors as f64 / started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct Ctx {
    http: reqwest::Client,
    args: Args,
}

fn query(args: &Args, rng: &mut Rng) -> String {
    let r = region(rng.below(args.regions.max(1)));
    let mut cats: Vec<String> = (0..args.wanted)
        .map(|_| category(rng.below(args.categories)))
        .collect();
    cats.dedup();
    format!(
        "{}/ranking/vendors?tenantId={}&region={r}&categories={}&limit={}",
        args.url,
        args.tenant,
        cats.join(","),
        args.limit
    )
}

/// One ranking request; success is a 200 whose body was read in full.
async fn one(c: &Ctx, rng: &mut Rng) -> bool {
    let url = query(&c.args, rng);
    let Ok(res) = c.http.get(url).bearer_auth(&c.args.token).send().await else {
        return false;
    };
    if res.status() != reqwest::StatusCode::OK {
        return false;
    }
    // The body is read in full (as a client would), but not parsed: the load generator shares
    // the machine and its parsing would be charged to the server's figures.
    res.bytes().await.is_ok()
}

/// The page a sample query answers, to check the seed before measuring.
async fn check(c: &Ctx) -> anyhow::Result<()> {
    let mut rng = Rng::new(7);
    let url = query(&c.args, &mut rng);
    let res = c.http.get(&url).bearer_auth(&c.args.token).send().await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    let n = body["vendors"].as_array().map_or(0, Vec::len);
    if !status.is_success() || n == 0 {
        bail!("{url} answered {status} with {n} vendors: {body}");
    }
    eprintln!(
        "sample page: {n} vendors, best score {}, nextCursor {}",
        body["vendors"][0]["score"], body["nextCursor"]
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    platform::client::install_tls();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .timeout(Duration::from_secs(10))
        .build()?;
    if let Some(redis) = &args.redis_url {
        seed(&http, &args, redis).await.context("seeding")?;
    }
    let c = Arc::new(Ctx {
        http,
        args: args.clone(),
    });
    check(&c).await?;
    // Warm-up: connections opened, caches filled.
    let w = Arc::clone(&c);
    bench::closed_loop(args.clients, 1, move |worker, n| {
        let c = Arc::clone(&w);
        async move {
            let mut rng = Rng::new((u64::try_from(worker).unwrap_or(0) << 32) ^ n);
            one(&c, &mut rng).await
        }
    })
    .await;
    let w = Arc::clone(&c);
    let closed = bench::closed_loop(args.clients, args.secs, move |worker, n| {
        let c = Arc::clone(&w);
        async move {
            let mut rng = Rng::new((u64::try_from(worker).unwrap_or(0) << 40) ^ n ^ 0xC0FFEE);
            one(&c, &mut rng).await
        }
    })
    .await;
    println!(
        "| {} | closed loop, {} connections | {:.0}/s | {:.2} | {:.2} | {:.2} | {} |",
        args.label,
        args.clients,
        closed.rate(),
        closed.ms(0.5),
        closed.ms(0.99),
        closed.ms(0.999),
        closed.failed
    );
    let w = Arc::clone(&c);
    let open = bench::open_loop(args.rate, args.secs, args.clients, move |i| {
        let c = Arc::clone(&w);
        async move {
            let mut rng = Rng::new(i ^ 0x0BAD_5EED);
            one(&c, &mut rng).await
        }
    })
    .await?;
    println!(
        "| {} | {}/s offered (achieved {:.0}/s) | - | {:.2} | {:.2} | {:.2} | {} |",
        args.label,
        args.rate,
        open.rate(),
        open.ms(0.5),
        open.ms(0.99),
        open.ms(0.999),
        open.failed
    );
    Ok(())
}
