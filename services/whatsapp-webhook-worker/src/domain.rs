//! Routing rules (spec 3.2, the `wa-webhook-core` router, with issue 4's rules). Pure: no I/O.
//!
//! First match wins: an opt-out keyword; a greeting (home menu, sticky service cleared); an exact
//! menu key (the contact's active service is set); the contact's active service; the AI agents.

use contracts::whatsapp::{Destination, RouteReason};

/// Whole-message greetings (any case): show the home menu.
const GREETINGS: &[&str] = &[
    "hi", "hello", "hey", "hola", "bonjour", "menu", "home", "exit", "start", "help", "?",
];

/// Menu keys (text or interactive reply ids) and where they lead. Mobility, jobs and property
/// are not services of this platform: their keys go to the AI agents, which handle those
/// intents.
const MENU: &[(&[&str], Destination)] = &[
    (
        &[
            "rides",
            "mobility",
            "rides_agent",
            "nearby_drivers",
            "nearby_passengers",
            "schedule_trip",
            "1",
        ],
        Destination::AiAgents,
    ),
    (
        &[
            "insurance",
            "insurance_agent",
            "motor_insurance",
            "insurance_submit",
            "insurance_help",
            "motor_insurance_upload",
            "2",
        ],
        Destination::Pricing,
    ),
    (&["jobs", "jobs_agent", "3"], Destination::AiAgents),
    (
        &[
            "property",
            "property_rentals",
            "property rentals",
            "real_estate_agent",
            "4",
        ],
        Destination::AiAgents,
    ),
    (
        &[
            "wallet",
            "token_transfer",
            "momo_qr",
            "momo qr",
            "momoqr",
            "profile",
            "profile_assets",
            "my_business",
            "my_businesses",
            "my_jobs",
            "my_properties",
            "saved_locations",
            "5",
        ],
        Destination::Profile,
    ),
    (
        &[
            "marketplace",
            "shops_services",
            "buy_and_sell",
            "buy and sell",
            "business_broker_agent",
            "general_broker",
            "6",
        ],
        Destination::Marketplace,
    ),
    (
        &[
            "ai_agents",
            "farmer_agent",
            "sales_agent",
            "support_agent",
            "waiter_agent",
            "waiter",
            "support",
            "customer_support",
            "help",
            "farmers",
            "7",
        ],
        Destination::AiAgents,
    ),
];

/// What processing a message decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// The contact opted out with this keyword; the message is not routed.
    OptOut(String),
    /// Route to `to`; `sticky` is the contact's active service afterwards.
    Route {
        /// Where.
        to: Destination,
        /// Why.
        reason: RouteReason,
        /// The active service to store (`None` clears it).
        sticky: Option<Destination>,
    },
}

/// Lower-cased, trimmed, inner whitespace collapsed.
fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The destination of menu key `key` (already normalized).
fn menu_key(key: &str) -> Option<Destination> {
    MENU.iter()
        .find(|(keys, _)| keys.contains(&key))
        .map(|(_, d)| *d)
}

/// Decides where a message goes. `text` is the routing text (text body or interactive reply
/// id), `active` the contact's sticky service, `opt_out` the configured keywords (lower case).
pub(crate) fn decide(
    text: Option<&str>,
    active: Option<Destination>,
    opt_out: &[String],
) -> Decision {
    let key = text.map(normalize).filter(|t| !t.is_empty());
    if let Some(k) = &key {
        if let Some(word) = opt_out.iter().find(|w| *w == k) {
            return Decision::OptOut(word.to_uppercase());
        }
        if GREETINGS.contains(&k.as_str()) {
            return Decision::Route {
                to: Destination::HomeMenu,
                reason: RouteReason::Greeting,
                sticky: None,
            };
        }
        if let Some(to) = menu_key(k) {
            return Decision::Route {
                to,
                reason: RouteReason::MenuKey,
                sticky: Some(to),
            };
        }
    }
    match active.filter(|d| *d != Destination::HomeMenu) {
        Some(to) => Decision::Route {
            to,
            reason: RouteReason::Sticky,
            sticky: Some(to),
        },
        None => Decision::Route {
            to: Destination::AiAgents,
            reason: RouteReason::Fallback,
            sticky: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop() -> Vec<String> {
        vec!["stop".to_owned()]
    }

    fn to(text: Option<&str>, active: Option<Destination>) -> (Destination, RouteReason) {
        match decide(text, active, &stop()) {
            Decision::Route { to, reason, .. } => (to, reason),
            Decision::OptOut(_) => (Destination::HomeMenu, RouteReason::Greeting),
        }
    }

    #[test]
    fn greetings_win_over_menu_keys_and_clear_the_sticky_service() {
        let d = decide(Some("  HeLLo "), Some(Destination::Pricing), &stop());
        assert_eq!(
            d,
            Decision::Route {
                to: Destination::HomeMenu,
                reason: RouteReason::Greeting,
                sticky: None
            }
        );
        // `help` is both a greeting and an ai-agents key: the greeting wins (spec 3.2).
        assert_eq!(to(Some("help"), None).0, Destination::HomeMenu);
    }

    #[test]
    fn menu_keys_set_the_service_and_external_ones_go_to_the_agents() {
        assert_eq!(
            decide(Some("Insurance"), None, &stop()),
            Decision::Route {
                to: Destination::Pricing,
                reason: RouteReason::MenuKey,
                sticky: Some(Destination::Pricing)
            }
        );
        for key in ["rides", "jobs", "property rentals", "4", "1"] {
            assert_eq!(
                to(Some(key), None),
                (Destination::AiAgents, RouteReason::MenuKey)
            );
        }
        assert_eq!(to(Some("buy   and sell"), None).0, Destination::Marketplace);
        assert_eq!(to(Some("momo_qr"), None).0, Destination::Profile);
    }

    #[test]
    fn the_sticky_service_keeps_free_text_and_media() {
        let active = Some(Destination::Pricing);
        assert_eq!(
            to(Some("RAB 123 A"), active),
            (Destination::Pricing, RouteReason::Sticky)
        );
        assert_eq!(
            to(None, active),
            (Destination::Pricing, RouteReason::Sticky)
        );
        assert_eq!(
            to(Some("I need a moto"), None),
            (Destination::AiAgents, RouteReason::Fallback)
        );
        assert_eq!(
            to(None, None),
            (Destination::AiAgents, RouteReason::Fallback)
        );
    }

    #[test]
    fn opt_out_is_a_whole_message_keyword() {
        assert_eq!(
            decide(Some(" Stop "), None, &stop()),
            Decision::OptOut("STOP".into())
        );
        assert_eq!(to(Some("stop the car"), None).1, RouteReason::Fallback);
    }
}
