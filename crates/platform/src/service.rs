//! The `Service` trait and the one start-up path shared by `easymo serve`, `easymo up` and the
//! test kit: config -> migrate (when asked) -> build -> serve -> drain -> close.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::auth::JwtKeys;
use crate::config::{CommonConfig, ConfigError, Env};
use crate::health::{Check, Readiness};

/// What a service is: a name, a default port, its own typed config, and how to build it.
pub trait Service: Send + Sync + 'static {
    /// Name in ARCHITECTURE's table; also the JWT audience and the `service` log/metric label.
    const NAME: &'static str;
    /// Port in ARCHITECTURE's table.
    const DEFAULT_PORT: u16;
    /// The default largest request body (`<SERVICE>_HTTP_BODY_LIMIT_BYTES` overrides it).
    const BODY_LIMIT_BYTES: usize = crate::config::DEFAULT_BODY_LIMIT;
    /// The service's own settings (beyond [`CommonConfig`]).
    type Config: Clone + Send + Sync + std::fmt::Debug + 'static;

    /// Reads the service's own variables, recording every problem in `env`.
    fn config(env: &mut Env) -> Self::Config;

    /// The OpenAPI document served at `/openapi.json` (and committed, drift-checked).
    fn openapi() -> utoipa::openapi::OpenApi;

    /// Applies the service's migrations to its database.
    fn migrate(ctx: &Ctx, config: &Self::Config)
    -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Builds routes, background tasks and readiness checks. Connections are made lazily, so a
    /// dependency that is down shows in `/ready`, not as a failed start.
    fn build(ctx: &Ctx, config: Self::Config)
    -> impl Future<Output = anyhow::Result<Built>> + Send;
}

/// What a service hands the kit to serve.
pub struct Built {
    /// Routes behind service auth (deny by default).
    pub router: Router,
    /// Routes that authenticate themselves (provider webhooks).
    pub public: Router,
    /// Readiness checks of the service's dependencies.
    pub checks: Vec<Check>,
    /// Run after the server and background tasks stop (close pools, flush).
    pub on_shutdown: Vec<BoxFuture<'static, ()>>,
}

impl Built {
    /// A service with only authenticated routes.
    pub fn new(router: Router) -> Self {
        Self {
            router,
            public: Router::new(),
            checks: Vec::new(),
            on_shutdown: Vec::new(),
        }
    }
}

/// What the kit gives a service to build itself with.
#[derive(Clone)]
pub struct Ctx {
    /// Shared settings.
    pub common: CommonConfig,
    /// The event bus.
    pub bus: bus::Bus,
    /// Cancelled when this service must stop.
    pub shutdown: CancellationToken,
    /// Background tasks, awaited (within the drain bound) at shutdown.
    pub tasks: TaskTracker,
    /// Service-token keys.
    pub keys: JwtKeys,
    /// The shared Redis connection, when `REDIS_URL` is set.
    pub redis: Option<redis::aio::ConnectionManager>,
}

impl Ctx {
    /// Runs a background task under this service's tracker and span; its error is logged.
    pub fn spawn<F>(&self, name: &'static str, fut: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let span = tracing::info_span!("task", service = self.common.service, task = name);
        self.tasks.spawn(
            async move {
                if let Err(e) = fut.await {
                    tracing::error!(error = format!("{e:#}"), "background task failed");
                }
            }
            .instrument(span),
        );
    }
}

/// A service's validated configuration.
#[derive(Debug, Clone)]
pub struct Loaded<S: Service> {
    /// Shared settings.
    pub common: CommonConfig,
    /// Its own settings.
    pub config: S::Config,
}

/// Every variable `S` reads, with what each expects (for `.env.example`).
pub fn variables<S: Service>() -> Vec<(String, String)> {
    let mut env = Env::from_map(std::iter::empty::<(String, String)>());
    let _ = CommonConfig::load_with(
        &mut env,
        S::NAME,
        S::DEFAULT_PORT,
        true,
        S::BODY_LIMIT_BYTES,
    );
    let _ = S::config(&mut env);
    env.consulted().to_vec()
}

/// Reads and validates every setting of `S`; all problems at once.
pub fn load<S: Service>(env: &Env, single: bool) -> Result<Loaded<S>, ConfigError> {
    let mut env = env.clone();
    let common = CommonConfig::load_with(
        &mut env,
        S::NAME,
        S::DEFAULT_PORT,
        single,
        S::BODY_LIMIT_BYTES,
    );
    let config = S::config(&mut env);
    env.finish(Loaded { common, config })
}

