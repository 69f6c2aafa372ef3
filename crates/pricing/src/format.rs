//! Customer-facing text: RWF amounts, the mandatory-excess summary, numeric payment references and the MTN
//! MoMo USSD string and `tel:` link (spec 2.6 "Decoration").

use std::fmt::{self, Write as _};

use crate::model::InsurerProfile;
use crate::tariff::MandatoryExcess;

/// An RWF amount shown the way the original did (`Intl.NumberFormat("en-RW", {currency: "RWF"})`):
/// "RWF 804,600", "-RWF 499,750".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rwf(pub i64);

impl fmt::Display for Rwf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            f.write_str("-")?;
        }
        f.write_str("RWF ")?;
        let digits = self.0.unsigned_abs().to_string();
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                f.write_char(',')?;
            }
            f.write_char(d)?;
        }
        Ok(())
    }
}

/// The excess line of a quote: "5% MD, 2.5% Theft/Fire (min RWF 150,000)". Rates keep their decimals
/// (spec 2.10: the original rounded 2.5 % to "3%").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExcessSummary<'a>(pub &'a MandatoryExcess);

impl fmt::Display for ExcessSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        write!(
            f,
            "{} MD, {} Theft/Fire (min {})",
            e.material_damage_of_claim.percent(),
            e.theft_fire_of_total_loss.percent(),
            Rwf(e.minimum)
        )
    }
}

/// Digits in a reference: up to 20 for a `u64` plus the check digit.
const REFERENCE_CAPACITY: usize = 21;
/// References are zero-padded to this many digits before the check digit, so they all look alike.
const REFERENCE_MIN_DIGITS: usize = 7;

/// A numeric MoMo payment reference, unique per quote: the quote's sequence number (zero-padded to 7 digits)
/// followed by a Luhn check digit that catches a mistyped digit during reconciliation.
///
/// Fixes spec 2.10 "references collide": the original used a letter prefix plus the last 4 digits of the
/// clock, shared by every customer and repeating every 10,000 s; MoMo USSD also only takes digits. The
/// sequence must come from a unique source (a database sequence or the quote's row number), never a clock.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentReference {
    digits: [u8; REFERENCE_CAPACITY],
    len: usize,
}

impl PaymentReference {
    /// The reference of the quote numbered `sequence`; distinct sequences give distinct references.
    #[must_use]
    pub fn from_sequence(sequence: u64) -> Self {
        let mut digits = [b'0'; REFERENCE_CAPACITY];
        let text = format!("{sequence:0REFERENCE_MIN_DIGITS$}");
        let len = text.len() + 1;
        for (slot, b) in digits.iter_mut().zip(text.bytes()) {
            *slot = b;
        }
        let check = luhn_check_digit(text.as_bytes());
        if let Some(slot) = digits.get_mut(len - 1) {
            *slot = check;
        }
        Self { digits, len }
    }

    /// Reads a reference back (e.g. from a MoMo callback), checking its check digit.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (body, _) = text.split_at_checked(text.len().checked_sub(1)?)?;
        let sequence: u64 = body.parse().ok()?;
        let reference = Self::from_sequence(sequence);
        (reference.as_str() == text).then_some(reference)
    }

    /// The sequence number the reference was made from.
    #[must_use]
    pub fn sequence(&self) -> u64 {
        let body = self.as_str().get(..self.len - 1).unwrap_or("");
        body.parse().unwrap_or(0)
    }

    /// The reference's digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let bytes = self.digits.get(..self.len).unwrap_or(&[]);
        std::str::from_utf8(bytes).unwrap_or("")
    }
}

impl fmt::Display for PaymentReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PaymentReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentReference({})", self.as_str())
    }
}

/// The Luhn check digit of an ASCII digit string.
fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    // (10 - sum % 10) % 10 is a single decimal digit, so the conversion cannot fail.
    b'0' + u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// The MTN MoMo merchant-payment USSD string: `*182*8*1*<merchant>*<amount>*<reference>#`.
#[must_use]
pub fn momo_ussd(insurer: &InsurerProfile, amount: i64, reference: &PaymentReference) -> String {
    format!(
        "*182*8*1*{}*{amount}*{reference}#",
        insurer.momo_merchant_code
    )
}

/// A `tel:` link that dials `ussd`. Everything but digits, `*` and `+` is percent-encoded, so the final `#`
/// becomes `%23` (spec 2.10: `encodeURI` left it raw and the dialler dropped it as a URI fragment).
#[must_use]
pub fn momo_tel_link(ussd: &str) -> String {
    let mut link = String::with_capacity(4 + ussd.len() + 8);
    link.push_str("tel:");
    for b in ussd.bytes() {
        if b.is_ascii_digit() || b == b'*' || b == b'+' {
            link.push(char::from(b));
        } else {
            let _ = write!(link, "%{b:02X}");
        }
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Insurer;

    #[test]
    fn rwf_amounts_group_thousands() {
        assert_eq!(Rwf(804_600).to_string(), "RWF 804,600");
        assert_eq!(Rwf(0).to_string(), "RWF 0");
        assert_eq!(Rwf(999).to_string(), "RWF 999");
        assert_eq!(Rwf(1_000).to_string(), "RWF 1,000");
        assert_eq!(Rwf(-499_750).to_string(), "-RWF 499,750");
        assert_eq!(Rwf(i64::MIN).to_string(), "-RWF 9,223,372,036,854,775,808");
    }

    #[test]
    fn references_are_numeric_unique_and_checked() {
        let r = PaymentReference::from_sequence(42);
        assert_eq!(r.as_str(), "00000422");
        assert!(r.as_str().bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(r.sequence(), 42);
        assert_eq!(PaymentReference::parse("00000422"), Some(r));
        assert_eq!(
            PaymentReference::parse("00000423"),
            None,
            "a wrong check digit is caught"
        );
        assert_eq!(PaymentReference::parse("0000042"), None);
        assert_eq!(PaymentReference::parse(""), None);
        let big = PaymentReference::from_sequence(u64::MAX);
        assert_eq!(big.as_str().len(), 21);
        assert_eq!(big.sequence(), u64::MAX);
        // Luhn reference value: 7992739871 has check digit 3.
        assert_eq!(luhn_check_digit(b"7992739871"), b'3');
    }

    #[test]
    fn the_ussd_string_follows_the_merchant_payment_format() {
        let r = PaymentReference::from_sequence(42);
        let ussd = momo_ussd(Insurer::Bk.profile(), 804_600, &r);
        assert_eq!(ussd, "*182*8*1*000123*804600*00000422#");
    }
}
