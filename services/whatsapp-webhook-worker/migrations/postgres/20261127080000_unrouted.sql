-- A message not routed yet is its own first routing attempt: routing takes these in arrival
-- order (seq), and only a message that is deferred or fails gets a job, keyed by its wamid.
ALTER TABLE wa_inbound_messages ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE INDEX wa_inbound_messages_unrouted ON wa_inbound_messages (seq)
    WHERE processed_at IS NULL;

-- Jobs queued before this had no key: given their message's, routing leaves those messages to
-- them.
UPDATE kit_jobs SET dedupe_key = payload::jsonb ->> 'wamid'
    WHERE queue = 'whatsapp.inbound' AND dedupe_key IS NULL;
