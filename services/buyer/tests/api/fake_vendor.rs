//! A small fake of the vendor service's quote API (`crates/contracts/src/vendor.rs`): quotes
//! held in memory; accept is a conditional update, idempotent per `purchaseId`, 409
//! `vendor.quote_not_pending` otherwise. The lead's `crates/e2e` runs the real vendor.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use contracts::vendor::{AcceptQuote, Quote, QuoteStatus};
use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[derive(Default)]
struct State {
    quotes: Mutex<HashMap<String, Quote>>,
    /// Accept answers 503 while set (a vendor outage).
    down: AtomicBool,
    /// Accept answers 409 for these quotes although GET still says pending (bought meanwhile).
    taken: Mutex<Vec<String>>,
    accepts: AtomicU32,
}

pub struct FakeVendor {
    pub server: MockServer,
    state: Arc<State>,
}

struct Handler(Arc<State>);

fn quote_id(req: &Request) -> String {
    req.url
        .path()
        .trim_start_matches("/quotes/")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let authorized = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer "));
        if !authorized {
            return ResponseTemplate::new(401).set_body_json(json!({"code": "auth.missing_token"}));
        }
        let id = quote_id(req);
        let s = &self.0;
        let mut quotes = s.quotes.lock().unwrap();
        let Some(q) = quotes.get_mut(&id) else {
            return ResponseTemplate::new(404)
                .set_body_json(json!({"code": "vendor.quote_not_found"}));
        };
        if req.method.as_str() == "GET" {
            return ResponseTemplate::new(200).set_body_json(&*q);
        }
        s.accepts.fetch_add(1, Ordering::SeqCst);
        if s.down.load(Ordering::SeqCst) {
            return ResponseTemplate::new(503).set_body_json(json!({"code": "vendor.unavailable"}));
        }
        let body: AcceptQuote = serde_json::from_slice(&req.body).unwrap();
        let taken = s.taken.lock().unwrap().contains(&id);
        let same = q.purchase_id.as_deref() == Some(body.purchase_id.as_str());
        if q.status == QuoteStatus::Accepted && same {
            return ResponseTemplate::new(200).set_body_json(&*q);
        }
        if q.status != QuoteStatus::Pending || taken {
            return ResponseTemplate::new(409)
                .set_body_json(json!({"code": "vendor.quote_not_pending"}));
        }
        q.status = QuoteStatus::Accepted;
        q.purchase_id = Some(body.purchase_id);
        q.accepted_at = Some(Utc::now());
        ResponseTemplate::new(200).set_body_json(&*q)
    }
}

impl FakeVendor {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(State::default());
        Mock::given(method("GET"))
            .and(path_regex(r"^/quotes/[^/]+$"))
            .respond_with(Handler(Arc::clone(&state)))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/quotes/[^/]+/accept$"))
            .respond_with(Handler(Arc::clone(&state)))
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// A pending quote of `vendor` for `intent`, expiring in an hour.
    pub fn quote(&self, tenant: &str, intent: &str, vendor: &str, amount: i64) -> String {
        let id = ulid::Ulid::generate().to_string();
        let now = Utc::now();
        let q = Quote {
            id: id.clone(),
            tenant_id: tenant.to_owned(),
            intent_id: intent.to_owned(),
            vendor_id: vendor.to_owned(),
            amount_minor: amount,
            currency: "TOKEN".to_owned(),
            eta_minutes: Some(10),
            status: QuoteStatus::Pending,
            purchase_id: None,
            expires_at: now + chrono::Duration::hours(1),
            created_at: now,
            accepted_at: None,
        };
        self.state.quotes.lock().unwrap().insert(id.clone(), q);
        id
    }

    pub fn get(&self, id: &str) -> Quote {
        self.state.quotes.lock().unwrap()[id].clone()
    }

    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Another purchase took the quote: accept answers 409 from now on.
    pub fn take(&self, id: &str) {
        self.state.taken.lock().unwrap().push(id.to_owned());
    }

    /// Accept calls received.
    pub fn accepts(&self) -> u32 {
        self.state.accepts.load(Ordering::SeqCst)
    }
}
