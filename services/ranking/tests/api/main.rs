//! The ranking service over real HTTP, on SQLite or (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod experiments;
mod generated;
mod helpers;
mod kit;
mod projection;
mod scoring;
mod vendors;
