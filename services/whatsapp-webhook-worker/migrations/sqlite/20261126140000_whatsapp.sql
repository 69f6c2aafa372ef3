-- Inbound messages, deduplicated by wamid (Meta redelivers for up to 7 days).
CREATE TABLE wa_inbound_messages (
    wamid           TEXT PRIMARY KEY,
    phone_number_id TEXT,
    contact_kind    TEXT NOT NULL,
    contact_id      TEXT NOT NULL,
    profile_name    TEXT,
    message_type    TEXT NOT NULL,
    message         TEXT NOT NULL,
    sent_at         TEXT,
    received_at     TEXT NOT NULL,
    tenant_id       TEXT,
    routed_to       TEXT,
    processed_at    TEXT
);
CREATE INDEX wa_inbound_messages_contact ON wa_inbound_messages (contact_id, received_at);

-- Status callbacks as received (this service does not store outbound messages yet).
CREATE TABLE wa_statuses (
    wamid       TEXT NOT NULL,
    status      TEXT NOT NULL,
    recipient   TEXT,
    status_at   TEXT,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (wamid, status)
);

-- Routing state per contact: the sticky service and the opt-out.
CREATE TABLE wa_contacts (
    tenant_id      TEXT NOT NULL,
    contact_id     TEXT NOT NULL,
    active_service TEXT,
    opted_out_at   TEXT,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, contact_id)
);
