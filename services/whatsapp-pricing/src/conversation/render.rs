//! What the conversation says: the comparison in spec 2.6's layout, the insurer list (at most 10
//! rows), the option and confirmation buttons (at most 3), the MoMo payment string.

use std::fmt::Write as _;

use contracts::pricing::QuoteComparison;
use contracts::whatsapp::{ListRow, ListSection, OutboundContent, ReplyButton};
use pricing::{Insurer, PaymentReference, Rwf, momo_tel_link, momo_ussd};

use super::{Conversation, Facts, OfferRef, Stage};

/// Meta's limit on list rows.
pub(crate) const MAX_LIST_ROWS: usize = 10;

pub(crate) const WELCOME: &str = "Welcome to motor insurance quotes. Send a photo of your Yellow \
Card or logbook, or type your vehicle: type (car, jeep, pickup, minibus, bus, moto, truck), use \
(private, taxi, hire, goods), year and seats. Example: \"car private 2018 5 seats\".";
pub(crate) const RESET: &str = "Session reset. Send the new documents anytime.";
pub(crate) const EXPIRED: &str =
    "Your previous quote request expired after a long pause, so we are starting over.";
pub(crate) const READING: &str = "Document received. Reading it now...";
pub(crate) const STILL_READING: &str =
    "Noted. I am still reading your document and will show you what I found.";
pub(crate) const NO_OCR: &str = "I cannot read documents right now. Please type your vehicle: \
type (car, jeep, pickup, minibus, bus, moto, truck), use (private, taxi, hire, goods), year and \
seats. Example: \"car private 2018 5 seats\".";
pub(crate) const TYPE_FACTS_AFTER_FAILURE: &str = "Sorry, I could not read that document. Please \
type your vehicle: type (car, jeep, pickup, minibus, bus, moto, truck), use (private, taxi, hire, \
goods), year and seats. Example: \"car private 2018 5 seats\".";
pub(crate) const ASK_CATEGORY: &str =
    "What kind of vehicle is it? Type car, jeep, pickup, minibus, bus, moto, truck or trailer.";
pub(crate) const ASK_SUM_INSURED: &str = "What is the vehicle's value (the sum insured) in RWF? \
For example 15,000,000 or 15m. Type \"third party\" for third-party cover only.";
pub(crate) const NOTHING_OFFERED: &str = "No insurer offers this cover for this vehicle. Type \
\"third party\" for third-party cover, change a detail, or type reset.";
pub(crate) const CANNOT_PRICE: &str = "I could not price that:";
pub(crate) const ALREADY_PAID: &str =
    "Your payment was received. Type reset to start a quote for another vehicle.";

fn button(id: &str, title: &str) -> ReplyButton {
    ReplyButton {
        id: id.to_owned(),
        title: title.to_owned(),
    }
}

/// The facts as a short list.
pub(crate) fn facts_summary(f: &Facts, this_year: i32) -> String {
    let mut s = String::new();
    let unknown = "?";
    let _ = writeln!(
        s,
        "• Vehicle: {}",
        f.category.map_or(unknown, |c| c.as_str())
    );
    if let Some(mm) = &f.make_model {
        let _ = writeln!(s, "• Make/model: {mm}");
    }
    if let Some(p) = &f.plate {
        let _ = writeln!(s, "• Plate: {p}");
    }
    let _ = writeln!(s, "• Use: {}", f.usage.map_or("PRIVATE", |u| u.as_str()));
    if let Some(y) = f.year {
        let _ = writeln!(s, "• Year: {y} ({} years old)", (this_year - y).max(0));
    }
    if let Some(seats) = f.seats {
        let _ = writeln!(s, "• Seats: {seats}");
    }
    let _ = writeln!(
        s,
        "• Cover: {}",
        f.cover.map_or("COMPREHENSIVE", |c| c.as_str())
    );
    match f.sum_insured() {
        Some(si) => {
            let _ = write!(s, "• Sum insured: {}", Rwf(si));
        }
        None => {
            let _ = write!(s, "• Sum insured: not given yet");
        }
    }
    s
}

/// The facts read or typed, with "correct" / "start over" buttons.
pub(crate) fn confirm_facts(f: &Facts, this_year: i32) -> super::Effect {
    let mut body = String::from("Here is what I have:\n");
    body.push_str(&facts_summary(f, this_year));
    body.push_str("\n\nIs this right? Tap Correct, or type a correction (e.g. \"jeep\", \"2016\", \"7 seats\", \"15m\").");
    super::Effect::Send(OutboundContent::Buttons {
        body,
        header: None,
        footer: None,
        buttons: vec![button("confirm", "Correct"), button("reset", "Start over")],
    })
}

