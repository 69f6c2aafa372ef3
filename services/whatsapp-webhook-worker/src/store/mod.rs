//! SQL of the webhook worker: one query text per statement, run on either backend.

pub(crate) mod contacts;
pub(crate) mod messages;
pub(crate) mod outbound;