/// How to start a service.
pub struct Options {
    /// The bus to use (one per process).
    pub bus: bus::Bus,
    /// Cancelled to stop the service.
    pub shutdown: CancellationToken,
    /// Apply migrations first.
    pub migrate: bool,
    /// A listener bound by the caller (tests bind port 0); else bind the configured port.
    pub listener: Option<TcpListener>,
}

/// A service that is serving.
pub struct Running {
    /// Service name.
    pub name: &'static str,
    /// Bound address.
    pub addr: SocketAddr,
    /// Ends when the service has stopped and drained.
    pub done: JoinHandle<anyhow::Result<()>>,
}

fn context(loaded_common: &CommonConfig, opts: &Options) -> anyhow::Result<Ctx> {
    let keys = JwtKeys::new(&loaded_common.jwt_keys).context("no service JWT key configured")?;
    let redis = match &loaded_common.redis_url {
        Some(url) => {
            Some(crate::redis::connect(url).context("REDIS_URL is not a valid Redis URL")?)
        }
        None => None,
    };
    Ok(Ctx {
        common: loaded_common.clone(),
        bus: opts.bus.clone(),
        shutdown: opts.shutdown.clone(),
        tasks: TaskTracker::new(),
        keys,
        redis,
    })
}

/// Applies `S`'s migrations and returns.
pub async fn migrate<S: Service>(loaded: &Loaded<S>, bus: bus::Bus) -> anyhow::Result<()> {
    let opts = Options {
        bus,
        shutdown: CancellationToken::new(),
        migrate: true,
        listener: None,
    };
    let ctx = context(&loaded.common, &opts)?;
    S::migrate(&ctx, &loaded.config)
        .await
        .with_context(|| format!("migrating {}", S::NAME))
}

/// Starts `S`: migrate if asked, build, bind, serve in the background.
pub async fn start<S: Service>(loaded: Loaded<S>, opts: Options) -> anyhow::Result<Running> {
    crate::metrics::install();
    let ctx = context(&loaded.common, &opts)?;
    if opts.migrate {
        S::migrate(&ctx, &loaded.config)
            .await
            .with_context(|| format!("migrating {}", S::NAME))?;
    }
    let mut built = S::build(&ctx, loaded.config)
        .await
        .with_context(|| format!("building {}", S::NAME))?;
    if let Some(conn) = &ctx.redis {
        built.checks.push(crate::redis::check(conn));
    }
    let bus = ctx.bus.clone();
    built.checks.push(Check::new("bus", move || {
        let bus = bus.clone();
        async move { bus.ping().await.map_err(|e| e.to_string()) }
    }));
    let readiness = Readiness::new(
        S::NAME,
        std::mem::take(&mut built.checks),
        ctx.common.ready_timeout,
        ctx.shutdown.clone(),
    );
    let on_shutdown = std::mem::take(&mut built.on_shutdown);
    let router = crate::server::app(built, S::openapi(), &ctx, readiness);
    let listener = match opts.listener {
        Some(l) => l,
        None => {
            let addr = format!("{}:{}", ctx.common.host, ctx.common.port);
            TcpListener::bind(&addr)
                .await
                .with_context(|| format!("binding {addr} for {}", S::NAME))?
        }
    };
    let addr = listener.local_addr()?;
    tracing::info!(service = S::NAME, %addr, "listening");
    let done = tokio::spawn(run(ctx, listener, router, on_shutdown));
    Ok(Running {
        name: S::NAME,
        addr,
        done,
    })
}

async fn run(
    ctx: Ctx,
    listener: TcpListener,
    router: Router,
    on_shutdown: Vec<BoxFuture<'static, ()>>,
) -> anyhow::Result<()> {
    let drain = ctx.common.drain_timeout;
    let served = crate::server::serve(listener, router, ctx.shutdown.clone(), drain).await;
    // The server may also stop on its own (an accept error): the rest of the service follows.
    ctx.shutdown.cancel();
    ctx.tasks.close();
    if tokio::time::timeout(drain, ctx.tasks.wait()).await.is_err() {
        tracing::warn!(
            service = ctx.common.service,
            "background tasks did not drain in time"
        );
    }
    for hook in on_shutdown {
        let _ = tokio::time::timeout(Duration::from_secs(5), hook).await;
    }
    tracing::info!(service = ctx.common.service, "stopped");
    served.context("serving HTTP")
}
