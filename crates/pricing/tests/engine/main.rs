//! The engine through its public API: the golden values of spec 2.7, the spec 2.10 defects (one test each,
//! named after the defect) and the pricing invariants as property tests.

// Test helpers outside #[test] fns are not covered by clippy's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod defects;
mod golden;
mod helpers;
mod properties;
