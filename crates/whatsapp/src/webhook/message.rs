//! Inbound messages. Meta names the body after the type (`"type":"image","image":{..}`), which
//! serde's tagged enums cannot express with a catch-all that keeps data, so [`Message`] is
//! parsed by hand from a JSON value: known types are typed, anything else (or a known type
//! whose body has an unexpected shape) becomes [`MessageKind::Unsupported`] with the whole
//! message kept. A message is never refused.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value as Json};

use super::content::{
    Context, Interactive, Location, Media, Reaction, Referral, SharedContact, TemplateButton,
};
use super::{ErrorDetail, unix_time};
use crate::contact::ContactId;

/// One inbound message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The `wamid`: unique per message, the key to dedupe Meta's redeliveries on.
    pub id: String,
    /// Sender's phone number; absent or empty for customers known only by user id.
    pub from: Option<String>,
    /// Sender's business-scoped user id.
    pub from_user_id: Option<String>,
    /// Sender's parent business-scoped user id.
    pub from_parent_user_id: Option<String>,
    /// Unix seconds, as Meta sends them (a string).
    pub timestamp: String,
    /// The message replied to or forwarded, if any.
    pub context: Option<Context>,
    /// The ad or post the customer came from (click-to-WhatsApp).
    pub referral: Option<Referral>,
    /// Errors Meta attached (e.g. to an `unsupported` message).
    pub errors: Vec<ErrorDetail>,
    /// The body.
    pub kind: MessageKind,
}

/// A message's body, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageKind {
    /// Free text (`text.body`).
    Text(String),
    /// A photo.
    Image(Media),
    /// An audio file or voice note.
    Audio(Media),
    /// A video.
    Video(Media),
    /// A file.
    Document(Media),
    /// A sticker.
    Sticker(Media),
    /// A shared location or place.
    Location(Location),
    /// Shared contact cards.
    Contacts(Vec<SharedContact>),
    /// A reply to an interactive message (button, list row, Flow).
    Interactive(Interactive),
    /// A tap on a template's quick-reply button.
    Button(TemplateButton),
    /// A reaction to an earlier message.
    Reaction(Reaction),
    /// A type this crate does not model (`system`, `order`, Meta's own `unsupported`, or one
    /// added later), or a known type with an unexpected body.
    Unsupported {
        /// The `type` Meta sent (empty when missing).
        type_name: String,
        /// The whole message as received.
        raw: Json,
    },
}

impl Message {
    /// Builds a message from its JSON, never failing (see the module docs).
    pub fn from_json(raw: Json) -> Self {
        let text = |key: &str| raw.get(key).and_then(Json::as_str).map(str::to_owned);
        let head = Self {
            id: text("id").unwrap_or_default(),
            from: text("from"),
            from_user_id: text("from_user_id"),
            from_parent_user_id: text("from_parent_user_id"),
            timestamp: text("timestamp").unwrap_or_default(),
            context: typed(&raw, "context"),
            referral: typed(&raw, "referral"),
            errors: typed(&raw, "errors").unwrap_or_default(),
            kind: MessageKind::Text(String::new()),
        };
        let type_name = text("type").unwrap_or_default();
        Self {
            kind: MessageKind::from_json(type_name, raw),
            ..head
        }
    }

    /// The sender: phone number when Meta sent one, else user id.
    pub fn sender(&self) -> Option<ContactId> {
        ContactId::from_parts(
            self.from.as_deref(),
            [
                self.from_user_id.as_deref(),
                self.from_parent_user_id.as_deref(),
            ],
        )
    }

    /// When the customer sent it.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        unix_time(&self.timestamp)
    }

    /// The `wamid` this message replies to, if it is a reply.
    pub fn replied_to(&self) -> Option<&str> {
        self.context.as_ref()?.id.as_deref()
    }
}

impl MessageKind {
    fn from_json(type_name: String, raw: Json) -> Self {
        let parsed = raw
            .get(&type_name)
            .and_then(|body| match type_name.as_str() {
                "text" => body
                    .get("body")
                    .and_then(Json::as_str)
                    .map(|s| Self::Text(s.to_owned())),
                "image" => parse(body).map(Self::Image),
                "audio" => parse(body).map(Self::Audio),
                "video" => parse(body).map(Self::Video),
                "document" => parse(body).map(Self::Document),
                "sticker" => parse(body).map(Self::Sticker),
                "location" => parse(body).map(Self::Location),
                "contacts" => parse(body).map(Self::Contacts),
                "interactive" => parse(body).map(Self::Interactive),
                "button" => parse(body).map(Self::Button),
                "reaction" => parse(body).map(Self::Reaction),
                _ => None,
            });
        parsed.unwrap_or(Self::Unsupported { type_name, raw })
    }

