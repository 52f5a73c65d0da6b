-- Events of an order held back from the outbox while a refund's lines are fetched (a webhook's
-- refunds carry none): services/ingest/refund_details.py fetches GET /orders/<id>/refunds/<rid>,
-- completes the order.refunded events and moves the order's held rows to the outbox in id order
-- (its publishing order), within AFTERCART_INGEST_REFUND_DETAILS_WAIT_S. The order's snapshot
-- says "held" meanwhile, so its later events wait here behind them.
CREATE TABLE IF NOT EXISTS held_events (
    id           bigserial   PRIMARY KEY,
    store_id     text        NOT NULL,
    order_id     text        NOT NULL,
    event_id     text        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    topic        text        NOT NULL,
    key          text        NOT NULL,
    source       text        NOT NULL,
    subject      text        NOT NULL,
    payload      bytea       NOT NULL,
    held_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS held_events_by_order ON held_events (store_id, order_id, id);
