//! The event envelope of ARCHITECTURE.md.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One event: `type` names it (`<service>.<entity>.<fact>`), `data` holds its payload from
/// `contracts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// ULID: unique, and sorts by creation time.
    pub id: String,
    /// `wallet.transfer.completed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The emitting service.
    pub source: String,
    /// When the fact happened.
    pub occurred_at: DateTime<Utc>,
    /// The tenant it belongs to.
    pub tenant_id: String,
    /// The request or flow that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The payload.
    pub data: serde_json::Value,
}

impl Envelope {
    /// A new event with a fresh id.
    pub fn new(
        kind: &str,
        source: &str,
        tenant_id: &str,
        data: impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: ulid::Ulid::generate().to_string(),
            kind: kind.to_owned(),
            source: source.to_owned(),
            occurred_at: Utc::now(),
            tenant_id: tenant_id.to_owned(),
            correlation_id: None,
            data: serde_json::to_value(data)?,
        })
    }

    /// Sets the correlation id.
    pub fn correlated(mut self, id: Option<String>) -> Self {
        self.correlation_id = id;
        self
    }

    /// The payload as `T`.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.data.clone())
    }
}
