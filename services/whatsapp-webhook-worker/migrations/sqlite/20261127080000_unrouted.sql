-- A message not routed yet is its own first routing attempt: routing takes these in arrival
-- order (rowid; the index's entries, all NULL, sort by it), and only a message that is deferred
-- or fails gets a job, keyed by its wamid, and `queued` set, which takes it out of the index.
ALTER TABLE wa_inbound_messages ADD COLUMN queued INTEGER;
CREATE INDEX wa_inbound_messages_unrouted ON wa_inbound_messages (processed_at)
    WHERE processed_at IS NULL AND queued IS NULL;

-- Jobs queued before this had no key: given their message's, routing leaves those messages to
-- them.
UPDATE kit_jobs SET dedupe_key = json_extract(payload, '$.wamid')
    WHERE queue = 'whatsapp.inbound' AND dedupe_key IS NULL;
UPDATE wa_inbound_messages SET queued = 1
    WHERE processed_at IS NULL AND wamid IN
        (SELECT dedupe_key FROM kit_jobs WHERE queue = 'whatsapp.inbound');
-- A message with neither route nor job was given up on (its dead job purged, "never route"):
-- marked processed without a route, or routing would take it up now.
UPDATE wa_inbound_messages SET processed_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')
    WHERE processed_at IS NULL AND queued IS NULL;
