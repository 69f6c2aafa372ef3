//! The store against a real database: SQLite here, PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use platform::{CommonConfig, Env};
use store::jobs::{self, Failed, NewJob, Retry, WorkerConfig};
use store::{Db, Error, idempotency, inbox, on, outbox};

struct TestDb {
    db: Db,
    dir: tempfile::TempDir,
    _pg: Option<testkit::TestDatabase>,
}

async fn test_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let mut env = Env::from_map([("DATA_DIR", dir.path().to_string_lossy().into_owned())]);
    let pg = testkit::fresh_database().await;
    if let Some(pg) = &pg {
        env.set("STORETEST_DATABASE_URL", pg.url());
    }
    let common = CommonConfig::load(&mut env, "storetest", 0, false);
    let db = Db::connect(&common).await.unwrap();
    db.migrate(&store::Migrations {
        sqlite: sqlx::migrate::Migrator::DEFAULT,
        postgres: sqlx::migrate::Migrator::DEFAULT,
    })
    .await
    .unwrap();
    TestDb { db, dir, _pg: pg }
}

fn req<'a>(key: &'a str, hash: &'a str) -> idempotency::Request<'a> {
    idempotency::Request {
        scope: "t:caller:route".into(),
        key,
        hash,
    }
}

#[tokio::test]
async fn idempotency_claims_replays_and_refuses_another_body() {
    let t = test_db().await;
    let r = req("key-0000000000000001", "h1");
    assert!(matches!(
        idempotency::claim(&t.db, &r).await.unwrap(),
        idempotency::Claim::Fresh
    ));
    assert!(matches!(
        idempotency::claim(&t.db, &r).await,
        Err(Error::IdempotencyInFlight)
    ));
    let mut tx = t.db.begin().await.unwrap();
    idempotency::complete(&mut tx, &r, 201, "{\"ok\":true}")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    match idempotency::claim(&t.db, &r).await.unwrap() {
        idempotency::Claim::Replay { status, body } => {
            assert_eq!((status, body.as_str()), (201, "{\"ok\":true}"));
        }
        other => panic!("expected a replay, got {other:?}"),
    }
    let other = req("key-0000000000000001", "h2");
    assert!(matches!(
        idempotency::claim(&t.db, &other).await,
        Err(Error::IdempotencyKeyReused)
    ));
}

#[tokio::test]
async fn an_effect_that_rolls_back_leaves_the_key_claimable_after_release() {
    let t = test_db().await;
    let r = req("key-0000000000000002", "h");
    idempotency::claim(&t.db, &r).await.unwrap();
    {
        let mut tx = t.db.begin().await.unwrap();
        idempotency::complete(&mut tx, &r, 200, "{}").await.unwrap();
        // Dropped without commit: the effect and its "done" mark vanish together.
    }
    idempotency::release(&t.db, &r).await.unwrap();
    assert!(matches!(
        idempotency::claim(&t.db, &r).await.unwrap(),
        idempotency::Claim::Fresh
    ));
}

#[tokio::test]
async fn outbox_events_are_published_after_commit_only() {
    let t = test_db().await;
    let bus = bus::Bus::memory();
    let seen = Arc::new(AtomicU32::new(0));
    let s = seen.clone();
    let stop = tokio_util::sync::CancellationToken::new();
    bus.subscribe(
        bus::Subscription::new("g", &["x.happened"]),
        bus::handler(move |_| {
            let s = s.clone();
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }),
        stop.clone(),
    );
    let e1 = bus::Envelope::new("x.happened", "t", "t1", serde_json::json!({})).unwrap();
    {
        let mut tx = t.db.begin().await.unwrap();
        outbox::enqueue(&mut tx, &e1).await.unwrap();
        // Rolled back: never published.
    }
    let e2 = bus::Envelope::new("x.happened", "t", "t1", serde_json::json!({})).unwrap();
    let mut tx = t.db.begin().await.unwrap();
    outbox::enqueue(&mut tx, &e2).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(outbox::relay_once(&t.db, &bus).await.unwrap(), 1);
    assert_eq!(
        outbox::relay_once(&t.db, &bus).await.unwrap(),
        0,
        "published once"
    );
    testkit::eventually(Duration::from_secs(5), || {
        let seen = seen.clone();
        async move { (seen.load(Ordering::SeqCst) == 1).then_some(()) }
    })
    .await;
    // With nothing pending, a round takes no write transaction: it does not wait for a writer
    // (on SQLite the one write connection, held here) to publish nothing.
    let held = t.db.begin().await.unwrap();
    let idle = tokio::time::timeout(Duration::from_secs(2), outbox::relay_once(&t.db, &bus)).await;
    assert_eq!(
        idle.expect("an idle round waited for the writer").unwrap(),
        0
    );
    drop(held);
    stop.cancel();
}

#[tokio::test]
async fn the_inbox_applies_each_event_once() {
    let t = test_db().await;
    let mut tx = t.db.begin().await.unwrap();
    assert!(inbox::first_time(&mut tx, "c", "e1").await.unwrap());
    assert!(!inbox::first_time(&mut tx, "c", "e1").await.unwrap());
    assert!(inbox::first_time(&mut tx, "other", "e1").await.unwrap());
    tx.commit().await.unwrap();
}

