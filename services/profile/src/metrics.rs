//! Business metrics of the profile service.

/// A profile was created, updated or deleted.
pub(crate) fn profile_changed(action: &'static str) {
    metrics::counter!("profile_changes_total", "service" => "profile", "action" => action)
        .increment(1);
}
