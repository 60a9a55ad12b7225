-- Calls that arrive through the end-call webhook (src/ingest/) carry when the webhook received them and
-- which request did: a delivery replaces the stored call only when it was received later (received_at,
-- then delivery, compared in that order), so a redelivery changes nothing and the later-received one wins
-- whichever order the queue hands them over in. A call the loader wrote has neither (NULL), and any
-- delivery replaces it. Neither column is indexed: they are read only for the call being written.
ALTER TABLE calls ADD COLUMN received_at INTEGER;
ALTER TABLE calls ADD COLUMN delivery TEXT;
