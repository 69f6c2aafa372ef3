//! Instalment schedules (step 14): a premium split by a plan's tranches, in whole RWF, summing exactly to
//! the premium.

use serde::Serialize;

use crate::tariff::InstalmentPlan;

/// One amount due.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Instalment {
    /// Month of the policy year it is due.
    pub at_month: u8,
    /// Amount, RWF.
    pub amount: i64,
}

/// A plan applied to a premium: at most three instalments (validation caps plans at three tranches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    items: [Instalment; 3],
    len: usize,
}

impl Schedule {
    /// The instalments in month order.
    #[must_use]
    pub fn as_slice(&self) -> &[Instalment] {
        self.items.get(..self.len).unwrap_or(&[])
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.as_slice())
    }
}

impl InstalmentPlan {
    /// Splits `total` (RWF) by the plan's percents. Each tranche is rounded down and the last one takes the
    /// remainder, so the instalments always sum to `total` (no RWF is lost or invented).
    #[must_use]
    pub fn schedule(&self, total: i64) -> Schedule {
        let mut items = [Instalment::default(); 3];
        let mut len = 0;
        let mut left = total;
        let count = self.tranches.len();
        for (i, (slot, t)) in items.iter_mut().zip(&self.tranches).enumerate() {
            let amount = if i + 1 == count {
                left
            } else {
                total * i64::from(t.percent) / 100
            };
            *slot = Instalment {
                at_month: t.at_month,
                amount,
            };
            left -= amount;
            len += 1;
        }
        Schedule { items, len }
    }
}

#[cfg(test)]
mod tests {
    use crate::tariff::{EMBEDDED_TARIFFS, Tariff};

    #[test]
    fn rule_14_instalments_split_the_premium_exactly() {
        let t = Tariff::from_json(EMBEDDED_TARIFFS[0].1).unwrap();
        let plans = t.instalments();
        assert_eq!(plans.len(), 4);
        let amounts = |i: usize, total| -> Vec<(u8, i64)> {
            plans[i]
                .schedule(total)
                .as_slice()
                .iter()
                .map(|x| (x.at_month, x.amount))
                .collect()
        };
        assert_eq!(
            amounts(0, 804_600),
            [(1, 201_150), (2, 201_150), (9, 402_300)]
        );
        assert_eq!(amounts(1, 804_600), [(3, 402_300), (9, 402_300)]);
        assert_eq!(amounts(2, 804_600), [(6, 603_450), (12, 201_150)]);
        assert_eq!(
            amounts(3, 804_600),
            [(1, 201_150), (3, 281_610), (8, 321_840)]
        );
        // An odd total: the last tranche absorbs the remainder.
        let odd: i64 = amounts(3, 428_901).iter().map(|x| x.1).sum();
        assert_eq!(odd, 428_901);
    }
}
