//! The transitions, one input at a time, without I/O.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use contracts::pricing::{InsurerOffer, QuoteComparison};
use contracts::whatsapp::OutboundContent;

use super::*;

fn settings() -> Settings {
    Settings {
        ocr: true,
        idle: Duration::from_secs(3600),
        max_documents: 4,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .single()
        .unwrap_or_default()
}

fn text(t: &str) -> Input {
    Input::Message(Inbound::Text(t.to_owned()))
}

fn choice(id: &str) -> Input {
    Input::Message(Inbound::Choice {
        id: id.to_owned(),
        title: id.to_owned(),
    })
}

fn image(id: &str) -> Input {
    Input::Message(Inbound::Media(Media {
        id: id.to_owned(),
        mime: Some("image/jpeg".into()),
    }))
}

fn go(c: &Conversation, input: Input) -> (Conversation, Vec<Effect>) {
    step(c, input, now(), &settings())
}

fn texts(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send(OutboundContent::Text { body, .. }) => Some(body.clone()),
            Effect::Send(OutboundContent::Buttons { body, .. }) => Some(body.clone()),
            Effect::Send(OutboundContent::List { body, .. }) => Some(body.clone()),
            _ => None,
        })
        .collect()
}

fn doc() -> VehicleDoc {
    VehicleDoc {
        plate_number: Some("RAD 123 A".into()),
        make: Some("Toyota".into()),
        model: Some("RAV4".into()),
        body_type: Some("Jeep".into()),
        year: Some(2018),
        seats: Some(5),
        sum_insured_hint: Some(30_000_000),
        ..VehicleDoc::default()
    }
}

fn offer(insurer: &'static str, total: i64, reference: &str) -> InsurerOffer {
    InsurerOffer {
        insurer: insurer.into(),
        insurer_name: insurer.into(),
        status: "quoted".into(),
        currency: "RWF".into(),
        total: Some(total),
        tariff_version: Some("v".into()),
        lines: Vec::new(),
        short_term_factor: None,
        mandatory_excess: None,
        instalments: Vec::new(),
        warning: None,
        payment_reference: Some(reference.into()),
        declined: None,
    }
}

fn comparison() -> QuoteComparison {
    QuoteComparison {
        id: "q1".into(),
        tenant_id: "t".into(),
        priced_on: now().date_naive(),
        input: serde_json::Value::Null,
        offers: vec![
            offer("bk", 804_600, "00000018"),
            offer("prime", 805_600, "00000026"),
        ],
        created_at: now(),
    }
}

/// Documents → read → confirmed → sum insured → ready.
fn ready() -> Conversation {
    let (c, fx) = go(&Conversation::default(), image("m1"));
    assert_eq!(c.stage, Stage::Extracting);
    assert!(fx.contains(&Effect::Extract {
        extraction: 1,
        media: c.media.clone()
    }));
    let (c, _) = go(
        &c,
        Input::Extracted {
            extraction: 1,
            doc: doc(),
        },
    );
    assert_eq!(c.stage, Stage::ConfirmFacts);
    assert_eq!(c.facts.category, Some(VehicleCategory::JeepSuv));
    let (c, _) = go(&c, choice("confirm"));
    assert_eq!(c.stage, Stage::Ready, "the document's value is enough");
    c
}

