-- Outbound messages (POST /v1/messages): stored before they are sent; status callbacks move
-- `state` forward by `wamid`, never back (`state_rank` = whatsapp::StatusKind::rank).
CREATE TABLE wa_outbound_messages (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    phone_number_id TEXT NOT NULL,
    contact_kind    TEXT NOT NULL,
    contact_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,
    state_rank      INTEGER NOT NULL,
    wamid           TEXT,
    error           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX wa_outbound_messages_wamid ON wa_outbound_messages (wamid);
CREATE INDEX wa_outbound_messages_contact ON wa_outbound_messages (tenant_id, contact_id, created_at);
