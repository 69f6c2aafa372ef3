//! The crate against Meta's payloads and a fake Graph API: one test binary (one link on 2 cores).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod builders;
mod helpers;
mod media;
mod outbound;
mod retries;
mod signature;
mod webhook;
