//! Exact rates and the integer arithmetic of the engine.
//!
//! A [`Rate`] is an integer number of parts per million (ppm), read from decimal text ("0.0297") without ever
//! passing through `f64`. Amounts in flight are carried in micro-RWF (RWF × 10⁶), so `SI × rate` is exact,
//! and a line is rounded half up to whole RWF only where the original rounded it (`Math.round`).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// Micro-RWF per RWF, and ppm per unit.
pub(crate) const MICRO: i64 = 1_000_000;

/// A rate between 0 and 1 inclusive, held exactly as parts per million.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

/// The text is not a decimal fraction between 0 and 1 with at most 6 decimals.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rate {0:?} is not a decimal between 0 and 1 with at most 6 decimals (e.g. \"0.0297\")")]
pub struct RateParseError(pub String);

impl Rate {
    /// 0 %.
    pub const ZERO: Self = Self(0);
    /// 100 %: the short-term factor of a full year.
    pub const ONE: Self = Self(1_000_000);

    /// A rate from parts per million; `None` above 1 000 000 (100 %).
    #[must_use]
    pub const fn from_ppm(ppm: u32) -> Option<Self> {
        if ppm <= 1_000_000 {
            Some(Self(ppm))
        } else {
            None
        }
    }

    /// The rate in parts per million.
    #[must_use]
    pub const fn ppm(self) -> u32 {
        self.0
    }

    /// `self + other`, `None` past 100 %. Comprehensive = MD + theft + fire is built this way.
    #[must_use]
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        Self::from_ppm(self.0.saturating_add(other.0))
    }

    /// Displays the rate as a percentage with only the decimals it needs: 0.025 is "2.5%", never "3%"
    /// (spec 2.10: the original rounded the theft/fire excess to a whole percent).
    #[must_use]
    pub const fn percent(self) -> Percent {
        Percent(self)
    }
}

impl FromStr for Rate {
    type Err = RateParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || RateParseError(s.to_owned());
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 6 {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        // Right-pad the fraction to 6 digits: "0297" is 029700 ppm.
        let mut ppm_frac = 0u32;
        for i in 0..6 {
            let d = frac.as_bytes().get(i).map_or(0, |b| u32::from(b - b'0'));
            ppm_frac = ppm_frac * 10 + d;
        }
        whole
            .checked_mul(1_000_000)
            .and_then(|w| w.checked_add(ppm_frac))
            .and_then(Self::from_ppm)
            .ok_or_else(bad)
    }
}

impl fmt::Display for Rate {
    /// The decimal form the tariff files use ("0.0297"), so documents round-trip.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 1_000_000, self.0 % 1_000_000);
        write_trimmed(f, whole, frac, 6)
    }
}

/// A [`Rate`] shown as a percentage ("2.5%"), from [`Rate::percent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Percent(Rate);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 1 % is 10 000 ppm, so a percentage has at most 4 decimals.
        let ppm = self.0.ppm();
        write_trimmed(f, ppm / 10_000, ppm % 10_000, 4)?;
        f.write_str("%")
    }
}

/// Writes `whole.frac` with `frac` zero-padded to `width` digits, then trailing zeros (and a bare dot) cut.
fn write_trimmed(f: &mut fmt::Formatter<'_>, whole: u32, frac: u32, width: usize) -> fmt::Result {
    if frac == 0 {
        return write!(f, "{whole}");
    }
    let mut frac = frac;
    let mut width = width;
    while frac.is_multiple_of(10) {
        frac /= 10;
        width -= 1;
    }
    write!(f, "{whole}.{frac:0width$}")
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    /// Rates are JSON strings ("0.0297"), never JSON numbers: a number would go through `f64`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// Rounds micro-RWF half up to whole RWF, as JavaScript's `Math.round` (ties go toward +∞).
#[must_use]
pub(crate) const fn round_to_rwf(micro: i64) -> i64 {
    (micro + MICRO / 2).div_euclid(MICRO)
}

/// `amount × rate`, both in micro-RWF, rounded half up to the micro-RWF: exact for the rounding because the
/// whole-RWF part multiplies without loss and only the sub-RWF remainder is divided. Staying in `i64`
/// (no `i128`, divisor a constant) keeps the hot path to multiplies and shifts. Monotonic in `amount`.
///
/// No overflow for |amount| ≤ 10¹⁸ (the engine's inputs are bounded far below that).
#[must_use]
pub(crate) fn mul_rate(amount_micro: i64, rate: Rate) -> i64 {
    let r = i64::from(rate.0);
    let whole = amount_micro.div_euclid(MICRO);
    let rest = amount_micro.rem_euclid(MICRO);
    whole * r + (rest * r + MICRO / 2).div_euclid(MICRO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Rate {
        s.parse().unwrap()
    }

    #[test]
    fn rates_parse_exactly_from_decimal_text() {
        assert_eq!(r("0.0297").ppm(), 29_700);
        assert_eq!(r("0.025").ppm(), 25_000);
        assert_eq!(r("1").ppm(), 1_000_000);
        assert_eq!(r("1.000000").ppm(), 1_000_000);
        assert_eq!(r("0.000001").ppm(), 1);
        for bad in [
            "",
            ".5",
            "1.5",
            "0.0000001",
            "-0.1",
            "0,1",
            "1e-3",
            "0.1%",
            " 0.1",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn rates_print_back_as_the_decimal_they_were_read_from() {
        for s in ["0.0297", "0.025", "0.3", "1", "0", "0.000001"] {
            assert_eq!(r(s).to_string(), s);
        }
    }

    #[test]
    fn the_excess_prints_2_5_percent_as_2_5_percent_not_3() {
        // Defect 2.10 "the excess prints 3 %".
        assert_eq!(r("0.025").percent().to_string(), "2.5%");
        assert_eq!(r("0.05").percent().to_string(), "5%");
        assert_eq!(r("0.0297").percent().to_string(), "2.97%");
        assert_eq!(r("0.000001").percent().to_string(), "0.0001%");
        assert_eq!(Rate::ONE.percent().to_string(), "100%");
    }

    #[test]
    fn rounding_is_half_up_like_math_round() {
        assert_eq!(round_to_rwf(1_500_000), 2);
        assert_eq!(round_to_rwf(1_499_999), 1);
        assert_eq!(round_to_rwf(-1_500_000), -1);
        assert_eq!(round_to_rwf(-1_500_001), -2);
    }

    #[test]
    fn mul_rate_matches_exact_rational_rounding() {
        for amount in [
            0,
            1,
            999_999,
            1_000_000,
            123_456_789_012,
            20_000_000 * MICRO,
            -7_654_321,
        ] {
            for ppm in [0, 1, 250_000, 333_333, 999_999, 1_000_000] {
                let exact = i128::from(amount) * i128::from(ppm);
                let want = (exact + 500_000).div_euclid(1_000_000);
                let got = mul_rate(amount, Rate::from_ppm(ppm).unwrap());
                assert_eq!(i128::from(got), want, "{amount} x {ppm}");
            }
        }
    }
}
