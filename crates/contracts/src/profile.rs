//! The profile service (port 4001): WhatsApp users, their locale and roles, saved places.

use chrono::{DateTime, Utc};
use platform::{Validate, Validator};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Event: a profile was created.
pub const PROFILE_CREATED: &str = "profile.created";
/// Event: a profile changed (or was deleted).
pub const PROFILE_UPDATED: &str = "profile.updated";

/// Roles a profile may hold.
pub const ROLES: &[&str] = &[
    "buyer", "vendor", "driver", "rider", "agent", "endorser", "admin",
];

/// A user profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Profile id (ULID).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// WhatsApp number in E.164, when Meta shows one.
    pub whatsapp_e164: Option<String>,
    /// WhatsApp business-scoped user id, for contacts known without a number.
    pub wa_user_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// E-mail, lower-cased.
    pub email: Option<String>,
    /// BCP 47 language tag (`en`, `rw`, `fr-RW`).
    pub locale: String,
    /// Roles held.
    pub roles: Vec<String>,
    /// Free-form data (at most 4 KiB as JSON).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/profiles`. At least one WhatsApp identity is required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProfile {
    /// Tenant; defaults to the token's tenant, else `DEFAULT_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// Phone number: E.164, or a local number normalised with the default country code.
    pub whatsapp_e164: Option<String>,
    /// WhatsApp business-scoped user id.
    pub wa_user_id: Option<String>,
    /// Display name (`name` is accepted for callers of the original API).
    #[serde(alias = "name")]
    pub display_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Locale; default `en`.
    pub locale: Option<String>,
    /// Roles; default `["buyer"]`.
    pub roles: Option<Vec<String>>,
    /// Free-form data.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// Body of `PUT`/`PATCH /api/v1/profiles/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProfile {
    /// New phone number.
    pub whatsapp_e164: Option<String>,
    /// New business-scoped user id.
    pub wa_user_id: Option<String>,
    /// New display name.
    #[serde(alias = "name")]
    pub display_name: Option<String>,
    /// New e-mail.
    pub email: Option<String>,
    /// New locale.
    pub locale: Option<String>,
    /// New roles (replace the old ones).
    pub roles: Option<Vec<String>>,
    /// New metadata (replaces the old).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// Query of `GET /api/v1/profiles/search`: filters combine with AND.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchProfiles {
    /// Tenant; defaults as for create.
    pub tenant_id: Option<String>,
    /// Exact phone (normalised like on create).
    pub phone: Option<String>,
    /// Exact business-scoped user id.
    pub wa_user_id: Option<String>,
    /// Case-insensitive substring of the display name.
    pub name: Option<String>,
    /// Case-insensitive substring of the e-mail.
    pub email: Option<String>,
    /// Page size, 1 to 100; default 20.
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of profiles, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePage {
    /// The profiles.
    pub profiles: Vec<Profile>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A saved place (home, work) agents reuse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedLocation {
    /// Location id (ULID).
    pub id: String,
    /// Owning profile.
    pub profile_id: String,
    /// Label, unique per profile.
    pub label: String,
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// Postal address or landmark.
    pub address: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/profiles/{id}/locations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLocation {
    /// Label, 1 to 50 characters.
    pub label: String,
    /// Latitude, -90 to 90.
    pub latitude: f64,
    /// Longitude, -180 to 180.
    pub longitude: f64,
    /// Address, at most 500 characters.
    pub address: Option<String>,
}

/// The locations of a profile, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LocationList {
    /// The locations.
    pub locations: Vec<SavedLocation>,
}

/// Payload of [`PROFILE_CREATED`] and [`PROFILE_UPDATED`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileChanged {
    /// The profile after the change.
    pub profile: Profile,
    /// Fields that changed (empty on create).
    pub changed: Vec<String>,
    /// True when the profile was deleted.
    #[serde(default)]
    pub deleted: bool,
}

const METADATA_MAX_BYTES: usize = 4096;

fn common_rules(
    v: &mut Validator,
    display_name: Option<&str>,
    email: Option<&str>,
    locale: Option<&str>,
    roles: Option<&[String]>,
    metadata: Option<&serde_json::Value>,
    wa_user_id: Option<&str>,
) {
    v.len(display_name, "/displayName", 1, 255);
    v.len(wa_user_id, "/waUserId", 1, 128);
    if let Some(e) = email {
        v.check(is_email(e), "/email", "must be an e-mail address");
    }
    if let Some(l) = locale {
        v.check(
            is_locale(l),
            "/locale",
            "must be a language tag such as en or fr-RW",
        );
    }
    if let Some(roles) = roles {
        v.check(!roles.is_empty(), "/roles", "must hold at least one role");
        for (i, r) in roles.iter().enumerate() {
            v.check(
                ROLES.contains(&r.as_str()),
                &format!("/roles/{i}"),
                &format!("must be one of {}", ROLES.join(", ")),
            );
        }
    }
    if let Some(m) = metadata {
        v.check(m.is_object(), "/metadata", "must be an object");
        v.check(
            m.to_string().len() <= METADATA_MAX_BYTES,
            "/metadata",
            "must be at most 4096 bytes as JSON",
        );
    }
}

