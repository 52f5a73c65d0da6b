-- Processed-event markers: a consumer inserts (consumer, event id) in the same transaction as
-- the handler's effects, so a redelivered event finds its marker and has no second effect.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    event_type   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
