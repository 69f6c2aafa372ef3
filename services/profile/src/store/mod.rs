//! SQL of the profile service.

pub(crate) mod locations;
pub(crate) mod profiles;
