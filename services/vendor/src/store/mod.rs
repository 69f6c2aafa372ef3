//! SQL of the vendor service (runtime `query_as`, one text for both backends).

pub(crate) mod images;
pub(crate) mod intents;
pub(crate) mod quotes;
pub(crate) mod settings;
pub(crate) mod vendors;
