//! Outbound messages: the wire request turned into the `whatsapp` crate's validated
//! [`OutboundMessage`], and the service-window rule.

use chrono::{DateTime, Duration, Utc};
use contracts::whatsapp::{MediaType, OutboundContent, Recipient};
use whatsapp::client::{
    Button, Buttons, List, MediaKind, MediaMessage, MediaSource, Parameter, Row, Section, Template,
};
use whatsapp::{ContactId, OutboundMessage};

use crate::Error;

/// Meta's customer-service window: free-form messages only within 24 h of the contact's last one.
pub(crate) const SERVICE_WINDOW: Duration = Duration::hours(24);

/// The recipient as the `whatsapp` crate names it (the request validated that one id is set).
pub(crate) fn contact(to: &Recipient) -> Option<ContactId> {
    ContactId::from_parts(to.phone.as_deref(), [to.user_id.as_deref()])
}

/// Whether a message of this content may go at `now` after the contact's last message at `last`.
pub(crate) fn allowed(
    content: &OutboundContent,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    matches!(content, OutboundContent::Template { .. })
        || last.is_some_and(|t| now - t <= SERVICE_WINDOW)
}

fn invalid(pointer: &'static str) -> impl FnOnce(whatsapp::Error) -> Error {
    move |e| Error::InvalidMessage {
        pointer,
        detail: match e {
            whatsapp::Error::Invalid(d) => d,
            other => other.to_string(),
        },
    }
}

fn parameter(p: &contracts::whatsapp::TemplateParameter) -> Parameter {
    match &p.name {
        Some(n) => Parameter::named(n, &p.text),
        None => Parameter::text(&p.text),
    }
}

/// Builds the Graph API message, checked against Meta's limits (`422 invalid_message`, with the
/// offending field, otherwise).
pub(crate) fn build(
    content: &OutboundContent,
    reply_to: Option<&str>,
    to: ContactId,
) -> Result<OutboundMessage, Error> {
    let msg = match content {
        OutboundContent::Text { body, preview_url } => {
            let m = OutboundMessage::text(to, body).map_err(invalid("/message/body"))?;
            if *preview_url {
                m.with_link_preview()
            } else {
                m
            }
        }
        OutboundContent::Buttons {
            body,
            header,
            footer,
            buttons,
        } => {
            let mut b = Buttons::new(body, buttons.iter().map(|b| Button::new(&b.id, &b.title)));
            if let Some(h) = header {
                b = b.header(h);
            }
            if let Some(f) = footer {
                b = b.footer(f);
            }
            OutboundMessage::buttons(to, b).map_err(invalid("/message/buttons"))?
        }
        OutboundContent::List {
            body,
            button,
            header,
            footer,
            sections,
        } => {
            let mut l = List::new(body, button);
            if let Some(h) = header {
                l = l.header(h);
            }
            if let Some(f) = footer {
                l = l.footer(f);
            }
            for s in sections {
                let rows = s.rows.iter().map(|r| {
                    let row = Row::new(&r.id, &r.title);
                    match &r.description {
                        Some(d) => row.description(d),
                        None => row,
                    }
                });
                l = l.section(Section::new(&s.title, rows));
            }
            OutboundMessage::list(to, l).map_err(invalid("/message/sections"))?
        }
        OutboundContent::Template {
            name,
            language,
            header,
            parameters,
        } => {
            let mut t = Template::new(name, language).body(parameters.iter().map(parameter));
            if let Some(h) = header {
                t = t.header(parameter(h));
            }
            OutboundMessage::template(to, t).map_err(invalid("/message/parameters"))?
        }
        OutboundContent::Media {
            media_type,
            id,
            link,
            caption,
            filename,
        } => {
            let source = match (id, link) {
                (Some(id), None) => MediaSource::Id(id.clone()),
                (None, Some(link)) => MediaSource::Link(link.clone()),
                _ => {
                    return Err(Error::InvalidMessage {
                        pointer: "/message/id",
                        detail: "exactly one of id or link is required".into(),
                    });
                }
            };
            let kind = match media_type {
                MediaType::Image => MediaKind::Image,
                MediaType::Audio => MediaKind::Audio,
                MediaType::Video => MediaKind::Video,
                MediaType::Document => MediaKind::Document,
                MediaType::Sticker => MediaKind::Sticker,
            };
            let mut m = MediaMessage::new(kind, source);
            if let Some(c) = caption {
                m = m.caption(c);
            }
            if let Some(f) = filename {
                m = m.filename(f);
            }
            OutboundMessage::media(to, m).map_err(invalid("/message"))?
        }
    };
    Ok(match reply_to {
        Some(wamid) => msg.reply_to(wamid),
        None => msg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_templates_go_outside_the_window() {
        let now = Utc::now();
        let text = OutboundContent::Text {
            body: "hi".into(),
            preview_url: false,
        };
        let template = OutboundContent::Template {
            name: "welcome".into(),
            language: "en_US".into(),
            header: None,
            parameters: Vec::new(),
        };
        assert!(allowed(&text, Some(now - Duration::hours(23)), now));
        assert!(!allowed(&text, Some(now - Duration::hours(25)), now));
        assert!(!allowed(&text, None, now));
        assert!(allowed(&template, None, now));
    }
}
