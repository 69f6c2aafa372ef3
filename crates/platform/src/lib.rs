//! The one shared kit: every cross-cutting concern of an EasyMO-rs service, written once.
//!
//! A service implements [`Service`]; `easymo serve`, `easymo up` and the tests all start it through
//! [`service::run`] / [`service::launch`], so what the kit guarantees (logs with request ids,
//! `/health`, `/ready`, `/metrics`, auth, rate limits, graceful shutdown) holds everywhere.

pub mod auth;
pub mod cache;
pub mod client;
pub mod config;
pub mod extract;
pub mod health;
pub mod metrics;
mod observe;
pub mod openapi;
pub mod pii;
pub mod problem;
pub mod ratelimit;
pub mod redis;
pub mod request_id;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod telemetry;
mod trace_context;

pub use auth::{Authorized, Caller, Scope};
pub use config::{CommonConfig, ConfigError, Env};
pub use extract::{ValidJson, ValidPath, ValidQuery, Validate, Validator};
pub use health::{Check, CheckResult};
pub use problem::{ApiError, FieldError, Problem};
pub use request_id::RequestId;
pub use service::{Built, Ctx, Service};
