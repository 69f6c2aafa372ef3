//! Tariffs as versioned data: the document schema, its validation, the compiled lookup form the engine
//! reads, and the book of versions by insurer and date.

mod book;
mod document;
mod validate;

#[cfg(test)]
mod tests;

use chrono::NaiveDate;

pub use book::{EMBEDDED_TARIFFS, InForce, TariffBook};
pub use document::{
    AgeLoading, AmountTable, Comesa, ExcessClass, ExcessWaiver, Fees, InstalmentPlan,
    MandatoryExcess, OccupantRates, OtfRates, OtfTable, OwnDamage, OwnerTypeFallback, SeatLoading,
    ShortTermBand, TariffDocument, TheftExtension, TpBase, Tranche,
};

use crate::error::TariffError;
use crate::format::ExcessSummary;
use crate::model::{Insurer, OwnerType, UsageType, VehicleCategory};
use crate::rate::Rate;

/// The largest amount a tariff may state (RWF 100 million); with [`crate::MAX_SUM_INSURED`] it bounds every
/// intermediate of the engine far inside `i64`.
pub const MAX_TARIFF_AMOUNT: i64 = 100_000_000;

const CATEGORIES: usize = VehicleCategory::COUNT;

/// Own-damage rates with comprehensive precomputed (checked ≤ 100 % at load).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CompiledOtf {
    pub(crate) md: Rate,
    pub(crate) theft: Rate,
    pub(crate) fire: Rate,
    pub(crate) comprehensive: Rate,
}

/// A validated tariff version, compiled into fixed-size tables indexed by enum so that pricing is array
/// lookups, with no map search and no allocation. The document it came from stays available for storage.
#[derive(Clone, Debug)]
pub struct Tariff {
    doc: TariffDocument,
    /// TP bases by table (private, taxi/PSV, hire, goods) and category.
    tp: [[Option<i64>; CATEGORIES]; 4],
    /// Owner-type TP fallback by owner and category, if the tariff has one.
    owner_fallback: Option<[[Option<i64>; CATEGORIES]; 2]>,
    /// OTF rates by table (private, commercial passenger, commercial goods) and category.
    otf: [[Option<CompiledOtf>; CATEGORIES]; 3],
    flammable_otf: CompiledOtf,
    /// Short-term factor by day (index 0 unused), so the lookup is one load.
    short_term: [Rate; 367],
    /// Mandatory excess by usage and category, fallback chain already followed.
    excess: [[Option<CompiledExcess>; CATEGORIES]; UsageType::COUNT],
}

/// A mandatory excess with its printed form ([`ExcessSummary`]), formatted once when the tariff is
/// compiled rather than for every quote.
#[derive(Debug, Clone)]
struct CompiledExcess {
    terms: MandatoryExcess,
    summary: Box<str>,
}

impl Tariff {
    /// Parses and validates one tariff document (JSON).
    ///
    /// # Errors
    /// [`TariffError::Json`] if it does not match the schema, [`TariffError::Invalid`] if it breaks a rule.
    pub fn from_json(json: &str) -> Result<Self, TariffError> {
        Self::from_document(serde_json::from_str(json)?)
    }

    /// Validates a document and compiles it.
    ///
    /// # Errors
    /// [`TariffError::Invalid`] naming the first rule broken.
    pub fn from_document(doc: TariffDocument) -> Result<Self, TariffError> {
        validate::validate(&doc)?;
        let table = |t: &AmountTable| {
            let mut out = [None; CATEGORIES];
            for (c, v) in t {
                out[c.index()] = Some(*v);
            }
            out
        };
        let otf_table = |t: &OtfTable| {
            let mut out = [None; CATEGORIES];
            for (c, r) in t {
                out[c.index()] = compile_otf(*r);
            }
            out
        };
        let flammable_otf = compile_otf(doc.own_damage.flammable_goods).ok_or_else(|| {
            validate::invalid(&doc, "own_damage.flammable_goods", "rates sum above 100 %")
        })?;
        let mut short_term = [Rate::ONE; 367];
        for band in &doc.short_term {
            for day in band.min_days..=band.max_days {
                short_term[usize::from(day)] = band.factor;
            }
        }
        let mut by_class = [None; ExcessClass::COUNT];
        for (class, e) in &doc.mandatory_excess {
            by_class[class.index()] = Some(*e);
        }
        let excess = UsageType::ALL.map(|u| {
            VehicleCategory::ALL.map(|c| {
                excess_for(&by_class, c, u).map(|terms| CompiledExcess {
                    summary: ExcessSummary(&terms).to_string().into_boxed_str(),
                    terms,
                })
            })
        });
        Ok(Self {
            tp: [
                table(&doc.tp_base.private),
                table(&doc.tp_base.taxi_psv),
                table(&doc.tp_base.hire),
                table(&doc.tp_base.goods),
            ],
            owner_fallback: doc
                .owner_type_fallback
                .as_ref()
                .map(|f| [table(&f.individual), table(&f.corporate)]),
            otf: [
                otf_table(&doc.own_damage.private),
                otf_table(&doc.own_damage.commercial_passenger),
                otf_table(&doc.own_damage.commercial_goods),
            ],
            flammable_otf,
            short_term,
            excess,
            doc,
        })
    }

