-- A member per customer key: the email a coupon is restricted to (personal data: customer.erased
-- clears it), the tier they are in.
CREATE TABLE members (
    customer_key    text        PRIMARY KEY,
    store_id        text        NOT NULL,
    email           text,
    tier            text,
    tier_changed_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_by_store_tier ON members (store_id) WHERE tier IS NOT NULL;

-- Each product's categories, from catalog.v1 (category multipliers).
CREATE TABLE products (
    store_id     text     NOT NULL,
    product_id   bigint   NOT NULL,
    category_ids bigint[] NOT NULL,
    PRIMARY KEY (store_id, product_id)
);
