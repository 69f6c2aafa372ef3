//! The vendor service over real HTTP, on SQLite or (with `TEST_DATABASE_URL`) PostgreSQL, with the
//! real wallet service where a test needs one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod generated;
mod helpers;
mod images;
mod kit;
mod paywall;
mod quotes;
mod vendors;
