CREATE TABLE profiles (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    whatsapp_e164 TEXT,
    wa_user_id    TEXT,
    display_name  TEXT,
    email         TEXT,
    locale        TEXT NOT NULL,
    roles         TEXT NOT NULL,
    metadata      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted_at    TEXT
);
-- One live profile per WhatsApp identity and tenant; a deleted profile frees its number.
CREATE UNIQUE INDEX profiles_tenant_phone ON profiles (tenant_id, whatsapp_e164)
    WHERE whatsapp_e164 IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX profiles_tenant_wa_user ON profiles (tenant_id, wa_user_id)
    WHERE wa_user_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX profiles_tenant_id ON profiles (tenant_id, id);

CREATE TABLE saved_locations (
    id         TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles (id),
    label      TEXT NOT NULL,
    latitude   REAL NOT NULL,
    longitude  REAL NOT NULL,
    address    TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (profile_id, label)
);
