//! Outbound messages, built and checked against Meta's limits before anything is sent: a message
//! Meta would refuse with code 100 fails here, at the call site, instead of after a round trip.
//!
//! An [`OutboundMessage`] is the Graph API document itself (`messaging_product`, `to` or
//! `recipient`, `type`, ...), so it serialises to exactly what is POSTed and can be stored in an
//! outbox and read back.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value as Json, json};

use super::interactive::{Buttons, List};
use super::template::Template;
use crate::contact::ContactId;
use crate::error::Error;

/// Longest text message body.
pub const MAX_TEXT: usize = 4096;
/// Longest media caption.
pub const MAX_CAPTION: usize = 1024;

/// A message ready to send: recipient plus Meta's JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage {
    to: ContactId,
    doc: Map<String, Json>,
}

impl OutboundMessage {
    fn new(to: ContactId, kind: &str, body: Json) -> Self {
        let mut doc = Map::new();
        doc.insert("messaging_product".into(), json!("whatsapp"));
        doc.insert("recipient_type".into(), json!("individual"));
        // A phone number goes in `to`; a business-scoped user id in `recipient` (Meta gives
        // `to` precedence when both are present, so only one is ever set).
        let key = if to.is_phone() { "to" } else { "recipient" };
        doc.insert(key.into(), json!(to.as_str()));
        doc.insert("type".into(), json!(kind));
        doc.insert(kind.into(), body);
        Self { to, doc }
    }

    /// A text message (at most 4,096 characters). Links are not previewed unless
    /// [`OutboundMessage::with_link_preview`] is called.
    pub fn text(to: ContactId, body: impl Into<String>) -> Result<Self, Error> {
        let body = body.into();
        required("text body", &body, MAX_TEXT)?;
        Ok(Self::new(
            to,
            "text",
            json!({ "preview_url": false, "body": body }),
        ))
    }

    /// Reply buttons (1 to 3).
    pub fn buttons(to: ContactId, buttons: Buttons) -> Result<Self, Error> {
        Ok(Self::new(to, "interactive", buttons.into_json()?))
    }

    /// A list (1 to 10 rows in all).
    pub fn list(to: ContactId, list: List) -> Result<Self, Error> {
        Ok(Self::new(to, "interactive", list.into_json()?))
    }

    /// An approved template with its parameters (the only kind allowed outside the 24 h
    /// customer-service window).
    pub fn template(to: ContactId, template: Template) -> Result<Self, Error> {
        Ok(Self::new(to, "template", template.into_json()?))
    }

    /// An image, audio, video, document or sticker, by uploaded media id or by link.
    pub fn media(to: ContactId, media: MediaMessage) -> Result<Self, Error> {
        let (kind, body) = media.into_json()?;
        Ok(Self::new(to, kind, body))
    }

    /// Shows this message as a reply to `message_id` (a `wamid`) in the customer's chat.
    #[must_use]
    pub fn reply_to(mut self, message_id: impl Into<String>) -> Self {
        self.doc
            .insert("context".into(), json!({ "message_id": message_id.into() }));
        self
    }

    /// For a text message, asks WhatsApp to preview the first link. No effect on other kinds.
    #[must_use]
    pub fn with_link_preview(mut self) -> Self {
        if let Some(Json::Object(text)) = self.doc.get_mut("text") {
            text.insert("preview_url".into(), json!(true));
        }
        self
    }

    /// Opaque data echoed back in this message's status callbacks (at most 512 characters):
    /// ties a callback to our own outbox row without a lookup by `wamid`.
    pub fn with_callback_data(mut self, data: impl Into<String>) -> Result<Self, Error> {
        let data = data.into();
        limit("callback data", &data, 512)?;
        self.doc
            .insert("biz_opaque_callback_data".into(), json!(data));
        Ok(self)
    }

    /// The recipient.
    pub fn to(&self) -> &ContactId {
        &self.to
    }

