//! End-to-end load for the purchase saga: `saga-load --buyer-url http://127.0.0.1:4700
//! --vendor-url http://127.0.0.1:4600 --wallet-url http://127.0.0.1:4400 --buyer-token T
//! --vendor-token T --wallet-token T [--buyers 64] [--vendors 64] [--secs 20] [--clients 64]`.
//!
//! Setup, through the services' own APIs: the vendor's free quota raised (so the paywall never
//! refuses), `vendors` vendors, `buyers` buyers whose TOKEN wallet accounts are opened by the
//! buyer service and funded from the tenant's issuance account.
//!
//! Each purchase, by one of `clients` concurrent flows (closed loop, `secs` seconds):
//! `POST /intents` (buyer) -> `POST /vendors/{v}/quotes` (vendor; 422 `intent_unknown` is
//! retried until the buyer's `buyer.intent.created` has reached the vendor over the bus) ->
//! `POST /purchases` (201 `pending`; the saga reserves in the wallet and accepts at the vendor on
//! the buyer's job queue) -> `GET /purchases/{id}` until `accepted` -> `POST .../confirm` as VENDOR
//! then BUYER -> `GET /purchases/{id}` until `settled` (the second confirmation usually answers
//! it settled). Prints settled purchases/s, end-to-end latency and the time spent in each stage.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser, Clone)]
struct Args {
    #[arg(long)]
    buyer_url: String,
    #[arg(long)]
    vendor_url: String,
    #[arg(long)]
    wallet_url: String,
    /// `buyer:read buyer:write`.
    #[arg(long)]
    buyer_token: String,
    /// `vendor:read vendor:write vendor:quote.write vendor:admin`.
    #[arg(long)]
    vendor_token: String,
    /// `wallet:admin wallet:transfer.write wallet:accounts.write`.
    #[arg(long)]
    wallet_token: String,
    #[arg(long, default_value_t = 64)]
    buyers: usize,
    #[arg(long, default_value_t = 64)]
    vendors: usize,
    #[arg(long, default_value = "TOKEN")]
    asset: String,
    /// Price of each quote, in minor units.
    #[arg(long, default_value_t = 100)]
    amount_minor: i64,
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// Purchases in flight at once (each flow runs one purchase after another).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Longest a flow waits for one step (event propagation, the saga) before the purchase
    /// counts as failed.
    #[arg(long, default_value_t = 30)]
    step_timeout_secs: u64,
    /// Longest pause between two polls of a purchase (or two tries of a quote whose intent has
    /// not reached the vendor yet); the pause starts at 2 ms and doubles up to this.
    #[arg(long, default_value_t = 50)]
    poll_max_ms: u64,
    #[arg(long, default_value = "")]
    label: String,
}

struct Ctx {
    http: reqwest::Client,
    args: Args,
    buyers: Vec<String>,
    vendors: Vec<String>,
    /// Microseconds spent per stage, summed over settled purchases: intent, quote, purchase,
    /// accepted, settled.
    stages: [AtomicU64; 5],
    /// Requests made, over all purchases.
    requests: AtomicU64,
    /// Quote attempts refused with `intent_unknown` (the intent event not there yet).
    quote_retries: AtomicU64,
    failures: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

enum Svc {
    Buyer,
    Vendor,
    Wallet,
}

impl Ctx {
    fn base(&self, svc: &Svc) -> (&str, &str) {
        match svc {
            Svc::Buyer => (&self.args.buyer_url, &self.args.buyer_token),
            Svc::Vendor => (&self.args.vendor_url, &self.args.vendor_token),
            Svc::Wallet => (&self.args.wallet_url, &self.args.wallet_token),
        }
    }

    async fn call(
        &self,
        svc: &Svc,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<String>,
    ) -> anyhow::Result<(u16, Value)> {
        let (url, token) = self.base(svc);
        let mut req = self
            .http
            .request(method, format!("{url}{path}"))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let res = req.send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or_default()))
    }

    async fn post(&self, svc: Svc, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        self.call(&svc, reqwest::Method::POST, path, Some(body), None)
            .await
    }

    fn fail(&self, why: impl Into<String>) {
        if let Ok(mut f) = self.failures.lock() {
            *f.entry(why.into()).or_default() += 1;
        }
    }
}

fn id(v: &Value) -> anyhow::Result<String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {v}"))
}

fn expect_status(what: &str, got: (u16, Value), want: &[u16]) -> anyhow::Result<Value> {
    if want.contains(&got.0) {
        Ok(got.1)
    } else {
        bail!("{what}: {} {}", got.0, got.1)
    }
}

fn key(what: &str) -> String {
    format!("saga-load-{what}-{}", ulid::Ulid::generate())
}