/// A pragmatic e-mail check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// `en`, `rw`, `fr-RW`, `zh-Hant-TW`: 2-3 letter language, then 2-8 alphanumeric subtags.
pub fn is_locale(s: &str) -> bool {
    let mut parts = s.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    lang_ok
        && s.len() <= 35
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

impl Validate for CreateProfile {
    fn validate(&self, v: &mut Validator) {
        v.check(
            self.whatsapp_e164.is_some() || self.wa_user_id.is_some(),
            "/whatsappE164",
            "a profile needs whatsappE164 or waUserId",
        );
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        common_rules(
            v,
            self.display_name.as_deref(),
            self.email.as_deref(),
            self.locale.as_deref(),
            self.roles.as_deref(),
            self.metadata.as_ref(),
            self.wa_user_id.as_deref(),
        );
    }
}

impl Validate for UpdateProfile {
    fn validate(&self, v: &mut Validator) {
        let any = self.whatsapp_e164.is_some()
            || self.wa_user_id.is_some()
            || self.display_name.is_some()
            || self.email.is_some()
            || self.locale.is_some()
            || self.roles.is_some()
            || self.metadata.is_some();
        v.check(any, "", "at least one field must be provided for update");
        common_rules(
            v,
            self.display_name.as_deref(),
            self.email.as_deref(),
            self.locale.as_deref(),
            self.roles.as_deref(),
            self.metadata.as_ref(),
            self.wa_user_id.as_deref(),
        );
    }
}

impl Validate for SearchProfiles {
    fn validate(&self, v: &mut Validator) {
        if let Some(l) = self.limit {
            v.check((1..=100).contains(&l), "limit", "must be 1 to 100");
        }
        v.len(self.name.as_deref(), "name", 1, 255);
        v.len(self.email.as_deref(), "email", 1, 254);
        v.len(self.cursor.as_deref(), "cursor", 1, 64);
    }
}

impl Validate for CreateLocation {
    fn validate(&self, v: &mut Validator) {
        v.len(Some(self.label.trim()), "/label", 1, 50);
        v.check(
            self.latitude.is_finite() && (-90.0..=90.0).contains(&self.latitude),
            "/latitude",
            "must be between -90 and 90",
        );
        v.check(
            self.longitude.is_finite() && (-180.0..=180.0).contains(&self.longitude),
            "/longitude",
            "must be between -180 and 180",
        );
        v.len(self.address.as_deref(), "/address", 0, 500);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors<T: Validate>(t: &T) -> Vec<String> {
        let mut v = Validator::default();
        t.validate(&mut v);
        v.finish()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.pointer)
            .collect()
    }

    #[test]
    fn create_needs_an_identity_and_checks_every_field() {
        assert_eq!(errors(&CreateProfile::default()), vec!["/whatsappE164"]);
        let bad = CreateProfile {
            wa_user_id: Some("RW.123".into()),
            email: Some("not-an-email".into()),
            locale: Some("english!".into()),
            roles: Some(vec!["buyer".into(), "king".into()]),
            ..Default::default()
        };
        assert_eq!(errors(&bad), vec!["/email", "/locale", "/roles/1"]);
    }

    #[test]
    fn update_needs_at_least_one_field() {
        assert_eq!(errors(&UpdateProfile::default()), vec![""]);
        let ok = UpdateProfile {
            display_name: Some("Aline".into()),
            ..Default::default()
        };
        assert!(errors(&ok).is_empty());
    }

    #[test]
    fn search_limit_is_bounded() {
        let s = SearchProfiles {
            limit: Some(150),
            ..Default::default()
        };
        assert_eq!(errors(&s), vec!["limit"]);
        assert!(errors(&SearchProfiles::default()).is_empty());
    }

    #[test]
    fn locations_follow_the_original_rules() {
        let home = CreateLocation {
            label: "home".into(),
            latitude: -1.9536,
            longitude: 30.1047,
            address: Some("Kigali, Rwanda".into()),
        };
        assert!(errors(&home).is_empty());
        let bad = CreateLocation {
            label: String::new(),
            latitude: 100.0,
            longitude: 200.0,
            address: None,
        };
        assert_eq!(errors(&bad), vec!["/label", "/latitude", "/longitude"]);
    }

    #[test]
    fn locales_and_emails() {
        assert!(is_locale("en") && is_locale("fr-RW") && is_locale("zh-Hant-TW"));
        assert!(!is_locale("e") && !is_locale("en_US"));
        assert!(is_email("test@example.com"));
        assert!(!is_email("a@b") && !is_email("a b@c.d") && !is_email("@c.d"));
    }
}
