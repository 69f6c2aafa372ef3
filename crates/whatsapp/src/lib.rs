//! WhatsApp Cloud API: typed webhook deliveries, their signature check, and the outbound client.
//!
//! - [`webhook`]: `entry[].changes[].value` with messages of every type (unknown ones kept),
//!   statuses, contacts and errors; [`webhook::MAX_WEBHOOK_BYTES`] is the body limit to use.
//! - [`signature`]: `X-Hub-Signature-256` over the raw body, and the subscription handshake.
//! - [`ContactId`]: a customer is a phone number when Meta gives one, else a business-scoped
//!   user id.
//! - [`Client`]: sends (text, buttons, lists, templates, media, read receipts) with pacing per
//!   business number and customer, retries decided per Meta error code, and the kit's timeout
//!   and circuit breaker; downloads inbound media.
//!
//! Personal data stays out of logs: phone numbers and user ids are masked with
//! `platform::pii::mask_phone`, message text is never logged, and the token is a
//! `SecretString`.

// Every public item is documented: the service teams read this crate, not Meta's docs.
#![warn(missing_docs)]

pub mod client;
mod contact;
mod error;
pub mod ratelimit;
pub mod signature;
pub mod webhook;

pub use client::{Client, Config, OutboundMessage, RetryPolicy, Sent};
pub use contact::ContactId;
pub use error::{CODE_PAIR_RATE, CODE_THROUGHPUT, Error, GraphError};
pub use ratelimit::{PairLimit, SendLimits};
pub use signature::{AppSecret, SIGNATURE_HEADER, SignatureError};
pub use webhook::{MAX_WEBHOOK_BYTES, Notification};
