-- Delivery-aware scheduling: what a request asks about (its items), when and why it is due, and
-- where it is in its life (pending → sent → reminded / answered; held, cancelled, skipped).
ALTER TABLE review_requests
    ADD COLUMN order_number     text,
    ADD COLUMN locale           text,
    ADD COLUMN email            text,           -- personal: the reviewer_email WooCommerce wants; erased on customer.erased
    ADD COLUMN first_name       text,           -- personal: pre-fills the display name; erased on customer.erased
    ADD COLUMN shipping_country text,
    ADD COLUMN basis            text NOT NULL DEFAULT 'completed',  -- completed | shipped | delivered: what due_at counts from
    ADD COLUMN basis_at         timestamptz,
    ADD COLUMN sent_at          timestamptz,
    ADD COLUMN reminder_due_at  timestamptz,
    ADD COLUMN reminded_at      timestamptz,
    ADD COLUMN answered_at      timestamptz,
    ADD COLUMN status_reason    text,           -- why held / cancelled / skipped
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();

-- The scheduler's two scans: due asks, due reminders.
CREATE INDEX review_requests_due ON review_requests (due_at) WHERE status = 'pending';
CREATE INDEX review_requests_reminder_due ON review_requests (reminder_due_at) WHERE status = 'sent';

-- One row per product of a request's order (variations folded into their parent).
CREATE TABLE review_request_items (
    request_id        text    NOT NULL REFERENCES review_requests (request_id) ON DELETE CASCADE,
    product_id        bigint  NOT NULL,
    position          int     NOT NULL,
    name              text    NOT NULL,
    line_ids          bigint[] NOT NULL,
    quantity          int     NOT NULL,
    refunded_quantity int     NOT NULL DEFAULT 0,
    status            text    NOT NULL DEFAULT 'open',  -- open | dropped (refunded) | asked_before
    PRIMARY KEY (request_id, product_id)
);

-- "Never ask the same customer twice about the same product": claimed when a request is sent.
CREATE TABLE asked_products (
    store_id     text        NOT NULL,
    customer_key text        NOT NULL,
    product_id   bigint      NOT NULL,
    request_id   text        NOT NULL,
    asked_at     timestamptz NOT NULL,
    PRIMARY KEY (store_id, customer_key, product_id)
);

-- The catalogue as catalog.v1 says it (latest per product): images for the ask, categories for
-- transit-time overrides.
CREATE TABLE products (
    store_id     text     NOT NULL,
    product_id   bigint   NOT NULL,
    name         text     NOT NULL,
    image_url    text,
    permalink    text,
    category_ids bigint[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (store_id, product_id)
);
