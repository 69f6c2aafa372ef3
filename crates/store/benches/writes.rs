//! Durable writes per second: one commit per write against the group-commit writer.
//!
//! `cargo bench -p store --bench writes` (SQLite in a temp dir; PostgreSQL too when
//! `TEST_DATABASE_URL` is set). 64 concurrent writers for `BENCH_SECS` (default 5) each; every
//! write is a conditional debit of one of 10,000 accounts, answered only once committed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use platform::{CommonConfig, Env};
use store::group::{GroupCommit, GroupConfig, Op};
use store::{Db, Error, Tx, on};

const ACCOUNTS: i64 = 10_000;
const CLIENTS: usize = 64;

struct Debit(i64);

impl Op for Debit {
    type Output = ();
    type Refusal = ();
    type Batch = ();

    async fn apply(&self, tx: &mut Tx, _: &mut ()) -> Result<Result<(), ()>, Error> {
        let n = on!(tx.exec(), |c| sqlx::query(
            "UPDATE bench_accounts SET balance = balance - 1 WHERE id = $1 AND balance >= 1"
        )
        .bind(self.0)
        .execute(c)
        .await?
        .rows_affected());
        Ok(if n == 1 { Ok(()) } else { Err(()) })
    }
}

async fn database(dir: &tempfile::TempDir, pg: Option<String>) -> Db {
    let mut env = Env::from_map([("DATA_DIR", dir.path().to_string_lossy().into_owned())]);
    if let Some(url) = pg {
        env.set("BENCH_DATABASE_URL", url);
    }
    let common = CommonConfig::load(&mut env, "bench", 0, false);
    let db = Db::connect(&common).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    on!(tx.exec(), |c| sqlx::query(
        "CREATE TABLE bench_accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)"
    )
    .execute(c)
    .await
    .unwrap()
    .rows_affected());
    on!(tx.exec(), |c| sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO bench_accounts SELECT i, 1000000000 FROM n"
    )
    .bind(ACCOUNTS)
    .execute(c)
    .await
    .unwrap()
    .rows_affected());
    tx.commit().await.unwrap();
    db
}

struct Run {
    ops: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

async fn drive<F, Fut>(secs: u64, write: F) -> Run
where
    F: Fn(i64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (stop, write) = (stop.clone(), write.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = i64::try_from(c).unwrap() * 7919;
                while !stop.load(Ordering::Relaxed) {
                    i = (i * 48271 + 11) % ACCOUNTS;
                    let t = Instant::now();
                    write(i + 1).await;
                    lat.push(u64::try_from(t.elapsed().as_micros()).unwrap());
                }
                lat
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.unwrap());
    }
    latencies_us.sort_unstable();
    Run {
        ops: latencies_us.len(),
        elapsed: started.elapsed(),
        latencies_us,
    }
}

fn report(backend: &str, mode: &str, r: &Run) {
    let pct = |p: f64| {
        let i = ((r.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        r.latencies_us.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    println!(
        "| {backend} | {mode} | {:.0} | {:.2} | {:.2} |",
        r.ops as f64 / r.elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99)
    );
}

async fn bench(backend: &str, pg: Option<String>, secs: u64) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir, pg).await;
    let single = db.clone();
    let r = drive(secs, move |id| {
        let db = single.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            let _ = Debit(id).apply(&mut tx, &mut ()).await.unwrap();
            tx.commit().await.unwrap();
        }
    })
    .await;
    report(backend, "one commit per write", &r);
    for max_batch in [10, 128] {
        let config = GroupConfig {
            max_batch,
            ..GroupConfig::default()
        };
        let writer = GroupCommit::spawn(db.clone(), config, "bench");
        let r = drive(secs, move |id| {
            let w = writer.clone();
            async move {
                let _ = w.submit(Debit(id)).await.unwrap();
            }
        })
        .await;
        report(
            backend,
            &format!("group commit, batches <= {max_batch}"),
            &r,
        );
    }
    db.close().await;
}

fn main() {
    let secs = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("| backend | mode | writes/s | p50 ms | p99 ms |\n|---|---|---|---|---|");
        bench("SQLite", None, secs).await;
        if let Some(pg) = testkit::fresh_database().await {
            bench("PostgreSQL", Some(pg.url().to_owned()), secs).await;
        }
    });
}
