//! The quote conversation as a pure state machine (spec 2.11): [`step`] maps a conversation and
//! one input to the next conversation and the effects to carry out (replies to send, documents
//! to read, a quote to price). No I/O here: [`crate::conversation::run`] loads, steps, stores
//! and carries out effects.
//!
//! ```text
//! awaiting_documents ─media─▶ extracting ─read─▶ confirm_facts ─yes─▶ awaiting_sum_insured
//!        │ typed facts            └─failed─▶ confirm_facts (typed)        │ amount
//!        ▼                                                                ▼
//!   awaiting_sum_insured / ready ◀──────────────────────────────────── ready ─quote─▶ quoted
//! quoted ─list choice─▶ awaiting_payment (selection made) ─payments.collection.succeeded─▶ paid
//! reset (any state) ─▶ awaiting_documents
//! ```

pub(crate) mod parse;
pub(crate) mod render;
pub(crate) mod run;
pub(crate) mod vehicle;

use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use contracts::pricing::{CreateQuote, OccupantCover, QuoteComparison};
use contracts::whatsapp::OutboundContent;
use pricing::{Cover, Insurer, OwnerType, UsageType, VehicleCategory};
use serde::{Deserialize, Serialize};

use parse::{Command, Said};
use vehicle::VehicleDoc;

/// Where a conversation is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Stage {
    /// Nothing yet: waiting for a Yellow Card or logbook (or typed facts).
    #[default]
    AwaitingDocuments,
    /// A document is being read (an OCR job is queued).
    Extracting,
    /// Facts shown; waiting for "yes" or corrections.
    ConfirmFacts,
    /// Waiting for the sum insured.
    AwaitingSumInsured,
    /// Everything needed is known; options (COMESA, occupants) offered.
    Ready,
    /// The comparison was sent; waiting for the insurer choice.
    Quoted,
    /// An insurer was selected and the payment string sent.
    AwaitingPayment,
    /// The collection for the selected offer arrived.
    Paid,
}

impl Stage {
    /// The stored name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingDocuments => "awaiting_documents",
            Self::Extracting => "extracting",
            Self::ConfirmFacts => "confirm_facts",
            Self::AwaitingSumInsured => "awaiting_sum_insured",
            Self::Ready => "ready",
            Self::Quoted => "quoted",
            Self::AwaitingPayment => "awaiting_payment",
            Self::Paid => "paid",
        }
    }
}

/// A document received and not yet read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Media {
    /// Meta's media id (fetched through the worker's `GET /v1/media/{id}`).
    pub(crate) id: String,
    /// Its MIME type, as Meta said.
    pub(crate) mime: Option<String>,
}

/// What is known about the vehicle and the cover wanted. The user's statements are kept apart
/// from the document's where both may exist, so the user always wins (spec 2.10).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Facts {
    pub(crate) category: Option<VehicleCategory>,
    pub(crate) usage: Option<UsageType>,
    pub(crate) owner: Option<OwnerType>,
    pub(crate) cover: Option<Cover>,
    pub(crate) seats: Option<u16>,
    pub(crate) passengers_above_driver: Option<u16>,
    pub(crate) year: Option<i32>,
    /// The figure the user typed.
    pub(crate) sum_insured_user: Option<i64>,
    /// The figure a document stated.
    pub(crate) sum_insured_doc: Option<i64>,
    pub(crate) comesa: bool,
    pub(crate) occupant_plan: Option<u8>,
    pub(crate) occupants: Option<u16>,
    pub(crate) period_days: Option<u16>,
    pub(crate) flammable: bool,
    pub(crate) plate: Option<String>,
    pub(crate) make_model: Option<String>,
}

impl Facts {
    /// The sum insured to price with: the user's figure wins over the document's.
    pub(crate) fn sum_insured(&self) -> Option<i64> {
        self.sum_insured_user.or(self.sum_insured_doc)
    }

    fn cover(&self) -> Cover {
        self.cover.unwrap_or(Cover::Comprehensive)
    }

