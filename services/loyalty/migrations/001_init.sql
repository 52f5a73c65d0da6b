-- The points ledger: append-only, one row per effect, keyed by the event that caused it.
-- A customer's balance per bucket is the sum of their rows.
CREATE TABLE ledger (
    entry_id       text        PRIMARY KEY,      -- UUIDv5(cause event id, entry kind)
    cause_event_id text        NOT NULL,
    customer_key   text        NOT NULL,
    store_id       text        NOT NULL,
    order_id       bigint,
    bucket         text        NOT NULL,         -- pending | available
    points         bigint      NOT NULL,         -- signed
    reason         text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_by_customer ON ledger (customer_key);
CREATE INDEX ledger_by_order ON ledger (store_id, order_id);