/// COMESA and occupant cover as toggles, and the quote button (3 buttons).
pub(crate) fn options(f: &Facts) -> super::Effect {
    let body = format!(
        "All inputs received.\nCOMESA Yellow Card: {}\nOccupant cover: {}\n\nTap to change an option, or Get quotes.",
        if f.comesa { "yes" } else { "no" },
        f.occupant_plan
            .map_or_else(|| "no".to_owned(), |p| format!("plan {p}")),
    );
    super::Effect::Send(OutboundContent::Buttons {
        body,
        header: None,
        footer: None,
        buttons: vec![
            button(
                "comesa",
                if f.comesa {
                    "Remove COMESA"
                } else {
                    "Add COMESA"
                },
            ),
            button(
                "occupant",
                if f.occupant_plan.is_some() {
                    "Remove occupants"
                } else {
                    "Add occupant cover"
                },
            ),
            button("quote", "Get quotes"),
        ],
    })
}

/// "Sum Insured noted: RWF X."
pub(crate) fn sum_insured_noted(f: &Facts) -> String {
    f.sum_insured()
        .map_or_else(String::new, |si| format!("Sum Insured noted: {}.", Rwf(si)))
}

/// The comparison in one text, spec 2.6's layout: one block per insurer, blocks separated by a
/// blank line; the excess keeps its decimals; declined insurers say why. The MoMo string is sent
/// after the choice, with the chosen offer's own reference.
pub(crate) fn comparison(q: &QuoteComparison) -> String {
    let mut blocks = Vec::with_capacity(q.offers.len());
    for o in &q.offers {
        let mut b = String::new();
        match o.total {
            Some(total) => {
                let _ = write!(b, "*{}* — Total: *{}*", o.insurer_name, Rwf(total));
                for l in o.lines.iter().filter(|l| l.amount != 0) {
                    let _ = write!(b, "\n• {}: {}", l.label, Rwf(l.amount));
                }
                if let Some(e) = &o.mandatory_excess {
                    let _ = write!(b, "\n_Mandatory excess_: {e}");
                }
                if let Some(w) = &o.warning {
                    let _ = write!(b, "\n⚠️ {w}");
                }
            }
            None => {
                let reason = o
                    .declined
                    .as_ref()
                    .map_or("not offered", |d| d.reason.as_str());
                let _ = write!(b, "*{}* — {reason}", o.insurer_name);
            }
        }
        blocks.push(b);
    }
    blocks.join("\n\n")
}

/// The insurer choice: one row per quoted insurer, cheapest first, at most 10.
pub(crate) fn insurer_list(offers: &[OfferRef]) -> super::Effect {
    let mut sorted: Vec<&OfferRef> = offers.iter().collect();
    sorted.sort_by_key(|o| (o.total, o.insurer.index()));
    let rows = sorted
        .into_iter()
        .take(MAX_LIST_ROWS)
        .map(|o| ListRow {
            id: format!("insurer:{}", o.insurer.as_str()),
            title: o.insurer.name().chars().take(24).collect(),
            description: Some(format!("Total {}", Rwf(o.total))),
        })
        .collect();
    super::Effect::Send(OutboundContent::List {
        body: "Choose an insurer to get the MoMo payment code.".to_owned(),
        button: "Choose insurer".to_owned(),
        header: None,
        footer: None,
        sections: vec![ListSection {
            title: "Insurers".to_owned(),
            rows,
        }],
    })
}

/// The MoMo payment string of the chosen offer (`/v1/paylink`'s code).
pub(crate) fn payment(o: &OfferRef) -> String {
    let insurer: Insurer = o.insurer;
    let profile = insurer.profile();
    match PaymentReference::parse(&o.reference) {
        Some(reference) => {
            let ussd = momo_ussd(profile, o.total, &reference);
            format!(
                "You chose *{}*: *{}*.\nPay with MTN MoMo: dial {ussd}\nOr tap: {}\nReference: {reference}. We will confirm here when the payment arrives.",
                profile.name,
                Rwf(o.total),
                momo_tel_link(&ussd),
            )
        }
        None => format!(
            "You chose *{}*: *{}*. Payment details will follow.",
            profile.name,
            Rwf(o.total)
        ),
    }
}

/// The confirmation after payment.
pub(crate) fn paid(o: &OfferRef) -> String {
    format!(
        "Payment received: {} for *{}* (reference {}). Thank you! Your insurer will send the policy documents.",
        Rwf(o.total),
        o.insurer.name(),
        o.reference
    )
}

/// What to do next, by stage.
pub(crate) fn help(c: &Conversation) -> String {
    match c.stage {
        Stage::AwaitingDocuments => WELCOME.to_owned(),
        Stage::Extracting => STILL_READING.to_owned(),
        Stage::ConfirmFacts => {
            "Tap Correct if the details are right, or type a correction. Type reset to start over."
                .to_owned()
        }
        Stage::AwaitingSumInsured => ASK_SUM_INSURED.to_owned(),
        Stage::Ready => "Tap Get quotes (or type quote) to compare insurers.".to_owned(),
        Stage::Quoted => "Choose an insurer from the list to get the payment code.".to_owned(),
        Stage::AwaitingPayment => {
            "Waiting for your MoMo payment. Choose another insurer from the list, or type reset."
                .to_owned()
        }
        Stage::Paid => ALREADY_PAID.to_owned(),
    }
}