    /// Whether a sum insured is still needed (any cover but TP only).
    fn needs_sum_insured(&self) -> bool {
        self.cover().has_own_damage() && self.sum_insured().is_none()
    }

    /// Merges what the user typed; the user's word replaces anything known.
    fn merge_said(&mut self, s: &Said) {
        set(&mut self.category, s.category);
        set(&mut self.usage, s.usage);
        set(&mut self.cover, s.cover);
        set(&mut self.seats, s.seats);
        set(&mut self.year, s.year);
        set(&mut self.sum_insured_user, s.sum_insured);
        set(&mut self.occupant_plan, s.occupant_plan);
        set(&mut self.occupants, s.occupants);
        set(&mut self.period_days, s.period_days);
        if let Some(c) = s.comesa {
            self.comesa = c;
        }
        if s.occupants.is_some() && self.occupant_plan.is_none() {
            self.occupant_plan = Some(1);
        }
        self.flammable |= s.flammable;
        if s.seats.is_some() {
            // Typed seats replace the document's passenger count too.
            self.passengers_above_driver = None;
        }
    }

    /// Merges a document: it only fills what is still unknown (the user's word is never
    /// overwritten), and its sum insured is kept apart.
    fn merge_doc(&mut self, d: &VehicleDoc) {
        fill(&mut self.category, d.category());
        fill(&mut self.usage, d.usage());
        fill(&mut self.owner, d.owner_type);
        fill(&mut self.seats, d.seats);
        fill(&mut self.passengers_above_driver, d.passengers_above_driver);
        fill(&mut self.year, d.year);
        fill(&mut self.plate, d.plate_number.clone());
        let mm = [d.make.as_deref(), d.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        fill(&mut self.make_model, (!mm.is_empty()).then_some(mm));
        if let Some(si) = d.sum_insured_hint.filter(|si| *si > 0) {
            self.sum_insured_doc = Some(si);
        }
    }

    /// The pricing request these facts make (`None` while the category is unknown or a sum
    /// insured is still needed).
    pub(crate) fn request(&self, this_year: i32) -> Option<CreateQuote> {
        let category = self.category?;
        if self.needs_sum_insured() {
            return None;
        }
        let age = self
            .year
            .map(|y| u16::try_from((this_year - y).max(0)).unwrap_or(u16::MAX));
        Some(CreateQuote {
            tenant_id: None,
            sum_insured: self.sum_insured().unwrap_or(0),
            category: category.as_str().to_owned(),
            usage: self.usage.unwrap_or(UsageType::Private).as_str().to_owned(),
            cover: self.cover().as_str().to_owned(),
            owner: self.owner.map(|o| o.as_str().to_owned()),
            seats: self.seats,
            passengers_above_driver: self.passengers_above_driver,
            vehicle_age_years: age,
            period_days: self.period_days,
            comesa: Some(self.comesa),
            comesa_passengers: None,
            theft_territorial_extension: None,
            occupant: self.occupant_plan.map(|plan| OccupantCover {
                plan,
                occupants: self.occupants,
            }),
            goods_are_flammable: Some(self.flammable),
            // Never from a chat: only a calling service may vouch for a government owner.
            government_excess_waiver: None,
        })
    }
}

/// `slot = v` when `v` says something.
fn set<T>(slot: &mut Option<T>, v: Option<T>) {
    if v.is_some() {
        *slot = v;
    }
}

/// `slot = v` when nothing is known yet.
fn fill<T>(slot: &mut Option<T>, v: Option<T>) {
    if slot.is_none() {
        *slot = v;
    }
}

/// One insurer's priced offer, as remembered for selection and payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OfferRef {
    pub(crate) insurer: Insurer,
    pub(crate) total: i64,
    pub(crate) reference: String,
}

/// The quote the user chooses from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QuoteRef {
    pub(crate) id: String,
    pub(crate) offers: Vec<OfferRef>,
}

