//! Typed calls to the wallet and the vendor services, through the kit's client (timeout,
//! retries for idempotent calls, a circuit breaker per dependency), with a short-lived service
//! token bound to the tenant.

use std::time::Duration;

use contracts::vendor::{AcceptQuote, Quote};
use contracts::wallet::{
    Account, OpenAccount, PostPending, Transfer, TransferAction, TransferRequest,
};
use platform::auth::JwtKeys;
use platform::client::{ClientConfig, HttpClient};
use reqwest::{Method, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::Config;

/// Scopes the buyer asks of the wallet.
const WALLET_SCOPES: &[&str] = &[
    "wallet:accounts.write",
    "wallet:accounts.read",
    "wallet:transfer.write",
];
/// Scopes the buyer asks of the vendor (`GET /quotes/{id}`, `POST /quotes/{id}/accept|reject`).
const VENDOR_SCOPES: &[&str] = &["vendor:read", "vendor:quote.write"];
/// Lifetime of a minted token.
const TOKEN_TTL: Duration = Duration::from_secs(60);

/// Why a call gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    /// No answer, a 5xx, a 429, or the circuit is open: worth retrying later.
    #[error("{0} unavailable: {1}")]
    Unavailable(&'static str, String),
    /// An answer the contract does not allow (a bug on one side): retried, then dead-lettered.
    #[error("{0} answered unexpectedly: {1}")]
    Unexpected(&'static str, String),
}

/// A refusal: the status and the problem's `code`.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
}

impl Refusal {
    /// Our token was refused (`auth.*`): a configuration fault on one side, not an answer about
    /// the purchase. Retried (then dead-lettered), never taken as the purchase's outcome.
    pub(crate) fn auth_fault(&self) -> Option<CallError> {
        self.code.starts_with("auth.").then(|| {
            CallError::Unexpected(
                "dependency",
                format!("token refused: {} {}", self.status, self.code),
            )
        })
    }

    /// A refusal the contract does not allow at this step (a bug on one side).
    pub(crate) fn unexpected(&self, dep: &'static str, step: &str) -> CallError {
        CallError::Unexpected(
            dep,
            format!("{step} refused: {} {}", self.status, self.code),
        )
    }
}

/// The outbound clients.
#[derive(Clone, Debug)]
pub(crate) struct Clients {
    pub(crate) wallet: HttpClient,
    pub(crate) vendor: HttpClient,
    keys: JwtKeys,
}

impl Clients {
    pub(crate) fn new(config: &Config, keys: JwtKeys) -> anyhow::Result<Self> {
        let cfg = ClientConfig {
            timeout: config.http_timeout,
            max_attempts: 2,
            ..ClientConfig::default()
        };
        Ok(Self {
            wallet: HttpClient::new("wallet", &config.wallet_url, cfg.clone())?,
            vendor: HttpClient::new("vendor", &config.vendor_url, cfg)?,
            keys,
        })
    }

    fn token(&self, aud: &'static str, scopes: &[&str], tenant: &str) -> Result<String, CallError> {
        self.keys
            .mint(crate::NAME, aud, scopes, Some(tenant), TOKEN_TTL)
            .map_err(|e| CallError::Unexpected(aud, format!("minting a token: {e}")))
    }

    /// One call to `dep`: a 2xx body as `T`, a 4xx as its refusal; no answer, a 5xx or a 429 is
    /// [`CallError::Unavailable`].
    async fn call<T: DeserializeOwned>(
        &self,
        dep: &'static str,
        tenant: &str,
        method: Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
        key: Option<&str>,
    ) -> Result<Result<T, Refusal>, CallError> {
        let (client, scopes) = if dep == "wallet" {
            (&self.wallet, WALLET_SCOPES)
        } else {
            (&self.vendor, VENDOR_SCOPES)
        };
        let mut req = client
            .request(method, path)
            .bearer_auth(self.token(dep, scopes, tenant)?);
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let res = client
            .send(req)
            .await
            .map_err(|e| CallError::Unavailable(dep, e.to_string()))?;
        let status = res.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(CallError::Unavailable(dep, format!("status {status}")));
        }
        ok_or_refusal(dep, res).await
    }

    /// Opens (or finds: the wallet answers the same account) an account of an owner.
    pub(crate) async fn open_account(
        &self,
        tenant: &str,
        owner_type: &str,
        owner_id: &str,
        asset: &str,
    ) -> Result<Result<Account, Refusal>, CallError> {
        let body = OpenAccount {
            tenant_id: Some(tenant.to_owned()),
            owner_type: owner_type.to_owned(),
            owner_id: owner_id.to_owned(),
            asset: asset.to_owned(),
        };
        self.call(
            "wallet",
            tenant,
            Method::POST,
            "/wallet/accounts",
            Some(&body),
            None,
        )
        .await
    }

    /// Reserves `amount` from `source` to `destination` with a pending transfer.
    pub(crate) async fn reserve(
        &self,
        tenant: &str,
        key: &str,
        req: &TransferRequest,
    ) -> Result<Result<Transfer, Refusal>, CallError> {
        self.call(
            "wallet",
            tenant,
            Method::POST,
            "/wallet/transfer",
            Some(req),
            Some(key),
        )
        .await
    }

    /// Posts a pending transfer, all of it.
    pub(crate) async fn post(
        &self,
        tenant: &str,
        key: &str,
        transfer_id: &str,
    ) -> Result<Result<Transfer, Refusal>, CallError> {
        let body = PostPending {
            tenant_id: Some(tenant.to_owned()),
            amount_minor: None,
        };
        self.end_pending(tenant, key, transfer_id, "post", &body)
            .await
    }

    /// Voids a pending transfer.
    pub(crate) async fn void(
        &self,
        tenant: &str,
        key: &str,
        transfer_id: &str,
        reason: &str,
    ) -> Result<Result<Transfer, Refusal>, CallError> {
        let body = TransferAction {
            tenant_id: Some(tenant.to_owned()),
            reason: Some(reason.to_owned()),
        };
        self.end_pending(tenant, key, transfer_id, "void", &body)
            .await
    }

    /// `POST /wallet/transfers/{id}/{action}`: a pending transfer ends, posted or voided, under
    /// the step's idempotency key.
    async fn end_pending(
        &self,
        tenant: &str,
        key: &str,
        transfer_id: &str,
        action: &str,
        body: &impl serde::Serialize,
    ) -> Result<Result<Transfer, Refusal>, CallError> {
        let path = format!("/wallet/transfers/{transfer_id}/{action}");
        self.call("wallet", tenant, Method::POST, &path, Some(body), Some(key))
            .await
    }

    /// A transfer as the wallet has it.
    pub(crate) async fn transfer(
        &self,
        tenant: &str,
        transfer_id: &str,
    ) -> Result<Result<Transfer, Refusal>, CallError> {
        let path = format!("/wallet/transfers/{transfer_id}");
        self.call("wallet", tenant, Method::GET, &path, None::<&()>, None)
            .await
    }

    /// The vendor's quote; `None` when the vendor knows no such quote for the tenant.
    pub(crate) async fn quote(
        &self,
        tenant: &str,
        quote_id: &str,
    ) -> Result<Option<Quote>, CallError> {
        let path = format!("/quotes/{quote_id}");
        match self
            .call("vendor", tenant, Method::GET, &path, None::<&()>, None)
            .await?
        {
            Ok(q) => Ok(Some(q)),
            Err(r) if r.status == StatusCode::NOT_FOUND => Ok(None),
            Err(r) => Err(CallError::Unexpected(
                "vendor",
                format!("{} {}", r.status, r.code),
            )),
        }
    }

    /// Accepts the quote for `purchase_id` (idempotent per purchase at the vendor).
    pub(crate) async fn accept(
        &self,
        tenant: &str,
        quote_id: &str,
        body: &AcceptQuote,
    ) -> Result<Result<Quote, Refusal>, CallError> {
        let path = format!("/quotes/{quote_id}/accept");
        self.call("vendor", tenant, Method::POST, &path, Some(body), None)
            .await
    }
}

/// A 2xx body as `T`, or the refusal (4xx) with its problem code.
async fn ok_or_refusal<T: DeserializeOwned>(
    dep: &'static str,
    res: Response,
) -> Result<Result<T, Refusal>, CallError> {
    let status = res.status();
    let text = res
        .text()
        .await
        .map_err(|e| CallError::Unavailable(dep, e.to_string()))?;
    if status.is_success() {
        return serde_json::from_str(&text)
            .map(Ok)
            .map_err(|e| CallError::Unexpected(dep, format!("undecodable {status} body: {e}")));
    }
    let code = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .unwrap_or_default();
    Ok(Err(Refusal { status, code }))
}
