//! One tracing subscriber per process: JSON lines by default (what log pipelines and
//! `easymo audit` read), pretty for a terminal. The request span's fields (request id, service,
//! route) ride on every line logged inside a request.
//!
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also exported as OpenTelemetry traces over
//! OTLP/HTTP. The exporter runs on its own thread with a blocking HTTP client, so exporting never
//! competes with request handling on the async runtime; [`Telemetry::shutdown`] flushes it.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{Env, LogFormat};

/// Keeps the trace exporter alive; flush it with [`Telemetry::shutdown`] before exiting.
#[must_use = "call shutdown() before exit so buffered spans are exported"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are being exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports buffered spans and stops the exporter. Call outside the async runtime (the
    /// exporter's client is blocking).
    pub fn shutdown(self) {
        if let Some(p) = self.provider
            && let Err(e) = p.shutdown()
        {
            eprintln!("trace exporter shutdown failed: {e}");
        }
    }
}

fn tracer_provider(endpoint: &str, service: &str) -> Result<SdkTracerProvider, String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()
        .map_err(|e| e.to_string())?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service.to_owned())
                .build(),
        )
        .build())
}

/// Installs the subscriber from `LOG_FORMAT`, `RUST_LOG` (default `info`) and
/// `OTEL_EXPORTER_OTLP_ENDPOINT`. `service` names the process in traces. Call before starting
/// the async runtime. A second call installs nothing.
pub fn init(env: &Env, service: &str) -> Telemetry {
    crate::client::install_tls();
    let format = env
        .raw("LOG_FORMAT")
        .and_then(|v| v.parse().ok())
        .unwrap_or(LogFormat::Json);
    let filter = EnvFilter::try_new(env.raw("RUST_LOG").unwrap_or("info"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let provider = env.raw("OTEL_EXPORTER_OTLP_ENDPOINT").and_then(|endpoint| {
        tracer_provider(endpoint, service)
            .map_err(|e| eprintln!("trace export disabled: {e}"))
            .ok()
    });
    let otel = provider.as_ref().map(|p| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        tracing_opentelemetry::layer().with_tracer(p.tracer("easymo"))
    });
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stdout);
    let installed = match format {
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter)
            .with(otel)
            .with(
                fmt.json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => tracing_subscriber::registry()
            .with(filter)
            .with(otel)
            .with(fmt)
            .try_init(),
    };
    Telemetry {
        provider: if installed.is_ok() { provider } else { None },
    }
}
