-- Referral codes (one per member) and referrals (one per referred customer): pending until the
-- referred customer's first completed order rewards both sides, or refused with the reason.
CREATE TABLE referral_codes (
    code         text PRIMARY KEY,
    customer_key text NOT NULL UNIQUE,
    store_id     text NOT NULL
);
CREATE TABLE referrals (
    referred_key  text        PRIMARY KEY,
    referrer_key  text        NOT NULL,
    store_id      text        NOT NULL,
    status        text        NOT NULL,  -- pending | rewarded | refused
    reason        text,                  -- why refused
    order_id      bigint,                -- the order that rewarded it
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referrals_by_referrer ON referrals (referrer_key);