/// A conversation's state, stored as JSON next to its stage and version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Conversation {
    pub(crate) stage: Stage,
    pub(crate) facts: Facts,
    /// Documents waiting to be read.
    pub(crate) media: Vec<Media>,
    /// Number of the current reading; a result for an older one is ignored.
    pub(crate) extraction: u32,
    pub(crate) quote: Option<QuoteRef>,
    pub(crate) selected: Option<OfferRef>,
    /// Last inbound activity (the idle timeout runs from here).
    pub(crate) active_at: Option<DateTime<Utc>>,
}

impl Conversation {
    /// The payment reference a collection must carry to pay this conversation, if any.
    pub(crate) fn awaited_reference(&self) -> Option<&str> {
        match self.stage {
            Stage::AwaitingPayment | Stage::Paid => {
                self.selected.as_ref().map(|s| s.reference.as_str())
            }
            _ => None,
        }
    }
}

/// An inbound WhatsApp message, reduced to what the conversation reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// Free text.
    Text(String),
    /// A tapped button or list row: its id and title.
    Choice { id: String, title: String },
    /// An image or document.
    Media(Media),
    /// Anything else (audio, location, sticker...).
    Other(String),
}

/// What moves a conversation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Input {
    /// The user wrote or tapped something.
    Message(Inbound),
    /// Reading number `extraction` succeeded.
    Extracted { extraction: u32, doc: VehicleDoc },
    /// Reading number `extraction` failed for good.
    ExtractionFailed { extraction: u32 },
    /// The [`Effect::Price`] asked for was stored.
    Priced(QuoteComparison),
    /// The facts could not be priced (the engine's complaint).
    PricingRefused(String),
    /// A collection arrived with this reference and amount.
    Paid { reference: String, amount: i64 },
}

/// Something to do after the step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Send this reply to the contact.
    Send(OutboundContent),
    /// Queue a reading of these documents as reading number `extraction`.
    Extract { extraction: u32, media: Vec<Media> },
    /// Price and store this request, then step again with [`Input::Priced`].
    Price(CreateQuote),
}

/// Settings the transitions depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Whether documents can be read (a vision model is configured).
    pub(crate) ocr: bool,
    /// After this long without a message, a conversation before payment starts over.
    pub(crate) idle: Duration,
    /// Most documents kept for one reading.
    pub(crate) max_documents: usize,
}

/// The next conversation and its effects. Pure: same inputs, same outputs.
pub(crate) fn step(
    conv: &Conversation,
    input: Input,
    now: DateTime<Utc>,
    settings: &Settings,
) -> (Conversation, Vec<Effect>) {
    let mut next = conv.clone();
    let mut fx = Vec::new();
    let this_year = now.year();
    match input {
        Input::Message(m) => {
            if expired(conv, now, settings) {
                next = Conversation::default();
                fx.push(text(render::EXPIRED));
            }
            next.active_at = Some(now);
            on_message(&mut next, m, this_year, settings, &mut fx);
        }
        Input::Extracted { extraction, doc } => {
            if next.stage == Stage::Extracting && extraction == next.extraction {
                next.media.clear();
                next.facts.merge_doc(&doc);
                next.stage = Stage::ConfirmFacts;
                fx.push(render::confirm_facts(&next.facts, this_year));
            }
        }
        Input::ExtractionFailed { extraction } => {
            if next.stage == Stage::Extracting && extraction == next.extraction {
                next.media.clear();
                next.stage = Stage::ConfirmFacts;
                fx.push(text(render::TYPE_FACTS_AFTER_FAILURE));
            }
        }
        Input::Priced(q) => {
            if next.stage == Stage::Ready {
                let offers: Vec<OfferRef> = q
                    .offers
                    .iter()
                    .filter_map(|o| {
                        Some(OfferRef {
                            insurer: o.insurer.parse().ok()?,
                            total: o.total?,
                            reference: o.payment_reference.clone()?,
                        })
                    })
                    .collect();
                fx.push(text(&render::comparison(&q)));
                if offers.is_empty() {
                    fx.push(text(render::NOTHING_OFFERED));
                } else {
                    fx.push(render::insurer_list(&offers));
                    next.stage = Stage::Quoted;
                    next.quote = Some(QuoteRef {
                        id: q.id.clone(),
                        offers,
                    });
                    next.selected = None;
                }
            }
        }
        Input::PricingRefused(reason) => {
            if next.stage == Stage::Ready {
                next.stage = Stage::ConfirmFacts;
                fx.push(text(&format!("{} {reason}.", render::CANNOT_PRICE)));
                fx.push(render::confirm_facts(&next.facts, this_year));
            }
        }
        Input::Paid { reference, amount } => {
            if let Some(sel) = &conv.selected
                && conv.stage == Stage::AwaitingPayment
                && sel.reference == reference
                && sel.total == amount
            {
                next.stage = Stage::Paid;
                fx.push(text(&render::paid(sel)));
            }
        }
    }
    (next, fx)
}

