//! Profile rules, free of HTTP and SQL.

pub(crate) mod phone;

use contracts::profile::{CreateProfile, UpdateProfile};
use platform::FieldError;

use crate::Error;

/// A validated, normalised new profile.
#[derive(Debug, Clone)]
pub(crate) struct NewProfile {
    pub(crate) tenant_id: String,
    pub(crate) whatsapp_e164: Option<String>,
    pub(crate) wa_user_id: Option<String>,
    pub(crate) display_name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) locale: String,
    pub(crate) roles: Vec<String>,
    pub(crate) metadata: serde_json::Value,
}

/// The changes of an update, normalised; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProfilePatch {
    pub(crate) whatsapp_e164: Option<String>,
    pub(crate) wa_user_id: Option<String>,
    pub(crate) display_name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) locale: Option<String>,
    pub(crate) roles: Option<Vec<String>>,
    pub(crate) metadata: Option<serde_json::Value>,
}

impl ProfilePatch {
    /// Names of the fields this patch sets, for the `profile.updated` event.
    pub(crate) fn changed(&self) -> Vec<String> {
        let fields = [
            ("whatsappE164", self.whatsapp_e164.is_some()),
            ("waUserId", self.wa_user_id.is_some()),
            ("displayName", self.display_name.is_some()),
            ("email", self.email.is_some()),
            ("locale", self.locale.is_some()),
            ("roles", self.roles.is_some()),
            ("metadata", self.metadata.is_some()),
        ];
        fields
            .iter()
            .filter(|(_, set)| *set)
            .map(|(n, _)| (*n).to_owned())
            .collect()
    }
}

fn normalise_phone(raw: Option<String>, cc: &str) -> Result<Option<String>, Error> {
    raw.map(|p| {
        phone::normalise(&p, cc)
            .map_err(|e| Error::Invalid(vec![FieldError::new("/whatsappE164", e.to_string())]))
    })
    .transpose()
}

fn trimmed(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned())
}

/// Roles without repeats, in the order given.
fn dedup_roles(roles: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(roles.len());
    for r in roles {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

impl NewProfile {
    /// Normalises a create request: phone to E.164, e-mail lower-cased, defaults applied.
    pub(crate) fn parse(req: CreateProfile, tenant_id: String, cc: &str) -> Result<Self, Error> {
        Ok(Self {
            tenant_id,
            whatsapp_e164: normalise_phone(req.whatsapp_e164, cc)?,
            wa_user_id: trimmed(req.wa_user_id),
            display_name: trimmed(req.display_name),
            email: req.email.map(|e| e.trim().to_lowercase()),
            locale: req.locale.unwrap_or_else(|| "en".to_owned()),
            roles: dedup_roles(req.roles.unwrap_or_else(|| vec!["buyer".to_owned()])),
            metadata: req
                .metadata
                .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
        })
    }
}

impl ProfilePatch {
    /// Normalises an update request the same way.
    pub(crate) fn parse(req: UpdateProfile, cc: &str) -> Result<Self, Error> {
        Ok(Self {
            whatsapp_e164: normalise_phone(req.whatsapp_e164, cc)?,
            wa_user_id: trimmed(req.wa_user_id),
            display_name: trimmed(req.display_name),
            email: req.email.map(|e| e.trim().to_lowercase()),
            locale: req.locale,
            roles: req.roles.map(dedup_roles),
            metadata: req.metadata,
        })
    }
}

/// `%`, `_` and `\` in user input match themselves in a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_contains(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for ch in needle.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_contains("Aline"), "%aline%");
    }

    #[test]
    fn create_applies_defaults_and_normalises() {
        let req = CreateProfile {
            whatsapp_e164: Some("0781234567".into()),
            email: Some(" Test@Example.COM ".into()),
            roles: Some(vec!["vendor".into(), "vendor".into()]),
            ..Default::default()
        };
        let p = NewProfile::parse(req, "t".into(), "250").unwrap();
        assert_eq!(p.whatsapp_e164.as_deref(), Some("+250781234567"));
        assert_eq!(p.email.as_deref(), Some("test@example.com"));
        assert_eq!(p.locale, "en");
        assert_eq!(p.roles, vec!["vendor"]);
        assert!(p.metadata.is_object());
    }

    #[test]
    fn a_bad_phone_is_a_field_error() {
        let req = CreateProfile {
            whatsapp_e164: Some("12ab".into()),
            ..Default::default()
        };
        match NewProfile::parse(req, "t".into(), "250") {
            Err(Error::Invalid(errs)) => assert_eq!(errs[0].pointer, "/whatsappE164"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
