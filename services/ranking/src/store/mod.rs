//! SQL of the ranking service (runtime `query_as`, one text for both backends).

pub(crate) mod experiments;
pub(crate) mod vendors;
