-- Store secrets are encrypted at rest (services/ingest/adapters/secret_box.py): webhook_secret,
-- previous_secret, consumer_key and consumer_secret hold Fernet tokens, and secrets_key_id names
-- the key that sealed them (a fingerprint of it, not the key). NULL marks a row written before
-- encryption, still in plain text: SQL can't encrypt it, so the service does, as soon as it has
-- connected (PgStores.reseal, at every start and every AFTERCART_INGEST_SECRETS_SWEEP_INTERVAL_S).
ALTER TABLE stores ADD COLUMN IF NOT EXISTS secrets_key_id text;