async fn setup(c: &mut Ctx) -> anyhow::Result<()> {
    let settings = c
        .post(
            Svc::Vendor,
            "/marketplace/settings",
            json!({"freeContacts": 100_000}),
        )
        .await?;
    expect_status("raise the free quota", settings, &[200])?;
    let platform = c
        .call(
            &Svc::Wallet,
            reqwest::Method::POST,
            "/wallet/platform/provision",
            Some(json!({"asset": c.args.asset})),
            Some(key("provision")),
        )
        .await?;
    let platform = id(&expect_status("provision", platform, &[200, 201])?)?;
    for i in 0..c.args.vendors {
        let body = json!({"name": format!("Saga vendor {i}"), "region": "kigali",
                          "categories": ["moto"], "rating": 4.5, "fulfilmentRate": 0.9});
        let v = expect_status(
            "create vendor",
            c.post(Svc::Vendor, "/vendors", body).await?,
            &[201],
        )?;
        c.vendors.push(id(&v)?);
    }
    // Each buyer's account is opened by the buyer service (owner id = buyer id), then funded.
    let funds = c.args.amount_minor.saturating_mul(1_000_000);
    for i in 0..c.args.buyers {
        let b = c
            .post(
                Svc::Buyer,
                "/buyers",
                json!({"name": format!("Saga buyer {i}")}),
            )
            .await?;
        let buyer = id(&expect_status("create buyer", b, &[201])?)?;
        let path = format!("/buyers/{buyer}/wallet-accounts");
        let b = c
            .post(Svc::Buyer, &path, json!({"asset": c.args.asset}))
            .await?;
        let b = expect_status("open buyer account", b, &[200, 201])?;
        let account = b["walletAccounts"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["asset"] == c.args.asset.as_str()))
            .and_then(|a| a["accountId"].as_str())
            .with_context(|| format!("no {} account in {b}", c.args.asset))?
            .to_owned();
        let body = json!({"sourceAccountId": platform, "destinationAccountId": account,
                          "amountMinor": funds, "asset": c.args.asset});
        let t = c
            .call(
                &Svc::Wallet,
                reqwest::Method::POST,
                "/wallet/transfer",
                Some(body),
                Some(key("fund")),
            )
            .await?;
        expect_status("fund buyer", t, &[200, 201])?;
        c.buyers.push(buyer);
    }
    Ok(())
}

/// Polls the purchase until `want` (or a terminal status); backs off from 2 ms doubling to
/// `--poll-max-ms`, so the polling costs the server little beside the saga itself.
async fn wait_status(c: &Ctx, purchase: &str, want: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(c.args.step_timeout_secs);
    let mut pause = Duration::from_millis(2);
    loop {
        let (code, p) = c
            .call(
                &Svc::Buyer,
                reqwest::Method::GET,
                &format!("/purchases/{purchase}"),
                None,
                None,
            )
            .await?;
        let status = p["status"].as_str().unwrap_or_default();
        if status == want || (want == "accepted" && status == "settled") {
            return Ok(());
        }
        if code != 200 || matches!(status, "failed" | "cancelled") {
            bail!("purchase {status} ({code}): {}", p["reason"]);
        }
        if Instant::now() > deadline {
            bail!("still {status} after {}s", c.args.step_timeout_secs);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(c.args.poll_max_ms));
    }
}

/// One purchase end to end; the stage durations on success.
async fn purchase(c: &Ctx, buyer: &str, vendor: &str) -> anyhow::Result<[Duration; 5]> {
    let mut marks = [Duration::ZERO; 5];
    let mut t = Instant::now();
    let mut lap = |i: usize, t: &mut Instant| {
        marks[i] = t.elapsed();
        *t = Instant::now();
    };
    let body = json!({"buyerId": buyer, "channel": "whatsapp",
                      "payload": {"region": "kigali", "categories": ["moto"], "text": "moto to Kimironko"}});
    let intent = id(&expect_status(
        "intent",
        c.post(Svc::Buyer, "/intents", body).await?,
        &[201],
    )?)?;
    lap(0, &mut t);
    let quote_path = format!("/vendors/{vendor}/quotes");
    let body =
        json!({"intentId": intent, "amountMinor": c.args.amount_minor, "currency": c.args.asset});
    let deadline = Instant::now() + Duration::from_secs(c.args.step_timeout_secs);
    let mut pause = Duration::from_millis(2);
    let quote = loop {
        let (code, q) = c.post(Svc::Vendor, &quote_path, body.clone()).await?;
        if code == 201 {
            break id(&q)?;
        }
        if code == 422
            && q["code"]
                .as_str()
                .is_some_and(|s| s.ends_with("intent_unknown"))
        {
            c.quote_retries.fetch_add(1, Ordering::Relaxed);
            if Instant::now() > deadline {
                bail!("intent never reached the vendor");
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(c.args.poll_max_ms));
            continue;
        }
        bail!("quote: {code} {q}");
    };
    lap(1, &mut t);
    let body = json!({"quoteId": quote, "buyerId": buyer});
    let p = c
        .call(
            &Svc::Buyer,
            reqwest::Method::POST,
            "/purchases",
            Some(body),
            Some(key("purchase")),
        )
        .await?;
    let purchase = id(&expect_status("purchase", p, &[201])?)?;
    lap(2, &mut t);
    wait_status(c, &purchase, "accepted").await?;
    lap(3, &mut t);
    let confirm = format!("/purchases/{purchase}/confirm");
    expect_status(
        "confirm vendor",
        c.post(Svc::Buyer, &confirm, json!({"actor": "VENDOR"}))
            .await?,
        &[200],
    )?;
    let done = expect_status(
        "confirm buyer",
        c.post(Svc::Buyer, &confirm, json!({"actor": "BUYER"}))
            .await?,
        &[200],
    )?;
    if done["status"] != "settled" {
        wait_status(c, &purchase, "settled").await?;
    }
    lap(4, &mut t);
    Ok(marks)
}

