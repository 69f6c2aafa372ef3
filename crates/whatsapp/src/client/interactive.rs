//! Interactive messages: reply buttons and lists. The builders take anything; Meta's limits are
//! checked once, when the message is made ([`OutboundMessage::buttons`],
//! [`OutboundMessage::list`]).
//!
//! [`OutboundMessage::buttons`]: super::OutboundMessage::buttons
//! [`OutboundMessage::list`]: super::OutboundMessage::list

use std::collections::HashSet;

use serde_json::{Map, Value as Json, json};

use super::messages::{limit, required};
use crate::error::Error;

/// Longest interactive body.
pub const MAX_BODY: usize = 1024;
/// Longest text header or footer.
pub const MAX_HEADER: usize = 60;
/// Most reply buttons.
pub const MAX_BUTTONS: usize = 3;
/// Longest reply-button title.
pub const MAX_BUTTON_TITLE: usize = 20;
/// Most list rows, across all sections.
pub const MAX_ROWS: usize = 10;
/// Longest row or section title.
pub const MAX_ROW_TITLE: usize = 24;
/// Longest row description.
pub const MAX_ROW_DESCRIPTION: usize = 72;
/// Longest button or row id.
pub const MAX_ID: usize = 200;

/// One reply button: the id comes back in the customer's reply, the title is what they see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    id: String,
    title: String,
}

impl Button {
    /// A button (title at most 20 characters).
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
        }
    }
}

/// A message with 1 to 3 reply buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buttons {
    header: Option<String>,
    body: String,
    footer: Option<String>,
    buttons: Vec<Button>,
}

impl Buttons {
    /// `body` (at most 1,024 characters) above `buttons`.
    pub fn new(body: impl Into<String>, buttons: impl IntoIterator<Item = Button>) -> Self {
        Self {
            header: None,
            body: body.into(),
            footer: None,
            buttons: buttons.into_iter().collect(),
        }
    }

    /// A text header (at most 60 characters).
    #[must_use]
    pub fn header(mut self, text: impl Into<String>) -> Self {
        self.header = Some(text.into());
        self
    }

    /// A footer (at most 60 characters).
    #[must_use]
    pub fn footer(mut self, text: impl Into<String>) -> Self {
        self.footer = Some(text.into());
        self
    }

    pub(crate) fn into_json(self) -> Result<Json, Error> {
        if self.buttons.is_empty() || self.buttons.len() > MAX_BUTTONS {
            return Err(Error::Invalid(format!(
                "{} reply buttons; Meta allows 1 to {MAX_BUTTONS}",
                self.buttons.len()
            )));
        }
        unique_ids(self.buttons.iter().map(|b| b.id.as_str()))?;
        let mut buttons = Vec::with_capacity(self.buttons.len());
        for b in self.buttons {
            required("button id", &b.id, MAX_ID)?;
            required("button title", &b.title, MAX_BUTTON_TITLE)?;
            buttons.push(json!({ "type": "reply", "reply": { "id": b.id, "title": b.title } }));
        }
        let mut doc = frame("button", self.header, self.body, self.footer)?;
        doc.insert("action".into(), json!({ "buttons": buttons }));
        Ok(Json::Object(doc))
    }
}

/// One selectable row of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    id: String,
    title: String,
    description: Option<String>,
}

impl Row {
    /// A row (title at most 24 characters).
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            description: None,
        }
    }

    /// A description under the title (at most 72 characters).
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

/// A titled group of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    title: String,
    rows: Vec<Row>,
}

impl Section {
    /// A section (title at most 24 characters; required when a list has several sections).
    pub fn new(title: impl Into<String>, rows: impl IntoIterator<Item = Row>) -> Self {
        Self {
            title: title.into(),
            rows: rows.into_iter().collect(),
        }
    }
}

/// A list message: a button that opens 1 to 10 rows in sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    header: Option<String>,
    body: String,
    footer: Option<String>,
    button: String,
    sections: Vec<Section>,
}

impl List {
    /// `body` (at most 1,024 characters) and the `button` that opens the list (at most 20).
    pub fn new(body: impl Into<String>, button: impl Into<String>) -> Self {
        Self {
            header: None,
            body: body.into(),
            footer: None,
            button: button.into(),
            sections: Vec::new(),
        }
    }

    /// A text header (at most 60 characters).
    #[must_use]
    pub fn header(mut self, text: impl Into<String>) -> Self {
        self.header = Some(text.into());
        self
    }

    /// A footer (at most 60 characters).
    #[must_use]
    pub fn footer(mut self, text: impl Into<String>) -> Self {
        self.footer = Some(text.into());
        self
    }

    /// Adds a section.
    #[must_use]
    pub fn section(mut self, section: Section) -> Self {
        self.sections.push(section);
        self
    }

    pub(crate) fn into_json(self) -> Result<Json, Error> {
        required("list button", &self.button, MAX_BUTTON_TITLE)?;
        let rows = self.sections.iter().map(|s| s.rows.len()).sum::<usize>();
        if rows == 0 || rows > MAX_ROWS {
            return Err(Error::Invalid(format!(
                "{rows} list rows; Meta allows 1 to {MAX_ROWS}"
            )));
        }
        unique_ids(
            self.sections
                .iter()
                .flat_map(|s| &s.rows)
                .map(|r| r.id.as_str()),
        )?;
        let several = self.sections.len() > 1;
        let mut sections = Vec::with_capacity(self.sections.len());
        for s in self.sections {
            if several {
                required("section title", &s.title, MAX_ROW_TITLE)?;
            } else {
                limit("section title", &s.title, MAX_ROW_TITLE)?;
            }
            let mut rows = Vec::with_capacity(s.rows.len());
            for r in s.rows {
                required("row id", &r.id, MAX_ID)?;
                required("row title", &r.title, MAX_ROW_TITLE)?;
                let mut row = Map::new();
                row.insert("id".into(), json!(r.id));
                row.insert("title".into(), json!(r.title));
                if let Some(d) = r.description {
                    limit("row description", &d, MAX_ROW_DESCRIPTION)?;
                    row.insert("description".into(), json!(d));
                }
                rows.push(Json::Object(row));
            }
            let mut section = Map::new();
            if !s.title.is_empty() {
                section.insert("title".into(), json!(s.title));
            }
            section.insert("rows".into(), Json::Array(rows));
            sections.push(Json::Object(section));
        }
        let mut doc = frame("list", self.header, self.body, self.footer)?;
        doc.insert(
            "action".into(),
            json!({ "button": self.button, "sections": sections }),
        );
        Ok(Json::Object(doc))
    }
}

/// The parts buttons and lists share: type, optional text header, body, optional footer.
fn frame(
    kind: &str,
    header: Option<String>,
    body: String,
    footer: Option<String>,
) -> Result<Map<String, Json>, Error> {
    required("body", &body, MAX_BODY)?;
    let mut doc = Map::new();
    doc.insert("type".into(), json!(kind));
    if let Some(h) = header {
        required("header", &h, MAX_HEADER)?;
        doc.insert("header".into(), json!({ "type": "text", "text": h }));
    }
    doc.insert("body".into(), json!({ "text": body }));
    if let Some(f) = footer {
        required("footer", &f, MAX_HEADER)?;
        doc.insert("footer".into(), json!({ "text": f }));
    }
    Ok(doc)
}

/// Meta refuses a message whose buttons or rows share an id, and a reply could not say which
/// one was chosen anyway.
fn unique_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Result<(), Error> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(Error::Invalid(format!("duplicate id {id:?}")));
        }
    }
    Ok(())
}
