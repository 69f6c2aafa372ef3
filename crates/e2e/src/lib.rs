//! Cross-service test harness: several services in one process on **one** event bus, the way
//! `easymo up` runs them, each on `127.0.0.1:0` with its own fresh database (a temporary SQLite
//! file, or a new PostgreSQL database when `TEST_DATABASE_URL` is set), its base URLs pointing at
//! the others, and each one stoppable and restartable alone (a crash between saga steps).
//!
//! The bus is in-process by default; with `REDIS_URL` set it is Redis Streams (as `easymo up`
//! chooses), in a namespace of its own per cluster, and every service also gets `REDIS_URL` for
//! its rate limits and caches under that namespace.
//!
//! `testkit::TestApp` starts one service on a bus of its own, so it cannot host a cross-service
//! flow; this harness uses the same start-up path underneath (`platform::service::{load,
//! start}`) and testkit's key, database and polling helpers. It is generic over
//! [`platform::Service`]: the services themselves are only dev-dependencies of the tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use platform::auth::JwtKeys;
use platform::service::{self, Options, Running};
use platform::{Env, Service};
use reqwest::{Method, RequestBuilder};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use testkit::{TEST_JWT_KEY, eventually};

type Starter = fn(Env, Options) -> Pin<Box<dyn Future<Output = anyhow::Result<Running>> + Send>>;

fn starter<S: Service>(
    env: Env,
    opts: Options,
) -> Pin<Box<dyn Future<Output = anyhow::Result<Running>> + Send>> {
    Box::pin(async move {
        let loaded = service::load::<S>(&env, true)?;
        service::start(loaded, opts).await
    })
}

/// One service of the cluster: its configuration survives a restart, its process state does not.
struct Node {
    name: &'static str,
    start: Starter,
    /// Its own variables (database, data directory, tuning).
    vars: Vec<(String, String)>,
    /// `(variable, service)`: set to that service's current base URL at each start.
    links: Vec<(String, &'static str)>,
    /// Where it listens while running (the last address once stopped).
    addr: Option<SocketAddr>,
    shutdown: CancellationToken,
    done: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
    _db: Option<testkit::TestDatabase>,
}

/// Services sharing one bus, started and stopped by name.
pub struct Cluster {
    /// The bus every service publishes to and consumes from.
    pub bus: bus::Bus,
    /// An HTTP client.
    pub client: reqwest::Client,
    keys: JwtKeys,
    redis: Option<(String, String)>,
    nodes: Vec<Node>,
}

impl Cluster {
    /// An empty cluster with its bus: in-process, or Redis Streams under `REDIS_URL`.
    pub fn new() -> Self {
        platform::client::install_tls();
        let redis = std::env::var("REDIS_URL")
            .ok()
            .map(|url| (url, format!("e2e:{}", ulid::Ulid::generate())));
        let bus = match &redis {
            None => bus::Bus::memory(),
            Some((url, prefix)) => bus::Bus::redis(url, prefix).expect("REDIS_URL is usable"),
        };
        let keys = JwtKeys::new(&[testkit::secret(TEST_JWT_KEY)]).expect("keys");
        Self {
            bus,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            keys,
            redis,
            nodes: Vec::new(),
        }
    }

    /// Adds `S` with its own fresh database and `vars`, and starts it. `links` are
    /// `(variable, service)` pairs: the variable gets that service's base URL (it must already be
    /// in the cluster), again at every restart.
    pub async fn add<S: Service>(
        &mut self,
        vars: &[(&str, &str)],
        links: &[(&str, &'static str)],
    ) -> SocketAddr {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut own = vec![
            (
                "DATA_DIR".to_owned(),
                dir.path().to_string_lossy().into_owned(),
            ),
            ("SERVICE_JWT_KEYS".to_owned(), TEST_JWT_KEY.to_owned()),
            ("LOG_FORMAT".to_owned(), "json".to_owned()),
            ("SHUTDOWN_DRAIN_TIMEOUT_MS".to_owned(), "5000".to_owned()),
        ];
        let db = testkit::fresh_database().await;
        if let Some(db) = &db {
            own.push(("DATABASE_URL".to_owned(), db.url().to_owned()));
        }
        if let Some((url, prefix)) = &self.redis {
            own.push(("REDIS_URL".to_owned(), url.clone()));
            own.push(("REDIS_KEY_PREFIX".to_owned(), prefix.clone()));
        }
        own.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self.nodes.push(Node {
            name: S::NAME,
            start: starter::<S>,
            vars: own,
            links: links.iter().map(|(k, s)| ((*k).to_owned(), *s)).collect(),
            addr: None,
            shutdown: CancellationToken::new(),
            done: None,
            _dir: dir,
            _db: db,
        });
        self.start(S::NAME).await
    }

    fn index(&self, name: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .unwrap_or_else(|| panic!("no service `{name}` in the cluster"))
    }

    /// Starts the (stopped) service `name` again on its database and the shared bus, on a new
    /// port, with its links pointing at the others' current addresses.
    pub async fn start(&mut self, name: &str) -> SocketAddr {
        let i = self.index(name);
        assert!(self.nodes[i].done.is_none(), "`{name}` is already running");
        let mut env = Env::from_map(self.nodes[i].vars.clone());
        for (var, target) in &self.nodes[i].links {
            env.set(var, self.url(target, ""));
        }
        if std::env::var("TEST_LOG").is_ok() {
            let _ = platform::telemetry::init(&env, "e2e");
        }
        let shutdown = CancellationToken::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let opts = Options {
            bus: self.bus.clone(),
            shutdown: shutdown.clone(),
            migrate: true,
            listener: Some(listener),
        };
        let running = (self.nodes[i].start)(env, opts)
            .await
            .unwrap_or_else(|e| panic!("{name} starts: {e:#}"));
        let node = &mut self.nodes[i];
        node.addr = Some(running.addr);
        node.shutdown = shutdown;
        node.done = Some(running.done);
        running.addr
    }

    /// Stops `name` (cancel, then wait for it to drain its requests and jobs); its database and
    /// bus consumer group stay for [`Cluster::start`].
    pub async fn stop(&mut self, name: &str) {
        let i = self.index(name);
        let node = &mut self.nodes[i];
        node.shutdown.cancel();
        if let Some(done) = node.done.take() {
            done.await
                .expect("service task")
                .unwrap_or_else(|e| panic!("{name} stopped with an error: {e:#}"));
        }
    }

    /// `http://<addr of name><path>` (its last address when stopped).
    pub fn url(&self, name: &str, path: &str) -> String {
        let addr = self.nodes[self.index(name)]
            .addr
            .unwrap_or_else(|| panic!("`{name}` never started"));
        format!("http://{addr}{path}")
    }

    /// A service token for `name` (the audience) with `scopes`, like testkit's.
    pub fn token(&self, name: &str, scopes: &[&str]) -> String {
        self.keys
            .mint("e2e", name, scopes, None, Duration::from_secs(300))
            .expect("mint")
    }

    /// A request to service `name` carrying a token with `scopes`.
    pub fn req(&self, name: &str, method: Method, path: &str, scopes: &[&str]) -> RequestBuilder {
        self.client
            .request(method, self.url(name, path))
            .bearer_auth(self.token(name, scopes))
    }
}

impl Default for Cluster {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &self.nodes {
            n.shutdown.cancel();
        }
    }
}
