//! The profile service over real HTTP, on SQLite or (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;
mod kit;
mod locations;
mod profiles;
