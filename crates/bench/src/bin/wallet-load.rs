//! Load for the wallet over HTTP: `wallet-load --url http://127.0.0.1:4400 --token T
//! --accounts 10000 [--secs 10] [--clients 64] [--rate 5000]`. Sets up `accounts` funded TOKEN
//! accounts, then measures transfers between random pairs, each with its own `Idempotency-Key`:
//! closed loop with `clients` connections (peak rate), then open loop at `rate` per second
//! (latency measured from when each request was due).

use std::sync::Arc;

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

/// A transfer's seed from its stream (a closed-loop worker and its count, or the open loop's
/// index), so every run draws the same pairs.
fn seed_of(stream: u64) -> u64 {
    stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1
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
    let cl = Arc::clone(&c);
    let closed = bench::closed_loop(args.clients, args.secs, move |worker, n| {
        let c = Arc::clone(&cl);
        let stream = u64::try_from(worker).unwrap_or(0) << 32 | n;
        async move { one(&c, &mut seed_of(stream)).await }
    })
    .await;
    println!(
        "| {} | closed loop, {} connections | {:.0}/s | {:.2} | {:.2} | {} |",
        args.label,
        args.clients,
        closed.rate(),
        closed.ms(0.5),
        closed.ms(0.99),
        closed.failed
    );
    let ol = Arc::clone(&c);
    let open = bench::open_loop(args.rate, args.secs, args.clients, move |i| {
        let c = Arc::clone(&ol);
        async move { one(&c, &mut seed_of(i)).await }
    })
    .await?;
    println!(
        "| {} | {}/s offered | - | {:.2} | {:.2} | {} |",
        args.label,
        args.rate,
        open.ms(0.5),
        open.ms(0.99),
        open.failed
    );
    Ok(())
}
