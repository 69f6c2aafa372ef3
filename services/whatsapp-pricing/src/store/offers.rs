//! The stored form of a quote's offers: what the code cannot put back.
//!
//! An offer as answered repeats words that its insurer and line kinds fix (the insurer's name,
//! the currency, each line's label), empty fields and, for a priced offer, the instalment
//! schedules its tariff version and total determine. Stored as answered, the offers of four
//! insurers were ~2.3 KB of JSON, so a quote filled a 4 KiB page on its own; without them they
//! are ~1.5 KB, and most pages hold two quotes: fewer pages written per commit, and less JSON to
//! write and escape per quote.
//!
//! A word is left out only when it is exactly the one the code would put back, so reading is
//! lossless; an offer stored whole (before this form) reads the same way.

use std::borrow::Cow;
use std::str::FromStr;

use contracts::pricing::{Declined, InstalmentOption, InsurerOffer, QuoteLine};
use pricing::{Insurer, LineKind};
use serde::{Deserialize, Serialize};

/// The currency of every offer.
const CURRENCY: &str = "RWF";

/// One offer as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredOffer<'a> {
    insurer: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    insurer_name: Option<Cow<'a, str>>,
    status: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    currency: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tariff_version: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    lines: Vec<StoredLine<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    short_term_factor: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mandatory_excess: Option<Cow<'a, str>>,
    /// Left out when the tariff version and total give them back (`restore_instalments`).
    #[serde(default, skip_serializing_if = "no_schedules")]
    instalments: Cow<'a, [InstalmentOption]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warning: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment_reference: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    declined: Option<Cow<'a, Declined>>,
}

/// One line as stored: its label only when its kind does not give it.
#[derive(Debug, Serialize, Deserialize)]
struct StoredLine<'a> {
    kind: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<Cow<'a, str>>,
    amount: i64,
}

fn no_schedules(schedules: &[InstalmentOption]) -> bool {
    schedules.is_empty()
}

fn insurer_name(slug: &str) -> Option<&'static str> {
    Insurer::from_str(slug).ok().map(Insurer::name)
}

fn line_label(kind: &str) -> Option<&'static str> {
    LineKind::ALL
        .into_iter()
        .find(|k| k.as_str() == kind)
        .map(LineKind::label)
}

/// `Some(word)` unless it is `derived`.
fn unless<'a>(word: &'a str, derived: Option<&str>) -> Option<Cow<'a, str>> {
    (derived != Some(word)).then_some(Cow::Borrowed(word))
}

fn borrowed(word: Option<&String>) -> Option<Cow<'_, str>> {
    word.map(|w| Cow::Borrowed(w.as_str()))
}

impl<'a> StoredOffer<'a> {
    /// The stored form of `offer`, borrowing from it.
    pub(crate) fn of(offer: &'a InsurerOffer) -> Self {
        let schedules_derivable = offer.tariff_version.is_some() && offer.total.is_some();
        Self {
            insurer: Cow::Borrowed(&offer.insurer),
            insurer_name: unless(&offer.insurer_name, insurer_name(&offer.insurer)),
            status: Cow::Borrowed(&offer.status),
            currency: unless(&offer.currency, Some(CURRENCY)),
            total: offer.total,
            tariff_version: borrowed(offer.tariff_version.as_ref()),
            lines: offer
                .lines
                .iter()
                .map(|l| StoredLine {
                    kind: Cow::Borrowed(&l.kind),
                    label: unless(&l.label, line_label(&l.kind)),
                    amount: l.amount,
                })
                .collect(),
            short_term_factor: borrowed(offer.short_term_factor.as_ref()),
            mandatory_excess: borrowed(offer.mandatory_excess.as_ref()),
            instalments: if schedules_derivable {
                Cow::Borrowed(&[])
            } else {
                Cow::Borrowed(&offer.instalments)
            },
            warning: borrowed(offer.warning.as_ref()),
            payment_reference: borrowed(offer.payment_reference.as_ref()),
            declined: offer.declined.as_ref().map(Cow::Borrowed),
        }
    }

    /// The insurer's slug.
    pub(crate) fn insurer(&self) -> &str {
        &self.insurer
    }

    /// The offer as answered, every derivable word put back (the instalment schedules apart:
    /// they need the tariff book).
    pub(crate) fn into_offer(self) -> InsurerOffer {
        let name = match self.insurer_name {
            Some(n) => n.into_owned().into(),
            None => insurer_name(&self.insurer).map_or_else(
                || Cow::Owned(self.insurer.clone().into_owned()),
                Cow::Borrowed,
            ),
        };
        InsurerOffer {
            insurer_name: name,
            insurer: self.insurer.into_owned().into(),
            status: self.status.into_owned().into(),
            currency: self
                .currency
                .map_or(Cow::Borrowed(CURRENCY), |c| c.into_owned().into()),
            total: self.total,
            tariff_version: self.tariff_version.map(Cow::into_owned),
            lines: self
                .lines
                .into_iter()
                .map(|l| QuoteLine {
                    label: match l.label {
                        Some(label) => label.into_owned().into(),
                        None => line_label(&l.kind)
                            .map_or_else(|| Cow::Owned(l.kind.clone().into_owned()), Cow::Borrowed),
                    },
                    kind: l.kind.into_owned().into(),
                    amount: l.amount,
                })
                .collect(),
            short_term_factor: self.short_term_factor.map(Cow::into_owned),
            mandatory_excess: self.mandatory_excess.map(Cow::into_owned),
            instalments: self.instalments.into_owned(),
            warning: self.warning.map(Cow::into_owned),
            payment_reference: self.payment_reference.map(Cow::into_owned),
            declined: self.declined.map(Cow::into_owned),
        }
    }
}

