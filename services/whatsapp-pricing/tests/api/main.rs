//! The whatsapp-pricing service over real HTTP, on SQLite or (with `TEST_DATABASE_URL`)
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conversation;
mod golden;
mod helpers;
mod kit;
mod paylink;
mod quotes;
mod tariffs;
