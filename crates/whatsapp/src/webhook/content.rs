//! The bodies of inbound messages, and what surrounds them (reply context, ad referral).

use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An image, audio, video, document or sticker. Only the id is guaranteed; fetch the bytes
/// with the client's media download.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Media {
    /// Media id, for `GET /{version}/{media_id}`.
    pub id: String,
    /// MIME type, e.g. `image/jpeg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Hash of the file as Meta reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Caption (images, videos, documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// File name (documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// A voice note rather than an audio file (audio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<bool>,
    /// Animated (stickers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animated: Option<bool>,
    /// Direct download URL, which newer payloads include (still needs the bearer token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A shared location.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Location {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// Place name, for a shared place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Place address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Place URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A contact card the customer shared. Its many optional parts (addresses, emails, org, urls)
/// are kept as sent; only the name and phones are typed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SharedContact {
    /// `{formatted_name, first_name, last_name, ..}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<serde_json::Value>,
    /// Phone numbers on the card.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<SharedPhone>,
    /// Every other part of the card.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A phone number on a shared contact card.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SharedPhone {
    /// The number as written on the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Its WhatsApp id, when the number is on WhatsApp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    /// `CELL`, `HOME`, `WORK`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A reply to an interactive message we sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Interactive {
    /// The customer tapped a reply button.
    ButtonReply(ReplyButton),
    /// The customer picked a list row.
    ListReply(ListReply),
    /// The customer completed a WhatsApp Flow.
    NfmReply(NfmReply),
    /// An interactive reply of a type this crate does not know, kept as sent.
    Other(serde_json::Value),
}

/// The button the customer tapped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReplyButton {
    /// The id we gave the button (route on this, never on the title).
    #[serde(default)]
    pub id: String,
    /// The button's title.
    #[serde(default)]
    pub title: String,
}

/// The list row the customer picked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListReply {
    /// The id we gave the row.
    #[serde(default)]
    pub id: String,
    /// The row's title.
    #[serde(default)]
    pub title: String,
    /// The row's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A completed Flow.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NfmReply {
    /// `flow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The text shown in the chat, e.g. `Sent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The Flow's answers, a JSON document in a string.
    #[serde(default)]
    pub response_json: String,
}

impl<'de> Deserialize<'de> for Interactive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(d)?;
        let kind = raw.get("type").and_then(serde_json::Value::as_str);
        let body = kind.and_then(|k| raw.get(k));
        let parsed = match (kind, body) {
            (Some("button_reply"), Some(b)) => ReplyButton::deserialize(b).map(Self::ButtonReply),
            (Some("list_reply"), Some(b)) => ListReply::deserialize(b).map(Self::ListReply),
            (Some("nfm_reply"), Some(b)) => NfmReply::deserialize(b).map(Self::NfmReply),
            _ => return Ok(Self::Other(raw)),
        };
        // A known type with an unexpected shape is kept rather than refused.
        Ok(parsed.unwrap_or(Self::Other(raw)))
    }
}

/// Writes Meta's shape back (`"type":"list_reply","list_reply":{..}`).
impl Serialize for Interactive {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (kind, body) = match self {
            Self::ButtonReply(b) => ("button_reply", serde_json::to_value(b)),
            Self::ListReply(l) => ("list_reply", serde_json::to_value(l)),
            Self::NfmReply(n) => ("nfm_reply", serde_json::to_value(n)),
            Self::Other(raw) => return raw.serialize(s),
        };
        let body = body.map_err(S::Error::custom)?;
        serde_json::json!({ "type": kind, kind: body }).serialize(s)
    }
}

/// A tap on a quick-reply button of a template we sent (message type `button`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TemplateButton {
    /// The payload we set on the button.
    #[serde(default)]
    pub payload: String,
    /// The button's text.
    #[serde(default)]
    pub text: String,
}

/// A reaction to a message (an empty emoji removes it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reaction {
    /// The message reacted to.
    #[serde(default)]
    pub message_id: String,
    /// The emoji; absent or empty when the reaction was removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
}

/// What an inbound message replies to or was forwarded from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Context {
    /// Sender of the message replied to (our business number for replies to us).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The `wamid` replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The message was forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<bool>,
    /// The message was forwarded many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequently_forwarded: Option<bool>,
    /// The catalog product the customer asked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_product: Option<ReferredProduct>,
}

/// A catalog product referred to by a message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReferredProduct {
    /// The catalog.
    #[serde(default)]
    pub catalog_id: String,
    /// The product's retailer id.
    #[serde(default)]
    pub product_retailer_id: String,
}

/// The ad or post a customer came from (click-to-WhatsApp).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Referral {
    /// The ad's or post's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// The ad's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// `ad` or `post`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// The ad's headline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    /// The ad's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `image` or `video`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The ad's image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// The ad's video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
    /// The video's thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// Click id, for conversion reporting back to Meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctwa_clid: Option<String>,
    /// The ad's pre-filled greeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome_message: Option<WelcomeMessage>,
}

/// An ad's pre-filled greeting.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WelcomeMessage {
    /// Its text.
    #[serde(default)]
    pub text: String,
}
