//! Throughput of the engine on one thread: a "quote" prices one input for all four insurers
//! (`quote_all`, tariffs resolved once as a service would per day). Run with `cargo bench -p pricing`.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use pricing::{
    Cover, OccupantCover, QuoteInput, TariffBook, UsageType, ValidInput, VehicleCategory as V,
    quote_all,
};

/// The golden inputs of spec 2.7 plus inputs that take every optional branch.
fn inputs() -> Result<Vec<ValidInput>, pricing::InputError> {
    let base = |c, u, cover, si| QuoteInput::new(c, u, cover, si);
    let mut golden2 = base(V::Car, UsageType::Private, Cover::Comprehensive, 20_000_000);
    (
        golden2.comesa,
        golden2.comesa_passengers,
        golden2.period_days,
        golden2.vehicle_age_years,
    ) = (true, 4, 90, 8);
    let mut golden3 = base(V::MinibusVan, UsageType::TaxiPsv, Cover::TpOnly, 0);
    (
        golden3.seats,
        golden3.passengers_above_driver,
        golden3.vehicle_age_years,
    ) = (15, 14, 16);
    let mut loaded = base(
        V::TruckLorry5tPlus,
        UsageType::CommercialGoods,
        Cover::OdTheftFire,
        80_000_000,
    );
    loaded.occupant = Some(OccupantCover {
        plan: 2,
        occupants: 2,
    });
    (
        loaded.theft_territorial_extension,
        loaded.government_excess_waiver,
        loaded.goods_are_flammable,
    ) = (true, true, true);
    (
        loaded.comesa,
        loaded.comesa_passengers,
        loaded.period_days,
        loaded.vehicle_age_years,
    ) = (true, 2, 45, 12);
    [
        base(V::Car, UsageType::Private, Cover::Comprehensive, 20_000_000),
        golden2,
        golden3,
        base(
            V::PickupSmallLorry,
            UsageType::Private,
            Cover::Comprehensive,
            10_000_000,
        ),
        loaded,
        base(
            V::Motorcycle,
            UsageType::TaxiPsv,
            Cover::TheftOnly,
            1_500_000,
        ),
        base(V::Tractor, UsageType::CommercialGoods, Cover::TpOnly, 0),
        base(V::Bus, UsageType::SchoolBus, Cover::MdOnly, 60_000_000),
    ]
    .into_iter()
    .map(QuoteInput::validate)
    .collect()
}

fn main() -> ExitCode {
    let book = match TariffBook::embedded() {
        Ok(book) => book,
        Err(e) => {
            eprintln!("tariffs: {e}");
            return ExitCode::FAILURE;
        }
    };
    let inputs = match inputs() {
        Ok(inputs) => inputs,
        Err(e) => {
            eprintln!("inputs: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(today) = NaiveDate::from_ymd_opt(2026, 6, 1) else {
        return ExitCode::FAILURE;
    };
    let in_force = book.in_force(today);

    let run = |rounds: u64| {
        let mut checksum = 0i64;
        let start = Instant::now();
        for _ in 0..rounds {
            for input in &inputs {
                for offer in quote_all(black_box(&in_force), black_box(input)) {
                    checksum = checksum.wrapping_add(offer.map_or(1, |q| q.total));
                }
            }
        }
        (start.elapsed(), black_box(checksum))
    };

    run(100_000); // warm-up
    let rounds = 2_000_000;
    let quotes_per_run = rounds * u64::try_from(inputs.len()).unwrap_or(1);
    let mut best = Duration::MAX;
    for _ in 0..5 {
        best = best.min(run(rounds).0);
    }
    let secs = best.as_secs_f64().max(f64::MIN_POSITIVE);
    // Reporting only: counts to f64 for a rate.
    let quotes = quotes_per_run as f64;
    println!(
        "pricing::quote_all, 4 insurers per quote, 1 thread: {:.0} quotes/s ({:.1} ns/quote, {:.0} insurer prices/s; best of 5 x {quotes_per_run} quotes)",
        quotes / secs,
        secs * 1e9 / quotes,
        quotes * 4.0 / secs,
    );
    ExitCode::SUCCESS
}