fn quick_retry(attempts: u32) -> Retry {
    Retry::Schedule(vec![Duration::ZERO; usize::try_from(attempts - 1).unwrap()])
}

async fn push(db: &Db, queue: &str, n: u32, retry: &Retry) {
    let mut tx = db.begin().await.unwrap();
    for i in 0..n {
        jobs::enqueue(
            &mut tx,
            &NewJob::new(queue, &serde_json::json!({"i": i}), retry).unwrap(),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_retried_then_dead_and_can_be_replayed_once() {
    let t = test_db().await;
    let retry = quick_retry(3);
    push(&t.db, "q", 1, &retry).await;
    let calls = Arc::new(AtomicU32::new(0));
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (c, h) = (calls.clone(), healthy.clone());
    let handler = jobs::handler(move |_job| {
        let (c, h) = (c.clone(), h.clone());
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            if h.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("upstream 503".into())
            }
        }
    });
    let cfg = WorkerConfig::new("q", retry);
    for _ in 0..3 {
        assert_eq!(jobs::work_once(&t.db, &cfg, &handler).await.unwrap(), 1);
    }
    assert_eq!(
        jobs::work_once(&t.db, &cfg, &handler).await.unwrap(),
        0,
        "dead jobs are not claimed"
    );
    let dead = jobs::dead(&t.db, "q", 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].last_error.as_deref(), Some("upstream 503"));
    healthy.store(true, Ordering::SeqCst);
    assert_eq!(
        jobs::replay(&t.db, "q", Some(&dead[0].id)).await.unwrap(),
        1
    );
    assert_eq!(
        jobs::replay(&t.db, "q", Some(&dead[0].id)).await.unwrap(),
        0,
        "replay is idempotent"
    );
    assert_eq!(jobs::work_once(&t.db, &cfg, &handler).await.unwrap(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(
        jobs::stats(&t.db, "q").await.unwrap(),
        jobs::Stats::default()
    );
}

#[tokio::test]
async fn a_failed_attempt_waits_for_its_backoff() {
    let t = test_db().await;
    let retry = Retry::Schedule(vec![Duration::from_secs(300)]);
    push(&t.db, "q", 1, &retry).await;
    let job = jobs::claim(&t.db, "q", 10, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0);
    match jobs::fail(&t.db, &job, "boom", &retry).await.unwrap() {
        Failed::Retried(at) => assert!(at > chrono::Utc::now() + chrono::Duration::seconds(290)),
        other => panic!("{other:?}"),
    }
    assert!(
        jobs::claim(&t.db, "q", 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    let s = jobs::stats(&t.db, "q").await.unwrap();
    assert_eq!((s.pending, s.running, s.dead), (1, 0, 0));
}

#[tokio::test]
async fn a_deferred_job_waits_keeps_its_attempts_and_survives_the_worker_completion() {
    let t = test_db().await;
    let retry = quick_retry(2);
    push(&t.db, "q", 1, &retry).await;
    let until = chrono::Utc::now() + chrono::Duration::milliseconds(400);
    let deferred = Arc::new(AtomicU32::new(0));
    let d = deferred.clone();
    let db = t.db.clone();
    // The handler defers and returns Ok: the worker's completion must not delete the job.
    let handler = jobs::handler(move |job| {
        let (d, db) = (d.clone(), db.clone());
        async move {
            assert!(jobs::defer(&db, &job, until).await?);
            d.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    let cfg = WorkerConfig::new("q", retry);
    assert_eq!(jobs::work_once(&t.db, &cfg, &handler).await.unwrap(), 1);
    assert_eq!(deferred.load(Ordering::SeqCst), 1);
    let s = jobs::stats(&t.db, "q").await.unwrap();
    assert_eq!((s.pending, s.running, s.dead), (1, 0, 0), "not deleted");
    assert!(
        jobs::claim(&t.db, "q", 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty(),
        "not claimable before `until`"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let job = jobs::claim(&t.db, "q", 10, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(job.attempts, 1, "the deferral spent no attempt");
    // A stale holder cannot defer a job it lost.
    let mut stale = job.clone();
    stale.lease_token = "stale".to_owned();
    assert!(!jobs::defer(&t.db, &stale, until).await.unwrap());
    let mut tx = t.db.begin().await.unwrap();
    jobs::complete(&mut tx, &job).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_holder_cannot_complete() {
    let t = test_db().await;
    let retry = quick_retry(5);
    push(&t.db, "q", 1, &retry).await;
    let stale = jobs::claim(&t.db, "q", 1, Duration::from_millis(1))
        .await
        .unwrap()
        .remove(0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let fresh = jobs::claim(&t.db, "q", 1, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(fresh.id, stale.id);
    assert_eq!(fresh.attempts, 2);
    let mut tx = t.db.begin().await.unwrap();
    assert!(matches!(
        jobs::complete(&mut tx, &stale).await,
        Err(Error::LeaseLost)
    ));
    drop(tx);
    let mut tx = t.db.begin().await.unwrap();
    jobs::complete(&mut tx, &fresh).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn concurrent_workers_never_take_the_same_job() {
    let t = test_db().await;
    let retry = quick_retry(1);
    push(&t.db, "q", 40, &retry).await;
    let claims = futures::future::join_all(
        (0..8).map(|_| jobs::claim(&t.db, "q", 10, Duration::from_secs(60))),
    )
    .await;
    let mut ids: Vec<String> = claims
        .into_iter()
        .flat_map(|c| c.unwrap())
        .map(|j| j.id)
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "a job was claimed twice");
    assert_eq!(total, 40);
}

#[tokio::test]
async fn dedupe_keys_allow_one_live_job() {
    let t = test_db().await;
    let retry = quick_retry(1);
    let mut tx = t.db.begin().await.unwrap();
    let mut job = NewJob::new("q", &serde_json::json!({}), &retry).unwrap();
    job.dedupe_key = Some("purchase-1");
    assert!(jobs::enqueue(&mut tx, &job).await.unwrap().is_some());
    assert!(jobs::enqueue(&mut tx, &job).await.unwrap().is_none());
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn many_jobs_queue_in_one_statement_and_keep_dedupe_keys() {
    let t = test_db().await;
    let retry = quick_retry(2);
    let keys: Vec<String> = (0..1500).map(|i| format!("m-{}", i % 1200)).collect();
    let batch: Vec<NewJob<'_>> = keys
        .iter()
        .map(|k| {
            let mut job = NewJob::new("many", &serde_json::json!({ "k": k }), &retry).unwrap();
            job.dedupe_key = Some(k);
            job
        })
        .collect();
    let mut tx = t.db.begin().await.unwrap();
    let mut live = NewJob::new("many", &serde_json::json!({}), &retry).unwrap();
    live.dedupe_key = Some("m-7");
    assert!(jobs::enqueue(&mut tx, &live).await.unwrap().is_some());
    // 1,200 distinct keys across two statements, one of them already live.
    assert_eq!(jobs::enqueue_many(&mut tx, &batch).await.unwrap(), 1199);
    assert_eq!(jobs::enqueue_many(&mut tx, &[]).await.unwrap(), 0);
    tx.commit().await.unwrap();
    let claimed = jobs::claim(&t.db, "many", 5000, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1200);
    assert!(claimed.iter().all(|j| j.max_attempts == 2));
}

#[tokio::test]
async fn the_backend_speaks_the_shared_sql_subset() {
    let t = test_db().await;
    let mut conn = t.db.conn().await.unwrap();
    let n: i64 = on!(conn.exec(), |c| sqlx::query_scalar("SELECT $1 + $1")
        .bind(21_i64)
        .fetch_one(c)
        .await
        .unwrap());
    assert_eq!(n, 42);
}

/// Runs `sql` in a transaction of its own.
async fn write_alone(db: &Db, sql: &'static str) {
    let mut tx = db.begin().await.unwrap();
    on!(tx.exec(), |c| sqlx::query(sql)
        .execute(c)
        .await
        .unwrap()
        .rows_affected());
    tx.commit().await.unwrap();
}

/// The write connection never checkpoints; the store's checkpointer does, beside it. Writes never
/// pause here: without the checkpointer, or with its read-side pass alone, this WAL grew to
/// 50 MB; with it, it starts over each time it reaches 4 MiB.
#[tokio::test]
async fn the_sqlite_wal_is_checkpointed_and_started_over_while_writes_go_on() {
    let t = test_db().await;
    if t.db.backend() != store::Backend::Sqlite {
        return;
    }
    write_alone(&t.db, "CREATE TABLE blobs (b BLOB NOT NULL)").await;
    let written = 2000_u64 * 16 * 1024;
    for _ in 0..2000 {
        write_alone(&t.db, "INSERT INTO blobs (b) VALUES (randomblob(16384))").await;
    }
    let wal = t.dir.path().join("storetest.db-wal");
    let size = std::fs::metadata(&wal).unwrap().len();
    assert!(
        size < written / 4,
        "the WAL is {size} bytes after {written} bytes written"
    );
    let mut conn = t.db.conn().await.unwrap();
    let rows: i64 = on!(conn.exec(), |c| sqlx::query_scalar(
        "SELECT count(*) FROM blobs"
    )
    .fetch_one(c)
    .await
    .unwrap());
    assert_eq!(rows, 2000);
}

mod group_commit {
    use super::*;
    use store::group::{GroupCommit, GroupConfig, Op};

    /// A conditional debit: refused (writing nothing) when the balance is short.
    struct Debit {
        account: &'static str,
        amount: i64,
    }

    #[derive(Debug, PartialEq)]
    struct Insufficient;

    impl Op for Debit {
        type Output = i64;
        type Refusal = Insufficient;
        type Batch = ();

        async fn apply(
            &self,
            tx: &mut store::Tx,
            _: &mut (),
        ) -> Result<Result<i64, Insufficient>, Error> {
            let row: Option<i64> = on!(tx.exec(), |c| sqlx::query_scalar(
                "UPDATE gc_accounts SET balance = balance - $1 WHERE id = $2 AND balance >= $1
                 RETURNING balance"
            )
            .bind(self.amount)
            .bind(self.account)
            .fetch_optional(c)
            .await?);
            Ok(row.ok_or(Insufficient))
        }
    }

    async fn accounts(db: &Db, balance: i64) {
        let mut tx = db.begin().await.unwrap();
        on!(tx.exec(), |c| sqlx::query(
            "CREATE TABLE gc_accounts (id TEXT PRIMARY KEY, balance BIGINT NOT NULL)"
        )
        .execute(c)
        .await
        .unwrap()
        .rows_affected());
        on!(tx.exec(), |c| sqlx::query(
            "INSERT INTO gc_accounts VALUES ('a', $1), ('b', $1)"
        )
        .bind(balance)
        .execute(c)
        .await
        .unwrap()
        .rows_affected());
        tx.commit().await.unwrap();
    }

    async fn balance(db: &Db, id: &str) -> i64 {
        let mut conn = db.conn().await.unwrap();
        on!(conn.exec(), |c| sqlx::query_scalar(
            "SELECT balance FROM gc_accounts WHERE id = $1"
        )
        .bind(id)
        .fetch_one(c)
        .await
        .unwrap())
    }

    #[tokio::test]
    async fn concurrent_debits_succeed_exactly_while_funds_last() {
        let t = test_db().await;
        accounts(&t.db, 500).await;
        let writer = GroupCommit::spawn(t.db.clone(), GroupConfig::default(), "test");
        let outcomes = futures::future::join_all((0..100).map(|_| {
            let w = writer.clone();
            async move {
                w.submit(Debit {
                    account: "a",
                    amount: 10,
                })
                .await
                .unwrap()
            }
        }))
        .await;
        let ok = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(ok, 50);
        assert!(
            outcomes
                .iter()
                .filter(|o| o.is_err())
                .all(|o| *o == Err(Insufficient))
        );
        assert_eq!(balance(&t.db, "a").await, 0, "durable once answered");
        assert_eq!(balance(&t.db, "b").await, 500);
    }

    /// Background work tells a lull from the gap between two batches by `idle_for`.
    #[tokio::test]
    async fn idle_for_counts_from_the_last_submission() {
        let t = test_db().await;
        accounts(&t.db, 100).await;
        let writer = GroupCommit::spawn(t.db.clone(), GroupConfig::default(), "test");
        let debit = || async {
            let one = Debit {
                account: "a",
                amount: 1,
            };
            writer.submit(one).await.unwrap().unwrap();
        };
        debit().await;
        assert!(writer.idle_for() < Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(30)).await;
        let idle = writer.idle_for();
        assert!(idle >= Duration::from_millis(30), "{idle:?}");
        // Bounded by the time since just before the submission (give or take the microseconds
        // it is kept in), not by `idle`: the debit's own commit can outlast 30 ms on a loaded
        // machine (CI saw it).
        let resubmitted = tokio::time::Instant::now();
        debit().await;
        assert!(
            writer.idle_for() <= resubmitted.elapsed() + Duration::from_millis(1),
            "a submission resets it"
        );
        assert_eq!(writer.waiting(), 0);
    }

    /// An operation that holds its batch until it gets a permit.
    struct Held(Arc<tokio::sync::Semaphore>);

    impl Op for Held {
        type Output = ();
        type Refusal = Insufficient;
        type Batch = ();

        async fn apply(
            &self,
            _: &mut store::Tx,
            _: &mut (),
        ) -> Result<Result<(), Insufficient>, Error> {
            if let Ok(permit) = self.0.acquire().await {
                permit.forget();
            }
            Ok(Ok(()))
        }
    }

    /// Background work gives way to operations queued for the next batch (`queued`), not to
    /// those already in the batch being applied (counted by `waiting` only).
    #[tokio::test]
    async fn queued_counts_the_operations_not_yet_in_a_batch() {
        let t = test_db().await;
        let config = GroupConfig {
            max_batch: 1,
            ..GroupConfig::default()
        };
        let writer = GroupCommit::spawn(t.db.clone(), config, "test");
        let open = Arc::new(tokio::sync::Semaphore::new(0));
        let calls: Vec<_> = (0..3)
            .map(|_| {
                let (w, o) = (writer.clone(), Arc::clone(&open));
                tokio::spawn(async move { w.submit(Held(o)).await })
            })
            .collect();
        while writer.waiting() < 3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Time for the writer to take the first into its batch.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(writer.submitted(), 3);
        assert_eq!(writer.queued(), 2, "one is in the batch being applied");
        open.add_permits(3);
        for call in calls {
            assert!(call.await.unwrap().unwrap().is_ok());
        }
        assert_eq!((writer.waiting(), writer.queued()), (0, 0));
    }

    /// An operation that fails unexpectedly (here: a missing table).
    struct Broken;

    impl Op for Broken {
        type Output = i64;
        type Refusal = Insufficient;
        type Batch = ();

        async fn apply(
            &self,
            tx: &mut store::Tx,
            _: &mut (),
        ) -> Result<Result<i64, Insufficient>, Error> {
            on!(tx.exec(), |c| sqlx::query("UPDATE no_such_table SET x = 1")
                .execute(c)
                .await?
                .rows_affected());
            Ok(Ok(0))
        }
    }

    enum Mixed {
        Debit(Debit),
        Broken(Broken),
    }

    impl Op for Mixed {
        type Output = i64;
        type Refusal = Insufficient;
        type Batch = ();

        async fn apply(
            &self,
            tx: &mut store::Tx,
            _: &mut (),
        ) -> Result<Result<i64, Insufficient>, Error> {
            match self {
                Self::Debit(d) => d.apply(tx, &mut ()).await,
                Self::Broken(b) => b.apply(tx, &mut ()).await,
            }
        }
    }

    #[tokio::test]
    async fn an_unexpected_error_fails_its_operation_alone() {
        let t = test_db().await;
        accounts(&t.db, 100).await;
        let config = GroupConfig {
            max_wait: Duration::from_millis(50),
            ..GroupConfig::default()
        };
        let writer = GroupCommit::spawn(t.db.clone(), config, "test");
        let (a, bad, b) = tokio::join!(
            writer.submit(Mixed::Debit(Debit {
                account: "a",
                amount: 30
            })),
            writer.submit(Mixed::Broken(Broken)),
            writer.submit(Mixed::Debit(Debit {
                account: "b",
                amount: 40
            })),
        );
        assert_eq!(a.unwrap(), Ok(70));
        assert!(bad.is_err());
        assert_eq!(b.unwrap(), Ok(60));
        assert_eq!(balance(&t.db, "a").await, 70);
        assert_eq!(balance(&t.db, "b").await, 60);
    }
}

#[tokio::test]
async fn idempotency_keys_are_purged_after_a_day() {
    let t = test_db().await;
    let old = req("key-0000000000000009", "h");
    idempotency::claim(&t.db, &old).await.unwrap();
    let fresh = req("key-0000000000000010", "h");
    idempotency::claim(&t.db, &fresh).await.unwrap();
    let long_ago = chrono::Utc::now() - chrono::Duration::hours(25);
    let mut tx = t.db.begin().await.unwrap();
    on!(tx.exec(), |c| sqlx::query(
        "UPDATE kit_idempotency SET created_at = $1 WHERE key = $2"
    )
    .bind(long_ago)
    .bind(old.key)
    .execute(c)
    .await
    .unwrap()
    .rows_affected());
    tx.commit().await.unwrap();
    assert_eq!(idempotency::purge(&t.db).await.unwrap(), 1);
    // The purged key can be used again; the fresh one is still held.
    assert!(matches!(
        idempotency::claim(&t.db, &old).await.unwrap(),
        idempotency::Claim::Fresh
    ));
    assert!(matches!(
        idempotency::claim(&t.db, &fresh).await,
        Err(Error::IdempotencyInFlight)
    ));
}

#[tokio::test]
async fn a_stopping_worker_finishes_the_job_in_hand_and_leaves_the_backlog_queued() {
    let t = test_db().await;
    let retry = quick_retry(3);
    push(&t.db, "backlog", 200, &retry).await;
    let mut env = Env::from_map([("DATA_DIR", "/nonexistent")]);
    let ctx = platform::Ctx {
        common: CommonConfig::load(&mut env, "storetest", 0, false),
        bus: bus::Bus::memory(),
        shutdown: tokio_util::sync::CancellationToken::new(),
        tasks: tokio_util::task::TaskTracker::new(),
        keys: platform::auth::JwtKeys::new(&[secrecy::SecretString::from(
            "a-test-key-of-at-least-32-characters".to_owned(),
        )])
        .unwrap(),
        redis: None,
    };
    let handled = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&handled);
    let handler = jobs::handler(move |_job| {
        let seen = Arc::clone(&seen);
        async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            seen.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    let mut cfg = WorkerConfig::new("backlog", retry.clone());
    cfg.concurrency = 1;
    jobs::spawn_worker(&ctx, t.db.clone(), cfg, handler);
    testkit::eventually(Duration::from_secs(10), || async {
        (handled.load(Ordering::SeqCst) >= 3).then_some(())
    })
    .await;
    ctx.shutdown.cancel();
    ctx.tasks.close();
    // 200 jobs of 10 ms would keep a worker that drains the backlog busy for 2 s.
    tokio::time::timeout(Duration::from_millis(500), ctx.tasks.wait())
        .await
        .expect("the worker stops without draining the backlog");
    let done = handled.load(Ordering::SeqCst);
    assert!(done < 200, "{done} handled");
    let left = jobs::claim(&t.db, "backlog", 500, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(left.len(), 200 - done as usize, "the rest stay queued");
}

/// Writes an effect (a job on queue `effects`) per job in the batch's transaction. The job whose
/// payload `i` is `fail_on` fails before writing; the one at `abort_on` errors after its write.
/// Odd jobs are left for the worker to complete.
struct Effects {
    fail_on: AtomicU32,
    abort_on: AtomicU32,
    committed: AtomicU32,
    seen: std::sync::Mutex<Vec<u64>>,
}

impl Effects {
    fn new(fail_on: u32, abort_on: u32) -> Self {
        Self {
            fail_on: AtomicU32::new(fail_on),
            abort_on: AtomicU32::new(abort_on),
            committed: AtomicU32::new(0),
            seen: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl jobs::BatchHandler for Effects {
    type Done = ();
    type Batch = ();

    async fn handle(
        &self,
        tx: &mut store::Tx,
        job: &jobs::Job,
        (): &mut (),
    ) -> Result<Result<(), jobs::JobError>, Error> {
        let payload: serde_json::Value = job.payload()?;
        let i = payload["i"].as_u64().unwrap();
        self.seen.lock().unwrap().push(i);
        if i == u64::from(self.fail_on.load(Ordering::SeqCst)) {
            return Ok(Err("this one fails".into()));
        }
        jobs::enqueue(tx, &NewJob::new("effects", &payload, &quick_retry(1))?).await?;
        if i == u64::from(self.abort_on.load(Ordering::SeqCst)) {
            return Err(Error::Setup("the database went away".into()));
        }
        if i.is_multiple_of(2) {
            jobs::complete(tx, job).await?;
        }
        Ok(Ok(()))
    }

    fn committed(&self, (): ()) {
        self.committed.fetch_add(1, Ordering::SeqCst);
    }

    async fn admit(&self, limit: usize) -> usize {
        limit.min(5)
    }
}

fn batch_config() -> WorkerConfig {
    let mut cfg = WorkerConfig::new("q", quick_retry(3));
    cfg.concurrency = 64;
    cfg
}

#[tokio::test]
async fn a_batch_commits_together_in_enqueue_order_and_a_failing_job_fails_alone() {
    let t = test_db().await;
    push(&t.db, "q", 7, &quick_retry(3)).await;
    let h = Effects::new(2, u32::MAX);
    let cfg = batch_config();
    assert_eq!(
        jobs::work_batch_once(&t.db, &cfg, &h).await.unwrap(),
        5,
        "admit limits the claim"
    );
    assert_eq!(
        *h.seen.lock().unwrap(),
        vec![0, 1, 2, 3, 4],
        "enqueue order"
    );
    // Job 2 failed before writing: its attempt is recorded and the batch went on.
    assert_eq!(h.committed.load(Ordering::SeqCst), 4);
    assert_eq!(jobs::stats(&t.db, "effects").await.unwrap().pending, 4);
    let q = jobs::stats(&t.db, "q").await.unwrap();
    assert_eq!(
        (q.pending, q.running, q.dead),
        (3, 0, 0),
        "2 is retried, 5 and 6 wait"
    );
    h.fail_on.store(u32::MAX, Ordering::SeqCst);
    assert_eq!(jobs::work_batch_once(&t.db, &cfg, &h).await.unwrap(), 3);
    assert_eq!(h.committed.load(Ordering::SeqCst), 7);
    assert_eq!(
        jobs::stats(&t.db, "effects").await.unwrap().pending,
        7,
        "every job's effect exactly once"
    );
    assert_eq!(
        jobs::stats(&t.db, "q").await.unwrap(),
        jobs::Stats::default(),
        "jobs the handler left are completed by the worker"
    );
}

#[tokio::test]
async fn an_error_after_a_write_rolls_the_batch_back_and_its_jobs_run_alone() {
    let t = test_db().await;
    push(&t.db, "q", 3, &quick_retry(3)).await;
    let h = Effects::new(u32::MAX, 1);
    assert_eq!(
        jobs::work_batch_once(&t.db, &batch_config(), &h)
            .await
            .unwrap(),
        3
    );
    assert_eq!(h.committed.load(Ordering::SeqCst), 2);
    assert_eq!(
        jobs::stats(&t.db, "effects").await.unwrap().pending,
        2,
        "1's write rolled back, twice; 0 and 2 applied once"
    );
    let q = jobs::stats(&t.db, "q").await.unwrap();
    assert_eq!((q.pending, q.running, q.dead), (1, 0, 0), "1 is retried");
}

/// A batch claims its jobs in its own transaction, so a failed batch's claim rolls back with it:
/// the attempt must then be counted by the jobs' own claims, or a job that always breaks its
/// batch would be retried for ever.
#[tokio::test]
async fn a_job_that_always_breaks_its_batch_runs_out_of_attempts() {
    let t = test_db().await;
    push(&t.db, "q", 2, &quick_retry(3)).await;
    let h = Effects::new(u32::MAX, 0);
    let cfg = batch_config();
    for _ in 0..3 {
        jobs::work_batch_once(&t.db, &cfg, &h).await.unwrap();
    }
    let q = jobs::stats(&t.db, "q").await.unwrap();
    assert_eq!(
        (q.pending, q.running, q.dead),
        (0, 0, 1),
        "0 is dead after its 3 attempts, 1 is done"
    );
    assert_eq!(jobs::dead(&t.db, "q", 10).await.unwrap().len(), 1);
    assert_eq!(
        jobs::stats(&t.db, "effects").await.unwrap().pending,
        1,
        "0's write never committed; 1's once"
    );
    assert_eq!(h.committed.load(Ordering::SeqCst), 1);
}

/// Never returns from the job whose payload `i` is `hang_on`: its round is abandoned, as when the
/// process dies in the middle of a batch.
struct Hangs {
    hang_on: u64,
}

impl jobs::BatchHandler for Hangs {
    type Done = ();
    type Batch = ();

    async fn handle(
        &self,
        _tx: &mut store::Tx,
        job: &jobs::Job,
        (): &mut (),
    ) -> Result<Result<(), jobs::JobError>, Error> {
        let payload: serde_json::Value = job.payload()?;
        if payload["i"].as_u64() == Some(self.hang_on) {
            std::future::pending::<()>().await;
        }
        Ok(Ok(()))
    }

    fn committed(&self, (): ()) {}
}

/// A batch whose claim is in its own transaction (SQLite) has not counted its attempt when the
/// process dies in it: a worker's first round after it starts claims with a commit of its own,
/// so a job that kills the process every time still runs out of attempts.
#[tokio::test]
async fn a_job_that_kills_its_worker_every_time_runs_out_of_attempts_across_restarts() {
    let t = test_db().await;
    push(&t.db, "q", 1, &quick_retry(3)).await;
    let h = Hangs { hang_on: 0 };
    if t.db.backend() == store::Backend::Sqlite {
        for _ in 0..2 {
            dies_in(jobs::work_batch_once(&t.db, &dying_config(), &h)).await;
        }
        let q = jobs::stats(&t.db, "q").await.unwrap();
        assert_eq!(
            (q.pending, q.dead),
            (1, 0),
            "rolled-back claims count nothing"
        );
    }
    dies_three_times_then_is_dead_lettered(&t.db, &h).await;
}

/// Short leases, for workers that "die".
fn dying_config() -> WorkerConfig {
    let mut cfg = batch_config();
    cfg.lease = Duration::from_millis(50);
    cfg
}

/// Asserts that `round` never finishes (the process "dies" in it), then waits past its lease and
/// the time a dropped transaction's rollback takes to reach the database.
async fn dies_in<T>(round: impl Future<Output = T>) {
    let round = tokio::time::timeout(Duration::from_millis(300), round).await;
    assert!(round.is_err(), "the batch never finishes");
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Restarts a worker whose one job (or unqueued item) kills it: three starts die, each counting
/// an attempt, and the next dead-letters the job without running it.
async fn dies_three_times_then_is_dead_lettered<H: jobs::BatchHandler>(db: &Db, h: &H) {
    for _ in 1..=3 {
        dies_in(jobs::work_batch_after_start(db, &dying_config(), h)).await;
    }
    let round = tokio::time::timeout(
        Duration::from_millis(300),
        jobs::work_batch_after_start(db, &dying_config(), h),
    )
    .await;
    assert_eq!(round.expect("no hang this time").unwrap(), 1);
    let q = jobs::stats(db, "q").await.unwrap();
    assert_eq!((q.pending, q.running, q.dead), (0, 0, 1));
}

/// Work kept in rows of its own (`work`, as the webhook worker keeps its messages) and handed to
/// rounds as unqueued jobs. Item `fail_on` fails before writing, `abort_on` errors after its
/// write, `hang_on` never returns, `defer_on` is put off once.
struct Work {
    fail_on: AtomicU32,
    abort_on: AtomicU32,
    hang_on: AtomicU32,
    defer_on: AtomicU32,
}

impl Work {
    fn new() -> Self {
        Self {
            fail_on: AtomicU32::new(u32::MAX),
            abort_on: AtomicU32::new(u32::MAX),
            hang_on: AtomicU32::new(u32::MAX),
            defer_on: AtomicU32::new(u32::MAX),
        }
    }
}

async fn work_rows(db: &Db, n: u32) {
    let mut tx = db.begin().await.unwrap();
    on!(tx.exec(), |c| sqlx::query(
        "CREATE TABLE work (k TEXT PRIMARY KEY, i BIGINT NOT NULL, done BIGINT NOT NULL)"
    )
    .execute(c)
    .await
    .unwrap()
    .rows_affected());
    for i in 0..n {
        on!(tx.exec(), |c| sqlx::query(
            "INSERT INTO work (k, i, done) VALUES ($1, $2, 0)"
        )
        .bind(format!("k{i}"))
        .bind(i64::from(i))
        .execute(c)
        .await
        .unwrap()
        .rows_affected());
    }
    tx.commit().await.unwrap();
}

/// `done` of every `work` row, by `i`.
async fn work_done(db: &Db) -> Vec<i64> {
    let mut conn = db.conn().await.unwrap();
    let rows: Vec<(i64,)> = on!(conn.exec(), |c| sqlx::query_as(
        "SELECT done FROM work ORDER BY i"
    )
    .fetch_all(c)
    .await
    .unwrap());
    rows.into_iter().map(|(d,)| d).collect()
}

impl jobs::BatchHandler for Work {
    type Done = ();
    type Batch = ();

    async fn unqueued(&self, tx: &mut store::Tx, limit: usize) -> Result<Vec<jobs::Job>, Error> {
        let lock = match tx.backend() {
            store::Backend::Sqlite => "",
            store::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "SELECT k, i FROM work WHERE done = 0 AND NOT EXISTS
               (SELECT 1 FROM kit_jobs WHERE queue = 'q' AND dedupe_key = work.k)
             ORDER BY i LIMIT $1{lock}"
        );
        let rows: Vec<(String, i64)> = on!(tx.exec(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(i64::try_from(limit).unwrap())
        .fetch_all(c)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(k, i)| {
                let payload = serde_json::json!({"k": k, "i": i}).to_string();
                jobs::Job::unqueued("q", k, payload, &quick_retry(3))
            })
            .collect())
    }

    async fn handle(
        &self,
        tx: &mut store::Tx,
        job: &jobs::Job,
        (): &mut (),
    ) -> Result<Result<(), jobs::JobError>, Error> {
        let payload: serde_json::Value = job.payload()?;
        let i = u32::try_from(payload["i"].as_u64().unwrap()).unwrap();
        if i == self.hang_on.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if i == self.fail_on.load(Ordering::SeqCst) {
            return Ok(Err("this one fails".into()));
        }
        let defer = self
            .defer_on
            .compare_exchange(i, u32::MAX, Ordering::SeqCst, Ordering::SeqCst);
        if defer.is_ok() {
            assert!(jobs::defer_in(tx, job, chrono::Utc::now()).await?);
            return Ok(Ok(()));
        }
        on!(tx.exec(), |c| sqlx::query(
            "UPDATE work SET done = done + 1 WHERE k = $1"
        )
        .bind(payload["k"].as_str().unwrap())
        .execute(c)
        .await?
        .rows_affected());
        if i == self.abort_on.load(Ordering::SeqCst) {
            return Err(Error::Setup("the database went away".into()));
        }
        Ok(Ok(()))
    }

    fn committed(&self, (): ()) {}
}

/// Unqueued work done at the first try never gets a job row (on SQLite; on PostgreSQL a round
/// queues it before its claim commits); what is put off or fails gets one, and every item's
/// effect happens once.
#[tokio::test]
async fn unqueued_work_gets_a_job_row_only_when_put_off_or_failed() {
    let t = test_db().await;
    work_rows(&t.db, 5).await;
    let h = Work::new();
    h.fail_on.store(1, Ordering::SeqCst);
    h.defer_on.store(3, Ordering::SeqCst);
    let cfg = batch_config();
    assert_eq!(jobs::work_batch_once(&t.db, &cfg, &h).await.unwrap(), 5);
    assert_eq!(work_done(&t.db).await, vec![1, 0, 1, 0, 1]);
    let q = jobs::stats(&t.db, "q").await.unwrap();
    assert_eq!(
        (q.pending, q.running, q.dead),
        (2, 0, 0),
        "1 waits for its retry, 3 for its turn"
    );
    h.fail_on.store(u32::MAX, Ordering::SeqCst);
    assert_eq!(jobs::work_batch_once(&t.db, &cfg, &h).await.unwrap(), 2);
    assert_eq!(
        work_done(&t.db).await,
        vec![1; 5],
        "each effect exactly once"
    );
    assert_eq!(
        jobs::stats(&t.db, "q").await.unwrap(),
        jobs::Stats::default()
    );
    assert_eq!(
        jobs::work_batch_once(&t.db, &cfg, &h).await.unwrap(),
        0,
        "nothing is left"
    );
}

/// Unqueued work whose batch rolls back has no attempt counted by it: the fallback claims the
/// batch's work with job rows, in a commit, so it still runs out of attempts.
#[tokio::test]
async fn unqueued_work_that_always_breaks_its_batch_runs_out_of_attempts() {
    let t = test_db().await;
    work_rows(&t.db, 2).await;
    let h = Work::new();
    h.abort_on.store(0, Ordering::SeqCst);
    let cfg = batch_config();
    for _ in 0..3 {
        jobs::work_batch_once(&t.db, &cfg, &h).await.unwrap();
    }
    let q = jobs::stats(&t.db, "q").await.unwrap();
    assert_eq!(
        (q.pending, q.running, q.dead),
        (0, 0, 1),
        "0 is dead, 1 done"
    );
    assert_eq!(
        work_done(&t.db).await,
        vec![0, 1],
        "0's write never committed"
    );
}

/// Unqueued work that kills the process in its batch: the first round after a start gives it a
/// job row and counts its attempt, so it is dead-lettered after its last.
#[tokio::test]
async fn unqueued_work_that_kills_its_worker_every_time_runs_out_of_attempts() {
    let t = test_db().await;
    work_rows(&t.db, 1).await;
    let h = Work::new();
    h.hang_on.store(0, Ordering::SeqCst);
    if t.db.backend() == store::Backend::Sqlite {
        dies_in(jobs::work_batch_once(&t.db, &dying_config(), &h)).await;
        let q = jobs::stats(&t.db, "q").await.unwrap();
        assert_eq!(
            (q.pending, q.dead),
            (0, 0),
            "still unqueued, nothing counted"
        );
    }
    dies_three_times_then_is_dead_lettered(&t.db, &h).await;
    assert_eq!(work_done(&t.db).await, vec![0]);
}
