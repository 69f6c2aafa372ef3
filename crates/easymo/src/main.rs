//! `easymo`: the one binary of the platform.

mod audit;
mod commands;
mod generate;
mod registry;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process. The allocator gives freed memory back to
/// the OS and faults it in again later; with huge pages on `always` (this machine, and many
/// distributions) each such fault zeroes 2 MiB, which took about a sixth of the webhook
/// worker's routing CPU. Redis and MongoDB advise the same for the same reason.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("transparent huge pages left on: {e}");
    }
}

use clap::{Parser, Subcommand};

/// EasyMO-rs: a WhatsApp-first marketplace and mobility platform.
#[derive(Parser)]
#[command(name = "easymo", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in one process on SQLite files and an in-process bus.
    Up,
    /// Run one service, configured from the environment (the container entry point).
    Serve {
        /// Service name, e.g. `profile`.
        service: String,
        /// Apply migrations before serving (production runs `easymo migrate` as its own step).
        #[arg(long)]
        migrate: bool,
    },
    /// Apply migrations to one service's database, or to every service's.
    Migrate {
        /// Service name; all when omitted.
        service: Option<String>,
    },
    /// Mint a service token (for development and operations).
    Token {
        /// Audience: the service the token is for.
        #[arg(long)]
        aud: String,
        /// Scopes to grant (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Bind the token to one tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
        /// Issuer recorded in the token.
        #[arg(long, default_value = "easymo-cli")]
        iss: String,
    },
    /// Exit 0 when the local service answers `/health` (for container HEALTHCHECK without curl).
    Healthcheck {
        /// Port; defaults to `PORT`, else 4001.
        #[arg(long, env = "PORT", default_value_t = 4001)]
        port: u16,
        /// Path to probe.
        #[arg(long, default_value = "/health")]
        path: String,
    },
    /// Measure every service against the production-readiness audit's criteria.
    Audit(audit::Args),
    /// List the services with their ports and purposes.
    Services,
    /// Write (or with --check, verify) each service's Dockerfile, openapi.json and .env.example.
    Generate(generate::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The health probe runs before anything else, so it needs no configuration at all.
    if let Command::Healthcheck { port, path } = &cli.command {
        return commands::healthcheck(*port, path);
    }
    no_huge_pages();
    platform::client::install_tls();
    // Telemetry starts before the runtime and is flushed after it: the trace exporter's client
    // is blocking and must live outside async contexts.
    let telemetry = match &cli.command {
        Command::Up | Command::Migrate { .. } => Some(platform::telemetry::init(
            &platform::Env::from_process(),
            "easymo",
        )),
        Command::Serve { service, .. } => Some(platform::telemetry::init(
            &platform::Env::from_process(),
            service,
        )),
        _ => None,
    };
    // One thread when the process has one core (a pinned benchmark, a one-CPU container): a
    // work-stealing scheduler with a single worker only adds its bookkeeping to every wake-up.
    // Measured on one core at 10,000 requests/s, alternating with the multi-threaded runtime:
    // whatsapp-pricing p99 5.7-7.2 ms against 7.7-21.5 ms, the webhook worker 6.8-8.6 ms against
    // 7.4-11.3 ms and 59-64 us of CPU per webhook against 64-73.
    let one_core = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_core {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Up => commands::up().await,
            Command::Serve { service, migrate } => commands::serve(&service, migrate).await,
            Command::Migrate { service } => commands::migrate(service.as_deref()).await,
            Command::Token {
                aud,
                scopes,
                tenant,
                ttl,
                iss,
            } => commands::token(&iss, &aud, &scopes, tenant.as_deref(), ttl),
            Command::Audit(args) => audit::run(args).await,
            Command::Services => commands::list(),
            Command::Generate(args) => generate::run(&args),
            Command::Healthcheck { .. } => ExitCode::SUCCESS,
        }
    });
    drop(runtime);
    if let Some(t) = telemetry {
        t.shutdown();
    }
    code
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn huge_pages_are_off_for_the_process() {
        super::no_huge_pages();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let line = status.lines().find(|l| l.starts_with("THP_enabled:"));
        assert_eq!(
            line.map(|l| l.split_whitespace().last()),
            Some(Some("0")),
            "{line:?}"
        );
    }
}
