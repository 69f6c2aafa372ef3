//! The admin-app lists: a tenant's rows newest first, a page at a time, the last row's id being
//! the next page's cursor.

use contracts::buyer::ListQuery;
use platform::Caller;
use store::Exec;

use super::tenant;
use crate::Error;
use crate::state::AppState;
use crate::store::Page;

/// Page size of the lists.
fn page_size(limit: Option<u32>) -> i64 {
    i64::from(limit.unwrap_or(25).clamp(1, 100))
}

/// The `cursor` query, checked.
fn cursor(c: Option<&str>) -> Result<Option<&str>, Error> {
    match c {
        Some(c) if !crate::domain::valid_cursor(c) => Err(Error::InvalidCursor),
        other => Ok(other),
    }
}

/// The page `q` asks for, as `read` fetches it, and the next page's cursor (`None` on the last
/// page). One row more than the page is read to learn whether another page follows.
pub(super) async fn fetch<T>(
    s: &AppState,
    caller: &Caller,
    q: &ListQuery,
    read: impl AsyncFnOnce(Exec<'_>, &Page<'_>) -> Result<Vec<T>, Error>,
    id: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, Option<String>), Error> {
    let tenant = tenant(caller, q.tenant_id.as_deref(), s)?;
    let limit = page_size(q.limit);
    let mut conn = s.db.conn().await?;
    let page = Page {
        tenant: &tenant,
        buyer: q.buyer_id.as_deref(),
        before: cursor(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let mut list = read(conn.exec(), &page).await?;
    let more = i64::try_from(list.len()).unwrap_or(0) > limit;
    list.truncate(usize::try_from(limit).unwrap_or(25));
    let next_cursor = more
        .then(|| list.last().map(|r| id(r).to_owned()))
        .flatten();
    Ok((list, next_cursor))
}
