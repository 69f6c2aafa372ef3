//! A priced quote: itemised lines in a fixed-size buffer (no allocation per quote), the total, the warnings,
//! and what the customer needs to know (excess, instalment plans, tariff version).

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::error::Decline;
use crate::model::Insurer;
use crate::rate::Rate;
use crate::tariff::{InstalmentPlan, MandatoryExcess, Tariff};

/// What a quote line charges for. Labels are static text, so building a quote allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Third-party base premium (step 1).
    ThirdPartyBase,
    /// Seat/passenger loading (step 2).
    SeatLoading,
    /// Own damage, theft and fire (step 3).
    OwnDamage,
    /// Age loading (step 4).
    AgeLoading,
    /// The (negative) adjustment from the annual to the period premium (step 6); the factor is
    /// [`Quote::short_term_factor`].
    ShortTermAdjustment,
    /// COMESA extension on the net premium excluding theft (step 7).
    ComesaExtension,
    /// COMESA medical fees (step 7).
    ComesaMedical,
    /// COMESA Yellow Card fee (step 7).
    ComesaYellowCard,
    /// Territorial extension of theft cover (step 8).
    TheftTerritorialExtension,
    /// Occupant personal accident (step 9).
    OccupantPersonalAccident,
    /// Government excess waiver loading (step 10).
    GovernmentExcessWaiver,
    /// Transaction fees (step 11).
    TransactionFees,
}

impl LineKind {
    /// Every kind, in the order lines are printed (the original's order).
    pub const ALL: [Self; MAX_LINES] = [
        Self::ThirdPartyBase,
        Self::SeatLoading,
        Self::OwnDamage,
        Self::AgeLoading,
        Self::ShortTermAdjustment,
        Self::ComesaExtension,
        Self::ComesaMedical,
        Self::ComesaYellowCard,
        Self::TheftTerritorialExtension,
        Self::OccupantPersonalAccident,
        Self::GovernmentExcessWaiver,
        Self::TransactionFees,
    ];

    /// Position in [`LineKind::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        match self {
            Self::ThirdPartyBase => 0,
            Self::SeatLoading => 1,
            Self::OwnDamage => 2,
            Self::AgeLoading => 3,
            Self::ShortTermAdjustment => 4,
            Self::ComesaExtension => 5,
            Self::ComesaMedical => 6,
            Self::ComesaYellowCard => 7,
            Self::TheftTerritorialExtension => 8,
            Self::OccupantPersonalAccident => 9,
            Self::GovernmentExcessWaiver => 10,
            Self::TransactionFees => 11,
        }
    }

    /// The stable wire name (`third_party_base`, ...): what serde writes, without building a
    /// JSON value to read it from.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ThirdPartyBase => "third_party_base",
            Self::SeatLoading => "seat_loading",
            Self::OwnDamage => "own_damage",
            Self::AgeLoading => "age_loading",
            Self::ShortTermAdjustment => "short_term_adjustment",
            Self::ComesaExtension => "comesa_extension",
            Self::ComesaMedical => "comesa_medical",
            Self::ComesaYellowCard => "comesa_yellow_card",
            Self::TheftTerritorialExtension => "theft_territorial_extension",
            Self::OccupantPersonalAccident => "occupant_personal_accident",
            Self::GovernmentExcessWaiver => "government_excess_waiver",
            Self::TransactionFees => "transaction_fees",
        }
    }

    /// The customer-facing label (the original's wording).
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::ThirdPartyBase => "Third Party base",
            Self::SeatLoading => "Seat/Passenger loading",
            Self::OwnDamage => "Own Damage/Theft/Fire",
            Self::AgeLoading => "Age loading",
            Self::ShortTermAdjustment => "Short-term factor",
            Self::ComesaExtension => "COMESA extension (on net premium excl. theft)",
            Self::ComesaMedical => "COMESA medical fees",
            Self::ComesaYellowCard => "COMESA Yellow Card fee",
            Self::TheftTerritorialExtension => "Territorial extension of theft cover",
            Self::OccupantPersonalAccident => "Occupant Personal Accident",
            Self::GovernmentExcessWaiver => "Excess waiver loading (Gov)",
            Self::TransactionFees => "Transaction fees",
        }
    }
}

/// One itemised charge, whole RWF. Only the short-term adjustment is ever negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    /// What it charges for.
    pub kind: LineKind,
    /// Amount, RWF.
    pub amount: i64,
}

/// The most lines a quote can have: one per [`LineKind`].
pub const MAX_LINES: usize = 12;

/// A quote's lines: one slot per [`LineKind`] and a bit per slot in use. Inline and small (104 bytes), so
/// pricing never touches the heap and a quote is cheap to move; kinds are printed in declaration order,
/// which is the original's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lines {
    amounts: [i64; MAX_LINES],
    present: u16,
}

