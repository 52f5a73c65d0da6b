-- A store's own review settings: only what it overrides of the service's defaults (JSON object).
CREATE TABLE store_settings (
    store_id   text        PRIMARY KEY,
    overrides  jsonb       NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);
