//! The buyer service over real HTTP, with the real wallet service in-process and a fake vendor
//! (wiremock, honouring `contracts::vendor`), on SQLite or (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod buyers;
mod fake_vendor;
mod generated;
mod helpers;
mod intents;
mod kit;
mod purchases;
mod saga;
