//! `up`, `serve`, `migrate`, `token`, `healthcheck`, `services`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use platform::auth::JwtKeys;
use platform::config::EXIT_CONFIG;
use platform::service::{Options, Running};
use platform::{CommonConfig, Env, shutdown};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::registry::{self, BUILDING, Entry, SERVICES};

/// Exit code for a command-line usage error (sysexits `EX_USAGE`).
const EXIT_USAGE: u8 = 64;

fn config_exit() -> ExitCode {
    ExitCode::from(u8::try_from(EXIT_CONFIG).unwrap_or(1))
}

fn report_config(problems: &[String]) -> ExitCode {
    eprintln!("invalid configuration ({} problem(s)):", problems.len());
    for p in problems {
        eprintln!("  - {p}");
    }
    tracing::error!(problems = ?problems, "invalid configuration; not starting");
    config_exit()
}

/// Redis Streams when `REDIS_URL` is set (services in separate processes), else in-process.
fn bus_for(env: &Env) -> Result<bus::Bus, ExitCode> {
    match env.raw("REDIS_URL") {
        None => Ok(bus::Bus::memory()),
        Some(url) => {
            let prefix = env.raw("REDIS_KEY_PREFIX").unwrap_or("easymo");
            bus::Bus::redis(url, prefix).map_err(|e| {
                report_config(&[format!("REDIS_URL is not usable for the event bus: {e}")])
            })
        }
    }
}

/// `easymo up`: every service in one process.
pub async fn up() -> ExitCode {
    let env = Env::from_process();
    let problems: Vec<String> = SERVICES
        .iter()
        .filter_map(|e| (e.check)(&env, false).err().map(|err| (e.name, err)))
        .flat_map(|(name, err)| {
            err.problems
                .into_iter()
                .map(move |p| format!("{name}: {p}"))
        })
        .collect();
    if !problems.is_empty() {
        return report_config(&problems);
    }
    let root = shutdown::on_signal();
    let bus = match bus_for(&env) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let mut running = Vec::new();
    for e in SERVICES {
        let opts = Options {
            bus: bus.clone(),
            shutdown: root.child_token(),
            migrate: true,
            listener: None,
        };
        match (e.start)(env.clone(), false, opts).await {
            Ok(r) => running.push(r),
            Err(err) => {
                eprintln!("{} failed to start: {err:#}", e.name);
                tracing::error!(service = e.name, error = format!("{err:#}"), "start failed");
                root.cancel();
                wait_all(running, &root).await;
                return ExitCode::FAILURE;
            }
        }
    }
    print_table(&running, &env);
    if wait_all(running, &root).await {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_table(running: &[Running], env: &Env) {
    let data = env.raw("DATA_DIR").unwrap_or("./data");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nEasyMO-rs is up: {} service(s), SQLite under {data}, in-process event bus\n",
        running.len()
    );
    let _ = writeln!(
        out,
        "{:<26} {:>5}  {:<24} PURPOSE",
        "SERVICE", "PORT", "URL"
    );
    for r in running {
        let purpose = registry::find(r.name).map_or("", |e| e.purpose);
        let url = format!("http://127.0.0.1:{}", r.addr.port());
        let _ = writeln!(
            out,
            "{:<26} {:>5}  {url:<24} {purpose}",
            r.name,
            r.addr.port()
        );
    }
    let _ = writeln!(
        out,
        "\nTry: curl localhost:4001/ready   |   token: easymo token --aud profile --scope profile:read\nCtrl-C drains and stops every service.\n"
    );
    let _ = out.flush();
}

/// Waits for every service to stop; one that stops on its own (or fails) stops the rest.
/// True when all stopped cleanly after a shutdown request.
async fn wait_all(running: Vec<Running>, root: &CancellationToken) -> bool {
    let mut set = JoinSet::new();
    for r in running {
        set.spawn(async move { (r.name, r.done.await) });
    }
    let mut clean = true;
    while let Some(joined) = set.join_next().await {
        let (name, outcome) = match joined {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "service task panicked");
                clean = false;
                root.cancel();
                continue;
            }
        };
        match outcome {
            Ok(Ok(())) if root.is_cancelled() => {}
            Ok(Ok(())) => {
                tracing::error!(
                    service = name,
                    "service stopped on its own; stopping the rest"
                );
                clean = false;
                root.cancel();
            }
            Ok(Err(e)) => {
                tracing::error!(
                    service = name,
                    error = format!("{e:#}"),
                    "service failed; stopping the rest"
                );
                clean = false;
                root.cancel();
            }
            Err(e) => {
                tracing::error!(service = name, error = %e, "service task panicked");
                clean = false;
                root.cancel();
            }
        }
    }
    clean
}

