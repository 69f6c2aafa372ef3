//! Payment collection events (MTN MoMo collection is later work; services consume these now).

/// Event: a mobile-money collection was confirmed by the provider.
pub const COLLECTION_SUCCEEDED: &str = "payments.collection.succeeded";
