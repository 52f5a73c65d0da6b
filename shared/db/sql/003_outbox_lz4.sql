-- Event payloads are JSON of 1-3 KB: lz4 compresses them into TOAST several times cheaper in CPU
-- than the default pglz (measured for ingest's write path, README "Benchmarks"). Only new values
-- are affected; a server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 not available: outbox payloads keep the default compression';
END $$;
