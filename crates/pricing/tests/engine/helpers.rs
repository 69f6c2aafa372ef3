//! Shared builders: the shipped tariff book and inputs.

use std::sync::OnceLock;

use chrono::NaiveDate;
use pricing::{
    Cover, Insurer, LineKind, Offer, Quote, QuoteInput, TariffBook, UsageType, VehicleCategory,
    price,
};

/// The shipped tariffs, parsed once per test binary.
pub fn book() -> &'static TariffBook {
    static BOOK: OnceLock<TariffBook> = OnceLock::new();
    BOOK.get_or_init(|| TariffBook::embedded().unwrap())
}

/// A date every shipped tariff is in force on.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

/// Prices `input` with `insurer`'s tariff in force today.
pub fn offer(insurer: Insurer, input: &QuoteInput) -> Offer<'static> {
    let tariff = book().effective(insurer, today()).unwrap();
    price(tariff, &input.clone().validate().unwrap())
}

/// Prices `input` with `insurer`'s tariff, which must quote.
pub fn quote(insurer: Insurer, input: &QuoteInput) -> Quote<'static> {
    offer(insurer, input).unwrap_or_else(|d| panic!("{insurer} declined: {d}"))
}

/// The quote's lines as (kind, amount) pairs.
pub fn lines(q: &Quote<'_>) -> Vec<(LineKind, i64)> {
    q.lines.iter().map(|l| (l.kind, l.amount)).collect()
}

/// A private, full-year, 5-year-old input.
pub fn input(
    category: VehicleCategory,
    usage: UsageType,
    cover: Cover,
    sum_insured: i64,
) -> QuoteInput {
    QuoteInput::new(category, usage, cover, sum_insured)
}
