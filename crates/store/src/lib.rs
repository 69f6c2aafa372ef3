//! Storage for every service: a typed pool for SQLite (embedded) or PostgreSQL (at scale), chosen
//! by `DATABASE_URL`; embedded migrations; idempotency keys; the transactional outbox and inbox.
//!
//! Not `sqlx::Any`, which carries no timestamps or JSON: the pool is an enum of the two typed
//! pools, and [`on!`] compiles one query text against whichever backend is live, so the SQL is
//! written once (in the subset both speak: `$1`, `RETURNING`, `ON CONFLICT`, CTEs).

mod checkpoint;
mod db;
mod error;
pub mod group;
pub mod idempotency;
pub mod inbox;
pub mod jobs;
pub mod outbox;

pub use db::{Backend, Conn, Db, Exec, Migrations, Tx};
pub use error::{Error, ResultExt};

use std::time::Duration;

/// How often kit tables are pruned.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);

/// `outer: inner: root`, for one log line.
pub(crate) fn error_chain(e: &Error) -> String {
    platform::problem::cause_chain(e)
}

/// Starts the kit's background work for a service's database: the outbox relay, and hourly
/// pruning of published events and expired idempotency keys.
pub fn spawn_background(ctx: &platform::Ctx, db: &Db) {
    outbox::spawn_relay(ctx, db.clone());
    let db = db.clone();
    let stop = ctx.shutdown.clone();
    ctx.spawn("store-housekeeping", async move {
        let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
        loop {
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            if let Err(e) = outbox::purge(&db).await {
                tracing::warn!(error = %platform::problem::cause_chain(&e), "outbox purge failed");
            }
            if let Err(e) = idempotency::purge(&db).await {
                tracing::warn!(error = %platform::problem::cause_chain(&e), "idempotency purge failed");
            }
        }
    });
}

/// Runs `$body` with `$c` bound to the live backend's connection (`&mut SqliteConnection` or
/// `&mut PgConnection`); the body is compiled once per backend.
///
/// ```ignore
/// store::on!(tx.exec(), |c| sqlx::query("DELETE FROM t WHERE id = $1").bind(id).execute(c).await)
/// ```
#[macro_export]
macro_rules! on {
    ($exec:expr, |$c:ident| $body:expr) => {
        match $exec {
            $crate::Exec::Sqlite($c) => $body,
            $crate::Exec::Postgres($c) => $body,
        }
    };
}

/// Runs one multi-row `INSERT` of `$items` on `$exec`, compiled once per backend:
/// `insert_many!(tx.exec(), "INSERT INTO t (a, b) ", rows, |b, r| { b.push_bind(&r.a); b.push_bind(r.b); })`,
/// optionally followed by a clause such as `" ON CONFLICT DO NOTHING"`. Nothing is sent for an
/// empty list.
#[macro_export]
macro_rules! insert_many {
    ($exec:expr, $sql:expr, $items:expr, |$b:ident, $it:ident| $body:block) => {
        $crate::insert_many!($exec, $sql, $items, |$b, $it| $body, "")
    };
    ($exec:expr, $sql:expr, $items:expr, |$b:ident, $it:ident| $body:block, $suffix:expr) => {{
        let items = $items;
        if items.is_empty() {
            Ok::<u64, ::sqlx::Error>(0)
        } else {
            match $exec {
                $crate::Exec::Sqlite(c) => {
                    let mut qb = ::sqlx::QueryBuilder::<::sqlx::Sqlite>::new($sql);
                    qb.push_values(items.iter(), |mut $b, $it| $body);
                    qb.push($suffix);
                    qb.build().execute(c).await.map(|r| r.rows_affected())
                }
                $crate::Exec::Postgres(c) => {
                    let mut qb = ::sqlx::QueryBuilder::<::sqlx::Postgres>::new($sql);
                    qb.push_values(items.iter(), |mut $b, $it| $body);
                    qb.push($suffix);
                    qb.build().execute(c).await.map(|r| r.rows_affected())
                }
            }
        }
    }};
}

/// Appends `(a, b, …)` with each of `items` bound: the list of an `IN`.
pub fn push_list<'t, DB, T>(qb: &mut sqlx::QueryBuilder<DB>, items: impl IntoIterator<Item = T>)
where
    DB: sqlx::Database,
    T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    qb.push("(");
    let mut list = qb.separated(", ");
    for item in items {
        list.push_bind(item);
    }
    qb.push(")");
}

/// Builds a [`Migrations`] from a service's `migrations/sqlite` and `migrations/postgres`
/// folders (paths relative to the calling crate).
#[macro_export]
macro_rules! migrations {
    () => {
        $crate::Migrations {
            sqlite: ::sqlx::migrate!("./migrations/sqlite"),
            postgres: ::sqlx::migrate!("./migrations/postgres"),
        }
    };
}
