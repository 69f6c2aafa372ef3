//! SQL of the wallet: one file per aggregate.

pub(crate) mod accounts;
pub(crate) mod audit;
pub(crate) mod fx;
pub(crate) mod reconcile;
pub(crate) mod subscriptions;
pub(crate) mod transfers;
