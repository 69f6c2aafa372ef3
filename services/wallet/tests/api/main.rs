//! The wallet over real HTTP, on SQLite or (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod admin;
mod fx;
mod helpers;
mod invariants;
mod pending;
mod subscriptions;
mod transfers;
