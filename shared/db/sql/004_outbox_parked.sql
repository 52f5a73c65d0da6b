-- Outbox rows the relay parked (shared/db/outbox.py): Kafka refused them for good (too large, a
-- record the broker rejects), or they wait behind such a row of the same key and subject ("held",
-- `behind` = the row they wait for). A parked row stays in `outbox`, unpublished, so a repeated
-- event id is still recognised; the relay skips it until it is replayed (its row here deleted) or
-- discarded (`discarded_at` set: never published).
CREATE TABLE IF NOT EXISTS outbox_parked (
    seq          bigint      PRIMARY KEY REFERENCES outbox (seq) ON DELETE CASCADE,
    key          text        NOT NULL,
    subject      text        NOT NULL,
    error_type   text        NOT NULL,          -- e.g. MessageSizeTooLargeError, or "held"
    reason       text        NOT NULL,
    behind       bigint,                        -- held: the parked row it waits behind
    parked_at    timestamptz NOT NULL DEFAULT now(),
    discarded_at timestamptz
);
-- The relay asks, for every row it is about to publish, whether its key and subject have a parked
-- row: one probe of this (normally empty) index.
CREATE INDEX IF NOT EXISTS outbox_parked_heads ON outbox_parked (key, subject)
    WHERE behind IS NULL AND discarded_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_parked_behind ON outbox_parked (behind) WHERE behind IS NOT NULL;
