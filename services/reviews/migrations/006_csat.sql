-- The optional one-question satisfaction score (CSAT 1–5) on the thank-you page: one per request.
CREATE TABLE csat (
    request_id  text        PRIMARY KEY REFERENCES review_requests (request_id) ON DELETE CASCADE,
    store_id    text        NOT NULL,
    score       int         NOT NULL CHECK (score BETWEEN 1 AND 5),
    answered_at timestamptz NOT NULL
);
