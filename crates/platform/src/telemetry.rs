//! One tracing subscriber per process: JSON lines by default (what log pipelines and
//! `easymo audit` read), pretty for a terminal. The request span's fields (request id, service,
//! route) ride on every line logged inside a request.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::{Env, LogFormat};

/// Installs the subscriber from `LOG_FORMAT` and `RUST_LOG` (default `info`). Later calls are
/// no-ops, so tests and `easymo up` can call it freely.
pub fn init(env: &Env) {
    let format = env
        .raw("LOG_FORMAT")
        .and_then(|v| v.parse().ok())
        .unwrap_or(LogFormat::Json);
    let filter = EnvFilter::try_new(env.raw("RUST_LOG").unwrap_or("info"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        .with_writer(std::io::stdout);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
