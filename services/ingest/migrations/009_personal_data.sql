-- Raw delivery bodies hold personal data (emails, names, addresses, phones): after
-- AFTERCART_INGEST_DELIVERY_BODY_RETENTION_DAYS, or at once when the customer is erased, the body
-- is dropped (set empty) and its SHA-256 kept with the outcome (services/ingest/retention.py,
-- services/ingest/adapters/erasure.py). Nullable columns without defaults: adding them rewrites
-- nothing, and the webhook's write doesn't set them.
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS body_sha256 bytea;
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS body_dropped_at timestamptz;
-- The retention sweep finds old rows by received_at: BRIN costs the hot insert next to nothing
-- (rows arrive in received_at order) where a btree would add an index entry per delivery.
CREATE INDEX IF NOT EXISTS deliveries_received_brin ON deliveries USING brin (received_at);
