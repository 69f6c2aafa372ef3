//! `easymo audit`: the production-readiness scorecard of the audit this platform replaces,
//! measured rather than claimed. Files are checked on disk; behaviour is checked by starting each
//! service as a child process (`easymo serve`, its own temporary data directory) and probing it
//! from outside, as an operator would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::registry::{Entry, SERVICES};

/// Options of `easymo audit`.
#[derive(clap::Args)]
pub struct Args {
    /// Exit non-zero when any service scores below this (0-10).
    #[arg(long, default_value_t = 0.0)]
    pub min_score: f64,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Workspace root (where `services/` lives).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Audit only these services.
    #[arg(long = "service")]
    pub services: Vec<String>,
}

/// Criteria, in the table's column order: (key, column title).
const CRITERIA: &[(&str, &str)] = &[
    ("dockerfile", "Dockerfile"),
    ("tests", "Tests"),
    ("docs", "Docs"),
    ("health", "Health"),
    ("ready", "Ready"),
    ("metrics", "Metrics"),
    ("logs", "JSON logs"),
    ("env_validation", "Env check"),
    ("rate_limit", "Rate limit"),
    ("auth", "Auth"),
    ("shutdown", "Shutdown"),
    ("openapi", "OpenAPI"),
];

#[derive(Serialize)]
struct ServiceScore {
    service: &'static str,
    score: f64,
    checks: BTreeMap<&'static str, bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

#[derive(Serialize)]
struct Report {
    services: Vec<ServiceScore>,
    average: f64,
}

/// Runs the audit.
pub async fn run(args: Args) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot find the easymo binary: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut scores = Vec::new();
    for entry in SERVICES
        .iter()
        .filter(|e| args.services.is_empty() || args.services.iter().any(|s| s == e.name))
    {
        scores.push(audit_service(entry, &exe, &args.root).await);
    }
    let average = if scores.is_empty() {
        0.0
    } else {
        scores.iter().map(|s| s.score).sum::<f64>()
            / f64::from(u32::try_from(scores.len()).unwrap_or(1))
    };
    let report = Report {
        services: scores,
        average,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print_table(&report);
    }
    let below: Vec<&str> = report
        .services
        .iter()
        .filter(|s| s.score < args.min_score)
        .map(|s| s.service)
        .collect();
    if below.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("below --min-score {}: {}", args.min_score, below.join(", "));
        ExitCode::FAILURE
    }
}

fn print_table(report: &Report) {
    let mut header = String::from("| Service |");
    let mut rule = String::from("|---|");
    for (_, title) in CRITERIA {
        header.push_str(&format!(" {title} |"));
        rule.push_str("---|");
    }
    println!("{header} Score |\n{rule}---|");
    for s in &report.services {
        let mut row = format!("| {} |", s.service);
        for (key, _) in CRITERIA {
            row.push_str(if s.checks.get(key).copied().unwrap_or(false) {
                " ✅ |"
            } else {
                " ❌ |"
            });
        }
        println!("{row} {:.1}/10 |", s.score);
    }
    println!(
        "\n**Average score:** {:.1}/10 over {} service(s)",
        report.average,
        report.services.len()
    );
    for s in &report.services {
        for n in &s.notes {
            println!("- {}: {n}", s.service);
        }
    }
}

fn file_checks(root: &Path, name: &str, checks: &mut BTreeMap<&'static str, bool>) {
    let dir = root.join("services").join(name);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let docker = read("Dockerfile");
    checks.insert(
        "dockerfile",
        docker.contains("HEALTHCHECK") && docker.contains("USER"),
    );
    checks.insert("docs", read("README.md").len() > 500);
    let has_tests = walk_rs(&dir.join("tests")).iter().any(|f| {
        std::fs::read_to_string(f)
            .is_ok_and(|t| t.contains("#[tokio::test]") || t.contains("#[test]"))
    });
    checks.insert("tests", has_tests);
}

fn walk_rs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk_rs(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

fn free_port() -> Option<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()
        .map(|a| a.port())
}

fn serve_command(exe: &Path, entry: &Entry, data: &Path, port: u16) -> Command {
    let prefix = platform::config::env_prefix(entry.name);
    let mut cmd = Command::new(exe);
    cmd.args(["serve", entry.name, "--migrate"])
        .env_remove("DATABASE_URL")
        .env_remove(format!("{prefix}_DATABASE_URL"))
        .env("PORT", port.to_string())
        .env(format!("{prefix}_PORT"), port.to_string())
        .env("HOST", "127.0.0.1")
        .env("DATA_DIR", data)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("RATE_LIMIT_PER_MINUTE", "60")
        .env("RATE_LIMIT_BURST", "5")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// A bad environment must be refused at start-up, naming the variable, with a non-zero exit.
async fn env_is_validated(exe: &Path, entry: &Entry, data: &Path) -> bool {
    let mut cmd = serve_command(exe, entry, data, 1);
    let prefix = platform::config::env_prefix(entry.name);
    cmd.env("PORT", "not-a-port")
        .env_remove(format!("{prefix}_PORT"))
        .env("SERVICE_JWT_KEYS", "too-short");
    let Ok(child) = cmd.spawn() else { return false };
    match tokio::time::timeout(Duration::from_secs(20), child.wait_with_output()).await {
        Ok(Ok(out)) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            out.status.code() == Some(platform::config::EXIT_CONFIG)
                && stderr.contains("PORT")
                && stderr.contains("SERVICE_JWT_KEYS")
                && !stderr.contains("too-short")
        }
        _ => false,
    }
}

