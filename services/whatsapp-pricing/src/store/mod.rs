//! SQL of the whatsapp-pricing service.

pub(crate) mod quotes;
pub(crate) mod tariffs;
