//! The pool, transactions and migrations.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use platform::CommonConfig;
use platform::health::Check;
use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::Notify;

use crate::Error;

/// The kit's own tables (idempotency, outbox, inbox), applied before a service's.
static KIT: Migrations = Migrations {
    sqlite: sqlx::migrate!("./migrations/sqlite"),
    postgres: sqlx::migrate!("./migrations/postgres"),
};

/// Which backend is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file (embedded mode).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A service's migrations, one folder per backend (DDL differs: types, partial indexes).
#[derive(Debug)]
pub struct Migrations {
    /// `migrations/sqlite`.
    pub sqlite: Migrator,
    /// `migrations/postgres`.
    pub postgres: Migrator,
}

/// A pool on one of the two backends.
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    /// Woken when a transaction that wrote to the outbox commits.
    pub(crate) outbox_wake: Arc<Notify>,
    /// Woken when a transaction that queued jobs commits.
    pub(crate) jobs_wake: Arc<Notify>,
    /// Committed write transactions: the SQLite checkpointer skips an idle database.
    commits: Arc<AtomicU64>,
}

#[derive(Clone, Debug)]
enum Pool {
    /// SQLite allows one writer at a time: writes take the single connection of `write` and
    /// queue fairly in the pool, instead of spinning in SQLite's busy handler (whose sleeps of up
    /// to 100 ms made the tail latency of contended writes). Reads use `read`, concurrently (WAL).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// A borrowed connection of the live backend; see [`crate::on!`].
pub enum Exec<'a> {
    /// SQLite.
    Sqlite(&'a mut SqliteConnection),
    /// PostgreSQL.
    Postgres(&'a mut PgConnection),
}

/// A pooled connection (for reads outside a transaction).
pub enum Conn {
    /// SQLite.
    Sqlite(PoolConnection<Sqlite>),
    /// PostgreSQL.
    Postgres(PoolConnection<Postgres>),
}

impl Conn {
    /// The connection, to run queries on.
    pub fn exec(&mut self) -> Exec<'_> {
        match self {
            Self::Sqlite(c) => Exec::Sqlite(c),
            Self::Postgres(c) => Exec::Postgres(c),
        }
    }
}

/// A transaction of the live backend. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    inner: TxInner,
    wrote_outbox: bool,
    wrote_jobs: bool,
    outbox_wake: Arc<Notify>,
    jobs_wake: Arc<Notify>,
    commits: Arc<AtomicU64>,
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    /// The transaction's connection, to run queries on.
    pub fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => Exec::Sqlite(t),
            TxInner::Postgres(t) => Exec::Postgres(t),
        }
    }

    /// The live backend.
    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) fn mark_outbox(&mut self) {
        self.wrote_outbox = true;
    }

    /// Wakes the job workers once this transaction commits: done by every enqueue, and by a
    /// writer of rows a [`crate::jobs::BatchHandler`] takes as unqueued work.
    pub fn mark_jobs(&mut self) {
        self.wrote_jobs = true;
    }

    /// Rolls back now. Dropping a transaction rolls it back too, but in a task sqlx starts when
    /// the connection goes back to its pool, in no set order with what the caller does next:
    /// until then, on PostgreSQL, its row locks hold.
    pub async fn rollback(self) -> Result<(), Error> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// Commits; wakes the outbox relay when this transaction queued events.
    pub async fn commit(self) -> Result<(), Error> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        self.commits.fetch_add(1, Ordering::Relaxed);
        if self.wrote_outbox {
            self.outbox_wake.notify_one();
        }
        if self.wrote_jobs {
            self.jobs_wake.notify_waiters();
        }
        Ok(())
    }
}

/// Pooled SQLite connections for reads.
const SQLITE_POOL: u32 = 8;
/// Prepared statements the SQLite write connection keeps (sqlx's default is 100). Measured cost:
/// whatsapp-pricing's resident memory after a 5 s peak load went from 55 to 60 MiB.
const WRITE_STATEMENT_CACHE: usize = 512;
/// Most pooled PostgreSQL connections per service instance.
const PG_POOL: u32 = 16;

