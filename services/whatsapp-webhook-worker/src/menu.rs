//! The home menu the worker itself sends when a greeting clears the contact's active service
//! (spec 3.2): an interactive list whose row ids are the router's menu keys, so a tap routes like
//! typing the key.

use contracts::whatsapp::{ListRow, ListSection, OutboundContent};

/// Row id (a menu key of `domain`) and title, in display order: spec 3.2's fallback rows.
const ROWS: &[(&str, &str)] = &[
    ("rides", "Rides"),
    ("insurance", "Insurance"),
    ("jobs", "Jobs"),
    ("property", "Property"),
    ("wallet", "Wallet"),
    ("marketplace", "Marketplace"),
    ("ai_agents", "AI Agents"),
];

/// The home menu.
pub(crate) fn home() -> OutboundContent {
    OutboundContent::List {
        header: Some("easyMO Services".to_owned()),
        body: "✨ Hello 👋 Do more with easyMO, Rides, Shops, MOMO QR codes ..and more.".to_owned(),
        button: "View Services".to_owned(),
        footer: None,
        sections: vec![ListSection {
            title: "Services".to_owned(),
            rows: ROWS
                .iter()
                .map(|(id, title)| ListRow {
                    id: (*id).to_owned(),
                    title: (*title).to_owned(),
                    description: None,
                })
                .collect(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{self, Decision};

    #[test]
    fn every_row_routes_like_its_key_and_meta_accepts_the_list() {
        for (id, _) in ROWS {
            let d = domain::decide(Some(id), None, &[]);
            assert!(
                matches!(d, Decision::Route { ref reason, .. } if *reason == contracts::whatsapp::RouteReason::MenuKey),
                "{id}: {d:?}"
            );
        }
        let to = whatsapp::ContactId::from_parts(Some("250788000001"), [None]).unwrap();
        assert!(crate::outbound::build(&home(), None, to).is_ok());
    }
}