impl Lines {
    pub(crate) const fn new() -> Self {
        Self {
            amounts: [0; MAX_LINES],
            present: 0,
        }
    }

    /// Sets the line of `kind` (the engine sets each kind at most once).
    pub(crate) fn set(&mut self, kind: LineKind, amount: i64) {
        if let Some(slot) = self.amounts.get_mut(kind.index()) {
            *slot = amount;
            self.present |= 1 << kind.index();
        }
    }

    /// The lines present, in print order.
    pub fn iter(&self) -> impl Iterator<Item = Line> + '_ {
        LineKind::ALL
            .into_iter()
            .zip(self.amounts)
            .filter(|(kind, _)| self.present & (1 << kind.index()) != 0)
            .map(|(kind, amount)| Line { kind, amount })
    }

    /// How many lines are present.
    #[must_use]
    pub fn len(&self) -> usize {
        // At most 12 bits are set, so the conversion cannot fail.
        usize::try_from(self.present.count_ones()).unwrap_or(MAX_LINES)
    }

    /// Whether no line is present (never the case for a quote: TP and fees are always there).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// The sum of the lines, RWF.
    #[must_use]
    pub fn sum(&self) -> i64 {
        // Absent slots hold 0.
        self.amounts.iter().sum()
    }

    /// The sum of the annual-premium lines (steps 1-4), RWF.
    pub(crate) fn annual(&self) -> i64 {
        self.amounts
            .iter()
            .take(LineKind::ShortTermAdjustment.index())
            .sum()
    }

    /// The amount of the line of `kind`, if present.
    #[must_use]
    pub fn amount(&self, kind: LineKind) -> Option<i64> {
        let present = self.present & (1 << kind.index()) != 0;
        present.then(|| self.amounts.get(kind.index()).copied().unwrap_or(0))
    }
}

impl Serialize for Lines {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// Something the customer should know about a quote that was still given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// A government excess waiver was asked for on `TP_ONLY` cover: there is no own-damage excess to waive,
    /// so nothing is charged (the original charged RWF 90,000 for it).
    ExcessWaiverNeedsOwnDamageCover,
    /// A government excess waiver was asked for, but the insurer's tariff does not offer it.
    ExcessWaiverNotOffered,
}

impl Warning {
    /// The customer-facing text.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::ExcessWaiverNeedsOwnDamageCover => {
                "The excess waiver applies to own-damage cover only; it is not charged on third-party-only cover."
            }
            Self::ExcessWaiverNotOffered => {
                "This insurer does not offer the government excess waiver."
            }
        }
    }
}

/// A priced quote from one insurer's tariff.
#[derive(Clone, Copy, Debug)]
pub struct Quote<'t> {
    /// The insurer.
    pub insurer: Insurer,
    /// The tariff priced with: store [`Quote::tariff_version`] with the quote.
    pub tariff: &'t Tariff,
    /// Gross premium, RWF: always the sum of `lines` and never negative.
    pub total: i64,
    /// The itemised lines.
    pub lines: Lines,
    /// The short-term factor applied (1 for a full year).
    pub short_term_factor: Rate,
    /// The excess the insured bears on a claim.
    pub mandatory_excess: &'t MandatoryExcess,
    /// [`Quote::mandatory_excess`] as printed (`crate::ExcessSummary`), formatted when the tariff
    /// was compiled.
    pub excess_summary: &'t str,
    /// At most one warning, as only the waiver produces any.
    pub warning: Option<Warning>,
}

impl<'t> Quote<'t> {
    /// The tariff version priced with.
    #[must_use]
    pub fn tariff_version(&self) -> &'t str {
        self.tariff.version()
    }

    /// The instalment plans the insurer offers (see [`InstalmentPlan::schedule`]).
    #[must_use]
    pub fn instalments(&self) -> &'t [InstalmentPlan] {
        self.tariff.instalments()
    }
}

impl Serialize for Quote<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Quote", 9)?;
        s.serialize_field("insurer", &self.insurer)?;
        s.serialize_field("tariff_version", self.tariff_version())?;
        s.serialize_field("currency", "RWF")?;
        s.serialize_field("total", &self.total)?;
        s.serialize_field("lines", &self.lines)?;
        s.serialize_field("short_term_factor", &self.short_term_factor)?;
        s.serialize_field("mandatory_excess", self.mandatory_excess)?;
        s.serialize_field("instalments", self.instalments())?;
        s.serialize_field("warning", &self.warning.map(Warning::message))?;
        s.end()
    }
}

/// One insurer's answer: a quote, or why there is none.
pub type Offer<'t> = Result<Quote<'t>, Decline>;

/// Every insurer's answer for one input, in [`Insurer::ALL`] order.
pub type Comparison<'t> = [Offer<'t>; Insurer::COUNT];

#[cfg(test)]
mod tests {
    use super::LineKind;

    #[test]
    fn a_line_kind_name_is_what_serde_writes() {
        for kind in LineKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
    }
}