async fn one(c: &Ctx, worker: usize, n: u64) -> bool {
    let b = &c.buyers[worker % c.buyers.len()];
    let step = usize::try_from(n).unwrap_or(0);
    let v = &c.vendors[(worker + step * 7) % c.vendors.len()];
    match purchase(c, b, v).await {
        Ok(marks) => {
            for (s, d) in c.stages.iter().zip(marks) {
                s.fetch_add(u64::try_from(d.as_micros()).unwrap_or(0), Ordering::Relaxed);
            }
            true
        }
        Err(e) => {
            let text = format!("{e:#}");
            // Group by the message's first words (the ids differ).
            let short: String = text.chars().take(80).collect();
            c.fail(short);
            false
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.buyers == 0 || args.vendors == 0 {
        bail!("--buyers and --vendors must be positive");
    }
    platform::client::install_tls();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut c = Ctx {
        http,
        args: args.clone(),
        buyers: Vec::new(),
        vendors: Vec::new(),
        stages: Default::default(),
        requests: AtomicU64::new(0),
        quote_retries: AtomicU64::new(0),
        failures: std::sync::Mutex::default(),
    };
    let t = Instant::now();
    setup(&mut c).await.context("setup")?;
    eprintln!(
        "setup: {} vendors, {} funded buyers in {:.1}s",
        c.vendors.len(),
        c.buyers.len(),
        t.elapsed().as_secs_f64()
    );
    let c = Arc::new(c);
    // One purchase alone first: the saga works, and its latency unloaded.
    let single = Instant::now();
    let first = purchase(&c, &c.buyers[0], &c.vendors[0])
        .await
        .context("a first purchase")?;
    eprintln!(
        "one purchase alone: {:.1} ms (intent {:.1}, quote {:.1}, purchase {:.1}, accepted {:.1}, settled {:.1})",
        single.elapsed().as_secs_f64() * 1000.0,
        first[0].as_secs_f64() * 1000.0,
        first[1].as_secs_f64() * 1000.0,
        first[2].as_secs_f64() * 1000.0,
        first[3].as_secs_f64() * 1000.0,
        first[4].as_secs_f64() * 1000.0,
    );
    c.requests.store(0, Ordering::Relaxed);
    c.quote_retries.store(0, Ordering::Relaxed);
    let w = Arc::clone(&c);
    let run = bench::closed_loop(args.clients, args.secs, move |worker, n| {
        let c = Arc::clone(&w);
        async move { one(&c, worker, n).await }
    })
    .await;
    let settled = run.latencies_us.len() as u64 - run.failed;
    let per = |i: usize| {
        if settled == 0 {
            0.0
        } else {
            c.stages[i].load(Ordering::Relaxed) as f64 / settled as f64 / 1000.0
        }
    };
    println!(
        "| {} | {} flows | {:.1}/s | {:.0} | {:.0} | {:.1} / {:.1} / {:.1} / {:.1} / {:.1} | {} |",
        args.label,
        args.clients,
        run.ok_rate(),
        run.ms(0.5),
        run.ms(0.99),
        per(0),
        per(1),
        per(2),
        per(3),
        per(4),
        run.failed
    );
    eprintln!(
        "{settled} settled in {:.1}s; {} HTTP requests by the load ({:.1} per purchase); {} quote retries on intent_unknown",
        run.secs,
        c.requests.load(Ordering::Relaxed),
        c.requests.load(Ordering::Relaxed) as f64 / (run.latencies_us.len().max(1) as f64),
        c.quote_retries.load(Ordering::Relaxed)
    );
    if let Ok(f) = c.failures.lock() {
        for (why, n) in f.iter() {
            eprintln!("failed x{n}: {why}");
        }
    }
    Ok(())
}
