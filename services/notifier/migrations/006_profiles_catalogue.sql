-- Profiles and catalogue (prof-flows): the latest profile per customer from profiles.v1, the part
-- of catalog.v1 the recommendation flows show and check (a deleted product keeps its row, marked,
-- so a late older upsert cannot bring it back), and which products each such message names (so
-- send time can re-check them and a re-order can cancel a replenishment reminder).
CREATE TABLE customer_profiles (
    customer_key text        PRIMARY KEY,
    store_id     text        NOT NULL,
    profile      jsonb       NOT NULL,            -- shared/events/profiles.py ProfileUpdated
    event_time   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalogue (
    store_id          text        NOT NULL,
    product_id        bigint      NOT NULL,
    name              text        NOT NULL,
    price             text,                        -- decimal string; NULL when the store sent none
    currency          text,
    permalink         text,
    image             text,
    stock_status      text,
    status            text        NOT NULL,
    cross_sell_ids    bigint[]    NOT NULL DEFAULT '{}',
    upsell_ids        bigint[]    NOT NULL DEFAULT '{}',
    related_ids       bigint[]    NOT NULL DEFAULT '{}',
    categories        text[]      NOT NULL DEFAULT '{}',  -- category names, as the profiles worker counts them
    usage_period_days integer,
    deleted           boolean     NOT NULL DEFAULT false,
    event_time        timestamptz NOT NULL,
    PRIMARY KEY (store_id, product_id)
);
CREATE INDEX catalogue_by_category ON catalogue USING gin (categories);

CREATE TABLE message_products (
    message_id   text     PRIMARY KEY,
    store_id     text     NOT NULL,
    customer_key text     NOT NULL,
    flow         text     NOT NULL,
    product_ids  bigint[] NOT NULL
);
CREATE INDEX message_products_by_customer ON message_products (customer_key, flow);
