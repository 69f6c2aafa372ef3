//! Load for the wallet over HTTP: `wallet-load --url http://127.0.0.1:4400 --token T
//! --accounts 10000 [--secs 10] [--clients 64] [--rate 5000]`. Sets up `accounts` funded TOKEN
//! accounts, then measures transfers between random pairs, each with its own `Idempotency-Key`:
//! closed loop with `clients` connections (peak rate), then open loop at `rate` per second
//! (latency measured from when each request was due).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser, Clone)]
struct Args {
    #[arg(long)]
    url: String,
    #[arg(long)]
    token: String,
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    #[arg(long, default_value_t = 64)]
    clients: usize,
    #[arg(long, default_value_t = 5000)]
    rate: u64,
    /// Label for the printed rows.
    #[arg(long, default_value = "")]
    label: String,
}

struct Ctx {
    http: reqwest::Client,
    args: Args,
    accounts: Vec<String>,
}

async fn post(
    http: &reqwest::Client,
    args: &Args,
    path: &str,
    body: Value,
    keyed: bool,
) -> anyhow::Result<(u16, Value)> {
    let mut req = http
        .post(format!("{}{path}", args.url))
        .bearer_auth(&args.token)
        .json(&body);
    if keyed {
        req = req.header(
            "idempotency-key",
            format!("load-{}", ulid::Ulid::generate()),
        );
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or_default()))
}

async fn setup(http: &reqwest::Client, args: &Args) -> anyhow::Result<Vec<String>> {
    let (_, platform) = post(
        http,
        args,
        "/wallet/platform/provision",
        json!({"asset": "TOKEN"}),
        true,
    )
    .await?;
    let platform = platform["id"].as_str().unwrap_or_default().to_owned();
    let mut ids = Vec::with_capacity(args.accounts);
    let all: Vec<usize> = (0..args.accounts).collect();
    for chunk in all.chunks(args.clients) {
        let opened = futures::future::join_all(chunk.iter().map(|i| async move {
            let body =
                json!({"ownerType": "buyer", "ownerId": format!("load-{i}"), "asset": "TOKEN"});
            let (_, a) = post(http, args, "/wallet/accounts", body, false).await?;
            Ok::<_, anyhow::Error>(a["id"].as_str().unwrap_or_default().to_owned())
        }))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        futures::future::join_all(opened.iter().map(|id| {
            let body = json!({"sourceAccountId": platform, "destinationAccountId": id, "amountMinor": 1_000_000_000i64, "asset": "TOKEN"});
            post(http, args, "/wallet/transfer", body, true)
        }))
        .await;
        ids.extend(opened);
    }
    Ok(ids)
}

fn pick(seed: &mut u64, n: usize) -> usize {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    usize::try_from(*seed % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
}

async fn one(c: &Ctx, seed: &mut u64) -> bool {
    let n = c.accounts.len();
    let from = pick(seed, n);
    let to = (from + 1 + pick(seed, n - 1)) % n;
    let body = json!({"sourceAccountId": c.accounts[from], "destinationAccountId": c.accounts[to], "amountMinor": 1, "asset": "TOKEN"});
    matches!(
        post(&c.http, &c.args, "/wallet/transfer", body, true).await,
        Ok((201, _))
    )
}

async fn closed_loop(c: Arc<Ctx>) -> (f64, Vec<u64>, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..c.args.clients)
        .map(|i| {
            let (c, stop, failed) = (c.clone(), stop.clone(), failed.clone());
            tokio::spawn(async move {
                let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ u64::try_from(i + 1).unwrap_or(1);
                let mut lat = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if !one(&c, &mut seed).await {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
                lat
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(c.args.secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap_or_default());
    }
    lat.sort_unstable();
    let rate =
        f64::from(u32::try_from(lat.len()).unwrap_or(u32::MAX)) / started.elapsed().as_secs_f64();
    (rate, lat, failed.load(Ordering::Relaxed))
}

async fn open_loop(c: Arc<Ctx>) -> anyhow::Result<(Vec<u64>, u64)> {
    let interval = Duration::from_nanos(1_000_000_000 / c.args.rate.max(1));
    let started = Instant::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(c.args.clients));
    let mut tasks = Vec::new();
    for i in 0..c.args.rate * c.args.secs {
        let due = started + interval * u32::try_from(i)?;
        tokio::time::sleep_until(due.into()).await;
        let permit = slots.clone().acquire_owned().await?;
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut seed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let ok = one(&c, &mut seed).await;
            drop(permit);
            (
                u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX),
                ok,
            )
        }));
    }
    let mut lat = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (us, ok) = t.await?;
        lat.push(us);
        failed += u64::from(!ok);
    }
    lat.sort_unstable();
    Ok((lat, failed))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    platform::client::install_tls();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let accounts = setup(&http, &args).await?;
    let c = Arc::new(Ctx {
        http,
        args: args.clone(),
        accounts,
    });
    let (rate, lat, failed) = closed_loop(c.clone()).await;
    println!(
        "| {} | closed loop, {} connections | {rate:.0}/s | {:.2} | {:.2} | {failed} |",
        args.label,
        args.clients,
        bench::quantile_ms(&lat, 0.5),
        bench::quantile_ms(&lat, 0.99)
    );
    let (lat, failed) = open_loop(c).await?;
    println!(
        "| {} | {}/s offered | - | {:.2} | {:.2} | {failed} |",
        args.label,
        args.rate,
        bench::quantile_ms(&lat, 0.5),
        bench::quantile_ms(&lat, 0.99)
    );
    Ok(())
}
