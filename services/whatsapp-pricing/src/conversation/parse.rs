//! Free text to commands and vehicle facts (spec 2.5), with the loose matching of the original
//! fixed (spec 2.10): commands match the whole message, never a substring ("preset", "running"
//! and "I'm not ready" trigger nothing); a phone number is never read as the sum insured; "month"
//! scales only the number it follows.

use pricing::{Cover, MAX_SUM_INSURED, UsageType, VehicleCategory};

/// A whole-message command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// Start over.
    Reset,
    /// Run the comparison.
    Quote,
    /// The facts shown are right.
    Confirm,
}

/// Smallest amount read as a sum insured: below it a number is a year, a seat count or a typo.
pub(crate) const MIN_SUM_INSURED: i64 = 100_000;

/// Facts a message states; `None` = not mentioned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Said {
    pub(crate) sum_insured: Option<i64>,
    pub(crate) cover: Option<Cover>,
    pub(crate) comesa: Option<bool>,
    pub(crate) occupant_plan: Option<u8>,
    pub(crate) occupants: Option<u16>,
    pub(crate) seats: Option<u16>,
    pub(crate) period_days: Option<u16>,
    pub(crate) year: Option<i32>,
    pub(crate) category: Option<VehicleCategory>,
    pub(crate) usage: Option<UsageType>,
    pub(crate) flammable: bool,
}

