-- Delivery bodies are WooCommerce JSON of 2-10 KB, written on every webhook's critical path:
-- lz4 compresses them several times cheaper in CPU than the default pglz (README "Benchmarks").
-- Only new values are affected; a server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE deliveries ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 not available: delivery bodies keep the default compression';
END $$;
