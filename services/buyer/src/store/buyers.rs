//! Buyers and the wallet accounts opened for them.

use chrono::{DateTime, Utc};
use contracts::buyer::{Buyer, BuyerWalletAccount, CreateBuyer};
use store::{Exec, on};

use super::query;
use crate::Error;

/// A buyer row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct BuyerRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) name: String,
    pub(crate) segment: Option<String>,
    pub(crate) profile_user_id: Option<String>,
    pub(crate) whatsapp_e164: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

impl BuyerRow {
    /// The wire shape, with its wallet accounts.
    pub(crate) fn view(self, accounts: Vec<(String, String)>) -> Buyer {
        Buyer {
            id: self.id,
            tenant_id: self.tenant_id,
            name: self.name,
            segment: self.segment,
            profile_user_id: self.profile_user_id,
            whatsapp_e164: self.whatsapp_e164,
            wallet_accounts: accounts
                .into_iter()
                .map(|(asset, account_id)| BuyerWalletAccount { asset, account_id })
                .collect(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Stores a new buyer; a profile already linked in the tenant is [`Error::BuyerExists`].
pub(crate) async fn insert(
    exec: Exec<'_>,
    tenant: &str,
    req: &CreateBuyer,
) -> Result<BuyerRow, Error> {
    let now = Utc::now();
    let id = ulid::Ulid::generate().to_string();
    let row = on!(exec, |c| {
        sqlx::query_as(
        "INSERT INTO buyer_buyers (id, tenant_id, name, segment, profile_user_id, whatsapp_e164,
                                   created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         RETURNING id, tenant_id, name, segment, profile_user_id, whatsapp_e164, created_at, updated_at"
    )
    .bind(&id)
    .bind(tenant)
    .bind(req.name.trim())
    .bind(req.segment.as_deref())
    .bind(req.profile_user_id.as_deref())
    .bind(req.whatsapp_e164.as_deref())
    .bind(now)
    .fetch_one(c)
    .await
    });
    store::ResultExt::on_unique(row, || Error::BuyerExists)
}

/// A buyer by id (any tenant: callers check it).
pub(crate) async fn find(exec: Exec<'_>, id: &str) -> Result<Option<BuyerRow>, Error> {
    query::by_id(
        exec,
        "SELECT id, tenant_id, name, segment, profile_user_id, whatsapp_e164, created_at, updated_at
         FROM buyer_buyers WHERE id = $1",
        id,
    )
    .await
}

/// The buyer's wallet accounts: (asset, account id).
pub(crate) async fn accounts(
    exec: Exec<'_>,
    buyer_id: &str,
) -> Result<Vec<(String, String)>, Error> {
    let rows = on!(exec, |c| sqlx::query_as(
        "SELECT asset, account_id FROM buyer_wallet_accounts WHERE buyer_id = $1 ORDER BY asset"
    )
    .bind(buyer_id)
    .fetch_all(c)
    .await?);
    Ok(rows)
}

/// Records the wallet account opened for `buyer_id` in `asset` (the wallet answers the same
/// account every time, so a second record changes nothing).
pub(crate) async fn save_account(
    exec: Exec<'_>,
    buyer_id: &str,
    asset: &str,
    account_id: &str,
) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "INSERT INTO buyer_wallet_accounts (buyer_id, asset, account_id, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (buyer_id, asset) DO NOTHING"
    )
    .bind(buyer_id)
    .bind(asset)
    .bind(account_id)
    .bind(Utc::now())
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}