#[test]
fn the_whole_journey_to_paid() {
    let c = ready();
    let (c, fx) = go(&c, choice("quote"));
    let Some(Effect::Price(req)) = fx.first() else {
        panic!("no pricing: {fx:?}")
    };
    assert_eq!(req.category, "JEEP_SUV");
    assert_eq!(req.vehicle_age_years, Some(8));
    let (c, fx) = go(&c, Input::Priced(comparison()));
    assert_eq!(c.stage, Stage::Quoted);
    assert!(matches!(
        fx.last(),
        Some(Effect::Send(OutboundContent::List { .. }))
    ));
    let (c, fx) = go(&c, choice("insurer:prime"));
    assert_eq!(c.stage, Stage::AwaitingPayment);
    assert!(
        texts(&fx)[0].contains("*182*8*1*000377*805600*00000026#"),
        "{fx:?}"
    );
    assert!(texts(&fx)[0].contains("tel:*182*8*1*000377*805600*00000026%23"));
    let (same, fx) = go(
        &c,
        Input::Paid {
            reference: "00000026".into(),
            amount: 805_599,
        },
    );
    assert_eq!(
        same.stage,
        Stage::AwaitingPayment,
        "a wrong amount pays nothing"
    );
    assert!(fx.is_empty());
    let (c, fx) = go(
        &c,
        Input::Paid {
            reference: "00000026".into(),
            amount: 805_600,
        },
    );
    assert_eq!(c.stage, Stage::Paid);
    assert!(texts(&fx)[0].contains("Payment received"));
    let (again, fx) = go(
        &c,
        Input::Paid {
            reference: "00000026".into(),
            amount: 805_600,
        },
    );
    assert_eq!((again.stage, fx.len()), (Stage::Paid, 0), "paid once");
}

#[test]
fn defect_the_users_sum_insured_wins_over_ocr_whichever_comes_first() {
    // Typed before the document was read.
    let (c, _) = go(&Conversation::default(), image("m1"));
    let (c, _) = go(&c, text("sum insured 20,000,000"));
    let (c, _) = go(
        &c,
        Input::Extracted {
            extraction: 1,
            doc: doc(),
        },
    );
    assert_eq!(
        c.facts.request(2026).map(|r| r.sum_insured),
        Some(20_000_000)
    );
    // Typed after.
    let c = ready();
    assert_eq!(c.facts.sum_insured(), Some(30_000_000));
    let (c, _) = go(&c, text("15m"));
    assert_eq!(
        c.facts.request(2026).map(|r| r.sum_insured),
        Some(15_000_000)
    );
    assert_eq!(c.stage, Stage::Ready);
}

#[test]
fn defect_loose_keywords_do_not_reset_or_quote() {
    let c = ready();
    for t in [
        "preset",
        "running",
        "the car is running fine",
        "I'm not ready",
    ] {
        let (next, fx) = go(&c, text(t));
        assert!(!fx.iter().any(|e| matches!(e, Effect::Price(_))), "{t}");
        assert_ne!(next.stage, Stage::AwaitingDocuments, "{t}");
    }
}

#[test]
fn defect_a_phone_number_is_not_taken_as_the_sum_insured() {
    let (c, _) = go(&Conversation::default(), text("car private 2019"));
    let (c, _) = go(&c, text("yes"));
    assert_eq!(c.stage, Stage::AwaitingSumInsured);
    let (c, _) = go(&c, text("call me on 0788123456"));
    assert_eq!(c.stage, Stage::AwaitingSumInsured);
    assert_eq!(c.facts.sum_insured(), None);
}

#[test]
fn reset_works_from_every_stage() {
    let c = ready();
    let (quoted, _) = go(&go(&c, choice("quote")).0, Input::Priced(comparison()));
    for conv in [Conversation::default(), ready(), quoted] {
        let (next, fx) = go(&conv, text("reset"));
        assert_eq!(next.stage, Stage::AwaitingDocuments);
        assert_eq!(next.facts, Facts::default());
        assert_eq!(texts(&fx), vec![super::render::RESET.to_owned()]);
    }
}

#[test]
fn a_failed_reading_asks_for_typed_facts_and_stale_results_are_ignored() {
    let (c, _) = go(&Conversation::default(), image("m1"));
    let (c, _) = go(&c, image("m2"));
    assert_eq!(c.extraction, 2);
    let (same, fx) = go(
        &c,
        Input::Extracted {
            extraction: 1,
            doc: doc(),
        },
    );
    assert_eq!((same, fx.len()), (c.clone(), 0), "reading 1 was superseded");
    let (c, fx) = go(&c, Input::ExtractionFailed { extraction: 2 });
    assert_eq!(c.stage, Stage::ConfirmFacts);
    assert!(texts(&fx)[0].contains("could not read"));
    let (c, _) = go(&c, text("minibus taxi 2015 14 seats"));
    let (c, _) = go(&c, text("ok"));
    assert_eq!(c.stage, Stage::AwaitingSumInsured);
    let (c, _) = go(&c, text("third party"));
    assert_eq!(c.stage, Stage::Ready, "TP only needs no sum insured");
}