fn unknown(name: &str) -> ExitCode {
    let known: Vec<&str> = SERVICES.iter().chain(BUILDING).map(|e| e.name).collect();
    eprintln!("unknown service `{name}`; known: {}", known.join(", "));
    ExitCode::from(EXIT_USAGE)
}

/// `easymo serve <service>`.
pub async fn serve(name: &str, migrate: bool) -> ExitCode {
    let env = Env::from_process();
    let Some(entry) = registry::find(name) else {
        return unknown(name);
    };
    if let Err(err) = (entry.check)(&env, true) {
        return report_config(&err.problems);
    }
    let bus = match bus_for(&env) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let root = shutdown::on_signal();
    let opts = Options {
        bus,
        shutdown: root.clone(),
        migrate,
        listener: None,
    };
    let running = match (entry.start)(env, true, opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name} failed to start: {e:#}");
            tracing::error!(service = name, error = format!("{e:#}"), "start failed");
            return ExitCode::FAILURE;
        }
    };
    if wait_all(vec![running], &root).await {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `easymo migrate [<service>]`.
pub async fn migrate(name: Option<&str>) -> ExitCode {
    let env = Env::from_process();
    let entries: Vec<&Entry> = match name {
        Some(n) => match registry::find(n) {
            Some(e) => vec![e],
            None => return unknown(n),
        },
        None => SERVICES.iter().collect(),
    };
    for e in entries {
        if let Err(err) = (e.check)(&env, true) {
            return report_config(&err.problems);
        }
        let bus = match bus_for(&env) {
            Ok(b) => b,
            Err(code) => return code,
        };
        match (e.migrate)(env.clone(), bus).await {
            Ok(()) => println!("{}: migrations applied", e.name),
            Err(err) => {
                eprintln!("{}: {err:#}", e.name);
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// `easymo token`.
pub fn token(iss: &str, aud: &str, scopes: &[String], tenant: Option<&str>, ttl: u64) -> ExitCode {
    let mut env = Env::from_process();
    let common = CommonConfig::load(&mut env, "easymo", 0, true);
    if let Err(err) = env.finish(()) {
        return report_config(&err.problems);
    }
    let Some(keys) = JwtKeys::new(&common.jwt_keys) else {
        return report_config(&["SERVICE_JWT_KEYS is required".to_owned()]);
    };
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    match keys.mint(iss, aud, &scopes, tenant, Duration::from_secs(ttl)) {
        Ok(t) => {
            println!("{t}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot mint a token: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `easymo healthcheck`: a plain HTTP/1.1 GET over a socket, so it needs no runtime and no TLS.
pub fn healthcheck(port: u16, path: &str) -> ExitCode {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let probe = || -> std::io::Result<bool> {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(3)))?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"))
    };
    match probe() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("{path} on port {port} is not healthy");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cannot reach port {port}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `easymo services`.
pub fn list() -> ExitCode {
    println!("{:<26} {:>5}  PURPOSE", "SERVICE", "PORT");
    for e in SERVICES {
        println!("{:<26} {:>5}  {}", e.name, e.port, e.purpose);
    }
    for e in BUILDING {
        println!(
            "{:<26} {:>5}  {} (being built: serve only)",
            e.name, e.port, e.purpose
        );
    }
    ExitCode::SUCCESS
}
