-- Every message the notifier decided to send. The row is the send intent: written in the same
-- transaction as the processed-event marker, then sent by the sender worker and marked sent.
CREATE TABLE messages (
    message_id     text        PRIMARY KEY,          -- UUIDv5(cause event id, template)
    cause_event_id text        NOT NULL,
    cause_type     text        NOT NULL,
    customer_key   text        NOT NULL,
    channel        text        NOT NULL DEFAULT 'email',
    template       text        NOT NULL,
    to_address     text        NOT NULL,
    subject        text        NOT NULL,
    body_text      text        NOT NULL,
    body_html      text        NOT NULL,
    status         text        NOT NULL DEFAULT 'pending',   -- pending | sent | failed
    attempts       int         NOT NULL DEFAULT 0,
    last_error     text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz
);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX messages_by_customer ON messages (customer_key, created_at);
