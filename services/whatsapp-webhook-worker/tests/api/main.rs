//! The webhook worker over real HTTP, on SQLite or (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod dlq;
mod helpers;
mod media;
mod openapi;
mod outbound;
mod routing;
mod send_queue;
mod takeover;
mod throttle;
mod webhook;
