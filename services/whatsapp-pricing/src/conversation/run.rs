//! The I/O around the pure [`super::step`]: routed WhatsApp messages and payment events applied
//! once each (inbox) in one transaction with the conversation's versioned write and the jobs
//! that carry out its effects; replies sent by a job through the worker's `POST /v1/messages`
//! (never inside a transaction, with an `Idempotency-Key` derived from the input and the reply's
//! position); documents read by a job (media through the worker's `GET /v1/media/{id}`, the
//! vision model through `llm`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bus::{Envelope, HandlerError, Subscription};
use chrono::{Datelike, Utc};
use contracts::payments::{COLLECTION_SUCCEEDED, CollectionSucceeded};
use contracts::whatsapp::{Destination, MESSAGE_ROUTED, MessageRouted, Recipient, SendMessage};
use llm::{JsonRequest, LlmClient, LlmConfig, LlmError, Message, Part};
use platform::Ctx;
use platform::auth::JwtKeys;
use platform::client::{ClientConfig, HttpClient};
use platform::health::Check;
use pricing::{Insurer, quote_all};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use store::jobs::{self, Job, JobError, NewJob, Retry, WorkerConfig};
use store::{Tx, inbox};

use super::vehicle::{SYSTEM_PROMPT, USER_PROMPT, VehicleDoc};
use super::{Conversation, Effect, Inbound, Input, Media, Settings, Stage, step};
use crate::state::AppState;
use crate::store::conversations::{self as rows, Key, Payment};
use crate::{Config, Error, domain, metrics};

/// The consumer name in the inbox and the bus group.
pub(crate) const CONSUMER: &str = "whatsapp-pricing";
/// Replies waiting to be handed to the worker.
pub(crate) const SEND_QUEUE: &str = "whatsapp-pricing.send";
/// Documents waiting to be read.
pub(crate) const OCR_QUEUE: &str = "whatsapp-pricing.ocr";
/// The worker's service name (token audience).
const WORKER: &str = "whatsapp-webhook-worker";
/// Writes retried after losing a version race before the input is handed back for redelivery.
const MAX_RACES: u32 = 5;

/// A reply to hand to the worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendJob {
    idempotency_key: String,
    message: SendMessage,
}

/// Documents to read for one conversation.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OcrJob {
    key: Key,
    extraction: u32,
    media: Vec<Media>,
}

/// What carries out effects: the worker, the model, the keys that sign calls.
pub(crate) struct Io {
    worker: HttpClient,
    llm: Option<LlmClient>,
    keys: JwtKeys,
    settings: Settings,
    send_retry: Retry,
    ocr_retry: Retry,
    ocr_max_bytes: usize,
}

/// The conversation's handle: cheap to clone.
#[derive(Clone)]
pub(crate) struct Runner {
    state: AppState,
    io: Arc<Io>,
}

impl Runner {
    /// Builds the clients (the vision model only with a key).
    pub(crate) fn new(state: AppState, config: &Config, keys: JwtKeys) -> anyhow::Result<Self> {
        let worker = HttpClient::new(
            WORKER,
            &config.worker_url,
            ClientConfig {
                timeout: config.worker_timeout,
                ..ClientConfig::default()
            },
        )?;
        let llm = match &config.ocr_api_key {
            Some(key) => {
                let mut c = LlmConfig::new(&config.ocr_base_url, key.clone(), &config.ocr_model);
                c.timeout = config.ocr_timeout;
                Some(LlmClient::new("vision-model", c)?)
            }
            None => None,
        };
        Ok(Self {
            io: Arc::new(Io {
                worker,
                llm,
                keys,
                settings: Settings {
                    ocr: config.ocr_api_key.is_some(),
                    idle: config.idle_timeout,
                    max_documents: 4,
                },
                send_retry: Retry::Exponential {
                    base: Duration::from_secs(1),
                    cap: Duration::from_secs(300),
                    max_attempts: 10,
                },
                ocr_retry: Retry::Exponential {
                    base: Duration::from_secs(2),
                    cap: Duration::from_secs(60),
                    max_attempts: config.ocr_attempts,
                },
                ocr_max_bytes: config.ocr_max_bytes,
            }),
            state,
        })
    }

