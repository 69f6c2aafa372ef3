//! The wallet service's API, as the vendor service uses it: opening a vendor's account.

use std::time::Duration;

use contracts::wallet::{Account, OpenAccount};
use platform::auth::JwtKeys;
use platform::client::{ClientConfig, HttpClient};
use reqwest::Method;

/// Why the wallet did not open an account.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WalletError {
    /// No answer (timeout, transport, circuit open).
    #[error(transparent)]
    Call(#[from] platform::client::Error),
    /// An answer other than 200/201.
    #[error("wallet answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Its body (a problem document).
        body: String,
    },
    /// A 2xx whose body is not an account.
    #[error("wallet answer unreadable")]
    Decode(#[source] reqwest::Error),
    /// A service token could not be minted.
    #[error("service token: {0}")]
    Token(String),
}

/// A client of the wallet service, with the kit's timeout, retries and breaker.
#[derive(Clone, Debug)]
pub(crate) struct WalletClient {
    http: HttpClient,
    keys: JwtKeys,
    asset: String,
}

impl WalletClient {
    pub(crate) fn new(
        base_url: &str,
        timeout: Duration,
        keys: JwtKeys,
        asset: String,
    ) -> Result<Self, platform::client::Error> {
        let config = ClientConfig {
            timeout,
            ..ClientConfig::default()
        };
        Ok(Self {
            http: HttpClient::new("wallet", base_url, config)?,
            keys,
            asset,
        })
    }

    /// The client (for its breaker's readiness check).
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Opens (or finds: the wallet keeps one per tenant, owner and asset) the vendor's account;
    /// returns its id. With `retry`, the kit retries with backoff (for the job); without, one
    /// attempt (on a request path).
    pub(crate) async fn open_vendor_account(
        &self,
        tenant: &str,
        vendor_id: &str,
        retry: bool,
    ) -> Result<String, WalletError> {
        let token = self
            .keys
            .mint(
                "vendor",
                "wallet",
                &["wallet:accounts.write"],
                Some(tenant),
                Duration::from_secs(60),
            )
            .map_err(|e| WalletError::Token(e.to_string()))?;
        let body = OpenAccount {
            tenant_id: Some(tenant.to_owned()),
            owner_type: "vendor".to_owned(),
            owner_id: vendor_id.to_owned(),
            asset: self.asset.clone(),
        };
        let mut req = self
            .http
            .request(Method::POST, "/wallet/accounts")
            .bearer_auth(token)
            .json(&body);
        if retry {
            // Opening is idempotent by (tenant, owner, asset); the key tells the kit so.
            req = req.header("idempotency-key", format!("vendor-account-{vendor_id}"));
        }
        let res = self.http.send(req).await?;
        let status = res.status();
        if !status.is_success() {
            let body = res.text().await.unwrap_or_default();
            return Err(WalletError::Status {
                status: status.as_u16(),
                body,
            });
        }
        let account: Account = res.json().await.map_err(WalletError::Decode)?;
        Ok(account.id)
    }
}
