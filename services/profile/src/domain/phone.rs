//! Phone numbers as WhatsApp knows them: E.164.

use std::fmt;

/// Why a number was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidPhone;

impl fmt::Display for InvalidPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("must be a phone number in E.164 format (e.g. +250781234567) or a local number")
    }
}

/// Normalises `raw` to E.164 (`+` and 7 to 15 digits, no leading 0).
///
/// Spaces, dashes, dots and parentheses are dropped; `00` becomes `+`; a national number with a
/// trunk `0` (`0781234567`) gets `default_cc`; bare digits that already start with `default_cc`
/// are read as international (Meta's `wa_id` is written that way), other bare digits as national.
pub(crate) fn normalise(raw: &str, default_cc: &str) -> Result<String, InvalidPhone> {
    let compact: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let e164 = if let Some(rest) = compact.strip_prefix('+') {
        format!("+{rest}")
    } else if let Some(rest) = compact.strip_prefix("00") {
        format!("+{rest}")
    } else if let Some(rest) = compact.strip_prefix('0') {
        format!("+{default_cc}{rest}")
    } else if compact.starts_with(default_cc) && compact.len() > default_cc.len() + 6 {
        format!("+{compact}")
    } else {
        format!("+{default_cc}{compact}")
    };
    let digits = &e164[1..];
    let valid = (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if valid { Ok(e164) } else { Err(InvalidPhone) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_numbers_get_the_default_country_code() {
        assert_eq!(normalise("0781234567", "250").unwrap(), "+250781234567");
        assert_eq!(normalise("078 123 4567", "250").unwrap(), "+250781234567");
        assert_eq!(normalise("781234567", "250").unwrap(), "+250781234567");
    }

    #[test]
    fn international_forms_are_kept() {
        assert_eq!(normalise("+250781234567", "250").unwrap(), "+250781234567");
        assert_eq!(normalise("00250781234567", "250").unwrap(), "+250781234567");
        assert_eq!(normalise("250781234567", "250").unwrap(), "+250781234567");
        assert_eq!(
            normalise("+1 (415) 555-2671", "250").unwrap(),
            "+14155552671"
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "+",
            "abc",
            "+0781234567",
            "+1234",
            "+1234567890123456",
            "07812x4567",
        ] {
            assert!(normalise(bad, "250").is_err(), "{bad}");
        }
    }
}