    /// Readiness: the worker's breaker, and the vision model's (or `ocr` degraded when none is
    /// configured: the service still quotes from typed facts).
    pub(crate) fn checks(&self) -> Vec<Check> {
        let mut checks = vec![self.io.worker.check()];
        match &self.io.llm {
            Some(llm) => checks.push(llm.http().check()),
            None => checks.push(
                Check::new("ocr", || async {
                    Err(
                        "disabled: no WHATSAPP_PRICING_OCR_API_KEY, users type their vehicle facts"
                            .to_owned(),
                    )
                })
                .optional(),
            ),
        }
        checks
    }

    /// Subscribes to routed messages and payments, and works the send and OCR queues.
    pub(crate) fn start(&self, ctx: &Ctx) {
        if self.io.llm.is_none() {
            tracing::warn!(
                "document reading disabled: WHATSAPP_PRICING_OCR_API_KEY is not set; users will be asked to type their vehicle facts"
            );
        }
        let r = self.clone();
        let handler = bus::handler(move |event: Envelope| {
            let r = r.clone();
            async move {
                r.on_event(&event)
                    .await
                    .map_err(|e| Box::new(e) as HandlerError)
            }
        });
        let task = ctx.bus.subscribe(
            Subscription::new(CONSUMER, &[MESSAGE_ROUTED, COLLECTION_SUCCEEDED]),
            handler,
            ctx.shutdown.clone(),
        );
        ctx.spawn("whatsapp-pricing-conversation", async move {
            task.await?;
            Ok(())
        });
        let r = self.clone();
        let mut send = WorkerConfig::new(SEND_QUEUE, self.io.send_retry.clone());
        // One at a time: replies leave in the order they were decided.
        send.concurrency = 1;
        jobs::spawn_worker(
            ctx,
            self.state.db.clone(),
            send,
            jobs::handler(move |job| {
                let r = r.clone();
                async move { r.send(job).await }
            }),
        );
        let r = self.clone();
        let mut ocr = WorkerConfig::new(OCR_QUEUE, self.io.ocr_retry.clone());
        ocr.concurrency = 2;
        ocr.lease = self.io.ocr_lease();
        jobs::spawn_worker(
            ctx,
            self.state.db.clone(),
            ocr,
            jobs::handler(move |job| {
                let r = r.clone();
                async move { r.read(job).await }
            }),
        );
    }

    /// A token for the worker: send and read media, not bound to a tenant (media ids are not).
    fn token(&self) -> Result<String, Error> {
        self.io
            .keys
            .mint(
                CONSUMER,
                WORKER,
                &["whatsapp:send", "whatsapp:media.read"],
                None,
                Duration::from_secs(300),
            )
            .map_err(|e| Error::Dependency(format!("cannot sign a worker token: {e}")))
    }

