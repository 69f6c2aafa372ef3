//! Exact decimal arithmetic for FX quotes: no binary floating point near money.

use std::fmt;
use std::str::FromStr;

/// A non-negative decimal number: `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// Digits accepted on each side, so products fit in `i128`.
const MAX_DIGITS: usize = 18;

impl Decimal {
    /// Whether it is above zero.
    pub fn is_positive(&self) -> bool {
        self.mantissa > 0
    }

    /// From an `f64` read off an FX API's JSON (rounded to 12 places, which is finer than any
    /// published rate), so the rest of the arithmetic stays exact.
    pub fn from_api_rate(rate: f64) -> Option<Self> {
        if !rate.is_finite() || rate <= 0.0 {
            return None;
        }
        format!("{rate:.12}").parse().ok()
    }
}

impl FromStr for Decimal {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.trim();
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || !digits_ok(int)
            || !digits_ok(frac)
            || int.len() + frac.len() > MAX_DIGITS
        {
            return Err(());
        }
        let mantissa: i128 = format!("{int}{frac}").parse().map_err(|_| ())?;
        Ok(Self {
            mantissa,
            scale: u32::try_from(frac.len()).map_err(|_| ())?,
        })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.to_string();
        let scale = usize::try_from(self.scale).unwrap_or(0);
        if scale == 0 {
            return f.write_str(&digits);
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            write!(f, "{int}")
        } else {
            write!(f, "{int}.{frac}")
        }
    }
}

/// `amount × rate`, in minor units of a `scale`-digit asset, rounded half up. `None` on overflow.
pub fn convert(amount: Decimal, rate: Decimal, scale: u32) -> Option<i64> {
    let num = amount
        .mantissa
        .checked_mul(rate.mantissa)?
        .checked_mul(10i128.checked_pow(scale)?)?;
    let den = 10i128.checked_pow(amount.scale.checked_add(rate.scale)?)?;
    let rounded = num.checked_add(den / 2)? / den;
    i64::try_from(rounded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn rwf_to_tokens_multiplies_by_usd_per_rwf() {
        // 1,000 RWF at 0.0008 USD each is 0.80 USD = 80 token cents, not 1.25 M tokens.
        assert_eq!(convert(d("1000"), d("0.0008"), 2), Some(80));
        assert_eq!(convert(d("12.5"), d("0.007"), 2), Some(9)); // 0.0875 -> 0.09
        assert_eq!(convert(d("1"), d("1"), 2), Some(100));
    }

    #[test]
    fn halves_round_up() {
        assert_eq!(convert(d("0.005"), d("1"), 2), Some(1));
        assert_eq!(convert(d("0.0049"), d("1"), 2), Some(0));
    }

    #[test]
    fn parsing_refuses_anything_but_plain_decimals() {
        for bad in ["", "-1", "1e3", "1.2.3", "abc", "1234567890123456789"] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad}");
        }
        assert_eq!(d("0.00080").to_string(), "0.0008");
        assert_eq!(d("1000").to_string(), "1000");
        assert_eq!(
            Decimal::from_api_rate(0.000_77).unwrap().to_string(),
            "0.00077"
        );
    }
}
