//! HTTP routes of the webhook worker.

mod admin;
mod media;
mod messages;
mod webhook;

use axum::Router;
use platform::openapi::BearerAuth;
use utoipa::OpenApi;

use crate::state::AppState;

platform::scope! {
    pub(crate) Admin = "whatsapp:admin";
    pub(crate) Send = "whatsapp:send";
    pub(crate) MediaRead = "whatsapp:media.read";
}

/// The admin routes, behind the kit's auth layer.
pub(crate) fn router(state: AppState) -> Router {
    admin::router()
        .merge(messages::router())
        .merge(media::router())
        .with_state(state)
}

/// The webhook routes: public, authenticated by the verify token and the signature.
pub(crate) fn public(state: AppState) -> Router {
    webhook::router().with_state(state)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "EasyMO WhatsApp webhook worker",
        description = "WhatsApp Cloud API webhook ingestion, routing and its dead-letter queue."
    ),
    paths(
        webhook::handshake,
        webhook::receive,
        admin::list_dead,
        admin::replay_one,
        admin::replay_all,
        admin::purge_one,
        admin::purge_all,
        admin::queue,
        messages::send,
        messages::show,
        media::download,
    ),
    components(schemas(
        contracts::whatsapp::Destination,
        contracts::whatsapp::RouteReason,
        contracts::whatsapp::WaContact,
        contracts::whatsapp::MessageRouted,
        contracts::whatsapp::ContactOptedOut,
        contracts::whatsapp::DeadJob,
        contracts::whatsapp::DeadJobList,
        contracts::whatsapp::Affected,
        contracts::whatsapp::QueueStats,
        contracts::whatsapp::Recipient,
        contracts::whatsapp::ReplyButton,
        contracts::whatsapp::ListRow,
        contracts::whatsapp::ListSection,
        contracts::whatsapp::TemplateParameter,
        contracts::whatsapp::MediaType,
        contracts::whatsapp::OutboundContent,
        contracts::whatsapp::SendMessage,
        contracts::whatsapp::OutboundMessageView,
        platform::Problem,
        platform::FieldError,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

/// The OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
