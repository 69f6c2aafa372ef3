//! Pure ranking logic: no I/O.

pub mod score;

/// FNV-1a (64-bit): a stable hash, the same in every process and release (unlike
/// `DefaultHasher`, which is randomly seeded).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The variant index of `buyer` in `experiment` among `n` variants: deterministic.
pub(crate) fn assign(experiment: &str, buyer: &str, n: usize) -> usize {
    let key = format!("{experiment}\u{1f}{buyer}");
    let n = u64::try_from(n.max(1)).unwrap_or(1);
    usize::try_from(fnv1a(key.as_bytes()) % n).unwrap_or(0)
}

/// Splits a `categories` query: comma separated, trimmed, empty items dropped.
pub(crate) fn parse_categories(csv: &str) -> Vec<String> {
    csv.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A page position: the last vendor's score (as its 4-decimal integer) and id.
pub(crate) fn encode_cursor(score: f64, vendor_id: &str) -> String {
    format!("{}:{vendor_id}", score::score_key(score))
}

/// Reads [`encode_cursor`]'s output.
pub(crate) fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let (k, id) = cursor.split_once(':')?;
    let k: i64 = k.parse().ok()?;
    (!id.is_empty()).then(|| (k, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn assignment_is_deterministic_and_spreads() {
        let a = assign("exp1", "buyer-1", 2);
        assert_eq!(a, assign("exp1", "buyer-1", 2));
        let ones = (0..1000)
            .filter(|i| assign("exp1", &format!("b{i}"), 2) == 1)
            .count();
        assert!((400..=600).contains(&ones), "{ones}");
    }

    #[test]
    fn categories_are_trimmed_and_empty_items_dropped() {
        assert_eq!(parse_categories(" moto , ,taxi"), vec!["moto", "taxi"]);
        assert!(parse_categories(",").is_empty());
    }

    #[test]
    fn cursors_round_trip() {
        let c = encode_cursor(0.8815, "v1");
        assert_eq!(decode_cursor(&c), Some((8815, "v1".to_owned())));
        assert_eq!(decode_cursor("x"), None);
    }
}