fn text(body: &str) -> Effect {
    Effect::Send(OutboundContent::Text {
        body: body.to_owned(),
        preview_url: false,
    })
}

/// Whether the conversation timed out: idle too long before any payment was asked for.
fn expired(conv: &Conversation, now: DateTime<Utc>, settings: &Settings) -> bool {
    let idle = chrono::Duration::from_std(settings.idle).unwrap_or(chrono::Duration::MAX);
    !matches!(
        conv.stage,
        Stage::AwaitingDocuments | Stage::AwaitingPayment | Stage::Paid
    ) && conv.active_at.is_some_and(|t| now - t > idle)
}

fn on_message(
    c: &mut Conversation,
    m: Inbound,
    this_year: i32,
    settings: &Settings,
    fx: &mut Vec<Effect>,
) {
    match m {
        Inbound::Media(media) => on_document(c, media, settings, fx),
        Inbound::Choice { id, title } => match id.as_str() {
            "reset" => reset(c, fx),
            "confirm" => on_command(c, Command::Confirm, this_year, fx),
            "quote" => on_command(c, Command::Quote, this_year, fx),
            "comesa" if c.stage == Stage::Ready => {
                c.facts.comesa = !c.facts.comesa;
                fx.push(render::options(&c.facts));
            }
            "occupant" if c.stage == Stage::Ready => {
                c.facts.occupant_plan = match c.facts.occupant_plan {
                    Some(_) => None,
                    None => Some(1),
                };
                fx.push(render::options(&c.facts));
            }
            other => match other.strip_prefix("insurer:") {
                Some(slug) => select(c, slug, fx),
                None => on_text(c, &title, this_year, fx),
            },
        },
        Inbound::Text(t) => on_text(c, &t, this_year, fx),
        Inbound::Other(_) => fx.push(text(&render::help(c))),
    }
}

fn reset(c: &mut Conversation, fx: &mut Vec<Effect>) {
    let active_at = c.active_at;
    *c = Conversation {
        active_at,
        ..Conversation::default()
    };
    fx.push(text(render::RESET));
}

fn on_document(c: &mut Conversation, media: Media, settings: &Settings, fx: &mut Vec<Effect>) {
    if matches!(
        c.stage,
        Stage::Quoted | Stage::AwaitingPayment | Stage::Paid
    ) {
        // New documents after a quote: a new vehicle, a new conversation.
        let active_at = c.active_at;
        *c = Conversation {
            active_at,
            ..Conversation::default()
        };
    }
    if !settings.ocr {
        if c.stage == Stage::AwaitingDocuments {
            c.stage = Stage::ConfirmFacts;
        }
        fx.push(text(render::NO_OCR));
        return;
    }
    c.media.push(media);
    if c.media.len() > settings.max_documents {
        c.media.remove(0);
    }
    c.extraction = c.extraction.saturating_add(1);
    c.stage = Stage::Extracting;
    fx.push(Effect::Extract {
        extraction: c.extraction,
        media: c.media.clone(),
    });
    fx.push(text(render::READING));
}

