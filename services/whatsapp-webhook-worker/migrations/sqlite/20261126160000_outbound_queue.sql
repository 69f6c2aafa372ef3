-- POST /v1/messages stores the message `queued` and a `whatsapp.outbound` job sends it: the job
-- rebuilds the Graph API message from the row, so the row keeps the `replyTo` wamid too.
ALTER TABLE wa_outbound_messages ADD COLUMN reply_to TEXT;
