//! The tariff book: every loaded version of every insurer's tariff, and which one is in force on a date.

use chrono::NaiveDate;

use super::Tariff;
use crate::error::TariffError;
use crate::model::Insurer;

/// The tariffs shipped with the crate (`tariffs/*.json`), as `(file name, JSON)`: the default version a
/// service seeds its database with. Embedded so the engine works with no file system.
pub const EMBEDDED_TARIFFS: [(&str, &str); 4] = [
    (
        "bk-2025.1.json",
        include_str!("../../tariffs/bk-2025.1.json"),
    ),
    (
        "old-mutual-2025.1.json",
        include_str!("../../tariffs/old-mutual-2025.1.json"),
    ),
    (
        "prime-2025.1.json",
        include_str!("../../tariffs/prime-2025.1.json"),
    ),
    (
        "radiant-2025.1.json",
        include_str!("../../tariffs/radiant-2025.1.json"),
    ),
];

/// Every loaded tariff version, by insurer and start date. A version applies from its `effective_from` until
/// the next version of the same insurer starts.
#[derive(Clone, Debug, Default)]
pub struct TariffBook {
    /// Sorted by (insurer, effective_from), so the version in force is the last one started.
    tariffs: Vec<Tariff>,
}

impl TariffBook {
    /// An empty book.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            tariffs: Vec::new(),
        }
    }

    /// The book of the shipped tariffs ([`EMBEDDED_TARIFFS`]).
    ///
    /// # Errors
    /// A [`TariffError`] if a shipped file is invalid (a test guards against that).
    pub fn embedded() -> Result<Self, TariffError> {
        let mut book = Self::new();
        for (_, json) in EMBEDDED_TARIFFS {
            book.insert(Tariff::from_json(json)?)?;
        }
        Ok(book)
    }

    /// Adds a version.
    ///
    /// # Errors
    /// [`TariffError::DuplicateVersion`] if the version id is taken, [`TariffError::DuplicateEffectiveDate`]
    /// if the insurer already has a version starting that day.
    pub fn insert(&mut self, tariff: Tariff) -> Result<(), TariffError> {
        if self.version(tariff.version()).is_some() {
            return Err(TariffError::DuplicateVersion(tariff.version().to_owned()));
        }
        let key = (tariff.insurer(), tariff.effective_from());
        match self
            .tariffs
            .binary_search_by_key(&key, |t| (t.insurer(), t.effective_from()))
        {
            Ok(_) => Err(TariffError::DuplicateEffectiveDate {
                insurer: key.0,
                effective_from: key.1,
            }),
            Err(at) => {
                self.tariffs.insert(at, tariff);
                Ok(())
            }
        }
    }

    /// The insurer's tariff in force on `on`: the latest version with `effective_from <= on`.
    #[must_use]
    pub fn effective(&self, insurer: Insurer, on: NaiveDate) -> Option<&Tariff> {
        self.tariffs
            .iter()
            .rev()
            .find(|t| t.insurer() == insurer && t.effective_from() <= on)
    }

    /// Every insurer's tariff in force on `on`, resolved once so a comparison prices without searching.
    #[must_use]
    pub fn in_force(&self, on: NaiveDate) -> InForce<'_> {
        InForce {
            on,
            tariffs: Insurer::ALL.map(|i| self.effective(i, on)),
        }
    }

    /// A version by id, to re-price or audit a stored quote.
    #[must_use]
    pub fn version(&self, version: &str) -> Option<&Tariff> {
        self.tariffs.iter().find(|t| t.version() == version)
    }

    /// Every version, by insurer then start date.
    pub fn iter(&self) -> impl Iterator<Item = &Tariff> {
        self.tariffs.iter()
    }
}

/// The tariffs in force on one date, one slot per insurer in [`Insurer::ALL`] order.
#[derive(Clone, Copy, Debug)]
pub struct InForce<'t> {
    /// The date they were resolved for.
    pub on: NaiveDate,
    /// Each insurer's tariff; `None` if it has none in force.
    pub tariffs: [Option<&'t Tariff>; Insurer::COUNT],
}

impl<'t> InForce<'t> {
    /// The insurer's tariff in force, if any.
    #[must_use]
    pub fn get(&self, insurer: Insurer) -> Option<&'t Tariff> {
        self.tariffs.get(insurer.index()).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn bk_from(version: &str, from: &str) -> Tariff {
        let mut doc = Tariff::from_json(EMBEDDED_TARIFFS[0].1)
            .unwrap()
            .document()
            .clone();
        doc.version = version.into();
        doc.effective_from = date(from);
        Tariff::from_document(doc).unwrap()
    }

    #[test]
    fn every_shipped_tariff_is_valid_and_in_force_today() {
        let book = TariffBook::embedded().unwrap();
        let today = date("2026-06-01");
        for insurer in Insurer::ALL {
            let t = book.effective(insurer, today).unwrap();
            assert_eq!(t.insurer(), insurer);
        }
    }

    #[test]
    fn the_latest_version_started_on_or_before_the_date_applies() {
        let mut book = TariffBook::new();
        book.insert(bk_from("bk-b", "2026-01-01")).unwrap();
        book.insert(bk_from("bk-a", "2025-01-01")).unwrap();
        assert!(book.effective(Insurer::Bk, date("2024-12-31")).is_none());
        assert_eq!(
            book.effective(Insurer::Bk, date("2025-06-01"))
                .unwrap()
                .version(),
            "bk-a"
        );
        assert_eq!(
            book.effective(Insurer::Bk, date("2026-01-01"))
                .unwrap()
                .version(),
            "bk-b"
        );
        assert!(book.effective(Insurer::Prime, date("2026-01-01")).is_none());
        assert_eq!(
            book.in_force(date("2026-02-01"))
                .get(Insurer::Bk)
                .unwrap()
                .version(),
            "bk-b"
        );
        assert_eq!(
            book.version("bk-a").unwrap().effective_from(),
            date("2025-01-01")
        );
    }

    #[test]
    fn a_duplicate_version_or_start_date_is_rejected() {
        let mut book = TariffBook::new();
        book.insert(bk_from("bk-a", "2025-01-01")).unwrap();
        assert!(matches!(
            book.insert(bk_from("bk-a", "2026-01-01")),
            Err(TariffError::DuplicateVersion(_))
        ));
        assert!(matches!(
            book.insert(bk_from("bk-b", "2025-01-01")),
            Err(TariffError::DuplicateEffectiveDate {
                insurer: Insurer::Bk,
                ..
            })
        ));
    }
}
