-- Points turned into WooCommerce coupons. One row per redemption (its id derives from the
-- customer and the caller's idempotency key); its points leave the ledger when it is held, come
-- back if the store refuses the coupon, and stay spent once the coupon is issued.
CREATE TABLE redemptions (
    redemption_id   text        PRIMARY KEY,
    customer_key    text        NOT NULL,
    store_id        text        NOT NULL,
    points          bigint      NOT NULL CHECK (points > 0),
    amount          numeric     NOT NULL,
    currency        text        NOT NULL,
    minimum_amount  numeric     NOT NULL,
    code            text        NOT NULL UNIQUE,
    expires_at      timestamptz NOT NULL,
    status          text        NOT NULL,  -- held | issued | returned
    coupon_id       bigint,
    attempts        int         NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX redemptions_held ON redemptions (created_at) WHERE status = 'held';
CREATE INDEX redemptions_by_customer ON redemptions (customer_key);
