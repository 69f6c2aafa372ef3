//! SQL of the buyer service, one file per aggregate.

pub(crate) mod buyers;
pub(crate) mod intents;
pub(crate) mod purchases;
mod query;

pub(crate) use query::Page;