impl Said {
    /// Whether the message stated anything.
    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

fn normalise(text: &str) -> String {
    text.trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace())
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command the whole message is, if any (`"reset"`, `"Quote!"`, `"start over"`); a word
/// inside a sentence is not a command.
pub(crate) fn command(text: &str) -> Option<Command> {
    match normalise(text).as_str() {
        "reset" | "restart" | "start over" | "new quote" | "cancel" => Some(Command::Reset),
        "quote" | "quotes" | "get quote" | "get quotes" | "ready" | "compare" => {
            Some(Command::Quote)
        }
        "yes" | "ok" | "okay" | "correct" | "confirm" | "y" => Some(Command::Confirm),
        _ => None,
    }
}

/// Words of the message: lower case, split on whitespace and on punctuation other than the
/// separators inside numbers (`15,000,000`, `15.5m`, `+250...`).
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | ':' | '(' | ')' | '!' | '?' | '/'))
        .map(|w| w.trim_matches(|c: char| matches!(c, ',' | '.' | '\'' | '"')))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A phone number: a leading `+`, or bare digits shaped like a Rwandan mobile (`07xxxxxxxx`,
/// `2507xxxxxxxx`) or any 9+ digit run starting with 0.
fn is_phone(word: &str) -> bool {
    if word.starts_with('+') {
        return word.len() > 6;
    }
    if !word.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    (word.len() == 10 && word.starts_with("07"))
        || (word.len() == 12 && word.starts_with("2507"))
        || (word.len() >= 9 && word.starts_with('0'))
}

/// An amount written `15000000`, `15,000,000`, `15.000.000`, `15m`, `15.5m`, `15 million`
/// (`next` is the following word), `rwf15000000`.
fn amount(word: &str, next: Option<&str>) -> Option<i64> {
    let w = word.strip_prefix("rwf").unwrap_or(word);
    if w.is_empty() || is_phone(w) {
        return None;
    }
    let (num, scale) = if let Some(n) = w.strip_suffix('m') {
        (n, 1_000_000)
    } else if let Some(n) = w.strip_suffix('k') {
        (n, 1_000)
    } else if matches!(next, Some("million" | "millions" | "m")) {
        (w, 1_000_000)
    } else {
        (w, 1)
    };
    if num.is_empty()
        || !num
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
    {
        return None;
    }
    if !num.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    if scale == 1 {
        // Thousands separators only: every group after the first has 3 digits.
        let groups: Vec<&str> = num.split([',', '.']).collect();
        if groups.len() > 1 && groups.iter().skip(1).any(|g| g.len() != 3) {
            return None;
        }
        let digits: String = groups.concat();
        return digits.parse().ok();
    }
    // 15.5m: one decimal point allowed before the scale.
    let (int, frac) = num.split_once(['.', ',']).unwrap_or((num, ""));
    let int: i64 = int.parse().ok()?;
    let frac_scaled = if frac.is_empty() {
        0
    } else {
        let f: i64 = frac.get(..frac.len().min(6))?.parse().ok()?;
        let places = u32::try_from(frac.len().min(6)).ok()?;
        f.checked_mul(scale)? / 10_i64.checked_pow(places)?
    };
    int.checked_mul(scale)?.checked_add(frac_scaled)
}

fn small(word: &str) -> Option<u16> {
    if word.len() > 4 {
        return None;
    }
    word.parse().ok()
}

/// Vehicle words, whole words only (spec 2.6's substring matching sent "Motor" to MOTORCYCLE
/// and "Vanguard" to MINIBUS_VAN).
pub(crate) fn category_word(word: &str) -> Option<VehicleCategory> {
    Some(match word {
        "motorcycle" | "motorbike" | "moto" | "bike" | "motorcycles" => VehicleCategory::Motorcycle,
        "tricycle" | "tuk" | "tuk-tuk" | "tuktuk" => VehicleCategory::Tricycle,
        "car" | "saloon" | "sedan" | "hatchback" => VehicleCategory::Car,
        "jeep" | "suv" | "prado" | "rav4" | "forester" => VehicleCategory::JeepSuv,
        "pickup" | "pick-up" | "hilux" | "canter" | "camionnette" => {
            VehicleCategory::PickupSmallLorry
        }
        "minibus" | "van" | "hiace" | "coaster" => VehicleCategory::MinibusVan,
        "bus" | "coach" => VehicleCategory::Bus,
        "howo" | "shacman" | "fuso" | "faw" => VehicleCategory::HowoShacmanFusoFaw,
        "truck" | "lorry" | "camion" => VehicleCategory::TruckLorry5tPlus,
        "trailer" | "semi-trailer" | "semi" => VehicleCategory::Trailer,
        "tractor" => VehicleCategory::Tractor,
        _ => return None,
    })
}

fn usage_word(word: &str) -> Option<UsageType> {
    Some(match word {
        "private" => UsageType::Private,
        "taxi" | "psv" => UsageType::TaxiPsv,
        "hire" => UsageType::Hire,
        "goods" | "commercial" => UsageType::CommercialGoods,
        _ => return None,
    })
}

/// The facts a free-text message states. `this_year` bounds a model year.
pub(crate) fn facts(text: &str, this_year: i32) -> Said {
    let w = words(text);
    let mut said = Said::default();
    let lower = w.join(" ");
    let has = |phrase: &str| {
        let padded = format!(" {lower} ");
        padded.contains(&format!(" {phrase} "))
    };
    if has("comprehensive") || has("full cover") {
        said.cover = Some(Cover::Comprehensive);
    } else if has("third party") || has("tp only") || has("tp") || has("third-party") {
        said.cover = Some(Cover::TpOnly);
    }
    if has("no comesa") || has("without comesa") {
        said.comesa = Some(false);
    } else if has("comesa") {
        said.comesa = Some(true);
    }
    if has("school bus") {
        said.usage = Some(UsageType::SchoolBus);
    } else if has("driving school") {
        said.usage = Some(UsageType::DrivingSchool);
    }
    said.flammable = has("flammable");
    for (i, word) in w.iter().enumerate() {
        let next = w.get(i + 1).map(String::as_str);
        let prev = i.checked_sub(1).and_then(|p| w.get(p)).map(String::as_str);
        if said.category.is_none() {
            said.category = category_word(word);
        }
        if said.usage.is_none() {
            said.usage = usage_word(word);
        }
        match (word.as_str(), next) {
            ("plan", Some(n)) => {
                said.occupant_plan = n.parse().ok().filter(|p| (1..=9).contains(p))
            }
            ("occupant" | "occupants", Some(n)) => said.occupants = small(n),
            ("seat" | "seats", Some(n)) if said.seats.is_none() => said.seats = small(n),
            _ => {}
        }
        if let Some(n) = small(word) {
            match next {
                Some("seat" | "seats" | "seater") => said.seats = Some(n),
                Some("occupant" | "occupants" | "passengers") => said.occupants = Some(n),
                Some("day" | "days") => said.period_days = Some(n),
                Some("month" | "months") => said.period_days = n.checked_mul(30),
                _ => {}
            }
            let year = i32::from(n);
            if word.len() == 4 && (1950..=this_year).contains(&year) && prev != Some("plan") {
                said.year = Some(year);
            }
        }
        if let Some(a) = amount(word, next)
            && (MIN_SUM_INSURED..=MAX_SUM_INSURED).contains(&a)
        {
            // The last amount wins, as in the original.
            said.sum_insured = Some(a);
        }
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defect_loose_keywords_preset_and_running_no_longer_trigger_commands() {
        assert_eq!(command("preset"), None);
        assert_eq!(command("running"), None);
        assert_eq!(command("I'm not ready yet"), None);
        assert_eq!(command("please don't reset anything"), None);
        assert_eq!(command("Reset"), Some(Command::Reset));
        assert_eq!(command("  quote! "), Some(Command::Quote));
        assert_eq!(command("start over"), Some(Command::Reset));
    }

    #[test]
    fn defect_a_phone_number_is_no_longer_read_as_the_sum_insured() {
        for text in [
            "call me on 0788123456",
            "my number is +250788123456",
            "250788123456",
            "+250 788 123 456",
        ] {
            assert_eq!(facts(text, 2026).sum_insured, None, "{text}");
        }
        assert_eq!(
            facts("sum insured 15,000,000, call 0788123456", 2026).sum_insured,
            Some(15_000_000)
        );
    }

    #[test]
    fn sums_insured_in_the_usual_spellings() {
        for (text, want) in [
            ("15000000", 15_000_000),
            ("15,000,000", 15_000_000),
            ("RWF 15.000.000", 15_000_000),
            ("15m", 15_000_000),
            ("12.5m", 12_500_000),
            ("15 million", 15_000_000),
            ("rwf20000000", 20_000_000),
            ("value: 8,500,000 RWF", 8_500_000),
        ] {
            assert_eq!(facts(text, 2026).sum_insured, Some(want), "{text}");
        }
        // Years, seats and badly grouped numbers are not sums insured.
        for text in ["2015", "5 seats", "15,00,000"] {
            assert_eq!(facts(text, 2026).sum_insured, None, "{text}");
        }
    }

    #[test]
    fn month_scales_only_the_number_it_follows() {
        let s = facts("3 months", 2026);
        assert_eq!(s.period_days, Some(90));
        let s = facts("45 days, monthly payments please", 2026);
        assert_eq!(s.period_days, Some(45));
    }

    #[test]
    fn vehicle_words_are_whole_words() {
        assert_eq!(facts("Toyota Vanguard", 2026).category, None);
        assert_eq!(facts("Motor vehicle", 2026).category, None);
        assert_eq!(
            facts("toyota hiace taxi 2015 14 seats", 2026),
            Said {
                category: Some(VehicleCategory::MinibusVan),
                usage: Some(UsageType::TaxiPsv),
                year: Some(2015),
                seats: Some(14),
                ..Said::default()
            }
        );
    }

    #[test]
    fn cover_comesa_and_occupants() {
        let s = facts("third party, no comesa, plan 2 occupants 4", 2026);
        assert_eq!(s.cover, Some(Cover::TpOnly));
        assert_eq!(s.comesa, Some(false));
        assert_eq!((s.occupant_plan, s.occupants), (Some(2), Some(4)));
        assert_eq!(facts("comprehensive with comesa", 2026).comesa, Some(true));
    }
}
