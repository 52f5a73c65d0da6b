-- What loyalty knows of each order (the award made when it was paid, its latest status, its
-- refunds): the order's points position is derived from it, the ledger holds the moves.
CREATE TABLE order_facts (
    store_id     text        NOT NULL,
    order_id     bigint      NOT NULL,
    customer_key text        NOT NULL,
    facts        jsonb       NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, order_id)
);
CREATE INDEX order_facts_by_customer ON order_facts (customer_key);

-- customer.linked: a guest's key (email) now belongs to an account's key. Once per guest key.
CREATE TABLE customer_links (
    from_key       text        PRIMARY KEY,
    to_key         text        NOT NULL,
    cause_event_id text        NOT NULL,
    linked_at      timestamptz NOT NULL DEFAULT now()
);

-- A store's own earning rules (the API sets them); a store without a row earns by the defaults.
CREATE TABLE store_rules (
    store_id   text        PRIMARY KEY,
    rules      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
