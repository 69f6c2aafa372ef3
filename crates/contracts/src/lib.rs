//! Wire types, event payloads and topics of every service. Services depend on this crate, never
//! on each other, so a contract change is a compile error in every caller, not a runtime drift.

pub mod buyer;
pub mod marketplace;
pub mod payments;
pub mod pricing;
pub mod profile;
pub mod ranking;
pub mod vendor;
pub mod wallet;
pub mod whatsapp;

pub use bus::Envelope;
