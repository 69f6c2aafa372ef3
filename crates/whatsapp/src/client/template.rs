//! Template messages: a template approved in WhatsApp Manager, filled with parameters. Templates
//! are the only messages allowed outside the 24 h customer-service window.

use serde_json::{Map, Value as Json, json};

use super::messages::{MediaSource, required};
use crate::error::Error;

/// Longest text parameter in a template body.
pub const MAX_BODY_PARAMETER: usize = 1024;
/// Longest text parameter in a template header.
pub const MAX_HEADER_PARAMETER: usize = 60;

/// One value for a template placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parameter {
    /// Text for `{{1}}`, or for a named placeholder `{{name}}` when `name` is set.
    Text {
        /// The placeholder's name, for templates with named parameters.
        name: Option<String>,
        /// The value.
        text: String,
    },
    /// A header image.
    Image(MediaSource),
    /// A header video.
    Video(MediaSource),
    /// A header document, with the file name shown.
    Document(MediaSource, Option<String>),
    /// An amount, shown localised; `fallback` where WhatsApp cannot localise it.
    Currency {
        /// Shown when localisation fails, e.g. `RWF 1,500`.
        fallback: String,
        /// ISO 4217 code.
        code: String,
        /// The amount times 1,000 (Meta's unit: `1500 RWF` is `1_500_000`).
        amount_1000: i64,
    },
}

impl Parameter {
    /// A positional text parameter.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text {
            name: None,
            text: text.into(),
        }
    }

    /// A named text parameter (`{{customer_name}}`).
    pub fn named(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self::Text {
            name: Some(name.into()),
            text: text.into(),
        }
    }

    fn to_json(&self, max_text: usize) -> Result<Json, Error> {
        let media = |kind: &str, source: &MediaSource, filename: Option<&String>| {
            let mut body = source.to_json();
            if let Some(f) = filename {
                body.insert("filename".into(), json!(f));
            }
            json!({ "type": kind, kind: body })
        };
        Ok(match self {
            Self::Text { name, text } => {
                required("template parameter", text, max_text)?;
                let mut p = Map::new();
                p.insert("type".into(), json!("text"));
                if let Some(n) = name {
                    required("parameter name", n, 256)?;
                    p.insert("parameter_name".into(), json!(n));
                }
                p.insert("text".into(), json!(text));
                Json::Object(p)
            }
            Self::Image(s) => media("image", s, None),
            Self::Video(s) => media("video", s, None),
            Self::Document(s, f) => media("document", s, f.as_ref()),
            Self::Currency {
                fallback,
                code,
                amount_1000,
            } => json!({
                "type": "currency",
                "currency": { "fallback_value": fallback, "code": code, "amount_1000": amount_1000 },
            }),
        })
    }
}

/// A template and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    name: String,
    language: String,
    header: Vec<Parameter>,
    body: Vec<Parameter>,
    buttons: Vec<(usize, &'static str, Json)>,
}

impl Template {
    /// Template `name` in `language` (the approved translation's code, e.g. `en_US`, `rw`).
    pub fn new(name: impl Into<String>, language: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            language: language.into(),
            header: Vec::new(),
            body: Vec::new(),
            buttons: Vec::new(),
        }
    }

    /// The header's parameter (text, image, video or document).
    #[must_use]
    pub fn header(mut self, parameter: Parameter) -> Self {
        self.header.push(parameter);
        self
    }

    /// The body's parameters, in placeholder order.
    #[must_use]
    pub fn body(mut self, parameters: impl IntoIterator<Item = Parameter>) -> Self {
        self.body.extend(parameters);
        self
    }

    /// The payload returned when the customer taps quick-reply button `index` (0-based).
    #[must_use]
    pub fn quick_reply(mut self, index: usize, payload: impl Into<String>) -> Self {
        let p = json!({ "type": "payload", "payload": payload.into() });
        self.buttons.push((index, "quick_reply", p));
        self
    }

    /// The suffix appended to the dynamic URL of button `index` (0-based).
    #[must_use]
    pub fn url_suffix(mut self, index: usize, suffix: impl Into<String>) -> Self {
        let p = json!({ "type": "text", "text": suffix.into() });
        self.buttons.push((index, "url", p));
        self
    }

    pub(crate) fn into_json(self) -> Result<Json, Error> {
        required("template name", &self.name, 512)?;
        required("template language", &self.language, 16)?;
        let mut components = Vec::new();
        if !self.header.is_empty() {
            let params = self
                .header
                .iter()
                .map(|p| p.to_json(MAX_HEADER_PARAMETER))
                .collect::<Result<Vec<_>, _>>()?;
            components.push(json!({ "type": "header", "parameters": params }));
        }
        if !self.body.is_empty() {
            let params = self
                .body
                .iter()
                .map(|p| p.to_json(MAX_BODY_PARAMETER))
                .collect::<Result<Vec<_>, _>>()?;
            components.push(json!({ "type": "body", "parameters": params }));
        }
        for (index, sub_type, param) in self.buttons {
            if let Some(Json::String(s)) = param.get("payload").or_else(|| param.get("text")) {
                required("template button parameter", s, 1024)?;
            }
            // Meta documents the index as a string.
            components.push(json!({
                "type": "button",
                "sub_type": sub_type,
                "index": index.to_string(),
                "parameters": [param],
            }));
        }
        let mut doc = Map::new();
        doc.insert("name".into(), json!(self.name));
        doc.insert("language".into(), json!({ "code": self.language }));
        if !components.is_empty() {
            doc.insert("components".into(), Json::Array(components));
        }
        Ok(Json::Object(doc))
    }
}