    /// The document this tariff was built from, e.g. to store it (`serde_json::to_string`).
    #[must_use]
    pub const fn document(&self) -> &TariffDocument {
        &self.doc
    }

    /// The insurer.
    #[must_use]
    pub const fn insurer(&self) -> Insurer {
        self.doc.insurer
    }

    /// The version id every quote from this tariff records.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.doc.version
    }

    /// First day in force.
    #[must_use]
    pub const fn effective_from(&self) -> NaiveDate {
        self.doc.effective_from
    }

    /// The instalment plans offered.
    #[must_use]
    pub fn instalments(&self) -> &[InstalmentPlan] {
        &self.doc.instalments
    }

    /// Step 1 lookup: the TP base for a usage and category; school buses use the taxi/PSV `BUS` base, else the
    /// hire one. A missing base falls back to the owner-type table when the tariff has one. `None`: not offered.
    pub(crate) fn tp_base(
        &self,
        usage: UsageType,
        category: VehicleCategory,
        owner: OwnerType,
    ) -> Option<i64> {
        let [private, taxi, hire, goods] = &self.tp;
        let c = category.index();
        let bus = VehicleCategory::Bus.index();
        let base = match usage {
            UsageType::Private => private[c],
            UsageType::TaxiPsv => taxi[c],
            UsageType::Hire => hire[c],
            UsageType::SchoolBus => taxi[bus].or(hire[bus]),
            UsageType::CommercialGoods | UsageType::DrivingSchool => goods[c],
        };
        base.or_else(|| {
            self.owner_fallback
                .as_ref()
                .and_then(|f| f[owner.index()][c])
        })
    }

    /// Step 3 lookup: the OTF rates for a usage and category; flammable goods use the flat flammable rates.
    pub(crate) fn otf_rates(
        &self,
        usage: UsageType,
        category: VehicleCategory,
        flammable: bool,
    ) -> Option<CompiledOtf> {
        let [private, passenger, goods] = &self.otf;
        let c = category.index();
        match usage {
            UsageType::Private => private[c],
            UsageType::TaxiPsv | UsageType::Hire | UsageType::SchoolBus => passenger[c],
            UsageType::CommercialGoods | UsageType::DrivingSchool if flammable => {
                Some(self.flammable_otf)
            }
            UsageType::CommercialGoods | UsageType::DrivingSchool => goods[c],
        }
    }

    /// Step 6 lookup: the short-term factor for a validated period (1 to 366 days).
    pub(crate) fn short_term_factor(&self, days: u16) -> Rate {
        self.short_term
            .get(usize::from(days))
            .copied()
            .unwrap_or(Rate::ONE)
    }

    /// Step 13 lookup: the mandatory excess for a category and usage (precomputed by `excess_for`).
    pub(crate) fn mandatory_excess(
        &self,
        category: VehicleCategory,
        usage: UsageType,
    ) -> Option<&MandatoryExcess> {
        self.excess_cell(category, usage).map(|e| &e.terms)
    }

    /// [`Tariff::mandatory_excess`] as printed.
    pub(crate) fn excess_summary(
        &self,
        category: VehicleCategory,
        usage: UsageType,
    ) -> Option<&str> {
        self.excess_cell(category, usage).map(|e| &*e.summary)
    }

    fn excess_cell(&self, category: VehicleCategory, usage: UsageType) -> Option<&CompiledExcess> {
        self.excess
            .get(usage.index())?
            .get(category.index())?
            .as_ref()
    }

    pub(crate) const fn doc(&self) -> &TariffDocument {
        &self.doc
    }
}

/// Step 13: the vehicle's own excess entry, else the usage's fallback chain (as the original), ending at
/// `CAR`, which validation requires.
fn excess_for(
    by_class: &[Option<MandatoryExcess>; ExcessClass::COUNT],
    category: VehicleCategory,
    usage: UsageType,
) -> Option<MandatoryExcess> {
    use ExcessClass as E;
    let chain: &[ExcessClass] = match usage {
        UsageType::TaxiPsv => &[E::Psv, E::MinibusVan, E::Car],
        UsageType::SchoolBus | UsageType::Private => {
            &[E::MinibusesBusesSchool, E::Bus, E::MinibusVan, E::Car]
        }
        UsageType::CommercialGoods => &[
            E::TrucksLorriesTrailersTractors,
            E::TruckLorry5tPlus,
            E::PickupSmallLorry,
            E::Car,
        ],
        UsageType::Hire | UsageType::DrivingSchool => &[E::Car, E::MinibusVan],
    };
    std::iter::once(ExcessClass::from(category))
        .chain(chain.iter().copied())
        .find_map(|class| by_class.get(class.index()).copied().flatten())
}

fn compile_otf(r: OtfRates) -> Option<CompiledOtf> {
    let comprehensive = r.md.checked_add(r.theft)?.checked_add(r.fire)?;
    Some(CompiledOtf {
        md: r.md,
        theft: r.theft,
        fire: r.fire,
        comprehensive,
    })
}
