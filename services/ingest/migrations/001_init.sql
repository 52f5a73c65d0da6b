-- Stores registered with ingest: their site URL (X-WC-Webhook-Source) and webhook secret(s).
CREATE TABLE stores (
    store_id                 text        PRIMARY KEY,
    source_url               text        NOT NULL UNIQUE,
    webhook_secret           text        NOT NULL,
    previous_secret          text,
    previous_secret_until    timestamptz,
    rest_url                 text,
    consumer_key             text,
    consumer_secret          text,
    timezone                 text        NOT NULL DEFAULT 'UTC',
    locale                   text,
    created_at               timestamptz NOT NULL DEFAULT now()
);

-- Every delivery as received (raw bytes), committed before WooCommerce gets its 200.
CREATE TABLE deliveries (
    id            bigserial   PRIMARY KEY,
    store_id      text        NOT NULL,
    topic         text        NOT NULL,
    resource      text        NOT NULL,
    resource_id   text,
    delivery_id   text,
    webhook_id    text,
    origin        text        NOT NULL DEFAULT 'webhook',
    body          bytea       NOT NULL,
    outcome       text        NOT NULL,
    events        int         NOT NULL DEFAULT 0,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_by_delivery_id ON deliveries (delivery_id);
CREATE INDEX deliveries_by_resource ON deliveries (store_id, resource, resource_id, id);

-- The last known state of every order, customer and product, to diff the next snapshot against.
CREATE TABLE snapshots (
    store_id      text        NOT NULL,
    resource      text        NOT NULL,
    resource_id   text        NOT NULL,
    state         jsonb       NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, resource, resource_id)
);

-- Reconciliation cursors (date_modified_gmt of the last resource seen) and webhook health.
CREATE TABLE reconcile_cursors (
    store_id      text        NOT NULL,
    resource      text        NOT NULL,
    cursor_gmt    text        NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, resource)
);
CREATE TABLE webhook_health (
    store_id      text        NOT NULL,
    webhook_id    bigint      NOT NULL,
    topic         text        NOT NULL,
    status        text        NOT NULL,
    checked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, webhook_id)
);
