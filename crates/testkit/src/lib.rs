//! Test support: [`TestApp::spawn`] starts a real service through the same path as `easymo serve`,
//! on `127.0.0.1:0`, against a fresh database: a temporary SQLite file, or a new PostgreSQL
//! database when `TEST_DATABASE_URL` is set (CI runs the suite once each way).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use platform::auth::JwtKeys;
use platform::service::{self, Loaded, Options};
use platform::{Env, Service};
use reqwest::{Method, RequestBuilder};
use secrecy::SecretString;
use sqlx::Connection;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The signing key every test app trusts.
pub const TEST_JWT_KEY: &str = "testkit-signing-key-0123456789abcdefghij";

/// A service running for one test.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The bus it publishes to.
    pub bus: bus::Bus,
    /// Its service name (token audience).
    pub service: &'static str,
    /// The environment it was started with (to restart it on the same database).
    pub env: Env,
    keys: JwtKeys,
    shutdown: CancellationToken,
    done: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
    _db: Option<TestDatabase>,
}

/// Test databases are named `test_<ulid>`; the ULID's time says when one was made.
const TEST_DB_PREFIX: &str = "test_";

/// Test databases older than this are left over from finished runs: no test runs this long, and
/// the margin covers clocks that disagree between machines sharing a cluster.
const TEST_DB_MAX_AGE: Duration = Duration::from_secs(6 * 3600);

/// A test's own PostgreSQL database, dropped when this value is: a test run leaves nothing behind
/// (CI's disk holds one run's build, not one run's ~450 databases as well). Set
/// `TEST_KEEP_DATABASES=1` to keep them for a look after the run.
pub struct TestDatabase {
    admin: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// The URL of the database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::env::var_os("TEST_KEEP_DATABASES").is_some() {
            return;
        }
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside the test's runtime, which cannot be blocked on; a thread with a
        // runtime of its own can. Failing to drop is harmless: the sweep takes it later.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            // Bounded: a test never hangs on its cleanup (a database left is swept later).
            rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), drop_database(&admin, &name)).await?
            })
        })
        .join();
    }
}