impl Db {
    /// Opens the service's database: `DATABASE_URL` when set (PostgreSQL, connected lazily so
    /// `/health` answers while it is down), else the SQLite file `<DATA_DIR>/<service>.db`,
    /// created with its directory when missing.
    pub async fn connect(common: &CommonConfig) -> Result<Self, Error> {
        let pool = match &common.database_url {
            Some(url) if !url.expose_secret().starts_with("sqlite:") => {
                let opts = PgConnectOptions::from_str(url.expose_secret())
                    .map_err(|_| Error::Setup("DATABASE_URL is not a valid PostgreSQL URL".into()))?
                    .application_name(common.service);
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(PG_POOL)
                        .acquire_timeout(Duration::from_secs(5))
                        .connect_lazy_with(opts),
                )
            }
            Some(url) => sqlite_pools(
                SqliteConnectOptions::from_str(url.expose_secret())
                    .map_err(|_| Error::Setup("DATABASE_URL is not a valid SQLite URL".into()))?,
            ),
            None => {
                std::fs::create_dir_all(&common.data_dir).map_err(|e| {
                    Error::Setup(format!("cannot create {}: {e}", common.data_dir.display()))
                })?;
                let file = common.data_dir.join(format!("{}.db", common.service));
                sqlite_pools(SqliteConnectOptions::new().filename(file))
            }
        };
        let commits = Arc::new(AtomicU64::new(0));
        if let Pool::Sqlite { read, write } = &pool {
            crate::checkpoint::spawn(read.clone(), write.clone(), Arc::clone(&commits));
        }
        Ok(Self {
            pool,
            outbox_wake: Arc::new(Notify::new()),
            jobs_wake: Arc::new(Notify::new()),
            commits,
        })
    }

    /// The live backend.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite { .. } => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so
    /// two writers queue on `busy_timeout` instead of failing when a read lock is upgraded.
    pub async fn begin(&self) -> Result<Tx, Error> {
        let inner = match &self.pool {
            Pool::Sqlite { write, .. } => {
                TxInner::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?)
            }
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            wrote_outbox: false,
            wrote_jobs: false,
            outbox_wake: Arc::clone(&self.outbox_wake),
            jobs_wake: Arc::clone(&self.jobs_wake),
            commits: Arc::clone(&self.commits),
        })
    }

    /// A pooled connection for reads.
    pub async fn conn(&self) -> Result<Conn, Error> {
        Ok(match &self.pool {
            Pool::Sqlite { read, .. } => Conn::Sqlite(read.acquire().await?),
            Pool::Postgres(p) => Conn::Postgres(p.acquire().await?),
        })
    }

    /// Connects with `common`, applies the kit's and the service's migrations, and closes: what
    /// a service's `Service::migrate` does.
    pub async fn migrate_service(common: &CommonConfig, service: &Migrations) -> Result<(), Error> {
        let db = Self::connect(common).await?;
        let result = db.migrate(service).await;
        db.close().await;
        result
    }

    /// Applies the kit's migrations, then the service's.
    pub async fn migrate(&self, service: &Migrations) -> Result<(), Error> {
        for set in [&KIT, service] {
            match &self.pool {
                Pool::Sqlite { write, .. } => tolerant(&set.sqlite).run(write).await?,
                Pool::Postgres(p) => tolerant(&set.postgres).run(p).await?,
            }
        }
        Ok(())
    }

    /// `SELECT 1`.
    pub async fn ping(&self) -> Result<(), Error> {
        match &self.pool {
            Pool::Sqlite { read, .. } => {
                sqlx::query("SELECT 1").execute(read).await?.rows_affected()
            }
            Pool::Postgres(p) => sqlx::query("SELECT 1").execute(p).await?.rows_affected(),
        };
        Ok(())
    }

    /// A readiness check named `database`.
    pub fn check(&self) -> Check {
        let db = self.clone();
        Check::new("database", move || {
            let db = db.clone();
            async move {
                db.ping()
                    .await
                    .map_err(|e| platform::problem::cause_chain(&e))
            }
        })
    }

    /// Closes the pool (at shutdown).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite { read, write } => {
                write.close().await;
                read.close().await;
            }
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// The kit's and the service's migrations share one history table; each ignores the other's.
fn tolerant(m: &Migrator) -> Migrator {
    let mut m2 = Migrator::with_migrations(m.iter().cloned().collect());
    m2.set_ignore_missing(true);
    m2
}

/// WAL for concurrent readers, `synchronous=FULL` so a 200 survives power loss, foreign keys on,
/// a busy timeout for writers of other processes (`easymo migrate` beside a running service), and
/// no checkpoint inside a commit: [`crate::checkpoint`] makes them beside the writer.
fn sqlite_pools(opts: SqliteConnectOptions) -> Pool {
    let opts = opts
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // 16 MiB of page cache per connection (the default is 2 MiB): hot ledgers and indexes
        // stay in memory instead of being re-read through the OS on every statement.
        .pragma("cache_size", "-16384")
        .pragma("temp_store", "memory")
        .pragma("wal_autocheckpoint", "0");
    let pool = |n: u32, opts: &SqliteConnectOptions| {
        SqlitePoolOptions::new()
            .max_connections(n)
            // A file handle in this process cannot go stale, and the liveness ping sqlx makes on
            // every acquire is a round trip to the connection's thread: one more context switch
            // per transaction and per read, on the path of every webhook's commit.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(opts.clone())
    };
    // The write connection runs the group-commit writers' multi-row statements, one SQL text per
    // batch size and table (up to 64 sizes each): with sqlx's default cache of 100 statements they
    // pushed each other out, and each batch re-prepared a statement of hundreds of parameters.
    let opts_write = opts.clone().statement_cache_capacity(WRITE_STATEMENT_CACHE);
    Pool::Sqlite {
        read: pool(SQLITE_POOL, &opts),
        write: pool(1, &opts_write),
    }
}
