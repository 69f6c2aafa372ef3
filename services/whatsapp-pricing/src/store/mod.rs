//! SQL of the whatsapp-pricing service.

pub(crate) mod conversations;
pub(crate) mod quotes;
pub(crate) mod tariffs;