fn on_text(c: &mut Conversation, t: &str, this_year: i32, fx: &mut Vec<Effect>) {
    if let Some(cmd) = parse::command(t) {
        if cmd == Command::Reset {
            reset(c, fx);
        } else {
            on_command(c, cmd, this_year, fx);
        }
        return;
    }
    let said = parse::facts(t, this_year);
    if said.is_empty() {
        fx.push(text(&render::help(c)));
        return;
    }
    c.facts.merge_said(&said);
    if said.sum_insured.is_some() {
        fx.push(text(&render::sum_insured_noted(&c.facts)));
    }
    match c.stage {
        Stage::Extracting => {
            if said.category.is_some() {
                // The user typed the vehicle instead of waiting: the reading is dropped (its
                // result finds the conversation past `extracting` and is ignored).
                c.media.clear();
                c.stage = Stage::ConfirmFacts;
                fx.push(render::confirm_facts(&c.facts, this_year));
            } else {
                fx.push(text(render::STILL_READING));
            }
        }
        Stage::ConfirmFacts => fx.push(render::confirm_facts(&c.facts, this_year)),
        Stage::AwaitingDocuments => {
            if c.facts.category.is_some() {
                // Typed facts instead of documents: confirm them like read ones.
                c.stage = Stage::ConfirmFacts;
                fx.push(render::confirm_facts(&c.facts, this_year));
            } else {
                fx.push(text(render::WELCOME));
            }
        }
        Stage::AwaitingSumInsured | Stage::Ready | Stage::Quoted | Stage::AwaitingPayment => {
            // Changed facts make any quote stale: back to the options.
            c.quote = None;
            c.selected = None;
            advance(c, fx);
        }
        Stage::Paid => fx.push(text(render::ALREADY_PAID)),
    }
}

/// From confirmed facts: ask for the sum insured, or offer the options.
fn advance(c: &mut Conversation, fx: &mut Vec<Effect>) {
    if c.facts.category.is_none() {
        c.stage = Stage::ConfirmFacts;
        fx.push(text(render::ASK_CATEGORY));
    } else if c.facts.needs_sum_insured() {
        c.stage = Stage::AwaitingSumInsured;
        fx.push(text(render::ASK_SUM_INSURED));
    } else {
        c.stage = Stage::Ready;
        fx.push(render::options(&c.facts));
    }
}

fn on_command(c: &mut Conversation, cmd: Command, this_year: i32, fx: &mut Vec<Effect>) {
    match (cmd, c.stage) {
        (Command::Confirm, Stage::ConfirmFacts) => advance(c, fx),
        (Command::Quote, Stage::Ready | Stage::Quoted | Stage::AwaitingPayment) => {
            match c.facts.request(this_year) {
                Some(req) => {
                    c.stage = Stage::Ready;
                    c.quote = None;
                    c.selected = None;
                    fx.push(Effect::Price(req));
                }
                None => advance(c, fx),
            }
        }
        (Command::Quote, Stage::ConfirmFacts | Stage::AwaitingSumInsured) => advance(c, fx),
        _ => fx.push(text(&render::help(c))),
    }
}

fn select(c: &mut Conversation, slug: &str, fx: &mut Vec<Effect>) {
    if !matches!(c.stage, Stage::Quoted | Stage::AwaitingPayment) {
        fx.push(text(&render::help(c)));
        return;
    }
    let chosen = c
        .quote
        .as_ref()
        .and_then(|q| q.offers.iter().find(|o| o.insurer.as_str() == slug))
        .cloned();
    match chosen {
        Some(offer) => {
            fx.push(text(&render::payment(&offer)));
            c.selected = Some(offer);
            c.stage = Stage::AwaitingPayment;
        }
        None => fx.push(text(&render::help(c))),
    }
}

#[cfg(test)]
mod tests;
