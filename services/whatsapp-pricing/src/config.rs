//! The whatsapp-pricing service's own settings.

use platform::Env;

/// Settings read from `WHATSAPP_PRICING_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `WHATSAPP_PRICING_UTC_OFFSET_MINUTES`: offset of the calendar tariff dates are read in
    /// (default 120: Africa/Kigali, which has no daylight saving).
    pub utc_offset_minutes: i32,
}

impl Config {
    pub(crate) fn from_env(env: &mut Env) -> Self {
        let utc_offset_minutes: i32 = env.or(
            "WHATSAPP_PRICING_UTC_OFFSET_MINUTES",
            120,
            "minutes east of UTC of the calendar tariff dates are read in (default 120, Africa/Kigali)",
        );
        env.check(
            (-14 * 60..=14 * 60).contains(&utc_offset_minutes),
            "WHATSAPP_PRICING_UTC_OFFSET_MINUTES must be between -840 and 840",
        );
        Self { utc_offset_minutes }
    }
}
