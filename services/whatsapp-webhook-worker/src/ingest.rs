//! Deliveries stored through the group-commit writer: the deliveries that arrive within a
//! millisecond share one transaction and one fsync, and each webhook is answered 200 only after
//! the commit that holds its messages. A stored message is its own first routing attempt
//! ([`crate::jobs`]): no job row is written with it (that cost ~15% of the ingest rate).
//!
//! One commit per delivery capped SQLite near 3,000 webhooks/s on this 2-core machine; Meta
//! retries whatever it does not get a 200 for quickly, so ingest throughput is what keeps a
//! traffic spike from turning into a retry storm.

use std::collections::HashSet;
use std::convert::Infallible;

use store::group::Op;
use store::{Error, Tx};

use crate::store::messages::{self, NewMessage, NewStatus};
use crate::store::outbound;

/// One verified delivery's rows.
pub(crate) struct Delivery {
    pub(crate) messages: Vec<NewMessage>,
    pub(crate) statuses: Vec<NewStatus>,
}

/// What a delivery stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stored {
    /// Messages stored for the first time (the rest were redeliveries).
    pub(crate) new: u64,
    /// Status callbacks stored for the first time.
    pub(crate) statuses: u64,
}

/// What a batch writes together at its end.
#[derive(Default)]
pub(crate) struct Rows {
    /// `wamid`s stored before the batch or earlier in it: a message is new only once.
    known: HashSet<String>,
    messages: Vec<NewMessage>,
}

impl Op for Delivery {
    type Output = Stored;
    type Refusal = Infallible;
    type Batch = Rows;

    /// One read of every `wamid` the batch carries instead of one insert attempt per message.
    async fn prepare(tx: &mut Tx, ops: &[&Self], rows: &mut Rows) -> Result<(), Error> {
        let wamids: Vec<&str> = ops
            .iter()
            .flat_map(|d| d.messages.iter().map(|m| m.wamid.as_str()))
            .collect();
        rows.known = messages::known(tx, &wamids).await?;
        Ok(())
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        rows: &mut Rows,
    ) -> Result<Result<Stored, Infallible>, Error> {
        let mut new = 0;
        for m in &self.messages {
            if !rows.known.insert(m.wamid.clone()) {
                tracing::debug!(wamid = %m.wamid, "redelivered message ignored");
                continue;
            }
            new += 1;
            rows.messages.push(m.clone());
            tracing::info!(wamid = %m.wamid, from = %platform::pii::mask_phone(&m.contact_id),
                kind = %m.message_type, "message stored");
        }
        let mut statuses = 0;
        for st in &self.statuses {
            if messages::insert_status(tx, st).await? {
                statuses += 1;
            }
            // Our own outbound message, if it is one: moved forward only (callbacks arrive out of
            // order and redelivered; a known state never yields to an unknown one, rank 0).
            if st.rank > 0
                && outbound::advance(
                    tx,
                    &st.wamid,
                    &st.status,
                    st.rank,
                    st.error.as_deref(),
                    st.received_at,
                )
                .await?
            {
                tracing::debug!(wamid = %st.wamid, status = %st.status, "outbound message advanced");
            }
        }
        Ok(Ok(Stored { new, statuses }))
    }

    async fn flush(tx: &mut Tx, rows: Rows) -> Result<(), Error> {
        if !rows.messages.is_empty() {
            messages::insert_many(tx, &rows.messages).await?;
            tx.mark_jobs();
        }
        Ok(())
    }
}