async fn drop_database(admin: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(admin).await?;
    // FORCE: the app's pool may still hold connections while it shuts down.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}

/// A fresh PostgreSQL database under `TEST_DATABASE_URL`, or `None` for SQLite. Each call first
/// drops test databases older than `TEST_DB_MAX_AGE`, which a killed run may have left.
pub async fn fresh_database() -> Option<TestDatabase> {
    let admin = std::env::var("TEST_DATABASE_URL").ok()?;
    let name = format!(
        "{TEST_DB_PREFIX}{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("TEST_DATABASE_URL must reach PostgreSQL");
    drop_stale_databases(&mut conn).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    Some(TestDatabase { admin, name, url })
}

/// Whether a database name is a test database made before `now_ms - TEST_DB_MAX_AGE`.
pub fn is_stale_test_database(name: &str, now_ms: u64) -> bool {
    let Some(id) = name.strip_prefix(TEST_DB_PREFIX) else {
        return false;
    };
    let Ok(id) = ulid::Ulid::from_string(&id.to_uppercase()) else {
        return false;
    };
    let max_age = u64::try_from(TEST_DB_MAX_AGE.as_millis()).unwrap_or(u64::MAX);
    id.timestamp_ms().saturating_add(max_age) < now_ms
}

/// Drops stale test databases; another run sweeping at the same time is harmless (`IF EXISTS`).
async fn drop_stale_databases(conn: &mut sqlx::PgConnection) {
    let now_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(u64::MAX);
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for (name,) in names {
        if is_stale_test_database(&name, now_ms) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

impl TestApp {
    /// Starts `S` with default settings.
    pub async fn spawn<S: Service>() -> Self {
        Self::spawn_with::<S>(&[]).await
    }

    /// Starts `S` with extra environment variables.
    pub async fn spawn_with<S: Service>(vars: &[(&str, &str)]) -> Self {
        Self::spawn_inner::<S>(vars, true).await
    }

    /// Starts `S` without applying migrations (for a database that cannot be reached).
    pub async fn spawn_unmigrated<S: Service>(vars: &[(&str, &str)]) -> Self {
        Self::spawn_inner::<S>(vars, false).await
    }

    async fn spawn_inner<S: Service>(vars: &[(&str, &str)], migrate: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = Env::from_map([
            ("DATA_DIR", dir.path().to_string_lossy().into_owned()),
            ("SERVICE_JWT_KEYS", TEST_JWT_KEY.to_owned()),
            ("LOG_FORMAT", "json".to_owned()),
            ("SHUTDOWN_DRAIN_TIMEOUT_MS", "5000".to_owned()),
        ]);
        let db = fresh_database().await;
        if let Some(db) = &db {
            env.set("DATABASE_URL", db.url());
        }
        // At scale (CI's second run) services use Redis too, each test app in its own namespace.
        if let Ok(url) = std::env::var("REDIS_URL") {
            env.set("REDIS_URL", url);
            env.set(
                "REDIS_KEY_PREFIX",
                format!("test:{}", ulid::Ulid::generate()),
            );
        }
        for (k, v) in vars {
            env.set(*k, *v);
        }
        Self::start::<S>(env, dir, db, bus::Bus::memory(), migrate).await
    }

    async fn start<S: Service>(
        env: Env,
        dir: tempfile::TempDir,
        db: Option<TestDatabase>,
        bus: bus::Bus,
        migrate: bool,
    ) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            let _ = platform::telemetry::init(&env, "testkit");
        }
        platform::client::install_tls();
        let loaded: Loaded<S> = service::load(&env, true).expect("test config is valid");
        let keys = JwtKeys::new(&loaded.common.jwt_keys).expect("keys");
        let shutdown = CancellationToken::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let running = service::start(
            loaded,
            Options {
                bus: bus.clone(),
                shutdown: shutdown.clone(),
                migrate,
                listener: Some(listener),
            },
        )
        .await
        .expect("service starts");
        Self {
            addr: running.addr,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            bus,
            service: S::NAME,
            env,
            keys,
            shutdown,
            done: Some(running.done),
            _dir: dir,
            _db: db,
        }
    }

    /// Stops this app and starts `S` again on the same database and bus (a restart).
    pub async fn restart<S: Service>(mut self) -> Self {
        self.stop_in_place().await;
        let env = self.env.clone();
        let bus = self.bus.clone();
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        let db = self._db.take();
        Self::start::<S>(env, dir, db, bus, true).await
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A token for this service with `scopes`.
    pub fn token(&self, scopes: &[&str]) -> String {
        self.keys
            .mint(
                "testkit",
                self.service,
                scopes,
                None,
                Duration::from_secs(300),
            )
            .expect("mint")
    }

    /// A token bound to `tenant`.
    pub fn tenant_token(&self, tenant: &str, scopes: &[&str]) -> String {
        self.keys
            .mint(
                "testkit",
                self.service,
                scopes,
                Some(tenant),
                Duration::from_secs(300),
            )
            .expect("mint")
    }

    /// A request without credentials.
    pub fn anon(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request carrying a token with `scopes`.
    pub fn req(&self, method: Method, path: &str, scopes: &[&str]) -> RequestBuilder {
        self.anon(method, path).bearer_auth(self.token(scopes))
    }

    /// Cancels the service and waits for it to drain.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.done.take() {
            Some(h) => h.await?,
            None => Ok(()),
        }
    }

    async fn stop_in_place(&mut self) {
        self.shutdown.cancel();
        if let Some(h) = self.done.take() {
            let _ = h.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Polls `f` until it returns `Some`, for effects that are truly asynchronous (event relays).
pub async fn eventually<T, F, Fut>(deadline: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = tokio::time::Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "condition not met within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A secret from a literal (tests only).
pub fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}
