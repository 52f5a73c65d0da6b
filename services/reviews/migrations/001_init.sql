-- Review requests: one per completed order, due some days after completion.
CREATE TABLE review_requests (
    request_id     text        PRIMARY KEY,     -- UUIDv5(order.completed event id, 'review.request')
    cause_event_id text        NOT NULL,
    store_id       text        NOT NULL,
    order_id       bigint      NOT NULL,
    customer_key   text        NOT NULL,
    product_ids    bigint[]    NOT NULL,
    status         text        NOT NULL DEFAULT 'pending',  -- pending | cancelled
    due_at         timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, order_id)
);
CREATE INDEX review_requests_by_customer ON review_requests (customer_key);