/// The stored form of `offers`.
pub(crate) fn stored(offers: &[InsurerOffer]) -> Vec<StoredOffer<'_>> {
    offers.iter().map(StoredOffer::of).collect()
}

/// Offers read back from their stored form.
pub(crate) fn read(offers: Vec<StoredOffer<'_>>) -> Vec<InsurerOffer> {
    offers.into_iter().map(StoredOffer::into_offer).collect()
}

#[cfg(test)]
mod tests {
    use contracts::pricing::InstalmentDue;

    use super::*;

    fn quoted() -> InsurerOffer {
        InsurerOffer {
            insurer: "bk".into(),
            insurer_name: "BK Insurance".into(),
            status: "quoted".into(),
            currency: "RWF".into(),
            total: Some(518_600),
            tariff_version: Some("bk-2025.1".into()),
            lines: vec![
                QuoteLine {
                    kind: "third_party_base".into(),
                    label: "Third Party base".into(),
                    amount: 129_600,
                },
                QuoteLine {
                    kind: "transaction_fees".into(),
                    label: "Transaction fees".into(),
                    amount: 389_000,
                },
            ],
            short_term_factor: Some("1".into()),
            mandatory_excess: Some("5% MD, 2.5% Theft/Fire (min RWF 500,000)".into()),
            instalments: vec![InstalmentOption {
                name: "Option 1".into(),
                schedule: vec![InstalmentDue {
                    at_month: 1,
                    amount: 518_600,
                }],
            }],
            warning: Some("Vehicle is 14 years old".into()),
            payment_reference: Some("00000018".into()),
            declined: None,
        }
    }

    /// A decline as the service answers it.
    fn declined() -> InsurerOffer {
        let on = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let decline = pricing::Decline::NoTariff {
            insurer: Insurer::Radiant,
            on,
        };
        crate::domain::to_wire(Insurer::Radiant, &Err(decline), None)
    }

    fn round_trip(offers: &[InsurerOffer]) -> (String, Vec<InsurerOffer>) {
        let text = serde_json::to_string(&stored(offers)).unwrap();
        let back: Vec<StoredOffer<'_>> = serde_json::from_str(&text).unwrap();
        (text, read(back))
    }

    #[test]
    fn derivable_words_are_left_out_and_put_back() {
        let offers = vec![quoted(), declined()];
        let (text, back) = round_trip(&offers);
        for word in [
            "insurerName",
            "currency",
            "label",
            "Third Party base",
            "Transaction fees",
            "Option 1",
            "null",
        ] {
            assert!(!text.contains(word), "{word} stored in {text}");
        }
        let whole = serde_json::to_string(&offers).unwrap();
        assert!(
            text.len() * 5 < whole.len() * 3,
            "{} vs {}",
            text.len(),
            whole.len()
        );

        // Everything but the priced offer's schedules (the tariff book gives them back).
        let mut expected = offers;
        expected[0].instalments.clear();
        assert_eq!(back, expected);
    }

    #[test]
    fn words_the_code_would_not_give_back_are_kept() {
        let mut odd = quoted();
        odd.insurer_name = "BK General Insurance".into();
        odd.currency = "USD".into();
        odd.lines[0].label = "Third party".into();
        odd.lines.push(QuoteLine {
            kind: "stamp_duty".into(),
            label: "Stamp duty".into(),
            amount: 500,
        });
        // No tariff version: the schedules cannot be derived, so they are kept.
        odd.tariff_version = None;
        let mut unknown = declined();
        unknown.insurer = "sonarwa".into();
        unknown.insurer_name = "Sonarwa".into();

        let offers = vec![odd, unknown];
        let (_, back) = round_trip(&offers);
        assert_eq!(back, offers);
    }

    /// The words put back on read are the code's: changing one would change what every quote
    /// stored before answers. A new word needs a new stored form (keep the old words for the
    /// quotes stored with them), not an edit here.
    #[test]
    fn the_words_put_back_are_the_ones_quotes_were_stored_with() {
        let names: Vec<_> = Insurer::ALL.into_iter().map(Insurer::name).collect();
        assert_eq!(
            names,
            [
                "BK Insurance",
                "Old Mutual Rwanda",
                "Prime Insurance",
                "Radiant Insurance"
            ]
        );
        let labels: Vec<_> = LineKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), k.label()))
            .collect();
        assert_eq!(
            labels,
            [
                ("third_party_base", "Third Party base"),
                ("seat_loading", "Seat/Passenger loading"),
                ("own_damage", "Own Damage/Theft/Fire"),
                ("age_loading", "Age loading"),
                ("short_term_adjustment", "Short-term factor"),
                (
                    "comesa_extension",
                    "COMESA extension (on net premium excl. theft)"
                ),
                ("comesa_medical", "COMESA medical fees"),
                ("comesa_yellow_card", "COMESA Yellow Card fee"),
                (
                    "theft_territorial_extension",
                    "Territorial extension of theft cover"
                ),
                ("occupant_personal_accident", "Occupant Personal Accident"),
                ("government_excess_waiver", "Excess waiver loading (Gov)"),
                ("transaction_fees", "Transaction fees"),
            ]
        );
    }

    #[test]
    fn offers_stored_whole_read_the_same() {
        let offers = vec![quoted(), declined()];
        let whole = serde_json::to_string(&offers).unwrap();
        let back: Vec<StoredOffer<'_>> = serde_json::from_str(&whole).unwrap();
        assert_eq!(read(back), offers);
    }
}
