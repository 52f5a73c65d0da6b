-- Flows: per-store settings, per-flow settings, what the notifier knows of customers and orders,
-- and what each message row needs to be scheduled, cancelled and re-checked at send time.
CREATE TABLE store_settings (
    store_id   text        PRIMARY KEY,
    settings   jsonb       NOT NULL DEFAULT '{}'::jsonb,   -- StoreSettings fields a store changed
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flow_settings (
    store_id   text        NOT NULL,
    flow       text        NOT NULL,
    enabled    boolean     NOT NULL,
    delay_s    int         NOT NULL,
    channel    text        NOT NULL,
    marketing  boolean     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, flow)
);

-- The notifier's own record of a customer, built from the events it consumes (guests by their
-- email key until customer.linked merges them into their id key).
CREATE TABLE customers (
    customer_key   text        PRIMARY KEY,
    store_id       text        NOT NULL,
    email          text,
    first_name     text,
    locale         text,
    timezone       text,
    country        text,                                     -- the last order's shipping country
    consent        boolean,
    orders_seen    int         NOT NULL DEFAULT 0,
    first_order_id bigint,
    first_order_at timestamptz,
    merged_into    text,                                     -- set on the guest key after customer.linked
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The latest known status of each order (send-time check, cancel/re-time of scheduled messages).
CREATE TABLE order_state (
    store_id     text        NOT NULL,
    order_id     bigint      NOT NULL,
    customer_key text        NOT NULL,
    status       text        NOT NULL,
    event_time   timestamptz NOT NULL,                      -- of the event that set it (older ones don't win)
    last_event   jsonb,                                     -- its data: previews of a real order, item names
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, order_id)
);

ALTER TABLE messages ADD COLUMN flow text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN store_id text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN marketing boolean NOT NULL DEFAULT false;
ALTER TABLE messages ADD COLUMN order_id bigint;
ALTER TABLE messages ADD COLUMN order_statuses text[];       -- NULL = any status
ALTER TABLE messages ADD COLUMN locale text NOT NULL DEFAULT 'en';
ALTER TABLE messages ADD COLUMN status_reason text;          -- why cancelled / suppressed
-- status: pending | sent | failed | cancelled | suppressed
CREATE INDEX messages_pending_by_order ON messages (store_id, order_id) WHERE status = 'pending';
