-- What a store names to trust for its https REST API when the system's CAs don't vouch for its
-- certificate (services/ingest/domain/tls_trust.py): PEM text of its CA bundle, and/or the SHA-256
-- fingerprint (64 lower-case hex digits) of the certificate it must present. NULL: neither.
ALTER TABLE stores ADD COLUMN IF NOT EXISTS rest_ca_bundle text;
ALTER TABLE stores ADD COLUMN IF NOT EXISTS rest_cert_sha256 text
    CHECK (rest_cert_sha256 IS NULL OR rest_cert_sha256 ~ '^[0-9a-f]{64}$');
