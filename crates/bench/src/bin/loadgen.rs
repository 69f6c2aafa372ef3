//! Open-loop HTTP load: `loadgen --url URL --rate N --secs S [--connections 64] [--method GET]
//! [--body JSON] [--header 'name: value']...`. Prints achieved rate and latency quantiles
//! measured from each request's scheduled start.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use reqwest::Method;
use tokio::sync::Semaphore;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    url: String,
    /// Requests per second offered.
    #[arg(long)]
    rate: u64,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Most requests in flight (the connection count).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value = "GET")]
    method: String,
    #[arg(long)]
    body: Option<String>,
    #[arg(long = "header")]
    headers: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    platform::client::install_tls();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    let method: Method = args.method.parse()?;
    let mut headers = reqwest::header::HeaderMap::new();
    for h in &args.headers {
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(
                reqwest::header::HeaderName::try_from(k.trim())?,
                v.trim().parse()?,
            );
        }
    }
    let slots = Arc::new(Semaphore::new(args.connections));
    let interval = Duration::from_nanos(1_000_000_000 / args.rate.max(1));
    let total = args.rate * args.secs;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(usize::try_from(total)?);
    for i in 0..total {
        let due = started + interval * u32::try_from(i)?;
        tokio::time::sleep_until(due.into()).await;
        let permit = Arc::clone(&slots).acquire_owned().await?;
        let req = client
            .request(method.clone(), &args.url)
            .headers(headers.clone());
        let req = match &args.body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(b.clone()),
            None => req,
        };
        tasks.push(tokio::spawn(async move {
            let ok = req.send().await.is_ok_and(|r| r.status().is_success());
            drop(permit);
            (
                u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX),
                ok,
            )
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    let mut errors = 0u64;
    for t in tasks {
        let (us, ok) = t.await?;
        lat.push(us);
        errors += u64::from(!ok);
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    println!(
        "offered {}/s for {}s: completed {:.0}/s, errors {errors}, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
        args.rate,
        args.secs,
        f64::from(u32::try_from(lat.len())?) / elapsed,
        bench::quantile_ms(&lat, 0.50),
        bench::quantile_ms(&lat, 0.99),
        bench::quantile_ms(&lat, 0.999),
    );
    Ok(())
}
