-- What customers answer on the review page: stars per product, reviews, help requests.
CREATE TABLE ratings (
    request_id text        NOT NULL REFERENCES review_requests (request_id) ON DELETE CASCADE,
    product_id bigint      NOT NULL,
    rating     int         NOT NULL CHECK (rating BETWEEN 1 AND 5),
    rated_at   timestamptz NOT NULL,
    PRIMARY KEY (request_id, product_id)
);

CREATE TABLE reviews (
    review_id        text        PRIMARY KEY,  -- UUIDv5(request, product, 'review'): one per product of a request
    request_id       text        NOT NULL REFERENCES review_requests (request_id),
    store_id         text        NOT NULL,
    order_id         bigint      NOT NULL,
    product_id       bigint      NOT NULL,
    customer_key     text        NOT NULL,
    rating           int         NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title            text        NOT NULL,
    body             text        NOT NULL,
    display_name     text        NOT NULL,     -- personal (as the customer chose it)
    reviewer_email   text,                     -- personal: erased on customer.erased
    photo            text,                     -- file name in the photo store
    locale           text,
    status           text        NOT NULL DEFAULT 'pending',  -- pending | approved | rejected | published | failed
    woo_review_id    bigint,
    publish_error    text,
    publish_attempts int         NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    created_at       timestamptz NOT NULL,
    published_at     timestamptz,
    UNIQUE (request_id, product_id)
);
CREATE INDEX reviews_by_store_status ON reviews (store_id, status, created_at);

CREATE TABLE help_requests (
    help_id      text        PRIMARY KEY,     -- UUIDv5(request, 'review.help'): one per request
    request_id   text        NOT NULL UNIQUE REFERENCES review_requests (request_id),
    store_id     text        NOT NULL,
    order_id     bigint      NOT NULL,
    customer_key text        NOT NULL,
    rating       int,
    message      text,                        -- personal: erased on customer.erased
    created_at   timestamptz NOT NULL
);
