//! SQL of the whatsapp-pricing service.

pub(crate) mod conversations;
pub(crate) mod offers;
pub(crate) mod quotes;
pub(crate) mod tariffs;

/// A fresh, unmigrated database for this crate's tests: SQLite in a new directory, or a new
/// PostgreSQL database when `TEST_DATABASE_URL` is set (dropped with the second value).
#[cfg(test)]
pub(crate) async fn test_db() -> (::store::Db, Option<testkit::TestDatabase>) {
    let dir = std::env::temp_dir().join(format!("wp-{}", ulid::Ulid::generate()));
    let mut env = platform::Env::from_map([("DATA_DIR", dir.to_string_lossy().into_owned())]);
    let pg = testkit::fresh_database().await;
    if let Some(pg) = &pg {
        env.set("DATABASE_URL", pg.url());
    }
    let common = platform::CommonConfig::load(&mut env, "whatsapp-pricing", 4920, true);
    (::store::Db::connect(&common).await.unwrap(), pg)
}
