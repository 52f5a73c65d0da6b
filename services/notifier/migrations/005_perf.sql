-- Sending at speed: when the cause event happened (the send-latency histogram starts there; the
-- row's created_at is when the notifier got round to it). NULL for rows recorded before.
ALTER TABLE messages ADD COLUMN cause_time timestamptz;