    /// The message's `type` (`text`, `interactive`, `template`, `image`, ...).
    pub fn kind(&self) -> &str {
        self.doc.get("type").and_then(Json::as_str).unwrap_or("")
    }

    /// The JSON document POSTed to `/{phone_number_id}/messages`.
    pub fn to_json(&self) -> Json {
        Json::Object(self.doc.clone())
    }

    pub(crate) fn doc(&self) -> &Map<String, Json> {
        &self.doc
    }
}

impl Serialize for OutboundMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.doc.serialize(s)
    }
}

/// Reads back a stored message. Limits are not re-checked: the document was checked when it
/// was built, and storage is ours.
impl<'de> Deserialize<'de> for OutboundMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let doc = Map::<String, Json>::deserialize(d)?;
        let field = |k| doc.get(k).and_then(Json::as_str);
        let to = match (field("to"), field("recipient")) {
            (Some(p), _) if !p.is_empty() => ContactId::phone(p),
            (_, Some(u)) if !u.is_empty() => ContactId::user_id(u),
            _ => return Err(D::Error::custom("message has neither `to` nor `recipient`")),
        };
        Ok(Self { to, doc })
    }
}

/// Where media comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// An id from a previous upload (or an inbound message).
    Id(String),
    /// A public HTTPS URL Meta fetches.
    Link(String),
}

impl MediaSource {
    pub(crate) fn to_json(&self) -> Map<String, Json> {
        let mut m = Map::new();
        match self {
            Self::Id(id) => m.insert("id".into(), json!(id)),
            Self::Link(link) => m.insert("link".into(), json!(link)),
        };
        m
    }
}

/// The kinds of media message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// JPEG or PNG.
    Image,
    /// AAC, MP3, OGG (opus), ...
    Audio,
    /// MP4 or 3GPP.
    Video,
    /// Any file.
    Document,
    /// WebP.
    Sticker,
}

impl MediaKind {
    fn name(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Document => "document",
            Self::Sticker => "sticker",
        }
    }
}

/// A media message: kind, source, and the caption or file name Meta allows for the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMessage {
    kind: MediaKind,
    source: MediaSource,
    caption: Option<String>,
    filename: Option<String>,
}

impl MediaMessage {
    /// A media message of `kind` from `source`.
    pub fn new(kind: MediaKind, source: MediaSource) -> Self {
        Self {
            kind,
            source,
            caption: None,
            filename: None,
        }
    }

    /// A caption (images, videos and documents only; at most 1,024 characters).
    #[must_use]
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// The file name shown for a document.
    #[must_use]
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    fn into_json(self) -> Result<(&'static str, Json), Error> {
        let mut body = self.source.to_json();
        if let MediaSource::Id(s) | MediaSource::Link(s) = &self.source
            && s.trim().is_empty()
        {
            return Err(Error::Invalid("media id or link is empty".into()));
        }
        if let Some(c) = self.caption {
            if matches!(self.kind, MediaKind::Audio | MediaKind::Sticker) {
                return Err(Error::Invalid(format!(
                    "{} messages take no caption",
                    self.kind.name()
                )));
            }
            limit("caption", &c, MAX_CAPTION)?;
            body.insert("caption".into(), json!(c));
        }
        if let Some(f) = self.filename {
            if self.kind != MediaKind::Document {
                return Err(Error::Invalid("only documents take a file name".into()));
            }
            body.insert("filename".into(), json!(f));
        }
        Ok((self.kind.name(), Json::Object(body)))
    }
}

/// Refuses `value` when longer than `max` characters (Meta counts characters, not bytes).
pub(crate) fn limit(field: &str, value: &str, max: usize) -> Result<(), Error> {
    let n = value.chars().count();
    if n > max {
        return Err(Error::Invalid(format!(
            "{field} is {n} characters, more than Meta's {max}"
        )));
    }
    Ok(())
}

/// Like [`limit`], and refuses an empty (or blank) value.
pub(crate) fn required(field: &str, value: &str, max: usize) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::Invalid(format!("{field} is empty")));
    }
    limit(field, value, max)
}