    /// The `type` Meta uses for this body.
    pub fn type_name(&self) -> &str {
        match self {
            Self::Text(_) => "text",
            Self::Image(_) => "image",
            Self::Audio(_) => "audio",
            Self::Video(_) => "video",
            Self::Document(_) => "document",
            Self::Sticker(_) => "sticker",
            Self::Location(_) => "location",
            Self::Contacts(_) => "contacts",
            Self::Interactive(_) => "interactive",
            Self::Button(_) => "button",
            Self::Reaction(_) => "reaction",
            Self::Unsupported { type_name, .. } => type_name,
        }
    }

    /// The text to route on: the text body; for an interactive reply the button or row **id**
    /// (titles are for people and change with translations), falling back to the title; for a
    /// template button its payload, falling back to its text. `None` for other types.
    pub fn routing_text(&self) -> Option<&str> {
        match self {
            Self::Text(body) => Some(body),
            Self::Interactive(Interactive::ButtonReply(r)) => Some(first(&r.id, &r.title)),
            Self::Interactive(Interactive::ListReply(r)) => Some(first(&r.id, &r.title)),
            Self::Button(b) => Some(first(&b.payload, &b.text)),
            _ => None,
        }
    }

    /// The media of an image, audio, video, document or sticker.
    pub fn media(&self) -> Option<&Media> {
        match self {
            Self::Image(m)
            | Self::Audio(m)
            | Self::Video(m)
            | Self::Document(m)
            | Self::Sticker(m) => Some(m),
            _ => None,
        }
    }

    fn body_json(&self) -> Result<Option<Json>, serde_json::Error> {
        Ok(Some(match self {
            Self::Text(body) => serde_json::json!({ "body": body }),
            Self::Image(m)
            | Self::Audio(m)
            | Self::Video(m)
            | Self::Document(m)
            | Self::Sticker(m) => serde_json::to_value(m)?,
            Self::Location(l) => serde_json::to_value(l)?,
            Self::Contacts(c) => serde_json::to_value(c)?,
            Self::Interactive(i) => serde_json::to_value(i)?,
            Self::Button(b) => serde_json::to_value(b)?,
            Self::Reaction(r) => serde_json::to_value(r)?,
            Self::Unsupported { .. } => return Ok(None),
        }))
    }
}

/// `a` unless it is empty.
fn first<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

fn parse<T: DeserializeOwned>(body: &Json) -> Option<T> {
    T::deserialize(body).ok()
}

/// An optional part parsed leniently: a malformed part is dropped, not fatal to the message.
fn typed<T: DeserializeOwned>(raw: &Json, key: &str) -> Option<T> {
    raw.get(key).and_then(parse)
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Json::deserialize(d).map(Self::from_json)
    }
}

/// Writes Meta's shape back (`"type":"image","image":{..}`), so stored messages parse again.
impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = match &self.kind {
            MessageKind::Unsupported {
                raw: Json::Object(m),
                ..
            } => m.clone(),
            _ => Map::new(),
        };
        let mut put = |k: &str, v: Json| {
            out.insert(k.to_owned(), v);
        };
        put("id", Json::from(self.id.as_str()));
        for (k, v) in [
            ("from", &self.from),
            ("from_user_id", &self.from_user_id),
            ("from_parent_user_id", &self.from_parent_user_id),
        ] {
            if let Some(v) = v {
                put(k, Json::from(v.as_str()));
            }
        }
        put("timestamp", Json::from(self.timestamp.as_str()));
        put("type", Json::from(self.kind.type_name()));
        if let Some(c) = &self.context {
            put(
                "context",
                serde_json::to_value(c).map_err(S::Error::custom)?,
            );
        }
        if let Some(r) = &self.referral {
            put(
                "referral",
                serde_json::to_value(r).map_err(S::Error::custom)?,
            );
        }
        if !self.errors.is_empty() {
            put(
                "errors",
                serde_json::to_value(&self.errors).map_err(S::Error::custom)?,
            );
        }
        if let Some(body) = self.kind.body_json().map_err(S::Error::custom)? {
            put(self.kind.type_name(), body);
        }
        out.serialize(s)
    }
}