#[test]
fn without_ocr_documents_lead_to_typed_facts() {
    let s = Settings {
        ocr: false,
        ..settings()
    };
    let (c, fx) = step(&Conversation::default(), image("m1"), now(), &s);
    assert_eq!(c.stage, Stage::ConfirmFacts);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Extract { .. })));
    assert!(texts(&fx)[0].contains("cannot read documents"));
}

#[test]
fn comesa_and_occupant_buttons_toggle_the_options() {
    let c = ready();
    let (c, fx) = go(&c, choice("comesa"));
    assert!(c.facts.comesa);
    let Some(Effect::Send(OutboundContent::Buttons { buttons, .. })) = fx.first() else {
        panic!("{fx:?}")
    };
    assert!(buttons.len() <= 3);
    assert_eq!(buttons[0].title, "Remove COMESA");
    let (c, _) = go(&c, choice("occupant"));
    assert_eq!(c.facts.occupant_plan, Some(1));
    let (_, fx) = go(&c, choice("quote"));
    let Some(Effect::Price(req)) = fx.first() else {
        panic!("{fx:?}")
    };
    assert_eq!(req.comesa, Some(true));
    assert_eq!(req.occupant.map(|o| o.plan), Some(1));
    assert_eq!(req.government_excess_waiver, None);
}

#[test]
fn an_idle_conversation_starts_over_but_one_awaiting_payment_does_not() {
    let c = Conversation {
        active_at: Some(now() - chrono::Duration::hours(2)),
        ..ready()
    };
    let (next, fx) = go(&c, text("15m"));
    assert_eq!(next.facts.category, None, "expired: the facts are gone");
    assert_eq!(texts(&fx)[0], super::render::EXPIRED);
    let waiting = Conversation {
        stage: Stage::AwaitingPayment,
        ..c
    };
    let (next, _) = go(&waiting, text("hello"));
    assert_eq!(next.stage, Stage::AwaitingPayment);
}

#[test]
fn the_insurer_list_fits_meta_limits() {
    let offers: Vec<OfferRef> = Insurer::ALL
        .iter()
        .map(|i| OfferRef {
            insurer: *i,
            total: 1,
            reference: "1".into(),
        })
        .collect();
    let Effect::Send(OutboundContent::List { sections, .. }) = render::insurer_list(&offers) else {
        panic!("not a list")
    };
    let rows: Vec<_> = sections.iter().flat_map(|s| &s.rows).collect();
    assert!(rows.len() <= render::MAX_LIST_ROWS);
    assert!(rows.iter().all(|r| r.title.chars().count() <= 24));
}

#[test]
fn the_comparison_follows_the_spec_layout() {
    let mut q = comparison();
    q.offers[0].lines = vec![contracts::pricing::QuoteLine {
        kind: "tp_base".into(),
        label: "Third party".into(),
        amount: 57_600,
    }];
    q.offers[0].mandatory_excess = Some("5% MD, 2.5% Theft/Fire (min RWF 150,000)".into());
    let t = render::comparison(&q);
    assert!(t.starts_with("*bk* — Total: *RWF 804,600*\n• Third party: RWF 57,600\n_Mandatory excess_: 5% MD, 2.5% Theft/Fire"), "{t}");
    assert!(t.contains("\n\n*prime* — Total: *RWF 805,600*"));
}

#[test]
fn typing_the_vehicle_while_a_document_is_read_drops_the_reading() {
    let (c, _) = go(&Conversation::default(), image("m1"));
    let (c, fx) = go(&c, text("pickup goods 2012"));
    assert_eq!(c.stage, Stage::ConfirmFacts);
    assert!(texts(&fx)[0].contains("PICKUP_SMALL_LORRY"));
    let (late, fx) = go(
        &c,
        Input::Extracted {
            extraction: 1,
            doc: doc(),
        },
    );
    assert_eq!(
        (late.facts.category, fx.len()),
        (Some(VehicleCategory::PickupSmallLorry), 0)
    );
}
