//! The store's error type.

use sqlx::error::ErrorKind;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A database error not mapped to an outcome.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Could not prepare the database (directory, URL).
    #[error("database setup failed: {0}")]
    Setup(String),
    /// The same `Idempotency-Key` was sent with a different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still being processed.
    #[error("a request with this Idempotency-Key is still being processed; retry later")]
    IdempotencyInFlight,
    /// A job's lease ran out and another worker took it; this worker's effect must not commit.
    #[error("the job's lease was lost to another worker")]
    LeaseLost,
    /// An event could not be serialised.
    #[error("event could not be encoded")]
    Encode(#[from] serde_json::Error),
}

impl Error {
    /// Whether this is a unique-constraint violation (a conflict, not a failure).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e)) if e.kind() == ErrorKind::UniqueViolation)
    }

    /// Whether the database could not be reached (pool exhausted or closed, connection lost):
    /// a 503 the caller may retry, not a 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
            )
        )
    }

    /// Whether this is a foreign-key violation (a reference to something missing).
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e)) if e.kind() == ErrorKind::ForeignKeyViolation)
    }
}

/// Maps constraint violations to domain outcomes at the query site, so a race ends as a 409
/// rather than a 500.
pub trait ResultExt<T> {
    /// A unique violation becomes `f()`.
    fn on_unique<E: From<Error>>(self, f: impl FnOnce() -> E) -> Result<T, E>;
}

impl<T, R: Into<Error>> ResultExt<T> for Result<T, R> {
    fn on_unique<E: From<Error>>(self, f: impl FnOnce() -> E) -> Result<T, E> {
        self.map_err(|e| {
            let e = e.into();
            if e.is_unique_violation() {
                f()
            } else {
                E::from(e)
            }
        })
    }
}

/// Implements `From<store::Error>`, `From<sqlx::Error>` and `From<serde_json::Error>` for a
/// service's error enum, so that every service answers a store failure alike: a reused or
/// in-flight idempotency key as its own variant, an unreachable database as `Unavailable` (503),
/// anything else as `Store` (500). The enum needs the variants `IdempotencyKeyReused`,
/// `IdempotencyInFlight`, `Unavailable(store::Error)` and `Store(store::Error)`.
#[macro_export]
macro_rules! errors_from_store {
    ($error:ty) => {
        impl From<$crate::Error> for $error {
            fn from(e: $crate::Error) -> Self {
                match e {
                    $crate::Error::IdempotencyKeyReused => Self::IdempotencyKeyReused,
                    $crate::Error::IdempotencyInFlight => Self::IdempotencyInFlight,
                    e if e.is_unavailable() => Self::Unavailable(e),
                    e => Self::Store(e),
                }
            }
        }

        impl From<::sqlx::Error> for $error {
            fn from(e: ::sqlx::Error) -> Self {
                Self::from($crate::Error::from(e))
            }
        }

        impl From<::serde_json::Error> for $error {
            fn from(e: ::serde_json::Error) -> Self {
                Self::from($crate::Error::from(e))
            }
        }
    };
}
