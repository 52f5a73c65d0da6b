-- Every snapshot carries a revision, bumped by each write: a batch reads snapshots without
-- locking them and writes back only if no one else moved them meanwhile (optimistic
-- concurrency, services/ingest/adapters/delivery_batch.py), in two round trips instead of four.
ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS rev bigint NOT NULL DEFAULT 1;

-- Raised by the batch write when a snapshot it read has changed since: SQLSTATE 40001
-- (serialization_failure) makes the whole statement roll back, and ingest derives the batch again.
CREATE OR REPLACE FUNCTION ingest_snapshot_conflict() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'a snapshot changed since it was read';
END $$;
