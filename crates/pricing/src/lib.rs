//! The motor-insurance tariff engine of the WhatsApp pricing service (spec `whatsapp.md` 2.7): pure, no I/O.
//!
//! - **Inputs** are typed ([`QuoteInput`] → [`QuoteInput::validate`] → [`ValidInput`]); an unknown category,
//!   usage or cover is an [`InputError`], never a silent 0.
//! - **Tariffs are versioned data**: one JSON [`TariffDocument`] per insurer version with an `effective_from`,
//!   parsed and validated into a [`Tariff`]; a [`TariffBook`] picks the version in force on a date. The
//!   current tariffs ship in `tariffs/` ([`EMBEDDED_TARIFFS`]).
//! - **Pricing** ([`price`], [`quote_all`]) gives a [`Quote`] in integer RWF whose total is the sum of its
//!   lines and which records its tariff version, or a [`Decline`] ("not offered by this insurer").
//! - **Text** ([`Rwf`], [`ExcessSummary`], [`PaymentReference`], [`momo_ussd`], [`momo_tel_link`]).
//!
//! ```text
//! let book = TariffBook::embedded()?;
//! let input = QuoteInput::new(VehicleCategory::Car, UsageType::Private, Cover::Comprehensive, 20_000_000)
//!     .validate()?;
//! let offers = quote_all(&book.in_force(today), &input); // [Offer; 4], BK, Old Mutual, Prime, Radiant
//! ```

#![warn(missing_docs)]

mod engine;
mod error;
mod format;
mod input;
mod instalment;
mod model;
mod quote;
mod rate;
mod tariff;

pub use engine::{price, quote_all};
pub use error::{Decline, InputError, TariffError};
pub use format::{ExcessSummary, PaymentReference, Rwf, momo_tel_link, momo_ussd};
pub use input::{
    MAX_SEATS, MAX_SUM_INSURED, MAX_VEHICLE_AGE_YEARS, OccupantCover, QuoteInput, ValidInput,
};
pub use instalment::{Instalment, Schedule};
pub use model::{Cover, Insurer, InsurerProfile, OwnerType, UsageType, VehicleCategory};
pub use quote::{Comparison, Line, LineKind, Lines, MAX_LINES, Offer, Quote, Warning};
pub use rate::{Percent, Rate, RateParseError};
pub use tariff::{
    AgeLoading, AmountTable, Comesa, EMBEDDED_TARIFFS, ExcessClass, ExcessWaiver, Fees, InForce,
    InstalmentPlan, MAX_TARIFF_AMOUNT, MandatoryExcess, OccupantRates, OtfRates, OtfTable,
    OwnDamage, OwnerTypeFallback, SeatLoading, ShortTermBand, Tariff, TariffBook, TariffDocument,
    TheftExtension, TpBase, Tranche,
};