fn spawn_log_reader(child: &mut Child) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    if let Some(out) = child.stdout.take() {
        let sink = Arc::clone(&lines);
        tokio::spawn(async move {
            let mut reader = BufReader::new(out).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
        });
    }
    lines
}

/// Some protected GET route from the service's OpenAPI document, with parameters filled in.
fn protected_route(doc: &serde_json::Value) -> Option<String> {
    let paths = doc.get("paths")?.as_object()?;
    let mut candidates: Vec<&String> = paths.keys().collect();
    candidates.sort();
    candidates.into_iter().find_map(|p| {
        paths[p].get("get")?;
        let filled: String = p
            .split('/')
            .map(|seg| if seg.starts_with('{') { "audit" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        Some(filled)
    })
}

async fn audit_service(entry: &Entry, exe: &Path, root: &Path) -> ServiceScore {
    let mut checks: BTreeMap<&'static str, bool> =
        CRITERIA.iter().map(|(k, _)| (*k, false)).collect();
    let mut notes = Vec::new();
    file_checks(root, entry.name, &mut checks);
    let Ok(data) = tempfile::tempdir() else {
        notes.push("no temporary directory".to_owned());
        return score(entry.name, checks, notes);
    };
    checks.insert(
        "env_validation",
        env_is_validated(exe, entry, data.path()).await,
    );
    let Some(port) = free_port() else {
        notes.push("no free port".to_owned());
        return score(entry.name, checks, notes);
    };
    let mut child = match serve_command(exe, entry, data.path(), port).spawn() {
        Ok(c) => c,
        Err(e) => {
            notes.push(format!("could not start: {e}"));
            return score(entry.name, checks, notes);
        }
    };
    let logs = spawn_log_reader(&mut child);
    probe(&mut child, port, &logs, &mut checks, &mut notes).await;
    let _ = child.start_kill();
    score(entry.name, checks, notes)
}

async fn probe(
    child: &mut Child,
    port: u16,
    logs: &Arc<Mutex<Vec<String>>>,
    checks: &mut BTreeMap<&'static str, bool>,
    notes: &mut Vec<String>,
) {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(_) => return,
    };
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let mut healthy = false;
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = http.get(format!("{base}/health")).send().await {
            healthy = r.status() == StatusCode::OK;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            notes.push(format!("exited during start-up: {status}"));
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    checks.insert("health", healthy);
    if !healthy {
        notes.push("/health did not answer 200".to_owned());
        return;
    }
    if let Ok(r) = http.get(format!("{base}/ready")).send().await {
        let ok = r.status() == StatusCode::OK;
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        let named = body["checks"].as_object().is_some_and(|c| !c.is_empty());
        checks.insert("ready", ok && named && body["status"] == "ready");
    }
    let rid = format!("audit-{}", ulid::Ulid::generate());
    let _ = http
        .get(format!("{base}/health"))
        .header("x-request-id", &rid)
        .send()
        .await;
    if let Ok(r) = http.get(format!("{base}/metrics")).send().await {
        let text = r.text().await.unwrap_or_default();
        checks.insert(
            "metrics",
            text.contains("http_server_requests_total{")
                && text.contains("http_server_request_duration_seconds_bucket{"),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let found = logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .is_ok_and(|v| v["request_id"] == rid.as_str() && v.get("level").is_some())
            });
        if found {
            checks.insert("logs", true);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let doc: serde_json::Value = match http.get(format!("{base}/openapi.json")).send().await {
        Ok(r) if r.status() == StatusCode::OK => r.json().await.unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    checks.insert(
        "openapi",
        doc["openapi"].is_string() && doc["paths"].is_object(),
    );
    match protected_route(&doc) {
        Some(route) => {
            let url = format!("{base}{route}");
            let first = http.get(&url).send().await.map(|r| r.status());
            checks.insert("auth", matches!(first, Ok(StatusCode::UNAUTHORIZED)));
            let mut limited = false;
            for _ in 0..20 {
                if let Ok(r) = http.get(&url).send().await
                    && r.status() == StatusCode::TOO_MANY_REQUESTS
                    && r.headers().contains_key("retry-after")
                {
                    limited = true;
                    break;
                }
            }
            checks.insert("rate_limit", limited);
        }
        None => notes
            .push("no GET route in the OpenAPI document to probe auth and rate limits".to_owned()),
    }
    checks.insert("shutdown", terminates_cleanly(child).await);
}

/// SIGTERM (through `kill`, to stay free of `unsafe`) must end the process with exit code 0.
async fn terminates_cleanly(child: &mut Child) -> bool {
    let Some(pid) = child.id() else { return false };
    let sent = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .is_ok_and(|s| s.success());
    if !sent {
        return false;
    }
    matches!(
        tokio::time::timeout(Duration::from_secs(30), child.wait()).await,
        Ok(Ok(status)) if status.success()
    )
}

fn score(
    service: &'static str,
    checks: BTreeMap<&'static str, bool>,
    notes: Vec<String>,
) -> ServiceScore {
    let passed = checks.values().filter(|v| **v).count();
    let total = checks.len().max(1);
    let score = f64::from(u32::try_from(passed).unwrap_or(0)) * 10.0
        / f64::from(u32::try_from(total).unwrap_or(1));
    ServiceScore {
        service,
        score: (score * 10.0).round() / 10.0,
        checks,
        notes,
    }
}
