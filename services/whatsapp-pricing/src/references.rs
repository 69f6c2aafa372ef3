//! Payment-reference numbers for `POST /v1/quotes`, handed out from memory. A block is reserved
//! from the counter row in one short transaction and used up before the next, so a quote's
//! references cost no statement of their own, and a quote is complete, references included,
//! before it is queued for storage (the writer stores it as it is, with no copy to fill in).

use std::ops::Range;
use std::sync::{Mutex, MutexGuard, PoisonError};

use store::Db;

use crate::Error;
use crate::store::quotes as sql;

/// Numbers reserved at a time. At 10,000 quotes/s (three or four quoted insurers each) that is
/// about ten reservations a second; a restart skips at most this many numbers.
pub(crate) const BLOCK: u64 = 4096;

/// The numbers this replica holds and has not handed out yet.
pub(crate) struct References {
    free: Mutex<Range<u64>>,
    /// One reservation at a time: callers that find the block used up wait for one new block
    /// instead of each reserving their own.
    refill: tokio::sync::Mutex<()>,
    block: u64,
}

impl References {
    /// A pool that reserves `block` numbers at a time (at least 1).
    pub(crate) fn new(block: u64) -> Self {
        Self {
            free: Mutex::new(0..0),
            refill: tokio::sync::Mutex::new(()),
            block: block.max(1),
        }
    }

    /// `n` consecutive numbers that were never handed out before, by any replica. When fewer
    /// than `n` are left in hand they are skipped (a gap in the numbering, never a repeat) and a
    /// new block is reserved.
    pub(crate) async fn take(&self, db: &Db, n: u64) -> Result<Range<u64>, Error> {
        if n == 0 {
            return Ok(0..0);
        }
        loop {
            if let Some(numbers) = self.try_take(n) {
                return Ok(numbers);
            }
            let _one_at_a_time = self.refill.lock().await;
            if let Some(numbers) = self.try_take(n) {
                return Ok(numbers);
            }
            let mut tx = db.begin().await?;
            let block = sql::reserve_references(tx.exec(), self.block.max(n)).await?;
            tx.commit().await?;
            *self.free() = block;
        }
    }

    fn try_take(&self, n: u64) -> Option<Range<u64>> {
        let mut free = self.free();
        let start = free.start;
        let end = start.checked_add(n).filter(|end| *end <= free.end)?;
        free.start = end;
        Some(start..end)
    }

    fn free(&self) -> MutexGuard<'_, Range<u64>> {
        // A panic cannot leave the range half-updated (one assignment), so a poisoned lock is
        // still sound.
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::References;

    #[test]
    fn numbers_are_handed_out_in_order_and_never_past_the_block() {
        let r = References::new(8);
        *r.free() = 10..15;
        assert_eq!(r.try_take(4), Some(10..14));
        assert_eq!(r.try_take(2), None, "one left: a new block is needed");
        assert_eq!(r.try_take(1), Some(14..15));
        assert_eq!(r.try_take(1), None);
        *r.free() = u64::MAX - 1..u64::MAX;
        assert_eq!(r.try_take(2), None, "no overflow past the end");
    }
}
