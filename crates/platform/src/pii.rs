//! Masking of personal data in logs: phone numbers never appear whole.

use std::fmt;

/// Masks a phone number or WhatsApp id: keeps the first six and last three characters
/// (`+250781234567` -> `+25078****567`), so support can still tell numbers apart.
pub fn mask_phone(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let n = chars.len();
    if n <= 6 {
        return "*".repeat(n.max(4));
    }
    let (head, tail) = if n >= 11 { (6, 3) } else { (2, 2) };
    let mut out: String = chars[..head].iter().collect();
    out.push_str("****");
    out.extend(&chars[n - tail..]);
    out
}

/// A phone number that prints masked, for log fields: `tracing::info!(phone = %Phone(&p))`.
pub struct Phone<'a>(pub &'a str);

impl fmt::Display for Phone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_phone(self.0))
    }
}

impl fmt::Debug for Phone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_keep_prefix_and_last_three() {
        assert_eq!(mask_phone("+250781234567"), "+25078****567");
        assert_eq!(Phone("+250781234567").to_string(), "+25078****567");
    }

    #[test]
    fn short_values_are_fully_masked() {
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_phone("1234567"), "12****67");
        assert!(!mask_phone("0781234567").contains("1234"));
    }
}