    async fn on_event(&self, e: &Envelope) -> Result<(), Error> {
        match e.kind.as_str() {
            MESSAGE_ROUTED => {
                let m: MessageRouted = match e.payload() {
                    Ok(m) => m,
                    Err(err) => {
                        tracing::warn!(event_id = %e.id, error = %err, "malformed routed message ignored");
                        metrics::conversation_input("message", "malformed");
                        return Ok(());
                    }
                };
                if m.service != Destination::Pricing {
                    return Ok(());
                }
                let key = Key {
                    tenant_id: m.tenant_id.clone(),
                    kind: m.contact.kind.clone(),
                    id: m.contact.id.clone(),
                };
                let input = Input::Message(inbound(&m));
                let outcome = self.apply(&key, Source::Event(&e.id), input).await?;
                metrics::conversation_input("message", outcome);
                Ok(())
            }
            COLLECTION_SUCCEEDED => {
                let p: CollectionSucceeded = match e.payload() {
                    Ok(p) => p,
                    Err(err) => {
                        tracing::warn!(event_id = %e.id, error = %err, "malformed payment event ignored");
                        metrics::payment("malformed");
                        return Ok(());
                    }
                };
                let outcome = self.paid(&e.id, &p).await?;
                metrics::payment(outcome);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Steps `key`'s conversation with `input` and stores the result with its effects' jobs, in
    /// one transaction; a lost version race retries from a fresh read.
    async fn apply(
        &self,
        key: &Key,
        source: Source<'_>,
        input: Input,
    ) -> Result<&'static str, Error> {
        for _ in 0..MAX_RACES {
            let book = self.state.book.current(&self.state.db).await?;
            let mut tx = self.state.db.begin().await?;
            if let Source::Event(id) = source
                && !inbox::first_time(&mut tx, CONSUMER, id).await?
            {
                return Ok("duplicate");
            }
            let loaded = rows::load(&mut tx, key).await?;
            let before = loaded.conversation.stage;
            let (conv, fx) = self
                .run_effects(&mut tx, &book, key, &loaded.conversation, input.clone())
                .await?;
            let now = Utc::now();
            if conv.conversation != loaded.conversation
                && !rows::save(&mut tx, key, &conv.conversation, loaded.version, now).await?
            {
                metrics::conversation_race();
                continue;
            }
            self.enqueue(&mut tx, key, &source.tag(), &fx, now).await?;
            if let Source::Job(job) = source {
                jobs::complete(&mut tx, job).await?;
            }
            tx.commit().await?;
            for (insurer, outcome) in conv.offers {
                metrics::quote_offer(insurer, outcome);
            }
            let after = conv.conversation.stage;
            if before != after {
                tracing::info!(contact = %platform::pii::mask_phone(&key.id), from = before.as_str(), to = after.as_str(), "conversation moved");
            }
            return Ok("applied");
        }
        Err(Error::Contended)
    }

    /// Steps, then carries out the effects that are local to the database (pricing) and steps
    /// again with their results; the sends and readings are returned to be queued.
    async fn run_effects(
        &self,
        tx: &mut Tx,
        book: &pricing::TariffBook,
        key: &Key,
        conv: &Conversation,
        input: Input,
    ) -> Result<(Stepped, Vec<Effect>), Error> {
        let now = Utc::now();
        let (mut next, mut pending) = step(conv, input, now, &self.io.settings);
        let mut out = Vec::new();
        let mut offers = Vec::new();
        while !pending.is_empty() {
            let mut later = Vec::new();
            for effect in pending {
                match effect {
                    Effect::Price(req) => {
                        let result = match domain::parse_input(&req) {
                            Ok(input) => {
                                let today = self.state.today();
                                let priced = quote_all(&book.in_force(today), &input);
                                let json = serde_json::to_value(input.get())?;
                                let q = crate::http::quotes::store_comparison(
                                    tx,
                                    &key.tenant_id,
                                    today,
                                    json,
                                    &priced,
                                )
                                .await?;
                                for (insurer, offer) in Insurer::ALL.into_iter().zip(&priced) {
                                    offers.push((insurer.as_str(), domain::outcome(offer)));
                                }
                                Input::Priced(q)
                            }
                            Err(Error::Invalid(errors)) => Input::PricingRefused(
                                errors
                                    .iter()
                                    .map(|e| e.detail.clone())
                                    .collect::<Vec<_>>()
                                    .join("; "),
                            ),
                            Err(e) => return Err(e),
                        };
                        let (after, more) = step(&next, result, now, &self.io.settings);
                        next = after;
                        later.extend(more);
                    }
                    other => out.push(other),
                }
            }
            pending = later;
        }
        Ok((
            Stepped {
                conversation: next,
                offers,
            },
            out,
        ))
    }

    /// Queues each reply (keyed by the input and its position) and each reading.
    async fn enqueue(
        &self,
        tx: &mut Tx,
        key: &Key,
        tag: &str,
        fx: &[Effect],
        now: chrono::DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut n: i64 = 0;
        for effect in fx {
            match effect {
                Effect::Send(content) => {
                    let idempotency_key = format!("wp:{tag}:{n}");
                    let to = if key.kind == "phone" {
                        Recipient {
                            phone: Some(key.id.clone()),
                            user_id: None,
                        }
                    } else {
                        Recipient {
                            phone: None,
                            user_id: Some(key.id.clone()),
                        }
                    };
                    let payload = SendJob {
                        message: SendMessage {
                            tenant_id: Some(key.tenant_id.clone()),
                            to,
                            message: content.clone(),
                            reply_to: None,
                        },
                        idempotency_key: idempotency_key.clone(),
                    };
                    let mut job = NewJob::new(SEND_QUEUE, &payload, &self.io.send_retry)?;
                    job.dedupe_key = Some(&idempotency_key);
                    // Staggered so the queue (ordered by run_at) keeps the replies' order.
                    job.run_at = Some(now + chrono::Duration::milliseconds(n));
                    jobs::enqueue(tx, &job).await?;
                    n += 1;
                }
                Effect::Extract { extraction, media } => {
                    let dedupe =
                        format!("ocr:{}:{}:{}:{extraction}", key.tenant_id, key.kind, key.id);
                    let payload = OcrJob {
                        key: key.clone(),
                        extraction: *extraction,
                        media: media.clone(),
                    };
                    let mut job = NewJob::new(OCR_QUEUE, &payload, &self.io.ocr_retry)?;
                    job.dedupe_key = Some(&dedupe);
                    jobs::enqueue(tx, &job).await?;
                }
                Effect::Price(_) => {}
            }
        }
        Ok(())
    }

    /// A collection: recorded once per provider transaction; the conversation awaiting its
    /// reference moves to paid when the amount and currency match.
    async fn paid(&self, event_id: &str, p: &CollectionSucceeded) -> Result<&'static str, Error> {
        for _ in 0..MAX_RACES {
            let mut tx = self.state.db.begin().await?;
            if !inbox::first_time(&mut tx, CONSUMER, event_id).await? {
                return Ok("duplicate");
            }
            let found = rows::by_reference(&mut tx, &p.tenant_id, &p.reference).await?;
            let now = Utc::now();
            let (outcome, contact, write) = match found {
                None => ("unmatched", None, None),
                Some((key, loaded)) => {
                    let conv = &loaded.conversation;
                    let outcome = if conv.stage == Stage::Paid {
                        "already_paid"
                    } else if p.currency != "RWF"
                        || conv.selected.as_ref().map(|s| s.total) != Some(p.amount)
                    {
                        "amount_mismatch"
                    } else {
                        "paid"
                    };
                    let id = key.id.clone();
                    (outcome, Some(id), Some((key, loaded)))
                }
            };
            let fresh = rows::record_payment(
                &mut tx,
                &Payment {
                    event: p,
                    outcome,
                    contact_id: contact.as_deref(),
                },
                now,
            )
            .await?;
            if !fresh {
                tx.commit().await?;
                return Ok("duplicate_transaction");
            }
            if let (Some((key, loaded)), "paid") = (write, outcome) {
                let input = Input::Paid {
                    reference: p.reference.clone(),
                    amount: p.amount,
                };
                let (next, fx) = step(&loaded.conversation, input, now, &self.io.settings);
                if !rows::save(&mut tx, &key, &next, loaded.version, now).await? {
                    metrics::conversation_race();
                    continue;
                }
                self.enqueue(&mut tx, &key, &format!("pay:{event_id}"), &fx, now)
                    .await?;
            } else {
                tracing::warn!(reference = %p.reference, amount = p.amount, outcome, "collection not applied to a conversation");
            }
            tx.commit().await?;
            return Ok(outcome);
        }
        Err(Error::Contended)
    }

    /// The send job: hands one reply to the worker. Sent, or refused for good (opted out,
    /// outside the service window, invalid) = done; anything else is retried.
    async fn send(&self, job: Job) -> Result<(), JobError> {
        let p: SendJob = job.payload()?;
        let token = self.token()?;
        let req = self
            .io
            .worker
            .request(Method::POST, "/v1/messages")
            .bearer_auth(token)
            .header("idempotency-key", &p.idempotency_key)
            .json(&p.message);
        let res = match self.io.worker.send(req).await {
            Ok(res) => res,
            Err(e) => {
                metrics::reply("retried");
                return Err(Box::new(e));
            }
        };
        let status = res.status();
        if status.is_success() {
            metrics::reply("queued");
            return Ok(());
        }
        let body = res.text().await.unwrap_or_default();
        let retryable = status.is_server_error()
            || matches!(
                status,
                StatusCode::CONFLICT
                    | StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::REQUEST_TIMEOUT
                    | StatusCode::UNAUTHORIZED
                    | StatusCode::FORBIDDEN
            );
        if retryable {
            metrics::reply("retried");
            Err(format!("worker answered {status}: {body}").into())
        } else {
            metrics::reply("refused");
            tracing::warn!(status = status.as_u16(), body = %body, job_id = %job.id, "worker refused a reply; not retried");
            Ok(())
        }
    }

    /// The OCR job: reads the documents and steps the conversation with what was read (or with
    /// the failure, so the user is asked to type the facts), completing the job in the same
    /// transaction.
    async fn read(&self, job: Job) -> Result<(), JobError> {
        let p: OcrJob = job.payload()?;
        let input = match &self.io.llm {
            None => Input::ExtractionFailed {
                extraction: p.extraction,
            },
            Some(llm) => {
                let started = Instant::now();
                let result = self.extract(llm, &p.media).await;
                let outcome = match &result {
                    Ok(_) => "ok",
                    Err(e) => e.code(),
                };
                metrics::ocr(started.elapsed(), outcome);
                match result {
                    Ok(doc) => Input::Extracted {
                        extraction: p.extraction,
                        doc,
                    },
                    Err(e) if e.transient() && job.attempts < job.max_attempts => {
                        return Err(Box::new(e));
                    }
                    Err(e) => {
                        tracing::warn!(job_id = %job.id, error = %e, "document not read; asking the user to type the facts");
                        Input::ExtractionFailed {
                            extraction: p.extraction,
                        }
                    }
                }
            }
        };
        self.apply(&p.key, Source::Job(&job), input).await?;
        Ok(())
    }

    async fn extract(&self, llm: &LlmClient, media: &[Media]) -> Result<VehicleDoc, OcrError> {
        let mut parts = vec![Part::Text(USER_PROMPT.to_owned())];
        for m in media {
            let (mime, bytes) = self.fetch(m).await?;
            parts.push(Part::Image { mime, bytes });
        }
        let mut req = JsonRequest::new(vec![
            Message::System(SYSTEM_PROMPT.to_owned()),
            Message::User(parts),
        ]);
        req.schema = Some(("vehicle_document".to_owned(), VehicleDoc::json_schema()));
        req.max_tokens = Some(800);
        let answer = llm
            .complete::<VehicleDoc>(&req)
            .await
            .map_err(OcrError::Model)?;
        let doc = answer.value;
        doc.check(Utc::now().year()).map_err(OcrError::Invalid)?;
        Ok(doc)
    }

    /// One document from the worker: `(mime, bytes)`; only images can be read.
    async fn fetch(&self, m: &Media) -> Result<(String, Vec<u8>), OcrError> {
        let token = self
            .token()
            .map_err(|e| OcrError::Media(e.to_string(), false))?;
        let path = format!("/v1/media/{}", m.id);
        let req = self
            .io
            .worker
            .request(Method::GET, &path)
            .bearer_auth(token);
        let res = self
            .io
            .worker
            .send(req)
            .await
            .map_err(|e| OcrError::Media(e.to_string(), true))?;
        let status = res.status();
        if !status.is_success() {
            let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
            return Err(OcrError::Media(
                format!("worker answered {status}"),
                transient,
            ));
        }
        let mime = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
            .or_else(|| m.mime.clone())
            .unwrap_or_default();
        if !matches!(
            mime.as_str(),
            "image/jpeg" | "image/png" | "image/webp" | "image/gif"
        ) {
            return Err(OcrError::Unsupported(mime));
        }
        let bytes = res
            .bytes()
            .await
            .map_err(|e| OcrError::Media(e.to_string(), true))?;
        if bytes.len() > self.io.ocr_max_bytes {
            return Err(OcrError::Unsupported(format!("{} bytes", bytes.len())));
        }
        Ok((mime, bytes.to_vec()))
    }
}

impl Io {
    /// A reading job's lease: longer than its worst case (fetches plus model attempts).
    fn ocr_lease(&self) -> Duration {
        Duration::from_secs(300)
    }
}

/// The result of stepping and pricing: the next conversation and the offers priced (metrics).
struct Stepped {
    conversation: Conversation,
    offers: Vec<(&'static str, &'static str)>,
}

/// What an input came from: an event (applied once through the inbox) or a job (completed in
/// the same transaction).
#[derive(Clone, Copy)]
enum Source<'a> {
    Event(&'a str),
    Job(&'a Job),
}

impl Source<'_> {
    /// The stable part of reply keys: a retry of the same input derives the same keys.
    fn tag(&self) -> String {
        match self {
            Self::Event(id) => format!("ev:{id}"),
            Self::Job(job) => format!("job:{}", job.id),
        }
    }
}

/// Why documents could not be read.
#[derive(Debug, thiserror::Error)]
enum OcrError {
    #[error("media could not be fetched: {0}")]
    Media(String, bool),
    #[error("unsupported document: {0}")]
    Unsupported(String),
    #[error(transparent)]
    Model(LlmError),
    #[error("implausible document: {0}")]
    Invalid(String),
}

impl OcrError {
    fn transient(&self) -> bool {
        match self {
            Self::Media(_, transient) => *transient,
            Self::Model(e) => {
                matches!(
                    e,
                    LlmError::CircuitOpen
                        | LlmError::Timeout
                        | LlmError::Transport(_)
                        | LlmError::RateLimited
                ) || matches!(e, LlmError::Status { status, .. } if *status >= 500)
            }
            Self::Unsupported(_) | Self::Invalid(_) => false,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Media(..) => "media",
            Self::Unsupported(_) => "unsupported",
            Self::Model(e) => e.code(),
            Self::Invalid(_) => "schema",
        }
    }
}

/// The routed message as the conversation reads it.
pub(crate) fn inbound(m: &MessageRouted) -> Inbound {
    let msg = &m.message;
    let s = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    match m.message_type.as_str() {
        "text" => Inbound::Text(s(&msg["text"]["body"]).unwrap_or_default()),
        "interactive" => {
            let i = &msg["interactive"];
            let reply = if i["list_reply"].is_object() {
                &i["list_reply"]
            } else {
                &i["button_reply"]
            };
            Inbound::Choice {
                id: s(&reply["id"]).unwrap_or_default(),
                title: s(&reply["title"]).unwrap_or_default(),
            }
        }
        "button" => Inbound::Choice {
            id: s(&msg["button"]["payload"]).unwrap_or_default(),
            title: s(&msg["button"]["text"]).unwrap_or_default(),
        },
        kind @ ("image" | "document") => match s(&msg[kind]["id"]).filter(|id| media_id(id)) {
            Some(id) => Inbound::Media(Media {
                id,
                mime: s(&msg[kind]["mime_type"]),
            }),
            None => Inbound::Other(kind.to_owned()),
        },
        other => Inbound::Other(other.to_owned()),
    }
}

/// A Graph API media id: it goes into the worker's URL path, so nothing but id characters.
fn media_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(kind: &str, message: serde_json::Value) -> MessageRouted {
        MessageRouted {
            service: Destination::Pricing,
            reason: contracts::whatsapp::RouteReason::Sticky,
            tenant_id: "t".into(),
            phone_number_id: None,
            contact: contracts::whatsapp::WaContact {
                kind: "phone".into(),
                id: "250781234567".into(),
                profile_name: None,
            },
            wamid: "w".into(),
            message_type: kind.into(),
            routing_text: None,
            opted_out: false,
            message,
            received_at: Utc::now(),
        }
    }

    #[test]
    fn meta_messages_become_conversation_inputs() {
        let m = routed("text", serde_json::json!({"text": {"body": "15m"}}));
        assert_eq!(inbound(&m), Inbound::Text("15m".into()));
        let m = routed(
            "interactive",
            serde_json::json!({"interactive": {"type": "list_reply",
                "list_reply": {"id": "insurer:bk", "title": "BK Insurance"}}}),
        );
        assert_eq!(
            inbound(&m),
            Inbound::Choice {
                id: "insurer:bk".into(),
                title: "BK Insurance".into()
            }
        );
        let m = routed(
            "image",
            serde_json::json!({"image": {"id": "1234567890", "mime_type": "image/jpeg"}}),
        );
        assert!(matches!(inbound(&m), Inbound::Media(_)));
        let m = routed(
            "image",
            serde_json::json!({"image": {"id": "../v1/admin/dlq"}}),
        );
        assert_eq!(inbound(&m), Inbound::Other("image".into()), "never a path");
        let m = routed("audio", serde_json::json!({"audio": {"id": "1"}}));
        assert_eq!(inbound(&m), Inbound::Other("audio".into()));
    }
}
