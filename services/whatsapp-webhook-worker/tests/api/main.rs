//! The webhook worker over real HTTP, on SQLite or (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod dlq;
mod helpers;
mod outbound;
mod routing;
mod takeover;
mod webhook;
