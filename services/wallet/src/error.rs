//! The wallet's errors, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, FieldError, Problem};

/// Everything a wallet request can end in besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such account (or not visible to the caller's tenant).
    #[error("account {0} not found")]
    AccountNotFound(String),
    /// No such transfer.
    #[error("transfer not found")]
    TransferNotFound,
    /// No reconciliation has run yet.
    #[error("no reconciliation has run yet")]
    NoReconciliation,
    /// The source cannot cover the amount (pending reservations count).
    #[error("account {account_id} has {available} available, {requested} requested")]
    InsufficientFunds {
        /// The short account.
        account_id: String,
        /// Its available balance.
        available: i64,
        /// The amount asked.
        requested: i64,
    },
    /// An account holds another asset than the transfer moves.
    #[error("account {0} does not hold the transfer's asset")]
    AssetMismatch(String),
    /// An account is frozen.
    #[error("account {0} is not active")]
    AccountInactive(String),
    /// The asset is not in the tenant's catalogue.
    #[error("asset {0} is not in this tenant's catalogue")]
    UnknownAsset(String),
    /// The legs net to no movement between two or more accounts.
    #[error("the transfer moves nothing between distinct accounts")]
    InvalidTransfer,
    /// Post or void of a transfer that is not pending.
    #[error("the transfer is {0}, not pending")]
    NotPending(String),
    /// The amount to post exceeds the reservation, or is partial on a multi-leg transfer.
    #[error(
        "a post may take at most the reserved amount, and only two-leg transfers post partially"
    )]
    InvalidPostAmount,
    /// The transfer was reversed before.
    #[error("the transfer was already reversed")]
    AlreadyReversed,
    /// Only posted, non-reversal transfers can be reversed.
    #[error("only a posted transfer that is not itself a reversal can be reversed")]
    NotReversible,
    /// The tenant has no issuance account in the asset.
    #[error("the tenant has no platform account in {0}; provision one first")]
    PlatformAccountMissing(String),
    /// The vendor has no account in the plan's asset.
    #[error("the vendor has no {0} account")]
    VendorAccountMissing(String),
    /// The vendor's current period is paid.
    #[error("the subscription is paid until {0}")]
    SubscriptionActive(String),
    /// No rate for the currency.
    #[error("no exchange rate for {0}")]
    UnknownCurrency(String),
    /// A bad amount to convert.
    #[error("the amount must be a positive decimal such as 1000 or 12.50")]
    InvalidAmount,
    /// Fields that break rules only the service can check.
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    /// A tenant-bound token tried to act for another tenant.
    #[error("this token may not act for that tenant")]
    TenantForbidden,
    /// Money-moving routes need an `Idempotency-Key`.
    #[error("this route requires an Idempotency-Key header (16-255 characters)")]
    IdempotencyKeyMissing,
    /// Same key, different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The first request with this key is still running.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInFlight,
    /// The database cannot be reached.
    #[error("the ledger is unavailable")]
    Unavailable(#[source] store::Error),
    /// Unexpected storage failure.
    #[error("storage failure")]
    Store(#[source] store::Error),
}

store::errors_from_store!(Error);

impl ApiError for Error {
    fn status(&self) -> StatusCode {
        use Error::*;
        match self {
            AccountNotFound(_) | TransferNotFound | NoReconciliation | VendorAccountMissing(_) => {
                StatusCode::NOT_FOUND
            }
            NotPending(_) | AlreadyReversed | SubscriptionActive(_) | IdempotencyInFlight => {
                StatusCode::CONFLICT
            }
            InsufficientFunds { .. }
            | AssetMismatch(_)
            | AccountInactive(_)
            | UnknownAsset(_)
            | InvalidTransfer
            | InvalidPostAmount
            | NotReversible
            | PlatformAccountMissing(_)
            | UnknownCurrency(_)
            | InvalidAmount
            | Invalid(_)
            | IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            TenantForbidden => StatusCode::FORBIDDEN,
            IdempotencyKeyMissing => StatusCode::BAD_REQUEST,
            Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        use Error::*;
        match self {
            AccountNotFound(_) => "wallet.account_not_found",
            TransferNotFound => "wallet.transfer_not_found",
            NoReconciliation => "wallet.reconciliation_not_found",
            InsufficientFunds { .. } => "wallet.insufficient_funds",
            AssetMismatch(_) => "wallet.asset_mismatch",
            AccountInactive(_) => "wallet.account_inactive",
            UnknownAsset(_) => "wallet.unknown_asset",
            InvalidTransfer => "wallet.invalid_transfer",
            NotPending(_) => "wallet.transfer_not_pending",
            InvalidPostAmount => "wallet.invalid_post_amount",
            AlreadyReversed => "wallet.already_reversed",
            NotReversible => "wallet.not_reversible",
            PlatformAccountMissing(_) => "wallet.platform_account_missing",
            VendorAccountMissing(_) => "wallet.vendor_account_missing",
            SubscriptionActive(_) => "wallet.subscription_active",
            UnknownCurrency(_) => "wallet.unknown_currency",
            InvalidAmount => "wallet.invalid_amount",
            Invalid(_) => "wallet.invalid",
            TenantForbidden => "wallet.tenant_forbidden",
            IdempotencyKeyMissing => "wallet.idempotency_key_missing",
            IdempotencyKeyReused => "wallet.idempotency_key_reused",
            IdempotencyInFlight => "wallet.idempotency_in_flight",
            Unavailable(_) => "wallet.unavailable",
            Store(_) => "wallet.internal",
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(e) => e.clone(),
            _ => Vec::new(),
        }
    }
}

impl Error {
    /// The problem body a money operation stores with its idempotency key, so a replay returns
    /// this refusal byte for byte. Only domain outcomes are stored; failures are not.
    pub(crate) fn stored_problem(&self, request_id: Option<&str>) -> (u16, String) {
        let mut p = Problem::new(self.status(), self.code())
            .detail(self.to_string())
            .errors(self.field_errors());
        p.request_id = request_id.map(str::to_owned);
        (p.status, serde_json::to_string(&p).unwrap_or_default())
    }

    /// Whether this is a domain outcome (stored and replayed) rather than a failure.
    pub(crate) fn is_outcome(&self) -> bool {
        !matches!(
            self,
            Self::Store(_) | Self::Unavailable(_) | Self::IdempotencyInFlight
        )
    }
}

impl Error {
    /// A failure, as the group-commit writer's error (it aborts the batch).
    pub(crate) fn into_store(self) -> store::Error {
        match self {
            Self::Store(e) | Self::Unavailable(e) => e,
            Self::IdempotencyInFlight => store::Error::IdempotencyInFlight,
            other => store::Error::Setup(other.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        platform::problem::respond(&self)
    }
}
