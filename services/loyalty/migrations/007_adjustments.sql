-- Manual adjustments: who changed a balance by hand, by how much, and why (the ledger entry's
-- cause_event_id is the adjustment's id).
CREATE TABLE adjustments (
    adjustment_id text        PRIMARY KEY,  -- UUIDv5(customer key, the caller's idempotency key)
    customer_key  text        NOT NULL,
    store_id      text        NOT NULL,
    points        bigint      NOT NULL,
    reason        text        NOT NULL,
    actor         text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
