//! Ledger rules, free of HTTP and SQL.

pub(crate) mod fx;

use std::collections::BTreeMap;

use contracts::wallet::{Leg, TransferRequest};

/// Default asset catalogue of a tenant: (code, scale). `TOKEN` is pegged 1:1 to USD.
pub(crate) const DEFAULT_ASSETS: &[(&str, i32)] = &[("RWF", 0), ("USD", 2), ("TOKEN", 2)];

/// The default subscription plan: 4 TOKEN (scale 2) every 30 days.
pub(crate) const DEFAULT_PLAN: (&str, i64, u32) = ("TOKEN", 400, 30);

/// A transfer's legs, netted per account and ordered by account id: locks and updates always
/// happen in this order, so two transfers never wait on each other in a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) legs: Vec<Leg>,
}

impl Plan {
    /// Normalises a validated request. `None` when netting leaves fewer than two accounts
    /// moving (e.g. every leg on one account).
    pub(crate) fn from_request(req: &TransferRequest) -> Option<Self> {
        let raw: Vec<(String, i64)> = match &req.legs {
            Some(legs) => legs
                .iter()
                .map(|l| (l.account_id.clone(), l.amount_minor))
                .collect(),
            None => {
                let amount = req.amount_minor?;
                vec![
                    (req.source_account_id.clone()?, amount.checked_neg()?),
                    (req.destination_account_id.clone()?, amount),
                ]
            }
        };
        Self::from_pairs(raw)
    }

    fn from_pairs(raw: Vec<(String, i64)>) -> Option<Self> {
        let mut net: BTreeMap<String, i64> = BTreeMap::new();
        for (account, amount) in raw {
            let e = net.entry(account).or_insert(0);
            *e = e.checked_add(amount)?;
        }
        let legs: Vec<Leg> = net
            .into_iter()
            .filter(|(_, a)| *a != 0)
            .map(|(account_id, amount_minor)| Leg {
                account_id,
                amount_minor,
            })
            .collect();
        let balanced = legs
            .iter()
            .try_fold(0i64, |s, l| s.checked_add(l.amount_minor))
            == Some(0);
        (legs.len() >= 2 && balanced).then_some(Self { legs })
    }

    /// The same legs with signs flipped: the compensating transfer of a reversal.
    pub(crate) fn reversed(legs: &[Leg]) -> Option<Self> {
        Self::from_pairs(
            legs.iter()
                .map(|l| Some((l.account_id.clone(), l.amount_minor.checked_neg()?)))
                .collect::<Option<Vec<_>>>()?,
        )
    }

    /// Legs scaled to post `amount` of a two-leg pending transfer; `None` for more legs or an
    /// amount above the reserved one.
    pub(crate) fn partial(legs: &[Leg], amount: i64) -> Option<Self> {
        let [a, b] = legs else { return None };
        let reserved = a.amount_minor.abs();
        if amount <= 0 || amount > reserved {
            return None;
        }
        let sign = |l: &Leg| if l.amount_minor < 0 { -amount } else { amount };
        Self::from_pairs(vec![
            (a.account_id.clone(), sign(a)),
            (b.account_id.clone(), sign(b)),
        ])
    }

    /// Total moved (the sum of the credits).
    pub(crate) fn volume(&self) -> i64 {
        self.legs
            .iter()
            .filter(|l| l.amount_minor > 0)
            .map(|l| l.amount_minor)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(a: &str, m: i64) -> Leg {
        Leg {
            account_id: a.into(),
            amount_minor: m,
        }
    }

    #[test]
    fn simple_transfers_become_two_ordered_legs() {
        let req = TransferRequest {
            source_account_id: Some("b".into()),
            destination_account_id: Some("a".into()),
            amount_minor: Some(100),
            asset: "TOKEN".into(),
            ..Default::default()
        };
        assert_eq!(
            Plan::from_request(&req).unwrap().legs,
            vec![leg("a", 100), leg("b", -100)]
        );
    }

    #[test]
    fn legs_on_one_account_are_netted_and_self_transfers_refused() {
        let p = Plan::from_pairs(vec![
            ("a".into(), -100),
            ("b".into(), 90),
            ("c".into(), 10),
            ("a".into(), 0),
        ])
        .unwrap();
        assert_eq!(p.volume(), 100);
        assert!(Plan::from_pairs(vec![("a".into(), -5), ("a".into(), 5)]).is_none());
    }

    #[test]
    fn partial_posts_scale_both_legs_and_never_exceed_the_reservation() {
        let legs = [leg("a", -100), leg("b", 100)];
        assert_eq!(
            Plan::partial(&legs, 40).unwrap().legs,
            vec![leg("a", -40), leg("b", 40)]
        );
        assert!(Plan::partial(&legs, 101).is_none());
        assert!(Plan::partial(&[leg("a", -2), leg("b", 1), leg("c", 1)], 1).is_none());
    }

    #[test]
    fn reversals_flip_every_leg() {
        let p = Plan::reversed(&[leg("a", -100), leg("b", 100)]).unwrap();
        assert_eq!(p.legs, vec![leg("a", 100), leg("b", -100)]);
    }
}
