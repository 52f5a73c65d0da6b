-- Transactional outbox: events are written here in the same transaction as the state change
-- that caused them; the relay publishes them to Kafka in seq order and marks them published.
CREATE TABLE IF NOT EXISTS outbox (
    seq          bigserial   PRIMARY KEY,
    event_id     text        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    topic        text        NOT NULL,
    key          text        NOT NULL,
    source       text        NOT NULL DEFAULT '',
    subject      text        NOT NULL DEFAULT '',
    payload      bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_by_subject ON outbox (source, subject, seq);
