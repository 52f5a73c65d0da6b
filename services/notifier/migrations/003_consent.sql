-- Consent and deliverability (ntf-consent): a customer's marketing consent as last stated, the
-- suppression list (address hashes only, so an erasure can keep its entry), the marketing contacts
-- the budget counts, and what gating needs on each message row.

-- Also the customer's own time zone when set through the API (quiet hours; the country comes from
-- the customer record of 002).
CREATE TABLE consents (
    customer_key text        PRIMARY KEY,
    store_id     text        NOT NULL,
    marketing    boolean,                          -- NULL: never stated (no marketing)
    source       text,                             -- meta | api | unsubscribe | preferences
    changed_at   timestamptz,                      -- when it was stated (the event's or the request's time)
    timezone     text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- sha256 of the trimmed, lowercased address, per store. "unsubscribed" stops marketing; the other
-- reasons (hard_bounce, invalid_address, erased) stop everything.
CREATE TABLE suppressions (
    store_id     text        NOT NULL,
    address_hash text        NOT NULL,
    reason       text        NOT NULL,
    detail       text,                              -- e.g. the SMTP code of a hard bounce; never the address
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, address_hash, reason)
);

-- One row per marketing message that gating let through (the budget counts these over 7 days).
-- Written in the send's transaction; a message that then fails for good no longer counts.
CREATE TABLE marketing_contacts (
    message_id   text        PRIMARY KEY,
    customer_key text        NOT NULL,
    at           timestamptz NOT NULL
);
CREATE INDEX marketing_contacts_by_customer ON marketing_contacts (customer_key, at);

-- The email a digest went out in: set on every part (the lead's own id on the lead).
ALTER TABLE messages ADD COLUMN digest_id text;
CREATE INDEX messages_pending_by_customer ON messages (customer_key, next_attempt_at) WHERE status = 'pending';
