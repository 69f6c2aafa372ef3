//! The `easymo` binary as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn easymo() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_easymo"));
    c.env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("LOG_FORMAT", "json");
    c
}

fn get(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.get(9..12)?.parse().ok()
}

#[test]
fn up_serves_every_service_until_interrupted_then_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = easymo()
        .arg("up")
        .env("DATA_DIR", dir.path())
        .env("PROFILE_PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while get(port, "/ready") != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(30), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        dir.path().join("profile.db").exists(),
        "SQLite file created under DATA_DIR"
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "exit status {s}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_bad_environment_is_refused_with_every_problem_and_exit_78() {
    let out = easymo()
        .args(["serve", "profile"])
        .env("PORT", "http")
        .env("RATE_LIMIT_BURST", "-1")
        .env("PROFILE_DEFAULT_COUNTRY_CODE", "0x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    for var in ["PORT", "RATE_LIMIT_BURST", "PROFILE_DEFAULT_COUNTRY_CODE"] {
        assert!(err.contains(var), "{var} missing from: {err}");
    }
}

#[test]
fn unknown_services_are_a_usage_error() {
    let out = easymo().args(["serve", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn minted_tokens_carry_audience_and_scopes() {
    let out = easymo()
        .args([
            "token",
            "--aud",
            "profile",
            "--scope",
            "profile:read",
            "--scope",
            "profile:write",
        ])
        .env(
            "SERVICE_JWT_KEYS",
            "cli-test-key-0123456789abcdefghijklmnop",
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap();
    let keys = platform::auth::JwtKeys::new(&[secrecy::SecretString::from(
        "cli-test-key-0123456789abcdefghijklmnop".to_owned(),
    )])
    .unwrap();
    let claims = keys.verify(token.trim(), "profile").unwrap();
    assert_eq!(claims.scope, "profile:read profile:write");
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let out = easymo()
        .args(["healthcheck", "--port", &free_port().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
